# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""node_device_info (read path) and node_device's refusals against qemu:///system.

This VM has no PCI device that is safe to detach (no IOMMU; every device is in use or a bridge), so the
detach/re-attach path is tested only for its refusals and clean errors; nothing here changes a device.
"""

from __future__ import annotations

import libvirt
import pytest

from conftest import QEMU_URI, in_ci


def _absent_here(reason):
    """The hardware a test needs is not on this machine: a skip on a user's machine, a failure in CI, whose
    host has it (a CI host without it would silently stop testing the refusal)."""
    if in_ci():
        pytest.fail('%s; the CI host is expected to have one' % reason, pytrace=False)
    pytest.skip(reason)


def _pci_devices(conn):
    return {d.name(): d for d in conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV)}


def test_info_matches_libvirt(module_runner, qemu_conn):
    result = module_runner('node_device_info', dict(uri=QEMU_URI), check_mode=True)
    assert not result.failed and result['changed'] is False
    assert {d['name'] for d in result['devices']} == {d.name() for d in qemu_conn.listAllDevices(0)}
    pci = module_runner('node_device_info', dict(uri=QEMU_URI, capabilities=['pci']))['devices']
    assert {d['name'] for d in pci} == set(_pci_devices(qemu_conn))
    for device in pci:
        cap = device['capabilities'][0]
        assert device['name'] == 'pci_%s' % cap['address'].replace(':', '_').replace('.', '_')
        assert cap['vendor']['id'].startswith('0x')


def test_net_device_of_the_host_interface(module_runner, qemu_conn):
    nets = module_runner('node_device_info', dict(uri=QEMU_URI, capabilities=['net']))['devices']
    by_interface = {d['capabilities'][0]['interface']: d for d in nets}
    assert 'lo' in by_interface
    for name, device in by_interface.items():
        with open('/sys/class/net/%s/address' % name) as handle:
            assert device['capabilities'][0]['address'] == handle.read().strip()


def _host_used_pci(conn):
    """A PCI device with a network interface of the host below it."""
    for device in conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET):
        parent = device.parent()
        if parent and parent.startswith('pci_'):
            return parent
    return None


@pytest.mark.parametrize('check_mode', [True, False])
def test_detach_refuses_a_device_the_host_uses(module_runner, qemu_conn, check_mode):
    name = _host_used_pci(qemu_conn)
    if name is None:
        _absent_here('no PCI device with a host network interface on this machine: nothing to refuse')
    before = qemu_conn.nodeDeviceLookupByName(name).XMLDesc(0)
    result = module_runner('node_device', dict(uri=QEMU_URI, name=name, state='detached'), check_mode=check_mode)
    assert result.failed and 'Refusing to detach' in result['msg'] and 'network interface' in result['msg']
    assert qemu_conn.nodeDeviceLookupByName(name).XMLDesc(0) == before


def test_attached_device_needs_nothing(module_runner, qemu_conn):
    name = _host_used_pci(qemu_conn)
    if name is None:
        _absent_here('no PCI device bound to a host driver on this machine')
    for check_mode in (True, False):
        result = module_runner('node_device', dict(uri=QEMU_URI, name=name, state='attached'), check_mode=check_mode)
        assert not result.failed and result['changed'] is False and result['actions'] == []
        assert result['device']['driver'] not in ('vfio-pci', None)


@pytest.mark.parametrize('check_mode', [True, False])
def test_reset_refuses_a_device_bound_to_a_host_driver(module_runner, qemu_conn, check_mode):
    name = _host_used_pci(qemu_conn)
    if name is None:
        _absent_here('no PCI device bound to a host driver on this machine')
    before = qemu_conn.nodeDeviceLookupByName(name).XMLDesc(0)
    result = module_runner('node_device', dict(uri=QEMU_URI, name=name, state='attached', reset=True),
                           check_mode=check_mode)
    assert result.failed and 'Refusing to reset %s: the host uses it (bound to the host driver' % name in result['msg']
    assert 'state: detached' in result['hint'] and not result.get('changed')
    assert qemu_conn.nodeDeviceLookupByName(name).XMLDesc(0) == before


@pytest.mark.parametrize('args,message', [
    (dict(name='net_lo_00_00_00_00_00_00', state='detached'), 'not a PCI device'),
    (dict(name='sysvirt-test-none', state='attached'), 'no node device'),
    (dict(name='computer', state='attached', reset=True), 'not a PCI device'),
    (dict(name='computer', reset=True), 'reset is for PCI devices'),
])
def test_clean_errors(module_runner, args, message):
    result = module_runner('node_device', dict(args, uri=QEMU_URI))
    assert result.failed and message in result['msg'], result
    assert 'Traceback' not in result['msg']


def test_bridge_is_refused(module_runner, qemu_conn):
    bridges = [n for n, d in _pci_devices(qemu_conn).items() if '<class>0x06' in d.XMLDesc(0)]
    if not bridges:
        _absent_here('no PCI bridge on this machine')
    result = module_runner('node_device', dict(uri=QEMU_URI, name=bridges[0], state='detached'), check_mode=True)
    assert result.failed and 'bridge' in result['msg']
