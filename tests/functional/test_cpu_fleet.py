# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cpu_baseline and cpu_compare against the real daemon (qemu:///system).

The fleet: this host (from host_facts) and two host CPU definitions written for these tests in the shape libvirt's
capabilities use (tests/integration/targets/cpu_baseline/files, shared with the integration target).

What is true on this test bed, and tested as such: the host is nested (an AMD CPU reported by libvirt as kvm64 plus
many features), and QEMU/KVM here can give a guest far fewer features than the host CPU reports. So the plain
comparison (host CPU as the capabilities describe it) says the host runs the fleet baseline, while the
hypervisor-aware comparison says QEMU cannot provide features of it, and lists exactly which.
"""

from __future__ import annotations

import os

import libvirt
import pytest
from lxml import etree

from conftest import QEMU_URI, REPO

FILES = os.path.join(REPO, 'tests', 'integration', 'targets', 'cpu_baseline', 'files')
EXPAND = libvirt.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES


def definition(name):
    with open(os.path.join(FILES, name), encoding='utf-8') as handle:
        return handle.read()


ROME = definition('epyc-rome-host.xml')
MILAN = definition('epyc-milan-host.xml')
SKYLAKE = definition('skylake-host.xml')


@pytest.fixture(scope='module')
def host_cpu(qemu_conn):
    root = etree.fromstring(qemu_conn.getCapabilities().encode())
    return root.find('host/cpu')


@pytest.fixture(scope='module')
def host_cpu_facts(qemu_conn):
    from conftest import run_module
    result = run_module('host_facts', dict(uri=QEMU_URI, gather=[]))
    assert not result.failed, result
    return result['ansible_facts']['libvirt']['capabilities']['host']['cpu']


def expanded_features(conn, xml):
    """The features of a CPU with its model expanded, straight from libvirt (independent of our code)."""
    root = etree.fromstring(conn.baselineCPU([xml], EXPAND).encode())
    return set(f.get('name') for f in root.findall('feature') if f.get('policy') not in ('disable', 'forbid'))


def test_baseline_of_the_host_with_itself_is_the_host_model(module_runner, host_cpu, host_cpu_facts, qemu_conn):
    for cpus in ([etree.tostring(host_cpu, encoding='unicode')], [host_cpu_facts]):
        result = module_runner('cpu_baseline', dict(uri=QEMU_URI, cpus=cpus, hypervisor_aware=False))
        assert not result.failed, result
        assert result['hypervisor_aware'] is False
        assert result['cpu']['model'] == host_cpu.findtext('model')
        assert result['cpu']['vendor'] == host_cpu.findtext('vendor')
        # libvirt drops features a guest cannot have (osxsave); nothing else of the host's is lost.
        host_features = set(f.get('name') for f in host_cpu.findall('feature'))
        assert host_features - set(result['cpu']['features']) <= {'osxsave', 'ospke'}
        assert etree.fromstring(result['xml'].encode()).findtext('model') == result['cpu']['model']
        back = module_runner('cpu_compare', dict(uri=QEMU_URI, cpu=result['cpu'], hypervisor_aware=False))
        assert back['result'] in ('identical', 'superset'), back


@pytest.mark.parametrize('hypervisor_aware', [False, True])
def test_fleet_baseline_compares_back_to_every_source(module_runner, host_cpu_facts, hypervisor_aware, qemu_conn):
    sources = [host_cpu_facts, ROME, MILAN]
    result = module_runner('cpu_baseline', dict(uri=QEMU_URI, cpus=sources, hypervisor_aware=hypervisor_aware,
                                                migratable=True))
    assert not result.failed, result
    assert result['hypervisor_aware'] is hypervisor_aware
    baseline = result['cpu']
    assert baseline['vendor'] == 'AMD'
    for source in sources:
        back = module_runner('cpu_compare', dict(uri=QEMU_URI, cpu=baseline, host_cpu=source))
        assert not back.failed, back
        assert back['against'] == 'host_cpu'
        assert back['result'] in ('identical', 'superset'), (source, back)
        assert back['missing_features'] == []
    # The same answer from libvirt directly: every feature of the baseline is a feature of each source.
    mine = expanded_features(qemu_conn, _host_style(result['xml'])) - set(baseline['disabled_features'])
    for source in (ROME, MILAN):
        assert mine <= expanded_features(qemu_conn, source)
    # Against the real host CPU (it is one of the sources), libvirt's own comparison agrees.
    plain = module_runner('cpu_compare', dict(uri=QEMU_URI, xml=result['xml'], hypervisor_aware=False))
    assert plain['against'] == 'host'
    assert plain['result'] in ('identical', 'superset'), plain


def _host_style(xml):
    root = etree.fromstring(xml.encode())
    for attribute in ('mode', 'match', 'check'):
        root.attrib.pop(attribute, None)
    for element in root.iter():
        if element.tag in ('model', 'feature'):
            element.attrib.pop('fallback', None)
            if element.attrib.pop('policy', None) in ('disable', 'forbid'):
                root.remove(element)
    arch = etree.Element('arch')
    arch.text = 'x86_64'
    root.insert(0, arch)
    return etree.tostring(root, encoding='unicode')


def test_hypervisor_aware_compare_tells_what_qemu_cannot_provide_here(module_runner, host_cpu_facts, qemu_conn):
    """On this nested host QEMU cannot give a guest all the host CPU's features: the answer says which."""
    result = module_runner('cpu_compare', dict(uri=QEMU_URI, cpu=host_cpu_facts))
    assert not result.failed, result
    assert result['hypervisor_aware'] is True and result['against'] == 'hypervisor'
    code = qemu_conn.compareHypervisorCPU(None, None, None, None, result['cpu_xml'], 0)
    expected = {0: 'incompatible', 1: 'identical', 2: 'superset'}[code]
    assert result['result'] == expected
    if expected == 'incompatible':
        assert result['missing_features'], result
        # Each missing feature is one the host CPU lists but QEMU's host-model CPU does not provide.
        domcaps = etree.fromstring(qemu_conn.getDomainCapabilities(None, None, None, None, 0).encode())
        host_model = domcaps.find("cpu/mode[@name='host-model']")
        offered = set(f.get('name') for f in host_model.findall('feature') if f.get('policy') == 'require')
        assert not set(result['missing_features']) & offered


