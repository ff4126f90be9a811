# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/_cpu.py: CPU XML <-> data, libvirt's reasons, baseline and definition comparison (test driver)."""

from __future__ import annotations

import pytest
from lxml import etree

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _cpu
from ansible_collections.sysvirt.libvirt.plugins.module_utils._xml import XMLInputError

HOST_DATA = dict(arch='x86_64', model='Haswell-noTSX', vendor='Intel', features=['vmx', 'ht'],
                 topology=dict(sockets=1, cores=4, threads=2))
WESTMERE = "<cpu><arch>x86_64</arch><model>Westmere</model><vendor>Intel</vendor><feature name='vmx'/></cpu>"


def test_host_data_becomes_host_style_xml():
    element = _cpu.data_to_element(HOST_DATA)
    assert element.get('mode') is None
    assert element.findtext('arch') == 'x86_64' and element.findtext('model') == 'Haswell-noTSX'
    assert [(f.get('name'), f.get('policy')) for f in element.findall('feature')] == [('vmx', None), ('ht', None)]
    assert element.find('topology').attrib == dict(sockets='1', cores='4', threads='2')


def test_guest_data_keeps_policies_and_disabled_features():
    data = dict(mode='custom', match='exact', model='EPYC', vendor='AMD', fallback='forbid',
                features=['x2apic', dict(name='svm', policy='optional')], disabled_features=['monitor'])
    element = _cpu.data_to_element(data)
    assert element.get('mode') == 'custom' and element.find('model').get('fallback') == 'forbid'
    assert [(f.get('name'), f.get('policy')) for f in element.findall('feature')] == [
        ('x2apic', 'require'), ('svm', 'optional'), ('monitor', 'disable')]
    assert _cpu.cpu_data(element)['disabled_features'] == ['monitor']
    assert _cpu.cpu_data(element)['features'] == ['x2apic', 'svm']


@pytest.mark.parametrize('value, message', [
    (dict(vendor='AMD'), 'needs at least a model or features'),
    (dict(model='EPYC', features=[dict(policy='require')]), 'needs a name'),
    (42, 'must be XML text or a dict'),
    ('', 'must be XML text or a dict'),
    ('<domain><name>x</name></domain>', 'holds no <cpu> element'),
    ('<cpu><model>', 'not well-formed'),
])
def test_bad_input_is_a_plain_error(value, message):
    with pytest.raises(XMLInputError, match=message):
        _cpu.cpu_element(value, 'cpus[0]')


@pytest.mark.parametrize('document, path', [
    ('<capabilities><host><cpu><arch>x86_64</arch><model>kvm64</model></cpu></host>'
     '<guest><cpu/></guest></capabilities>', 'host'),
    ("<domain type='kvm'><name>a</name><cpu mode='custom'><model>kvm64</model></cpu></domain>", 'domain'),
])
def test_cpu_found_inside_a_document(document, path):
    element = _cpu.cpu_element(document)
    assert element.tag == 'cpu' and element.findtext('model') == 'kvm64'


def test_host_style_drops_guest_attributes_and_disabled_features():
    xml, disabled = _cpu.host_style("<cpu mode='custom' match='exact'><model fallback='allow'>EPYC</model>"
                                    "<feature policy='require' name='a'/><feature policy='disable' name='b'/>"
                                    "<feature policy='forbid' name='c'/><numa/></cpu>", default_arch='x86_64')
    root = etree.fromstring(xml)
    assert root.attrib == {} and root.find('model').attrib == {}
    assert root.findtext('arch') == 'x86_64'
    assert [f.attrib for f in root.findall('feature')] == [dict(name='a')]
    assert root.find('numa') is None
    assert disabled == {'b', 'c'}


def test_cpu_xml_adds_arch_only_to_host_style():
    assert etree.fromstring(_cpu.cpu_xml(dict(model='EPYC'), default_arch='x86_64')).findtext('arch') == 'x86_64'
    guest = etree.fromstring(_cpu.cpu_xml(dict(mode='custom', model='EPYC'), default_arch='x86_64'))
    assert guest.find('arch') is None


@pytest.mark.parametrize('reason, features', [
    ('Host CPU does not provide required features: svm, npt, nrip-save', ['svm', 'npt', 'nrip-save']),
    ('Host CPU does not provide required feature: svm', ['svm']),
    ('host CPU vendor does not match required CPU vendor Intel', []),
    (None, []),
])
def test_features_from_reason(reason, features):
    assert _cpu.features_from_reason(reason) == features


def test_reason_drops_libvirts_prefix():
    assert _cpu._reason('the CPU is incompatible with host CPU: Host CPU does not provide required features: a') \
        == 'Host CPU does not provide required features: a'


def test_baseline_on_the_test_driver(test_conn):
    outcome = _cpu.baseline(test_conn, [HOST_DATA, WESTMERE], hypervisor_aware=False)
    direct = etree.fromstring(test_conn.baselineCPU(outcome['inputs'], 0).encode())
    assert outcome['hypervisor_aware'] is False
    assert outcome['cpu']['model'] == direct.findtext('model')
    assert outcome['cpu']['vendor'] == 'Intel'
    assert 'vmx' in outcome['cpu']['features'] and 'ht' not in outcome['cpu']['features']


@pytest.mark.parametrize('cpu, against, result', [
    (WESTMERE, HOST_DATA, 'superset'),
    (HOST_DATA, HOST_DATA, 'identical'),
    (HOST_DATA, WESTMERE, 'incompatible'),
    (WESTMERE, dict(arch='x86_64', model='Opteron_G3', vendor='AMD'), 'incompatible'),
])
def test_compare_definitions(test_conn, cpu, against, result):
    outcome = _cpu.compare_definitions(test_conn, cpu, against, 'x86_64')
    assert outcome['result'] == result
    cpu_vendor, cpu_features = _cpu.expanded(test_conn, cpu, default_arch='x86_64')
    host_vendor, host_features = _cpu.expanded(test_conn, against, default_arch='x86_64')
    assert outcome['missing_features'] == sorted(cpu_features - host_features)
    if result == 'incompatible' and cpu_vendor == host_vendor:
        assert outcome['missing_features'] and 'does not provide' in outcome['reason']
    if cpu_vendor != host_vendor:
        assert 'vendor' in outcome['reason']
