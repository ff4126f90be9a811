# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory's populate step from canned data (no libvirt), and its fetch step on the test driver."""

from __future__ import annotations

import copy

import pytest

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import fragment_loader
from ansible.template import is_trusted_as_template, trust_as_template
from ansible.utils.plugin_docs import get_docstring

from ansible_collections.sysvirt.libvirt.plugins.inventory import libvirt as inv


def _iface(mac, network=None, bridge=None, target=None, addresses=()):
    return dict(mac=mac, type='network' if network else 'bridge', model='virtio', target=target,
                source=dict(network=network, bridge=bridge, dev=None, portgroup=None),
                addresses=[dict(address=a, prefix=24, family='ipv6' if ':' in a else 'ipv4', source=s)
                           for a, s in addresses])


def _domain(name, state='running', interfaces=(), metadata=None, title=None, vcpus=2):
    return dict(
        name=name, uuid='uuid-' + name, id=1 if state == 'running' else None, type='kvm', state=state,
        state_reason='booted', persistent=True, autostart=False, vcpus=dict(current=vcpus, maximum=vcpus),
        memory=dict(current_bytes=1 << 30, maximum_bytes=1 << 30), cpu_time_ns=0,
        os=dict(type='hvm', arch='x86_64', machine='pc-q35-7.2', loader=None, loader_type=None, nvram=None,
                kernel=None, initrd=None, boot=['hd']),
        firmware='bios',
        disks=[dict(target='vda', bus='virtio', device='disk', type='volume', format='qcow2', readonly=False,
                    boot_order=None, source=dict(file=None, dev=None, dir=None, pool='default',
                                                 volume=name + '.qcow2', protocol=None, name=None))],
        interfaces=list(interfaces), graphics=[], title=title, description=None, metadata=metadata or {},
        address_errors=[])


def _hv(hostname, uri, domains, error=None):
    return dict(uri=uri, error=error, warnings=[], domains=domains, hypervisor=None if error else dict(
        hostname=hostname, uri=uri, driver='QEMU', library_version='9.0.0', hypervisor_version='7.2.0',
        node=dict(cpu_model='x86_64', cpus=8, memory_bytes=1 << 34), cpu=dict(arch='x86_64', model='Skylake'),
        cpu_xml='<cpu/>', numa_cells=1, iommu=False, guest_types=[]))


CANNED = [
    _hv('kvm01', 'qemu+ssh://kvm01/system', [
        _domain('web1', interfaces=[
            _iface('52:54:00:00:00:01', network='default', target='vnet0',
                   addresses=[('192.168.122.10', 'lease'), ('10.0.0.10', 'agent')]),
            _iface('52:54:00:00:00:02', bridge='br0', target='vnet1', addresses=[('10.1.0.10', 'agent')])],
            metadata={'https://example.com/app': '<a:owner xmlns:a="https://example.com/app">ops</a:owner>'},
            title="{{ lookup('pipe', 'id') }}", vcpus=8),
        _domain('db1', state='shutoff', interfaces=[_iface('52:54:00:00:00:03', network='default')]),
    ]),
    _hv('kvm02', 'qemu+ssh://kvm02/system', [
        _domain('web1', interfaces=[_iface('52:54:00:00:01:01', network='isolated',
                                           addresses=[('fe80::1', 'lease'), ('192.168.100.5', 'lease')])]),
    ]),
]


NAME = 'sysvirt.libvirt.libvirt'


def new_plugin():
    """The plugin as Ansible's loader would make it: its documented options known to the config manager."""
    doc = get_docstring(inv.__file__.replace('.pyc', '.py'), fragment_loader, plugin_type='inventory')[0]
    C.config.initialize_plugin_configuration_definitions('inventory', NAME, doc['options'])
    plugin = inv.InventoryModule()
    plugin._load_name = NAME
    return plugin


