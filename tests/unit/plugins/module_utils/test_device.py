# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_device: structured forms, how devices are found again, the update document, and the module on the test
driver (which has no hotplug: the module must fail cleanly and change nothing)."""

from __future__ import annotations

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _device, _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure
from conftest import SHARED_TEST_URI, run_module

STORED = _xml.parse("""<domain><devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/a.qcow2' index='1'/>
    <backingStore/><target dev='vda' bus='virtio'/><alias name='virtio-disk0'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>
  <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/one.iso'/>
    <target dev='sda' bus='sata'/><readonly/><alias name='sata0-0-0'/></disk>
  <interface type='network'><mac address='52:54:00:AA:BB:CC'/><source network='iso'/><model type='e1000'/>
    <alias name='ua-nic1'/></interface>
  <filesystem type='mount'><source dir='/srv'/><target dir='share'/></filesystem>
  <hostdev mode='subsystem' type='usb'><source><vendor id='0x0781'/><product id='0x5567'/></source></hostdev>
</devices></domain>""")


@pytest.mark.parametrize('xml,found', [
    ("<disk><target dev='vda'/></disk>", 'vda'),
    ("<disk><target dev='vdq'/></disk>", None),
    ("<interface type='network'><mac address='52:54:00:aa:bb:cc'/></interface>", 'iface'),
    ("<interface type='network'><alias name='ua-nic1'/></interface>", 'iface'),
    ("<filesystem><target dir='share'/></filesystem>", 'fs'),
    ("<hostdev mode='subsystem' type='usb'><source><vendor id='0x0781'/><product id='0x5567'/></source></hostdev>",
     'hostdev'),
    ("<hostdev mode='subsystem' type='usb'><source><vendor id='0x0781'/><product id='0x0001'/></source></hostdev>",
     None),
])
def test_identity_finds_the_device(xml, found):
    what, match = _device.identity(_xml.parse(xml))
    element = _device.find_device(STORED, match)
    if found is None:
        assert element is None
    else:
        assert element is not None
        assert {'vda': 'disk', 'iface': 'interface', 'fs': 'filesystem', 'hostdev': 'hostdev'}[found] == element.tag


def test_interface_without_mac_is_refused():
    with pytest.raises(LibvirtFailure) as info:
        _device.identity(_xml.parse("<interface type='network'><source network='x'/></interface>"))
    assert '<mac address' in info.value.msg and 'MAC' in info.value.hint


@pytest.mark.parametrize('spec,expected', [
    (dict(target='vdb', source='/img/a.qcow2', format='qcow2', bus='virtio'),
     "<disk type=\"file\" device=\"disk\"><driver name=\"qemu\" type=\"qcow2\"/><source file=\"/img/a.qcow2\"/>"
     "<target dev=\"vdb\" bus=\"virtio\"/></disk>"),
    (dict(target='sdb', source='/dev/sdx'),
     "<disk type=\"block\" device=\"disk\"><source dev=\"/dev/sdx\"/><target dev=\"sdb\"/></disk>"),
    (dict(target='sda', device='cdrom'),
     "<disk type=\"file\" device=\"cdrom\"><target dev=\"sda\"/><readonly/></disk>"),
    (dict(target='vdc', pool='default', volume='v1', readonly=True, serial='S1'),
     "<disk type=\"volume\" device=\"disk\"><source pool=\"default\" volume=\"v1\"/><target dev=\"vdc\"/>"
     "<readonly/><serial>S1</serial></disk>"),
])
def test_disk_element(spec, expected):
    assert _xml.to_string(_device.disk_element(spec), pretty=False) == expected


def test_interface_element_lowercases_mac():
    element = _device.interface_element(dict(mac='52:54:00:AB:CD:EF', network='n', model='virtio', link_state='down'))
    assert _xml.to_string(element, pretty=False) == (
        '<interface type="network"><mac address="52:54:00:ab:cd:ef"/><source network="n"/>'
        '<model type="virtio"/><link state="down"/></interface>')


@pytest.mark.parametrize('desired,changed', [
    ("<disk type='file' device='disk'><source file='/a.qcow2'/><target dev='vda'/></disk>", False),
    ("<disk type='file' device='disk'><driver type='qcow2'/><target dev='vda' bus='virtio'/></disk>", False),
    ("<disk type='file' device='disk'><source file='/b.qcow2'/><target dev='vda'/></disk>", True),
    ("<disk type='file' device='cdrom'><target dev='sda'/></disk>", True),  # eject
    ("<disk type='file' device='cdrom'><source file='/one.iso'/><target dev='sda'/></disk>", False),
])
def test_libvirt_filled_attributes_are_not_differences(desired, changed):
    element = _xml.parse(desired)
    current = _device.find_device(STORED, _device.identity(element)[1])
    diffs = _xml.differences(element, current, _device.DEVICE_RULES) + _device._eject_difference(element, current)
    assert bool(diffs) == changed, diffs


def test_update_document_keeps_stored_parts_and_replaces_source():
    current = _device.find_device(STORED, _device.identity(_xml.parse("<disk><target dev='sda'/></disk>"))[1])
    merged = _device._merge_for_update(
        _xml.parse("<disk type='file' device='cdrom'><source file='/two.iso'/><target dev='sda'/></disk>"), current)
    assert merged.find('source').attrib == {'file': '/two.iso'}
    assert merged.find('alias').get('name') == 'sata0-0-0' and merged.find('target').get('bus') == 'sata'
    ejected = _device._merge_for_update(_xml.parse("<disk type='file' device='cdrom'><target dev='sda'/></disk>"),
                                        current)
    assert ejected.find('source') is None


def test_module_on_test_driver_fails_cleanly(shared_test_conn):
    dom = shared_test_conn.lookupByName('test')
    before = dom.XMLDesc(0)
    result = run_module('domain_device', dict(uri=SHARED_TEST_URI, domain='test',
                                              disk=dict(target='vdq', source='/x.img')))
    assert result.failed and result['msg'].startswith('Failed to attach disk target vdq'), result
    assert result['error']['code_name'] == 'VIR_ERR_NO_SUPPORT'
    assert dom.XMLDesc(0) == before


def test_module_check_mode_predicts_on_test_driver(shared_test_conn):
    result = run_module('domain_device', dict(uri=SHARED_TEST_URI, domain='test', persistent=False,
                                              disk=dict(target='vdq', source='/x.img')), check_mode=True)
    assert result['changed'] and result['actions'] == ['attach disk target vdq (live)']
    result = run_module('domain_device', dict(uri=SHARED_TEST_URI, domain='test', persistent=False,
                                              disk=dict(target='vda')), check_mode=True)
    assert not result['changed'] and 'diskimage' in result['device']
