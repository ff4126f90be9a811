# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_checkpoint / domain_checkpoint_info on qemu:///system with the running tiny guest and two qcow2 disks.

Four runs for each behaviour; the result is checked with virsh (checkpoint-list, checkpoint-parent,
checkpoint-dumpxml) and with qemu-img (the bitmaps in the images), never only with the module's own answer.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import QEMU_URI, run_module
from day2_guest import guest_with_disks


def virsh(*args):
    return subprocess.run(['virsh', '-c', QEMU_URI] + list(args), check=True, capture_output=True,
                          text=True).stdout.strip()


def cp(guest_name, check=False, **args):
    return run_module('domain_checkpoint', dict(args, domain=guest_name, uri=QEMU_URI), check_mode=check, diff=True)


def four_runs(guest_name, **args):
    results = [cp(guest_name, check=c, **args) for c in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions']
    return results


def names(guest_name):
    return sorted(virsh('checkpoint-list', guest_name, '--name').split())


def bitmaps(guest_name, path):
    """The dirty bitmaps QEMU holds for the image at ``path`` (a running guest keeps them in memory; they reach
    the file when it stops)."""
    out = virsh('qemu-monitor-command', guest_name, '{"execute": "query-named-block-nodes", "arguments": {"flat": true}}')
    found = set()
    for node in json.loads(out)['return']:
        if node.get('file') == path and node.get('drv') == 'qcow2':
            found.update(b['name'] for b in node.get('dirty-bitmaps', []))
    return sorted(found)


@pytest.fixture(scope='module')
def guest(qemu_conn):
    with guest_with_disks(qemu_conn, disks=(('vda', 'qcow2', '16M'), ('vdb', 'qcow2', '16M')),
                          kind='cpguest') as (name, dom, workdir, paths):
        yield name, dom, paths


@pytest.fixture
def clean(guest):
    yield guest
    while guest[1].listAllCheckpoints(0):
        for c in guest[1].listAllCheckpoints(0):
            if not c.listAllChildren(0):
                c.delete(0)


def test_create_for_chosen_disks_then_chain(clean):
    name, dom, paths = clean
    results = four_runs(name, name='c1', description='first',
                        disks=[dict(name='vda'), dict(name='vdb', checkpoint='no')])
    predicted, real = results[0]['checkpoint'], results[1]['checkpoint']
    assert real['disks'] == [dict(name='vda', checkpoint='bitmap', bitmap='c1'),
                             dict(name='vdb', checkpoint='no', bitmap=None)]
    assert predicted['disks'][1] == real['disks'][1] and predicted['parent'] is None
    assert real['description'] == 'first' and real['creation_time'] > 0
    assert names(name) == ['c1']
    # the bitmap is in vda's image only (the guest runs: qemu-img reads it with -U)
    assert bitmaps(name, paths['vda']) == ['c1'] and bitmaps(name, paths['vdb']) == []
    results = four_runs(name, name='c2')
    assert results[0]['checkpoint']['parent'] == 'c1' and results[1]['checkpoint']['parent'] == 'c1'
    four_runs(name, name='c3')
    assert virsh('checkpoint-parent', name, 'c3') == 'c2'
    info = run_module('domain_checkpoint_info', dict(domain=name, uri=QEMU_URI), check_mode=True)
    assert [c['name'] for c in info['checkpoints']] == ['c1', 'c2', 'c3']
    assert info['checkpoints'][2]['chain'] == ['c2', 'c1'] and info['checkpoints'][0]['children'] == ['c2']
    assert info['leaf'] == 'c3'
    # an existing name: nothing created, a warning says what differs
    again = cp(name, name='c2', description='other')
    assert not again['changed'] and 'description is' in str(again['warnings']), again
    # delete c2 alone: c3's parent becomes c1 (libvirt merges c2's bitmap into c1's)
    four_runs(name, name='c2', state='absent')
    assert names(name) == ['c1', 'c3'] and virsh('checkpoint-parent', name, 'c3') == 'c1'
    # with its children
    results = four_runs(name, name='c1', state='absent', children=True)
    assert results[1]['deleted'] == ['c1', 'c3']
    assert names(name) == [] and bitmaps(name, paths['vda']) == []


def test_children_only(clean):
    name, dom, paths = clean
    for n in ('k1', 'k2', 'k3'):
        assert cp(name, name=n)['changed']
    results = four_runs(name, name='k1', state='absent', children_only=True)
    assert results[0]['deleted'] == ['k2', 'k3']
    assert names(name) == ['k1']


def test_redefine_carries_the_chain_over(clean):
    name, dom, paths = clean
    for n in ('r1', 'r2'):
        assert cp(name, name=n)['changed']
    info = run_module('domain_checkpoint_info', dict(domain=name, uri=QEMU_URI, full_xml=True), check_mode=True)
    saved = [c['xml'] for c in info['checkpoints']]
    assert '<domain' in saved[0]
    # forget the records, keep the bitmaps (what undefine + define, or a migration, does to the chain)
    four_runs(name, name='r1', state='absent', children=True, metadata_only=True)
    assert names(name) == [] and bitmaps(name, paths['vda']) == ['r1', 'r2']
    for xml in saved:
        results = four_runs(name, xml=xml, redefine=True, validate=True)
        assert results[1]['actions'][0].startswith('redefine checkpoint ')
    assert names(name) == ['r1', 'r2'] and virsh('checkpoint-parent', name, 'r2') == 'r1'


def test_clean_errors(clean):
    name, dom, paths = clean
    result = cp(name, xml='<domaincheckpoint><name>x</name></domaincheckpoint>', redefine=True)
    assert result.failed and 'creationTime' in result['msg'] and not result.get('changed'), result
    result = cp(name, name='bad', disks=[dict(name='vdz')])
    assert result.failed and result['msg'].startswith('Failed to create checkpoint bad'), result
    assert names(name) == []
    # a guest that does not exist: absent is a no-op, present fails with the hint
    gone = cp('sysvirt-test-backup-missing', name='x', state='absent')
    assert not gone.failed and not gone['changed']
    assert cp('sysvirt-test-backup-missing', name='x').failed


def test_stopped_guest_is_refused_cleanly(qemu_conn):
    with guest_with_disks(qemu_conn, start=False, kind='cpoff') as (name, dom, workdir, paths):
        result = cp(name, name='off')
        assert result.failed and 'cannot create checkpoint for inactive domain' in result['msg'], result
        assert result['error']['code_name'] == 'VIR_ERR_OPERATION_UNSUPPORTED'
        assert not result.get('changed') and dom.listAllCheckpoints(0) == []
