# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_secret: the desired document from options, usage parsing, value decoding (no daemon needed)."""

from __future__ import annotations

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _secret, _xml


@pytest.mark.parametrize('usage_type,child', [
    ('volume', 'volume'), ('ceph', 'name'), ('iscsi', 'target'), ('tls', 'name'), ('vtpm', 'name')])
def test_build_xml_sets_only_what_is_given(usage_type, child):
    root = _secret.build_xml(dict(usage_type=usage_type, usage_id='x-1'))
    assert root.get('private') is None and root.get('ephemeral') is None
    assert root.find('uuid') is None and root.find('description') is None
    assert root.find('usage').get('type') == usage_type
    assert _xml.find_text(root, 'usage/%s' % child) == 'x-1'
    assert _secret.usage_of(root) == (usage_type, 'x-1')


def test_build_xml_flags_and_description():
    root = _secret.build_xml(dict(usage_type='tls', usage_id='t', private=True, ephemeral=False,
                                  description='d', uuid='8e7ee0a2-6d12-4a7e-bd4d-3a4f0e6c2c31'))
    assert (root.get('private'), root.get('ephemeral')) == ('yes', 'no')
    assert _xml.find_text(root, 'description') == 'd'
    assert _xml.find_text(root, 'uuid') == '8e7ee0a2-6d12-4a7e-bd4d-3a4f0e6c2c31'


@pytest.mark.parametrize('params,expected', [
    (dict(value='pässword'), 'pässword'.encode('utf-8')),
    (dict(value_base64='AAEC/w=='), b'\x00\x01\x02\xff'),
    (dict(value_base64='AAEC\n/w=='), b'\x00\x01\x02\xff'),
    (dict(), None),
])
def test_decode_value(params, expected):
    assert _secret.decode_value(params) == expected


@pytest.mark.parametrize('bad', ['sekrit-value!', 'AAE', 'äöü'])
def test_bad_base64_message_never_holds_the_value(bad):
    with pytest.raises(_xml.XMLInputError) as error:
        _secret.decode_value(dict(value_base64=bad))
    assert bad not in str(error.value)


@pytest.mark.parametrize('params,message', [
    (dict(xml='<domain/>'), '<secret> root'),
    (dict(xml="<secret><usage type='passphrase'><name>n</name></usage></secret>"), 'usage type'),
    (dict(xml="<secret><uuid>8e7ee0a2-6d12-4a7e-bd4d-3a4f0e6c2c31</uuid></secret>",
          uuid='00000000-6d12-4a7e-bd4d-3a4f0e6c2c31'), 'differ'),
    (dict(xml="<secret><usage type='tls'><name>n</name></usage></secret>", usage_type='tls', usage_id='m'),
     'differ'),
])
def test_desired_document_rejects_inconsistent_input(params, message):
    with pytest.raises(_xml.XMLInputError, match=message):
        _secret.desired_document(params)


def test_desired_document_takes_the_uuid_option():
    root = _secret.desired_document(dict(xml="<secret><usage type='tls'><name>n</name></usage></secret>",
                                         uuid='8e7ee0a2-6d12-4a7e-bd4d-3a4f0e6c2c31'))
    assert root[0].tag == 'uuid'