@pytest.fixture
def make_plugin():
    def make(results=None, **options):
        plugin = new_plugin()
        plugin.inventory = InventoryData()
        plugin.loader = DataLoader()
        plugin._vars = {}
        options.setdefault('plugin', 'sysvirt.libvirt.libvirt')
        plugin.set_options(direct=options)
        plugin._populate(copy.deepcopy(CANNED if results is None else results))
        return plugin
    return make


def _hosts(plugin, group):
    return sorted(h.name for h in plugin.inventory.groups[group].get_hosts())


def test_hosts_groups_and_duplicate_names(make_plugin):
    plugin = make_plugin(group_by=['state', 'hypervisor', 'network'])
    assert _hosts(plugin, 'libvirt_guests') == ['db1', 'web1', 'web1@kvm02']
    assert _hosts(plugin, 'libvirt_hypervisors') == ['kvm01', 'kvm02']
    assert _hosts(plugin, 'libvirt_hypervisor_kvm01') == ['db1', 'web1']
    assert _hosts(plugin, 'libvirt_hypervisor_kvm02') == ['web1@kvm02']
    assert _hosts(plugin, 'libvirt_state_running') == ['web1', 'web1@kvm02']
    assert _hosts(plugin, 'libvirt_state_shutoff') == ['db1']
    assert _hosts(plugin, 'libvirt_network_default') == ['db1', 'web1']
    assert _hosts(plugin, 'libvirt_network_br0') == ['web1']
    assert _hosts(plugin, 'libvirt_network_isolated') == ['web1@kvm02']


@pytest.mark.parametrize('group_by,expected', [
    (None, ['all', 'libvirt_guests', 'libvirt_hypervisor_kvm01', 'libvirt_hypervisor_kvm02', 'libvirt_hypervisors',
            'libvirt_state_running', 'libvirt_state_shutoff', 'ungrouped']),
    ([], ['all', 'libvirt_guests', 'libvirt_hypervisors', 'ungrouped']),
    (['network'], ['all', 'libvirt_guests', 'libvirt_hypervisors', 'libvirt_network_br0', 'libvirt_network_default',
                   'libvirt_network_isolated', 'ungrouped']),
])
def test_group_by(make_plugin, group_by, expected):
    options = {} if group_by is None else dict(group_by=group_by)
    assert sorted(make_plugin(**options).inventory.groups) == expected


def test_default_host_vars(make_plugin):
    hostvars = make_plugin().inventory.get_host('web1').get_vars()
    assert dict((k, v) for k, v in hostvars.items() if k.startswith('libvirt_')) == dict(
        libvirt_uuid='uuid-web1', libvirt_state='running', libvirt_uri='qemu+ssh://kvm01/system', libvirt_vcpus=8,
        libvirt_memory_bytes=1 << 30, libvirt_autostart=False, libvirt_persistent=True,
        libvirt_addresses=['192.168.122.10', '10.0.0.10', '10.1.0.10'])
    assert hostvars['ansible_host'] == '192.168.122.10'


@pytest.mark.parametrize('host_vars,expected', [
    (['state', 'title'], ['libvirt_state', 'libvirt_title']),
    (['metadata', 'uuid'], ['libvirt_metadata', 'libvirt_uuid']),
    ([], []),
])
def test_host_vars_option(make_plugin, host_vars, expected):
    hostvars = make_plugin(host_vars=host_vars).inventory.get_host('web1').get_vars()
    assert sorted(k for k in hostvars if k.startswith('libvirt_')) == expected


@pytest.mark.parametrize('options,level', [
    (dict(), 'none'),
    (dict(host_vars=['uuid', 'state', 'addresses', 'name', 'hypervisor', 'vcpus_max', 'memory_max_bytes']), 'none'),
    (dict(host_vars=['all']), 'all'),
    (dict(host_vars=['arch']), 'all'),
    (dict(host_vars=['interfaces']), 'all'),
    (dict(group_by=['network']), 'all'),
    (dict(metadata={'urn:x': '*'}), 'all'),
    (dict(address_network='default'), 'running'),
    (dict(address_interface='vnet0'), 'running'),
    (dict(address_network='default', set_ansible_host=False), 'none'),
    (dict(address_network='default', address_sources=[]), 'none'),
    (dict(address_sources=['forward']), 'running'),
    (dict(address_sources=['lease', 'forward'], set_ansible_host=False), 'none'),
    (dict(host_vars=['port_forwards']), 'all'),
    (dict(agent_connection=True), 'running'),
    (dict(agent_connection=True, host_vars=['arch']), 'all'),
])
def test_definition_level(options, level):
    plugin = new_plugin()
    plugin.set_options(direct=dict(plugin=NAME, **options))
    assert plugin._definition_level() == level


