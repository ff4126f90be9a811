#!/usr/bin/env bash
# scripts/demo.sh - set everything up and run the demo playbook (demo/demo.yml).
#
# Usage:
#   bash scripts/demo.sh                       # on libvirt's test driver (nothing real is touched)
#   bash scripts/demo.sh --uri qemu:///system  # on the real local QEMU/KVM daemon
#
# The test driver runs inside libvirtd here (test+unix:///default), because its state only lives as long
# as a connection: this script holds one connection open while the playbook runs, and closes it (by the
# PID of the process it started) afterwards. Everything the demo creates is named sysvirt-demo-* and is
# removed at the end of the playbook.
set -euo pipefail

uri=test+unix:///default
while [ $# -gt 0 ]; do
    case $1 in
        --uri) uri=$2; shift 2 ;;
        --uri=*) uri=${1#--uri=}; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "demo.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
# Only what the demo needs: libvirt, QEMU, the test guest, and a venv with ansible-core, libvirt-python and lxml
# (scripts/test.sh installs the test tools on top).
bash "$REPO/scripts/testbed.sh" runtime
sysvirt_env_for runtime

keeper=
cleanup() { [ -n "$keeper" ] && kill "$keeper" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
case $uri in
    test+*)
        # Hold the daemon's test driver open so its state survives between tasks.
        python -c 'import libvirt, sys, time
libvirt.registerErrorHandler(lambda c, e: None, None)
conn = libvirt.open(sys.argv[1])
while True:
    time.sleep(3600)' "$uri" &
        keeper=$!
        ;;
esac

cd "$REPO/demo"
ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
    ansible-playbook demo.yml -e "demo_uri=$uri"
