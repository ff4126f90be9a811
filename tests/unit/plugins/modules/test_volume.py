# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""volume and volume_info on the daemon's test driver's default-pool (test+unix:///default).

The test driver cannot resize, wipe, upload or download: those run against qemu:///system in
tests/functional/test_volume_transfer.py and the integration target.
"""

from __future__ import annotations

import libvirt
import pytest

from conftest import SHARED_TEST_URI, unique_name

URI = SHARED_TEST_URI
POOL = 'default-pool'


@pytest.fixture
def names(shared_test_conn):
    made = []

    def make():
        made.append(unique_name('vol'))
        return made[-1]
    yield make
    pool = shared_test_conn.storagePoolLookupByName(POOL)
    for name in made:
        try:
            pool.storageVolLookupByName(name).delete(0)
        except libvirt.libvirtError:
            pass


def four_runs(runner, args, expect_actions):
    results = [runner('volume', args, check_mode=check, diff=True) for check in (True, False)]
    for result in results:
        assert not result.failed, result
        assert result['changed'] is True and result['actions'] == expect_actions
    results += [runner('volume', args, check_mode=check) for check in (True, False)]
    for result in results[2:]:
        assert not result.failed, result
        assert result['changed'] is False and result['actions'] == []
    return results


@pytest.mark.parametrize('capacity, expected', [('10G', 10 * 1024 ** 3), ('512MiB', 512 * 1024 ** 2),
                                                ('1048576', 1048576), ('2GB', 2 * 1000 ** 3)])
def test_create_with_units_then_absent(module_runner, shared_test_conn, names, capacity, expected):
    name = names()
    runs = four_runs(module_runner, dict(uri=URI, pool=POOL, name=name, capacity=capacity, format='raw'),
                     ['create'])
    assert runs[0]['volume']['capacity'] == expected
    vol = shared_test_conn.storagePoolLookupByName(POOL).storageVolLookupByName(name)
    assert vol.info()[1] == expected
    assert runs[1]['volume']['path'] == vol.path() and runs[1]['volume']['key'] == vol.key()
    assert runs[1]['diff']['before'] == {} and runs[1]['diff']['after']['name'] == name
    four_runs(module_runner, dict(uri=URI, pool=POOL, name=name, state='absent'), ['delete'])
    with pytest.raises(libvirt.libvirtError):
        shared_test_conn.storagePoolLookupByName(POOL).storageVolLookupByName(name)


def test_lookup_by_path_and_key(module_runner, shared_test_conn, names):
    name = names()
    created = module_runner('volume', dict(uri=URI, pool=POOL, name=name, capacity='1M'))
    for key in ('path', 'key'):
        result = module_runner('volume', {'uri': URI, key: created['volume'][key], 'capacity': '1M'})
        assert not result.failed and result['changed'] is False and result['volume']['name'] == name
    gone = module_runner('volume', dict(uri=URI, path='/default-pool/%s-none' % name, state='absent'))
    assert not gone.failed and gone['changed'] is False


def test_clone_takes_source_size_and_format(module_runner, shared_test_conn, names):
    source, copy = names(), names()
    module_runner('volume', dict(uri=URI, pool=POOL, name=source, capacity='3M', format='raw'))
    runs = four_runs(module_runner, dict(uri=URI, pool=POOL, name=copy, clone_from=dict(name=source)), ['clone'])
    assert runs[0]['volume']['capacity'] == 3 * 1024 ** 2
    vol = shared_test_conn.storagePoolLookupByName(POOL).storageVolLookupByName(copy)
    assert vol.info()[1] == 3 * 1024 ** 2


def test_xml_document(module_runner, shared_test_conn, names):
    name = names()
    xml = "<volume><name>%s</name><capacity unit='MiB'>4</capacity><target><format type='qcow2'/></target></volume>" % name
    four_runs(module_runner, dict(uri=URI, pool=POOL, xml=xml), ['create'])
    info = module_runner('volume_info', dict(uri=URI, pool=POOL, name=name, xml=True))
    assert info['volumes'][0]['capacity'] == 4 * 1024 ** 2 and info['volumes'][0]['xml'].startswith('<volume')


def test_shrink_only_when_asked_warns_otherwise(module_runner, names):
    name = names()
    module_runner('volume', dict(uri=URI, pool=POOL, name=name, capacity='4M'))
    result = module_runner('volume', dict(uri=URI, pool=POOL, name=name, capacity='2M'))
    assert result['changed'] is False and 'shrink: true' in str(result['warnings'])
    predicted = module_runner('volume', dict(uri=URI, pool=POOL, name=name, capacity='2M', shrink=True),
                              check_mode=True)
    assert predicted['changed'] and predicted['actions'] == ['shrink']
    assert predicted['volume']['capacity'] == 2 * 1024 ** 2
    grow = module_runner('volume', dict(uri=URI, pool=POOL, name=name, capacity='8M'), check_mode=True)
    assert grow['actions'] == ['grow'] and grow['volume']['capacity'] == 8 * 1024 ** 2


def test_wipe_is_an_action_every_time(module_runner, names):
    name = names()
    module_runner('volume', dict(uri=URI, pool=POOL, name=name, capacity='1M'))
    for attempt in range(2):
        result = module_runner('volume', dict(uri=URI, pool=POOL, name=name, wipe=True), check_mode=True)
        assert result['changed'] and result['actions'] == ['wipe'], attempt


@pytest.mark.parametrize('args, message', [
    (dict(name='x', capacity='10Q'), "unknown unit"),
    (dict(name='x', capacity='ten'), 'is not a size'),
    (dict(name='x'), 'capacity is required'),
    (dict(name='x', capacity='1M', clone_from=dict(name='sysvirt-test-none')), 'source volume'),
    (dict(name='x', capacity='1M', upload='/nonexistent/file'), 'not a readable file'),
    (dict(name='x', capacity='1M', download='/nonexistent/dir/file'), 'does not exist'),
    (dict(name='x', capacity='1M', download='/tmp'), 'is a directory'),
    (dict(xml='<volume><name>x</name>'), 'not well-formed'),
    (dict(xml='<volume><name>x</name><capacity>1</capacity><target><format type="nosuch"/></target></volume>'),
     'Failed to create volume'),
])
def test_bad_input_fails_cleanly(module_runner, shared_test_conn, args, message):
    pool = shared_test_conn.storagePoolLookupByName(POOL)
    before = sorted(pool.listVolumes())
    result = module_runner('volume', dict(uri=URI, pool=POOL, **args))
    assert result.failed, result
    assert message in result['msg'] and '\n' not in result['msg']
    assert sorted(pool.listVolumes()) == before


def test_missing_and_inactive_pool(module_runner):
    result = module_runner('volume', dict(uri=URI, pool='sysvirt-test-nopool', name='x', capacity='1M'))
    assert result.failed and 'does not exist' in result['msg']


def test_volume_info_all_and_filtered(module_runner, shared_test_conn, names):
    a, b = names(), names()
    for name in (a, b):
        module_runner('volume', dict(uri=URI, pool=POOL, name=name, capacity='1M', format='raw'))
    everything = module_runner('volume_info', dict(uri=URI), check_mode=True)
    listed = [(v['pool'], v['name']) for v in everything['volumes']]
    assert (POOL, a) in listed and (POOL, b) in listed
    one = module_runner('volume_info', dict(uri=URI, pool=POOL, name=a))
    vol = shared_test_conn.storagePoolLookupByName(POOL).storageVolLookupByName(a)
    assert one['volumes'] == [dict(name=a, key=vol.key(), path=vol.path(), pool=POOL, type='file', format='raw',
                                   capacity=vol.info()[1], allocation=vol.info()[2], backing_store=None)]