@pytest.mark.parametrize('cached,options,enough', [
    ('none', dict(), True),
    ('none', dict(host_vars=['arch']), False),
    ('running', dict(address_network='default'), True),
    ('running', dict(group_by=['network']), False),
    ('all', dict(host_vars=['all']), True),
    (None, dict(host_vars=['all']), True),  # cached by the previous version: always everything
])
def test_cache_is_refreshed_when_it_holds_less(cached, options, enough):
    plugin = new_plugin()
    plugin.set_options(direct=dict(plugin=NAME, **options))
    results = copy.deepcopy(CANNED)
    if cached is not None:
        for result in results:
            result['definition'] = cached
    assert plugin._cache_is_enough(results) is enough


def test_guest_vars_are_prefixed_and_unsafe(make_plugin):
    results = copy.deepcopy(CANNED)
    # Even data that arrived trusted (it never should) leaves the plugin untrusted.
    results[0]['domains'][0]['title'] = trust_as_template(results[0]['domains'][0]['title'])
    assert is_trusted_as_template(results[0]['domains'][0]['title'])
    plugin = make_plugin(results, host_vars=['all'])
    hostvars = plugin.inventory.get_host('web1').get_vars()
    assert hostvars['libvirt_uuid'] == 'uuid-web1'
    assert hostvars['libvirt_hypervisor'] == 'kvm01' and hostvars['libvirt_uri'] == 'qemu+ssh://kvm01/system'
    assert (hostvars['libvirt_vcpus'], hostvars['libvirt_vcpus_max']) == (8, 8)
    assert (hostvars['libvirt_memory_bytes'], hostvars['libvirt_memory_max_bytes']) == (1 << 30, 1 << 30)
    assert (hostvars['libvirt_os_type'], hostvars['libvirt_arch'], hostvars['libvirt_machine']) == (
        'hvm', 'x86_64', 'pc-q35-7.2')
    assert hostvars['libvirt_state'] == 'running'
    assert hostvars['libvirt_persistent'] is True and hostvars['libvirt_autostart'] is False
    assert 'libvirt_description' not in hostvars  # null values are left out
    assert plugin.inventory.get_host('web1').get_vars()['libvirt_interfaces'][1] == dict(
        mac='52:54:00:00:00:02', type='bridge', bridge='br0', model='virtio', target='vnet1', addresses=['10.1.0.10'])
    assert hostvars['libvirt_disks'] == [dict(target='vda', device='disk', bus='virtio', source='default/web1.qcow2',
                                              format='qcow2')]
    assert hostvars['libvirt_addresses'] == ['192.168.122.10', '10.0.0.10', '10.1.0.10']
    assert hostvars['libvirt_interfaces'][0]['mac'] == '52:54:00:00:00:01'
    assert 'ansible_connection' not in hostvars
    # A string that could be a template is untrusted; any other is trusted (it cannot be templated), which is what
    # ansible-inventory prints as a plain string instead of {"__ansible_unsafe": ...}.
    assert not is_trusted_as_template(hostvars['libvirt_title'])
    for value in (hostvars['libvirt_name'], hostvars['libvirt_uuid'], hostvars['libvirt_interfaces'][0]['mac'],
                  hostvars['libvirt_metadata']['https://example.com/app'], hostvars['ansible_host']):
        assert is_trusted_as_template(value)
    assert all(is_trusted_as_template(key) for key in hostvars['libvirt_metadata'])
    hv = plugin.inventory.get_host('kvm01').get_vars()
    assert is_trusted_as_template(hv['libvirt_cpu_model']) and is_trusted_as_template(hv['libvirt_cpu_xml'])
    assert hv['libvirt_cpu_model'] == 'Skylake' and hv['libvirt_node']['cpus'] == 8
    assert hv['libvirt_uri'] == 'qemu+ssh://kvm01/system'


