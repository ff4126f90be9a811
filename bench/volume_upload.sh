#!/usr/bin/env bash
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/volume_upload.sh [volume_upload.py options]: 1 GiB sparse upload, volume module vs virsh vol-upload --sparse.
# Output to the terminal and bench/results/volume_upload-<date>.txt; --sweep for several data amounts.
# What it measures and the results: bench/VOLUMES.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="${SYSVIRT_VENV:-/work/venv}/bin:$PATH"
mkdir -p "$here/results"
exec python "$here/volume_upload.py" --output "$here/results/volume_upload-$(date -u +%Y%m%dT%H%M%SZ).txt" "$@"
