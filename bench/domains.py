#!/usr/bin/env python3
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
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit('command failed (%s): %s\n%s\n%s' % (proc.returncode, ' '.join(cmd), proc.stdout[-3000:],
                                                             proc.stderr[-3000:]))
    return elapsed, proc.stdout


def interleaved(cmds, env, repeat):
    """Run the commands round after round (A B C, A B C, ...) so load changes hit all alike; medians."""
    times = dict((name, []) for name in cmds)
    outs = {}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            elapsed, outs[name] = wall(cmd, env)
            times[name].append(elapsed)
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
    medians, _ = interleaved(dict(floor=base + [floor_pb], ours=base + [ours_pb], virt=base + [virt_pb]), env,
                             args.repeat)
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
        loop, _ = wall(base + [loop_pb], env)
        lines += [
            '  virt list_vms + info + get_xml per guest (1 run):   %7.2f s' % loop,
            '  ratio virt-with-xml / domain_info, wall:            %7.1fx' % (loop / ours),
        ]
    return lines


def bare_fetch(uri):
    """What the inventory needs, with libvirt-python alone: listing, bulk stats, every domain's XML."""
    conn = libvirt.openReadOnly(uri)
    try:
        start = time.monotonic()
        doms = conn.listAllDomains(0)
        stats = conn.domainListGetStats(doms, 0x1 | 0x2 | 0x4 | 0x8, 0)
        xmls = [d.XMLDesc(0) for d in doms]
        elapsed = time.monotonic() - start
    finally:
        conn.close()
    return elapsed, len(doms), len(stats), len(xmls)


def bench_inventory(args, env, tmp):
    uri = args.uri
    empty = os.path.join(tmp, 'empty.libvirt.yml')
    ours = os.path.join(tmp, 'ours.libvirt.yml')
    theirs = os.path.join(tmp, 'theirs.libvirt.yml')
    with open(empty, 'w') as handle:
        handle.write('plugin: sysvirt.libvirt.libvirt\nuris: []\n')
    with open(ours, 'w') as handle:
        handle.write('plugin: sysvirt.libvirt.libvirt\nuris: [%s]\nnames: [\'%s*\']\n' % (uri, PREFIX))
    with open(theirs, 'w') as handle:
        handle.write('plugin: community.libvirt.libvirt\nuri: %s\n' % uri)
    cmd = ['ansible-inventory', '--list', '-i']
    medians, outs = interleaved(dict(floor=cmd + [empty], mine=cmd + [ours], cl=cmd + [theirs]), env, args.repeat)
    floor, mine, cl = medians['floor'], medians['mine'], medians['cl']
    if outs['mine'].count('"libvirt_uuid"') != args.count:
        raise SystemExit('our inventory listed %d guests, not %d' % (outs['mine'].count('"libvirt_uuid"'), args.count))
    if outs['cl'].count(PREFIX) < args.count:
        raise SystemExit('community.libvirt inventory listed fewer than %d bench guests' % args.count)
    bare = statistics.median(bare_fetch(uri)[0] for _ in range(args.repeat))
    mine_own = max(mine - floor, 1e-3)
    cl_own = cl - floor
    return [
        'inventory benchmark: %d defined domains on %s, median of %d runs' % (args.count, uri, args.repeat),
        '  ansible-inventory --list, empty source (floor):     %7.2f s' % floor,
        '  sysvirt.libvirt.libvirt:                            %7.2f s  (%.2f s above floor)' % (mine, mine_own),
        '  community.libvirt.libvirt:                          %7.2f s  (%.2f s above floor)' % (cl, cl_own),
        '  bare libvirt-python (list + bulk stats + XMLs):     %7.2f s  (in-process)' % bare,
        '  ratio community.libvirt / ours, above floor:        %7.1fx  (issue 7 asks >= 5x)' % (cl_own / mine_own),
        '  ratio ours above floor / bare script:               %7.2fx  (issue 7 asks <= 1.5x)' % (mine_own / bare),
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
