#!/usr/bin/env bash
# Prepare this machine for the tests (or only for the demo): libvirt + QEMU,
# running daemons, and the tiny test guest. Idempotent; safe to run again.
#
# Usage: scripts/testbed.sh [setup|runtime|stop|status|packages [runtime|test]]
#   setup   (default) install what is missing (runtime and test packages),
#           build the test guest, start virtlogd and libvirtd if nothing
#           answers, wait for qemu:///system and test+unix:///default, print
#           how guests will run.
#   runtime the same with the runtime packages only: what scripts/demo.sh needs.
#   stop    stop the daemons that this script started (by the PIDs it wrote to
#           /run/sysvirt-testbed/), nothing else.
#   status  say what runs and who started it.
#   packages print the package list (both parts, or the one named), one a line.
#
# Debian/Ubuntu only (apt-get). Needs root.
#
# Where no service manager runs (no systemd as PID 1, e.g. containers and CI
# sandboxes) this script starts the daemons itself, and does what udev would
# do for /dev/kvm (group kvm, mode 0660). That matters even for TCG guests:
# when the QEMU user cannot open /dev/kvm, libvirt 9.0 thinks its cached QEMU
# capabilities (probed with KVM) are stale and probes QEMU again on every
# call that needs them, which costs ~4 s per domain start.
set -euo pipefail

STATE_DIR=/run/sysvirt-testbed
WAIT_SECONDS=${SYSVIRT_TESTBED_WAIT:-60}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# System packages, in two parts (`scripts/testbed.sh packages [runtime|test]` prints them):
#   runtime  what the collection and the demo need: libvirt and QEMU, what
#            scripts/build-test-guest.sh needs (cpio, xz-utils, gzip; the demo
#            boots that guest), and what building libvirt-python from PyPI
#            needs (gcc, libvirt-dev, ...). `testbed.sh runtime` installs only
#            these (scripts/demo.sh).
#   test     what only the test command needs, on top: xorriso (the guest role's
#            seed ISO), chromium (scripts/docs.sh), openssh-client (ssh-keygen and
#            ssh for the SSH test guest), ovmf (UEFI firmware: the guest role's
#            UEFI guest, firmware paths in tests), python3-minimal, python3-libvirt
#            and python3-lxml (/usr/bin/python3 and the bindings the hypervisor role
#            installs for it: its molecule scenario checks them, and with them present
#            the role needs no package index), ca-certificates (the CA bundle of
#            scripts/sanity.sh's pip bootstrap), openjdk-17-jre-headless (the Java
#            runtime of ansible-rulebook: the libvirt_events end-to-end tests),
#            openssh-server (the sshd of each hypervisor of scripts/fleet.sh; its
#            install starts no service: see install_packages).
# tests/unit/test_system_paths.py checks that every system path a test, scenario
# or script refers to comes from one of these (or from a set-up step).
RUNTIME_PACKAGES=(
    libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu
    qemu-system-x86 qemu-utils dnsmasq-base
    libvirt-dev pkg-config gcc libc6-dev python3-venv python3-dev
    cpio xz-utils gzip
    # libvirtd runs under `tini -s` where no service manager runs (see start_daemon).
    tini
)
TEST_PACKAGES=(
    xorriso chromium openssh-client ovmf python3-minimal python3-libvirt python3-lxml ca-certificates
    # ansible-rulebook (requirements-test.txt) runs its rules engine on Java 17: the
    # end-to-end tests of the libvirt_events event source need it.
    openjdk-17-jre-headless
    # scripts/fleet.sh: an sshd per test hypervisor, in its network namespace.
    openssh-server
)

log() { printf 'testbed: %s\n' "$*"; }
die() { printf 'testbed: ERROR: %s\n' "$*" >&2; exit 1; }

systemd_is_init() { [[ -d /run/systemd/system ]] && [[ $(cat /proc/1/comm 2>/dev/null) == systemd ]]; }