@pytest.mark.parametrize('options,expected', [
    (dict(), {'web1': '192.168.122.10', 'web1@kvm02': '192.168.100.5', 'db1': None}),
    (dict(address_sources=['agent', 'lease']), {'web1': '10.0.0.10', 'web1@kvm02': '192.168.100.5'}),
    (dict(address_sources=['agent', 'lease'], address_network='br0'), {'web1': '10.1.0.10', 'web1@kvm02': None}),
    (dict(address_sources=['agent'], address_interface='52:54:00:00:00:01'), {'web1': '10.0.0.10'}),
    (dict(address_sources=['agent'], address_interface='VNET1'), {'web1': '10.1.0.10'}),
    (dict(address_family='ipv6'), {'web1': None, 'web1@kvm02': 'fe80::1'}),
    (dict(address_family='any'), {'web1@kvm02': 'fe80::1'}),
    (dict(set_ansible_host=False), {'web1': None}),
])
def test_ansible_host(make_plugin, options, expected):
    plugin = make_plugin(**options)
    for host, address in expected.items():
        assert plugin.inventory.get_host(host).get_vars().get('ansible_host') == address


def _fwd(host_port, guest_port, address=None, proto='tcp', end=None, source='interface'):
    return dict(proto=proto, address=address, host_port=host_port, host_port_end=end or host_port,
                guest_port=guest_port, source=source)


FORWARDED = [
    _hv('kvm01', 'qemu+ssh://root@kvm01.example.com/system', [
        dict(_domain('loop'), port_forwards=[_fwd(8080, 80, '127.0.0.1'), _fwd(2201, 22, '127.0.0.1')]),
        dict(_domain('anyaddr'), port_forwards=[_fwd(2202, 22, '0.0.0.0', source='qemu_commandline')]),
        dict(_domain('ranged'), port_forwards=[_fwd(3000, 20, None, end=3010)]),  # 3000-3010 -> 20-30
        dict(_domain('udponly'), port_forwards=[_fwd(2203, 22, '127.0.0.1', proto='udp')]),
        dict(_domain('leased', interfaces=[
            _iface('52:54:00:00:09:01', network='default', addresses=[('192.168.122.9', 'lease')])]),
            port_forwards=[_fwd(2204, 22, '127.0.0.1')]),
    ]),
    _hv('local', 'qemu:///system', [dict(_domain('localany'), port_forwards=[_fwd(2205, 22, '::')])]),
]


@pytest.mark.parametrize('options,expected', [
    (dict(address_sources=['forward']), {
        'loop': ('127.0.0.1', 2201), 'anyaddr': ('kvm01.example.com', 2202), 'ranged': ('kvm01.example.com', 3002),
        'udponly': (None, None), 'leased': ('127.0.0.1', 2204), 'localany': ('127.0.0.1', 2205)}),
    (dict(address_sources=['forward'], forward_port=80), {
        'loop': ('127.0.0.1', 8080), 'anyaddr': (None, None), 'ranged': (None, None)}),
    (dict(address_sources=['forward'], forward_port=25), {'ranged': ('kvm01.example.com', 3005)}),
    (dict(address_sources=['lease', 'forward']), {'leased': ('192.168.122.9', None), 'loop': ('127.0.0.1', 2201)}),
    (dict(address_sources=['lease']), {'loop': (None, None), 'leased': ('192.168.122.9', None)}),
    (dict(address_sources=['forward'], set_ansible_host=False), {'loop': (None, None)}),
])
def test_ansible_host_and_port_from_forwards(make_plugin, options, expected):
    plugin = make_plugin(FORWARDED, **options)
    for host, (address, port) in expected.items():
        hostvars = plugin.inventory.get_host(host).get_vars()
        assert (hostvars.get('ansible_host'), hostvars.get('ansible_port')) == (address, port), host


