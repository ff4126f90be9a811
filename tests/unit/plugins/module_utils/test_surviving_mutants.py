# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests that kill the three deliberate bugs that once survived the unit stage:

- a secret's value written on every run (value_update=on_change must compare first);
- restart_on_change ignored for networks;
- node_device autostart never applied.

The test driver has no secrets and cannot define node devices, so those two use small stand-ins with the
libvirt methods the code calls; the network runs on the in-process test driver.
"""

from __future__ import annotations

import libvirt
import pytest

from conftest import run_module, unique_name

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _nodedev, _resource, _secret

URI = 'test:///default'


class NoValue(libvirt.libvirtError):
    def get_error_message(self):
        return 'secret does not have a value'

    def get_error_code(self):
        return libvirt.VIR_ERR_NO_SECRET


class FakeSecret:
    def __init__(self, value):
        self.stored = value
        self.written = []

    def value(self, flags=0):
        if self.stored is None:
            raise NoValue('no value')
        return self.stored

    def setValue(self, value, flags=0):
        self.written.append(value)
        self.stored = value

    def UUIDString(self):
        return '6dd3e4a5-1d76-44ce-961f-f119f5aad935'


def apply(secret, wanted, mode='on_change', created=False, check_mode=False):
    outcome = _resource.Outcome()
    report = dict(value_changed=False, value_comparable=None, value_note=None)
    _secret._apply_value(secret, wanted, mode, created, check_mode, outcome, report, None)
    return outcome, report


def test_secret_value_equal_is_not_written_again():
    secret = FakeSecret(b'pa55')
    outcome, report = apply(secret, b'pa55')
    assert secret.written == [] and outcome.actions == [] and not outcome.changed
    assert report['value_changed'] is False and report['value_comparable'] is True


@pytest.mark.parametrize('stored', [b'old', None])
def test_secret_value_written_when_it_differs_or_is_unset(stored):
    secret = FakeSecret(stored)
    outcome, report = apply(secret, b'new')
    assert secret.written == [b'new'] and outcome.actions == ['set value'] and report['value_changed']


def test_secret_value_check_mode_writes_nothing():
    secret = FakeSecret(b'old')
    outcome, _report = apply(secret, b'new', check_mode=True)
    assert secret.written == [] and outcome.actions == ['set value']


@pytest.mark.parametrize('mode, stored, written', [('always', b'pa55', [b'pa55']), ('on_create', b'old', []),
                                                   ('on_create', None, [b'new2'])])
def test_secret_value_update_modes(mode, stored, written):
    secret = FakeSecret(stored)
    wanted = b'pa55' if mode == 'always' else b'new2'
    apply(secret, wanted, mode=mode)
    assert secret.written == written


# -- networks: restart_on_change

@pytest.fixture
def network(test_conn):
    name = unique_name('net')[:15]
    yield name
    try:
        net = test_conn.networkLookupByName(name)
    except libvirt.libvirtError:
        return
    if net.isActive():
        net.destroy()
    if net.isPersistent():
        net.undefine()


def _net_xml(name, extra=''):
    return ("<network><name>%s</name><bridge name='%s'/><ip address='192.0.2.1' prefix='24'/>%s</network>"
            % (name, name[-8:], extra))


@pytest.mark.parametrize('check_mode', [True, False])
def test_network_restart_on_change_restarts(test_conn, network, check_mode):
    assert not run_module('network', dict(uri=URI, xml=_net_xml(network), state='active')).failed
    changed = dict(uri=URI, xml=_net_xml(network, "<domain name='lab.test'/>"), state='active')
    result = run_module('network', dict(changed, restart_on_change=True), check_mode=check_mode)
    assert not result.failed, result['msg']
    # (the test driver keeps no separate definition of a running network: no 'redefine' for real, and the
    # functional test on qemu:///system checks the restarted network's definition)
    assert result['actions'][-1:] == ['restart'] and result['restart_needed'] is False


def test_network_change_without_restart_on_change_is_pending(test_conn, network):
    assert not run_module('network', dict(uri=URI, xml=_net_xml(network), state='active')).failed
    changed = dict(uri=URI, xml=_net_xml(network, "<domain name='lab.test'/>"), state='active')
    result = run_module('network', changed)
    assert 'restart' not in result['actions'] and result['restart_needed'] is True
    assert 'lab.test' not in test_conn.networkLookupByName(network).XMLDesc(0)


# -- node devices: autostart

class FakeDevice:
    XML = ("<device><name>mdev_4b20d080_1b54_4048_85b3_a6a62d165c01</name><parent>css_0_0_0023</parent>"
           "<capability type='mdev'><type id='vfio_ccw-io'/><uuid>4b20d080-1b54-4048-85b3-a6a62d165c01</uuid>"
           "</capability></device>")

    def __init__(self, autostart):
        self.auto = autostart
        self.calls = []

    def name(self):
        return 'mdev_4b20d080_1b54_4048_85b3_a6a62d165c01'

    def XMLDesc(self, flags=0):
        return self.XML

    def isActive(self):
        return True

    def isPersistent(self):
        return True

    def autostart(self):
        return self.auto

    def setAutostart(self, value):
        self.calls.append(value)
        self.auto = value

    def listCaps(self):
        return ['mdev']


class FakeConn:
    def __init__(self, device):
        self.device = device

    def nodeDeviceLookupByName(self, name):
        return self.device


@pytest.mark.parametrize('have, want, actions, calls', [
    (False, True, ['autostart'], [1]),
    (True, False, ['no autostart'], [0]),
    (True, True, [], []),
    (False, None, [], []),
])
def test_node_device_autostart_is_applied(have, want, actions, calls):
    device = FakeDevice(have)
    params = dict(name=device.name(), state='present', persistent=True, autostart=want, xml=None)
    outcome, data = _nodedev._ensure_virtual(FakeConn(device), params, False)
    assert outcome.actions == actions and device.calls == calls
    if want is not None:
        assert data['autostart'] is want


def test_node_device_autostart_check_mode_changes_nothing():
    device = FakeDevice(False)
    params = dict(name=device.name(), state='present', persistent=True, autostart=True, xml=None)
    outcome, _data = _nodedev._ensure_virtual(FakeConn(device), params, True)
    assert outcome.actions == ['autostart'] and device.calls == []
