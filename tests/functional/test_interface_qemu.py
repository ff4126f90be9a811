# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""host_interface_info (read path) and host_interface's read-only refusal on qemu:///system (udev backend)."""

from __future__ import annotations

import pytest

from conftest import QEMU_URI


def test_info_matches_libvirt_and_sysfs(module_runner, qemu_conn):
    result = module_runner('host_interface_info', dict(uri=QEMU_URI, xml=True), check_mode=True)
    assert not result.failed and result['changed'] is False
    assert {i['name'] for i in result['interfaces']} == {i.name() for i in qemu_conn.listAllInterfaces(0)}
    for iface in result['interfaces']:
        with open('/sys/class/net/%s/address' % iface['name']) as handle:
            assert iface['mac'] == handle.read().strip()
        assert iface['xml'].startswith('<interface')
    lo = module_runner('host_interface_info', dict(uri=QEMU_URI, name='lo'))['interfaces']
    assert [i['name'] for i in lo] == ['lo']


@pytest.mark.parametrize('args', [
    dict(xml="<interface type='ethernet' name='sysvirt-test-t9'><start mode='none'/></interface>"),
    dict(name='lo', state='absent'),
])
def test_changes_on_a_read_only_backend_fail_plainly(module_runner, qemu_conn, args):
    before = {i.name() for i in qemu_conn.listAllInterfaces(0)}
    result = module_runner('host_interface', dict(args, uri=QEMU_URI))
    assert result.failed
    assert 'cannot change host interfaces' in result['msg'] and 'udev' in result['msg'], result
    assert 'nmcli' in result['hint']
    assert {i.name() for i in qemu_conn.listAllInterfaces(0)} == before
