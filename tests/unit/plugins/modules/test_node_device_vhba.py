# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""node_device / node_device_info on the daemon's test driver: a vHBA on its NPIV-capable scsi_host1."""

from __future__ import annotations

import libvirt
import pytest

URI = 'test+unix:///default'
VHBA = """<device><name>{name}</name><parent>scsi_host1</parent>
<capability type='scsi_host'><capability type='fc_host'>
<wwnn>20000000c9831b4b</wwnn><wwpn>10000000c9831b4b</wwpn></capability></capability></device>"""


def _names(conn):
    return {d.name() for d in conn.listAllDevices(0)}


@pytest.fixture
def vhba_cleanup(shared_test_conn):
    before = _names(shared_test_conn)
    yield
    for device in shared_test_conn.listAllDevices(0):
        if device.name() not in before:
            device.destroy()


def test_vhba_lifecycle(module_runner, shared_test_conn, vhba_cleanup):
    before = _names(shared_test_conn)
    # the test driver names a new vHBA itself (scsi_host<N>): learn the name from a dry create
    probe = shared_test_conn.nodeDeviceCreateXML(VHBA.format(name='probe'), 0)
    name = probe.name()
    probe.destroy()
    assert _names(shared_test_conn) == before
    args = dict(uri=URI, name=name, xml=VHBA.format(name=name))
    for check_mode, changed in ((True, True), (False, True), (True, False), (False, False)):
        result = module_runner('node_device', args, check_mode=check_mode)
        assert not result.failed, result
        assert result['changed'] is changed, (check_mode, result)
        assert result['actions'] == (['create'] if changed else [])
        assert result['device']['parent'] == 'scsi_host1'
    info = module_runner('node_device_info', dict(uri=URI, name=name, capabilities=['scsi_host']))
    assert [d['name'] for d in info['devices']] == [name]
    assert info['devices'][0]['capabilities'][0]['wwpn'] == '10000000c9831b4b'
    for check_mode, changed in ((True, True), (False, True), (True, False), (False, False)):
        result = module_runner('node_device', dict(uri=URI, name=name, state='absent'), check_mode=check_mode)
        assert result['changed'] is changed and result['device'] is None
    assert _names(shared_test_conn) == before


@pytest.mark.parametrize('xml,message', [
    (VHBA.replace('scsi_host1', 'computer'), 'not an NPIV-capable HBA'),
    (VHBA.replace('scsi_host1', 'sysvirt-test-none'), 'does not exist'),
    ("<device><name>{name}</name><parent>computer</parent><capability type='pci'/></device>", 'this document has pci'),
    ("<device><name>{name}</name><parent>computer</parent><capability type='mdev'><type id='x'/></capability></device>",
     'offers no mediated device type'),
    ('<device><name>{name}', 'not well-formed'),
])
@pytest.mark.parametrize('check_mode', [True, False])
def test_bad_virtual_devices_fail_cleanly(module_runner, shared_test_conn, xml, message, check_mode):
    before = _names(shared_test_conn)
    result = module_runner('node_device', dict(uri=URI, xml=xml.format(name='scsi_host999')), check_mode=check_mode)
    assert result.failed and message in result['msg'], result
    assert _names(shared_test_conn) == before


def test_info_filters_by_capability(module_runner, shared_test_conn):
    everything = module_runner('node_device_info', dict(uri=URI))
    assert {d['name'] for d in everything['devices']} == _names(shared_test_conn)
    hosts = module_runner('node_device_info', dict(uri=URI, capabilities=['scsi_host']))
    expected = {d.name() for d in shared_test_conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_HOST)}
    assert {d['name'] for d in hosts['devices']} == expected and expected
    assert module_runner('node_device_info', dict(uri=URI, name='sysvirt-test-none'))['devices'] == []
