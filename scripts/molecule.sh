#!/usr/bin/env bash
# scripts/molecule.sh - run the molecule scenarios of the collection's roles.
#
# Usage:
#   bash scripts/molecule.sh                 # every role's default scenario
#   bash scripts/molecule.sh guest           # only roles/guest
#   bash scripts/molecule.sh -- --destroy=never hypervisor   (extra args after --
#                                            go to `molecule test`, roles after)
#
# Each scenario is roles/<role>/molecule/default (delegated driver): its own
# create and destroy playbooks make and remove, with this collection's modules,
# what the role is tested against on the local libvirtd (qemu:///system), and
# `molecule test` runs its test sequence: destroy, syntax, create, converge,
# idempotence, [side_effect,] verify, destroy.
#
# molecule is in requirements-test.txt (pinned in constraints.txt); if the venv
# lacks it (an older venv), it is installed here with the same pin.
# Logs: .build/test-logs/molecule-<role>.log
set -uo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
sysvirt_env || exit 1

extra=()
roles=()
while [ $# -gt 0 ]; do
    case $1 in
        --) shift; while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do extra+=("$1"); shift; done ;;
        *) roles+=("$1"); shift ;;
    esac
done
if [ ${#roles[@]} -eq 0 ]; then
    for d in "$REPO"/roles/*/molecule/default; do
        [ -d "$d" ] || continue
        r=${d%/molecule/default}
        roles+=("${r##*/}")
    done
fi
if [ ${#roles[@]} -eq 0 ]; then
    echo "molecule.sh: no scenarios in roles/*/molecule/default" >&2
    exit 1
fi

if ! "$VENV/bin/python" -c 'import molecule' 2>/dev/null; then
    pin=$(grep -E '^molecule==' "$REPO/constraints.txt" || echo molecule)
    echo "molecule.sh: installing $pin into $VENV" >&2
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet "$pin" -c "$REPO/constraints.txt" >&2 || exit 1
fi

# molecule finds ansible-config and ansible-playbook on PATH (the venv's bin,
# set by sysvirt_env) and the collection through ANSIBLE_COLLECTIONS_PATH: the
# work tree only (sysvirt_env). .config/molecule/config.yml turns molecule's
# prerun off, which would install a build of the collection into
# ~/.ansible/collections.
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1
export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
logs=$REPO/.build/test-logs
mkdir -p "$logs"

failed=0 passed=0
summary=()
for role in "${roles[@]}"; do
    dir=$REPO/roles/$role
    if [ ! -f "$dir/molecule/default/molecule.yml" ]; then
        echo "molecule.sh: no scenario roles/$role/molecule/default" >&2
        failed=$((failed + 1)); summary+=("$role: no scenario")
        continue
    fi
    t0=$SECONDS
    echo "==== molecule test: roles/$role (log: .build/test-logs/molecule-$role.log)"
    (cd "$dir" && molecule --base-config "$REPO/.config/molecule/config.yml" test "${extra[@]}") \
        >"$logs/molecule-$role.log" 2>&1
    rc=$?
    # the stage names and the recaps tell the story; the full log stays on disk
    grep -E '^(INFO|WARNING|ERROR|CRITICAL)|PLAY RECAP|^[a-z0-9_-]+ +: ok=|^(fatal|failed):' "$logs/molecule-$role.log" | tail -n 60
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1)); summary+=("$role: passed in $((SECONDS - t0))s")
    else
        failed=$((failed + 1)); summary+=("$role: FAILED (exit $rc) in $((SECONDS - t0))s")
        echo "---- last lines of the log"
        tail -n 40 "$logs/molecule-$role.log"
    fi
done
printf '%s\n' "${summary[@]}"
echo "molecule: $passed passed, $failed failed"
[ "$failed" = 0 ]
