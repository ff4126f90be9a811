#!/usr/bin/env bash
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/compare.sh [--items 50] [--repeat 3] [--skip STAGE,...]: issue 23's benchmarks, ours and community.libvirt
# side by side in one run, one after the other, on qemu:///system (what each measures: bench/PERCALL.md):
#   percall    one module call's CPU profile against ansible.builtin.ping (percall.py)
#   loops      50-item define/start/destroy/undefine loops, ping floor, ours in the worker and as a module process,
#              community.libvirt.virt, and sysvirt.libvirt.bulk when plugins/modules/bulk.py exists (loops.py)
#   inventory  ansible-inventory at 0 and 1 guests (inventory_fixed.py), 500 and 1,000 (domains.py)
#   volume     a 1 GiB sparse upload against `virsh vol-upload --sparse`: module process, worker (volume_upload.py)
# Output: the terminal and bench/results/compare-<date>.txt. Ratios, never timed assertions.
set -euo pipefail
# shellcheck source=bench/peer.sh
source "$(dirname "${BASH_SOURCE[0]}")/peer.sh"

items=50 repeat=3 skip=""
while [ $# -gt 0 ]; do
    case "$1" in
        --items) items="$2"; shift 2 ;;
        --repeat) repeat="$2"; shift 2 ;;
        --skip) skip="$2"; shift 2 ;;
        *) echo "usage: bench/compare.sh [--items N] [--repeat N] [--skip percall,loops,inventory,volume]" >&2; exit 2 ;;
    esac
done
wanted() { [[ ",$skip," != *",$1,"* ]]; }
mkdir -p "$here/results"
out="$here/results/compare-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
    echo "# bench/compare.sh --items $items --repeat $repeat${skip:+ --skip $skip}  ($(date -u), $(nproc) cores," \
         "load $(cut -d' ' -f1-3 /proc/loadavg), libvirt $(libvirtd --version | awk '{print $NF}')," \
         "ansible-core $(python -c 'import ansible.release as r; print(r.__version__)'), community.libvirt $(peer_version)," \
         "sysvirt.libvirt $(git -C "$repo" rev-parse --short HEAD))"
    if wanted percall; then echo; echo "## percall"; python "$here/percall.py" --repeat 9; fi
    if wanted loops; then echo; echo "## loops"; python "$here/loops.py" --items "$items" --repeat "$repeat"; fi
    if wanted inventory; then
        echo; echo "## inventory"
        python "$here/inventory_fixed.py" --repeat $((repeat * 3))
        for count in 500 1000; do python "$here/domains.py" --what inventory --count "$count" --repeat "$repeat"; done
    fi
    if wanted volume; then echo; echo "## volume"; python "$here/volume_upload.py" --rounds "$repeat"; fi
} 2>&1 | tee "$out"
exit "${PIPESTATUS[0]}"
