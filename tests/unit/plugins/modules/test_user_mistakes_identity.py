# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""User mistake: name and uuid given together but identifying different objects (or the UUID none).

Found by the session-3 user audit: ``state: absent`` with the name of one object and a UUID that is not its
own removed the named object. Both options must identify the same object, or the run fails and changes nothing.
"""

from __future__ import annotations

import pytest

from conftest import run_module

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _nwfilter
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure

URI = 'test:///default'
OTHER_UUID = '11111111-2222-3333-4444-555555555555'

# module, name of an object the test driver ships, how to find it with the test connection
SUBJECTS = [
    ('domain', 'test', lambda conn: conn.lookupByName('test')),
    ('network', 'default', lambda conn: conn.networkLookupByName('default')),
    ('storage_pool', 'default-pool', lambda conn: conn.storagePoolLookupByName('default-pool')),
]


def _snapshot(conn):
    return (sorted(d.name() for d in conn.listAllDomains(0)), sorted(n.name() for n in conn.listAllNetworks(0)),
            sorted(p.name() for p in conn.listAllStoragePools(0)),
            [d.isActive() for d in conn.listAllDomains(0)])


@pytest.mark.parametrize('check_mode', [True, False])
@pytest.mark.parametrize('state', ['absent', 'present'])
@pytest.mark.parametrize('module, name, find', SUBJECTS)
def test_name_with_a_uuid_not_its_own_fails_and_changes_nothing(test_conn, module, name, find, state, check_mode):
    before = _snapshot(test_conn)
    result = run_module(module, dict(uri=URI, name=name, uuid=OTHER_UUID, state=state), check_mode=check_mode)
    assert result.failed, result
    assert 'exists with UUID %s, not %s' % (find(test_conn).UUIDString(), OTHER_UUID) in result['msg']
    assert 'Traceback' not in str(result) and '\n' not in result['msg']
    assert _snapshot(test_conn) == before


@pytest.mark.parametrize('module, name, find', SUBJECTS)
def test_uuid_of_one_object_with_the_name_of_another_fails(test_conn, module, name, find):
    uuid = find(test_conn).UUIDString()
    before = _snapshot(test_conn)
    result = run_module(module, dict(uri=URI, name='sysvirt-test-other', uuid=uuid, state='absent'))
    assert result.failed, result
    assert 'with UUID %s is named %s, not sysvirt-test-other' % (uuid, name) in result['msg']
    assert _snapshot(test_conn) == before


@pytest.mark.parametrize('spelling', [str.upper, lambda u: u.replace('-', '')])
@pytest.mark.parametrize('module, name, find', SUBJECTS)
def test_matching_name_and_uuid_still_work(test_conn, module, name, find, spelling):
    # libvirt takes a UUID in either case, with or without dashes: all name the same object.
    uuid = find(test_conn).UUIDString()
    result = run_module(module, dict(uri=URI, name=name, uuid=spelling(uuid), state='absent'), check_mode=True)
    assert not result.failed, result['msg']
    assert result['changed'] is True


class _FakeFilter:
    def name(self):
        return 'clean-traffic'

    def UUIDString(self):
        return 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'


@pytest.mark.parametrize('name, uuid, message', [
    ('clean-traffic', OTHER_UUID, 'exists with UUID aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee, not %s' % OTHER_UUID),
    ('other', 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', 'is named clean-traffic, not other'),
])
def test_network_filter_lookup_checks_both(name, uuid, message):
    # The test driver has no network filters; the nwfilter module uses the same check on what it found.
    with pytest.raises(LibvirtFailure) as raised:
        _nwfilter.KIND.check_found(_FakeFilter(), name, uuid)
    assert message in raised.value.msg


@pytest.mark.parametrize('name, uuid', [('clean-traffic', None), (None, OTHER_UUID),
                                        ('clean-traffic', 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE')])
def test_network_filter_lookup_by_one_or_matching_both_passes(name, uuid):
    found = _FakeFilter()
    assert _nwfilter.KIND.check_found(found, name, uuid) is found


@pytest.mark.parametrize('spelling', [str.upper, lambda u: u.replace('-', '')])
def test_uuid_in_the_document_in_another_spelling_is_no_change(test_conn, spelling):
    # libvirt stores 9ca9...-... for '9CA9...' or a UUID without dashes: a re-run is unchanged, with no warning
    # that the document was not kept as written, and no "exists with another UUID" failure.
    from conftest import unique_name
    name = unique_name('dom')
    uuid = '9ca9b51a-c2be-4f6a-8a9d-0e5b6c7d8e9f'
    xml = ("<domain type='test'><name>%s</name><uuid>%s</uuid><memory>65536</memory><os><type>hvm</type></os>"
           "</domain>" % (name, spelling(uuid)))
    try:
        runs = [run_module('domain', dict(uri=URI, xml=xml), check_mode=check) for check in (True, False, True, False)]
        assert [r.get('failed', False) for r in runs] == [False] * 4, [r.get('msg') for r in runs]
        assert [r['changed'] for r in runs] == [True, True, False, False]
        assert not any(r.get('warnings') for r in runs), [r.get('warnings') for r in runs]
        assert test_conn.lookupByName(name).UUIDString() == uuid
        info = run_module('domain_info', dict(uri=URI, uuid=[spelling(uuid)]))
        assert [d['name'] for d in info['domains']] == [name]
    finally:
        for dom in test_conn.listAllDomains(0):
            if dom.name() == name:
                dom.undefine()
