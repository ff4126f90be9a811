# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_domain_data: domains as data, on the in-process test driver, compared with what libvirt says directly."""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain_data as D
from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml

RICH = """<domain type='test'>
  <name>{name}</name>
  <title>Web {{{{ lookup('pipe', 'id') }}}}</title>
  <description>front end</description>
  <metadata><app:owner xmlns:app='https://example.com/app'>ops</app:owner></metadata>
  <memory unit='MiB'>512</memory>
  <currentMemory unit='MiB'>256</currentMemory>
  <vcpu current='1'>4</vcpu>
  <os firmware='efi'><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/x.qcow2'/>
      <target dev='vda' bus='virtio'/><boot order='1'/></disk>
    <disk type='volume' device='disk'><source pool='default' volume='data.img'/><target dev='vdb' bus='virtio'/></disk>
    <disk type='block' device='cdrom'><source dev='/dev/sr0'/><target dev='sda' bus='sata'/><readonly/></disk>
    <interface type='network'><mac address='52:54:00:AA:BB:01'/><source network='default'/><model type='virtio'/></interface>
    <interface type='bridge'><mac address='52:54:00:aa:bb:02'/><source bridge='br0'/></interface>
    <graphics type='vnc' port='5901' autoport='no' passwd='planted-Secret-7' listen='127.0.0.1'/>
  </devices>
</domain>"""


def _define(conn, xml):
    return conn.defineXML(xml)


@pytest.mark.parametrize('state,reason,expected', [
    (1, 1, ('running', 'booted')), (5, 2, ('shutoff', 'destroyed')), (3, 1, ('paused', 'user')),
    (4, 1, ('shutting_down', 'user')), (6, 1, ('crashed', 'panicked')), (5, 99, ('shutoff', '99')),
    (42, 0, ('unknown', 'unknown')),
])
def test_state_and_reason_names(state, reason, expected):
    assert (D.state_name(state), D.reason_name(state, reason)) == expected


def test_definition_data_of_a_rich_domain():
    data = D.definition_data(_xml.parse(RICH.format(name='rich')))
    assert data['name'] == 'rich'
    assert data['vcpus'] == dict(current=1, maximum=4)
    assert data['memory'] == dict(current_bytes=256 * 1024 ** 2, maximum_bytes=512 * 1024 ** 2)
    assert data['os']['type'] == 'hvm' and data['os']['arch'] == 'x86_64' and data['os']['machine'] == 'pc'
    assert data['os']['boot'] == ['network', 'hd']
    assert data['firmware'] == 'efi'
    assert [d['target'] for d in data['disks']] == ['vda', 'vdb', 'sda']
    assert data['disks'][0]['format'] == 'qcow2' and data['disks'][0]['source']['file'] == '/var/lib/x.qcow2'
    assert data['disks'][0]['boot_order'] == 1
    assert data['disks'][1]['source']['pool'] == 'default' and data['disks'][1]['source']['volume'] == 'data.img'
    assert data['disks'][2]['device'] == 'cdrom' and data['disks'][2]['readonly'] is True
    assert data['disks'][2]['source']['dev'] == '/dev/sr0'
    assert data['interfaces'][0]['mac'] == '52:54:00:aa:bb:01'  # lower-cased
    assert data['interfaces'][0]['source']['network'] == 'default' and data['interfaces'][0]['model'] == 'virtio'
    assert data['interfaces'][1]['type'] == 'bridge' and data['interfaces'][1]['source']['bridge'] == 'br0'
    assert data['graphics'] == [dict(type='vnc', port=5901, tls_port=None, autoport=False, listen='127.0.0.1')]
    assert 'planted-Secret-7' not in str(data)
    assert data['title'] == "Web {{ lookup('pipe', 'id') }}"
    assert data['description'] == 'front end'
    assert list(data['metadata']) == ['https://example.com/app']
    assert '>ops<' in data['metadata']['https://example.com/app']


FORWARDS = """<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>fw</name>
<devices>
  <interface type='user'><backend type='passt'/>
    <portForward proto='tcp' address='127.0.0.1'><range start='2222' to='22'/><range start='8080' end='8089' to='80'/>
      <range start='8085' exclude='yes'/></portForward>
    <portForward proto='udp'><range start='5353'/></portForward>
  </interface>
  <interface type='network'><source network='default'/></interface>
</devices>
<qemu:commandline>
  <qemu:arg value='-netdev'/>
  <qemu:arg value='user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:2200-:22,hostfwd=:0.0.0.0:8000-10.0.2.15:80'/>
  <qemu:arg value='-nic'/><qemu:arg value='user,hostfwd=udp::6000-:53,hostfwd=tcp:bad'/>
  <qemu:arg value='-device'/><qemu:arg value='virtio-net-pci,netdev=n0'/>
</qemu:commandline>
</domain>"""


