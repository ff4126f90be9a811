#!/usr/bin/env bash
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/fleet.sh [fleet.py options]: the inventory over 4, 8 and 16 remote hypervisors (TLS, SSH) and the fleet play
# with forks = N against one hypervisor (bench/FLEET.md); output to the terminal and bench/results/fleet-<date>.txt.
# Needs root (scripts/fleet.sh) and no other test fleet up (one per machine).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
export PATH="${SYSVIRT_VENV:-/work/venv}/bin:$PATH"
mkdir -p "$repo/.build/collections/ansible_collections/sysvirt" "$here/results"
[ -e "$repo/.build/collections/ansible_collections/sysvirt/libvirt" ] || ln -s "$repo" "$repo/.build/collections/ansible_collections/sysvirt/libvirt"
export ANSIBLE_COLLECTIONS_PATH="$repo/.build/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False
out="$here/results/fleet-$(date -u +%Y%m%dT%H%M%SZ).txt"
# shellcheck disable=SC2140  # one long header line, continued across source lines on purpose
{
    echo "# bench/fleet.sh $*  ($(date -u), $(nproc) cores, libvirt $(libvirtd --version | awk '{print $NF}'), "\
"ansible-core $(python -c 'import ansible.release as r; print(r.__version__)'), load $(cut -d' ' -f1-3 /proc/loadavg))"
    python "$here/fleet.py" "$@"
} 2>&1 | tee "$out"
exit "${PIPESTATUS[0]}"
