# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""User mistake: domain_device given another libvirt document (a <network>, <pool>, <secret>, ...) as the device.

Found by the session-3 user audit: check mode predicted 'attach network definition (live)' and '(config)';
only the real run failed. The document is refused before anything is looked at, in check mode too.
"""

from __future__ import annotations

import pytest

from conftest import run_module

URI = 'test:///default'


@pytest.mark.parametrize('check_mode', [True, False])
@pytest.mark.parametrize('state', ['present', 'absent'])
@pytest.mark.parametrize('xml, tag', [
    ('<network><name>sysvirt-test-n</name></network>', 'network'),
    ("<pool type='dir'><name>sysvirt-test-p</name><target><path>/x</path></target></pool>", 'pool'),
    ('<volume><name>sysvirt-test-v</name><capacity>1</capacity></volume>', 'volume'),
    ("<secret ephemeral='no'/>", 'secret'),
    ("<filter name='sysvirt-test-f'/>", 'filter'),
    ('<domainsnapshot><name>s</name></domainsnapshot>', 'domainsnapshot'),
    ('<cpu><model>qemu64</model></cpu>', 'cpu'),
])
def test_other_document_is_not_a_device(test_conn, xml, tag, state, check_mode):
    before = test_conn.lookupByName('test').XMLDesc(0)
    result = run_module('domain_device', dict(uri=URI, domain='test', xml=xml, state=state), check_mode=check_mode)
    assert result.failed, result
    assert result['msg'] == 'Give one device element (<disk>, <interface>, ...), not <%s>' % tag
    assert 'Traceback' not in str(result)
    assert test_conn.lookupByName('test').XMLDesc(0) == before


@pytest.mark.parametrize('xml', [
    "<disk type='file' device='disk'><source file='/tmp/sysvirt-test.img'/><target dev='vdb' bus='virtio'/></disk>",
    "<interface type='network'><mac address='52:54:00:aa:bb:01'/><source network='default'/></interface>",
    "<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory>",
])
def test_device_elements_are_still_taken(test_conn, xml):
    result = run_module('domain_device', dict(uri=URI, domain='test', xml=xml), check_mode=True)
    assert not result.failed, result['msg']
    assert result['changed'] is True
