# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The domain's power state while another client changes it at the same moment (DomainRun.ensure_state).

A guest that another process is starting shows as paused (reason "starting up") until libvirt resumes it: a run
asking for ``running`` must wait for that start, not resume it ("Failed to resume domain: Requested operation is
not valid: domain is already running"). And a start, resume or destroy that libvirt refuses because another
client made it first is not ours: not reported as an action, not a failure. A fake domain plays the other
client: its state() answers from a script, its calls may fail the way libvirt fails them."""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain, _events
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import Outcome

RUNNING = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED)
STARTING = (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_STARTING_UP)
PAUSED = (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER)
SHUTOFF = (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED)
INVALID = libvirt.VIR_ERR_OPERATION_INVALID


class RacedDomain:
    """A domain another client acts on: state() answers ``states`` in turn (the last one from then on); a call
    named in ``refuse`` raises libvirt's error with that code, and moves the script on to ``after`` (what the
    other client's action left)."""

    def __init__(self, states, refuse=None, after=None):
        self.states, self.refuse, self.after = list(states), refuse or {}, after
        self.calls = []

    def name(self):
        return 'g1'

    def state(self):
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def hasManagedSaveImage(self, flags):
        return 0

    def _call(self, what, result):
        self.calls.append(what)
        if what in self.refuse:
            error = libvirt.libvirtError('%s refused' % what)
            error.err = (self.refuse[what], libvirt.VIR_FROM_QEMU, 'Requested operation is not valid: %s' % what,
                         2, None, None, None, 0, 0)
            self.states = list(self.after)
            raise error
        self.states = [result]
        return 0

    def resume(self):
        return self._call('resume', RUNNING)

    def createWithFlags(self, flags):
        return self._call('create', RUNNING)

    def destroy(self):
        return self._call('destroy', SHUTOFF)


class Conn:
    """What the run and its event registrations use of a connection: no event ever arrives, so every wait is the
    domain's state read again (predicates true at once, or the wait's timeout)."""

    def getType(self):
        return 'QEMU'

    def domainEventRegisterAny(self, dom, event_id, callback, opaque):
        return event_id

    def domainEventDeregisterAny(self, callback_id):
        return 0


class Module:
    def __init__(self, check_mode=False):
        self.check_mode = check_mode
        self.params = dict(timeout=0.2, force_boot=False, reset_nvram=False, state='running')


@pytest.fixture(autouse=True)
def event_loop(monkeypatch):
    monkeypatch.setattr(_events, 'event_loop_running', lambda: True)


def ensure(dom, state='running', check_mode=False):
    outcome = Outcome()
    run = _domain.DomainRun(Module(check_mode), Conn(), outcome)
    run.name, run.dom = 'g1', dom
    run.ensure_state(state)
    return outcome


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_guest_another_client_is_starting_is_waited_for_not_resumed(check_mode):
    # current state, then starting_up() twice (the plan, the wait's first look), then running
    dom = RacedDomain([STARTING, STARTING, STARTING, RUNNING])
    outcome = ensure(dom, check_mode=check_mode)
    assert dom.calls == []
    assert (outcome.changed, list(outcome.actions), outcome.warnings) == (False, [], [])


def test_a_guest_paused_by_a_user_is_resumed():
    dom = RacedDomain([PAUSED])
    outcome = ensure(dom)
    assert dom.calls == ['resume']
    assert (outcome.changed, list(outcome.actions), outcome.warnings) == (True, ['resume'], [])


@pytest.mark.parametrize('before, call, after, state', [
    # paused read, then another client's start resumed it before our resume ("domain is already running")
    ([PAUSED], 'resume', [RUNNING], 'running'),
    # shut off read, then another client's start began before ours
    ([SHUTOFF], 'create', [STARTING, STARTING, RUNNING], 'running'),
    ([SHUTOFF], 'create', [RUNNING], 'running'),
    # running read, then another client destroyed it first ("domain is not running")
    ([RUNNING], 'destroy', [SHUTOFF], 'destroyed'),
])
def test_a_transition_another_client_made_first_is_not_ours_and_not_a_failure(before, call, after, state):
    dom = RacedDomain(before, refuse={call: INVALID}, after=after)
    outcome = ensure(dom, state)
    assert dom.calls == [call]
    assert (outcome.changed, list(outcome.actions)) == (False, [])
    assert len(outcome.warnings) == 1 and 'another client did the' in outcome.warnings[0]
    assert 'Requested operation is not valid' in outcome.warnings[0]


@pytest.mark.parametrize('before, call, code, after, state', [
    # refused as invalid, and the domain is not where we wanted it: a real failure
    ([PAUSED], 'resume', INVALID, [PAUSED], 'running'),
    ([SHUTOFF], 'create', INVALID, [SHUTOFF], 'running'),
    ([RUNNING], 'destroy', INVALID, [RUNNING], 'destroyed'),
    # another error, even if the domain got there: a real failure
    ([PAUSED], 'resume', libvirt.VIR_ERR_INTERNAL_ERROR, [RUNNING], 'running'),
    # refused as invalid while starting up, but running is not what was asked
    ([RUNNING], 'destroy', INVALID, [STARTING], 'destroyed'),
])
def test_a_refused_transition_that_no_other_client_made_fails(before, call, code, after, state):
    dom = RacedDomain(before, refuse={call: code}, after=after)
    with pytest.raises(LibvirtFailure) as failure:
        ensure(dom, state)
    assert failure.value.code == code
    assert dom.calls == [call]


def test_a_start_up_that_does_not_end_is_then_resumed_as_a_pause():
    # (the wait gives up after the timeout; the plan then resumes what still shows as paused)
    dom = RacedDomain([STARTING])
    outcome = ensure(dom)
    assert dom.calls == ['resume'] and list(outcome.actions) == ['resume']
