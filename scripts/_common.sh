# shellcheck shell=bash
# scripts/_common.sh - helpers shared by the test scripts (sourced, not run).
#
# After sourcing: $REPO (repo root), $VENV, $ANSIBLE_COLLECTIONS_PATH and PATH
# with the venv's bin/ first are set once sysvirt_env has been called.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# sysvirt_env: make sure the venv is ready (scripts/venv.sh is cheap when it
# is) and export what the tools need to find the collection.
sysvirt_env() {
    local exports
    exports=$(bash "$REPO/scripts/venv.sh")
    eval "$exports"
    VENV=$SYSVIRT_VENV
    export PATH="$VENV/bin:$PATH"
    # Python imports ansible_collections.sysvirt.libvirt through the symlink
    # that venv.sh maintains (used by pytest).
    export PYTHONPATH="$ANSIBLE_COLLECTIONS_PATH${PYTHONPATH:+:$PYTHONPATH}"
}

# sysvirt_copy DEST_ROOT: lay the collection's files (git-tracked plus
# untracked-but-not-ignored, as they are in the work tree) into
# DEST_ROOT/ansible_collections/sysvirt/libvirt and print that path.
# ansible-test insists that its working directory really is inside an
# ansible_collections/<ns>/<name> tree, and it resolves symlinks, so the
# .build/collections symlink is not enough for it.
sysvirt_copy() {
    local dest=$1/ansible_collections/sysvirt/libvirt
    rm -rf "$dest"
    mkdir -p "$dest"
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
