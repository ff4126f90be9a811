# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sysvirt.libvirt.network on the daemon's test driver (test+unix:///default, state kept between module runs)."""

from __future__ import annotations

import libvirt
import pytest

from conftest import SHARED_TEST_URI, run_module, unique_name

NET = ("<network><name>{name}</name><bridge name='{bridge}'/><ip address='198.51.100.1' prefix='24'><dhcp>"
       "<range start='198.51.100.100' end='198.51.100.150'/></dhcp></ip></network>")


@pytest.fixture
def name(shared_test_conn):
    value = unique_name('net')
    yield value
    try:
        net = shared_test_conn.networkLookupByName(value)
    except libvirt.libvirtError:
        return
    if net.isActive():
        net.destroy()
    if net.isPersistent():
        net.undefine()


def xml_for(name):
    return NET.format(name=name, bridge='sv' + name[-8:])


def four_runs(args, actions):
    args = dict(args, uri=SHARED_TEST_URI)
    results = [run_module('network', args, check_mode=c, diff=True) for c in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions'] == actions
    return results[1]


@pytest.mark.parametrize('steps', [
    [('present', ['define'], False), ('active', ['start'], True), ('inactive', ['stop'], False)],
    [('active', ['define', 'start'], True), ('absent', ['stop', 'undefine'], None)],
    [('inactive', ['define'], False), ('absent', ['undefine'], None)],
], ids=['present-active-inactive', 'active-absent', 'inactive-absent'])
def test_states(shared_test_conn, name, steps):
    for state, actions, active in steps:
        result = four_runs(dict(xml=xml_for(name), state=state), actions)
        if active is None:
            assert result['network'] is None
            with pytest.raises(libvirt.libvirtError):
                shared_test_conn.networkLookupByName(name)
        else:
            net = shared_test_conn.networkLookupByName(name)
            assert bool(net.isActive()) == active == result['network']['active']


def test_lookup_by_uuid_and_autostart(shared_test_conn, name):
    four_runs(dict(xml=xml_for(name)), ['define'])
    uuid = shared_test_conn.networkLookupByName(name).UUIDString()
    result = four_runs(dict(uuid=uuid, autostart=True), ['autostart on'])
    assert result['network']['autostart'] and shared_test_conn.networkLookupByName(name).autostart()


@pytest.mark.parametrize('option,entry,action', [
    ('dhcp_hosts', dict(mac='52:54:00:aa:00:01', name='h1', ip='198.51.100.11'),
     'DHCP host mac=52:54:00:aa:00:01 name=h1 ip=198.51.100.11'),
    ('dhcp_ranges', dict(start='198.51.100.200', end='198.51.100.201'), 'DHCP range 198.51.100.200-198.51.100.201'),
    ('dns_hosts', dict(ip='198.51.100.11', hostnames=['h1']), 'DNS host 198.51.100.11'),
    ('dns_txt', dict(name='k', value='v'), 'DNS TXT record k'),
    ('dns_srv', dict(service='ldap', protocol='tcp', target='h1', port=389), 'DNS SRV record _ldap._tcp -> h1:389'),
    ('portgroups', dict(name='pg'), 'port group pg'),
])
def test_live_updates(shared_test_conn, name, option, entry, action):
    four_runs(dict(xml=xml_for(name), state='active'), ['define', 'start'])
    added = four_runs({'name': name, option: [entry]}, ['add %s (live, config)' % action])
    assert [e for e in added['network'][option] if entry.items() <= e.items()], added['network'][option]
    removed = four_runs({'name': name, option: [dict(entry, state='absent')]},
                        ['remove %s (live, config)' % action])
    assert removed['network'][option] == ([] if option != 'dhcp_ranges' else
                                          [dict(start='198.51.100.100', end='198.51.100.150', ip_index=0)])


def test_check_mode_predicts_a_new_network_with_entries(shared_test_conn, name):
    args = dict(uri=SHARED_TEST_URI, xml=xml_for(name), state='active',
                dhcp_hosts=[dict(mac='52:54:00:aa:00:02', ip='198.51.100.12', name='p')])
    predicted = run_module('network', args, check_mode=True)
    assert predicted['actions'] == ['define', 'start',
                                    'add DHCP host mac=52:54:00:aa:00:02 name=p ip=198.51.100.12 (live, config)']
    assert predicted['network']['dhcp_hosts'][0]['ip'] == '198.51.100.12'
    with pytest.raises(libvirt.libvirtError):
        shared_test_conn.networkLookupByName(name)
    real = run_module('network', args)
    assert real['actions'] == predicted['actions']
    assert run_module('network', args)['changed'] is False


def test_transient(shared_test_conn, name):
    four_runs(dict(xml=xml_for(name), persistent=False), ['create transient'])
    net = shared_test_conn.networkLookupByName(name)
    assert net.isActive() and not net.isPersistent()
    four_runs(dict(name=name, persistent=False, state='absent'), ['stop'])


@pytest.mark.parametrize('args,message', [
    (dict(xml='<network><name>sysvirt-test-x</name>'), 'not well-formed'),
    (dict(xml='<!DOCTYPE n [<!ENTITY e SYSTEM "file:///etc/passwd">]><network><name>&e;</name></network>'),
     'DOCTYPE'),
    (dict(name='sysvirt-test-net-nosuch', state='active'), 'does not exist'),
    (dict(name='sysvirt-test-net-t', xml='<network/>', persistent=False, autostart=True), 'automatically'),
])
def test_bad_input(shared_test_conn, args, message):
    before = sorted(n.name() for n in shared_test_conn.listAllNetworks())
    result = run_module('network', dict(args, uri=SHARED_TEST_URI))
    assert result.failed and message in result['msg'], result
    assert 'Traceback' not in str(result)
    assert sorted(n.name() for n in shared_test_conn.listAllNetworks()) == before
