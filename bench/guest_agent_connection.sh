#!/usr/bin/env bash
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/guest_agent_connection.sh: the same play over SSH and over sysvirt.libvirt.libvirt_qemu (the guest agent)
# to the same Linux test guest, per-task times and the throughput of a 50 MiB copy and fetch, as ratios versus SSH.
#
# It runs the functional test that does this (tests/functional/test_connection_libvirt_qemu.py, the play test),
# which boots the Linux test guest (scripts/build-linux-guest.sh builds it) on qemu:///system and checks that
# both transports give the same results. Output: the terminal and bench/results/libvirt_qemu-<date>.txt.
# Environment: SYSVIRT_VENV (default <repo>/.venv).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
export PATH="${SYSVIRT_VENV:-$repo/.venv}/bin:$PATH"
report_dir=$(mktemp -d /tmp/sysvirt-bench-agent.XXXXXX)
trap 'rm -rf "$report_dir"' EXIT
cd "$repo"
SYSVIRT_REPORT_DIR=$report_dir python -m pytest -q -p no:cacheprovider \
    tests/functional/test_connection_libvirt_qemu.py -k test_the_same_play_over_ssh_and_over_the_agent
out="$here/results/libvirt_qemu-$(date -u +%Y%m%dT%H%M%SZ).txt"
python - "$report_dir/libvirt_qemu-timings.json" "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lines = ['libvirt_qemu (guest agent) versus ssh, the same play to the same guest (50 MiB copy and fetch)',
         'boot: agent answered after %(agent_answers)ss, SSH after %(ssh_answers)ss' % r['boot'],
         'load average at the end: %s' % ', '.join('%.2f' % x for x in r['load_average']), '',
         '| task | ssh s | agent s | agent/ssh |', '|---|---:|---:|---:|']
for task, ssh in r['task_seconds']['ssh'].items():
    agent = r['task_seconds']['agent'].get(task)
    lines.append('| %s | %.2f | %.2f | %s |' % (task, ssh, agent, '%.2fx' % (agent / ssh) if ssh else '-'))
lines += ['', '| 50 MiB | ssh MB/s | agent MB/s | agent/ssh |', '|---|---:|---:|---:|']
for what in ('copy', 'fetch'):
    v = r['%s_mb_per_s' % what]
    lines.append('| %s | %.1f | %.1f | %.2fx |' % (what, v['ssh'], v['agent'], v['agent'] / v['ssh']))
text = '\n'.join(lines) + '\n'
open(sys.argv[2], 'w').write(text)
print(text)
PY
echo "written: $out"
