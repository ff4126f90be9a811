# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory end to end: `ansible-inventory --list/--graph` against test:///default and qemu:///system."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import libvirt
import pytest

from conftest import COLLECTIONS, QEMU_URI, unique_name
from utils.guest import tiny_guest_xml

OFF_XML = """<domain type='qemu'><name>{name}</name><title>{{{{ lookup('pipe', 'id') }}}}</title>
<memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>
<devices><interface type='network'><mac address='52:54:00:5e:00:02'/><source network='{name}-absent'/></interface>
</devices></domain>"""


def inventory(tmp_path, config, *args, expect_rc=0):
    path = tmp_path / 'sources.libvirt.yml'
    path.write_text(config)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_INVENTORY_UNPARSED_FAILED='True',
               ANSIBLE_DEPRECATION_WARNINGS='False')
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    proc = subprocess.run(['ansible-inventory', '-i', str(path)] + list(args), env=env, capture_output=True,
                          check=False, text=True, timeout=120)
    assert proc.returncode == expect_rc, proc.stderr
    return proc


def _text(value):
    """A string of ansible-inventory's output, marked unsafe ({'__ansible_unsafe': ...}) or not."""
    return value['__ansible_unsafe'] if isinstance(value, dict) else value


def _unsafe_paths(value, path):
    """Where ansible-inventory's output marks a string unsafe ({'__ansible_unsafe': ...})."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return [path]
        return [p for key, item in sorted(value.items()) for p in _unsafe_paths(item, '%s.%s' % (path, key))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _unsafe_paths(item, '%s[%d]' % (path, index))]
    return []


def _group_hosts(data, group):
    return sorted(data.get(group, {}).get('hosts', []))


def test_test_driver_list_and_graph(tmp_path):
    config = 'plugin: sysvirt.libvirt.libvirt\nuris: [test:///default]\n'
    listed = inventory(tmp_path, config, '--list').stdout
    # Nothing of the test driver's data could be a template: every string is printed as it is (on ansible-core
    # 2.19+, an untrusted one would be {"__ansible_unsafe": ...}).
    assert '__ansible_unsafe' not in listed
    data = json.loads(listed)
    hostvars = data['_meta']['hostvars']
    assert _group_hosts(data, 'libvirt_guests') == ['test']
    assert _group_hosts(data, 'libvirt_state_running') == ['test']
    assert not [g for g in data if g.startswith('libvirt_network_')]  # not by default (it needs every XML)
    assert sorted(k for k in hostvars['test'] if k.startswith('libvirt_')) == [
        'libvirt_addresses', 'libvirt_autostart', 'libvirt_memory_bytes', 'libvirt_persistent', 'libvirt_state',
        'libvirt_uri', 'libvirt_uuid', 'libvirt_vcpus']
    assert _text(hostvars['test']['ansible_host']) == '192.168.122.3'  # the test driver's lease for its NIC
    assert [_text(a) for a in hostvars['test']['libvirt_addresses']] == ['192.168.122.3']
    full_listed = inventory(tmp_path, config + 'group_by: [network]\nhost_vars: [all]\n', '--list').stdout
    assert '__ansible_unsafe' not in full_listed
    full = json.loads(full_listed)
    assert _group_hosts(full, 'libvirt_network_default') == ['test']
    assert 'libvirt_state_running' not in full
    assert _text(full['_meta']['hostvars']['test']['libvirt_interfaces'][0]['network']) == 'default'
    hypervisors = _group_hosts(data, 'libvirt_hypervisors')
    assert len(hypervisors) == 1 and hostvars[hypervisors[0]]['libvirt_node']['cpus'] > 0
    graph = inventory(tmp_path, config, '--graph').stdout
    assert '@libvirt_state_running:' in graph and '|--test' in graph


def test_unreachable_warns_or_fails_with_strict(tmp_path):
    config = 'plugin: sysvirt.libvirt.libvirt\nuris: [test:///default, "test+unix:///default?socket=/nonexistent"]\n'
    proc = inventory(tmp_path, config, '--list')
    assert 'skipping test+unix:///default?socket=/nonexistent' in ' '.join(proc.stderr.split())
    # libvirt's code and domain end the message's line; the hint is on the next line
    lines = proc.stderr.splitlines()
    hint = [i for i, line in enumerate(lines) if line.startswith('Hint: ')]
    assert hint and 'daemon' in lines[hint[0]] and lines[hint[0] - 1].endswith('(VIR_FROM_RPC)]'), proc.stderr
    assert _group_hosts(json.loads(proc.stdout), 'libvirt_guests') == ['test']
    proc = inventory(tmp_path, config + 'strict: true\n', '--list', expect_rc=1)
    assert 'nonexistent' in proc.stderr


@pytest.fixture(scope='module')
def qemu_guests(qemu_conn):
    base = unique_name('inv')
    made = []
    try:
        run = qemu_conn.defineXML(tiny_guest_xml(base + '-run'))
        made.append(run)
        run.create()
        made.append(qemu_conn.defineXML(OFF_XML.format(name=base + '-off')))
        yield base
    finally:
        for dom in made:
            try:
                if dom.isActive():
                    dom.destroy()
            except libvirt.libvirtError:
                pass
            try:
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM)
            except libvirt.libvirtError:
                pass


def test_qemu_list_and_graph(tmp_path, qemu_guests, qemu_conn):
    config = ('plugin: sysvirt.libvirt.libvirt\nuris: [%s]\nnames: ["%s-*"]\nkeyed_groups:\n'
              '  - key: libvirt_arch\n    prefix: arch\nhost_vars: [all]\ngroup_by: [state, hypervisor, network]\n'
              % (QEMU_URI, qemu_guests))
    data = json.loads(inventory(tmp_path, config, '--list').stdout)
    hostvars = data['_meta']['hostvars']
    run, off = qemu_guests + '-run', qemu_guests + '-off'
    assert _group_hosts(data, 'libvirt_guests') == [off, run]
    assert _group_hosts(data, 'libvirt_state_running') == [run]
    assert _group_hosts(data, 'libvirt_state_shutoff') == [off]
    assert _group_hosts(data, 'arch_x86_64') == [off, run]
    networks = [g for g in data if g.startswith('libvirt_network_') and 'absent' in g]
    assert len(networks) == 1 and _group_hosts(data, networks[0]) == [off]
    assert _text(hostvars[run]['libvirt_uuid']) == qemu_conn.lookupByName(run).UUIDString()
    assert _text(hostvars[run]['libvirt_uri']) == QEMU_URI
    # A guest string that could be a template is marked unsafe in the output, never templated; the others are plain.
    assert hostvars[off]['libvirt_title'] == {'__ansible_unsafe': "{{ lookup('pipe', 'id') }}"}
    assert hostvars[off]['libvirt_name'] == off and hostvars[run]['libvirt_state'] == 'running'
    unsafe = [path for host in (run, off, _group_hosts(data, 'libvirt_hypervisors')[0])
              for path in _unsafe_paths(hostvars[host], host)]
    assert unsafe == ['%s.libvirt_title' % off]
    hypervisor = _group_hosts(data, 'libvirt_hypervisors')[0]
    assert _text(hostvars[hypervisor]['libvirt_cpu_model'])
    assert _text(hostvars[hypervisor]['libvirt_cpu_xml']).startswith('<cpu')
    graph = inventory(tmp_path, config, '--graph', 'libvirt_state_running').stdout
    assert run in graph and off not in graph


def test_cache(tmp_path, qemu_guests, qemu_conn):
    cache = tmp_path / 'cache'
    config = ('plugin: sysvirt.libvirt.libvirt\nuris: [%s]\nnames: ["%s-*"]\ncache: true\n'
              'cache_plugin: ansible.builtin.jsonfile\ncache_connection: %s\ncache_timeout: 3600\n'
              % (QEMU_URI, qemu_guests, cache))
    first = json.loads(inventory(tmp_path, config, '--list').stdout)
    assert len(_group_hosts(first, 'libvirt_guests')) == 2 and os.listdir(cache)
    late = qemu_conn.defineXML(OFF_XML.format(name=qemu_guests + '-late'))
    try:
        cached = json.loads(inventory(tmp_path, config, '--list').stdout)
        assert _group_hosts(cached, 'libvirt_guests') == _group_hosts(first, 'libvirt_guests')
        fresh = json.loads(inventory(tmp_path, config, '--list', '--flush-cache').stdout)
        assert qemu_guests + '-late' in _group_hosts(fresh, 'libvirt_guests')
        assert 'libvirt_arch' not in fresh['_meta']['hostvars'][qemu_guests + '-late']
        # A cache read without the guests' XML is not enough once a var from the XML is asked for: read again.
        wider = json.loads(inventory(tmp_path, config + 'host_vars: [uuid, arch]\n', '--list').stdout)
        assert _text(wider['_meta']['hostvars'][qemu_guests + '-late']['libvirt_arch']) == 'x86_64'
    finally:
        late.undefine()
