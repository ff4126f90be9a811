# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""secret and secret_info against qemu:///system (the test driver has no secrets)."""

from __future__ import annotations

import base64
import json
import os
import re

import libvirt
import pytest

from conftest import PREFIX, QEMU_URI, corpus_manifest, corpus_params, unique_name

PLANTED = 'sysvirt-planted-9f3c2a7e41d8'


def _secret_uuids(conn):
    return {s.UUIDString() for s in conn.listAllSecrets(0)}


def _by_usage(conn, usage_const, usage_id):
    try:
        return conn.secretLookupByUsage(usage_const, usage_id)
    except libvirt.libvirtError:
        return None


@pytest.fixture
def cleanup(qemu_conn):
    """UUIDs of secrets made by a test; all of ours removed afterwards, even on failure."""
    before = _secret_uuids(qemu_conn)
    yield
    foreign = []
    for secret in qemu_conn.listAllSecrets(0):
        if secret.UUIDString() not in before:
            usage = secret.usageID() or ''
            if PREFIX in usage:
                secret.undefine()
            else:
                foreign.append(usage)
    # ours are all removed before this check fails
    assert not foreign, 'secrets not made by this test appeared: %s' % foreign


def _no_value_anywhere(result, *values):
    text = json.dumps(result)
    for value in values:
        assert value not in text
        assert base64.b64encode(value.encode()).decode() not in text


def _four_runs(module_runner, args, first_actions):
    """check (changed) -> real (changed) -> check (unchanged) -> real (unchanged); returns the results."""
    results = []
    for check_mode, changed in ((True, True), (False, True), (True, False), (False, False)):
        result = module_runner('secret', args, check_mode=check_mode, diff=True)
        assert not result.failed, result
        assert result['changed'] is changed, (check_mode, result)
        assert result['actions'] == (first_actions if changed else []), result
        results.append(result)
    return results


@pytest.mark.parametrize('usage_type,const', [
    ('volume', libvirt.VIR_SECRET_USAGE_TYPE_VOLUME),
    ('ceph', libvirt.VIR_SECRET_USAGE_TYPE_CEPH),
    ('iscsi', libvirt.VIR_SECRET_USAGE_TYPE_ISCSI),
    ('tls', libvirt.VIR_SECRET_USAGE_TYPE_TLS),
    ('vtpm', libvirt.VIR_SECRET_USAGE_TYPE_VTPM),
])
def test_lifecycle_with_value(module_runner, qemu_conn, cleanup, usage_type, const):
    usage_id = ('/var/lib/libvirt/images/%s.img' if usage_type == 'volume' else '%s') % unique_name('secret')
    args = dict(uri=QEMU_URI, usage_type=usage_type, usage_id=usage_id, description='first', value=PLANTED)
    results = _four_runs(module_runner, args, ['define', 'set value'])
    for result in results:
        _no_value_anywhere(result, PLANTED)
    secret = _by_usage(qemu_conn, const, usage_id)
    assert secret is not None
    assert secret.value() == PLANTED.encode()
    assert results[1]['secret']['uuid'] == secret.UUIDString()
    assert results[1]['secret']['description'] == 'first'
    assert results[3]['value_report']['comparable'] is True

    # the description changes the definition only
    changed = _four_runs(module_runner, dict(args, description='second'), ['redefine'])
    assert changed[1]['secret']['uuid'] == secret.UUIDString()
    assert 'second' in qemu_conn.secretLookupByUUIDString(secret.UUIDString()).XMLDesc(0)

    # a new value changes the value only
    other = PLANTED + '-rotated'
    changed = _four_runs(module_runner, dict(args, description='second', value=other), ['set value'])
    for result in changed:
        _no_value_anywhere(result, PLANTED, other)
    assert secret.value() == other.encode()

    # absent: four runs too
    for check_mode, expected in ((True, True), (False, True), (True, False), (False, False)):
        result = module_runner('secret', dict(uri=QEMU_URI, usage_type=usage_type, usage_id=usage_id,
                                              state='absent'), check_mode=check_mode)
        assert not result.failed, result
        assert result['changed'] is expected
    assert _by_usage(qemu_conn, const, usage_id) is None


def test_value_base64_binary_and_update_modes(module_runner, qemu_conn, cleanup):
    usage_id = unique_name('secret')
    raw = os.urandom(32)
    encoded = base64.b64encode(raw).decode()
    args = dict(uri=QEMU_URI, usage_type='ceph', usage_id=usage_id, value_base64=encoded)
    _four_runs(module_runner, args, ['define', 'set value'])
    secret = _by_usage(qemu_conn, libvirt.VIR_SECRET_USAGE_TYPE_CEPH, usage_id)
    assert secret.value() == raw

    # on_create: a different value on an existing secret that has one is left alone
    on_create = dict(args, value_update='on_create')
    del on_create['value_base64']
    result = module_runner('secret', dict(on_create, value='different'))
    assert result['changed'] is False and result['value_report']['changed'] is False
    assert result['value_report']['mode'] == 'on_create'
    assert secret.value() == raw
    # always: set on every run, and check mode says so too
    for check_mode in (True, False, False):
        result = module_runner('secret', dict(args, value_update='always'), check_mode=check_mode)
        assert result['changed'] is True and result['actions'] == ['set value']
    assert secret.value() == raw


