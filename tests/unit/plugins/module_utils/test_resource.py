# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reconcile routine, with a minimal Kind over test-driver domains."""

from __future__ import annotations

import uuid

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _connection, _resource, _xml


class TestDomains(_resource.Kind):
    noun = 'domain'
    rules = _xml.CompareRules(fallback_unit='KiB')

    lookups = (('uuid', 'lookupByUUIDString'), ('name', 'lookupByName'))
    define_call = ('defineXML', ())
    stored_flags = ('VIR_DOMAIN_XML_INACTIVE', 'VIR_DOMAIN_XML_SECURE')


def doc(name, memory='65536', extra=''):
    return ("<domain type='test'><name>%s</name><memory unit='KiB'>%s</memory><vcpu>1</vcpu>"
            "<os><type>hvm</type></os>%s</domain>" % (name, memory, extra))


@pytest.fixture
def kind():
    return TestDomains()


def test_create_then_unchanged(test_conn, kind):
    check = _resource.reconcile_definition(test_conn, kind, doc('sysvirt-test-a'), check_mode=True)
    assert check.changed and check.actions == ['define'] and check.obj is None
    assert _connection.lookup(test_conn.lookupByName, 'sysvirt-test-a') is None
    real = _resource.reconcile_definition(test_conn, kind, doc('sysvirt-test-a'), check_mode=False)
    assert real.changed and real.actions == ['define'] and real.obj.name() == 'sysvirt-test-a'
    assert '<uuid>' in real.after
    again = _resource.reconcile_definition(test_conn, kind, doc('sysvirt-test-a'), check_mode=False)
    assert not again.changed and again.before == again.after and again.differences == []


def test_redefine_keeps_uuid_and_reports_differences(test_conn, kind):
    first = _resource.reconcile_definition(test_conn, kind, doc('sysvirt-test-b'), check_mode=False)
    uuid = first.obj.UUIDString()
    check = _resource.reconcile_definition(test_conn, kind, doc('sysvirt-test-b', memory='131072'), True)
    assert check.changed and check.actions == ['redefine']
    assert [d.path for d in check.differences] == ['/domain/memory[1]']
    assert test_conn.lookupByName('sysvirt-test-b').maxMemory() == 65536
    real = _resource.reconcile_definition(test_conn, kind, doc('sysvirt-test-b', memory='131072'), False)
    assert real.changed and real.obj.UUIDString() == uuid
    assert test_conn.lookupByName('sysvirt-test-b').maxMemory() == 131072
    assert '131072' in _xml.unified_diff(real.before, real.after)


def test_uuid_mismatch_fails(test_conn, kind):
    _resource.reconcile_definition(test_conn, kind, doc('sysvirt-test-c'), check_mode=False)
    other = doc('sysvirt-test-c', extra='').replace('</name>', '</name><uuid>11111111-2222-3333-4444-555555555555</uuid>')
    with pytest.raises(_connection.LibvirtFailure) as info:
        _resource.reconcile_definition(test_conn, kind, other, check_mode=False)
    assert 'UUID' in info.value.msg


def test_what_libvirt_does_not_keep_is_a_warning_not_a_change(test_conn, kind):
    _resource.reconcile_definition(test_conn, kind, doc('sysvirt-test-d'), check_mode=False)
    # The test driver drops unknown elements: asking for one can never be satisfied.
    outcome = _resource.reconcile_definition(test_conn, kind, doc('sysvirt-test-d', extra='<bogus>1</bogus>'), False)
    assert not outcome.changed
    assert outcome.warnings and 'bogus' in outcome.warnings[0]


def test_bad_xml_changes_nothing(test_conn, kind):
    before = test_conn.listDefinedDomains()
    with pytest.raises(_xml.XMLInputError):
        _resource.reconcile_definition(test_conn, kind, '<domain><name>sysvirt-test-e</name>', False)
    assert test_conn.listDefinedDomains() == before


# -- the lifecycle after the definition: one lookup, one plan ----------------------------------------------------

class Recorder:
    """A connection whose lookups say what they were asked, in order, and find nothing but what they are given."""

    def __init__(self, found=None):
        self.asked, self.found = [], found or {}

    def __getattr__(self, method):
        def look(*args):
            self.asked.append((method,) + args)
            return self.found.get((method,) + args)
        return look


def test_the_lookup_asks_the_uuid_first_then_the_name(kind):
    conn = Recorder(found={('lookupByName', 'web'): 'the web domain'})
    assert kind.lookup(conn, name='web', uuid='1f2e') == 'the web domain'
    assert conn.asked == [('lookupByUUIDString', '1f2e'), ('lookupByName', 'web')]
    conn = Recorder(found={('lookupByUUIDString', '1f2e'): 'by uuid'})
    assert kind.lookup(conn, name='web', uuid='1f2e') == 'by uuid' and len(conn.asked) == 1
    assert kind.lookup(Recorder(), name=None, uuid=None) is None


