# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""User mistakes in the network module's structured DHCP options, found by the session-3 user audit.

A malformed MAC or IP in dhcp_hosts, or a malformed or reversed dhcp_ranges entry, was predicted as a change in
check mode and failed only in the real run (libvirt validates it there). They now fail before anything is
looked at, in check mode too, and change nothing.
"""

from __future__ import annotations

import pytest

from conftest import run_module

URI = 'test:///default'


@pytest.mark.parametrize('check_mode', [True, False])
@pytest.mark.parametrize('args, message', [
    (dict(dhcp_hosts=[dict(mac='zz', ip='192.168.122.40')]), "dhcp_hosts: 'zz' is not a MAC address"),
    (dict(dhcp_hosts=[dict(mac='52:54:00:00:00:0g', ip='192.168.122.40')]),
     "dhcp_hosts: '52:54:00:00:00:0g' is not a MAC address"),
    (dict(dhcp_hosts=[dict(mac='52:54:00:00:00:01', ip='notanip')]), "dhcp_hosts: ip 'notanip' is not an IP address"),
    (dict(dhcp_hosts=[dict(name='guest', ip='192.168.122.300')]),
     "dhcp_hosts: ip '192.168.122.300' is not an IP address"),
    (dict(dhcp_ranges=[dict(start='192.168.122.30', end='192.168.122.25')]),
     'The DHCP range 192.168.122.30-192.168.122.25 is reversed'),
    (dict(dhcp_ranges=[dict(start='192.168.122.30', end='fd00::1')]), 'mixes IPv4 and IPv6'),
    (dict(dhcp_ranges=[dict(start='x', end='192.168.122.40')]), "dhcp_ranges: start 'x' is not an IP address"),
    (dict(dhcp_hosts=[dict(mac='01:00:5e:00:00:01', ip='192.168.122.40')]), 'is a multicast MAC address'),
    (dict(dhcp_hosts=[dict(mac='52:54:00:00:00:01', ip='fd00::40')]), 'not by MAC'),
])
def test_bad_dhcp_entry_fails_in_check_mode_too_and_changes_nothing(test_conn, args, message, check_mode):
    before = test_conn.networkLookupByName('default').XMLDesc(0)
    result = run_module('network', dict(uri=URI, name='default', **args), check_mode=check_mode)
    assert result.failed, result
    assert message in result['msg'], result['msg']
    assert '\n' not in result['msg'] and 'Traceback' not in str(result)
    assert test_conn.networkLookupByName('default').XMLDesc(0) == before


@pytest.mark.parametrize('args', [
    dict(dhcp_hosts=[dict(mac='52:54:00:AB:cd:01', ip='192.168.122.41')]),
    dict(dhcp_hosts=[dict(name='sysvirt-test-h', ip='192.168.122.42')]),
    dict(dhcp_hosts=[dict(mac='52:54:00:ab:cd:02', state='absent')]),
])
def test_good_dhcp_entries_still_apply(test_conn, args):
    result = run_module('network', dict(uri=URI, name='default', **args), check_mode=True)
    assert not result.failed, result['msg']


@pytest.mark.parametrize('check_mode', [True, False])
def test_bad_entry_for_a_new_network_defines_and_starts_nothing(test_conn, check_mode):
    # The entries are checked before the network is looked up, defined or started, not after.
    from conftest import unique_name
    name = unique_name('net')
    xml = ("<network><name>%s</name><ip address='198.51.100.1' netmask='255.255.255.0'><dhcp>"
           "<range start='198.51.100.100' end='198.51.100.200'/></dhcp></ip></network>" % name)
    try:
        result = run_module('network', dict(uri=URI, xml=xml, state='active',
                                            dhcp_hosts=[dict(mac='zz:54:00:00:00:01', ip='198.51.100.5')]),
                            check_mode=check_mode)
        assert result.failed and 'is not a MAC address' in result['msg'], result
        assert name not in [n.name() for n in test_conn.listAllNetworks()]
    finally:
        for net in test_conn.listAllNetworks():
            if net.name() == name:
                if net.isActive():
                    net.destroy()
                if net.isPersistent():
                    net.undefine()
