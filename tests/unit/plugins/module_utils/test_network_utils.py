# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/_network.py: carry-over, normalisation, update planning and to-dict, on documents and the test driver."""

from __future__ import annotations

import pytest
from lxml import etree

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _network, _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure

STORED = ("<network><name>n</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
          "<bridge name='virbr9' stp='on' delay='0'/><mac address='52:54:00:01:02:03'/>"
          "<ip address='198.51.100.1' prefix='24'><dhcp><range start='198.51.100.2' end='198.51.100.9'/>"
          "<host mac='52:54:00:00:00:01' name='a' ip='198.51.100.5'/></dhcp></ip></network>")


@pytest.mark.parametrize('desired,bridge,mac', [
    ("<network><name>n</name></network>", 'virbr9', '52:54:00:01:02:03'),
    ("<network><name>n</name><bridge stp='off'/></network>", 'virbr9', '52:54:00:01:02:03'),
    ("<network><name>n</name><bridge name='br-own'/><mac address='52:54:00:09:09:09'/></network>", 'br-own',
     '52:54:00:09:09:09'),
    ("<network><name>n</name><forward mode='bridge'/><bridge name='br0'/></network>", 'br0', None),
    ("<network><name>n</name><forward mode='passthrough'><interface dev='eth1'/></forward></network>", None, None),
])
def test_carry_over(desired, bridge, mac):
    root = _xml.parse(desired)
    _network.KIND.carry_over(root, _xml.parse(STORED))
    assert root.find('uuid').text == '11111111-2222-3333-4444-555555555555'
    assert (root.find('bridge').get('name') if root.find('bridge') is not None else None) == bridge
    assert (root.find('mac').get('address') if root.find('mac') is not None else None) == mac


@pytest.mark.parametrize('doc,version,expect,warned', [
    ("<network><mac address='52:54:00:AB:CD:EF'/></network>", None, "<network><mac address=\"52:54:00:ab:cd:ef\"/>"
     "</network>", False),
    ("<network><forward mode='passthrough'><pf dev='e0'/><interface dev='e1'/></forward></network>", None,
     "<network><forward mode=\"passthrough\"><interface dev=\"e1\"/></forward></network>", True),
    ("<network><forward mode='hostdev'><driver model='m'/><pf dev='e0'/></forward></network>", 9000000,
     "<network><forward mode=\"hostdev\"><pf dev=\"e0\"/></forward></network>", True),
    ("<network><forward mode='hostdev'><driver model='m'/></forward></network>", 10000000,
     "<network><forward mode=\"hostdev\"><driver model=\"m\"/></forward></network>", False),
])
def test_normalise(doc, version, expect, warned):
    root = _xml.parse(doc)
    warnings = _network.normalise(root, version)
    assert etree.tostring(root, encoding='unicode') == expect
    assert bool(warnings) == warned


@pytest.mark.parametrize('params,actions', [
    (dict(dhcp_hosts=[dict(mac='52:54:00:00:00:01', name='a', ip='198.51.100.5')]), []),
    (dict(dhcp_hosts=[dict(mac='52:54:00:00:00:01', ip='198.51.100.6')]), ['modify DHCP host']),
    (dict(dhcp_hosts=[dict(name='a', state='absent')]), ['delete DHCP host']),
    (dict(dhcp_hosts=[dict(mac='52:54:00:00:00:02', name='b', ip='198.51.100.7')]), ['add DHCP host']),
    (dict(dhcp_ranges=[dict(start='198.51.100.2', end='198.51.100.9')]), []),
    (dict(dhcp_ranges=[dict(start='198.51.100.2', end='198.51.100.9', state='absent')]), ['delete DHCP range']),
    (dict(dns_hosts=[dict(ip='198.51.100.5', hostnames=['a'])]), ['add DNS host']),
    (dict(dns_txt=[dict(name='t', state='absent')]), []),
    (dict(portgroups=[dict(name='p', vlan_tags=[5, 6])]), ['add port group']),
])
def test_plan_updates(params, actions):
    root = _xml.parse(STORED)
    ops = _network.plan_updates(root, params)
    assert ['%s %s' % (o.command, o.section.label) for o in ops] == actions
    # planning again on the planned document finds nothing left to do
    assert _network.plan_updates(root, params) == []


def test_plan_updates_builds_what_libvirt_takes():
    root = _xml.parse(STORED)
    (op,) = _network.plan_updates(root, dict(dhcp_hosts=[dict(mac='52:54:00:00:00:01', ip='198.51.100.6')]))
    assert op.command == 'modify' and op.parent == 0
    assert op.xml == '<host mac="52:54:00:00:00:01" name="a" ip="198.51.100.6"/>'
    (op,) = _network.plan_updates(root, dict(portgroups=[dict(name='p', vlan_tags=[5, 6])]))
    assert op.xml == '<portgroup name="p"><vlan trunk="yes"><tag id="5"/><tag id="6"/></vlan></portgroup>'


@pytest.mark.parametrize('params,message', [
    (dict(dhcp_hosts=[dict(ip='198.51.100.9')]), 'mac or a name'),
    (dict(dhcp_hosts=[dict(name='x', ip='2001:db8::9')]), 'IPv6 <ip>'),
    (dict(forward_interfaces=[dict(dev='eth0')]), 'no <forward>'),
    (dict(dns_hosts=[dict(ip='198.51.100.9')]), 'hostname'),
])
def test_plan_updates_refuses_entries_it_cannot_place(params, message):
    with pytest.raises(LibvirtFailure, match=message):
        _network.plan_updates(_xml.parse(STORED), params)


def test_definition_to_dict_without_bridge(corpus):
    root = etree.parse('%s/network/hostdev.xml' % corpus).getroot()
    data = _network.definition_to_dict(root)
    assert data['bridge'] is None and data['forward_mode'] == 'hostdev' and data['ips'] == []


def test_to_dict_on_the_test_driver(test_conn):
    net = test_conn.networkLookupByName('default')
    data = _network.network_to_dict(net, with_xml=True)
    assert data['name'] == 'default' and data['uuid'] == net.UUIDString()
    assert data['active'] is True and data['persistent'] is True
    assert data['bridge'] == etree.fromstring(net.XMLDesc()).find('bridge').get('name')
    assert data['dhcp_ranges'] and data['leases'] == []
    assert data['xml'] == net.XMLDesc(0)


def _tags(root):
    return [child.tag for child in root]


def test_plan_updates_predicts_the_layout_libvirt_stores():
    """Check mode's prediction of live updates: a new <dns> goes before <ip>, an emptied <dns> goes away, and
    <forward dev> follows the first forward interface, as libvirt writes them."""
    root = _xml.parse("<network><name>n</name><bridge name='b'/><ip address='198.51.100.1' prefix='24'/></network>")
    _network.plan_updates(root, dict(dns_txt=[dict(name='k', value='v')]))
    assert _tags(root) == ['name', 'bridge', 'dns', 'ip']
    _network.plan_updates(root, dict(dns_txt=[dict(name='k', state='absent')]))
    assert _tags(root) == ['name', 'bridge', 'ip']
    root = _xml.parse("<network><name>n</name><forward mode='passthrough' dev='e0'><interface dev='e0'/>"
                      "<interface dev='e1'/></forward></network>")
    _network.plan_updates(root, dict(forward_interfaces=[dict(dev='e0', state='absent')]))
    assert root.find('forward').get('dev') == 'e1'
