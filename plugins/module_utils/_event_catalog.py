# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every libvirt event as data: which object kinds and event types exist, how each callback's arguments are
named, and their numbers decoded to names. Shared by the ``domain_event_wait`` module and the
``libvirt_events`` event source plugin.

Private to this collection: the names here may change without notice.

An event record (what the event source puts on its queue, what ``domain_event_wait`` returns) is a dict::

    {uri, hostname, kind, type, name, uuid, timestamp, event, detail, data}

``kind`` is one of ``KINDS`` (``domain``, ``network``, ``storage_pool``, ``node_device``, ``secret``) or
``connection``; ``type`` the event type (``lifecycle``, ``reboot``, ``block_job`` ...; ``state`` for the
current-state snapshot); ``event`` and ``detail`` the lifecycle event and detail as names (``stopped`` /
``destroyed``), or the main value of other types; ``data`` every argument libvirt gave, decoded.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import fnmatch
import time

try:
    import libvirt
except ImportError:
    libvirt = None

# kind -> (event ID constant prefix, register(conn, obj, event_id, callback), deregister(conn, callback_id))
KINDS = {
    'domain': ('VIR_DOMAIN_EVENT_ID_',
               lambda conn, *args: conn.domainEventRegisterAny(*args),
               lambda conn, callback_id: conn.domainEventDeregisterAny(callback_id)),
    'network': ('VIR_NETWORK_EVENT_ID_',
                lambda conn, *args: conn.networkEventRegisterAny(*args),
                lambda conn, callback_id: conn.networkEventDeregisterAny(callback_id)),
    'storage_pool': ('VIR_STORAGE_POOL_EVENT_ID_',
                     lambda conn, *args: conn.storagePoolEventRegisterAny(*args),
                     lambda conn, callback_id: conn.storagePoolEventDeregisterAny(callback_id)),
    'node_device': ('VIR_NODE_DEVICE_EVENT_ID_',
                    lambda conn, *args: conn.nodeDeviceEventRegisterAny(*args),
                    lambda conn, callback_id: conn.nodeDeviceEventDeregisterAny(callback_id)),
    'secret': ('VIR_SECRET_EVENT_ID_',
               lambda conn, *args: conn.secretEventRegisterAny(*args),
               lambda conn, callback_id: conn.secretEventDeregisterAny(callback_id)),
}


def register(conn, kind, obj, event_id, callback):
    """Register ``callback`` for events ``event_id`` of ``kind`` (of object ``obj``, or all: None); its ID."""
    return KINDS[kind][1](conn, obj, event_id, callback, None)


def deregister(conn, kind, callback_id):
    KINDS[kind][2](conn, callback_id)


# Prefix of each kind's lifecycle event constants (VIR_DOMAIN_EVENT_STOPPED, VIR_NETWORK_EVENT_STARTED, ...).
_LIFECYCLE_PREFIX = {
    'domain': 'VIR_DOMAIN_EVENT_',
    'network': 'VIR_NETWORK_EVENT_',
    'storage_pool': 'VIR_STORAGE_POOL_EVENT_',
    'node_device': 'VIR_NODE_DEVICE_EVENT_',
    'secret': 'VIR_SECRET_EVENT_',
}
_DOMAIN_LIFECYCLE = ('DEFINED', 'UNDEFINED', 'STARTED', 'SUSPENDED', 'RESUMED', 'STOPPED', 'SHUTDOWN',
                     'PMSUSPENDED', 'CRASHED')


def _names(prefix, only=None, exclude=()):
    """{value: lower-case name} of the libvirt constants starting with ``prefix`` (``only``: these suffixes)."""
    result = {}
    if libvirt is None:
        return result
    for attr in sorted(dir(libvirt)):
        if not attr.startswith(prefix) or attr.endswith('_LAST'):
            continue
        suffix = attr[len(prefix):]
        if (only is not None and suffix not in only) or any(suffix.startswith(e) for e in exclude):
            continue
        value = getattr(libvirt, attr)
        if isinstance(value, int):
            result.setdefault(value, suffix.lower())
    return result


_TABLES = {}


def _named(prefix, only=None, exclude=()):
    """A decoder: a number -> its name (the number itself when this libvirt has no name for it). The table is
    built once per process (dir(libvirt) has thousands of names; events come by the thousand)."""
    key = (prefix, tuple(only) if only is not None else None, tuple(exclude))

    def decode(value):
        table = _TABLES.get(key)
        if table is None:
            table = _TABLES[key] = _names(prefix, only, exclude)
        return table.get(value, value)
    return decode


def _bits(prefix):
    """A decoder: flags -> the list of their names."""
    def decode(value):
        names = _TABLES.get((prefix, 'bits'))
        if names is None:
            names = _TABLES[(prefix, 'bits')] = _names(prefix)
        return [names[bit] for bit in sorted(names) if bit and value & bit] if isinstance(value, int) else value
    return decode


