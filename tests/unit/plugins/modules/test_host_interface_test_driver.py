# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""host_interface / host_interface_info: full lifecycle, corpus and rollback on the daemon's test driver."""

from __future__ import annotations

import re

import libvirt
import pytest

from conftest import PREFIX, corpus_manifest, corpus_params, unique_name

URI = 'test+unix:///default'


def _names(conn):
    return {i.name() for i in conn.listAllInterfaces(0)}


@pytest.fixture
def cleanup(shared_test_conn):
    before = _names(shared_test_conn)
    yield
    foreign = []
    for iface in shared_test_conn.listAllInterfaces(0):
        if iface.name() not in before:
            if not iface.name().startswith(PREFIX):
                foreign.append(iface.name())  # not ours to remove (a parallel run's, or a module bug)
                continue
            if iface.isActive():
                iface.destroy(0)
            iface.undefine()
    assert not foreign, 'interfaces not made by this test appeared: %s' % foreign


def _ethernet(name, mac='52:54:00:aa:00:01', mtu=1500):
    return ("<interface type='ethernet' name='%s'><start mode='onboot'/><mac address='%s'/><mtu size='%d'/>"
            "<protocol family='ipv4'><ip address='192.0.2.10' prefix='24'/></protocol></interface>" % (name, mac, mtu))


def _four(module_runner, args, actions):
    results = []
    for check_mode, changed in ((True, True), (False, True), (True, False), (False, False)):
        result = module_runner('host_interface', args, check_mode=check_mode, diff=True)
        assert not result.failed, result
        assert result['changed'] is changed, (check_mode, result)
        assert result['actions'] == (actions if changed else []), result
        results.append(result)
    return results


def test_lifecycle(module_runner, shared_test_conn, cleanup):
    name = unique_name('if')
    args = dict(uri=URI, xml=_ethernet(name))
    results = _four(module_runner, args, ['define'])
    assert results[1]['interface']['mtu'] == 1500 and results[1]['interface']['active'] is False
    assert results[0]['interface']['name'] == name
    assert shared_test_conn.interfaceLookupByName(name).isActive() == 0

    _four(module_runner, dict(args, state='active'), ['start'])
    assert shared_test_conn.interfaceLookupByName(name).isActive() == 1
    changed = _four(module_runner, dict(args, xml=_ethernet(name, mtu=9000), state='active'), ['redefine'])
    assert changed[1]['interface']['mtu'] == 9000
    _four(module_runner, dict(uri=URI, name=name, state='inactive'), ['stop'])
    by_mac = module_runner('host_interface_info', dict(uri=URI, mac='52:54:00:aa:00:01'))
    assert [i['name'] for i in by_mac['interfaces']] == [name]
    assert by_mac['interfaces'][0]['protocols'][0]['addresses'] == ['192.0.2.10/24']
    module_runner('host_interface', dict(uri=URI, name=name, state='active'))
    _four(module_runner, dict(uri=URI, name=name, state='absent'), ['stop', 'undefine'])
    assert name not in _names(shared_test_conn)


def test_failure_rolls_back(module_runner, shared_test_conn, cleanup, monkeypatch):
    name = unique_name('if')

    def broken_start(self, flags=0):
        raise libvirt.libvirtError('injected failure to start')
    monkeypatch.setattr(libvirt.virInterface, 'create', broken_start)
    result = module_runner('host_interface', dict(uri=URI, xml=_ethernet(name), state='active'))
    assert result.failed and 'rolled back' in result['msg'], result
    assert name not in _names(shared_test_conn)


def test_without_transaction_the_define_stays(module_runner, shared_test_conn, cleanup, monkeypatch):
    name = unique_name('if')

    def broken_start(self, flags=0):
        raise libvirt.libvirtError('injected failure to start')
    monkeypatch.setattr(libvirt.virInterface, 'create', broken_start)
    result = module_runner('host_interface', dict(uri=URI, xml=_ethernet(name), state='active', transaction=False))
    assert result.failed and 'rolled back' not in result['msg']
    assert name in _names(shared_test_conn)


