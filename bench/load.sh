#!/usr/bin/env bash
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/load.sh: 20 forks define, start, stop and remove 100 tiny diskless guests (type='qemu', no NIC, no disk,
# no OS: each halts in SeaBIOS, see load/guest.xml.j2) on the real libvirtd, one guest per inventory host, all
# of them started; each phase runs twice and the second run must report no change (the same play runs as a
# test: tests/reliability/test_load.py). The wall time of every phase is compared with
# ansible.builtin.ping over the same hosts and forks in the same run. A benchmark, not a timed assertion;
# the end state is checked (exactly the asked guests, in the asked state). Everything is removed at exit.
#
# Environment: LOAD_GUESTS (100), LOAD_FORKS (20), LOAD_MEMORY_MIB (16), LOAD_KERNEL=1 (boot the Linux test
# guest of scripts/build-test-guest.sh instead: 70-90% of a core each while it boots, so only for a few guests),
# LIBVIRT_DEFAULT_URI (qemu:///system). Output: terminal and bench/results/load-<date>.txt.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
venv="${SYSVIRT_VENV:-/work/venv}"
export PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$repo/.build/collections" ANSIBLE_NOCOLOR=1
export LIBVIRT_DEFAULT_URI="${LIBVIRT_DEFAULT_URI:-qemu:///system}" ANSIBLE_LOCALHOST_WARNING=0
guests=${LOAD_GUESTS:-100} forks=${LOAD_FORKS:-20} running=${LOAD_GUESTS:-100} mem=${LOAD_MEMORY_MIB:-16}
run="sysvirt-test-load-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
work=$(mktemp -d /tmp/sysvirt-test-load-XXXX)
mkdir -p "$repo/.build/collections/ansible_collections/sysvirt" "$here/results"
[ -e "$repo/.build/collections/ansible_collections/sysvirt/libvirt" ] || ln -s "$repo" "$repo/.build/collections/ansible_collections/sysvirt/libvirt"
out="$here/results/load-$(date -u +%Y%m%dT%H%M%SZ).txt"
guest_dir=${SYSVIRT_GUEST_DIR:-/var/lib/libvirt/boot/sysvirt-test-guest}
boot=(); os="no OS, halts in SeaBIOS"
if [ "${LOAD_KERNEL:-0}" = 1 ]; then boot=(-e kernel="$guest_dir/vmlinuz" -e initrd="$guest_dir/initrd.img"); os="Linux test guest"; fi

{
    echo "[guests]"
    for i in $(seq -w 1 "$guests"); do echo "$run-$i"; done
    echo "[guests:vars]"
    echo "ansible_connection=local"; echo "ansible_python_interpreter=$venv/bin/python"
} >"$work/hosts.ini"

# shellcheck disable=SC2329  # invoked by the EXIT trap
cleanup() {
    for d in $(virsh -c "$LIBVIRT_DEFAULT_URI" list --all --name | grep "^$run-"); do
        virsh -c "$LIBVIRT_DEFAULT_URI" destroy "$d" >/dev/null 2>&1
        virsh -c "$LIBVIRT_DEFAULT_URI" undefine "$d" >/dev/null 2>&1
    done
    rm -rf "$work"
}
trap cleanup EXIT

status=0
declare -A secs
# phase NAME RUN: ansible-playbook for one phase; records the time; checks failures and (run 2) changes
phase() {
    local name=$1 n=$2 t0 t1 log="$work/$1-$2.log" recap changed failed
    t0=$(date +%s.%N)
    ANSIBLE_PIPELINING=1 ansible-playbook -i "$work/hosts.ini" -f "$forks" "$here/load/play.yml" --tags "$name" \
        -e memory_mib="$mem" "${boot[@]}" >"$log" 2>&1
    local rc=$?
    t1=$(date +%s.%N)
    secs[$name-$n]=$(echo "$t1 - $t0" | bc)
    recap=$(sed -n '/PLAY RECAP/,$p' "$log")
    changed=$(grep -o 'changed=[0-9]*' <<<"$recap" | cut -d= -f2 | paste -sd+ | bc)
    failed=$(grep -oE '(failed|unreachable)=[0-9]*' <<<"$recap" | cut -d= -f2 | paste -sd+ | bc)
    printf '%-7s run %s  %7.2fs  changed=%-4s failed=%s  rc=%s\n' "$name" "$n" "${secs[$name-$n]}" "$changed" "$failed" "$rc"
    if [ "$rc" != 0 ] || [ "$failed" != 0 ]; then status=1; grep -m3 -E 'FAILED|fatal' "$log"; fi
    if [ "$n" = 2 ] && [ "$name" != ping ] && [ "$changed" != 0 ]; then echo "  !! re-run reported changes"; status=1; fi
}
# state_check WHAT: the guests of this run are exactly as asked
state_check() {
    local want=$1 all run_count
    all=$(virsh -c "$LIBVIRT_DEFAULT_URI" list --all --name | grep -c "^$run-")
    run_count=$(virsh -c "$LIBVIRT_DEFAULT_URI" list --state-running --name | grep -c "^$run-")
    case $want in
        defined) [ "$all" = "$guests" ] && [ "$run_count" = 0 ] ;;
        running) [ "$all" = "$guests" ] && [ "$run_count" = "$running" ] ;;
        absent) [ "$all" = 0 ] ;;
    esac || { echo "  !! end state after $want: $all guests, $run_count running"; status=1; }
}

{
echo "sysvirt.libvirt load benchmark, $(date -u +%FT%TZ), $LIBVIRT_DEFAULT_URI, $(nproc) CPUs"
echo "$guests guests (type=qemu, ${mem} MiB, no disk, no NIC, $os), $forks forks, all started"
echo
phase ping 1; phase ping 2
phase define 1; state_check defined; phase define 2
phase start 1; state_check running; phase start 2
phase stop 1; state_check defined; phase stop 2
phase remove 1; state_check absent; phase remove 2
echo
ping=$(echo "(${secs[ping-1]} + ${secs[ping-2]}) / 2" | bc -l)
printf 'ping baseline: %.2fs for %d hosts (%.0f ms per host-task at %d forks)\n' "$ping" "$guests" \
    "$(echo "$ping * 1000 * $forks / $guests" | bc -l)" "$forks"
for p in define start stop remove; do
    n=$guests
    for r in 1 2; do
        extra=$(echo "${secs[$p-$r]} - $ping" | bc -l)
        printf '%-7s run %s: %6.2fs wall, %+6.2fs over ping; %4.0f ms per guest-task over ping\n' "$p" "$r" \
            "${secs[$p-$r]}" "$extra" "$(echo "$extra * 1000 * $forks / $n" | bc -l)"
    done
done
echo
[ "$status" = 0 ] && echo "RESULT: every task succeeded, end states as asked, re-runs changed nothing" \
    || echo "RESULT: FAILED (see above)"
[ "$status" = 0 ]
} 2>&1 | tee "$out"
exit "${PIPESTATUS[0]}"
