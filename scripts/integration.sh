#!/usr/bin/env bash
# scripts/integration.sh - run the integration targets of sysvirt.libvirt
# against the real libvirtd of this machine (qemu:///system).
#
# Usage:
#   bash scripts/integration.sh [TARGET...] [ansible-test integration options...]
#
# Examples:
#   bash scripts/integration.sh                  # every target
#   bash scripts/integration.sh host_facts       # one target
#   bash scripts/integration.sh host_facts -vvv  # more output
#
# Each target is tests/integration/targets/<name>/ with an `aliases` file and
# tasks/main.yml. The collection's files are copied to
# .build/integration/<pid>/ansible_collections/sysvirt/libvirt (ansible-test wants
# a real ansible_collections/<ns>/<name> directory as its working directory)
# and `ansible-test integration --local --allow-destructive` runs there: the
# tasks run on this host with the venv's Python (which has libvirt-python),
# offline, without containers. `destructive` targets run; `disabled`,
# `unsupported` and `unstable` ones are skipped as ansible-test does by
# default. Output: .build/integration/latest/ansible_collections/sysvirt/libvirt/tests/output/.
#
# libvirtd must be running (scripts/testbed.sh starts it).
# Exit status: ansible-test's; 0 with a note when there are no targets at all.
set -euo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

case ${1:-} in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac

sysvirt_env

shopt -s nullglob
targets=("$REPO"/tests/integration/targets/*/aliases)
if [ ${#targets[@]} -eq 0 ]; then
    echo "integration.sh: no targets in tests/integration/targets, nothing to run" >&2
    exit 0
fi

dest=$(sysvirt_copy "$REPO/.build/integration")
cd "$dest"
# ansible-test hands the targets no environment variable of ours, but it passes integration_config.yml to
# every target as variables: a target that would only say "SKIPPED" on a user's machine fails in CI instead.
case "$(echo "${CI:-}" | tr '[:upper:]' '[:lower:]')" in
    ''|0|false|no|off) ;;
    *) printf 'sysvirt_ci: true\n' > tests/integration/integration_config.yml ;;
esac
echo "integration.sh: ansible-test integration --local in $dest" >&2
exec ansible-test integration --local --allow-destructive --color no "$@"
