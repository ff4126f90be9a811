# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: the sysvirt.libvirt.libvirt inventory over many hypervisors at once.

Writes --hypervisors libvirt test-driver node files (each its own simulated hypervisor with --domains running
guests named sysvirt-test-bench-hNN-*, one NIC each so every guest costs a lease query) into a temporary
directory, and points the inventory at them as `test+unix:///<file>`: libvirtd opens each file in its own test
driver instance and serves it over its socket, so every hypervisor is a separate connection with real round
trips (`--transport local` uses `test:///<file>`, in-process, instead). Nothing is defined on a real hypervisor;
the files are removed afterwards.

Measures `ansible-inventory --list` with max_workers 20 (concurrent) against max_workers 1 (one hypervisor after
another), with the defaults and with every host var + network groups (one XML read per guest), median of
--repeat interleaved runs, minus an empty source. Run with the dev venv and ANSIBLE_COLLECTIONS_PATH set (as
bench/run.sh does): `bash bench/run.sh` is for domains.py; this one: `bash bench/hypervisors.sh`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PREFIX = 'sysvirt-test-bench-'

NODE = """<node>
  <cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><active>2</active><mhz>2000</mhz>
    <model>i686</model></cpu>
  <memory>8388608</memory>
{domains}
</node>
"""
DOMAIN = """  <domain type='test'><name>{name}</name><memory>65536</memory><vcpu>1</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices><interface type='network'><mac address='52:54:00:{h:02x}:{i1:02x}:{i2:02x}'/><source network='default'/>
    </interface></devices></domain>"""


def run(cmd, env):
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit('command failed: %s\n%s' % (' '.join(cmd), proc.stderr[-3000:]))
    return elapsed, proc.stdout


def in_process_overlap(uris, workers):
    """Our fetch step for every URI through a pool of ``workers`` threads, as the plugin does: (wall, sum of the
    per-hypervisor durations, peak number of hypervisors being read at the same time)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), '.build',
                                    'collections'))
    from ansible_collections.sysvirt.libvirt.plugins.inventory.libvirt import fetch_one
    lock = threading.Lock()
    state = dict(active=0, peak=0, total=0.0)

    def one(uri):
        with lock:
            state['active'] += 1
            state['peak'] = max(state['peak'], state['active'])
        start = time.monotonic()
        result = fetch_one(uri, definition='none')
        with lock:
            state['active'] -= 1
            state['total'] += time.monotonic() - start
        if result['error']:
            raise SystemExit(result['error'])
        return result
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, uris))
    return time.monotonic() - start, state['total'], state['peak']


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--hypervisors', type=int, default=20)
    parser.add_argument('--domains', type=int, default=50, help='guests per hypervisor')
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--transport', choices=['unix', 'local'], default='unix')
    args = parser.parse_args()
    env = dict(os.environ, ANSIBLE_DEPRECATION_WARNINGS='False')
    tmp = tempfile.mkdtemp(prefix='sysvirt-bench-hv-')
    try:
        uris = []
        for h in range(args.hypervisors):
            path = os.path.join(tmp, 'hv%02d.xml' % h)
            with open(path, 'w') as handle:
                handle.write(NODE.format(domains='\n'.join(
                    DOMAIN.format(name='%sh%02d-%04d' % (PREFIX, h, i), h=h, i1=i >> 8 & 0xff, i2=i & 0xff)
                    for i in range(args.domains))))
            uris.append(('test+unix://%s' if args.transport == 'unix' else 'test://%s') % path)
        base = 'plugin: sysvirt.libvirt.libvirt\nuris: %s\nstrict: true\n' % json.dumps(uris)
        configs = dict(
            floor='plugin: sysvirt.libvirt.libvirt\nuris: []\n',
            concurrent=base + 'max_workers: 20\n',
            serial=base + 'max_workers: 1\n',
            concurrent_all=base + 'max_workers: 20\nhost_vars: [all]\ngroup_by: [state, hypervisor, network]\n',
            serial_all=base + 'max_workers: 1\nhost_vars: [all]\ngroup_by: [state, hypervisor, network]\n',
        )
        cmds = {}
        for name, text in configs.items():
            path = os.path.join(tmp, name + '.libvirt.yml')
            with open(path, 'w') as handle:
                handle.write(text)
            cmds[name] = ['ansible-inventory', '--list', '-i', path]
        expected = args.hypervisors * args.domains
        for name in ('concurrent', 'serial_all'):
            data = json.loads(run(cmds[name], env)[1])
            guests = data.get('libvirt_guests', {}).get('hosts', [])
            if len(guests) != expected:
                raise SystemExit('%s listed %d guests, not %d' % (name, len(guests), expected))
            if len(data.get('libvirt_hypervisors', {}).get('hosts', [])) != args.hypervisors:
                raise SystemExit('%s did not list %d hypervisors' % (name, args.hypervisors))
        times = dict((name, []) for name in cmds)
        for dummy in range(args.repeat):
            for name, cmd in cmds.items():
                times[name].append(run(cmd, env)[0])
        med = dict((name, statistics.median(values)) for name, values in times.items())
        own = dict((name, max(med[name] - med['floor'], 1e-3)) for name in med)
        row = '  %-52s %6.2f s  (%.2f s above floor)'
        lines = [
            'hypervisors benchmark: %d hypervisors (%s test driver files) x %d running guests = %d guests, '
            'median of %d interleaved runs' % (args.hypervisors, 'libvirtd-served' if args.transport == 'unix'
                                               else 'in-process', args.domains, expected, args.repeat),
            '  %-52s %6.2f s' % ('ansible-inventory --list, empty source (floor):', med['floor']),
            row % ('defaults, max_workers 20 (concurrent):', med['concurrent'], own['concurrent']),
            row % ('defaults, max_workers 1 (one after another):', med['serial'], own['serial']),
            row % ('[all] + network, max_workers 20:', med['concurrent_all'], own['concurrent_all']),
            row % ('[all] + network, max_workers 1:', med['serial_all'], own['serial_all']),
            '  %-52s %6.2fx' % ('serial / concurrent above floor, defaults:', own['serial'] / own['concurrent']),
            '  %-52s %6.2fx' % ('serial / concurrent above floor, [all] + network:',
                                own['serial_all'] / own['concurrent_all']),
        ]
        for workers in (20, 1):
            runs = [in_process_overlap(uris, workers) for dummy in range(args.repeat)]
            wall = statistics.median(r[0] for r in runs)
            total = statistics.median(r[1] for r in runs)
            lines.append('  fetch step in-process, %2d worker(s): wall %.2f s, sum of per-hypervisor times %.2f s, '
                         'at most %d hypervisors read at once' % (workers, wall, total, max(r[2] for r in runs)))
        for line in lines:
            print(line, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
