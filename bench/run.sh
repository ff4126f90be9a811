#!/usr/bin/env bash
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/run.sh [domains.py options]: domain_info and inventory benchmarks against community.libvirt.
#
# community.libvirt comes from PyPI's `ansible` package (the release matching our ansible-core 2.19), downloaded
# once into $SYSVIRT_BENCH_DIR (default /tmp/sysvirt-bench) and pointed at with ANSIBLE_COLLECTIONS_PATH. The
# dev venv (/work/venv, or $SYSVIRT_VENV) provides ansible-core and libvirt-python. Output goes to the terminal
# and to bench/results/<date>-<uri>.txt.
set -euo pipefail
# shellcheck source=bench/peer.sh
source "$(dirname "${BASH_SOURCE[0]}")/peer.sh"

uri="qemu:///system"
for ((i = 1; i <= $#; i++)); do
    if [ "${!i}" = "--uri" ]; then j=$((i + 1)); uri="${!j}"; fi
done
out="$here/results/domains-$(date -u +%Y%m%dT%H%M%SZ)-$(echo "$uri" | tr -c 'a-zA-Z0-9\n' '_').txt"
# shellcheck disable=SC2140  # one long header line, continued across source lines on purpose
{
    echo "# bench/run.sh $*  ($(date -u), $(nproc) cores, libvirt $(libvirtd --version | awk '{print $NF}'), "\
"ansible-core $(python -c 'import ansible.release as r; print(r.__version__)'), community.libvirt "\
"$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' \
"$dir/collections/ansible_collections/community/libvirt/MANIFEST.json"))"
    python "$here/domains.py" "$@"
} 2>&1 | tee "$out"
exit "${PIPESTATUS[0]}"
