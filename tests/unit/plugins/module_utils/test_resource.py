# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reconcile routine, with a minimal Kind over test-driver domains."""

from __future__ import annotations

import types
import uuid

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _connection, _interface, _resource, _xml


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


class DerivingDomains(TestDomains):
    """A kind whose libvirt derives <memory> itself: the prediction keeps the stored value, whatever is asked."""

    def predict(self, desired, stored, rules):
        predicted = super(DerivingDomains, self).predict(desired, stored, rules)
        predicted.find('memory').text = stored.find('memory').text
        return predicted


def test_check_mode_predicting_no_change_reports_none_with_the_real_runs_warning(test_conn):
    kind = DerivingDomains()
    _resource.reconcile_definition(test_conn, kind, doc('sysvirt-test-g'), check_mode=False)
    check = _resource.reconcile_definition(test_conn, kind, doc('sysvirt-test-g', memory='131072'), True)
    assert not check.changed and check.actions == [] and check.before == check.after
    assert [d.path for d in check.differences] == ['/domain/memory[1]']
    assert len(check.warnings) == 1 and 'not kept as written' in check.warnings[0]
    assert test_conn.lookupByName('sysvirt-test-g').maxMemory() == 65536


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


# -- what the mutation tester found unpinned (scripts/mutation.sh) ---------------------------------------------------

def test_a_new_objects_diff_starts_from_nothing(test_conn, kind):
    name = 'sysvirt-test-new-%s' % uuid.uuid4().hex[:8]
    for check in (True, False):
        outcome = _resource.reconcile_definition(test_conn, kind, doc(name), check)
        assert outcome.before == '' and '<name>%s</name>' % name in outcome.after


def test_a_uuid_spelled_otherwise_is_the_stored_one(test_conn, kind):
    dom = test_conn.defineXML(doc('sysvirt-test-u-%s' % uuid.uuid4().hex[:8]))
    spelled = dom.UUIDString().upper().replace('-', '')
    outcome = _resource.reconcile_definition(
        test_conn, kind, doc(dom.name(), extra='<uuid>%s</uuid>' % spelled), False)
    assert not outcome.changed and outcome.differences == [] and outcome.obj.UUIDString() == dom.UUIDString()


def test_a_document_naming_one_object_and_identifying_another_fails_plainly(test_conn, kind):
    dom = test_conn.defineXML(doc('sysvirt-test-i-%s' % uuid.uuid4().hex[:8]))
    other = '6f5c2b8e-2a8a-4f61-9d7b-1f2f6a0e8d11'
    with pytest.raises(_connection.LibvirtFailure) as caught:
        kind.check_identity(dom, _xml.parse(doc(dom.name(), extra='<uuid>%s</uuid>' % other)),
                            _xml.parse(kind.stored_xml(dom)))
    assert str(caught.value) == (
        "The domain '%s' exists with UUID %s, but the document asks for UUID %s; remove the <uuid> element or the "
        "other domain first" % (dom.name(), dom.UUIDString(), other))


def test_check_found_holds_name_and_uuid_to_one_object(test_conn, kind):
    dom = test_conn.defineXML(doc('sysvirt-test-f-%s' % uuid.uuid4().hex[:8]))
    name, uid = dom.name(), dom.UUIDString()
    assert kind.check_found(dom, name, uid.upper()) is dom
    assert kind.check_found(dom, name, None) is dom and kind.check_found(None, name, uid) is None
    with pytest.raises(_connection.LibvirtFailure) as caught:
        kind.check_found(dom, 'other-name', uid)
    assert str(caught.value) == ('The domain with UUID %s is named %s, not other-name; the name and the UUID must '
                                 'identify the same domain (libvirt cannot rename it)' % (uid, name))
    other = '6f5c2b8e-2a8a-4f61-9d7b-1f2f6a0e8d11'
    with pytest.raises(_connection.LibvirtFailure) as caught:
        kind.check_found(dom, name, other)
    assert str(caught.value) == ('The domain %s exists with UUID %s, not %s; the name and the UUID must identify the '
                                 'same domain' % (name, uid, other))
    no_uuid = TestDomains()
    no_uuid.uuid_tag = None
    assert no_uuid.check_found(dom, 'other-name', other) is dom


def test_the_warning_for_what_libvirt_does_not_keep_names_the_parts(test_conn, kind):
    name = 'sysvirt-test-w-%s' % uuid.uuid4().hex[:8]
    _resource.reconcile_definition(test_conn, kind, doc(name), check_mode=False)
    outcome = _resource.reconcile_definition(test_conn, kind, doc(name, extra='<bogus>1</bogus><other/>'), False)
    assert outcome.warnings == [
        'libvirt stores this domain unchanged, so these parts of the document are not kept as written: '
        '/domain/bogus[1]: wanted <bogus>1</bogus>, not present; /domain/other[1]: wanted <other/>, not present']