def test_port_forwards_from_portforward_and_qemu_hostfwd():
    data = D.definition_data(_xml.parse(FORWARDS))
    assert data['port_forwards'] == [
        dict(proto='tcp', address='127.0.0.1', host_port=2222, host_port_end=2222, guest_port=22, source='interface'),
        dict(proto='tcp', address='127.0.0.1', host_port=8080, host_port_end=8089, guest_port=80, source='interface'),
        dict(proto='udp', address=None, host_port=5353, host_port_end=5353, guest_port=5353, source='interface'),
        dict(proto='tcp', address='127.0.0.1', host_port=2200, host_port_end=2200, guest_port=22,
             source='qemu_commandline'),
        dict(proto='tcp', address='0.0.0.0', host_port=8000, host_port_end=8000, guest_port=80,
             source='qemu_commandline'),
        dict(proto='udp', address=None, host_port=6000, host_port_end=6000, guest_port=53, source='qemu_commandline'),
    ]
    assert D.definition_data(_xml.parse(RICH.format(name='rich')))['port_forwards'] == []


def test_forward_is_not_asked_of_libvirt():
    class Dom:
        def interfaceAddresses(self, source, flags):
            raise AssertionError('forward must not reach libvirt (source %r)' % source)

        def name(self):
            return 'dom'

    assert D.interface_addresses(Dom(), ['forward']) == ({}, [])


def test_addresses_of_a_nic_without_interface_element():
    """The agent reports a NIC the definition has no <interface> for (<hostdev>, <qemu:commandline>): it is listed
    with type None, after the defined ones, and the defined NIC keeps its own addresses."""
    defined = dict(mac='52:54:00:aa:aa:aa', type='network', source=dict(network='default'), addresses=[])
    data = dict(interfaces=[defined])
    a = dict(address='192.0.2.5', prefix=24, family='ipv4', source='agent')
    b = dict(address='10.0.2.15', prefix=24, family='ipv4', source='agent')
    D.attach_addresses(data, {'52:54:00:aa:aa:aa': [a], '52:54:00:12:34:56': [b]})
    assert data['interfaces'][0]['addresses'] == [a]
    assert data['interfaces'][1] == dict(mac='52:54:00:12:34:56', type=None, model=None, target=None, addresses=[b],
                                         source=dict(network=None, bridge=None, dev=None, portgroup=None))


@pytest.mark.parametrize('os_xml,expected', [
    ("<os><type>hvm</type></os>", 'bios'),
    ("<os><type>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader></os>", 'efi'),
    ("<os><type>hvm</type><loader type='rom'>/usr/share/seabios/bios.bin</loader></os>", 'bios'),
    ("<os><type>exe</type><init>/bin/sh</init></os>", None),
])
def test_firmware(os_xml, expected):
    root = _xml.parse("<domain type='kvm'><name>f</name>%s</domain>" % os_xml)
    assert D.definition_data(root)['firmware'] == expected


def test_describe_matches_libvirt(test_conn):
    dom = test_conn.lookupByName('test')
    data = D.describe_domain(dom)
    state, max_kib, mem_kib, vcpus, cpu_time = dom.info()
    assert data['uuid'] == dom.UUIDString() and data['id'] == dom.ID()
    assert data['state'] == D.state_name(state) == 'running'
    assert data['memory']['maximum_bytes'] == max_kib * 1024
    assert data['vcpus']['current'] == vcpus
    assert data['cpu_time_ns'] > 0
    assert data['persistent'] is True and data['autostart'] is False
    assert 'xml' not in data and 'stats' not in data


def test_describe_shutoff_domain_has_no_id(test_conn):
    dom = _define(test_conn, RICH.format(name='off1').replace("<boot order='1'/>", ''))
    data = D.describe_domain(dom, include_xml=True)
    assert data['state'] == 'shutoff' and data['id'] is None and data['cpu_time_ns'] == 0
    assert data['xml'].lstrip().startswith('<domain')
    assert 'planted-Secret-7' not in data['xml']


@pytest.fixture
def populated(test_conn):
    """test (running), off-auto (shutoff, autostart), off (shutoff), paused1 (paused), trans (transient)."""
    xml = "<domain type='test'><name>%s</name><memory>1024</memory><os><type>hvm</type></os></domain>"
    _define(test_conn, xml % 'off-auto').setAutostart(1)
    _define(test_conn, xml % 'off')
    paused = _define(test_conn, xml % 'paused1')
    paused.create()
    paused.suspend()
    test_conn.createXML(xml % 'trans', 0)
    return test_conn


@pytest.mark.parametrize('filters,expected', [
    (dict(), {'test', 'off-auto', 'off', 'paused1', 'trans'}),
    (dict(names=['off']), {'off'}),
    (dict(names=['off*']), {'off', 'off-auto'}),
    (dict(names=['of?', 'test']), {'off', 'test'}),
    (dict(names=['[pt]*']), {'paused1', 'test', 'trans'}),
    (dict(states=['shutoff']), {'off', 'off-auto'}),
    (dict(states=['running', 'paused']), {'test', 'paused1', 'trans'}),
    (dict(persistent=False), {'trans'}),
    (dict(persistent=True, states=['running']), {'test'}),
    (dict(autostart=True), {'off-auto'}),
    (dict(autostart=False, names=['off*']), {'off'}),
    (dict(names=['nothing-*']), set()),
])
def test_collect_filters(populated, filters, expected):
    domains, warnings = D.collect_domains(populated, **filters)
    assert {d['name'] for d in domains} == expected
    assert warnings == []


