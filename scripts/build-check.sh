#!/usr/bin/env bash
# scripts/build-check.sh - check that the collection builds, installs and that
# the installed copy documents every plugin.
#
# Usage:
#   bash scripts/build-check.sh
#
# Steps (any failure -> exit 1, every problem is listed):
#   1. `ansible-galaxy collection build` into .build/dist/, from a copy of the
#      git-tracked + untracked-not-ignored files (galaxy.yml's build_ignore
#      then decides what goes in); the tarball must not carry development
#      leftovers (.git, .venv, .build, tests/output, caches);
#   2. installs that tarball, offline, into an empty temporary collections
#      path (nothing from this work tree is visible to the later steps);
#   3. for every plugin file in plugins/modules and the other plugin-type
#      directories that are one-plugin-per-file (inventory, lookup, callback,
#      connection, ...): `ansible-doc -t <type> sysvirt.libvirt.<name>` must
#      exit 0 and print no warning, deprecation or error;
#   4. `ansible-doc -t <type> --list sysvirt.libvirt` must list all of them.
set -euo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

sysvirt_env
# Only the installed tarball may be found: not the repo through PYTHONPATH
# (the collection loader scans sys.path) nor the .build/collections link.
unset PYTHONPATH
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0

dist=$REPO/.build/dist
rm -rf "$dist"
mkdir -p "$dist"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sysvirt-build-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

errors=0
fail() { printf 'build-check: FAIL: %s\n' "$*" >&2; errors=$((errors + 1)); }

# Build from a copy of the git-tracked + untracked-not-ignored files, so that
# local caches (e.g. a tests/.pytest_cache from a bare `pytest`) don't count.
src=$(sysvirt_copy "$tmp/src")
rm -rf "$src/.git"
echo "build-check: ansible-galaxy collection build" >&2
ansible-galaxy collection build --output-path "$dist" "$src" >&2
tarball=$(ls "$dist"/sysvirt-libvirt-*.tar.gz)
echo "build-check: built $tarball ($(du -k "$tarball" | cut -f1) KiB)" >&2

leftovers=$(tar -tzf "$tarball" |
    grep -E '(^|/)(\.git|\.venv|\.build|\.cache|\.pytest_cache|__pycache__)(/|$)|^tests/output/|\.pyc$' || true)
if [ -n "$leftovers" ]; then
    fail "tarball contains development leftovers:"$'\n'"$leftovers"
fi

echo "build-check: installing into an empty collections path" >&2
export ANSIBLE_COLLECTIONS_PATH=$tmp/collections
ansible-galaxy collection install --offline -p "$tmp/collections" "$tarball" >&2
installed=$tmp/collections/ansible_collections/sysvirt/libvirt
[ -f "$installed/MANIFEST.json" ] || fail "installed collection has no MANIFEST.json"
cd "$tmp"

# plugin directory -> ansible-doc type, for one-plugin-per-file types
declare -A types=(
    [modules]=module [inventory]=inventory [lookup]=lookup [callback]=callback
    [connection]=connection [become]=become [cache]=cache [cliconf]=cliconf
    [httpapi]=httpapi [netconf]=netconf [shell]=shell [strategy]=strategy [vars]=vars
)

checked=0
for dir in "${!types[@]}"; do
    type=${types[$dir]}
    names=()
    for f in "$installed/plugins/$dir"/*.py; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .py)
        [ "$name" = __init__ ] && continue
        names+=("$name")
    done
    [ ${#names[@]} -gt 0 ] || continue

    # Compare with the sources, in case build_ignore dropped something.
    for f in "$src/plugins/$dir"/*.py; do
        name=$(basename "$f" .py)
        [ "$name" = __init__ ] && continue
        [ -e "$installed/plugins/$dir/$name.py" ] || fail "$dir/$name.py is missing from the tarball"
    done

    for name in "${names[@]}"; do
        fqcn=sysvirt.libvirt.$name
        checked=$((checked + 1))
        if ! out=$(ansible-doc -t "$type" "$fqcn" 2>&1); then
            fail "ansible-doc -t $type $fqcn exited non-zero:"$'\n'"$out"
            continue
        fi
        if grep -qE '\[(WARNING|DEPRECATION WARNING|ERROR)\]|^ERROR!' <<<"$out"; then
            fail "ansible-doc -t $type $fqcn printed warnings:"$'\n'"$(grep -E 'WARNING|ERROR' <<<"$out")"
        elif ! grep -q "$fqcn" <<<"$out"; then
            fail "ansible-doc -t $type $fqcn did not render its documentation"
        else
            echo "build-check: ok   ansible-doc -t $type $fqcn" >&2
        fi
    done

    if ! listing=$(ansible-doc -t "$type" --list --json sysvirt.libvirt 2>"$tmp/list.err"); then
        fail "ansible-doc -t $type --list sysvirt.libvirt failed: $(cat "$tmp/list.err")"
        continue
    fi
    if grep -qE '\[(WARNING|DEPRECATION WARNING|ERROR)\]' "$tmp/list.err"; then
        fail "ansible-doc -t $type --list sysvirt.libvirt printed warnings: $(cat "$tmp/list.err")"
    fi
    for name in "${names[@]}"; do
        if ! python -c 'import json, sys; sys.exit(sys.argv[1] not in json.load(sys.stdin))' \
            "sysvirt.libvirt.$name" <<<"$listing"; then
            fail "ansible-doc -t $type --list sysvirt.libvirt does not list sysvirt.libvirt.$name"
        fi
    done
done

if [ "$checked" -eq 0 ]; then
    echo "build-check: note: no plugins to document yet" >&2
fi
if [ "$errors" -gt 0 ]; then
    echo "build-check: $errors problem(s), $checked plugin(s) checked" >&2
    exit 1
fi
echo "build-check: ok, $checked plugin(s) documented, tarball $(basename "$tarball")" >&2
