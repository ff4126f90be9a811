# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: one sysvirt.libvirt.bulk task against the same work as a loop of sysvirt.libvirt.domain.

    python bench/bulk.py [--uri qemu:///system] [--count 50] [--workers 8] [--loop-way worker|process|both]

Two playbooks, run one after the other on the same daemon, each with four steps over ``--count`` tiny no-OS TCG
guests (type='qemu', 32 MiB, no disk, no NIC; named sysvirt-test-benchbulk-*): define, start (state running),
destroy (state destroyed), undefine (state absent). One playbook loops the domain module over the guests (one task
per step, ``loop:``), the other runs one bulk task per step. Each step's wall time is taken inside the playbook
(``now()`` before and after the task), so ansible-playbook's start-up is in neither. The loop playbook also
loops ansible.builtin.ping over as many items: Ansible's own floor per loop item. ``--loop-way`` says how the loop's
domain tasks run: in Ansible's worker (``worker``, the default for a local task since the in-process action
plugins), as a module process each (``process``: ``sysvirt_libvirt_in_process=false``, what a remote connection,
become or async get), or ``both``, one loop playbook after the other.

Prints the load average, one line per step, ``<step> loop <s> bulk <s> ratio <loop/bulk>x``, the total, and each
playbook's CPU time (user + system of ansible-playbook and every process it started, module processes included;
libvirtd's and QEMU's own time is in neither). ``main()`` returns the ratios as a dict ({'define': 24.1, ...,
'total': 11.2}; with ``--loop-way both``, one such dict per way) for bench/run.sh or another caller. Every guest is
removed at the end, also on failure or Ctrl-C. A benchmark, never an assertion.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

import libvirt

PREFIX = 'sysvirt-test-benchbulk-'
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = ('define', 'start', 'destroy', 'undefine')
STATES = dict(start='running', destroy='destroyed', undefine='absent')

TINY = ("<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
        "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator><memballoon model='none'/></devices></domain>")


def names(side, count):
    """The guests of one side, named after this process so two runs never share one."""
    return ['%s%d-%s-%02d' % (PREFIX, os.getpid(), side, i) for i in range(count)]


def _timed(name, task):
    """A step: the time before, the task, the time after."""
    def stamp(when):
        key = 't_%s_%s' % (name, when)
        return {'name': key, 'ansible.builtin.set_fact': {key: '{{ now().timestamp() }}'}}
    return [stamp('start'), dict(task, name=name), stamp('end')]


def _report(steps):
    expr = '{' + ', '.join("'%s': (t_%s_end | float) - (t_%s_start | float)" % (s, s, s) for s in steps) + '}'
    return dict(name='report', **{'ansible.builtin.debug': dict(msg='BENCH {{ %s | to_json }}' % expr)})


def loop_play(uri, count):
    guests = names('loop', count)
    tasks = _timed('ping', {'ansible.builtin.ping': None, 'loop': guests})
    tasks += _timed('define', {'sysvirt.libvirt.domain': dict(uri=uri, xml="{{ xml_of[item] }}"), 'loop': guests})
    for step in STEPS[1:]:
        tasks += _timed(step, {'sysvirt.libvirt.domain': dict(uri=uri, name='{{ item }}', state=STATES[step]),
                               'loop': guests})
    tasks.append(_report(('ping',) + STEPS))
    return [dict(hosts='localhost', gather_facts=False, vars=dict(xml_of={n: TINY.format(name=n) for n in guests}),
                 tasks=tasks)]


def bulk_play(uri, count, workers):
    guests = names('bulk', count)
    tasks = _timed('define', {'sysvirt.libvirt.bulk': dict(uri=uri, workers=workers,
                                                           domains=[dict(xml=TINY.format(name=n)) for n in guests])})
    for step in STEPS[1:]:
        tasks += _timed(step, {'sysvirt.libvirt.bulk': dict(uri=uri, workers=workers, domains=guests,
                                                            defaults=dict(domain=dict(state=STATES[step])))})
    tasks.append(_report(STEPS))
    return [dict(hosts='localhost', gather_facts=False, tasks=tasks)]


