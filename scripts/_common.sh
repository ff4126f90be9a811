# shellcheck shell=bash
# scripts/_common.sh - helpers shared by the test scripts (sourced, not run).
#
# After sourcing: $REPO (repo root), $VENV, $ANSIBLE_COLLECTIONS_PATH and PATH
# with the venv's bin/ first are set once sysvirt_env has been called.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# sysvirt_env: make sure the venv is ready (scripts/venv.sh is cheap when it
# is) and export what the tools need to find the collection, and only the
# work tree's copy of it (ANSIBLE_COLLECTIONS_PATH,
# ANSIBLE_COLLECTIONS_SCAN_SYS_PATH: see scripts/venv.sh).
# sysvirt_env_for runtime: the same with only what the collection needs to run
# (the demo); sysvirt_env is sysvirt_env_for test.
sysvirt_env() { sysvirt_env_for test; }
sysvirt_env_for() {
    local exports
    exports=$(bash "$REPO/scripts/venv.sh" "$1")
    eval "$exports"
    VENV=$SYSVIRT_VENV
    export PATH="$VENV/bin:$PATH"
    # Python imports ansible_collections.sysvirt.libvirt through the symlink
    # that venv.sh maintains (used by pytest).
    export PYTHONPATH="$ANSIBLE_COLLECTIONS_PATH${PYTHONPATH:+:$PYTHONPATH}"
}

# sysvirt_copy ROOT: lay the collection's files (git-tracked plus
# untracked-but-not-ignored, as they are in the work tree) into
# ROOT/<pid>/ansible_collections/sysvirt/libvirt and print that path.
# ansible-test insists that its working directory really is inside an
# ansible_collections/<ns>/<name> tree, and it resolves symlinks, so the
# .build/collections symlink is not enough for it.
# One copy per run (<pid> = this shell's), so that two runs in the same work
# tree don't pull the files from under each other; copies of runs that are
# over are removed, and ROOT/latest points at the newest (its tests/output/
# holds ansible-test's results).
sysvirt_copy() {
    local root=$1 old
    mkdir -p "$root"
    for old in "$root"/[0-9]*; do
        [ -d "$old" ] || continue
        kill -0 "${old##*/}" 2>/dev/null || rm -rf "$old"
    done
    local dest=$root/$$/ansible_collections/sysvirt/libvirt
    rm -rf "${root:?}/$$"
    mkdir -p "$dest"
    ln -sfn "$$" "$root/latest"
    (
        cd "$REPO" || exit
        git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do
                # tracked files deleted in the work tree are skipped
                [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
            done |
            tar --null --no-recursion -T - -cf - |
            tar -xf - -C "$dest"
    )
    # The copy lives inside this repo's .build/, which git ignores; without a
    # repository of its own, ansible-test would ask the outer one for the
    # file list and see nothing. An empty repository is enough: it lists
    # untracked-not-ignored files too.
    git -C "$dest" init --quiet
    printf '%s\n' "$dest"
}