def test_incompatible_definition_fails_the_preflight_with_missing_features(module_runner, qemu_conn):
    result = module_runner('cpu_compare', dict(uri=QEMU_URI, xml=ROME, hypervisor_aware=False,
                                               fail_on_incompatible=True))
    assert result.failed
    assert result['result'] == 'incompatible'
    host = etree.tostring(etree.fromstring(qemu_conn.getCapabilities().encode()).find('host/cpu'),
                          encoding='unicode')
    expected = expanded_features(qemu_conn, ROME) - expanded_features(qemu_conn, host)
    assert expected, 'the Rome definition should need features this host lacks'
    assert set(result['missing_features']) == expected
    for feature in expected:
        assert feature in result['msg']
    assert 'Traceback' not in str(result) and '\n' not in result['msg']
    # Without fail_on_incompatible it is an answer, not a failure.
    quiet = module_runner('cpu_compare', dict(uri=QEMU_URI, xml=ROME, hypervisor_aware=False))
    assert not quiet.failed and quiet['result'] == 'incompatible'
    assert set(quiet['missing_features']) == expected


def test_other_vendor_is_incompatible_with_the_reason(module_runner):
    result = module_runner('cpu_compare', dict(uri=QEMU_URI, xml=SKYLAKE, hypervisor_aware=False,
                                               fail_on_incompatible=True))
    assert result.failed and result['result'] == 'incompatible'
    assert 'vendor' in result['reason'] and 'Intel' in result['msg']


def test_mixed_vendors_fail_cleanly(module_runner):
    result = module_runner('cpu_baseline', dict(uri=QEMU_URI, cpus=[ROME, SKYLAKE], hypervisor_aware=False))
    assert result.failed
    assert result['msg'].startswith('Failed to compute the baseline CPU')
    assert 'vendors' in result['msg'] and 'Traceback' not in str(result)


@pytest.mark.parametrize('flag', ['expand_features', 'migratable'])
def test_flags_reach_libvirt(module_runner, qemu_conn, flag):
    result = module_runner('cpu_baseline', dict(uri=QEMU_URI, cpus=[ROME, MILAN], hypervisor_aware=False,
                                                **{flag: True}))
    assert not result.failed, result
    flags = dict(expand_features=EXPAND, migratable=libvirt.VIR_CONNECT_BASELINE_CPU_MIGRATABLE)[flag]
    direct = etree.fromstring(qemu_conn.baselineCPU([ROME, MILAN], flags).encode())
    assert result['cpu']['model'] == direct.findtext('model')
    assert result['cpu']['features'] == [f.get('name') for f in direct.findall('feature')
                                         if f.get('policy') not in ('disable', 'forbid')]
    if flag == 'migratable':
        assert 'invtsc' not in result['cpu']['features']
    else:
        plain = module_runner('cpu_baseline', dict(uri=QEMU_URI, cpus=[ROME, MILAN], hypervisor_aware=False))
        assert len(result['cpu']['features']) > len(plain['cpu']['features'])


def test_hypervisor_options_reach_libvirt(module_runner, qemu_conn, host_cpu_facts):
    args = dict(uri=QEMU_URI, cpus=[host_cpu_facts, ROME],
                hypervisor=dict(arch='x86_64', virt_type='qemu', machine='q35'))
    result = module_runner('cpu_baseline', args)
    assert not result.failed, result
    assert result['hypervisor_aware'] is True
    xmls = [etree.tostring(etree.fromstring(qemu_conn.getCapabilities().encode()).find('host/cpu'),
                           encoding='unicode'), ROME]
    direct = etree.fromstring(qemu_conn.baselineHypervisorCPU(None, 'x86_64', 'q35', 'qemu', xmls, 0).encode())
    assert result['cpu']['model'] == direct.findtext('model')
    bad = module_runner('cpu_baseline', dict(args, hypervisor=dict(arch='sparc')))
    assert bad.failed and bad['msg'].startswith('Failed to compute the hypervisor-aware baseline CPU')
