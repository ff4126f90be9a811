# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cpu_compare on the test driver: CPU definitions compared with each other (host_cpu), failures.

The test driver cannot compare with its host (no compareCPU); that path is tested on qemu:///system
in tests/functional/test_cpu_fleet.py.
"""

from __future__ import annotations

import pytest

URI = 'test:///default'
HASWELL = dict(arch='x86_64', model='Haswell-noTSX', vendor='Intel', features=['vmx'])
WESTMERE = "<cpu><arch>x86_64</arch><model>Westmere</model><vendor>Intel</vendor><feature name='vmx'/></cpu>"
OPTERON = dict(arch='x86_64', model='Opteron_G3', vendor='AMD')


@pytest.mark.parametrize('check_mode', [False, True])
@pytest.mark.parametrize('cpu, host_cpu, result', [
    (dict(xml=WESTMERE), HASWELL, 'superset'),
    (dict(cpu=HASWELL), HASWELL, 'identical'),
    (dict(cpu=HASWELL), WESTMERE, 'incompatible'),
    (dict(xml=WESTMERE), OPTERON, 'incompatible'),
])
def test_compare_with_a_definition(module_runner, cpu, host_cpu, result, check_mode):
    outcome = module_runner('cpu_compare', dict(uri=URI, host_cpu=host_cpu, **cpu), check_mode=check_mode)
    assert not outcome.failed, outcome
    assert outcome['changed'] is False
    assert outcome['result'] == result
    assert outcome['against'] == 'host_cpu' and outcome['hypervisor_aware'] is False
    if result == 'superset':
        assert outcome['extra_features'] and not outcome['missing_features']
    if result == 'identical':
        assert outcome['extra_features'] == [] == outcome['missing_features']


def test_guest_style_baseline_output_compares(module_runner):
    baseline = module_runner('cpu_baseline', dict(uri=URI, cpus=[HASWELL, WESTMERE]))
    for source in (HASWELL, WESTMERE):
        outcome = module_runner('cpu_compare', dict(uri=URI, cpu=baseline['cpu'], host_cpu=source))
        assert outcome['result'] in ('identical', 'superset'), outcome


def test_preflight_lists_missing_features(module_runner):
    outcome = module_runner('cpu_compare', dict(uri=URI, cpu=HASWELL, host_cpu=WESTMERE, fail_on_incompatible=True))
    assert outcome.failed
    # Haswell's AVX generation, which Westmere lacks
    assert {'avx', 'avx2', 'fma'} <= set(outcome['missing_features']), outcome['missing_features']
    assert outcome['msg'].startswith('The CPU is incompatible with host_cpu; missing features: ')
    assert outcome['msg'].endswith(', '.join(outcome['missing_features']))


def test_preflight_vendor_reason(module_runner):
    outcome = module_runner('cpu_compare', dict(uri=URI, xml=WESTMERE, host_cpu=OPTERON, fail_on_incompatible=True))
    assert outcome.failed and 'vendor AMD does not match required CPU vendor Intel' in outcome['msg']


@pytest.mark.parametrize('args, message', [
    (dict(xml=WESTMERE), 'Failed to compare the CPU with the host'),
    (dict(xml=WESTMERE, hypervisor_aware=True), 'Failed to compare the CPU with the hypervisor'),
    (dict(xml=WESTMERE, cpu=HASWELL), 'mutually exclusive'),
    (dict(), 'one of the following is required'),
    (dict(xml=WESTMERE, host_cpu=HASWELL, hypervisor=dict(arch='x86_64')), 'mutually exclusive'),
    (dict(xml=WESTMERE, host_cpu=HASWELL, hypervisor_aware=True), 'host_cpu compares two CPU definitions'),
    (dict(xml='<cpu>'), 'not well-formed'),
    (dict(xml=WESTMERE, host_cpu='<nocpu/>'), 'holds no <cpu> element'),
])
def test_failures_are_plain(module_runner, args, message):
    outcome = module_runner('cpu_compare', dict(uri=URI, **args))
    assert outcome.failed
    assert message in outcome['msg'], outcome['msg']
    assert '\n' not in outcome['msg'] and 'Traceback' not in str(outcome)
