# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: sysvirt.libvirt.domain_info and the sysvirt.libvirt.libvirt inventory against community.libvirt.

Defines N tiny diskless type='qemu' domains named sysvirt-test-bench-* (never started), measures in the same
run, and always undefines them afterwards (also on failure or Ctrl-C). Not a test: it prints numbers.

  domain_info:  `ansible-playbook` running sysvirt.libvirt.domain_info once, against community.libvirt.virt
                `command: list_vms` + `command: info` (one task each; virt's info covers every guest at once),
                and optionally (--virt-xml-loop) virt `command: get_xml` per guest, which is what it takes to
                get disks and interfaces out of virt. Each playbook's wall time, minus a one-task `ping`
                playbook (the Ansible floor), median of --repeat runs.
  inventory:    `ansible-inventory --list` wall time minus the same command on an empty source (a config with
                no URIs), for our plugin and community.libvirt's plugin, and a bare libvirt-python fetch of the
                same data (listing, bulk stats, XML of every domain) timed in-process.

Run through bench/run.sh, which provides community.libvirt from the PyPI `ansible` package.
"""

from __future__ import annotations

import argparse
import atexit
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import libvirt

PREFIX = 'sysvirt-test-bench-'
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TINY = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><interface type='network'><mac address='52:54:00:{m1:02x}:{m2:02x}:{m3:02x}'/>
    <source network='sysvirt-test-bench-none'/><model type='virtio'/></interface></devices>
</domain>"""


def log(msg):
    print(msg, flush=True)


class Domains:
    """The benchmark's domains: defined on enter, undefined on every exit path."""

    def __init__(self, uri, count):
        self.uri = uri
        self.count = count
        self.conn = None

    def cleanup(self):
        if self.conn is None:
            return
        removed = 0
        for dom in self.conn.listAllDomains(0):
            if dom.name().startswith(PREFIX):
                try:
                    if dom.isActive():
                        dom.destroy()
                    dom.undefineFlags(getattr(libvirt, 'VIR_DOMAIN_UNDEFINE_KEEP_NVRAM', 0))
                    removed += 1
                except libvirt.libvirtError as e:
                    log('cleanup: could not remove %s: %s' % (dom.name(), e))
        if removed:
            log('cleanup: undefined %d %s* domains' % (removed, PREFIX))

    def __enter__(self):
        libvirt.registerErrorHandler(lambda ctx, err: None, None)
        self.conn = libvirt.open(self.uri)
        atexit.register(self.cleanup)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        self.cleanup()  # leftovers of an interrupted earlier run
        start = time.monotonic()
        for i in range(self.count):
            self.conn.defineXML(TINY.format(name='%s%04d' % (PREFIX, i), m1=i >> 16 & 0xff, m2=i >> 8 & 0xff,
                                            m3=i & 0xff))
        log('defined %d domains on %s in %.1f s' % (self.count, self.uri, time.monotonic() - start))
        return self

    def _on_signal(self, signum, frame):
        self.cleanup()
        sys.exit(128 + signum)

    def __exit__(self, *exc):
        self.cleanup()
        self.conn.close()
        self.conn = None
        return False


def wall(cmd, env):
    """Run cmd: (wall seconds, stdout); the command's CPU time (user + system) is kept in wall.cpu."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit('command failed (%s): %s\n%s\n%s'
                         % (proc.returncode, ' '.join(cmd), proc.stdout[-3000:], proc.stderr[-3000:]))
    return elapsed, proc.stdout


def interleaved(cmds, env, repeat, cpu=None, rounds=None):
    """Run the commands round after round (A B C, A B C, ...) so load changes hit all alike; medians.

    With a ``cpu`` dict, the median CPU time of each command goes there too (less sensitive to other load); with a
    ``rounds`` dict, every round's wall times (name -> list, in round order)."""
    times = dict((name, []) for name in cmds)
    cpus = dict((name, []) for name in cmds)
    outs = {}
    for dummy in range(repeat):
        for name, cmd in cmds.items():
            elapsed, outs[name] = wall(cmd, env)
            times[name].append(elapsed)
            cpus[name].append(wall.cpu)
    if cpu is not None:
        cpu.update((name, statistics.median(values)) for name, values in cpus.items())
    if rounds is not None:
        rounds.update(times)
    return dict((name, statistics.median(values)) for name, values in times.items()), outs


def playbook(tmp, name, tasks):
    path = os.path.join(tmp, name + '.yml')
    with open(path, 'w') as handle:
        handle.write('- hosts: localhost\n  gather_facts: false\n  tasks:\n')
        for task in tasks:
            handle.write('    - ' + task.strip().replace('\n', '\n      ') + '\n')
    return path


def bench_domain_info(args, env, tmp):
    uri = args.uri
    floor_pb = playbook(tmp, 'floor', ['ansible.builtin.ping:'])
    ours_pb = playbook(tmp, 'ours', ['''sysvirt.libvirt.domain_info:
  uri: %s
  name: ['%s*']
register: r''' % (uri, PREFIX), '''ansible.builtin.assert:
  that: r.domains | length == %d''' % args.count])
    virt_pb = playbook(tmp, 'virt', ['''community.libvirt.virt:
  uri: %s
  command: list_vms
register: l''' % uri, '''community.libvirt.virt:
  uri: %s
  command: info
register: i''' % uri, '''ansible.builtin.assert:
  that: l.list_vms | select('match', '%s') | list | length == %d''' % (PREFIX, args.count)])
    base = ['ansible-playbook', '-i', 'localhost,', '-c', 'local',
            '-e', 'ansible_python_interpreter=%s' % sys.executable]
    medians, dummy = interleaved(dict(floor=base + [floor_pb], ours=base + [ours_pb], virt=base + [virt_pb]),
                                 env, args.repeat)
    floor, ours, virt = medians['floor'], medians['ours'], medians['virt']
    lines = [
        'domain_info benchmark: %d defined domains on %s, median of %d runs' % (args.count, uri, args.repeat),
        '  ansible floor (one ping task):                      %7.2f s' % floor,
        '  sysvirt.libvirt.domain_info (all data, 1 task):     %7.2f s  (%.2f s above floor)' % (ours, ours - floor),
        '  community.libvirt.virt list_vms + info (2 tasks):   %7.2f s  (%.2f s above floor)' % (virt, virt - floor),
        '  ratio virt / domain_info, wall:                     %7.1fx' % (virt / ours),
        '  ratio virt / domain_info, above floor:              %s' % (
            '%7.1fx' % ((virt - floor) / (ours - floor)) if ours - floor > 0.05 else
            '   n/a (domain_info within 0.05 s of the floor)'),
    ]
    if args.virt_xml_loop:
        loop_pb = playbook(tmp, 'virtloop', ['''community.libvirt.virt:
  uri: %s
  command: list_vms
register: l''' % uri, '''community.libvirt.virt:
  uri: %s
  command: info
register: i''' % uri, '''community.libvirt.virt:
  uri: %s
  command: get_xml
  name: "{{ item }}"
loop: "{{ l.list_vms | select('match', '%s') | list }}"
register: x''' % (uri, PREFIX)])
        loop, dummy = wall(base + [loop_pb], env)
        lines += [
            '  virt list_vms + info + get_xml per guest (1 run):   %7.2f s' % loop,
            '  ratio virt-with-xml / domain_info, wall:            %7.1fx' % (loop / ours),
        ]
    return lines


def bare_fetch(uri, xml=True):
    """What the inventory fetches, with libvirt-python alone, timed like our fetch step (open to close): the
    hypervisor's details (capabilities, host name, node info, versions), every domain with its bulk statistics
    (one getAllDomainStats), the transient and autostart listings and, with ``xml``, every domain's XML (read one
    after another and not parsed, as a simple script would)."""
    start = time.monotonic()
    conn = libvirt.openReadOnly(uri)
    try:
        conn.getCapabilities()
        conn.getHostname()
        conn.getInfo()
        conn.getLibVersion()
        conn.getVersion()
        doms = [dom for dom, stats in conn.getAllDomainStats(0x1 | 0x2 | 0x4 | 0x8, 0)]
        conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)
        conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)
        if xml:
            [d.XMLDesc(0) for d in doms]
    finally:
        conn.close()
    return time.monotonic() - start


