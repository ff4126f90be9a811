# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The per-task cost: N-item loops that define, start, destroy and undefine tiny guests, side by side.

    python bench/loops.py [--uri qemu:///system] [--items 50] [--repeat 3]

For each round, in this order: an N-item ``ansible.builtin.ping`` loop (Ansible's floor), then for each
implementation the four steps as four playbooks (define, start, destroy, undefine; the guests are tiny diskless
``type='qemu'`` domains named sysvirt-test-bench-loop-*, removed again at the end of each round and on every exit):

- ``ours``: sysvirt.libvirt.domain with its action plugin as shipped (local tasks run in the controller's worker);
- ``ours-module``: the same tasks with ``sysvirt_libvirt_in_process: false`` (a module process per item);
- ``peer``: community.libvirt.virt (define / state running / state destroyed / undefine), when bench/run.sh or
  bench/compare.sh has downloaded it;
- ``bulk``: sysvirt.libvirt.bulk, one task for all N guests per step, when plugins/modules/bulk.py exists (the
  module of engineer ``bulk``; this stage runs only when it is there).

Each playbook's wall time and CPU time (ansible-playbook and its children: workers and module processes; not
libvirtd's), medians over the rounds. Ratios only; a benchmark, never an assertion.
"""

from __future__ import annotations

import argparse
import atexit
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PREFIX = 'sysvirt-test-bench-loop-'
STEPS = ('define', 'start', 'destroy', 'undefine')
XML = ("<domain type='qemu'><name>{{ item }}</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
       "<os><type arch='x86_64'>hvm</type></os></domain>")

TASKS = {
    'ours': {
        'define': "sysvirt.libvirt.domain: {uri: '%(uri)s', name: '{{ item }}', xml: \"%(xml)s\"}",
        'start': "sysvirt.libvirt.domain: {uri: '%(uri)s', name: '{{ item }}', state: running}",
        'destroy': "sysvirt.libvirt.domain: {uri: '%(uri)s', name: '{{ item }}', state: destroyed}",
        'undefine': "sysvirt.libvirt.domain: {uri: '%(uri)s', name: '{{ item }}', state: absent}",
    },
    'peer': {
        'define': "community.libvirt.virt: {uri: '%(uri)s', command: define, xml: \"%(xml)s\"}",
        'start': "community.libvirt.virt: {uri: '%(uri)s', name: '{{ item }}', state: running}",
        'destroy': "community.libvirt.virt: {uri: '%(uri)s', name: '{{ item }}', state: destroyed}",
        'undefine': "community.libvirt.virt: {uri: '%(uri)s', name: '{{ item }}', command: undefine}",
    },
}
TASKS['ours-module'] = TASKS['ours']
BULK_STATE = {'define': 'present', 'start': 'running', 'destroy': 'destroyed', 'undefine': 'absent'}


def names(items):
    return ['%s%02d' % (PREFIX, i) for i in range(items)]


def cleanup(uri):
    """Destroy and undefine every sysvirt-test-bench-loop-* domain (libvirt-python, not Ansible)."""
    import libvirt
    conn = libvirt.open(uri)
    try:
        for dom in conn.listAllDomains():
            if dom.name().startswith(PREFIX):
                if dom.isActive():
                    dom.destroy()
                if dom.isPersistent():
                    dom.undefine()
    finally:
        conn.close()


def write_play(tmp, name, task, items, extra_vars=None):
    path = os.path.join(tmp, name + '.yml')
    with open(path, 'w') as handle:
        handle.write('- hosts: localhost\n  gather_facts: false\n')
        if extra_vars:
            handle.write('  vars: {%s}\n' % ', '.join('%s: %s' % kv for kv in extra_vars.items()))
        handle.write('  tasks:\n    - name: %s\n      %s\n' % (name, task))
        if items is not None:
            handle.write('      loop: %s\n' % names(items))
    return path


def timed(play, env):
    """(wall seconds, CPU seconds of the playbook and its children) of one ansible-playbook run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', play], env=env,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit('%s failed:\n%s\n%s' % (play, proc.stdout[-3000:], proc.stderr[-2000:]))
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def plays(args, tmp, impls):
    """{(implementation, step): playbook path}, with ('ping', 'loop') for the floor."""
    found = {('ping', 'loop'): write_play(tmp, 'ping', 'ansible.builtin.ping:', args.items)}
    xml = XML
    for impl in impls:
        for step in STEPS:
            if impl == 'bulk':
                items = ', '.join("{name: '%s'%s}" % (n, ", xml: \"%s\"" % xml.replace('{{ item }}', n)
                                                      if step == 'define' else '') for n in names(args.items))
                task = ("sysvirt.libvirt.bulk: {uri: '%s', domains: [%s], defaults: {domain: {state: %s}}}"
                        % (args.uri, items, BULK_STATE[step]))
                found[(impl, step)] = write_play(tmp, 'bulk-' + step, task, None)
                continue
            task = TASKS[impl][step] % dict(uri=args.uri, xml=xml)
            switch = {'sysvirt_libvirt_in_process': 'false'} if impl == 'ours-module' else None
            found[(impl, step)] = write_play(tmp, '%s-%s' % (impl, step), task, args.items, switch)
    return found


def report(args, impls, wall, cpu):
    med = dict((key, statistics.median(v)) for key, v in wall.items())
    cmed = dict((key, statistics.median(v)) for key, v in cpu.items())
    ping, cping = med[('ping', 'loop')], cmed[('ping', 'loop')]
    lines = ['loops: %d items on %s, medians of %d rounds; per item = (playbook - ping loop) / items'
             % (args.items, args.uri, args.repeat),
             '  %-12s %-9s %9s %9s %14s %14s' % ('', 'step', 'wall s', 'CPU s', 'wall/item ms', 'CPU/item ms'),
             '  %-12s %-9s %9.2f %9.2f %14s %14s' % ('ping', 'loop', ping, cping, '(floor)', '(floor)')]
    for impl in impls:
        for step in STEPS:
            key = (impl, step)
            lines.append('  %-12s %-9s %9.2f %9.2f %14.1f %14.1f' % (
                impl, step, med[key], cmed[key], (med[key] - ping) / args.items * 1000,
                (cmed[key] - cping) / args.items * 1000))
    lines.append('  ratios (wall, whole playbook; CPU in brackets):')
    for other in [i for i in impls if i != 'ours']:
        for step in STEPS:
            ours, theirs = ('ours', step), (other, step)
            lines.append('    %-34s %6.2fx  (%.2fx)' % ('%s / ours, %s:' % (other, step), med[theirs] / med[ours],
                                                        cmed[theirs] / cmed[ours]))
    for step in STEPS:
        lines.append('    %-34s %6.2fx  (%.2fx)' % ('ping loop / ours, %s:' % step, ping / med[('ours', step)],
                                                    cping / cmed[('ours', step)]))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--uri', default='qemu:///system')
    parser.add_argument('--items', type=int, default=50)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--only', help='comma-separated implementations (ours,ours-module,peer,bulk)')
    args = parser.parse_args()
    peer = os.path.isdir(os.path.join(os.environ.get('SYSVIRT_BENCH_DIR', '/tmp/sysvirt-bench'), 'collections',
                                      'ansible_collections', 'community', 'libvirt'))
    impls = ['ours', 'ours-module'] + (['peer'] if peer else []) + \
        (['bulk'] if os.path.exists(os.path.join(REPO, 'plugins', 'modules', 'bulk.py')) else [])
    if args.only:
        impls = [i for i in impls if i in args.only.split(',')]
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default', ANSIBLE_DEPRECATION_WARNINGS='False',
               ANSIBLE_LOCALHOST_WARNING='False', ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    atexit.register(cleanup, args.uri)
    cleanup(args.uri)
    wall, cpu = {}, {}
    with tempfile.TemporaryDirectory(prefix='sysvirt-test-bench-loops-') as tmp:
        found = plays(args, tmp, impls)
        for _round in range(args.repeat):
            order = [('ping', 'loop')] + [(impl, step) for impl in impls for step in STEPS]
            for key in order:
                elapsed, used = timed(found[key], env)
                wall.setdefault(key, []).append(elapsed)
                cpu.setdefault(key, []).append(used)
                print('  round %d %-12s %-9s %6.2f s wall %6.2f s CPU' % (_round + 1, key[0], key[1], elapsed, used),
                      flush=True)
            cleanup(args.uri)
    for line in report(args, impls, wall, cpu):
        print(line, flush=True)


if __name__ == '__main__':
    main()
