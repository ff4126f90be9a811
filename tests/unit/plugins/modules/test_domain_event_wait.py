# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_event_wait on the in-process test driver: a thread changes the guest while the module waits."""

from __future__ import annotations

import threading
import time
from unittest import mock

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _event_catalog, _event_wait
from ansible_collections.sysvirt.libvirt.plugins.modules import domain_event_wait


REGISTERED = threading.Event()
_ENTER = _event_wait.EventWait.__enter__


@pytest.fixture(autouse=True)
def _registration_signal():
    """EventWait.__enter__ says when the module has registered for events: later() acts only then."""
    REGISTERED.clear()

    def enter(self):
        result = _ENTER(self)
        REGISTERED.set()
        return result
    with mock.patch.object(_event_wait.EventWait, '__enter__', enter):
        yield


def later(conn, *steps, delay=0.5):
    """Run the steps (callables taking the guest 'test') on another thread once the module waits: after it
    registered for events (at most 30 s) and ``delay`` seconds more. The guest runs first: test:///default's
    state lives as long as any connection of the process is open, so an earlier test may have stopped it."""
    if not conn.lookupByName('test').isActive():
        conn.lookupByName('test').create()

    def run():
        REGISTERED.wait(30)
        time.sleep(delay)
        dom = conn.lookupByName('test')
        for step in steps:
            step(dom)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_waits_for_the_matching_lifecycle_event(module_runner, test_conn):
    thread = later(test_conn, lambda d: d.suspend(), lambda d: d.resume(), lambda d: d.destroy())
    result = module_runner('domain_event_wait', dict(uri='test:///default', domain='test', event='lifecycle',
                                                     match=dict(event='stopped'), timeout=20))
    thread.join()
    assert not result.failed, result
    assert result['changed'] is False and result['timed_out'] is False
    assert (result['event']['event'], result['event']['detail']) == ('stopped', 'destroyed')
    assert result['event']['name'] == 'test' and result['event']['kind'] == 'domain'
    assert [(e['event'], e['detail']) for e in result['events']] == [
        ('suspended', 'paused'), ('resumed', 'unpaused'), ('stopped', 'destroyed')]
    assert 0.4 < result['elapsed'] < 20


def test_match_on_data_keys_and_lists_by_uuid(module_runner, test_conn):
    uuid = test_conn.lookupByName('test').UUIDString()
    thread = later(test_conn, lambda d: d.suspend(), lambda d: d.resume())
    result = module_runner('domain_event_wait', dict(uri='test:///default', domain=uuid, event='lifecycle',
                                                     match=dict(detail=['unpaused', 'migrated'], event_code=4),
                                                     timeout=20))
    thread.join()
    assert not result.failed, result
    assert result['domain'] == 'test'
    assert result['event']['event'] == 'resumed'


def test_timeout_fails_with_what_was_seen(module_runner, test_conn):
    thread = later(test_conn, lambda d: d.suspend(), delay=0.1)
    result = module_runner('domain_event_wait', dict(uri='test:///default', domain='test', event='lifecycle',
                                                     match=dict(event='crashed'), timeout=1))
    thread.join()
    assert result.failed
    assert result['msg'].startswith('Waited 1 s for a lifecycle event with event=crashed of guest test; it did not '
                                    'come (events seen meanwhile: suspended/paused).')
    assert 'start the wait before the action' in result['hint']
    assert result['timed_out'] is True and result['event'] is None


def test_timeout_without_failing(module_runner, test_conn):
    result = module_runner('domain_event_wait', dict(uri='test:///default', domain='test', event='device_removed',
                                                     timeout=1, fail_on_timeout=False))
    assert not result.failed, result
    assert result['timed_out'] is True and result['event'] is None and result['events'] == []


def test_missing_guest(module_runner):
    result = module_runner('domain_event_wait', dict(uri='test:///default', domain='nope', event='reboot'))
    assert result.failed
    assert 'The domain nope does not exist' in result['msg']
    assert 'Traceback' not in str(result)


