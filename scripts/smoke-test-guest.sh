#!/usr/bin/env bash
# Smoke test for the tiny test guest, without pytest: define a transient-named
# guest on qemu:///system, boot it, ACPI-shut it down, boot it again, ACPI-reboot
# it, and print how long each step took. The guest is always destroyed and
# undefined at the end, and its console log removed.
#
# Usage: scripts/smoke-test-guest.sh [--no-reboot] [--keep-log]
# Environment: SYSVIRT_TEST_URI (default qemu:///system)
# Needs: scripts/testbed.sh run first (daemons up, guest built), python3.
set -euo pipefail

URI=${SYSVIRT_TEST_URI:-qemu:///system}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BOOT_TIMEOUT=60
OFF_TIMEOUT=30
do_reboot=1
keep_log=0
for arg in "$@"; do
    case $arg in
        --no-reboot) do_reboot=0 ;;
        --keep-log) keep_log=1 ;;
        *) echo "usage: $0 [--no-reboot] [--keep-log]" >&2; exit 2 ;;
    esac
done

name=sysvirt-test-smoke-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
serial_log=/var/log/libvirt/qemu/$name-serial.log
xml=$(mktemp /tmp/sysvirt-smoke.XXXXXX.xml)

log() { printf 'smoke: %s\n' "$*"; }
fail() { printf 'smoke: FAIL: %s\n' "$*" >&2; [[ -r $serial_log ]] && tail -n 15 "$serial_log" >&2; exit 1; }
v() { timeout 60 virsh -q -c "$URI" "$@"; }

cleanup() {
    local rc=$?
    v destroy "$name" >/dev/null 2>&1 || true
    v undefine "$name" >/dev/null 2>&1 || true
    if v dominfo "$name" >/dev/null 2>&1; then
        echo "smoke: WARNING: could not remove domain $name" >&2
        rc=1
    fi
    rm -f "$xml" "/var/log/libvirt/qemu/$name.log"
    if [[ $keep_log -eq 0 ]]; then rm -f "$serial_log"; else log "console log kept: $serial_log"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
markers() { grep -c "$1" "$serial_log" 2>/dev/null || true; }

wait_marker() {  # wait_marker MARKER COUNT: until COUNT lines carry MARKER
    local deadline=$((SECONDS + BOOT_TIMEOUT))
    until [[ $(markers "$1") -ge $2 ]]; do
        ((SECONDS < deadline)) || fail "$1 (x$2) not on the console within ${BOOT_TIMEOUT}s"
        sleep 0.05
    done
}
wait_state() {  # wait_state STATE
    local deadline=$((SECONDS + OFF_TIMEOUT)) state
    while :; do
        state=$(v domstate "$name" 2>/dev/null || true)
        [[ $state == "$1" ]] && return 0
        ((SECONDS < deadline)) || fail "still '$state' after ${OFF_TIMEOUT}s, expected '$1'"
        sleep 0.05
    done
}
qemu_pid() { cat "/run/libvirt/qemu/$name.pid" 2>/dev/null || true; }

PYTHONPATH=$ROOT/tests/utils python3 -c '
import sys, guest
sys.stdout.write(guest.tiny_guest_xml(sys.argv[1], serial_log=sys.argv[2]))
' "$name" "$serial_log" >"$xml"
for f in $(PYTHONPATH=$ROOT/tests/utils python3 -c 'import guest; print(guest.GUEST_KERNEL, guest.GUEST_INITRD)'); do
    [[ -r $f ]] || fail "$f missing: run scripts/testbed.sh first"
done

v define "$xml" >/dev/null || fail "define failed"
log "defined $name on $URI"

# 1. boot and ACPI shutdown
t0=$(now)
v start "$name" >/dev/null || fail "start failed"
t_start=$(since "$t0")
wait_marker SYSVIRT-GUEST-UP 1
t_up=$(since "$t0")
log "boot: virsh start returned after ${t_start}s, SYSVIRT-GUEST-UP after ${t_up}s"

t0=$(now)
v shutdown "$name" >/dev/null || fail "shutdown failed"
wait_state "shut off"
t_off=$(since "$t0")
[[ $(markers SYSVIRT-GUEST-POWEROFF) -ge 1 ]] || fail "guest powered off without its acpid handler running"
log "ACPI shutdown: shut off after ${t_off}s (reason: $(v domstate --reason "$name"))"

# 2. boot again and ACPI reboot: libvirt presses the power button, the guest
#    powers off, and libvirt resets the QEMU process instead of ending it.
if [[ $do_reboot -eq 1 ]]; then
    v start "$name" >/dev/null || fail "second start failed"
    wait_marker SYSVIRT-GUEST-UP 1
    before=$(markers SYSVIRT-GUEST-UP)
    pid_before=$(qemu_pid)
    t0=$(now)
    v reboot --mode acpi "$name" >/dev/null || fail "reboot failed"
    wait_marker SYSVIRT-GUEST-UP $((before + 1))
    t_reboot=$(since "$t0")
    state=$(v domstate "$name")
    [[ $state == running ]] || fail "after reboot the domain is '$state'"
    pid_after=$(qemu_pid)
    same="same QEMU process"
    [[ $pid_before == "$pid_after" ]] || same="new QEMU process ($pid_before -> $pid_after)"
    log "ACPI reboot: booted again after ${t_reboot}s, domain running, $same"
    t0=$(now)
    v destroy "$name" >/dev/null || fail "destroy failed"
    log "destroy: $(since "$t0")s"
fi

log "PASS"
