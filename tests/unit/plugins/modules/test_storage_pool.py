# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""storage_pool and storage_pool_info on the daemon's test driver (test+unix:///default, state shared)."""

from __future__ import annotations

import libvirt
import pytest

from conftest import SHARED_TEST_URI, unique_name

URI = SHARED_TEST_URI


def _xml(name, path=None, extra=''):
    return ("<pool type='dir'><name>%s</name>%s<target><path>%s</path></target></pool>"
            % (name, extra, path or '/%s' % name))


@pytest.fixture
def pool_name(shared_test_conn):
    name = unique_name('pool')
    yield name
    try:
        pool = shared_test_conn.storagePoolLookupByName(name)
    except libvirt.libvirtError:
        return
    if pool.isActive():
        pool.destroy()
    if pool.isPersistent():
        pool.undefine()


def four_runs(runner, args, expect_actions):
    """check (changed) -> real (changed) -> check (unchanged) -> real (unchanged)."""
    results = [runner('storage_pool', args, check_mode=check, diff=True) for check in (True, False)]
    for result in results:
        assert not result.failed, result
        assert result['changed'] is True
        assert result['actions'] == expect_actions
    results += [runner('storage_pool', args, check_mode=check) for check in (True, False)]
    for result in results[2:]:
        assert not result.failed, result
        assert result['changed'] is False and result['actions'] == []
    return results


def test_states_four_runs(module_runner, shared_test_conn, pool_name):
    xml = _xml(pool_name)
    runs = four_runs(module_runner, dict(uri=URI, xml=xml), ['define'])
    assert runs[0]['diff']['before'] == '' and pool_name in runs[0]['diff']['after']
    pool = shared_test_conn.storagePoolLookupByName(pool_name)
    assert pool.isPersistent() and not pool.isActive()
    assert runs[1]['storage_pool']['uuid'] == pool.UUIDString()

    runs = four_runs(module_runner, dict(uri=URI, name=pool_name, state='active', autostart=True),
                     ['start', 'autostart'])
    assert runs[0]['storage_pool']['active'] is True and runs[0]['storage_pool']['autostart'] is True
    assert pool.isActive() and pool.autostart()
    assert runs[3]['storage_pool']['volume_count'] == pool.numOfVolumes()

    four_runs(module_runner, dict(uri=URI, name=pool_name, state='inactive'), ['stop'])
    assert not pool.isActive()

    four_runs(module_runner, dict(uri=URI, name=pool_name, state='absent'), ['undefine'])
    with pytest.raises(libvirt.libvirtError):
        shared_test_conn.storagePoolLookupByName(pool_name)


def test_define_build_and_start_in_one_run(module_runner, shared_test_conn, pool_name):
    four_runs(module_runner, dict(uri=URI, xml=_xml(pool_name), state='active', build='new'),
              ['define', 'build', 'start'])
    assert shared_test_conn.storagePoolLookupByName(pool_name).isActive()
    four_runs(module_runner, dict(uri=URI, name=pool_name, state='absent'), ['stop', 'undefine'])


def test_redefine_changed_document_keeps_uuid(module_runner, shared_test_conn, pool_name):
    first = module_runner('storage_pool', dict(uri=URI, xml=_xml(pool_name)))
    uuid = first['storage_pool']['uuid']
    # libvirt spells '//x//y/' as '/x/y': not a difference
    same = module_runner('storage_pool', dict(uri=URI, xml=_xml(pool_name, '//%s//' % pool_name)))
    assert same['changed'] is False, same['differences']
    runs = four_runs(module_runner, dict(uri=URI, xml=_xml(pool_name, '/elsewhere/%s' % pool_name)),
                     ['redefine'])
    assert runs[0]['differences'][0]['path'] == '/pool/target[1]/path[1]'
    pool = shared_test_conn.storagePoolLookupByName(pool_name)
    assert pool.UUIDString() == uuid
    assert '/elsewhere/%s' % pool_name in pool.XMLDesc(0)


