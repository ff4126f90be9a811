# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""host_facts against the in-process test driver, compared with what libvirt reports directly."""

from __future__ import annotations

import pytest

from conftest import SHARED_TEST_URI


def test_reports_node_info_and_versions(module_runner, test_conn):
    result = module_runner('host_facts', dict(uri='test:///default'))
    assert not result.failed, result
    assert result['changed'] is False
    facts = result['ansible_facts']['libvirt']
    model, memory, cpus, mhz, nodes, sockets, cores, threads = test_conn.getInfo()[:8]
    assert facts['node'] == dict(cpu_model=model, memory_mib=memory, memory_bytes=memory * 1024 * 1024,
                                 cpus=cpus, mhz=mhz, numa_nodes=nodes, sockets=sockets, cores=cores,
                                 threads=threads)
    assert facts['driver'] == 'TEST'
    assert facts['uri'] == 'test:///default'
    assert facts['library_version']['number'] == test_conn.getLibVersion()
    major, minor, micro = (int(p) for p in facts['library_version']['full'].split('.'))
    assert major * 1000000 + minor * 1000 + micro == test_conn.getLibVersion()
    assert facts['free_memory']['total_bytes'] == test_conn.getFreeMemory()
    assert [c['free_bytes'] for c in facts['free_memory']['cells']] == test_conn.getCellsFreeMemory(0, nodes)
    assert facts['max_vcpus']['test'] == test_conn.getMaxVcpus('test')
    assert 'capabilities_xml' not in facts
    guests = facts['capabilities']['guests']
    assert {g['os_type'] for g in guests} >= {'hvm'}
    assert facts['capabilities']['host']['cpu']['arch'] == 'i686'
    assert facts['capabilities']['host']['numa_cells'][0]['cpus']


@pytest.mark.parametrize('check_mode', [False, True])
def test_read_only_and_check_mode_with_raw_xml(module_runner, check_mode):
    result = module_runner('host_facts', dict(uri='test:///default', readonly=True, capabilities_xml=True),
                           check_mode=check_mode)
    assert not result.failed, result
    assert result['ansible_facts']['libvirt']['capabilities_xml'].lstrip().startswith('<capabilities>')


def test_wrong_uri_fails_cleanly(module_runner):
    result = module_runner('host_facts', dict(uri='nosuchdriver:///x'))
    assert result.failed
    assert result['error']['code_name'] == 'VIR_ERR_NO_CONNECT'
    # msg is one line ending with libvirt's code and domain; the hint is its own key, not glued to msg
    assert result['hint'] and 'Hint' not in result['msg'] and result['hint'] not in result['msg']
    assert '\n' not in result['msg'] and result['msg'].endswith('domain %s (%s)]' % (
        result['error']['domain'], result['error']['domain_name']))
    assert 'Traceback' not in str(result)


def test_password_never_in_failure(module_runner, tmp_path):
    node = tmp_path / 'node.xml'
    node.write_text('<node><auth><user password="right-pw">alice</user></auth></node>')
    result = module_runner('host_facts', dict(uri='test://%s' % node, username='alice',
                                              password='planted-Secret-42'))
    assert result.failed
    assert 'planted-Secret-42' not in str(result)
    ok = module_runner('host_facts', dict(uri='test://%s' % node, username='alice', password='right-pw'))
    assert not ok.failed, ok['msg']


def test_default_gather_cpu_models_stats_and_pages(module_runner, test_conn):
    facts = module_runner('host_facts', dict(uri='test:///default'))['ansible_facts']['libvirt']
    arches = {facts['capabilities']['host']['cpu']['arch']} | {g['arch'] for g in facts['capabilities']['guests']}
    assert set(facts['cpu_model_names']) == arches
    for arch in arches:
        assert facts['cpu_model_names'][arch] == sorted(test_conn.getCPUModelNames(arch, 0))
    # The test driver reports CPU statistics but no memory statistics.
    assert set(facts['node_stats']['cpu']) == {'%s_ns' % k for k in test_conn.getCPUStats(-1, 0)}
    assert facts['node_stats']['memory'] is None
    assert isinstance(facts['free_pages'], list)
    assert 'domain_capabilities' not in facts
    assert facts['not_supported'] == ['node_stats.memory']


def test_what_the_driver_does_not_offer_is_data_not_a_warning(module_runner, shared_test_conn):
    # Through the daemon the test driver offers no free pages either: libvirt answers "Library function returned
    # error but did not set virError"; the demo's first task used to warn about it.
    result = module_runner('host_facts', dict(uri=SHARED_TEST_URI))
    assert not result.failed, result
    assert not result.get('warnings'), result.get('warnings')
    facts = result['ansible_facts']['libvirt']
    assert facts['not_supported'] == ['node_stats.memory', 'free_pages']
    assert facts['free_pages'] == [] and facts['node_stats']['memory'] is None and facts['node_stats']['cpu']


def test_empty_gather_is_only_the_basics(module_runner):
    facts = module_runner('host_facts', dict(uri='test:///default', gather=[]))['ansible_facts']['libvirt']
    assert not {'cpu_model_names', 'node_stats', 'free_pages', 'domain_capabilities'} & set(facts)
    assert facts['node']['cpus']


def test_domain_capabilities_where_the_driver_has_none(module_runner):
    result = module_runner('host_facts', dict(uri='test:///default', gather=['all']))
    assert not result.failed, result
    assert result['ansible_facts']['libvirt']['domain_capabilities'] == []
    assert 'domain_capabilities' in result['ansible_facts']['libvirt']['not_supported']
    assert not result.get('warnings'), result.get('warnings')
    explicit = module_runner('host_facts', dict(uri='test:///default', domain_capabilities=[dict(arch='i686')]))
    assert explicit.failed
    assert explicit['msg'].startswith('Failed to read the domain capabilities for arch=i686')
    assert explicit['error']['code_name'] == 'VIR_ERR_NO_SUPPORT'


def test_unknown_gather_choice_fails(module_runner):
    result = module_runner('host_facts', dict(uri='test:///default', gather=['everything']))
    assert result.failed and 'gather' in result['msg']
