# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event catalog: every event type of libvirt-python known and decoded; filters; the test driver's events."""

import threading

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _event_catalog as catalog
from ansible_collections.sysvirt.libvirt.plugins.module_utils._events import ensure_event_loop

OFFERED = [(kind, name) for kind, types in sorted(catalog.event_types().items()) for name in sorted(types)]


def test_libvirt_python_offers_every_kind():
    assert sorted(catalog.event_types()) == sorted(catalog.KINDS)
    assert len(catalog.event_types('domain')) >= 27


@pytest.mark.parametrize('kind, type_name', OFFERED)
def test_every_offered_event_type_has_named_fields(kind, type_name):
    assert (kind, type_name) in catalog.FIELDS


@pytest.mark.parametrize('kind, type_name, args, expected', [
    ('domain', 'lifecycle', (5, 1), dict(event='stopped', detail='destroyed', event_code=5, detail_code=1)),
    ('domain', 'lifecycle', (3, 1), dict(event='suspended', detail='migrated', event_code=3, detail_code=1)),
    ('domain', 'lifecycle', (3, 2), dict(event='suspended', detail='ioerror', event_code=3, detail_code=2)),
    ('domain', 'lifecycle', (8, 0), dict(event='crashed', detail='panicked', event_code=8, detail_code=0)),
    ('domain', 'lifecycle', (99, 7), dict(event=99, detail=7, event_code=99, detail_code=7)),
    ('network', 'lifecycle', (2, 0), dict(event='started', detail=None, event_code=2, detail_code=0)),
    ('storage_pool', 'lifecycle', (4, 0), dict(event='created', detail=None, event_code=4, detail_code=0)),
    ('node_device', 'lifecycle', (1, 0), dict(event='deleted', detail=None, event_code=1, detail_code=0)),
    ('secret', 'lifecycle', (1, 0), dict(event='undefined', detail=None, event_code=1, detail_code=0)),
    ('domain', 'block_job_2', ('vda', 4, 0), dict(disk='vda', job_type='active_commit', status='completed')),
    ('domain', 'block_job', ('/x.img', 2, 3), dict(disk='/x.img', job_type='copy', status='ready')),
    ('domain', 'agent_lifecycle', (1, 2), dict(state='connected', reason='channel')),
    ('domain', 'io_error_reason', ('/d.img', 'virtio-disk0', 1, 'enospc'),
     dict(src_path='/d.img', dev_alias='virtio-disk0', action='pause', reason='enospc')),
    ('domain', 'watchdog', (1,), dict(action='pause')),
    ('domain', 'tray_change', ('ide0-1-0', 0), dict(dev_alias='ide0-1-0', reason='open')),
    ('domain', 'disk_change', ('/a', None, 'sata0-0-1', 1),
     dict(old_src_path='/a', new_src_path=None, dev_alias='sata0-0-1', reason='drop_missing_on_start')),
    ('domain', 'graphics', (0, dict(family=0, node='127.0.0.1', service='5900'),
                            dict(family=1, node='::1', service='1'), 'vnc', []),
     dict(phase='connect', local=dict(family='ipv4', node='127.0.0.1', service='5900'),
          remote=dict(family='ipv6', node='::1', service='1'), auth_scheme='vnc', subject=[])),
    ('domain', 'memory_failure', (1, 2, 3),
     dict(recipient='guest', action='fatal', flags=['action_required', 'recursive'])),
    ('domain', 'metadata_change', (2, 'http://example.com/x'), dict(metadata_type='element',
                                                                    nsuri='http://example.com/x')),
    ('domain', 'device_removed', ('hostdev0',), dict(dev_alias='hostdev0')),
    ('domain', 'reboot', (), {}),
])
def test_decode(kind, type_name, args, expected):
    assert catalog.decode(kind, type_name, args) == expected


def test_job_completed_names_its_operation():
    params = dict(operation=libvirt.VIR_DOMAIN_JOB_OPERATION_BACKUP, time_elapsed=1200)
    data = catalog.decode('domain', 'job_completed', (params,))
    assert data == dict(params=params, operation='backup')
    rec = catalog.record('test:///default', 'h', 'domain', 'job_completed', 'vm1', 'u', data)
    assert rec['event'] == 'backup'