def test_lookup_by_uuid(module_runner, shared_test_conn, pool_name):
    module_runner('storage_pool', dict(uri=URI, xml=_xml(pool_name)))
    uuid = shared_test_conn.storagePoolLookupByName(pool_name).UUIDString()
    result = module_runner('storage_pool', dict(uri=URI, uuid=uuid, state='present'))
    assert not result.failed and result['storage_pool']['name'] == pool_name


@pytest.mark.parametrize('args, message', [
    (dict(name='sysvirt-test-nonexistent'), 'does not exist; give xml'),
    (dict(xml='<pool type="dir"><name>a</name>'), 'not well-formed'),
    (dict(xml='<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><pool type="dir"><name>&e;</name></pool>'),
     'DOCTYPE'),
    (dict(name='other', xml=_xml('sysvirt-test-mismatch')), 'differs from the <name>'),
    (dict(xml="<pool type='nosuchtype'><name>sysvirt-test-badtype</name></pool>"), 'Failed to define'),
])
def test_bad_input_fails_cleanly_and_changes_nothing(module_runner, shared_test_conn, args, message):
    before = sorted(p.name() for p in shared_test_conn.listAllStoragePools(0))
    result = module_runner('storage_pool', dict(uri=URI, **args))
    assert result.failed
    assert message in result['msg'] and '\n' not in result['msg']
    assert sorted(p.name() for p in shared_test_conn.listAllStoragePools(0)) == before


def test_readonly_connection_fails_with_hint(module_runner, pool_name):
    result = module_runner('storage_pool', dict(uri=URI, readonly=True, xml=_xml(pool_name)))
    assert result.failed and 'read-only' in result['hint']


def test_info_lists_and_filters(module_runner, shared_test_conn, pool_name):
    module_runner('storage_pool', dict(uri=URI, xml=_xml(pool_name), state='active'))
    everything = module_runner('storage_pool_info', dict(uri=URI), check_mode=True)
    names = [p['name'] for p in everything['storage_pools']]
    assert names == sorted(p.name() for p in shared_test_conn.listAllStoragePools(0))
    one = module_runner('storage_pool_info', dict(uri=URI, name=pool_name, xml=True))
    assert one['changed'] is False and len(one['storage_pools']) == 1
    info = one['storage_pools'][0]
    pool = shared_test_conn.storagePoolLookupByName(pool_name)
    state, capacity, allocation, available = pool.info()
    assert info['capacity'] == capacity and info['allocation'] == allocation and info['available'] == available
    assert info['state'] == 'running' and info['active'] and info['persistent']
    assert info['type'] == 'dir' and info['target_path'] == '/%s' % pool_name
    assert info['volume_count'] == pool.numOfVolumes()
    assert info['xml'].startswith('<pool')
    none = module_runner('storage_pool_info', dict(uri=URI, name='sysvirt-test-nonexistent'))
    assert none['storage_pools'] == []


def test_info_discovers_sources(module_runner, shared_test_conn):
    result = module_runner('storage_pool_info', dict(uri=URI, discover=dict(type='logical')), check_mode=True)
    assert not result.failed, result
    found = result['discovered']
    assert found['type'] == 'logical' and found['xml'] == shared_test_conn.findStoragePoolSources('logical', None, 0)
    assert [s['name'] for s in found['sources']] == ['testvg1', 'testvg2']
    assert found['sources'][0]['devices'] == ['/dev/sda20'] and found['sources'][0]['format'] == 'lvm2'


@pytest.mark.parametrize('discover, message', [
    (dict(type='netfs'), 'hostname must be specified'),
    (dict(type='dir'), 'unknown storage pool type'),
    (dict(type='netfs', source_xml='<source><host name='), 'not well-formed'),
])
def test_info_discovery_failures_are_clean(module_runner, discover, message):
    result = module_runner('storage_pool_info', dict(uri=URI, discover=discover))
    assert result.failed and message in result['msg'] and '\n' not in result['msg']
