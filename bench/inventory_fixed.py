# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An inventory's fixed cost: `ansible-inventory --list` of an empty and of a one-guest source, ours and the peer's.

    python bench/inventory_fixed.py [--repeat 9]

The source is the test driver with a node file of its own (``test:///<file>``: no guest, or one), so nothing on
the shared daemon counts and both plugins see exactly the same hypervisor. Both plugins' commands run round
after round (interleaved); medians of wall and CPU time (ansible-inventory and its children). Also the share of
our CPU time that is Python importing: ``-X importtime`` of one run of ours, our own files and libvirt/lxml. On a
shared machine the least CPU time of the runs is shown too: other load only ever adds to it.
A benchmark, never an assertion.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import tempfile
import time

EMPTY = '<node/>\n'
ONE = ("<node><domain type='test'><name>sysvirt-test-bench-one</name><memory>65536</memory>"
       "<os><type>hvm</type></os></domain></node>\n")


def run(cmd, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit('%s failed:\n%s' % (' '.join(cmd), proc.stderr[-2000:]))
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, proc


def import_share(config, env):
    """{group: ms} of -X importtime (cumulative of top-level imports, self time of ours) for one run."""
    program = subprocess.check_output(['which', 'ansible-inventory'], text=True).strip()
    proc = subprocess.run(['python', '-X', 'importtime', program, '--list', '-i', config], env=env,
                          capture_output=True, text=True, check=False)
    share = {'ours (compiled from source)': 0.0, 'libvirt': 0.0, 'lxml': 0.0}
    for line in proc.stderr.splitlines():
        match = re.match(r'import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)', line)
        if not match:
            continue
        own, total, name = int(match.group(1)), int(match.group(2)), match.group(4)
        if name.startswith('ansible_collections.sysvirt.'):
            share['ours (compiled from source)'] += own / 1000.0
        elif name in ('libvirt', 'lxml.etree', 'lxml'):
            share['libvirt' if name == 'libvirt' else 'lxml'] += own / 1000.0 if name == 'lxml' else total / 1000.0
    return share


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=9)
    args = parser.parse_args()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix='sysvirt-test-bench-inv-') as tmp:
        configs = {}
        for size, node in (('empty', EMPTY), ('one', ONE)):
            path = os.path.join(tmp, size + '.xml')
            with open(path, 'w') as handle:
                handle.write(node)
            for who, text in (('ours', "plugin: sysvirt.libvirt.libvirt\nuris: ['test://%s']\n"),
                              ('peer', "plugin: community.libvirt.libvirt\nuri: 'test://%s'\n")):
                configs[(who, size)] = os.path.join(tmp, '%s-%s.libvirt.yml' % (who, size))
                with open(configs[(who, size)], 'w') as handle:
                    handle.write(text % path)
        wall, cpu = {}, {}
        for _round in range(args.repeat):
            for key, config in sorted(configs.items()):
                elapsed, used, proc = run(['ansible-inventory', '--list', '-i', config], env)
                if key[1] == 'one' and 'sysvirt-test-bench-one' not in proc.stdout:
                    raise SystemExit('%s listed no guest' % (key,))
                wall.setdefault(key, []).append(elapsed)
                cpu.setdefault(key, []).append(used)
        share = import_share(configs[('ours', 'one')], env)
    med = dict((k, statistics.median(v)) for k, v in wall.items())
    cmed = dict((k, statistics.median(v)) for k, v in cpu.items())
    cmin = dict((k, min(v)) for k, v in cpu.items())
    lines = ['inventory fixed cost: ansible-inventory --list, test driver node file, medians of %d interleaved runs'
             % args.repeat]
    for size in ('empty', 'one'):
        lines.append('  %-6s ours %.2f s (CPU %.2f s), peer %.2f s (CPU %.2f s): ours / peer %.2fx wall, %.2fx CPU'
                     % (size, med[('ours', size)], cmed[('ours', size)], med[('peer', size)], cmed[('peer', size)],
                        med[('ours', size)] / med[('peer', size)], cmed[('ours', size)] / cmed[('peer', size)]))
        lines.append('         least CPU of the %d runs (the run least disturbed by other load): ours %.3f s, peer %.3f s: '
                     '%.2fx' % (args.repeat, cmin[('ours', size)], cmin[('peer', size)],
                                cmin[('ours', size)] / cmin[('peer', size)]))
    lines.append('  one run of ours, -X importtime (ms, inflated by the measurement): ' +
                 ', '.join('%s %.0f' % kv for kv in share.items()))
    for line in lines:
        print(line, flush=True)


if __name__ == '__main__':
    main()
