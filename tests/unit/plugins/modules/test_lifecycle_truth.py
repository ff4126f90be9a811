# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Results that tell the truth about the host (test:///default, kept alive by the test_conn fixture):

- a run that changed the host and then failed says ``changed: true`` and lists what it did;
- teardown states succeed unchanged on a missing object (or a missing parent), so a teardown play re-runs;
- check mode with a missing parent predicts the creation and warns that it assumes the parent;
- ``volume`` ``state: absent`` with ``wipe: true`` wipes before it deletes.
"""

from __future__ import annotations

from unittest import mock

import libvirt
import pytest

from conftest import run_module, unique_name

URI = 'test:///default'


def domain_xml(name):
    return ("<domain type='test'><name>%s</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
            "<os><type arch='i686'>hvm</type></os></domain>" % name)


@pytest.fixture
def name(test_conn):
    value = unique_name('truth')
    yield value
    try:
        dom = test_conn.lookupByName(value)
    except libvirt.libvirtError:
        return
    if dom.isActive():
        dom.destroy()
    if dom.isPersistent():
        dom.undefine()


def _refuse(*args, **kwargs):
    raise libvirt.libvirtError('refused by the test')


def test_failure_after_a_change_reports_changed_and_the_actions_done(test_conn, name):
    with mock.patch.object(libvirt.virDomain, 'createWithFlags', _refuse):
        result = run_module('domain', dict(uri=URI, xml=domain_xml(name), state='running'))
    assert result.failed
    assert result['changed'] is True and result['actions'] == ['define'], result
    # what was done stays done: the definition is kept, and a re-run carries on from there
    dom = test_conn.lookupByName(name)
    assert dom.isPersistent() and not dom.isActive()
    again = run_module('domain', dict(uri=URI, xml=domain_xml(name), state='running'))
    assert not again.failed and again['actions'] == ['start']


def test_failure_before_any_change_reports_no_change(test_conn, name):
    with mock.patch.object(libvirt.virConnect, 'defineXML', _refuse):
        result = run_module('domain', dict(uri=URI, xml=domain_xml(name), state='running'))
    assert result.failed and not result.get('changed') and 'actions' not in result


# -- teardown re-runs: a state that means "not there" or "not running" succeeds unchanged on a missing object

GONE = 'sysvirt-test-gone-guest'
NO_POOL = 'sysvirt-test-no-pool'
DISK = "<disk type='file' device='disk'><source file='/tmp/sysvirt-test.img'/><target dev='vdb' bus='virtio'/></disk>"


@pytest.mark.parametrize('module, args', [
    ('domain', dict(name=GONE, state='shutdown')),
    ('domain', dict(name=GONE, state='destroyed')),
    ('domain', dict(name=GONE, state='absent')),
    ('domain_snapshot', dict(domain=GONE, name='before-upgrade', state='absent')),
    ('domain_device', dict(domain=GONE, xml=DISK, state='absent')),
    ('volume', dict(pool=NO_POOL, name='disk.qcow2', state='absent')),
    ('volume', dict(pool=NO_POOL, name='disk.qcow2', state='absent', wipe=True)),
    ('storage_pool', dict(name=NO_POOL, state='inactive')),
    ('storage_pool', dict(name=NO_POOL, state='absent')),
    ('network', dict(name='sysvirt-test-no-net', state='inactive')),
    ('network', dict(name='sysvirt-test-no-net', state='absent')),
    ('host_interface', dict(name='sysvirt-test-no-if', state='inactive')),
    ('host_interface', dict(name='sysvirt-test-no-if', state='absent')),
])
@pytest.mark.parametrize('check_mode', [True, False])
def test_teardown_of_a_missing_object_succeeds_unchanged(test_conn, module, args, check_mode):
    result = run_module(module, dict(uri=URI, **args), check_mode=check_mode, diff=True)
    assert not result.failed, result['msg']
    assert result['changed'] is False and result['actions'] == []
    assert not result.get('warnings')


@pytest.mark.parametrize('module, args', [
    ('domain', dict(name=GONE, state='running')),
    ('domain_snapshot', dict(domain=GONE, name='s1')),
    ('domain_device', dict(domain=GONE, xml=DISK)),
    ('volume', dict(pool=NO_POOL, name='disk.qcow2', capacity='1M')),
])
def test_creating_under_a_missing_parent_still_fails_for_real(test_conn, module, args):
    result = run_module(module, dict(uri=URI, **args))
    assert result.failed and 'Traceback' not in result['msg']
    assert GONE in result['msg'] or NO_POOL in result['msg']


# -- check mode on a host that earlier tasks would populate

@pytest.mark.parametrize('module, args, actions, parent', [
    ('volume', dict(pool=NO_POOL, name='disk.qcow2', capacity='1M', format='qcow2'), ['create'],
     'Storage pool %s' % NO_POOL),
    ('volume', dict(pool=NO_POOL, name='disk.qcow2', capacity='1M', wipe=True), ['create', 'wipe'],
     'Storage pool %s' % NO_POOL),
    ('domain_snapshot', dict(domain=GONE, name='s1'), ['create snapshot s1'], 'Domain %s' % GONE),
    ('domain_device', dict(domain=GONE, xml=DISK), ['attach disk target vdb (config)'], 'Domain %s' % GONE),
])
def test_check_mode_with_a_missing_parent_predicts_and_warns(test_conn, module, args, actions, parent):
    result = run_module(module, dict(uri=URI, **args), check_mode=True, diff=True)
    assert not result.failed, result['msg']
    assert result['changed'] is True and result['actions'] == actions
    warning = ('%s does not exist yet; check mode predicts this task as if an earlier task of the play had created '
               'it' % parent)
    assert len(result['warnings']) == 1 and warning in str(result['warnings'])


def test_check_mode_volume_prediction_without_the_pool(test_conn):
    result = run_module('volume', dict(uri=URI, pool=NO_POOL, name='disk.qcow2', capacity='1M', format='qcow2'),
                        check_mode=True)
    volume = result['volume']
    assert (volume['name'], volume['pool'], volume['format'], volume['capacity']) == \
        ('disk.qcow2', NO_POOL, 'qcow2', 1024 ** 2)


# -- volume state=absent with wipe=true wipes, then deletes

def test_absent_with_wipe_wipes_before_deleting(shared_test_conn):
    from conftest import SHARED_TEST_URI
    name = unique_name('wipe')
    args = dict(uri=SHARED_TEST_URI, pool='default-pool', name=name)
    assert not run_module('volume', dict(args, capacity='1M')).failed
    calls = []
    real_delete = libvirt.virStorageVol.delete

    def wipe(vol, flags=0):  # (the test driver cannot wipe)
        calls.append(('wipe', vol.name()))
        return 0

    def delete(vol, flags=0):
        calls.append(('delete', vol.name()))
        return real_delete(vol, flags)
    try:
        check = run_module('volume', dict(args, state='absent', wipe=True), check_mode=True)
        assert check['actions'] == ['wipe', 'delete'] and calls == []
        with mock.patch.object(libvirt.virStorageVol, 'wipe', wipe), \
                mock.patch.object(libvirt.virStorageVol, 'delete', delete):
            real = run_module('volume', dict(args, state='absent', wipe=True))
        assert not real.failed, real['msg']
        assert real['actions'] == ['wipe', 'delete'] and calls == [('wipe', name), ('delete', name)]
    finally:
        pool = shared_test_conn.storagePoolLookupByName('default-pool')
        if name in pool.listVolumes():
            pool.storageVolLookupByName(name).delete(0)


@pytest.mark.parametrize('module, method, args, done', [
    ('network', (libvirt.virNetwork, 'create'),
     "<network><name>%s</name><bridge name='virbr-truth'/></network>", ['define']),
    ('storage_pool', (libvirt.virStoragePool, 'create'),
     "<pool type='dir'><name>%s</name><target><path>/tmp/sysvirt-test-truth</path></target></pool>", ['define']),
])
def test_failed_start_after_define_in_other_kinds(test_conn, module, method, args, done):
    name = unique_name('truth')[:15]
    try:
        with mock.patch.object(method[0], method[1], _refuse):
            result = run_module(module, dict(uri=URI, xml=args % name, state='active'))
        assert result.failed and result['changed'] is True and result['actions'] == done, result
    finally:
        for lookup in (test_conn.networkLookupByName, test_conn.storagePoolLookupByName):
            try:
                lookup(name).undefine()
            except libvirt.libvirtError:
                pass
