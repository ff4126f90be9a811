#!/usr/bin/env bash
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/backup_push.sh [backup_push.py options]: full push backup of 256 MiB, domain_backup vs virsh backup-begin.
# Output to the terminal and bench/results/backup_push-<date>.txt. What it measures and the results: bench/BACKUP.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="${SYSVIRT_VENV:-/work/venv}/bin:$PATH"
mkdir -p "$here/results"
exec python "$here/backup_push.py" --output "$here/results/backup_push-$(date -u +%Y%m%dT%H%M%SZ).txt" "$@"