def plugin_fetch(uri, definition):
    """Our plugin's fetch step alone (fetch_one: connection, hypervisor data, domains), in-process."""
    sys.path.insert(0, os.path.join(REPO, '.build', 'collections'))
    from ansible_collections.sysvirt.libvirt.plugins.inventory.libvirt import fetch_one
    start = time.monotonic()
    result = fetch_one(uri, names=[PREFIX + '*'], definition=definition)
    elapsed = time.monotonic() - start
    if result['error']:
        raise SystemExit('fetch failed: %s' % result['error'])
    return elapsed


def bench_inventory(args, env, tmp):
    """ansible-inventory --list above the empty-source floor: ours (defaults, and every var + network groups),
    community.libvirt, and the floors: the same host names as a host list (no vars, no groups), and each
    plugin's exact output replayed through the same inventory calls with no libvirt (bench_replay)."""
    uri = args.uri
    env = dict(env, ANSIBLE_INVENTORY_PLUGINS=os.path.join(REPO, 'bench', 'inventory_plugins'))
    configs = dict(
        floor='plugin: sysvirt.libvirt.libvirt\nuris: []\n',
        ours="plugin: sysvirt.libvirt.libvirt\nuris: [%s]\nnames: ['%s*']\n" % (uri, PREFIX),
        ours_all="plugin: sysvirt.libvirt.libvirt\nuris: [%s]\nnames: ['%s*']\nhost_vars: [all]\n"
                 "group_by: [state, hypervisor, network]\n" % (uri, PREFIX),
    )
    paths = {}
    for name, text in configs.items():
        paths[name] = os.path.join(tmp, name + '.libvirt.yml')
        with open(paths[name], 'w') as handle:
            handle.write(text)
    paths['cl'] = os.path.join(tmp, 'theirs.libvirt.yml')
    with open(paths['cl'], 'w') as handle:
        handle.write('plugin: community.libvirt.libvirt\nuri: %s\n' % uri)
    cmd = ['ansible-inventory', '--list', '-i']
    # One run of each plugin to save its output for the replays (and to check it).
    outs = {}
    for name in ('ours', 'ours_all', 'cl'):
        outs[name] = wall(cmd + [paths[name]], env)[1]
        with open(os.path.join(tmp, name + '.json'), 'w') as handle:
            handle.write(outs[name])
        paths['replay_' + name] = os.path.join(tmp, name + '.replay.yml')
        with open(paths['replay_' + name], 'w') as handle:
            handle.write('plugin: bench_replay\ndata: %s\n' % os.path.join(tmp, name + '.json'))
    for name in ('ours', 'ours_all'):
        if outs[name].count('"libvirt_uuid"') != args.count:
            raise SystemExit('our inventory (%s) listed %d guests, not %d'
                             % (name, outs[name].count('"libvirt_uuid"'), args.count))
    if outs['cl'].count(PREFIX) < args.count:
        raise SystemExit('community.libvirt inventory listed fewer than %d bench guests' % args.count)
    hostlist = ','.join('%s%04d' % (PREFIX, i) for i in range(args.count)) + ','
    order = ['floor', 'hostlist', 'ours', 'ours_all', 'cl', 'replay_ours', 'replay_ours_all', 'replay_cl']
    cmds = dict((name, cmd + [hostlist if name == 'hostlist' else paths[name]]) for name in order)
    cpu = {}
    rounds = {}
    medians, dummy = interleaved(cmds, env, args.repeat, cpu, rounds)
    floor = medians['floor']
    # The ratio within each round (each against that round's own floor): how the verdict spreads with the load.
    per_round = sorted((c - f) / max(o - f, 1e-3) for f, o, c in zip(rounds['floor'], rounds['ours'], rounds['cl']))
    cpu_own = dict((name, max(cpu[name] - cpu['floor'], 1e-3)) for name in order)
    own = dict((name, max(medians[name] - floor, 1e-3)) for name in order)
    bare = statistics.median(bare_fetch(uri, xml=False) for dummy in range(args.repeat))
    bare_xml = statistics.median(bare_fetch(uri, xml=True) for dummy in range(args.repeat))
    fetch = statistics.median(plugin_fetch(uri, 'none') for dummy in range(args.repeat))
    fetch_xml = statistics.median(plugin_fetch(uri, 'all') for dummy in range(args.repeat))
    row = '  %-58s %6.2f s  (%.2f s above floor)'
    return [
        'inventory benchmark: %d defined domains on %s, median of %d interleaved runs'
        % (args.count, uri, args.repeat),
        '  %-58s %6.2f s' % ('ansible-inventory --list, empty source (floor):', floor),
        row % ('sysvirt.libvirt.libvirt, defaults (no XML read):', medians['ours'], own['ours']),
        row % ('sysvirt.libvirt.libvirt, host_vars [all] + network groups:', medians['ours_all'], own['ours_all']),
        row % ('community.libvirt.libvirt:', medians['cl'], own['cl']),
        '  ansible-core alone (same inventory, no libvirt at all):',
        row % ('the %d host names as a host list (no vars, no groups):' % args.count, medians['hostlist'],
               own['hostlist']),
        row % ('replay of our output, defaults:', medians['replay_ours'], own['replay_ours']),
        row % ('replay of our output, [all] + network:', medians['replay_ours_all'], own['replay_ours_all']),
        row % ('replay of community.libvirt\'s output:', medians['replay_cl'], own['replay_cl']),
        '  CPU time of ansible-inventory itself above the floor (%.2f s), medians (libvirtd\'s work not counted):'
        % cpu['floor'],
        '    ' + ', '.join('%s %.2f s' % (name, cpu_own[name]) for name in order[1:]),
        '  libvirt fetch, in-process:',
        '  %-58s %6.3f s' % ('bare libvirt-python, host details + all stats + 2 listings:', bare),
        '  %-58s %6.3f s' % ('bare libvirt-python, same + every XML (serial, unparsed):', bare_xml),
        '  %-58s %6.3f s' % ('our fetch step, defaults (no XML):', fetch),
        '  %-58s %6.3f s' % ('our fetch step, every XML (4 threads, parsed):', fetch_xml),
        '  ratios (issue 7: community / ours >= 5x, ours / bare <= 1.5x):',
        '  %-58s %6.1fx' % ('community / ours above floor, defaults:', own['cl'] / own['ours']),
        '  %-58s %s' % ('  the same within each round, defaults (sorted):', ' '.join('%.1fx' % r for r in per_round)),
        '  %-58s %d of %d' % ('  rounds at 5x or more:', sum(1 for r in per_round if r >= 5), len(per_round)),
        '  %-58s %6.1fx' % ('community / ours above floor, [all] + network:', own['cl'] / own['ours_all']),
        '  %-58s %6.2fx' % ('ours above floor / bare script, defaults:', own['ours'] / bare),
        '  %-58s %6.2fx' % ('ours above floor / bare script, [all] + network:', own['ours_all'] / bare_xml),
        '  %-58s %6.2fx' % ('our fetch step / bare script, defaults:', fetch / bare),
        '  %-58s %6.2fx' % ('our fetch step / bare script, every XML:', fetch_xml / bare_xml),
        '  %-58s %6.2f s' % ('ours above its replay (plugin work beyond ansible-core), defaults:',
                             own['ours'] - own['replay_ours']),
        '  %-58s %6.2f s' % ('community above its replay:', own['cl'] - own['replay_cl']),
        '  %-58s %6.1fx' % ('community above floor / its own replay above floor:', own['cl'] / own['replay_cl']),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--uri', default='qemu:///system')
    parser.add_argument('--count', type=int, default=1000)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--what', choices=['all', 'domain_info', 'inventory'], default='all')
    parser.add_argument('--virt-xml-loop', action='store_true',
                        help='also time virt get_xml for every guest (slow: one module run per guest)')
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault('ANSIBLE_HOST_KEY_CHECKING', 'False')
    env['ANSIBLE_STDOUT_CALLBACK'] = 'ansible.builtin.default'
    env['ANSIBLE_DEPRECATION_WARNINGS'] = 'False'
    lines = []
    with tempfile.TemporaryDirectory(prefix='sysvirt-bench-') as tmp, Domains(args.uri, args.count):
        if args.what in ('all', 'domain_info'):
            lines += bench_domain_info(args, env, tmp)
        if args.what in ('all', 'inventory'):
            lines += bench_inventory(args, env, tmp)
    for line in lines:
        log(line)


if __name__ == '__main__':
    main()
