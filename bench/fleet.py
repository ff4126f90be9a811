# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: the collection against the test fleet (scripts/fleet.sh): real remote libvirtd instances, each in its
own network namespace, reached over qemu+tls:// and qemu+ssh://.

1. Inventory: `ansible-inventory --list` of the sysvirt.libvirt.libvirt plugin over the first N = 4, 8, 16
   hypervisors of one fleet of --size (default 16), per transport, against the slowest single hypervisor of those N
   loaded alone (the ideal for a concurrent load is the slowest one: target ratio at most 1.3). Each hypervisor
   holds --guests defined (not running) guests sysvirt-test-bench-fleet-*, made before and removed after.
   Reported raw (the process's wall time) and net of an empty inventory source (Python and Ansible start-up).
2. The fleet play (tests/functional/fleet_play/site.yml: host_facts, cpu_baseline, two TCG guests, a network, a
   pool per hypervisor) with forks = N on N hypervisors against the same play on one hypervisor alone: the real
   run that makes everything, the idempotent run after it, and the removal.
Medians of --repeat (inventory) and --play-repeat (play) interleaved runs. Run as root with the dev venv and ANSIBLE_COLLECTIONS_PATH set:
`bash bench/fleet.sh` does both. The fleet is taken down at the end (also on failure).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import libvirt

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLEET = os.path.join(REPO, 'scripts', 'fleet.sh')
PLAY = os.path.join(REPO, 'tests', 'functional', 'fleet_play', 'site.yml')
sys.path.insert(0, os.path.join(REPO, 'tests'))
from utils.fleet import Fleet  # noqa: E402 pylint: disable=wrong-import-position

PREFIX = 'sysvirt-test-bench-fleet-'
GUEST = ("<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
         "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>")


def env():
    out = dict(os.environ, ANSIBLE_DEPRECATION_WARNINGS='False', ANSIBLE_INVENTORY_UNPARSED_FAILED='True',
               ANSIBLE_RETRY_FILES_ENABLED='False', ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    out['PATH'] = os.path.dirname(sys.executable) + os.pathsep + out.get('PATH', '')
    return out


CPU = []  # CPU seconds (user + system) of the last timed command and everything it waited for


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd):
    started, cpu = time.monotonic(), children_cpu()
    proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=900, check=False)
    elapsed = time.monotonic() - started
    CPU[:] = [children_cpu() - cpu]
    if proc.returncode != 0:
        raise SystemExit('failed (%d): %s\n%s%s' % (
            proc.returncode, ' '.join(cmd), proc.stdout[-3000:], proc.stderr[-3000:]))
    return elapsed, proc


def inventory_file(workdir, name, uris):
    path = os.path.join(workdir, '%s.libvirt.yml' % name)
    with open(path, 'w') as handle:
        handle.write('plugin: sysvirt.libvirt.libvirt\nstrict: true\nmax_workers: 20\nuris:\n')
        handle.writelines('  - "%s"\n' % uri for uri in uris)
    return path


def load(path, hosts):
    elapsed, proc = timed(['ansible-inventory', '-i', path, '--list'])
    names = json.loads(proc.stdout).get('libvirt_hypervisors', {}).get('hosts', [])
    assert len(names) == hosts, (path, names)
    return elapsed


def bench_inventory(fleet, args, workdir):
    empty = os.path.join(workdir, 'empty.yml')
    with open(empty, 'w') as handle:
        handle.write('all: {}\n')
    rows = []
    for transport in ('tls', 'ssh'):
        singles = dict((h.index, inventory_file(workdir, '%s-%d' % (transport, h.index), [h['%s_uri' % transport]]))
                       for h in fleet.hosts[:max(args.sizes)])
        fleets = dict((n, inventory_file(workdir, '%s-n%d' % (transport, n), fleet.uris(transport)[:n]))
                      for n in args.sizes)
        samples = dict(empty=[], **dict(('h%d' % i, []) for i in singles), **dict(('n%d' % n, []) for n in fleets))
        cpu = dict(('n%d' % n, []) for n in fleets)
        cpu['h1'] = []
        for dummy in range(args.repeat):
            samples['empty'].append(timed(['ansible-inventory', '-i', empty, '--list'])[0])
            for i, path in singles.items():
                samples['h%d' % i].append(load(path, 1))
                if i == 1:
                    cpu['h1'].append(CPU[0])
            for n, path in fleets.items():
                samples['n%d' % n].append(load(path, n))
                cpu['n%d' % n].append(CPU[0])
        med = dict((k, statistics.median(v)) for k, v in samples.items())
        for n in args.sizes:
            slowest = max(med['h%d' % i] for i in range(1, n + 1))
            rows.append(dict(transport=transport, n=n, fleet=med['n%d' % n], slowest_single=slowest,
                             empty=med['empty'], ratio=med['n%d' % n] / slowest,
                             net_ratio=(med['n%d' % n] - med['empty']) / (slowest - med['empty']),
                             median_single=statistics.median(med['h%d' % i] for i in range(1, n + 1)),
                             cpu=statistics.median(cpu['n%d' % n]), cpu_single=statistics.median(cpu['h1'])))
            print('inventory %-3s N=%-2d  all: %.2fs  slowest alone: %.2fs (median alone %.2fs)  empty source: %.2fs  '
                  'ratio %.2f  net of start-up %.2f  client CPU %.2fs (one alone %.2fs)'
                  % (transport, n, med['n%d' % n], slowest, rows[-1]['median_single'], med['empty'],
                     rows[-1]['ratio'], rows[-1]['net_ratio'], rows[-1]['cpu'], rows[-1]['cpu_single']), flush=True)
    return rows


