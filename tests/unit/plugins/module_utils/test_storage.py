# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_storage: how desired pool documents are spelled, build decisions, and the pool Kind on the test driver."""

from __future__ import annotations

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _storage, _xml


@pytest.mark.parametrize('given, stored', [
    ('///var/////lib/libvirt/images//', '/var/lib/libvirt/images'),
    ('/srv/pool', '/srv/pool'),
    ('/', '/'),
    ('relative/path', 'relative/path'),
])
def test_target_path_spelled_like_libvirt(given, stored):
    doc = _xml.parse("<pool type='dir'><name>p</name><target><path>%s</path></target></pool>" % given)
    assert _xml.find_text(_storage.normalise_pool_xml(doc), 'target/path') == stored


def test_default_owner_and_group_dropped_others_kept():
    doc = _xml.parse("<pool type='dir'><name>p</name><target><path>/p</path><permissions><mode>0700</mode>"
                     "<owner>-1</owner><group>107</group></permissions></target></pool>")
    perms = _storage.normalise_pool_xml(doc).find('target/permissions')
    assert [c.tag for c in perms] == ['mode', 'group']


@pytest.mark.parametrize('source_name, expected', [(None, '/dev/p'), ('vg0', '/dev/vg0')])
def test_logical_target_is_the_volume_group(source_name, expected):
    source = '<source><name>%s</name></source>' % source_name if source_name else ''
    doc = _xml.parse("<pool type='logical'><name>p</name>%s<target><path>/dev/other</path></target></pool>"
                     % source)
    assert _xml.find_text(_storage.normalise_pool_xml(doc), 'target/path') == expected


@pytest.mark.parametrize('pool_type, mode, flags', [
    ('dir', 'overwrite', 0), ('dir', 'new', 0), ('fs', 'no_overwrite', 4), ('disk', 'overwrite', 8),
    ('logical', 'new', 0), ('fs', 'repair', 1), ('fs', 'resize', 2),
])
def test_build_flags(pool_type, mode, flags):
    assert _storage.build_flags("<pool type='%s'><name>p</name></pool>" % pool_type, mode) == flags


def test_needs_build(test_conn, tmp_path):
    missing = "<pool type='dir'><name>p</name><target><path>%s</path></target></pool>" % (tmp_path / 'no')
    # a pool this run defines always needs building
    assert _storage.needs_build(test_conn, missing, True)
    # the test driver's paths are not on this host: only a new pool is built
    assert not _storage.needs_build(test_conn, missing, False)


def test_pool_rules_ignore_measured_sizes():
    desired = "<pool type='dir'><name>p</name><capacity unit='G'>5</capacity><available>1</available></pool>"
    stored = "<pool type='dir'><name>p</name><capacity unit='bytes'>7</capacity></pool>"
    assert _xml.differences(desired, stored, _storage.POOL_RULES) == []


def test_pool_kind_on_test_driver(test_conn):
    kind = _storage.POOL_KIND
    pool = kind.lookup(test_conn, name='default-pool')
    assert kind.lookup(test_conn, uuid=pool.UUIDString()).name() == 'default-pool'
    assert kind.lookup(test_conn, name='sysvirt-test-none') is None
    assert '<name>default-pool</name>' in kind.stored_xml(pool)
    info = _storage.pool_to_dict(pool, with_xml=True)
    assert info['name'] == 'default-pool' and info['active'] and info['xml'].startswith('<pool')


@pytest.mark.parametrize('pool_type, target', [('zfs', '/dev/zvol/tank2'), ('logical', '/dev/tank2')])
def test_predict_derives_the_target_path_from_the_source_name(pool_type, target):
    stored = ("<pool type='%s'><name>p</name><source><name>tank</name></source><target><path>%s</path></target>"
              "</pool>" % (pool_type, target.replace('tank2', 'tank')))
    desired = "<pool type='%s'><name>p</name><source><name>tank2</name></source></pool>" % pool_type
    predicted = _storage.POOL_KIND.predict(_xml.parse(desired), _xml.parse(stored), _storage.POOL_RULES)
    assert _xml.find_text(predicted, 'target/path') == target
    # a target path the document gives is the document's
    given = desired.replace('</pool>', '<target><path>/srv/own</path></target></pool>')
    predicted = _storage.POOL_KIND.predict(_xml.parse(given), _xml.parse(stored), _storage.POOL_RULES)
    assert _xml.find_text(predicted, 'target/path') == '/srv/own'