@pytest.mark.parametrize('text, message', [
    ('<domain>', '^domain XML is not well-formed'),
])
def test_a_broken_document_is_named_as_the_kinds(test_conn, kind, text, message):
    with pytest.raises(_xml.XMLInputError, match=message):
        _resource.reconcile_definition(test_conn, kind, text, False)


def test_a_kind_without_uuid_is_reconciled_by_name(test_conn):
    stored = test_conn.interfaceLookupByName('eth1').XMLDesc(0)
    same = _resource.reconcile_definition(test_conn, _interface.KIND, stored, False)
    assert not same.changed and same.differences == []
    desired = stored.replace("<mtu size='1492'/>", "<mtu size='1500'/>")
    outcome = _resource.reconcile_definition(test_conn, _interface.KIND, desired, True)
    assert outcome.actions == ['redefine']
    assert [d.as_dict() for d in outcome.differences] == [
        dict(path='/interface/mtu[1]/@size', desired='1500', current='1492', reason='changed')]
    assert "<mtu size='1500'/>" in outcome.after and "<mtu size='1492'/>" in outcome.before


def test_a_document_with_an_objects_uuid_is_compared_with_that_object(test_conn, kind):
    dom = test_conn.defineXML(doc('sysvirt-test-r-%s' % uuid.uuid4().hex[:8]))
    renamed = doc('sysvirt-test-r2-%s' % uuid.uuid4().hex[:8], extra='<uuid>%s</uuid>' % dom.UUIDString())
    outcome = _resource.reconcile_definition(test_conn, kind, renamed, True)
    assert outcome.obj.UUIDString() == dom.UUIDString() and '<name>%s</name>' % dom.name() in outcome.before
    assert [d.path for d in outcome.differences] == ['/domain/name[1]']


def _module_run():
    return _resource.ModuleRun(types.SimpleNamespace(params={}, check_mode=False), None)


def test_a_day2_result_has_differences_only_when_compared_and_diff_only_when_given():
    run = _module_run()
    run.differences.append(_xml.Difference('/domain/vcpu[1]', '2', '1', 'changed'))
    assert run.finish() == dict(changed=False, actions=[])
    assert run.finish(compared=True, extra=1) == dict(
        changed=False, actions=[], extra=1,
        differences=[dict(path='/domain/vcpu[1]', desired='2', current='1', reason='changed')])
    diff = dict(before='a\n', after='b\n')
    assert run.finish(diff=diff) == dict(changed=False, actions=[], diff=diff)


def test_a_kind_without_uuid_element_identifies_by_name_alone():
    no_uuid = TestDomains()
    no_uuid.uuid_tag = None
    assert no_uuid.identity(_xml.parse(doc('n', extra='<uuid>6f5c2b8e-2a8a-4f61-9d7b-1f2f6a0e8d11</uuid>'))) == \
        ('n', None)


class _Module:
    """Just what module_connection and exit_module use of an AnsibleModule."""

    def __init__(self):
        self.params = dict(uri='test:///default', readonly=False, username=None, password=None)
        self.check_mode, self.argument_spec, self.no_log_values, self.result = False, {}, set(), None

    def fail_json(self, **result):
        self.result = dict(result, failed=True)
        raise SystemExit(1)

    def exit_json(self, **result):
        self.result = result
        raise SystemExit(0)

    def warn(self, warning):
        pass


class _FailsAfterOneStep(_resource.ModuleRun):
    def run(self):
        self.act('first')
        raise _connection.LibvirtFailure('the second step failed')


def test_a_day2_module_failing_after_a_step_reports_the_step_as_done():
    module = _Module()
    with pytest.raises(SystemExit):
        _FailsAfterOneStep.main(module)
    assert module.result['failed'] and module.result['msg'].startswith('the second step failed')
    assert module.result['changed'] is True and module.result['actions'] == ['first']


def test_a_definition_with_secrets_a_read_only_connection_may_not_read_fails_plainly():
    # only a driver refusing the flags is asked again without them: a definition without its secrets would
    # compare as different
    conn = libvirt.openReadOnly('test:///default')
    try:
        with pytest.raises(_connection.LibvirtFailure) as caught:
            TestDomains().stored_xml(conn.lookupByName('test'))
    finally:
        conn.close()
    assert caught.value.code == libvirt.VIR_ERR_OPERATION_DENIED


def test_remove_runs_the_steps_between_stop_and_undefine(test_conn, kind):
    dom = defined(test_conn, 'sysvirt-test-rm', start=True)
    outcome = _resource.Outcome()
    try:
        _resource.remove(kind, dom, True, outcome, between=[_resource.Step('between', lambda: None, 'between')])
        assert outcome.actions == ['stop', 'between', 'undefine']
    finally:
        dom.destroy()
        dom.undefine()
