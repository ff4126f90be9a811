#!/usr/bin/env bash
# scripts/venv.sh - create or refresh the development/test virtualenv of
# sysvirt.libvirt and make the collection importable by Ansible.
#
# Usage:
#   bash scripts/venv.sh                 # set up, print the environment to use
#   eval "$(bash scripts/venv.sh)"       # ... and export it into this shell
#   bash scripts/venv.sh runtime         # only what the collection needs to run
#                                        # (requirements.txt + ansible-core): the demo
#
# Environment:
#   SYSVIRT_VENV    where the venv lives (default: <repo>/.venv)
#   SYSVIRT_PYTHON  interpreter that creates the venv (default: Python
#                   $SYSVIRT_PYTHON_VERSION, found as below); a venv made by
#                   another Python version is made anew
#   SYSVIRT_PYTHON_VERSION  X.Y of the default interpreter (default: 3.13, the
#                   main venv's; the version matrix passes its rows' own):
#                   pythonX.Y on PATH if it runs, else the newest
#                   $PYENV_ROOT/versions/X.Y.*/bin/pythonX.Y
#   SYSVIRT_REQUIREMENTS  requirements file to install, relative to the repo
#                   (default: requirements-test.txt; the version matrix,
#                   scripts/matrix.sh, uses tests/matrix/*.txt)
#
# What it does (idempotent, cheap when nothing changed):
#   1. creates the venv if missing (or if its interpreter no longer runs);
#   2. installs requirements-test.txt (or, for `runtime`, requirements.txt and
#      ansible-core) with constraints.txt, unless the stamp file
#      <venv>/.sysvirt-requirements.sha256 already matches the hash of those
#      files and the Python version, for that set or for the test set, which
#      includes the runtime one (so a second run installs nothing);
#   3. links <repo>/.build/collections/ansible_collections/sysvirt/libvirt to
#      the repo, so ANSIBLE_COLLECTIONS_PATH=<repo>/.build/collections finds
#      sysvirt.libvirt and PYTHONPATH=<repo>/.build/collections lets Python
#      import ansible_collections.sysvirt.libvirt.
#   4. prints the settings that make Ansible see the work tree's collection and
#      nothing else: ANSIBLE_COLLECTIONS_PATH (only <repo>/.build/collections,
#      so neither ~/.ansible/collections nor /usr/share/ansible/collections)
#      and ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False (no ansible_collections
#      directory found on sys.path, e.g. in site-packages).
#
# libvirt-python compiles against the system libvirt: the libvirt dev files,
# pkg-config and gcc must be present (scripts/testbed.sh installs them; see
# bindep.txt).
#
# Progress goes to stderr; stdout carries only `export NAME=value` lines.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
venv=${SYSVIRT_VENV:-$repo/.venv}
profile=${1:-test}
requirements_file=${SYSVIRT_REQUIREMENTS:-requirements-test.txt}
case $profile in
    test) requirements=(-r "$requirements_file") ;;
    # the runtime and the main venv's ansible-core (requirements-test.txt pins it)
    runtime) requirements=(-r requirements.txt "$(grep -m1 '^ansible-core' "$repo/requirements-test.txt")") ;;
    *) echo "venv.sh: unknown argument '$profile' (test, runtime)" >&2; exit 2 ;;
esac

log() { printf 'venv.sh: %s\n' "$*" >&2; }

py_version='import sys; print("%d.%d" % sys.version_info[:2])'
# find_python X.Y: an interpreter of Python X.Y that runs (a pyenv shim of a
# version that is not selected does not)
find_python() {
    local c
    for c in "$(command -v "python$1" || true)" \
        $(printf '%s\n' "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$1".*/bin/python"$1" | sort -rV); do
        if [ -x "$c" ] && [ "$("$c" -c "$py_version" 2>/dev/null)" = "$1" ]; then
            printf '%s\n' "$c"
            return 0
        fi
    done
    log "no Python $1: neither python$1 on PATH nor ${PYENV_ROOT:-$HOME/.pyenv}/versions/$1.*"
    log "Hint: install Python $1 (for example 'pyenv install $1'), or set SYSVIRT_PYTHON"
    return 1
}
# One venv.sh at a time per venv (parallel jobs sharing a venv would otherwise rebuild it under each other).
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
python=${SYSVIRT_PYTHON:-$(find_python "${SYSVIRT_PYTHON_VERSION:-3.13}")} || exit 1
want_python=$("$python" -c "$py_version") || { log "cannot run $python"; exit 1; }
if [ "$("$venv/bin/python" -c "$py_version" 2>/dev/null)" != "$want_python" ]; then
    log "creating virtualenv $venv with $python (Python $want_python)"
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi

stamp=$venv/.sysvirt-requirements.sha256
want=$(
    {
        "$venv/bin/python" -VV
        for f in requirements.txt requirements-test.txt "$requirements_file" constraints.txt; do
            echo "== $f"
            cat "$repo/$f"
        done
    } | sha256sum | cut -d' ' -f1
)
# "<hash> <profile>"; a stamp without a profile is from a venv.sh that always
# installed the test set.
{ read -r have have_profile <"$stamp"; } 2>/dev/null || true
have_profile=${have_profile:-test}

if [ "$want" != "${have:-}" ] || { [ "$profile" = test ] && [ "$have_profile" != test ]; }; then
    log "installing ${requirements[*]} into $venv"
    # pip writes to stdout: keep stdout for the export lines only.
    (
        cd "$repo"
        "$venv/bin/python" -m pip install --disable-pip-version-check --quiet \
            "${requirements[@]}" -c constraints.txt
    ) >&2
    # Check that the bindings really load against the system libvirt.
    "$venv/bin/python" -c 'import libvirt, lxml, ansible' >&2
    printf '%s %s\n' "$want" "$profile" >"$stamp"
else
    log "requirements unchanged, nothing to install ($venv)"
fi

collections=$repo/.build/collections
mkdir -p "$collections/ansible_collections/sysvirt"
link=$collections/ansible_collections/sysvirt/libvirt
if [ "$(readlink "$link" 2>/dev/null || true)" != "$repo" ]; then
    rm -rf "$link"
    ln -s "$repo" "$link"
fi

printf 'export SYSVIRT_VENV=%q\n' "$venv"
printf 'export ANSIBLE_COLLECTIONS_PATH=%q\n' "$collections"
printf 'export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False\n'
