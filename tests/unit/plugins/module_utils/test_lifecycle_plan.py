# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lifecycle after the definition (_resource.plan, execute, converge and their wrappers), on an object that
records the calls made on it: which actions, in which order, which calls, in check mode none.

Written to kill the mutants of this code that survived the module tests (scripts/mutation.sh)."""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _resource
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure


class Thing:
    """A libvirt-like object: its state, and the calls made on it, in order."""

    def __init__(self, active=False, persistent=True, autostart=False, fail=None):
        self.active, self.persistent, self.auto = active, persistent, autostart
        self.calls, self.fail = [], fail

    def name(self):
        return 't1'

    def _call(self, what):
        self.calls.append(what)
        if what == self.fail:
            raise libvirt.libvirtError('%s failed' % what)

    def isActive(self):
        return self.active

    def isPersistent(self):
        if self.active is None:
            raise libvirt.libvirtError('a transient object is gone once stopped')
        return self.persistent

    def create(self):
        self._call('create')
        self.active = True

    def destroy(self):
        self._call('destroy')
        self.active = None if not self.persistent else False

    def undefine(self):
        self._call('undefine')

    def autostart(self):
        return self.auto

    def setAutostart(self, value):
        self._call('setAutostart(%d)' % value)
        self.auto = bool(value)

    def XMLDesc(self, flags):
        return '<thing><name>t1</name></thing>'


class ThingKind(_resource.Kind):
    noun = 'thing'
    autostart_actions = ('autostart on', 'autostart off')
    stop_action = 'halt'
    undefine_action = 'forget'


KIND = ThingKind()


def actions(steps):
    return [s.action for s in steps]


@pytest.mark.parametrize('state, expected', [
    (dict(active=True), ['halt', 'between', 'forget', 'after']),
    (dict(active=False), ['between', 'forget', 'after']),
    (dict(active=True, persistent=False), ['halt', 'between', 'after']),
    (dict(active=False, persistent=False), ['between', 'after']),
])
def test_absent_stops_then_between_then_undefines_then_after(state, expected):
    thing = Thing(**state)
    between = [_resource.Step('between', lambda: thing.calls.append('between'), 'b')]
    after = [_resource.Step('after', lambda: thing.calls.append('after'), 'a')]
    steps = _resource.plan(KIND, thing, 'absent', between=between, after=after)
    assert actions(steps) == expected
    outcome = _resource.Outcome()
    _resource.execute(steps, False, outcome)
    assert outcome.actions == expected and outcome.changed
    assert thing.calls == [dict(halt='destroy', forget='undefine').get(a, a) for a in expected]


def test_absent_of_nothing_plans_nothing_and_shows_no_diff():
    assert _resource.plan(KIND, None, 'absent') == []
    outcome = _resource.Outcome()
    _resource.converge(KIND, None, 'absent', False, outcome)
    assert (outcome.before, outcome.after, outcome.actions, outcome.changed) == (None, None, [], False)


@pytest.mark.parametrize('check', [True, False])
def test_converge_absent_shows_the_definition_going_away(check):
    thing, outcome = Thing(active=True), _resource.Outcome()
    _resource.converge(KIND, thing, 'absent', check, outcome)
    assert (outcome.before, outcome.after) == ('<thing><name>t1</name></thing>', '')
    assert outcome.actions == ['halt', 'forget']
    assert thing.calls == ([] if check else ['destroy', 'undefine'])


@pytest.mark.parametrize('state, active, expected, calls', [
    ('active', False, ['start'], ['create']),
    ('active', True, [], []),
    ('inactive', True, ['halt'], ['destroy']),
    ('inactive', False, [], []),
    ('present', True, [], []),
    ('present', False, [], []),
])
def test_states(state, active, expected, calls):
    thing, outcome = Thing(active=active), _resource.Outcome()
    _resource.converge(KIND, thing, state, False, outcome)
    assert outcome.actions == expected and outcome.changed is bool(expected)
    assert thing.calls == calls
    assert (outcome.before, outcome.after) == (None, None)


@pytest.mark.parametrize('have, want, expected, calls', [
    (False, True, ['autostart on'], ['setAutostart(1)']),
    (True, False, ['autostart off'], ['setAutostart(0)']),
    (True, True, [], []),
    (False, False, [], []),
    (True, None, [], []),
])
def test_autostart(have, want, expected, calls):
    thing, outcome = Thing(autostart=have), _resource.Outcome()
    _resource.ensure_autostart(KIND, thing, want, False, outcome)
    assert outcome.actions == expected and thing.calls == calls


@pytest.mark.parametrize('state, autostart, expected', [
    ('active', True, ['start', 'autostart on']),
    ('active', False, ['start']),
    ('inactive', True, ['autostart on']),
    ('present', None, []),
    ('absent', True, []),
])
def test_an_object_check_mode_would_define_is_inactive_without_autostart(state, autostart, expected):
    outcome = _resource.Outcome()
    _resource.converge(KIND, None, state, True, outcome, autostart=autostart)
    assert outcome.actions == expected


def test_check_mode_predicts_the_same_actions_and_calls_nothing():
    thing = Thing(active=False, autostart=True)
    steps = _resource.plan(KIND, thing, 'active', autostart=False)
    outcome = _resource.Outcome()
    _resource.execute(steps, True, outcome)
    assert outcome.actions == ['start', 'autostart off'] and thing.calls == []


def test_calls_replace_the_kinds_own_for_one_run():
    thing, used = Thing(active=True), []
    steps = _resource.plan(KIND, thing, 'absent', calls=dict(stop=lambda o: used.append(('stop', o)),
                                                             undefine=lambda o: used.append(('undefine', o))))
    _resource.execute(steps, False, _resource.Outcome())
    assert used == [('stop', thing), ('undefine', thing)] and thing.calls == []
    started = []
    _resource.ensure_active(KIND, Thing(), True, False, _resource.Outcome(), start=started.append)
    assert len(started) == 1


def test_a_failure_reports_the_actions_done_before_it_and_says_what_failed():
    thing, outcome = Thing(active=True, fail='undefine'), _resource.Outcome()
    with pytest.raises(LibvirtFailure, match='^Failed to forget thing t1: undefine failed'):
        _resource.converge(KIND, thing, 'absent', False, outcome)
    assert outcome.actions == ['halt'] and outcome.changed and thing.calls == ['destroy', 'undefine']


def test_counts_records_an_action_only_when_the_call_did_something():
    outcome = _resource.Outcome()
    what = []
    steps = [_resource.Step('noop', lambda: 0, lambda: what.append(1) or 'noop', counts=bool),
             _resource.Step('did', lambda: 1, 'did', counts=bool)]
    _resource.execute(steps, False, outcome)
    assert outcome.actions == ['did'] and what == [1]
    predicted = _resource.Outcome()
    _resource.execute(steps, True, predicted)
    assert predicted.actions == ['noop', 'did']


def test_what_is_evaluated_only_when_the_call_runs():
    asked = []
    outcome = _resource.Outcome()
    outcome.perform('act', lambda: 'done', True, lambda: asked.append(1) or 'act')
    assert asked == [] and outcome.actions == ['act']
    assert outcome.perform('act', lambda: 'done', False, lambda: asked.append(1) or 'act') == 'done'
    assert asked == [1]


@pytest.mark.parametrize('wanted, active, runs', [(True, False, True), (False, True, False), (None, True, True),
                                                  (None, False, False)])
def test_ensure_active_says_whether_it_runs_afterwards(wanted, active, runs):
    assert _resource.ensure_active(KIND, Thing(active=active), wanted, True, _resource.Outcome()) is runs
    assert _resource.ensure_active(KIND, None, wanted, True, _resource.Outcome()) is bool(wanted)


def test_a_failed_autostart_change_says_what_it_tried():
    thing, outcome = Thing(fail='setAutostart(1)'), _resource.Outcome()
    with pytest.raises(LibvirtFailure, match='^Failed to set autostart of thing t1: setAutostart'):
        _resource.ensure_autostart(KIND, thing, True, False, outcome)
    assert outcome.actions == [] and not outcome.changed