def _address(value):
    """A graphics address (dict family/node/service) with the family as a name."""
    if isinstance(value, dict) and 'family' in value:
        value = dict(value)
        value['family'] = _named('VIR_DOMAIN_EVENT_GRAPHICS_ADDRESS_')(value['family'])
    return value


def _plain(value):
    return value


_WATCHDOG = _named('VIR_DOMAIN_EVENT_WATCHDOG_')
_IO_ERROR = _named('VIR_DOMAIN_EVENT_IO_ERROR_')
_BLOCK_JOB_TYPE = _named('VIR_DOMAIN_BLOCK_JOB_TYPE_')
_BLOCK_JOB_STATUS = _named('VIR_DOMAIN_BLOCK_JOB_', only=('COMPLETED', 'FAILED', 'CANCELED', 'READY'))
_BLOCK_JOB = [('disk', _plain), ('job_type', _BLOCK_JOB_TYPE), ('status', _BLOCK_JOB_STATUS)]
_DISK_CHANGE_REASON = _named('VIR_DOMAIN_EVENT_DISK_', only=('CHANGE_MISSING_ON_START', 'DROP_MISSING_ON_START'))
_PM_REASON = [('reason', _plain)]
_ALIAS = [('dev_alias', _plain)]
_METADATA = [('metadata_type', _named('VIR_DOMAIN_METADATA_')), ('nsuri', _plain)]

# (kind, type) -> [(field, decoder)], in the order libvirt-python passes the callback's arguments (between the
# object and the opaque value). The lifecycle event and detail are decoded by _lifecycle().
FIELDS = {
    ('domain', 'lifecycle'): [('event', None), ('detail', None)],
    ('domain', 'reboot'): [],
    ('domain', 'rtc_change'): [('utcoffset', _plain)],
    ('domain', 'watchdog'): [('action', _WATCHDOG)],
    ('domain', 'io_error'): [('src_path', _plain), ('dev_alias', _plain), ('action', _IO_ERROR)],
    ('domain', 'graphics'): [('phase', _named('VIR_DOMAIN_EVENT_GRAPHICS_', exclude=('ADDRESS_',))),
                             ('local', _address), ('remote', _address), ('auth_scheme', _plain),
                             ('subject', _plain)],
    ('domain', 'io_error_reason'): [('src_path', _plain), ('dev_alias', _plain), ('action', _IO_ERROR),
                                    ('reason', _plain)],
    ('domain', 'control_error'): [],
    ('domain', 'block_job'): _BLOCK_JOB,
    ('domain', 'disk_change'): [('old_src_path', _plain), ('new_src_path', _plain), ('dev_alias', _plain),
                                ('reason', _DISK_CHANGE_REASON)],
    ('domain', 'tray_change'): [('dev_alias', _plain), ('reason', _named('VIR_DOMAIN_EVENT_TRAY_CHANGE_'))],
    ('domain', 'pmwakeup'): _PM_REASON,
    ('domain', 'pmsuspend'): _PM_REASON,
    ('domain', 'balloon_change'): [('actual', _plain)],
    ('domain', 'pmsuspend_disk'): _PM_REASON,
    ('domain', 'device_removed'): _ALIAS,
    ('domain', 'block_job_2'): _BLOCK_JOB,
    ('domain', 'tunable'): [('params', _plain)],
    ('domain', 'agent_lifecycle'): [
        ('state', _named('VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_')),
        ('reason', _named('VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_'))],
    ('domain', 'device_added'): _ALIAS,
    ('domain', 'migration_iteration'): [('iteration', _plain)],
    ('domain', 'job_completed'): [('params', _plain)],
    ('domain', 'device_removal_failed'): _ALIAS,
    ('domain', 'metadata_change'): _METADATA,
    ('domain', 'block_threshold'): [('dev', _plain), ('path', _plain), ('threshold', _plain), ('excess', _plain)],
    ('domain', 'memory_failure'): [
        ('recipient', _named('VIR_DOMAIN_EVENT_MEMORY_FAILURE_RECIPIENT_')),
        ('action', _named('VIR_DOMAIN_EVENT_MEMORY_FAILURE_ACTION_')),
        ('flags', _bits('VIR_DOMAIN_MEMORY_FAILURE_'))],
    ('domain', 'memory_device_size_change'): [('alias', _plain), ('size', _plain)],
    ('domain', 'nic_mac_change'): [('alias', _plain), ('old_mac', _plain), ('new_mac', _plain)],
    ('network', 'lifecycle'): [('event', None), ('detail', None)],
    ('network', 'metadata_change'): [('metadata_type', _named('VIR_NETWORK_METADATA_')), ('nsuri', _plain)],
    ('storage_pool', 'lifecycle'): [('event', None), ('detail', None)],
    ('storage_pool', 'refresh'): [],
    ('node_device', 'lifecycle'): [('event', None), ('detail', None)],
    ('node_device', 'update'): [],
    ('secret', 'lifecycle'): [('event', None), ('detail', None)],
    ('secret', 'value_changed'): [],
}