def test_event_type_this_libvirt_lacks(module_runner):
    offered = dict(_event_catalog.event_types('domain'))
    offered.pop('tunable')
    with mock.patch.object(_event_catalog, 'event_types', lambda kind=None: offered):
        result = module_runner('domain_event_wait', dict(uri='test:///default', domain='test', event='tunable'))
    assert result.failed
    assert 'has no tunable events' in result['msg'] and 'Upgrade libvirt-python' in result['hint']


def test_ready_path_appears_once_registered_and_replaces_a_stale_one(module_runner, test_conn, tmp_path):
    """The signal file is created after registration (the action waits for the file, not for REGISTERED, and
    its event is seen); a file left by an earlier run is replaced (its content is gone)."""
    ready = tmp_path / 'wait.ready'
    ready.write_text('stale from an earlier run')
    dom = test_conn.lookupByName('test')
    if not dom.isActive():
        dom.create()
    if dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED:  # an earlier test may have left it paused
        dom.resume()
    seen = []

    def act():
        for _attempt in range(300):  # bounded: 30 s
            if ready.exists() and ready.read_text() == '':
                seen.append(REGISTERED.is_set())
                try:
                    dom.suspend()
                    dom.resume()
                except libvirt.libvirtError as exc:
                    seen.append(str(exc))
                return
            time.sleep(0.1)
    thread = threading.Thread(target=act)
    thread.start()
    result = module_runner('domain_event_wait', dict(uri='test:///default', domain='test', event='lifecycle',
                                                     match=dict(event='resumed'), timeout=20,
                                                     ready_path=str(ready)))
    thread.join()
    assert not result.failed, result
    assert seen == [True]
    assert result['event']['event'] == 'resumed'
    assert ready.exists() and ready.read_text() == ''


def test_ready_path_stale_file_removed_even_when_the_wait_fails(module_runner, tmp_path):
    ready = tmp_path / 'wait.ready'
    ready.write_text('stale')
    result = module_runner('domain_event_wait', dict(uri='test:///default', domain='nope', event='reboot',
                                                     ready_path=str(ready)))
    assert result.failed and 'The domain nope does not exist' in result['msg']
    assert not ready.exists()


def test_ready_path_that_cannot_be_created(module_runner, tmp_path):
    path = tmp_path / 'missing-dir' / 'wait.ready'
    result = module_runner('domain_event_wait', dict(uri='test:///default', domain='test', event='reboot',
                                                     timeout=1, ready_path=str(path)))
    assert result.failed
    assert result['msg'] == 'Cannot create ready_path %s: No such file or directory.' % path
    assert 'a directory the module can write to' in result['hint']
    assert 'Traceback' not in str(result)


def test_choices_are_every_domain_event_type_of_the_catalog():
    choices = domain_event_wait.DOCUMENTATION.split('choices: [', 1)[1].split(']', 1)[0]
    assert sorted(c.strip() for c in choices.split(',')) == _event_wait.DOMAIN_EVENT_TYPES


@pytest.mark.parametrize('rec, match, expected', [
    (dict(event='stopped', detail='destroyed', data=dict(event_code=5)), dict(event='stopped'), True),
    (dict(event='stopped', detail='destroyed', data=dict(event_code=5)), dict(event_code='5'), True),
    (dict(event='stopped', detail='destroyed', data=dict()), dict(detail=['shutdown', 'destroyed']), True),
    (dict(event='stopped', detail='destroyed', data=dict()), dict(detail='shutdown'), False),
    (dict(event=None, detail=None, data=dict(disk='vda', status='completed')),
     dict(disk='vda', status='failed'), False),
    (dict(event=None, detail=None, data=dict()), None, True),
])
def test_matches(rec, match, expected):
    assert _event_wait.matches(rec, match) is expected