@pytest.mark.parametrize('state, reason, expected', [
    (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_IOERROR, ('paused', 'ioerror')),
    (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_CRASHED, ('shutoff', 'crashed')),
    (libvirt.VIR_DOMAIN_SHUTDOWN, 1, ('shutdown', 'user')),
    (libvirt.VIR_DOMAIN_PMSUSPENDED, 0, ('pmsuspended', 'unknown')),
    (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_MIGRATED, ('running', 'migrated')),
])
def test_domain_state_names(state, reason, expected):
    assert catalog.domain_state_names(state, reason) == expected


def rec(kind='domain', type_name='lifecycle', name='web1', event='started'):
    return catalog.record('u', 'h', kind, type_name, name, None, dict(event=event))


@pytest.mark.parametrize('flt, record, passes', [
    (catalog.EventFilter(), rec(), True),
    (catalog.EventFilter(kinds=['network']), rec(), False),
    (catalog.EventFilter(kinds=['network']), rec(kind='connection', type_name='lost', name=None), True),
    (catalog.EventFilter(types=['reboot']), rec(), False),
    (catalog.EventFilter(types=['reboot']), rec(type_name='state', event='running'), True),
    (catalog.EventFilter(events=['stopped']), rec(), False),
    (catalog.EventFilter(events=['stopped']), rec(type_name='state', event='running'), True),
    (catalog.EventFilter(names=['web*']), rec(), True),
    (catalog.EventFilter(names=['db*']), rec(), False),
    (catalog.EventFilter(names=['web*']), rec(type_name='state', name='db1'), False),
    (catalog.EventFilter(names=['*'], exclude_names=['web?']), rec(), False),
    (catalog.EventFilter(names=['Web*']), rec(), False),
])
def test_filter_accepts(flt, record, passes):
    assert flt.accepts(record) is passes


def test_subscriptions_only_what_the_filter_wants():
    subs = catalog.EventFilter(kinds=['domain', 'storage_pool'], types=['lifecycle', 'refresh']).subscriptions()
    assert [(k, t) for k, t, i in subs] == [('domain', 'lifecycle'), ('storage_pool', 'lifecycle'),
                                            ('storage_pool', 'refresh')]
    assert len(catalog.EventFilter().subscriptions()) == len(OFFERED)


def test_current_state_of_the_test_driver():
    conn = libvirt.open('test:///default')
    try:
        records = catalog.current_state(conn, 'test:///default', 'h', list(catalog.KINDS))
    finally:
        conn.close()
    by_name = dict(((r['kind'], r['name']), r) for r in records)
    assert by_name[('domain', 'test')]['event'] == 'running'
    assert by_name[('network', 'default')]['event'] == 'active'
    assert by_name[('storage_pool', 'default-pool')]['event'] == 'running'
    assert any(r['kind'] == 'node_device' for r in records)
    assert all(r['type'] == 'state' for r in records)


def test_records_from_the_test_driver_callbacks():
    """Real callbacks of the test driver (through the modules' threaded event loop) decode to names."""
    ensure_event_loop()
    conn = libvirt.open('test:///default')
    got, cond = [], threading.Condition()

    def on_event(kind, type_name):
        def callback(c, obj, *args):
            with cond:
                got.append(catalog.callback_record('test:///default', 'h', kind, type_name, obj, args[:-1]))
                cond.notify_all()
        return callback

    ids = [conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_event('domain', 'lifecycle'),
                                       None),
           conn.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE,
                                        on_event('network', 'lifecycle'), None)]
    try:
        dom = conn.lookupByName('test')
        dom.suspend()
        dom.resume()
        conn.networkLookupByName('default').destroy()
        conn.networkLookupByName('default').create()
        with cond:
            cond.wait_for(lambda: len(got) >= 3, 10)
    finally:
        conn.domainEventDeregisterAny(ids[0])
        conn.networkEventDeregisterAny(ids[1])
        conn.close()
    assert [(r['type'], r['event'], r['detail']) for r in got[:3]] == [
        ('lifecycle', 'suspended', 'paused'), ('lifecycle', 'resumed', 'unpaused'), ('lifecycle', 'stopped', None)]
    assert got[2]['kind'] == 'network' and got[2]['name'] == 'default'
    assert got[0]['name'] == 'test' and got[0]['uuid'] == '6695eb01-f6a4-8304-79aa-97f2502e193f'
