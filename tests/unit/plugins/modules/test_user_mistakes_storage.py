# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""User mistakes with storage_pool and volume found by the session-3 user audit.

- a document of another kind (a <volume> given to storage_pool, a <network> given to volume) was predicted as
  created in check mode and failed only in the real run;
- a volume given by name without its pool failed with 'storage pool None does not exist'.
"""

from __future__ import annotations

import pytest

from conftest import run_module

URI = 'test:///default'


def _pools_and_volumes(conn):
    return sorted((p.name(), tuple(sorted(p.listVolumes()))) for p in conn.listAllStoragePools(0))


@pytest.mark.parametrize('check_mode', [True, False])
@pytest.mark.parametrize('module, args, message', [
    ('storage_pool', dict(xml='<volume><name>sysvirt-test-v</name><capacity>1024</capacity></volume>'),
     'storage pool XML must have a <pool> root element, not <volume>'),
    ('storage_pool', dict(xml='<network><name>sysvirt-test-n</name></network>', state='active'),
     'storage pool XML must have a <pool> root element, not <network>'),
    ('volume', dict(pool='default-pool', xml='<network><name>sysvirt-test-n</name></network>'),
     'volume XML must have a <volume> root element, not <network>'),
    ('volume', dict(pool='default-pool', xml="<pool type='dir'><name>sysvirt-test-p</name></pool>"),
     'volume XML must have a <volume> root element, not <pool>'),
    ('volume', dict(name='sysvirt-test-v', capacity='1M'), 'Give the pool of volume sysvirt-test-v'),
    ('volume', dict(name='sysvirt-test-v', state='absent'), 'Give the pool of volume sysvirt-test-v'),
])
def test_mistake_fails_plainly_in_check_mode_too_and_changes_nothing(test_conn, module, args, message, check_mode):
    before = _pools_and_volumes(test_conn)
    result = run_module(module, dict(uri=URI, **args), check_mode=check_mode)
    assert result.failed, result
    assert message in result['msg'], result['msg']
    assert 'None' not in result['msg'] and '\n' not in result['msg'] and 'Traceback' not in str(result)
    assert _pools_and_volumes(test_conn) == before


def test_volume_by_name_in_its_pool_still_works(test_conn):
    args = dict(uri=URI, pool='default-pool', name='sysvirt-test-v', capacity='1M')
    result = run_module('volume', args, check_mode=True)
    assert not result.failed, result['msg']
    assert result['changed'] is True and result['actions'] == ['create']


@pytest.mark.parametrize('extra', [dict(), dict(pool='default-pool')])
def test_volume_without_a_name_says_so(extra):
    result = run_module('volume', dict(uri='test:///default', xml='<volume><capacity>1048576</capacity></volume>',
                                       **extra))
    assert result.failed and result['msg'].startswith('Give the volume: its name'), result['msg']