def test_port_forwards_host_var(make_plugin):
    plugin = make_plugin(FORWARDED, host_vars=['port_forwards'])
    assert plugin.inventory.get_host('loop').get_vars()['libvirt_port_forwards'] == [
        dict(proto='tcp', address='127.0.0.1', host_port=8080, host_port_end=8080, guest_port=80, source='interface'),
        dict(proto='tcp', address='127.0.0.1', host_port=2201, host_port_end=2201, guest_port=22, source='interface')]
    assert 'address' not in plugin.inventory.get_host('ranged').get_vars()['libvirt_port_forwards'][0]


def test_ansible_connection_only_when_asked(make_plugin):
    plugin = make_plugin(ansible_connection='ssh')
    assert plugin.inventory.get_host('web1').get_vars()['ansible_connection'] == 'ssh'
    assert 'ansible_connection' not in plugin.inventory.get_host('kvm01').get_vars()


def _agent_results():
    """web1 (kvm01) runs with an agent channel, db1 has one but is shut off, web1@kvm02 has none."""
    results = copy.deepcopy(CANNED)
    results[0]['domains'][0]['agent_channel'] = True
    results[0]['domains'][1]['agent_channel'] = True
    results[1]['domains'][0]['agent_channel'] = False
    return results


def test_agent_connection_is_off_by_default(make_plugin):
    plugin = make_plugin(_agent_results())
    for host in ('web1', 'db1', 'web1@kvm02'):
        hostvars = plugin.inventory.get_host(host).get_vars()
        assert not set(hostvars).intersection(['ansible_connection', 'ansible_libvirt_uri', 'ansible_libvirt_domain'])


@pytest.mark.parametrize('ansible_connection', [None, 'ssh'])
def test_agent_connection_for_running_guests_with_a_channel(make_plugin, ansible_connection):
    plugin = make_plugin(_agent_results(), agent_connection=True, ansible_connection=ansible_connection)
    web1 = plugin.inventory.get_host('web1').get_vars()
    assert web1['ansible_connection'] == 'sysvirt.libvirt.libvirt_qemu'
    assert web1['ansible_libvirt_uri'] == 'qemu+ssh://kvm01/system'
    assert web1['ansible_libvirt_domain'] == 'uuid-web1'
    assert web1['ansible_host'] == '192.168.122.10'  # left for other plugins; the agent plugin uses the domain
    # No channel, or not running: the agent cannot answer; the plain ansible_connection option applies.
    for host in ('db1', 'web1@kvm02'):
        hostvars = plugin.inventory.get_host(host).get_vars()
        assert hostvars.get('ansible_connection') == ansible_connection
        assert 'ansible_libvirt_domain' not in hostvars and 'ansible_libvirt_uri' not in hostvars


def test_agent_connection_needs_the_definition(make_plugin):
    """A guest whose definition was not read (cached without it) has agent_channel None: not reached by agent."""
    results = _agent_results()
    results[0]['domains'][0]['agent_channel'] = None
    plugin = make_plugin(results, agent_connection=True)
    assert 'ansible_connection' not in plugin.inventory.get_host('web1').get_vars()


@pytest.mark.parametrize('options,expected', [
    (dict(states=['shutoff']), ['db1']),
    (dict(names=['web*']), ['web1', 'web1@kvm02']),
    (dict(names=['db1']), ['db1']),
    (dict(metadata={'https://example.com/app': 'op*'}), ['web1']),
    (dict(metadata={'https://example.com/app': 'dev'}), []),
    (dict(metadata={'https://example.com/app': '*'}), ['web1']),
    (dict(metadata={'urn:other': '*'}), []),
])
def test_filters(make_plugin, options, expected):
    assert _hosts(make_plugin(**options), 'libvirt_guests') == expected