# The value that names an event of each type, copied into the record's ``event`` key (lifecycle: the event).
_MAIN_FIELD = {
    'watchdog': 'action', 'io_error': 'action', 'io_error_reason': 'action', 'graphics': 'phase',
    'block_job': 'status', 'block_job_2': 'status', 'tray_change': 'reason', 'agent_lifecycle': 'state',
    'job_completed': 'operation', 'memory_failure': 'action',
}


def event_types(kind=None):
    """{kind: {type name: event ID}} of what this libvirt-python offers (or one kind's {type: ID})."""
    result = {}
    if libvirt is not None:
        for k, (prefix, dummy, dummy2) in KINDS.items():
            result[k] = dict((n[len(prefix):].lower(), getattr(libvirt, n)) for n in dir(libvirt)
                             if n.startswith(prefix) and not n.endswith('_LAST'))
    return result.get(kind, {}) if kind else result


def all_type_names():
    """Every event type name of every kind this collection knows (whether or not this libvirt offers it)."""
    return sorted(set(t for dummy, t in FIELDS))


def lifecycle_name(kind, event):
    if kind == 'domain':
        return _named(_LIFECYCLE_PREFIX[kind], only=_DOMAIN_LIFECYCLE)(event)
    return _named(_LIFECYCLE_PREFIX[kind], exclude=('ID_',))(event)


def lifecycle_detail(kind, event, detail):
    """The detail's name: domains have one per event (stopped/destroyed); other kinds give 0 (None)."""
    if kind != 'domain':
        return None if detail == 0 else detail
    name = lifecycle_name(kind, event)
    if not isinstance(name, str):
        return detail
    return _named('VIR_DOMAIN_EVENT_%s_' % name.upper())(detail)


def decode(kind, type_name, args):
    """The callback's arguments (between the object and the opaque value) as a dict of named, decoded fields."""
    fields = FIELDS.get((kind, type_name))
    if fields is None:
        return dict(args=list(args))
    data = {}
    for (field, decoder), value in zip(fields, args):
        data[field] = decoder(value) if decoder else value
    if fields and fields[0][0] == 'event':
        event, detail = args[0], args[1]
        data = dict(event=lifecycle_name(kind, event), detail=lifecycle_detail(kind, event, detail),
                    event_code=event, detail_code=detail)
    if type_name == 'job_completed' and isinstance(data.get('params'), dict):
        data['operation'] = _named('VIR_DOMAIN_JOB_OPERATION_')(data['params'].get('operation'))
    return data


def object_identity(kind, obj):
    """(name, uuid) of an event's object; both are known to the client without a call to the daemon."""
    if obj is None:
        return None, None
    if kind == 'secret':
        try:
            return obj.usageID(), obj.UUIDString()
        except libvirt.libvirtError:
            return None, obj.UUIDString()
    uuid = obj.UUIDString() if hasattr(obj, 'UUIDString') else None
    return obj.name(), uuid


def timestamp(now=None):
    """ISO 8601 UTC with microseconds: when the client received the event."""
    now = time.time() if now is None else now
    return datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def record(uri, hostname, kind, type_name, name=None, uuid=None, data=None, now=None):
    """An event record (the module's docstring says what it holds)."""
    data = data or {}
    event = data.get('event') if type_name in ('lifecycle', 'state') else data.get(_MAIN_FIELD.get(type_name))
    return dict(uri=uri, hostname=hostname, kind=kind, type=type_name, name=name, uuid=uuid,
                timestamp=timestamp(now), event=event, detail=data.get('detail'), data=data)


def callback_record(uri, hostname, kind, type_name, obj, args):
    name, uuid = object_identity(kind, obj)
    return record(uri, hostname, kind, type_name, name, uuid, decode(kind, type_name, args))


# --- current state (the snapshot a rulebook re-synchronises from) --------------------------------------------

_DOMAIN_STATES = ('NOSTATE', 'RUNNING', 'BLOCKED', 'PAUSED', 'SHUTDOWN', 'SHUTOFF', 'CRASHED', 'PMSUSPENDED')


