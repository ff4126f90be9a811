# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_agent_care: what a run changes in a user's authorized SSH keys and in the guest's online vCPUs, the clock
offset, and when a guest already is suspended."""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _agent_care
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure

A, B, C = 'ssh-ed25519 AAAA a@x', 'ssh-rsa BBBB b@x', 'ssh-ed25519 CCCC c@x'


@pytest.mark.parametrize('current, keys, state, after, call', [
    ([A, B], [A], 'present', [A, B], None),
    ([B, A], ['  ssh-ed25519   AAAA a@x '], 'present', [A, B], None),
    ([A], [B, C, B], 'present', [A, C, B], ('append', [B, C])),
    ([], [A], 'present', [A], ('append', [A])),
    ([A, B], [B], 'absent', [A], ('remove', [B])),
    ([A, B], [C], 'absent', [A, B], None),
    ([A, B, C], [C, A], 'absent', [B], ('remove', [C, A])),
    ([A, B], [A, B], 'exact', [A, B], None),
    ([B, A], [A, B], 'exact', [A, B], None),
    ([A, B], [A], 'exact', [A], ('set', [A])),
    ([A], [B, C], 'exact', [C, B], ('set', [B, C])),
    ([A, B], [], 'exact', [], ('remove', [A, B])),
    ([], [], 'exact', [], None),
    (['', A, '  '], [A], 'exact', [A], None),
    ([A], ['', A], 'present', [A], None),
])
def test_plan_keys(current, keys, state, after, call):
    assert _agent_care.plan_keys(current, keys, state) == (after, call)


def test_normalise_key():
    assert _agent_care.normalise_key('\tssh-rsa  BBBB   b@x \n') == B


@pytest.mark.parametrize('text, numbers', [('0-1,3', [0, 1, 3]), ('', []), (None, []), ('2', [2]), ('x', [])])
def test_cpus(text, numbers):
    assert _agent_care.cpus(text) == numbers


INFO = {'vcpus': '0-3', 'online': '0-1', 'offlinable': '1-3'}
HAS_HINT = ('The guest sees the vCPUs of its definition (sysvirt.libvirt.domain); this changes which of them are '
            'online.')


@pytest.mark.parametrize('online, offline, steps', [
    (set(), set(), []),
    ({0, 1}, {2, 3}, []),
    ({2}, set(), [('2', 1)]),
    ({2, 3}, {1}, [('2,3', 1), ('1', 0)]),
    (set(), {1}, [('1', 0)]),
    ({0}, {1}, [('1', 0)]),
])
def test_plan_vcpus(online, offline, steps):
    assert _agent_care.plan_vcpus(INFO, online, offline) == steps


@pytest.mark.parametrize('online, offline, message, hint', [
    ({1}, {1, 2}, 'vcpus: vCPU 1 cannot be both online and offline', None),
    ({4}, set(), 'vcpus: the guest has no vCPU 4 (it has 0,1,2,3)', HAS_HINT),
    (set(), {0, 5}, 'vcpus: the guest has no vCPU 5 (it has 0,1,2,3)', HAS_HINT),
    (set(), {0, 1}, 'vcpus: the guest cannot take vCPU 0 offline (offlinable: 1,2,3)',
     'The guest kernel keeps some CPUs (usually CPU 0) online.'),
])
def test_plan_vcpus_refused(online, offline, message, hint):
    with pytest.raises(LibvirtFailure) as caught:
        _agent_care.plan_vcpus(INFO, online, offline)
    assert caught.value.msg == message
    assert caught.value.hint == hint


def test_plan_vcpus_nothing_offlinable():
    with pytest.raises(LibvirtFailure, match=r'offlinable: none\)'):
        _agent_care.plan_vcpus({'vcpus': '0', 'online': '0', 'offlinable': ''}, set(), {0})


def test_vcpus_data():
    assert _agent_care.vcpus_data(INFO) == dict(vcpus=[0, 1, 2, 3], online=[0, 1], offlinable=[1, 2, 3])


def test_clock_offset():
    assert _agent_care.clock_offset(dict(seconds=100, nseconds=500000000), 90.0) == 10.5
    assert _agent_care.clock_offset(dict(seconds=100), 130.25) == -30.25


@pytest.mark.parametrize('text, parsed', [('1-3,5', {1, 2, 3, 5}), (None, []), (2, {2})])
def test_parse_cpus(text, parsed):
    assert set(_agent_care._parse_cpus(text, 'online')) == set(parsed)


def test_parse_cpus_refused():
    with pytest.raises(LibvirtFailure) as caught:
        _agent_care._parse_cpus('one', 'offline')
    assert caught.value.msg == "vcpus: offline 'one' is not a CPU list (such as 1-3,5)"


class Dom:
    def __init__(self, state):
        self._state = state

    def state(self):
        return [self._state, 0]


@pytest.mark.parametrize('state, target, already', [
    (libvirt.VIR_DOMAIN_PMSUSPENDED, 'mem', True),
    (libvirt.VIR_DOMAIN_PMSUSPENDED, 'hybrid', True),
    (libvirt.VIR_DOMAIN_PMSUSPENDED, 'disk', False),
    (libvirt.VIR_DOMAIN_RUNNING, 'mem', False),
    (libvirt.VIR_DOMAIN_SHUTOFF, 'disk', True),
    (libvirt.VIR_DOMAIN_SHUTOFF, 'mem', False),
    (libvirt.VIR_DOMAIN_RUNNING, 'disk', False),
])
def test_suspended_already(state, target, already):
    assert _agent_care.suspended_already(Dom(state), target) is already
