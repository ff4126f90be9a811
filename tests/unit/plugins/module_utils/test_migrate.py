# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_migrate: flags and parameters from options, and domain_migrate on the test driver (which cannot migrate:
check mode predicts, the real run fails cleanly). Real migrations: tests/functional/test_migrate_two_daemons.py."""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _migrate
from conftest import SHARED_TEST_URI, run_module

BASE = dict(peer_to_peer=True, tunnelled=False, persistent=True, undefine_source=False, copy_storage='none',
            postcopy=False, auto_converge=False, compressed=False, unsafe=False, paused=False)


@pytest.mark.parametrize('options,live,expected', [
    (dict(), True, ['LIVE', 'PEER2PEER', 'PERSIST_DEST']),
    (dict(peer_to_peer=False, persistent=False), True, ['LIVE']),
    (dict(tunnelled=True, peer_to_peer=False), True, ['LIVE', 'PEER2PEER', 'TUNNELLED', 'PERSIST_DEST']),
    (dict(persistent=False, undefine_source=True), False, ['OFFLINE', 'PEER2PEER', 'PERSIST_DEST', 'UNDEFINE_SOURCE']),
    (dict(copy_storage='all', postcopy=True), True, ['LIVE', 'PEER2PEER', 'PERSIST_DEST', 'NON_SHARED_DISK',
                                                     'POSTCOPY']),
    (dict(copy_storage='incremental', auto_converge=True, compressed=True, unsafe=True, paused=True), True,
     ['LIVE', 'PEER2PEER', 'PERSIST_DEST', 'NON_SHARED_INC', 'AUTO_CONVERGE', 'COMPRESSED', 'UNSAFE', 'PAUSED']),
    (dict(tls=True), True, ['LIVE', 'PEER2PEER', 'PERSIST_DEST', 'TLS']),
    (dict(tls=True, peer_to_peer=False, persistent=False), True, ['LIVE', 'TLS']),
    (dict(tls=False), True, ['LIVE', 'PEER2PEER', 'PERSIST_DEST']),
])
def test_flags(options, live, expected):
    flags = _migrate.migration_flags(dict(BASE, **options), live)
    want = 0
    for name in expected:
        want |= getattr(libvirt, 'VIR_MIGRATE_' + name)
    assert flags == want


def test_params():
    params = _migrate.migration_params(dict(bandwidth=100, migration_uri='tcp://10.0.0.2', listen_address='0.0.0.0',
                                            disks=['vda'], postcopy_bandwidth=50))
    assert params == {libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 100, libvirt.VIR_MIGRATE_PARAM_URI: 'tcp://10.0.0.2',
                      libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS: '0.0.0.0',
                      libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS: ['vda'],
                      libvirt.VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY: 50}
    assert _migrate.migration_params(dict()) == {}


def test_test_driver_cannot_migrate(shared_test_conn):
    args = dict(uri=SHARED_TEST_URI, domain='test', destination='test:///default', migration_uri='tcp://127.0.0.1')
    check = run_module('domain_migrate', args, check_mode=True)
    assert check['changed'] and check['actions'] == ['migrate test live to test:///default']
    result = run_module('domain_migrate', args)
    assert result.failed and result['msg'].startswith('Failed to migrate test to test:///default'), result
    assert shared_test_conn.lookupByName('test').isActive()


def test_tls_and_tunnelled_exclude_each_other(shared_test_conn):
    result = run_module('domain_migrate', dict(uri=SHARED_TEST_URI, domain='test', destination='test:///default',
                                               tls=True, tunnelled=True))
    assert result.failed and 'mutually exclusive' in result['msg'] and 'tls' in result['msg'], result
    assert shared_test_conn.lookupByName('test').isActive()


def test_unreachable_destination(shared_test_conn):
    result = run_module('domain_migrate', dict(uri=SHARED_TEST_URI, domain='test',
                                               destination='qemu+unix:///system?socket=/nonexistent/sock'))
    assert result.failed and result['hint']
    assert result['msg'].startswith('Failed to connect to the destination qemu+unix:///system?socket=/nonexistent/sock')
