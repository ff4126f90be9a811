# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Results that tell the truth about the host (test:///default, kept alive by the test_conn fixture):

- a run that changed the host and then failed says ``changed: true`` and lists what it did;
- teardown states succeed unchanged on a missing object (or a missing parent), so a teardown play re-runs;
- check mode with a missing parent predicts the creation and warns that it assumes the parent;
- ``volume`` ``state: absent`` with ``wipe: true`` wipes before it deletes.
"""

from __future__ import annotations

from unittest import mock

import libvirt
import pytest

from conftest import run_module, unique_name

URI = 'test:///default'


def domain_xml(name):
    return ("<domain type='test'><name>%s</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
            "<os><type arch='i686'>hvm</type></os></domain>" % name)


@pytest.fixture
def name(test_conn):
    value = unique_name('truth')
    yield value
    try:
        dom = test_conn.lookupByName(value)
    except libvirt.libvirtError:
        return
    if dom.isActive():
        dom.destroy()
    if dom.isPersistent():
        dom.undefine()


def _refuse(*args, **kwargs):
    raise libvirt.libvirtError('refused by the test')


def test_failure_after_a_change_reports_changed_and_the_actions_done(test_conn, name):
    with mock.patch.object(libvirt.virDomain, 'createWithFlags', _refuse):
        result = run_module('domain', dict(uri=URI, xml=domain_xml(name), state='running'))
    assert result.failed
    assert result['changed'] is True and result['actions'] == ['define'], result
    # what was done stays done: the definition is kept, and a re-run carries on from there
    dom = test_conn.lookupByName(name)
    assert dom.isPersistent() and not dom.isActive()
    again = run_module('domain', dict(uri=URI, xml=domain_xml(name), state='running'))
    assert not again.failed and again['actions'] == ['start']


def test_failure_before_any_change_reports_no_change(test_conn, name):
    with mock.patch.object(libvirt.virConnect, 'defineXML', _refuse):
        result = run_module('domain', dict(uri=URI, xml=domain_xml(name), state='running'))
    assert result.failed and not result.get('changed') and 'actions' not in result
