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
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
venv="${SYSVIRT_VENV:-/work/venv}"
dir="${SYSVIRT_BENCH_DIR:-/tmp/sysvirt-bench}"
export PATH="$venv/bin:$PATH"

mkdir -p "$dir/wheels" "$repo/.build/collections/ansible_collections/sysvirt"
if [ ! -d "$dir/collections/ansible_collections/community/libvirt" ]; then
    pip download --quiet --no-deps 'ansible>=12,<13' -d "$dir/wheels"
    python - "$dir" <<'PY'
import glob, sys, zipfile
d = sys.argv[1]
wheel = sorted(glob.glob(d + '/wheels/ansible-*.whl'))[-1]
with zipfile.ZipFile(wheel) as z:
    z.extractall(d + '/collections', [n for n in z.namelist() if n.startswith('ansible_collections/community/libvirt/')])
PY
fi
[ -e "$repo/.build/collections/ansible_collections/sysvirt/libvirt" ] || ln -s "$repo" "$repo/.build/collections/ansible_collections/sysvirt/libvirt"
export ANSIBLE_COLLECTIONS_PATH="$repo/.build/collections:$dir/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False

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
