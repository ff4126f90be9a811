# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two runs racing on the same guest or network on qemu:///system, one defining, one removing.

Each round starts both at once (two processes, a barrier). Every run ends in success or a clean one-line
failure (the loser); at the end the object is either absent or present with exactly the wanted
definition (a check-mode run of the definition predicts no change) — never a corrupt definition. Nothing
is started: the network has no <forward> and uses 198.51.100.0/24, the guest is defined only.
"""

from __future__ import annotations

import multiprocessing

import libvirt
import pytest

from conftest import QEMU_URI, run_module, unique_name
from utils.reliability import problems_with

ROUNDS = 8


def _guest(name):
    return ("<domain type='qemu'><name>%s</name><memory unit='MiB'>32</memory><os><type arch='x86_64'>hvm</type>"
            "</os><devices><controller type='usb' model='none'/><memballoon model='none'/></devices></domain>" % name)


def _network(name):
    return ("<network><name>%s</name><bridge name='sv%s'/><ip address='198.51.100.1' prefix='24'/></network>"
            % (name, name[-8:]))


KINDS = {
    'domain': (_guest, lambda conn, n: conn.lookupByName(n)),
    'network': (_network, lambda conn, n: conn.networkLookupByName(n)),
}


def _worker(module, args, barrier, queue):
    results = []
    for _round in range(ROUNDS):
        barrier.wait(60)
        results.append(dict(run_module(module, args)))
        barrier.wait(60)
    queue.put(results)


@pytest.mark.parametrize('module', sorted(KINDS))
def test_define_and_remove_race(module, qemu_conn):
    name = unique_name('race')
    make_xml, lookup = KINDS[module]
    present = dict(uri=QEMU_URI, xml=make_xml(name))
    absent = dict(uri=QEMU_URI, name=name, state='absent')
    ctx = multiprocessing.get_context('fork')
    barrier = ctx.Barrier(2)
    queues = [ctx.Queue(), ctx.Queue()]
    procs = [ctx.Process(target=_worker, args=(module, args, barrier, q))
             for args, q in ((present, queues[0]), (absent, queues[1]))]
    try:
        for p in procs:
            p.start()
        definers, removers = [q.get(timeout=300) for q in queues]
        for p in procs:
            p.join(30)
        outcomes = []
        for result, args in [(r, present) for r in definers] + [(r, absent) for r in removers]:
            assert not problems_with(result, args, module), result
            outcomes.append('failed' if result.get('failed') else 'ok')
        # the final state is one of the two, and a present definition is exactly the wanted one
        try:
            lookup(qemu_conn, name)
            exists = True
        except libvirt.libvirtError:
            exists = False
        if exists:
            check = run_module(module, present, check_mode=True)
            assert not check.get('failed') and check['changed'] is False, check
        print('%s race: definer %s, remover %s, final %s' % (
            module, [('F' if r.get('failed') else 'ok') for r in definers],
            [('F' if r.get('failed') else 'ok') for r in removers], 'present' if exists else 'absent'))
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        run_module(module, absent)