def test_confirm_commits_when_the_hypervisor_answers(module_runner, shared_test_conn, cleanup):
    name = unique_name('if')
    args = dict(uri=URI, xml=_ethernet(name), state='active', confirm=dict(uri=URI, timeout=10))
    results = _four(module_runner, args, ['define', 'start'])
    assert results[1]['interface']['active'] is True
    assert shared_test_conn.interfaceLookupByName(name).isActive() == 1
    # committed: a new transaction can begin (libvirt refuses a second one while one is open)
    shared_test_conn.changeBegin(0)
    shared_test_conn.changeCommit(0)


def test_confirm_rolls_back_when_the_hypervisor_does_not_answer(module_runner, shared_test_conn, cleanup):
    name = unique_name('if')
    unreachable = 'test+unix:///default?socket=/nonexistent/sysvirt-test-libvirt-sock'
    result = module_runner('host_interface', dict(uri=URI, xml=_ethernet(name), state='active',
                                                  confirm=dict(uri=unreachable, timeout=2)))
    assert result.failed, result
    assert 'did not answer a new connection to %s within 2 s' % unreachable in result['msg'], result
    assert 'the change transaction was rolled back' in result['msg'] and 'not committed' in result['hint']
    assert name not in _names(shared_test_conn)
    shared_test_conn.changeBegin(0)  # nothing left open
    shared_test_conn.changeRollback(0)


@pytest.mark.parametrize('check_mode', [True, False])
def test_confirm_needs_a_transaction(module_runner, shared_test_conn, cleanup, check_mode):
    name = unique_name('if')
    result = module_runner('host_interface', dict(uri=URI, xml=_ethernet(name), transaction=False,
                                                  confirm=dict(uri=URI)), check_mode=check_mode)
    assert result.failed and 'confirm needs transaction: true' in result['msg'], result
    assert name not in _names(shared_test_conn)


@pytest.mark.parametrize('args,message', [
    (dict(xml='<interface'), 'not well-formed'),
    (dict(xml='<network/>'), '<interface> root'),
    (dict(xml="<interface type='ethernet'/>"), 'no name'),
    (dict(name='sysvirt-test-nope', state='active'), 'does not exist'),
    (dict(xml="<interface type='nonsense' name='sysvirt-test-bad'/>"), 'Failed to define'),
])
def test_bad_input_fails_cleanly(module_runner, shared_test_conn, cleanup, args, message):
    before = _names(shared_test_conn)
    result = module_runner('host_interface', dict(args, uri=URI))
    assert result.failed and message in result['msg'], result
    assert _names(shared_test_conn) == before


ROWS = [r for r in corpus_manifest() if r['kind'] == 'interface']


@pytest.mark.parametrize('row', corpus_params(ROWS), ids=lambda r: r['file'])
def test_corpus(module_runner, shared_test_conn, cleanup, corpus, row):
    with open(row['path'], encoding='utf-8') as handle:
        text = handle.read()
    name = unique_name('c')
    text = re.sub(r"(<interface\b[^>]*\bname=)(['\"])[^'\"]*\2", r"\1'%s'" % name, text, count=1)
    args = dict(uri=URI, xml=text)
    before = _names(shared_test_conn)
    if row['accepted_test_driver'] == 'yes':
        predicted = module_runner('host_interface', args, check_mode=True)
        assert not predicted.failed and predicted['changed'] is True
        assert _names(shared_test_conn) == before
        first = module_runner('host_interface', args)
        assert not first.failed and first['changed'] is True and first['actions'] == predicted['actions'], first
        again = module_runner('host_interface', args)
        assert not again.failed and again['changed'] is False, again
        assert module_runner('host_interface', args, check_mode=True)['changed'] is False
        assert module_runner('host_interface', dict(uri=URI, name=name, state='absent'))['changed'] is True
    else:
        assert module_runner('host_interface', args).failed
    assert _names(shared_test_conn) == before