def test_collect_by_uuid(populated):
    uuid = populated.lookupByName('off').UUIDString()
    domains, _warnings = D.collect_domains(populated, uuids=[uuid])
    assert [d['name'] for d in domains] == ['off']


def test_collect_agrees_with_describe(populated):
    domains, _warnings = D.collect_domains(populated, address_sources=[])
    for data in domains:
        single = D.describe_domain(populated.lookupByName(data['name']))
        data.pop('address_errors')
        if single['id'] is not None:  # CPU time moves on while we look
            single.pop('cpu_time_ns')
            data.pop('cpu_time_ns')
        assert data == single
    by_name = dict((d['name'], d) for d in domains)
    assert by_name['paused1']['state'] == 'paused' and by_name['paused1']['state_reason'] == 'user'
    assert by_name['trans']['persistent'] is False
    assert by_name['off-auto']['autostart'] is True


def test_collect_addresses_and_stats(test_conn):
    domains, warnings = D.collect_domains(test_conn, address_sources=['lease', 'arp'], stats_groups=[])
    assert warnings == []
    iface = domains[0]['interfaces'][0]
    expected = test_conn.lookupByName('test').interfaceAddresses(0)
    addr = list(expected.values())[0]['addrs'][0]
    assert iface['addresses'] == [dict(address=addr['addr'], prefix=addr['prefix'], family='ipv4', source='lease')]
    assert domains[0]['stats']['state.state'] == 1


class _CountingConn:
    """Counts the calls a connection and its domains receive."""

    def __init__(self, conn):
        self._conn = conn
        self.calls = {}

    def _count(self, name):
        self.calls[name] = self.calls.get(name, 0) + 1

    def __getattr__(self, name):
        attr = getattr(self._conn, name)
        if not callable(attr):
            return attr

        def wrapper(*args, **kwargs):
            self._count('conn.' + name)
            args = [[x._dom if isinstance(x, _CountingDom) else x for x in a] if isinstance(a, list) else a
                    for a in args]
            result = attr(*args, **kwargs)
            if name in ('listAllDomains',):
                return [_CountingDom(d, self) for d in result]
            if name in ('domainListGetStats', 'getAllDomainStats'):
                return [(_CountingDom(d, self), s) for d, s in result]
            return result
        return wrapper


class _CountingDom:
    def __init__(self, dom, counter):
        self._dom = dom
        self._counter = counter

    def __getattr__(self, name):
        attr = getattr(self._dom, name)

        def wrapper(*args, **kwargs):
            if name not in ('name', 'UUIDString'):  # answered locally by libvirt-python's cached object
                self._counter._count('dom.' + name)
            return attr(*args, **kwargs)
        return wrapper


def test_round_trips_are_bulk(populated):
    counting = _CountingConn(populated)
    domains, _warnings = D.collect_domains(counting, address_sources=[])
    assert len(domains) == 5
    assert counting.calls['conn.listAllDomains'] == 3  # all, persistent, autostart
    assert counting.calls['conn.domainListGetStats'] == 1
    assert counting.calls['dom.XMLDesc'] == 5
    # The test driver has no cpu.time in its bulk statistics: one info() per running/paused domain, nothing else.
    per_domain = dict((k, v) for k, v in counting.calls.items() if k.startswith('dom.') and k != 'dom.XMLDesc')
    assert per_domain == {'dom.info': 3}


class _FailingAgentDom:
    def __init__(self, dom):
        self._dom = dom

    def __getattr__(self, name):
        return getattr(self._dom, name)

    def interfaceAddresses(self, source, flags=0):
        if source == D.ADDRESS_SOURCES['agent']:
            raise libvirt.libvirtError('Guest agent is not responding: QEMU guest agent is not connected')
        return self._dom.interfaceAddresses(source, flags)


def test_agent_failure_is_reported_not_fatal(test_conn):
    dom = _FailingAgentDom(test_conn.lookupByName('test'))
    addresses, errors = D.interface_addresses(dom, ['agent', 'lease'], agent_timeout=1)
    assert len(errors) == 1 and errors[0].startswith('Failed to read agent addresses of domain test')
    assert addresses['aa:bb:cc:dd:ee:ff'][0]['source'] == 'lease'


@pytest.mark.parametrize('name,patterns,expected', [
    ('web1', None, True), ('web1', ['web1'], True), ('web1', ['web'], False), ('web1', ['web*'], True),
    ('web[1]', ['web[1]'], True), ('web1', ['db*', 'w?b1'], True), ('Web1', ['web*'], False),
])
def test_matches(name, patterns, expected):
    assert D.matches(name, patterns) is expected


def test_parallel_xml_reads_give_the_same_result(populated):
    def strip(domains):
        return [dict(d, cpu_time_ns=None) for d in domains]
    serial, _warnings = D.collect_domains(populated, address_sources=[])
    parallel, _warnings = D.collect_domains(populated, address_sources=[], workers=4)
    assert strip(parallel) == strip(serial) and len(serial) == 5