# --- packages -------------------------------------------------------------------
install_packages() {  # install_packages PACKAGE...: install those that are missing
    command -v apt-get >/dev/null || die "apt-get not found: only Debian/Ubuntu are supported"
    local missing=() p status
    for p in "$@"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [[ $status == installed ]] || missing+=("$p")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "packages: all present"
        return 0
    fi
    log "packages: installing ${missing[*]}"
    # Keep package scripts from starting services on machines without an init
    # system; this script starts the daemons itself below. openssh-server's
    # system sshd would listen on every address: it is never started, with or
    # without systemd (scripts/fleet.sh runs its own sshds in namespaces).
    local policy=/usr/sbin/policy-rc.d added_policy=0 new_sshd=0
    [[ " ${missing[*]} " == *" openssh-server "* ]] && new_sshd=1
    if { ! systemd_is_init || [[ $new_sshd -eq 1 ]]; } && [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        added_policy=1
    fi
    local rc=0
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || rc=$?
    if [[ $rc -eq 0 ]]; then
        apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}" || rc=$?
    fi
    [[ $added_policy -eq 1 ]] && rm -f "$policy"
    if [[ $new_sshd -eq 1 ]] && systemd_is_init; then
        systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
        log "packages: the system sshd that openssh-server installs is disabled (tests run their own)"
    fi
    [[ $rc -eq 0 ]] || die "apt-get failed (exit $rc) installing: ${missing[*]}"
}

# --- host preparation ---------------------------------------------------------
prepare_host() {
    # libvirtd 9.0 does not start without its log directory.
    mkdir -p /var/log/libvirt /var/log/libvirt/qemu
    id libvirt-qemu >/dev/null 2>&1 \
        || die "user libvirt-qemu is missing (libvirt-daemon-system's postinst creates it; reinstall that package)"
    if [[ -c /dev/kvm ]] && ! systemd_is_init && getent group kvm >/dev/null; then
        # What udev's rules do on a normal system (see the header).
        if [[ $(stat -c '%G %a' /dev/kvm) != "kvm 660" ]]; then
            chgrp kvm /dev/kvm && chmod 0660 /dev/kvm \
                && log "/dev/kvm: set group kvm, mode 0660 (as udev would)"
        fi
    fi
}

# --- daemons ------------------------------------------------------------------
virsh_q() { timeout 15 virsh -q -c "$@"; }
libvirtd_answers() { virsh_q qemu:///system version >/dev/null 2>&1; }
virtlogd_answers() { timeout 10 virt-admin -q -c virtlogd:///system version >/dev/null 2>&1; }

pid_is() {  # pid_is PIDFILE NAME: the PID in PIDFILE is a live process called NAME
    local pid
    [[ -s $1 ]] || return 1
    pid=$(cat "$1")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]]
}

start_daemon() {  # start_daemon NAME CHECK_FUNCTION
    local name=$1 answers=$2 pidfile=$STATE_DIR/$1.pid
    if "$answers"; then
        if pid_is "$pidfile" "$name"; then
            log "$name: running (started by this script, pid $(cat "$pidfile"))"
        else
            log "$name: already running, not started by this script; leaving it alone"
        fi
        return 0
    fi
    if systemd_is_init; then
        log "$name: systemctl start $name"
        systemctl start "$name.socket" 2>/dev/null || true
        systemctl start "$name" || die "systemctl start $name failed (see: journalctl -u $name)"
        return 0
    fi
    if pid_is "$pidfile" "$name"; then
        die "$name (pid $(cat "$pidfile"), started by this script) runs but does not answer; try: $0 stop"
    fi
    mkdir -p "$STATE_DIR"
    rm -f "$pidfile"
    log "$name: starting (no service manager here)"
    # Clean environment, so nothing from the caller leaks into the daemons and
    # from there into QEMU.
    local clean=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)
    if [[ $name == libvirtd ]]; then
        # QEMU is double-forked by libvirtd, so its parent becomes the nearest
        # subreaper or PID 1. A PID 1 that does not reap (a sandbox's own init)
        # leaves each QEMU that exits a zombie, which libvirt still sees alive:
        # every destroy then waits ~2 s for its SIGKILL step. libvirtd runs in
        # the foreground under `tini -s` (a subreaper that reaps), in a session
        # of its own; its PID, written to the pidfile, is still libvirtd's, and
        # tini exits when libvirtd does. Its messages go to its usual log file.
        (cd / && setsid "${clean[@]}" tini -s -- "$name" --pid-file "$pidfile" \
            </dev/null >/dev/null 2>>"/var/log/libvirt/$name.log" &) \
            || die "$name failed to start (see /var/log/libvirt/$name.log)"
    else
        # -d forks into the background once initialised.
        (cd / && "${clean[@]}" "$name" --daemon --pid-file "$pidfile" </dev/null >/dev/null 2>&1) \
            || die "$name failed to start (see /var/log/libvirt/$name.log)"
    fi
    local i
    for ((i = 0; i < 50; i++)); do
        pid_is "$pidfile" "$name" && break
        sleep 0.1
    done
    pid_is "$pidfile" "$name" || die "$name did not stay up (see /var/log/libvirt/$name.log)"
    log "$name: started, pid $(cat "$pidfile")"
}