def test_private_secret_value_cannot_be_compared(module_runner, qemu_conn, cleanup):
    usage_id = unique_name('secret')
    args = dict(uri=QEMU_URI, usage_type='tls', usage_id=usage_id, private=True, value=PLANTED)
    _four_runs(module_runner, args, ['define', 'set value'])
    secret = _by_usage(qemu_conn, libvirt.VIR_SECRET_USAGE_TYPE_TLS, usage_id)
    with pytest.raises(libvirt.libvirtError, match='private'):
        secret.value()

    result = module_runner('secret', dict(args, value='another'))
    assert result['changed'] is False
    report = result['value_report']
    assert report['comparable'] is False and report['changed'] is False
    assert 'value_update=always' in report['note']
    assert any('private' in str(w) for w in result['warnings'])

    result = module_runner('secret', dict(args, value='another', value_update='always'))
    assert result['changed'] is True and result['actions'] == ['set value']
    _no_value_anywhere(result, PLANTED, 'another')

    # libvirt cannot change the private flag: fail, say so, change nothing
    before = secret.XMLDesc(0)
    result = module_runner('secret', dict(args, private=False))
    assert result.failed and 'private flag' in result['msg']
    assert secret.XMLDesc(0) == before


def test_usage_of_existing_uuid_cannot_change(module_runner, qemu_conn, cleanup):
    usage_id = unique_name('secret')
    result = module_runner('secret', dict(uri=QEMU_URI, usage_type='tls', usage_id=usage_id))
    assert result['changed'], result
    uuid = result['secret']['uuid']
    result = module_runner('secret', dict(uri=QEMU_URI, uuid=uuid, usage_type='tls', usage_id=usage_id + '-x'))
    assert result.failed and 'cannot change the usage' in result['msg'], result
    assert _by_usage(qemu_conn, libvirt.VIR_SECRET_USAGE_TYPE_TLS, usage_id + '-x') is None


@pytest.mark.parametrize('args,message', [
    (dict(value_base64='not base64 !!'), 'not valid base64'),
    (dict(xml='<secret><usage type="tls"><name>x</name></usage>'), 'not well-formed'),
    (dict(xml='<domain/>'), '<secret> root'),
    (dict(xml='<!DOCTYPE x [<!ENTITY a "b">]><secret/>'), 'DOCTYPE'),
    (dict(usage_type='tls', usage_id='x', value='abcdefgh', value_base64='YWJjZGVmZ2g='), 'mutually exclusive'),
])
def test_bad_input_fails_cleanly(module_runner, qemu_conn, cleanup, args, message):
    before = _secret_uuids(qemu_conn)
    full = dict(uri=QEMU_URI)
    if 'xml' not in args and 'usage_type' not in args:
        full.update(usage_type='tls', usage_id=unique_name('secret'))
    full.update(args)
    result = module_runner('secret', full)
    assert result.failed and message in result['msg'], result
    assert 'Traceback' not in json.dumps(result)
    assert _secret_uuids(qemu_conn) == before


def test_secret_info(module_runner, qemu_conn, cleanup):
    plain, private = unique_name('secret'), unique_name('secret')
    module_runner('secret', dict(uri=QEMU_URI, usage_type='tls', usage_id=plain, value=PLANTED, description='p'))
    module_runner('secret', dict(uri=QEMU_URI, usage_type='tls', usage_id=private, value=PLANTED, private=True))

    everything = module_runner('secret_info', dict(uri=QEMU_URI), check_mode=True)
    assert not everything.failed and everything['changed'] is False
    usages = {s['usage_id']: s for s in everything['secrets']}
    assert usages[plain]['description'] == 'p' and usages[private]['private'] is True
    assert PLANTED not in json.dumps(everything)

    one = module_runner('secret_info', dict(uri=QEMU_URI, usage_type='tls', usage_id=plain, value=True))
    assert [s['usage_id'] for s in one['secrets']] == [plain]
    assert one['secrets'][0]['value'] == PLANTED and one['secrets'][0]['value_status'] == 'ok'
    by_uuid = module_runner('secret_info', dict(uri=QEMU_URI, uuid=usages[private]['uuid'], value=True))
    assert by_uuid['secrets'][0]['value'] is None and by_uuid['secrets'][0]['value_status'] == 'private'
    none = module_runner('secret_info', dict(uri=QEMU_URI, usage_type='tls', usage_id=unique_name('none')))
    assert none['secrets'] == []


def _corpus_rows(kind):
    return [r for r in corpus_manifest() if r['kind'] == kind]


def _rewrite_secret(path):
    """The corpus document without its UUID, with a usage id unique to this run."""
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    text = re.sub(r'\s*<uuid>[^<]*</uuid>', '', text)
    usage_id = unique_name('corpus')

    def replace(match):
        value = match.group(2)
        new = os.path.join(os.path.dirname(value), usage_id) if value.startswith('/') else usage_id
        return '%s%s%s' % (match.group(1), new, match.group(3))
    text = re.sub(r'(<(?:name|volume|target)>)([^<]*)(</(?:name|volume|target)>)', replace, text)
    return text


@pytest.mark.parametrize('row', corpus_params(_corpus_rows('secret')), ids=lambda r: r['file'])
def test_corpus(module_runner, qemu_conn, cleanup, corpus, row):
    xml = _rewrite_secret(row['path'])
    before = _secret_uuids(qemu_conn)
    args = dict(uri=QEMU_URI, xml=xml)
    if row['accepted_qemu_system'] == 'yes':
        predicted = module_runner('secret', args, check_mode=True)
        assert not predicted.failed and predicted['changed'] is True, predicted
        assert _secret_uuids(qemu_conn) == before
        first = module_runner('secret', args)
        assert not first.failed, first
        assert first['changed'] is True and first['actions'] == predicted['actions']
        again = module_runner('secret', args)
        assert not again.failed and again['changed'] is False, again
        assert module_runner('secret', args, check_mode=True)['changed'] is False
        gone = module_runner('secret', dict(args, state='absent'))
        assert gone['changed'] is True
    else:
        result = module_runner('secret', args)
        assert result.failed, result
        assert 'Traceback' not in result['msg']
    assert _secret_uuids(qemu_conn) == before
