# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt_events event source on libvirt's test driver: what it queues, its filters, its shutdown.

Each case runs the source in a process of its own (run_source.py): libvirtaio cannot share a process with the
default event loop that other unit tests register.
"""

import json
import os
import subprocess
import sys
import time

import pytest

RUNNER = os.path.join(os.path.dirname(__file__), 'run_source.py')


def run_source(args, scenario='lifecycle', **spec):
    proc = subprocess.run([sys.executable, RUNNER, json.dumps(dict(spec, args=args, scenario=scenario))],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def summary(result, kind=None):
    return [(e['kind'], e['type'], e['name'], e['event'], e['detail']) for e in result['events']
            if kind is None or e['kind'] == kind]


def test_every_lifecycle_event_of_every_kind_decoded_in_order():
    result = run_source(dict(uris=['test:///default']))
    assert result['error'] is None
    assert summary(result)[0] == ('connection', 'connected', None, None, None)
    assert summary(result, 'domain') == [
        ('domain', 'lifecycle', 'test', 'suspended', 'paused'),
        ('domain', 'lifecycle', 'test', 'resumed', 'unpaused'),
        ('domain', 'lifecycle', 'test', 'stopped', 'destroyed'),
        ('domain', 'lifecycle', 'test', 'started', 'booted'),
        ('domain', 'lifecycle', 'sysvirt-test-events-new', 'defined', 'added'),
        ('domain', 'lifecycle', 'sysvirt-test-events-new', 'started', 'booted'),
        ('domain', 'lifecycle', 'sysvirt-test-events-new', 'stopped', 'destroyed'),
        ('domain', 'lifecycle', 'sysvirt-test-events-new', 'undefined', 'removed'),
    ]
    assert summary(result, 'network') == [('network', 'lifecycle', 'default', 'stopped', None),
                                          ('network', 'lifecycle', 'default', 'started', None)]
    assert ('storage_pool', 'refresh', 'default-pool', None, None) in summary(result, 'storage_pool')
    stopped = result['events'][3]
    assert stopped['uri'] == 'test:///default' and stopped['hostname']
    assert stopped['uuid'] == '6695eb01-f6a4-8304-79aa-97f2502e193f'
    assert stopped['data'] == dict(event='stopped', detail='destroyed', event_code=5, detail_code=1)
    assert stopped['timestamp'].endswith('Z') and stopped['timestamp'][:4].isdigit()


def test_clean_shutdown_leaves_no_callback_no_thread():
    result = run_source(dict(uris='test:///default'))
    assert result['idle'] is True, 'libvirtaio still holds handles or timers after the source stopped'
    assert result['threads'] == 1


@pytest.mark.parametrize('args, expected', [
    (dict(kinds=['network']), [('network', 'lifecycle', 'default', 'stopped', None),
                               ('network', 'lifecycle', 'default', 'started', None)]),
    (dict(names=['sysvirt-test-*'], events=['started']),
     [('domain', 'lifecycle', 'sysvirt-test-events-new', 'started', 'booted')]),
    (dict(kinds=['domain'], exclude_names=['test'], events=['stopped', 'undefined']),
     [('domain', 'lifecycle', 'sysvirt-test-events-new', 'stopped', 'destroyed'),
      ('domain', 'lifecycle', 'sysvirt-test-events-new', 'undefined', 'removed')]),
    (dict(types=['refresh']), [('storage_pool', 'refresh', 'default-pool', None, None)]),
])
def test_filters(args, expected):
    args = dict(args, uris=['test:///default'], connection_events=False)
    result = run_source(args)
    assert result['error'] is None
    assert summary(result) == expected


def test_current_state_after_the_connected_event():
    # 'true' as text: rulebook variables may arrive as strings
    result = run_source(dict(uris=['test:///default'], current_state='true', names=['test', 'default*']),
                        scenario='nothing')
    assert summary(result) == [
        ('connection', 'connected', None, None, None),
        ('domain', 'state', 'test', 'running', 'unknown'),
        ('network', 'state', 'default', 'active', None),
        ('storage_pool', 'state', 'default-pool', 'running', None),
    ]
    assert result['events'][1]['data']['snapshot'] == 1
    assert result['events'][1]['data']['persistent'] is True


def test_several_uris_each_its_own_connection():
    # Two URIs naming the same in-process test driver: two connections, each event arrives once per connection.
    result = run_source(dict(uris=['test:///default', 'test:///default?x=1'], kinds=['network'],
                             connection_events=False))
    uris = sorted(set(e['uri'] for e in result['events']))
    assert uris == ['test:///default', 'test:///default?x=1']
    assert len(result['events']) == 4


def test_unreachable_uri_emits_failed_once_and_keeps_trying():
    result = run_source(dict(uris=['qemu+unix:///system?socket=/nonexistent/sock'], reconnect_delay=0.1,
                             reconnect_max_delay=0.2), scenario='nothing')
    failed = [e for e in result['events'] if e['type'] == 'failed']
    assert len(failed) == 1
    assert 'Failed to connect to qemu+unix:///system' in failed[0]['data']['error']
    assert 'Hint:' in failed[0]['data']['error']


def test_a_hypervisor_that_hangs_does_not_hold_the_others(tmp_path):
    """A URI whose daemon accepts the connection and never answers: its attempt hangs on its own thread, the other
    URI's events arrive, and stopping the source does not wait for the hung attempt."""
    sock = str(tmp_path / 'hang.sock')
    started = time.monotonic()
    result = run_source(dict(uris=['test+unix:///default?socket=%s' % sock, 'test:///default'], kinds=['domain']),
                        scenario='lifecycle', blackhole=sock)
    assert result['error'] is None
    assert [e['uri'] for e in result['events'] if e['type'] == 'connected'] == ['test:///default']
    assert len([e for e in result['events'] if e['kind'] == 'domain']) == 8
    assert time.monotonic() - started < 50  # far below forever (a stop that waited for the hung attempt)


@pytest.mark.parametrize('args, message', [
    (dict(kinds=['domains']), 'Unknown kinds domains'),
    (dict(types=['lifecycel']), 'Unknown event types lifecycel'),
    (dict(kinds=['secret'], types=['refresh']), 'None of the event types refresh exists for the kinds secret'),
    (dict(uri='test:///default'), 'unknown options uri'),
    (dict(reconnect_delay=0), 'reconnect_delay must be > 0'),
    (dict(current_state='maybe'), "current_state must be true or false, not 'maybe'"),
    (dict(keepalive_count='x'), "keepalive_count must be a number, not 'x'"),
])
def test_bad_options_fail_with_a_plain_message(args, message):
    result = run_source(dict(args, uris=['test:///default']) if 'uri' not in args else args)
    assert result['error'].startswith('ValueError: libvirt_events: ')
    assert message in result['error']
    assert result['events'] == []