def play(fleet, workdir, hosts, prefix, *extra):
    inventory = fleet.inventory(os.path.join(workdir, 'play-%d.yml' % len(hosts)), hosts=hosts)
    elapsed = timed(['ansible-playbook', '-i', str(inventory), '-f', str(len(hosts)), PLAY,
                     '-e', 'fleet_prefix=%s' % prefix] + list(extra))[0]
    return elapsed, CPU[0]


def bench_play(fleet, args, workdir):
    rows = []
    for n in args.play_sizes:
        for hosts in ([fleet.hosts[0]], fleet.hosts[:n]):
            samples = dict(make=[], again=[], remove=[], make_cpu=[], again_cpu=[], remove_cpu=[])
            for r in range(args.play_repeat):
                prefix = '%splay-%d-%d' % (PREFIX, len(hosts), r)
                try:
                    for kind in ('make', 'again'):
                        elapsed, cpu = play(fleet, workdir, hosts, prefix)
                        samples[kind].append(elapsed)
                        samples[kind + '_cpu'].append(cpu)
                finally:
                    elapsed, cpu = play(fleet, workdir, hosts, prefix, '-e', 'fleet_state=absent')
                    samples['remove'].append(elapsed)
                    samples['remove_cpu'].append(cpu)
            med = dict((k, statistics.median(v)) for k, v in samples.items())
            rows.append(dict(n=n, hosts=len(hosts), **med))
            print('play N=%-2d on %2d hypervisor(s), forks %2d: make %.2fs  again (no change) %.2fs  remove %.2fs  '
                  '(client CPU %.1fs, %.1fs, %.1fs)' % (
                      n, len(hosts), len(hosts), med['make'], med['again'], med['remove'], med['make_cpu'],
                      med['again_cpu'], med['remove_cpu']), flush=True)
    return rows


def guests(fleet, count, make):
    for uri in fleet.uris('tls'):
        conn = libvirt.open(uri)
        try:
            for dom in conn.listAllDomains(0):
                if dom.name().startswith(PREFIX):
                    if dom.isActive():
                        dom.destroy()
                    dom.undefine()
            for g in range(count if make else 0):
                conn.defineXML(GUEST.format(name='%sguest-%d' % (PREFIX, g)))
        finally:
            conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--size', type=int, default=16, help='hypervisors in the fleet')
    parser.add_argument('--sizes', type=int, nargs='+', default=[4, 8, 16], help='inventory sizes')
    parser.add_argument('--play-sizes', type=int, nargs='*', default=[4, 8], help='fleet play sizes (forks = N)')
    parser.add_argument('--guests', type=int, default=5, help='defined guests per hypervisor, for the inventory')
    parser.add_argument('--repeat', type=int, default=3, help='inventory runs of each kind')
    parser.add_argument('--play-repeat', type=int, default=1, help='fleet play runs of each kind')
    parser.add_argument('--workdir', default='/var/tmp/sysvirt-test-bench-fleet')
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    proc = subprocess.run(['bash', FLEET, 'up', str(args.size)], capture_output=True, text=True, check=False)
    try:
        if proc.returncode != 0:
            raise SystemExit('scripts/fleet.sh up %d failed: %s' % (args.size, proc.stderr))
        fleet = Fleet(json.loads(proc.stdout))
        guests(fleet, args.guests, True)
        try:
            result = dict(inventory=bench_inventory(fleet, args, args.workdir),
                          play=bench_play(fleet, args, args.workdir))
        finally:
            guests(fleet, args.guests, False)
        print(json.dumps(result))
    finally:
        subprocess.run(['bash', FLEET, 'down'], check=False)


if __name__ == '__main__':
    main()