wait_for_libvirt() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until libvirtd_answers; do
        ((SECONDS < deadline)) || die "qemu:///system did not answer within ${WAIT_SECONDS}s (see /var/log/libvirt/libvirtd.log)"
        sleep 0.5
    done
    log "qemu:///system answers: $(virsh_q qemu:///system version | grep -i 'running hypervisor' | sed 's/^ *//')"
    virsh_q test+unix:///default version >/dev/null 2>&1 \
        || die "test+unix:///default does not answer (libvirtd without the test driver?)"
    log "test+unix:///default answers"
}

stop_daemons() {
    local name pidfile pid i
    for name in libvirtd virtlogd; do
        pidfile=$STATE_DIR/$name.pid
        if ! pid_is "$pidfile" "$name"; then
            [[ -e $pidfile ]] && rm -f "$pidfile"
            log "$name: not started by this script; nothing to stop"
            continue
        fi
        pid=$(cat "$pidfile")
        if [[ $name == libvirtd ]]; then
            local running
            running=$(virsh_q qemu:///system list --name 2>/dev/null | sed '/^$/d' | paste -sd' ' - || true)
            [[ -n $running ]] && log "warning: guests still running (they outlive libvirtd): $running"
        fi
        log "$name: stopping pid $pid"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do
            [[ -d /proc/$pid ]] || break
            sleep 0.1
        done
        if [[ -d /proc/$pid ]]; then
            log "$name: still alive after 15s, sending SIGKILL to $pid"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
    done
}

# --- report -------------------------------------------------------------------
report() {
    local kvm_note
    if [[ -c /dev/kvm ]]; then
        if [[ -d /sys/module/kvm_pvm ]]; then
            kvm_note="/dev/kvm present (nested kvm_pvm: kvm guests start but do not run an OS)"
        else
            kvm_note="/dev/kvm present (type='kvm' would be usable)"
        fi
    else
        kvm_note="no /dev/kvm"
    fi
    log "guests: TCG (type='qemu') is what tests use; $kvm_note"
    if virsh_q qemu:///system pool-info default >/dev/null 2>&1; then
        log "storage pool 'default' exists; tests do not use it"
    else
        log "storage pool 'default': absent (not required by the tests)"
    fi
    local net
    for net in $(virsh_q qemu:///system net-list --name 2>/dev/null); do
        if virsh_q qemu:///system net-dumpxml "$net" 2>/dev/null | grep -q '<forward'; then
            log "note: active network '$net' forwards traffic off the host; the tests neither create nor use it"
        fi
    done
    local info=/var/lib/libvirt/boot/sysvirt-test-guest/BUILD-INFO
    [[ -r $info ]] && log "test guest: $(grep -E '^kernel_version=' "$info"), in ${info%/*}"
    return 0
}

status() {
    local name
    for name in virtlogd libvirtd; do
        if pid_is "$STATE_DIR/$name.pid" "$name"; then
            log "$name: started by this script, pid $(cat "$STATE_DIR/$name.pid")"
        elif { [[ $name == libvirtd ]] && libvirtd_answers; } || { [[ $name == virtlogd ]] && virtlogd_answers; }; then
            log "$name: running, not started by this script"
        else
            log "$name: not running"
        fi
    done
}

main() {
    local cmd=${1:-setup} packages=("${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}")
    case $cmd in
        setup) ;;
        runtime) packages=("${RUNTIME_PACKAGES[@]}") ;;
        packages)
            case ${2:-all} in
                runtime) packages=("${RUNTIME_PACKAGES[@]}") ;;
                test) packages=("${TEST_PACKAGES[@]}") ;;
                all) ;;
                *) die "unknown package list '$2' (runtime, test)" ;;
            esac
            printf '%s\n' "${packages[@]}"
            return 0 ;;
        stop) [[ $(id -u) -eq 0 ]] || die "must run as root"; stop_daemons; return 0 ;;
        status) status; return 0 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; return 0 ;;
        *) die "unknown command '$cmd' (usage: $0 [setup|runtime|stop|status|packages [runtime|test]])" ;;
    esac
    [[ $(id -u) -eq 0 ]] || die "must run as root"
    install_packages "${packages[@]}"
    prepare_host
    "$HERE/build-test-guest.sh" || die "building the test guest failed"
    start_daemon virtlogd virtlogd_answers
    start_daemon libvirtd libvirtd_answers
    wait_for_libvirt
    report
    log "ready"
}

main "$@"
