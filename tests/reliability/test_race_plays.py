# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two ansible-playbook plays racing on the same guest, and on the same network, on qemu:///system.

Each round starts two ansible-playbook processes at once: one defines the object from XML (the guest with
state running or present, alternating; the network with state present), the other removes it (state absent).
Both first wait at a barrier (a command task that marks itself ready, then polls for a start file every 5 ms);
the test creates the start file when both are ready, so the two module tasks run at the same moment. The end
state carries over from round to round, so rounds start from "absent" and from "present".

After each round: each play either succeeded or failed its racing task with one clean line (no traceback, no
MODULE FAILURE); libvirt, read independently, shows one of the two asked states: no object by that name, or a
persistent one whose stored definition parses and holds what the definer asked (_xml.differences), running if
the definer asked running and won. A play that cannot finish within RUN_TIMEOUT is killed and fails the test.

The network has no <forward>, is never started and uses 198.51.100.0/24 (TEST-NET-2). The guest has no NIC,
no disk and no OS (it halts in SeaBIOS).
"""

from __future__ import annotations

import json
import re
import time

import libvirt
import pytest

from conftest import COLLECTIONS, QEMU_URI
from utils.reliability import finish_playbook, playbook_env, problems_with, start_playbook

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._domain import domain_rules
from ansible_collections.sysvirt.libvirt.plugins.module_utils._network import NETWORK_RULES

ROUNDS = 6
RUN_TIMEOUT = 120
BARRIER = ('import os, sys, time\n'
           'open(sys.argv[1], "w").close()\n'
           'end = time.time() + %d\n'
           'while not os.path.exists(sys.argv[2]):\n'
           '    if time.time() > end:\n'
           '        sys.exit("no start signal")\n'
           '    time.sleep(0.005)\n' % RUN_TIMEOUT)
RESULT = re.compile(r'^(ok|changed|fatal): \[localhost\](?:: FAILED!)? => (\{.*\})\s*$', re.M)


def _guest(name):
    return ("<domain type='qemu'><name>%s</name><memory unit='MiB'>16</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type><bios rebootTimeout='-1'/></os>"
            "<devices><controller type='usb' model='none'/><memballoon model='none'/></devices></domain>" % name)


def _network(name):
    return ("<network><name>%s</name><bridge name='svr%s'/><ip address='198.51.100.1' prefix='24'/></network>"
            % (name, name[-6:]))


def _find(conn, module, name):
    try:
        return conn.lookupByName(name) if module == 'domain' else conn.networkLookupByName(name)
    except libvirt.libvirtError:
        return None


def _play(module, args):
    tasks = [
        {'name': 'barrier', 'ansible.builtin.command': {
            'argv': ['{{ ansible_playbook_python }}', '-c', BARRIER, '{{ ready }}', '{{ go }}']},
         'changed_when': False},
        {'name': 'race', 'sysvirt.libvirt.%s' % module: args},
    ]
    return json.dumps([{'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}])


def _race_result(output):
    """The racing task's result dict, parsed from the -v output of the default callback (which leaves out
    'failed': a failure is the 'fatal:' line)."""
    section = output.split('TASK [race]', 1)[-1]
    match = RESULT.search(section)
    assert match, 'no result line for the racing task in:\n%s' % output[-3000:]
    result = json.loads(match.group(2))
    result['failed'] = match.group(1) == 'fatal'
    return result


def _one_round(tmp_path, number, plays, env):
    """Start both plays, release them together; [(returncode, output, result)] in the order of ``plays``."""
    go = tmp_path / ('go-%d' % number)
    procs = []
    for role, play in plays:
        path = tmp_path / ('%s-%d.yml' % (role, number))
        path.write_text(play)
        ready = tmp_path / ('ready-%s-%d' % (role, number))
        log = tmp_path / ('%s-%d.log' % (role, number))
        procs.append((start_playbook(['-v', '-i', 'localhost,', '-e', 'ready=%s go=%s' % (ready, go), str(path)],
                                     env, str(log)), ready, log))
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        while not all(ready.exists() for _p, ready, _l in procs):
            assert time.monotonic() < deadline, 'round %d: the plays did not reach the barrier' % number
            assert all(p.poll() is None for p, _r, _l in procs), 'round %d: a play ended before the barrier:\n%s' % (
                number, '\n'.join(log.read_text()[-2000:] for _p, _r, log in procs))
            time.sleep(0.01)
    finally:
        go.write_text('')
    outcomes = []
    for proc, _ready, log in procs:
        returncode, output = finish_playbook(proc, str(log), max(1, deadline - time.monotonic()))
        assert returncode is not None, 'round %d: a play did not finish in %ds:\n%s' % (
            number, RUN_TIMEOUT, output[-3000:])
        outcomes.append((returncode, output, _race_result(output)))
    return outcomes


def _summary(result):
    if result.get('failed'):
        return 'FAILED: %s' % result['msg']
    return 'changed' if result.get('changed') else 'ok'


@pytest.mark.parametrize('module', ['domain', 'network'])
def test_two_plays_define_and_remove(module, qemu_conn, owned_prefix, tmp_path):
    name = owned_prefix('race') + '-' + module[:3]
    make_xml = _guest if module == 'domain' else _network
    env = playbook_env(COLLECTIONS, ANSIBLE_PIPELINING='1', ANSIBLE_CALLBACK_FORMAT_PRETTY='0')
    remover = dict(uri=QEMU_URI, name=name, state='absent')
    seen = []
    for number in range(1, ROUNDS + 1):
        state = 'running' if module == 'domain' and number % 2 else 'present'
        definer = dict(uri=QEMU_URI, xml=make_xml(name), state=state)
        before = 'present' if _find(qemu_conn, module, name) is not None else 'absent'
        outcomes = _one_round(tmp_path, number, [('define', _play(module, definer)),
                                                 ('remove', _play(module, remover))], env)
        try:
            _check_round(qemu_conn, module, name, state, outcomes, (definer, remover))
        except AssertionError as e:
            raise AssertionError('round %d: %s\nrounds before: %s\nthis round (define %s from %s):\n%s' % (
                number, e, '; '.join(seen), state, before,
                '\n'.join(o[1].split('TASK [race]', 1)[-1][:1500] for o in outcomes))) from None
        obj = _find(qemu_conn, module, name)
        after = 'absent' if obj is None else 'present'
        seen.append('%s->%s (define %s: %s; remove: %s)' % (
            before, after, state, _summary(outcomes[0][2]), _summary(outcomes[1][2])))
    print('%s race rounds: %s' % (module, '; '.join(seen)))


def _check_round(conn, module, name, state, outcomes, asked):
    """Each play succeeded or failed cleanly; the object is absent or exactly what the definer asked."""
    rules = domain_rules(conn) if module == 'domain' else NETWORK_RULES
    for (returncode, output, result), args in zip(outcomes, asked):
        assert 'Traceback' not in output and 'MODULE FAILURE' not in output, output[-3000:]
        assert returncode == (2 if result.get('failed') else 0), (returncode, output[-3000:])
        assert not problems_with(result, args, module), (problems_with(result, args, module), result)
    obj = _find(conn, module, name)
    definer_won = not outcomes[0][2].get('failed')
    if obj is not None:
        assert obj.isPersistent(), '%s %s is left transient' % (module, name)
        stored = obj.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE if module == 'domain' else
                             libvirt.VIR_NETWORK_XML_INACTIVE)
        diffs = _xml.differences(asked[0]['xml'], _xml.parse(stored, 'stored XML'), rules)
        assert not diffs, 'the stored definition is not what the definer asked: %s' % diffs
        if module == 'network':
            assert not obj.isActive(), 'the network was started'
        elif state == 'running' and definer_won and not outcomes[1][2].get('changed'):
            assert obj.state()[0] == libvirt.VIR_DOMAIN_RUNNING, (
                'the definer asked running and won, the guest is %s' % (obj.state(),))
