# shellcheck shell=bash
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Sourced by bench/run.sh and bench/compare.sh: the venv on PATH, community.libvirt (the peer) from PyPI's
# `ansible` package (the release matching our ansible-core), downloaded once into $SYSVIRT_BENCH_DIR (default
# /tmp/sysvirt-bench), and ANSIBLE_COLLECTIONS_PATH pointing at this work tree's collection and the peer.
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
peer_version() {
    python -c 'import json,sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' \
        "$dir/collections/ansible_collections/community/libvirt/MANIFEST.json"
}
