# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reconcile routine, with a minimal Kind over test-driver domains."""

from __future__ import annotations

import libvirt
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