def play(playbook, extra_vars=()):
    """Run a playbook; the step times it reports, with its CPU time (user + system of its process tree) as 'cpu'."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default', ANSIBLE_LOCALHOST_WARNING='False',
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='False')
    env.setdefault('ANSIBLE_COLLECTIONS_PATH', os.path.join(REPO, '.build', 'collections'))
    with tempfile.NamedTemporaryFile('w', suffix='.yml', prefix=PREFIX, delete=False) as handle:
        json.dump(playbook, handle)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', handle.name]
                              + ['-e%s' % var for var in extra_vars], env=env, capture_output=True, text=True,
                              check=False)
    finally:
        os.unlink(handle.name)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    for line in proc.stdout.splitlines():
        if '"msg": "BENCH ' in line:
            return dict(json.loads(json.loads('{%s}' % line.strip())['msg'][len('BENCH '):]), cpu=cpu)
    raise RuntimeError('the playbook failed (rc %d):\n%s\n%s' % (proc.returncode, proc.stdout[-3000:],
                                                                 proc.stderr[-2000:]))


def cleanup(uri):
    """Remove every guest this run names (running or not)."""
    conn = libvirt.open(uri)
    try:
        for dom in conn.listAllDomains():
            if not dom.name().startswith('%s%d-' % (PREFIX, os.getpid())):
                continue
            try:
                if dom.isActive():
                    dom.destroy()
                if dom.isPersistent():
                    dom.undefine()
            except libvirt.libvirtError:
                pass  # gone meanwhile
    finally:
        conn.close()


LOOP_WAYS = dict(worker=(), process=('sysvirt_libvirt_in_process=false',))


def report(loop, bulk, count):
    """Print one line per step and the total for one loop against the bulk playbook; the ratios."""
    print('ping loop (Ansible floor): %.2f s, %.0f ms per item' % (loop['ping'], 1000 * loop['ping'] / count))
    ratios = {}
    for step in STEPS + ('total',):
        mine = sum(loop[s] for s in STEPS) if step == 'total' else loop[step]
        theirs = sum(bulk[s] for s in STEPS) if step == 'total' else bulk[step]
        ratios[step] = round(mine / theirs, 1)
        print('%-9s loop %7.2f s  bulk %6.2f s  ratio %5.1fx' % (step, mine, theirs, ratios[step]))
    print('CPU of the playbook (ansible-playbook and its processes): loop %.1f s (of which the ping loop is part), '
          'bulk %.1f s' % (loop['cpu'], bulk['cpu']))
    return ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--uri', default='qemu:///system')
    parser.add_argument('--count', type=int, default=50)
    parser.add_argument('--workers', type=int, default=8)
    parser.add_argument('--loop-way', choices=('worker', 'process', 'both'), default='worker')
    args = parser.parse_args(argv)
    ways = ('worker', 'process') if args.loop_way == 'both' else (args.loop_way,)
    cleanup(args.uri)
    loads = [os.getloadavg()]
    try:
        loops = {}
        for way in ways:
            loops[way] = play(loop_play(args.uri, args.count), LOOP_WAYS[way])
            loads.append(os.getloadavg())
        bulk = play(bulk_play(args.uri, args.count, args.workers))
        loads.append(os.getloadavg())
    finally:
        cleanup(args.uri)
    print('# bench/bulk.py --uri %s --count %d --workers %d: seconds per step, a loop of sysvirt.libvirt.domain '
          'against one sysvirt.libvirt.bulk task' % (args.uri, args.count, args.workers))
    print('load average (1 min) before and after each playbook: %s' % ' '.join('%.1f' % load[0] for load in loads))
    ratios = {}
    for way in ways:
        print('## the loop as %s' % ('module processes' if way == 'process' else "tasks in Ansible's worker"))
        ratios[way] = report(loops[way], bulk, args.count)
    return ratios[ways[0]] if len(ways) == 1 else ratios


if __name__ == '__main__':
    main(sys.argv[1:])