def domain_state_names(state, reason):
    """(state name, reason name) of virDomain.state()."""
    name = _named('VIR_DOMAIN_', only=_DOMAIN_STATES)(state)
    if name == 'shutdown':
        # VIR_DOMAIN_SHUTDOWN_* also names the shutdown flags: the reasons are these two.
        return name, {0: 'unknown', 1: 'user'}.get(reason, reason)
    if isinstance(name, str):
        return name, _named('VIR_DOMAIN_%s_' % name.upper(), exclude=('DISK_',))(reason)
    return name, reason


def _domain_state(dom):
    state, reason = dom.state()
    name, reason_name = domain_state_names(state, reason)
    return dict(event=name, detail=reason_name, state_code=state, reason_code=reason,
                persistent=bool(dom.isPersistent()), autostart=bool(dom.autostart()) if dom.isPersistent() else False)


def _network_state(net):
    return dict(event='active' if net.isActive() else 'inactive', persistent=bool(net.isPersistent()),
                autostart=bool(net.autostart()) if net.isPersistent() else False)


def _pool_state(pool):
    state = pool.info()[0]
    return dict(event=_named('VIR_STORAGE_POOL_', only=('INACTIVE', 'BUILDING', 'RUNNING', 'DEGRADED',
                                                        'INACCESSIBLE'))(state),
                persistent=bool(pool.isPersistent()), autostart=bool(pool.autostart()) if pool.isPersistent() else False)


def _nodedev_state(dev):
    try:
        active = dev.isActive()
    except libvirt.libvirtError:
        active = True  # drivers without persistent devices (the test driver): every device listed exists
    return dict(event='active' if active else 'inactive', capabilities=list(dev.listCaps()))


def _secret_state(secret):
    return dict(event='defined', usage_type=secret.usageType())


_LISTS = {
    'domain': ('listAllDomains', _domain_state),
    'network': ('listAllNetworks', _network_state),
    'storage_pool': ('listAllStoragePools', _pool_state),
    'node_device': ('listAllDevices', _nodedev_state),
    'secret': ('listAllSecrets', _secret_state),
}


def current_state(conn, uri, hostname, kinds):
    """One ``state`` record for every object of the given kinds. An object that vanishes meanwhile is left out,
    and so is a kind the driver does not support."""
    records = []
    for kind in kinds:
        method, describe = _LISTS[kind]
        try:
            objects = getattr(conn, method)(0)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
                continue  # a driver without this kind (the test driver has no secrets)
            raise
        for obj in objects:
            try:
                data = describe(obj)
            except libvirt.libvirtError:
                continue
            name, uuid = object_identity(kind, obj)
            records.append(record(uri, hostname, kind, 'state', name, uuid, data))
    return records


# --- filters ----------------------------------------------------------------------------------------------------

class EventFilter:
    """Which events pass: by kind, event type, lifecycle event name and object name (glob patterns).

    An empty list means "all". ``connection`` events always pass; ``state`` records pass the type and event
    filters (they are asked for by a separate option) but not the kind and name filters. ``events`` matches the
    record's ``event`` (the lifecycle event, a block job's status, the agent's state ...).
    """

    def __init__(self, kinds=None, types=None, events=None, names=None, exclude_names=None):
        self.kinds = list(kinds or KINDS)
        self.types = list(types or [])
        self.events = list(events or [])
        self.names = list(names or [])
        self.exclude_names = list(exclude_names or [])

    def problems(self):
        """What is wrong with the filter's values, as plain messages."""
        result = []
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            result.append('Unknown kinds %s; known: %s.' % (', '.join(unknown), ', '.join(sorted(KINDS))))
        known = all_type_names()
        unknown = [t for t in self.types if t not in known]
        if unknown:
            result.append('Unknown event types %s; known: %s.' % (', '.join(unknown), ', '.join(known)))
        elif self.types and not any((k, t) in FIELDS for k in self.kinds for t in self.types):
            result.append('None of the event types %s exists for the kinds %s.'
                          % (', '.join(self.types), ', '.join(self.kinds)))
        return result

    def subscriptions(self):
        """[(kind, type name, event ID)] to register: what this libvirt-python offers and the filter wants."""
        offered = event_types()
        subs = []
        for kind in self.kinds:
            for type_name, event_id in sorted(offered.get(kind, {}).items(), key=lambda item: item[1]):
                if not self.types or type_name in self.types:
                    subs.append((kind, type_name, event_id))
        return subs

    def accepts(self, rec):
        if rec['kind'] == 'connection':
            return True
        if rec['kind'] not in self.kinds:
            return False
        if rec['type'] != 'state' and self.types and rec['type'] not in self.types:
            return False
        if self.events and rec['type'] != 'state' and rec['event'] not in self.events:
            return False
        name = rec.get('name') or ''
        if self.names and not any(fnmatch.fnmatchcase(name, p) for p in self.names):
            return False
        return not any(fnmatch.fnmatchcase(name, p) for p in self.exclude_names)
