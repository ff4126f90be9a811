# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The XML layer: safe parsing, the 'desired is satisfied by stored' comparison, diffs."""

from __future__ import annotations

import re

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml


@pytest.mark.parametrize('text', [
    '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><domain><name>&x;</name></domain>',
    '<!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd"><domain/>',
    '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><domain>&b;</domain>',
    '<domain><name>&undefined;</name></domain>',
    '<domain><name>x</domain>',
    '',
    '   ',
    None,
])
def test_hostile_or_broken_documents_are_refused(text):
    with pytest.raises(_xml.XMLInputError) as info:
        _xml.parse(text, 'domain XML')
    assert 'domain XML' in str(info.value)
    assert 'root:' not in str(info.value)


def test_entity_file_is_never_read(tmp_path):
    secret = tmp_path / 'secret.txt'
    secret.write_text('TOP-SECRET-CONTENT')
    text = '<!DOCTYPE d [<!ENTITY x SYSTEM "file://%s">]><d>&x;</d>' % secret
    with pytest.raises(_xml.XMLInputError) as info:
        _xml.parse(text)
    assert 'TOP-SECRET-CONTENT' not in str(info.value)


def test_oversized_document_is_refused():
    with pytest.raises(_xml.XMLInputError):
        _xml.parse('<d>' + 'x' * (_xml.MAX_XML_BYTES + 1) + '</d>')


def test_parse_accepts_declaration_and_comments():
    root = _xml.parse('<?xml version="1.0" encoding="UTF-8"?>\n<!-- hi --><domain><name>a</name></domain>')
    assert root.tag == 'domain' and _xml.find_text(root, 'name') == 'a'


@pytest.mark.parametrize('value,unit,expected', [
    ('10G', 'b', 10 * 1024 ** 3), ('512MiB', 'b', 512 * 1024 ** 2), ('1024', 'KiB', 1024 * 1024),
    ('1GB', 'b', 10 ** 9), (7, 'b', 7), ('3 k', 'b', 3072), ('5', 'bytes', 5),
])
def test_size_to_bytes(value, unit, expected):
    assert _xml.size_to_bytes(value, unit) == expected


@pytest.mark.parametrize('value', ['ten', '1.5G', '10X', '-1', ''])
def test_size_to_bytes_refuses_nonsense(value):
    with pytest.raises(ValueError):
        _xml.size_to_bytes(value)


@pytest.mark.parametrize('value,expected', [('0x0000', 0), ('12', 12), ('0x1f', 31), ('abc', None),
                                            ('0o17', 15), (' 7 ', 7), ('1.5', None)])
def test_parse_int(value, expected):
    assert _xml.parse_int(value) == expected


@pytest.mark.parametrize('value,expected', [('0-3,^2', {0, 1, 3}), ('1,2', {1, 2}), ('5', {5}), ('a-b', None),
                                            ('3-1', None)])
def test_parse_cpuset(value, expected):
    result = _xml.parse_cpuset(value)
    assert (set(result) if result is not None else None) == expected


STORED = '''<domain type='kvm'>
  <name>g</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <memory unit='KiB'>219136</memory>
  <vcpu placement='static' cpuset='0-3'>2</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/a.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/b.qcow2'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <controller type='usb' index='0'/>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:cc'/>
      <source network='default'/>
    </interface>
  </devices>
</domain>'''

RULES = _xml.CompareRules(
    default_units={'memory': 'KiB'}, fallback_unit='KiB', size_tolerance={'memory': 1024 * 1024},
    aliases={('type', 'machine'): {'pc': 'pc-i440fx-7.2'}}, cpuset_attributes={'cpuset'},
    removable={'devices': {'disk', 'interface'}})


def _desired(devices=None, memory="<memory unit='MiB'>214</memory>", extra=''):
    if devices is None:
        devices = '''<disk type='file' device='disk'><source file='/var/lib/libvirt/images/b.qcow2'/>
                     <target dev='vdb'/></disk>
                     <disk type='file' device='disk'><source file='/var/lib/libvirt/images/a.qcow2'/>
                     <target dev='vda' bus='virtio'/><address type='pci' domain='0' slot='4'/></disk>
                     <interface type='network'><source network='default'/></interface>'''
    return '''<domain type='kvm'><name>g</name>%s<vcpu cpuset='0,1,2,3'>2</vcpu>
              <os><type machine='pc'>hvm</type></os>%s<devices>%s</devices></domain>''' % (memory, extra, devices)


def test_what_libvirt_fills_in_is_no_difference():
    assert _xml.differences(_desired(), STORED, RULES) == []


@pytest.mark.parametrize('desired,path', [
    (_desired(memory="<memory unit='MiB'>512</memory>"), '/domain/memory[1]'),
    (_desired(extra="<description>new</description>"), '/domain/description[1]'),
    (_desired(devices="""<disk type='file' device='disk'><source file='/var/lib/libvirt/images/a.qcow2'/>
       <target dev='vda'/></disk><disk type='file' device='disk'><source file='/var/lib/libvirt/images/c.qcow2'/>
       <target dev='vdb'/></disk><interface type='network'/>"""), '/domain/devices[1]/disk[2]/source[1]/@file'),
])
def test_real_changes_are_differences(desired, path):
    diffs = _xml.differences(desired, STORED, RULES)
    assert [d.path for d in diffs] == [path], diffs


