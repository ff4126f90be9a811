# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sysvirt.libvirt.network_info on the test driver: filters, data, networks without a bridge."""

from __future__ import annotations

import libvirt
import pytest
from lxml import etree

from conftest import SHARED_TEST_URI, run_module, unique_name


def test_builtin_default_network():
    result = run_module('network_info', dict(uri='test:///default', readonly=True), check_mode=True)
    assert not result.failed and result['changed'] is False
    (net,) = result['networks']
    assert net['name'] == 'default' and net['active'] and net['persistent']
    assert net['bridge'] and net['ips'][0]['family'] == 'ipv4' and net['leases'] == []
    assert 'xml' not in net


@pytest.mark.parametrize('filters,expected', [
    (dict(name='default'), ['default']),
    (dict(name='nosuch'), []),
    (dict(pattern='def*'), ['default']),
    (dict(pattern='x*'), []),
    (dict(active=True), ['default']),
    (dict(active=False), []),
    (dict(persistent=False), []),
])
def test_filters(filters, expected):
    result = run_module('network_info', dict(filters, uri='test:///default'))
    assert [n['name'] for n in result['networks']] == expected


@pytest.mark.parametrize('document', ['hostdev.xml', 'passthrough-pf.xml', 'vepa-net.xml', 'host-bridge-net.xml',
                                      'hostdev-pf-driver-model.xml', '8021Qbh-net.xml'])
def test_networks_without_a_libvirt_bridge(shared_test_conn, corpus, document):
    root = etree.parse('%s/network/%s' % (corpus, document)).getroot()
    for uuid in root.findall('uuid'):
        root.remove(uuid)
    name = unique_name('net')
    root.find('name').text = name
    net = shared_test_conn.networkDefineXML(etree.tostring(root, encoding='unicode'))
    try:
        result = run_module('network_info', dict(uri=SHARED_TEST_URI, name=name, xml=True))
        assert not result.failed, result
        (data,) = result['networks']
        assert data['forward_mode'] == root.find('forward').get('mode')
        stored_bridge = etree.fromstring(net.XMLDesc(0)).find('bridge')
        assert data['bridge'] == (stored_bridge.get('name') if stored_bridge is not None else None)
        assert data['active'] is False and data['xml'] == net.XMLDesc(0)
        uuid = run_module('network_info', dict(uri=SHARED_TEST_URI, uuid=net.UUIDString()))
        assert [n['name'] for n in uuid['networks']] == [name]
    finally:
        try:
            net.undefine()
        except libvirt.libvirtError:
            pass
