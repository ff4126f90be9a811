# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How the definition modules end a run: diff only in diff mode, the Outcome's warnings as warnings, bad XML as a
plain failure (the shared exit_module / module_connection path their main() relies on; domain_device and
domain_snapshot run on test:///default's own 'test' domain, which each run gets afresh)."""

from __future__ import annotations

import pytest

from conftest import SHARED_TEST_URI, unique_name


def _network(name):
    return "<network><name>%s</name><bridge name='virbr-st%s'/></network>" % (name, name[-4:])


def _interface(name):
    return ("<interface type='ethernet' name='%s'><start mode='onboot'/><mac address='52:54:00:aa:00:09'/>"
            "</interface>" % name)


def _pool(name):
    return "<pool type='dir'><name>%s</name><target><path>/tmp/%s</path></target></pool>" % (name, name)


DOCUMENTS = dict(network=_network, host_interface=_interface, storage_pool=_pool)


def _args(module, name):
    if module == 'volume':
        return dict(pool='default-pool', xml='<volume><name>%s.img</name><capacity>1048576</capacity></volume>' % name)
    return dict(xml=DOCUMENTS[module](name))


@pytest.mark.parametrize('diff', [False, True])
@pytest.mark.parametrize('module', sorted(DOCUMENTS) + ['volume'])
def test_diff_only_in_diff_mode(module_runner, module, diff):
    name = unique_name(module.replace('_', '')[:5])
    result = module_runner(module, dict(_args(module, name), uri='test:///default'), check_mode=True, diff=diff)
    assert not result.failed, result
    assert result['changed'] is True and len(result['actions']) == 1, result
    assert ('diff' in result) is diff, result
    if diff:
        assert not result['diff']['before'] and name in str(result['diff']['after']), result
    assert 'warnings' not in result, result


def _define(conn, module, name):
    if module == 'network':
        return conn.networkDefineXML(_network(name))
    return conn.interfaceDefineXML(_interface(name), 0)


@pytest.mark.parametrize('module', ['network', 'host_interface'])
def test_what_libvirt_does_not_keep_is_a_warning(module_runner, shared_test_conn, module):
    name = unique_name(module.replace('_', '')[:5])
    obj = _define(shared_test_conn, module, name)
    try:
        head, tail = DOCUMENTS[module](name).rsplit('</', 1)
        xml = '%s<sysvirt-unknown/></%s' % (head, tail)
        result = module_runner(module, dict(uri=SHARED_TEST_URI, xml=xml))
        assert not result.failed, result
        assert result['changed'] is False and result['actions'] == [], result
        assert len(result['warnings']) == 1, result
        text = str(result['warnings'])
        assert 'libvirt stores this ' in text and 'sysvirt-unknown' in text, result
        assert 'diff' not in result, result
    finally:
        obj.undefine()


@pytest.mark.parametrize('module,args', [
    ('nwfilter', dict(xml="<filter name='sysvirt-test-f'><rule")),
    ('secret', dict(xml="<secret ephemeral='no'><usage type='tls'>")),
    ('network', dict(xml="<network><name>sysvirt-test-n</name>")),
    ('storage_pool', dict(xml="<pool type='dir'><name>sysvirt-test-p</name>")),
    ('domain_device', dict(domain='test', xml="<disk type='file'><source")),
    ('domain_snapshot', dict(domain='test', xml="<domainsnapshot><name>sysvirt-test-s")),
    ('volume', dict(pool='default-pool', xml="<volume><name>sysvirt-test-v.img")),
])
@pytest.mark.parametrize('check_mode', [False, True])
def test_bad_xml_is_a_plain_failure(module_runner, module, args, check_mode):
    result = module_runner(module, dict(args, uri='test:///default'), check_mode=check_mode, diff=True)
    assert result.failed, result
    # ansible-core adds 'invocation' itself (2.21 only when the controller asks for it): not ours to check
    assert set(result) - {'invocation'} == {'failed', 'msg'}, result
    assert 'not well-formed' in result['msg'] and '\n' not in result['msg'], result