def test_removed_device_is_a_difference():
    desired = _desired(devices="""<disk type='file' device='disk'><source file='/var/lib/libvirt/images/a.qcow2'/>
                                  <target dev='vda'/></disk><interface type='network'/>""")
    diffs = _xml.differences(desired, STORED, RULES)
    assert [(d.path, d.reason) for d in diffs] == [('/domain/devices[1]/disk', 'extra')]
    assert 'b.qcow2' in diffs[0].current


def test_controllers_libvirt_added_are_not_removals():
    desired = _desired()
    assert not [d for d in _xml.differences(desired, STORED, RULES) if 'controller' in d.path]


def test_memory_rounding_tolerance_and_units():
    rules = RULES
    assert _xml.differences("<domain><memory unit='KiB'>219000</memory></domain>",
                            "<domain><memory unit='KiB'>219136</memory></domain>", rules) == []
    assert _xml.differences("<domain><memory>219136</memory></domain>",
                            "<domain><memory unit='KiB'>219136</memory></domain>", rules) == []
    assert _xml.differences("<domain><memory unit='G'>1</memory></domain>",
                            "<domain><memory unit='KiB'>1048576</memory></domain>", rules) == []
    assert _xml.differences("<domain><memory unit='KiB'>219136</memory></domain>",
                            "<domain><memory unit='KiB'>219000</memory></domain>", rules) != []


def test_root_mismatch():
    diffs = _xml.differences('<network/>', '<domain/>')
    assert diffs[0].reason == 'changed' and diffs[0].path == '/network'


def test_ignore_paths():
    rules = _xml.CompareRules(ignore={'devices/channel/source/@path'})
    desired = "<domain><devices><channel><source path='/x'/></channel></devices></domain>"
    stored = "<domain><devices><channel><source path='/generated'/></channel></devices></domain>"
    assert _xml.differences(desired, stored, rules) == []
    assert _xml.differences(desired, stored) != []


def test_unified_diff_and_canonical():
    before = '<a><b x="1"/></a>'
    after = '<a><b x="2"/></a>'
    diff = _xml.unified_diff(before, after)
    assert '-  <b x="1"/>' in diff and '+  <b x="2"/>' in diff
    assert _xml.canonical("<a  y='1' x='2'/>") == _xml.canonical('<a x="2" y="1"></a>')
    assert _xml.unified_diff(before, before) == ''


def test_difference_text():
    diff = _xml.Difference('/d/x', 'a', 'b', 'changed')
    assert str(diff) == "/d/x: wanted 'a', found 'b'"
    assert diff.as_dict() == dict(path='/d/x', desired='a', current='b', reason='changed')


@pytest.mark.parametrize('text,canonical', [
    ('9CA9B51A-C2BE-4F6A-8A9D-0E5B6C7D8E9F', '9ca9b51a-c2be-4f6a-8a9d-0e5b6c7d8e9f'),
    ('9ca9b51ac2be4f6a8a9d0e5b6c7d8e9f', '9ca9b51a-c2be-4f6a-8a9d-0e5b6c7d8e9f'),
    (' 9ca9b51a-c2be-4f6a-8a9d-0e5b6c7d8e9f\n', '9ca9b51a-c2be-4f6a-8a9d-0e5b6c7d8e9f'),
    ('not-a-uuid', 'not-a-uuid'),
    ('9ca9b51a-c2be-4f6a-8a9d-0e5b6c7d8e9', '9ca9b51a-c2be-4f6a-8a9d-0e5b6c7d8e9'),  # 31 digits: left alone
])
def test_canonical_uuid(text, canonical):
    assert _xml.canonical_uuid(text) == canonical


def test_same_uuid():
    assert _xml.same_uuid('9CA9B51AC2BE4F6A8A9D0E5B6C7D8E9F', '9ca9b51a-c2be-4f6a-8a9d-0e5b6c7d8e9f')
    assert not _xml.same_uuid('9ca9b51a-c2be-4f6a-8a9d-0e5b6c7d8e9f', '9ca9b51a-c2be-4f6a-8a9d-0e5b6c7d8e90')


@pytest.mark.parametrize('root,text,message', [
    ('pool', '<volume><name>v</name></volume>', 'pool XML must have a <pool> root element, not <volume>'),
    ('interface', '<network/>', 'interface XML must have an <interface> root element, not <network>'),
])
def test_parse_refuses_another_root_element(root, text, message):
    with pytest.raises(_xml.XMLInputError, match='^%s$' % re.escape(message)):
        _xml.parse(text, '%s XML' % root, root=root)
    assert _xml.parse('<%s/>' % root, root=root).tag == root


@pytest.mark.parametrize('value,ok', [('52:54:00:ab:CD:01', True), ('52:54:0:0:0:1', True), ('zz', False),
                                      ('52-54-00-ab-cd-01', False), ('52:54:00:ab:cd', False), (None, False)])
def test_is_mac(value, ok):
    assert _xml.is_mac(value) is ok