def test_every_kind_looks_up_by_uuid_first():
    from ansible_collections.sysvirt.libvirt.plugins.module_utils import (
        _domain, _interface, _network, _nodedev, _nwfilter, _secret, _storage)
    kinds = [_domain.DOMAIN_KIND, _network.KIND, _storage.POOL_KIND, _nwfilter.KIND, _secret.KIND,
             _interface.KIND, _nodedev.NodeDeviceKind()]
    for each in kinds:
        keys = [key for key, method in each.lookups]
        assert keys, each
        assert keys[0] == 'uuid' or 'uuid' not in keys, (each.noun, keys)
        assert keys[:2] in (['uuid', 'name'], ['uuid', 'usage']) or keys[0] == 'name', (each.noun, keys)


def defined(conn, name, start=False):
    """A new domain (a name of its own: other tests' test:///default connections may keep the driver's state)."""
    dom = conn.defineXML(doc('%s-%s' % (name, uuid.uuid4().hex[:8])))
    if start:
        dom.create()
    return dom


@pytest.mark.parametrize('check', [True, False])
def test_plan_removes_a_running_guest_in_order(test_conn, kind, check):
    dom = defined(test_conn, 'sysvirt-test-plan-a', start=True)
    outcome = _resource.Outcome()
    between = [_resource.Step('between', lambda: None, 'between')]
    _resource.converge(kind, dom, 'absent', check, outcome, between=between)
    assert outcome.changed and outcome.actions == ['stop', 'between', 'undefine']
    assert outcome.after == '' and '<name>%s</name>' % dom.name() in outcome.before
    left = _connection.lookup(test_conn.lookupByName, dom.name())
    assert (left is not None and left.isActive()) if check else left is None
    if left is not None:
        left.destroy()
        left.undefine()


def test_plan_for_a_missing_object_is_empty(kind):
    assert _resource.plan(kind, None, 'absent') == []
    outcome = _resource.Outcome()
    _resource.converge(kind, None, 'absent', False, outcome)
    assert not outcome.changed and outcome.actions == []


@pytest.mark.parametrize('state,autostart,start,expected', [
    ('active', True, False, ['start', 'autostart']),
    ('active', None, True, []),
    ('inactive', None, True, ['stop']),
    ('inactive', False, False, []),
    ('present', True, True, ['autostart']),
    ('present', None, False, []),
])
def test_plan_start_stop_autostart(test_conn, kind, state, autostart, start, expected):
    dom = defined(test_conn, 'sysvirt-test-plan-b', start=start)
    assert [s.action for s in _resource.plan(kind, dom, state, autostart)] == expected
    outcome = _resource.Outcome()
    _resource.converge(kind, dom, state, False, outcome, autostart=autostart)
    assert outcome.actions == expected and outcome.changed == bool(expected)
    assert bool(dom.isActive()) == (state == 'active' or (state == 'present' and start))
    assert not _resource.plan(kind, dom, state, autostart)  # a second run has nothing to do


def test_plan_for_an_object_check_mode_would_define(kind):
    steps = _resource.plan(kind, None, 'active', autostart=True)
    assert [s.action for s in steps] == ['start', 'autostart']
    outcome = _resource.Outcome()
    _resource.execute(steps, True, outcome)
    assert outcome.actions == ['start', 'autostart']


def test_a_failed_step_is_not_reported_and_what_ran_before_it_is(test_conn, kind):
    def fail():
        raise test_conn.lookupByName('sysvirt-test-no-such-domain')
    outcome = _resource.Outcome()
    steps = [_resource.Step('first', lambda: None, 'first'), _resource.Step('second', fail, 'second thing')]
    with pytest.raises(_connection.LibvirtFailure) as info:
        _resource.execute(steps, False, outcome)
    assert outcome.actions == ['first'] and outcome.changed
    assert info.value.msg.startswith('Failed to second thing')


def test_a_step_that_counts_is_recorded_only_when_it_did_something(kind):
    outcome = _resource.Outcome()
    steps = [_resource.Step('nothing', lambda: False, 'nothing', counts=bool),
             _resource.Step('something', lambda: True, 'something', counts=bool)]
    _resource.execute(steps, False, outcome)
    assert outcome.actions == ['something']
    predicted = _resource.Outcome()
    _resource.execute(steps, True, predicted)
    assert predicted.actions == ['nothing', 'something']


def test_missing_is_one_sentence(kind):
    failure = kind.missing('web')
    assert failure.msg == 'The domain web does not exist; give its definition (xml) to create it'
    assert kind.missing('web', 'define it first', hint='Look.').hint == 'Look.'
