# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sysvirt.libvirt.network on qemu:///system: every state and every live update with the four-run pattern.

Networks here are isolated (no <forward>) and use 198.51.100.0/24 (TEST-NET-2; this host's own uplink is on
192.0.2.0/24); a started one runs a dnsmasq that sends nothing, since nothing is plugged into its bridge.
"""

from __future__ import annotations

import libvirt
import pytest
from lxml import etree

from conftest import QEMU_URI, run_module, unique_name
from utils.checkdiff import assert_same_diff

NET = "<network><name>{name}</name><ip address='198.51.100.1' prefix='24'><dhcp>" \
      "<range start='198.51.100.100' end='198.51.100.150'/></dhcp></ip></network>"


def _remove(conn, name):
    try:
        net = conn.networkLookupByName(name)
    except libvirt.libvirtError:
        return
    if net.isActive():
        net.destroy()
    if net.isPersistent():
        net.undefine()


@pytest.fixture
def name(qemu_conn):
    value = unique_name('net')
    yield value
    _remove(qemu_conn, value)


def four_runs(args, expect_actions):
    """check (changed) -> real (changed) -> check (unchanged) -> real (unchanged); returns the real first run."""
    args = dict(args, uri=QEMU_URI)
    results = [run_module('network', args, check_mode=check, diff=True) for check in (True, False, True, False)]
    for result in results:
        assert not result.failed, result
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions'] == expect_actions
    assert results[0]['diff']['after'] is not None
    # Check mode against the real run, except where a definition is new (what libvirt generates is unknown)
    if not {'define', 'create transient', 'make persistent'} & set(expect_actions):
        assert_same_diff(results[0], results[1], 'functional')
    return results[1]


def _inactive(net):
    return etree.fromstring(net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE))


def _live(net):
    return etree.fromstring(net.XMLDesc(0))


def test_states_autostart_and_carry_over(qemu_conn, name):
    xml = NET.format(name=name)
    four_runs(dict(xml=xml), ['define'])
    net = qemu_conn.networkLookupByName(name)
    stored = _inactive(net)
    bridge, mac = stored.find('bridge').get('name'), stored.find('mac').get('address')
    assert bridge and mac and not net.isActive()
    four_runs(dict(xml=xml, state='active'), ['start'])
    assert net.isActive()
    # libvirt's generated bridge name and MAC are kept by a redefinition
    four_runs(dict(xml=xml.replace('</network>', "<domain name='lab.test'/></network>")), ['redefine'])
    assert _inactive(net).find('bridge').get('name') == bridge
    assert _inactive(net).find('mac').get('address') == mac
    four_runs(dict(name=name, autostart=True), ['autostart on'])
    assert net.autostart()
    four_runs(dict(name=name, autostart=False), ['autostart off'])
    four_runs(dict(name=name, state='inactive'), ['stop'])
    assert not net.isActive()
    four_runs(dict(name=name, state='absent'), ['undefine'])
    with pytest.raises(libvirt.libvirtError):
        qemu_conn.networkLookupByName(name)


def test_restart_needed_and_restart_on_change(qemu_conn, name):
    xml = NET.format(name=name)
    four_runs(dict(xml=xml, state='active'), ['define', 'start'])
    changed = xml.replace('</network>', "<domain name='lab.test'/></network>")
    first = run_module('network', dict(uri=QEMU_URI, xml=changed))
    assert first['changed'] and first['actions'] == ['redefine'] and first['restart_needed']
    assert first['pending_live_changes'][0]['path'] == '/network/domain[1]'
    again = run_module('network', dict(uri=QEMU_URI, xml=changed))
    assert not again['changed'] and again['restart_needed']
    net = qemu_conn.networkLookupByName(name)
    assert _live(net).find('domain') is None
    four_runs(dict(xml=changed, restart_on_change=True), ['restart'])
    assert _live(net).find('domain').get('name') == 'lab.test'


UPDATES = [
    ('dhcp host add', dict(dhcp_hosts=[dict(mac='52:54:00:AA:00:10', name='web1', ip='198.51.100.10')]),
     'ip/dhcp/host', lambda e: e.get('mac') == '52:54:00:aa:00:10' and e.get('ip') == '198.51.100.10'),
    ('dhcp range add', dict(dhcp_ranges=[dict(start='198.51.100.200', end='198.51.100.210')]),
     'ip/dhcp/range', lambda e: e.get('start') == '198.51.100.200'),
    ('dns host add', dict(dns_hosts=[dict(ip='198.51.100.10', hostnames=['web1', 'www'])]),
     'dns/host', lambda e: sorted(h.text for h in e.findall('hostname')) == ['web1', 'www']),
    ('dns txt add', dict(dns_txt=[dict(name='info', value='hello')]),
     'dns/txt', lambda e: e.get('value') == 'hello'),
    ('dns srv add', dict(dns_srv=[dict(service='http', protocol='tcp', target='web1.lab.test', port=80,
                                       priority=10, weight=5)]),
     'dns/srv', lambda e: e.get('port') == '80' and e.get('priority') == '10'),
    ('portgroup add', dict(portgroups=[dict(name='pg1', default=True)]),
     'portgroup', lambda e: e.get('name') == 'pg1' and e.get('default') == 'yes'),
]


@pytest.mark.parametrize('label,options,path,check', UPDATES, ids=[u[0] for u in UPDATES])
def test_live_update_add_change_remove(qemu_conn, name, label, options, path, check):
    four_runs(dict(xml=NET.format(name=name), state='active'), ['define', 'start'])
    net = qemu_conn.networkLookupByName(name)
    option = next(iter(options))
    first = four_runs(dict(name=name, **options), ['add %s (live, config)' % first_words(label, options)])
    assert net.isActive()
    for root in (_live(net), _inactive(net)):
        assert [e for e in root.findall(path) if check(e)], etree.tostring(root)
    entry = dict(options[option][0])
    if 'mac' in entry:
        entry['mac'] = entry['mac'].lower()  # libvirt stores MAC addresses in lower case
    assert [e for e in first['network'][option] if entry.items() <= e.items()], first['network'][option]
    removal = {option: [dict(entry, state='absent') for entry in options[option]]}
    four_runs(dict(name=name, **removal), ['remove %s (live, config)' % first_words(label, options)])
    for root in (_live(net), _inactive(net)):
        assert not [e for e in root.findall(path) if check(e)]


def first_words(label, options):
    """The action text the module uses for the single entry of ``options``."""
    option, entry = next(iter(options.items()))
    entry = entry[0]
    text = dict(
        dhcp_hosts=lambda: 'DHCP host ' + ' '.join('%s=%s' % (k, entry[k]) for k in ('mac', 'name', 'ip')),
        dhcp_ranges=lambda: 'DHCP range %s-%s' % (entry['start'], entry['end']),
        dns_hosts=lambda: 'DNS host %s' % entry['ip'],
        dns_txt=lambda: 'DNS TXT record %s' % entry['name'],
        dns_srv=lambda: 'DNS SRV record _%s._%s -> %s:%s' % (entry['service'], entry['protocol'], entry['target'],
                                                             entry['port']),
        portgroups=lambda: 'port group %s' % entry['name'],
    )[option]()
    return text


def test_dhcp_host_change_by_mac_and_by_name(qemu_conn, name):
    four_runs(dict(xml=NET.format(name=name), state='active'), ['define', 'start'])
    net = qemu_conn.networkLookupByName(name)
    four_runs(dict(name=name, dhcp_hosts=[dict(mac='52:54:00:aa:00:20', name='db', ip='198.51.100.20')]),
              ['add DHCP host mac=52:54:00:aa:00:20 name=db ip=198.51.100.20 (live, config)'])
    four_runs(dict(name=name, dhcp_hosts=[dict(mac='52:54:00:aa:00:20', ip='198.51.100.21')]),
              ['change DHCP host mac=52:54:00:aa:00:20 ip=198.51.100.21 (live, config)'])
    for root in (_live(net), _inactive(net)):
        hosts = root.findall('ip/dhcp/host')
        assert [(h.get('mac'), h.get('name'), h.get('ip')) for h in hosts] == [
            ('52:54:00:aa:00:20', 'db', '198.51.100.21')]
    four_runs(dict(name=name, dhcp_hosts=[dict(name='db', state='absent')]),
              ['remove DHCP host name=db (live, config)'])
    assert not _live(net).findall('ip/dhcp/host') and not _inactive(net).findall('ip/dhcp/host')


def test_updates_on_an_inactive_network_touch_the_config_only(qemu_conn, name):
    four_runs(dict(xml=NET.format(name=name)), ['define'])
    four_runs(dict(name=name, dns_txt=[dict(name='k', value='v')]), ['add DNS TXT record k (config)'])
    four_runs(dict(name=name, dns_txt=[dict(name='k', value='w')]),
              ['remove old DNS TXT record k (config)', 'add DNS TXT record k (config)'])
    assert _inactive(qemu_conn.networkLookupByName(name)).find('dns/txt').get('value') == 'w'


def test_forward_interfaces_on_a_never_started_bridge_network(qemu_conn, name):
    xml = ("<network><name>%s</name><forward mode='passthrough'><interface dev='sv-none0'/></forward>"
           "</network>" % name)
    four_runs(dict(xml=xml), ['define'])
    four_runs(dict(name=name, forward_interfaces=[dict(dev='sv-none1')]),
              ['add forward interface sv-none1 (config)'])
    net = qemu_conn.networkLookupByName(name)
    assert [i.get('dev') for i in _inactive(net).findall('forward/interface')] == ['sv-none0', 'sv-none1']
    four_runs(dict(name=name, forward_interfaces=[dict(dev='sv-none0', state='absent')]),
              ['remove forward interface sv-none0 (config)'])
    assert not net.isActive()


def test_transient_network(qemu_conn, name):
    xml = NET.format(name=name)
    four_runs(dict(xml=xml, persistent=False, state='active'), ['create transient'])
    net = qemu_conn.networkLookupByName(name)
    assert net.isActive() and not net.isPersistent()
    four_runs(dict(name=name, persistent=False, dns_txt=[dict(name='t', value='1')]),
              ['add DNS TXT record t (live)'])
    four_runs(dict(xml=xml, state='present'), ['make persistent'])
    assert net.isPersistent() and net.isActive()
    four_runs(dict(xml=xml, persistent=False), ['make transient'])
    assert not net.isPersistent() and net.isActive()
    four_runs(dict(name=name, persistent=False, state='absent'), ['stop'])
    with pytest.raises(libvirt.libvirtError):
        qemu_conn.networkLookupByName(name)


@pytest.mark.parametrize('args,message', [
    (dict(xml='<network><name>x</name>'), 'not well-formed'),
    (dict(xml='<pool><name>x</name></pool>'), 'root element'),
    (dict(name='sysvirt-test-net-nosuch'), 'does not exist'),
    (dict(name='sysvirt-test-net-nosuch', xml='<network><name>other</name></network>'), 'differ'),
    (dict(xml='<network><name>sysvirt-test-net-bad</name><forward mode="bogus"/></network>'), 'Failed to define'),
    (dict(xml='<network><name>sysvirt-test-net-t</name></network>', persistent=False, state='inactive'),
     'transient'),
])
def test_bad_input_fails_cleanly_and_changes_nothing(qemu_conn, args, message):
    before = sorted(n.name() for n in qemu_conn.listAllNetworks())
    result = run_module('network', dict(args, uri=QEMU_URI))
    assert result.failed and message in result['msg'], result
    assert 'Traceback' not in str(result) and '\n' not in result['msg']
    assert sorted(n.name() for n in qemu_conn.listAllNetworks()) == before
