# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cpu_baseline on the test driver, which has the plain baseline API but not the hypervisor-aware one."""

from __future__ import annotations

import libvirt
import pytest
from lxml import etree

HASWELL = dict(arch='x86_64', model='Haswell-noTSX', vendor='Intel', features=['vmx'])
WESTMERE = "<cpu><arch>x86_64</arch><model>Westmere</model><vendor>Intel</vendor><feature name='vmx'/></cpu>"
URI = 'test:///default'


@pytest.mark.parametrize('check_mode', [False, True])
def test_baseline_falls_back_to_the_plain_api_without_the_hypervisor_one(module_runner, test_conn, check_mode):
    result = module_runner('cpu_baseline', dict(uri=URI, cpus=[HASWELL, WESTMERE]), check_mode=check_mode)
    assert not result.failed, result
    assert result['changed'] is False
    assert result['hypervisor_aware'] is False
    haswell = "<cpu><arch>x86_64</arch><model>Haswell-noTSX</model><vendor>Intel</vendor><feature name='vmx'/></cpu>"
    direct = etree.fromstring(test_conn.baselineCPU([haswell, WESTMERE], 0).encode())
    assert result['cpu']['model'] == direct.findtext('model') == 'Westmere'
    assert result['cpu']['features'] == [f.get('name') for f in direct.findall('feature')]
    assert etree.fromstring(result['xml'].encode()).findtext('model') == 'Westmere'


def test_expand_features_lists_the_models_features(module_runner, test_conn):
    plain = module_runner('cpu_baseline', dict(uri=URI, cpus=[WESTMERE]))
    expanded = module_runner('cpu_baseline', dict(uri=URI, cpus=[WESTMERE], expand_features=True))
    assert set(plain['cpu']['features']) < set(expanded['cpu']['features'])
    direct = etree.fromstring(test_conn.baselineCPU(
        [WESTMERE], libvirt.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES).encode())
    assert expanded['cpu']['features'] == [f.get('name') for f in direct.findall('feature')]


def test_cpu_without_arch_takes_the_hosts(module_runner, test_conn):
    result = module_runner('cpu_baseline', dict(uri=URI, cpus=[dict(model='pentium3', vendor='Intel')]))
    assert not result.failed, result
    assert result['cpu']['model'] == 'pentium3'


@pytest.mark.parametrize('args, message', [
    (dict(hypervisor_aware=True), 'Failed to compute the hypervisor-aware baseline CPU'),
    (dict(hypervisor=dict(virt_type='kvm')), 'Failed to compute the hypervisor-aware baseline CPU'),
    (dict(hypervisor=dict(virt_type='kvm'), hypervisor_aware=False), 'hypervisor options need'),
    (dict(cpus=[]), 'cpus is empty'),
    (dict(cpus=['<cpu><model>']), 'cpus[0] XML is not well-formed'),
    (dict(cpus=[WESTMERE, dict(vendor='Intel')]), 'cpus[1]: CPU data needs'),
    (dict(cpus=[WESTMERE, "<cpu><arch>x86_64</arch><model>NoSuchModel</model></cpu>"]),
     'Failed to compute the baseline CPU'),
])
def test_failures_are_plain(module_runner, args, message):
    params = dict(uri=URI, cpus=[WESTMERE])
    params.update(args)
    result = module_runner('cpu_baseline', params)
    assert result.failed
    assert message in result['msg']
    assert '\n' not in result['msg'] and 'Traceback' not in str(result)
    if 'hypervisor-aware baseline' in message:
        assert result['error']['code_name'] == 'VIR_ERR_NO_SUPPORT'
        assert 'hypervisor_aware' in result['hint']