def test_hostname_format_prefix_and_no_hypervisors(make_plugin):
    plugin = make_plugin(hostname_format='{name}.{hypervisor}', prefix='lv_', group_prefix='v_', hypervisors=False,
                         host_vars=['name', 'uuid'])
    assert _hosts(plugin, 'v_guests') == ['db1.kvm01', 'web1.kvm01', 'web1.kvm02']
    assert 'v_hypervisors' not in plugin.inventory.groups
    assert 'kvm01' not in plugin.inventory.hosts
    assert plugin.inventory.get_host('web1.kvm02').get_vars()['lv_name'] == 'web1'


def test_bad_hostname_format_fails_plainly(make_plugin):
    with pytest.raises(AnsibleError, match='hostname_format'):
        make_plugin(hostname_format='{nope}')


def test_unreachable_is_a_warning_or_fatal_with_strict(make_plugin, monkeypatch):
    results = CANNED + [_hv(None, 'qemu+ssh://down/system', [], error='Failed to connect to qemu+ssh://down/system')]
    warnings = []
    plugin = new_plugin()
    monkeypatch.setattr(plugin.display, 'warning', lambda msg, *a, **k: warnings.append(msg))
    plugin = make_plugin(results)
    assert _hosts(plugin, 'libvirt_guests') == ['db1', 'web1', 'web1@kvm02']
    assert any('qemu+ssh://down/system' in w for w in warnings)
    assert any('skipping qemu+ssh://down/system' in w for w in warnings)
    with pytest.raises(AnsibleError, match='down') as info:
        make_plugin(results, strict=True)
    assert 'skipping' not in str(info.value) and 'cannot read qemu+ssh://down/system (strict: true)' in str(info.value)


def test_hypervisor_names_fall_back_to_uri(make_plugin):
    results = [_hv('same', 'test:///a', []), _hv('same', 'test:///b', [])]
    assert _hosts(make_plugin(results), 'libvirt_hypervisors') == ['same', 'test:///b']
    assert _hosts(make_plugin(results, hypervisor_name='uri'), 'libvirt_hypervisors') == ['test:///a', 'test:///b']


def test_constructed_options(make_plugin):
    plugin = make_plugin(
        host_vars=['vcpus', 'arch', 'state'],
        compose=dict(big_cpus=trust_as_template('libvirt_vcpus * 2')),
        groups=dict(big=trust_as_template("libvirt_vcpus >= 8")),
        keyed_groups=[dict(key=trust_as_template('libvirt_arch'), prefix='arch'),
                      dict(key=trust_as_template('libvirt_state'), prefix='st')])
    assert plugin.inventory.get_host('web1').get_vars()['big_cpus'] == 16
    assert _hosts(plugin, 'big') == ['web1']
    assert _hosts(plugin, 'arch_x86_64') == ['db1', 'web1', 'web1@kvm02']
    assert _hosts(plugin, 'st_running') == ['web1', 'web1@kvm02']


@pytest.mark.parametrize('title', [
    "{{ lookup('pipe', 'id') }}",
    "{% if lookup('pipe', 'id') %}x{% endif %}",
    # a header that moves the delimiters: no brace at all
    "#jinja2:variable_start_string:'[[', variable_end_string:']]'\n[[ lookup('pipe', 'id') ]]",
])
def test_guest_strings_are_never_templated(make_plugin, title):
    results = copy.deepcopy(CANNED)
    # Even a title that arrived trusted (it never should) leaves the plugin untrusted.
    results[0]['domains'][0]['title'] = trust_as_template(title)
    results[0]['domains'][0]['metadata'] = {'https://example.com/app': trust_as_template(title)}
    plugin = make_plugin(results, host_vars=['title', 'metadata'],
                         compose=dict(shown=trust_as_template('libvirt_title'),
                                      meta=trust_as_template("libvirt_metadata['https://example.com/app']")))
    # The title holds a template; composing it yields the text itself, never the result of the lookup.
    hostvars = plugin.inventory.get_host('web1').get_vars()
    assert hostvars['shown'] == title and hostvars['meta'] == title


@pytest.mark.parametrize('path,ok', [
    ('/x/prod.libvirt.yml', True), ('/x/libvirt.yaml', True), ('/x/prod.yml', False), ('/x/libvirt.yml.bak', False),
])
def test_verify_file(tmp_path, path, ok):
    target = tmp_path / path.rsplit('/', 1)[1]
    target.write_text('plugin: sysvirt.libvirt.libvirt\n')
    assert new_plugin().verify_file(str(target)) is ok


def test_fetch_one_on_test_driver():
    result = inv.fetch_one('test:///default', address_sources=['lease'])
    assert result['error'] is None
    assert result['hypervisor']['driver'] == 'TEST'
    assert result['hypervisor']['node']['cpus'] > 0
    assert [d['name'] for d in result['domains']] == ['test']
    assert result['domains'][0]['interfaces'][0]['addresses'][0]['source'] == 'lease'


@pytest.mark.parametrize('definition', ['none', 'running'])
def test_fetch_one_without_definitions(definition):
    # test:///default's one guest runs: 'running' reads its XML, 'none' reads no XML at all.
    result = inv.fetch_one('test:///default', address_sources=['lease'], definition=definition)
    assert result['error'] is None and result['definition'] == definition
    domain = result['domains'][0]
    assert (domain['name'], domain['state'], domain['vcpus']['current']) == ('test', 'running', 2)
    assert domain['memory']['maximum_bytes'] > 0
    assert domain['interfaces'][0]['addresses'][0]['source'] == 'lease'
    if definition == 'none':
        assert domain['definition'] is False and domain['os']['arch'] is None
        assert domain['interfaces'][0]['source']['network'] is None
        assert domain['agent_channel'] is None
    else:
        assert 'definition' not in domain and domain['os']['arch']
        assert domain['interfaces'][0]['source']['network'] == 'default'
        assert domain['agent_channel'] is False  # the test driver's guest has no channels


def test_fetch_one_reports_errors_as_data():
    result = inv.fetch_one('test+unix:///default?socket=/nonexistent/sock')
    assert result['domains'] == [] and 'Failed to connect' in result['error']


def test_hypervisors_are_fetched_concurrently(monkeypatch):
    import threading
    import time
    active = []
    peak = []
    lock = threading.Lock()

    def slow_fetch(uri, **kwargs):
        with lock:
            active.append(uri)
            peak.append(len(active))
        time.sleep(0.3)
        with lock:
            active.remove(uri)
        return _hv('h-' + uri, uri, [])
    monkeypatch.setattr(inv, 'fetch_one', slow_fetch)
    plugin = new_plugin()
    uris = ['test:///%d' % i for i in range(20)]
    plugin.set_options(direct=dict(plugin=NAME, uris=uris))
    start = time.monotonic()
    results = plugin._fetch()
    assert time.monotonic() - start < 3  # one after another would take 6 s
    assert max(peak) == 20
    assert [r['uri'] for r in results] == uris  # in the order of the configuration


def test_strings_repeated_across_guests_are_marked_like_single_ones(make_plugin):
    """The populate step marks each distinct string once (state, URI, ... repeat for every guest): every guest
    still gets a trusted plain value, and a template-like value stays untrusted on every guest that has it."""
    title = '{{ lookup("pipe", "id") }}'
    guests = [_domain('g%d' % i, state='shutoff', title=title) for i in range(3)]
    guests[2]['title'] = trust_as_template(title)  # arrived trusted (never should): still untrusted
    plugin = make_plugin([_hv('kvm01', 'qemu:///system', guests)], host_vars=['all'])
    for name in ('g0', 'g1', 'g2'):
        hostvars = plugin.inventory.get_host(name).get_vars()
        assert (hostvars['libvirt_state'], hostvars['libvirt_uri']) == ('shutoff', 'qemu:///system')
        assert is_trusted_as_template(hostvars['libvirt_state']) and is_trusted_as_template(hostvars['libvirt_uri'])
        assert hostvars['libvirt_title'] == title and not is_trusted_as_template(hostvars['libvirt_title'])
        assert hostvars['libvirt_uuid'] == 'uuid-' + name and is_trusted_as_template(hostvars['libvirt_uuid'])
