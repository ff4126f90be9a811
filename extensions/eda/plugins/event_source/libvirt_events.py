# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
name: libvirt_events
short_description: libvirt's events (guests, networks, pools, devices, secrets) as an Event-Driven Ansible source
version_added: 0.1.0
description:
  - An event source plugin for ansible-rulebook. It puts every event libvirt sends on the rulebook's queue the
    moment libvirt delivers it (a guest defined, started, paused (on an I/O error, by a watchdog), stopped,
    crashed; a block job or a backup finished; a device added or removed; the guest agent connected; a network,
    storage pool, node device or secret defined, started, stopped, changed). Every event type libvirt-python offers,
    for every object kind, with its numbers decoded to names.
  - It runs on libvirt-python's asyncio event loop integration (C(libvirtaio)), inside ansible-rulebook's own event
    loop; it does not poll.
  - Each URI in O(uris) is its own connection, watched concurrently. When a connection is lost (the daemon
    restarted, or libvirt's keepalive found the peer dead) the source emits a C(connection) event of type
    C(lost), reconnects with exponential backoff, emits C(reconnected), and (with O(current_state=true)) the
    current state of every object, so a rulebook can catch up on what it missed.
  - "Every event is a dict: C(uri), C(hostname) (the hypervisor's host name), C(kind) (V(domain), V(network),
    V(storage_pool), V(node_device), V(secret), or V(connection)), C(type) (the event type: V(lifecycle),
    V(reboot), V(block_job), V(agent_lifecycle) ...; V(state) for the current-state records), C(name) and
    C(uuid) of the object (a secret's name is its usage ID; node devices have no UUID), C(timestamp) (when the
    source received it, ISO 8601 UTC), C(event) and C(detail) (lifecycle events: V(stopped) and V(destroyed);
    other types: their main value, for example a block job's status V(completed) or the agent's state
    V(connected)), and C(data) (every argument libvirt gave, decoded, with the numeric codes)."
  - "Connection events: C(kind=connection), C(type) V(connected) (first connection), V(failed) (a connection
    attempt failed; C(data.error) says why; emitted once per outage), V(lost) (C(data.reason) V(eof),
    V(keepalive), V(error)), V(reconnected) (C(data.attempts), C(data.down_seconds))."
  - The guide "Reacting to libvirt events" in this collection's documentation has rulebooks that restart crashed
    guests, alert on I/O-error pauses and react to finished backups and migrations.
author:
  - sysvirt developers (@sysvirt)
requirements:
  - libvirt-python (with C(libvirtaio), included since 3.0)
  - ansible-core (this collection's connection layer uses it)
  - ansible-rulebook, which runs the source
notes:
  - The source opens its connections read-only unless O(readonly=false); receiving events needs no more.
  - Each connection attempt runs on a thread of its own, so a hypervisor that does not answer delays only its own
    events; an attempt still hanging when ansible-rulebook stops is abandoned.
  - libvirt does not stamp events with the time they happened; C(timestamp) is when this source received the
    event, and C(data) of V(job_completed) holds libvirt's own job timings.
options:
  uris:
    description:
      - The hypervisors, as libvirt URIs; each gets its own connection. A single string is one URI.
      - Default is the environment variable E(LIBVIRT_DEFAULT_URI), else V(qemu:///system).
    type: list
    elements: str
  username:
    description:
      - User name for URIs that authenticate (SASL). Default is E(LIBVIRT_USERNAME).
    type: str
  password:
    description:
      - Password for URIs that authenticate (SASL). Default is E(LIBVIRT_PASSWORD). Never logged or emitted.
    type: str
  readonly:
    description:
      - Open read-only connections. Events need nothing more.
    type: bool
    default: true
  kinds:
    description:
      - Object kinds whose events to receive. Default is all of them.
    type: list
    elements: str
    choices: [domain, network, storage_pool, node_device, secret]
  types:
    description:
      - Event types to receive, for example V(lifecycle), V(reboot), V(watchdog), V(io_error_reason),
        V(block_job_2), V(agent_lifecycle), V(device_removed), V(job_completed), V(migration_iteration),
        V(refresh) (pools), V(update) (node devices), V(value_changed) (secrets). Default is all.
      - The source registers with libvirt only for these, so libvirt does not even send the others.
      - Event types this host's libvirt does not know are left out with a warning in the log.
    type: list
    elements: str
  events:
    description:
      - Only events whose C(event) is one of these, for example V(started), V(stopped), V(crashed), V(suspended)
        (lifecycle), V(completed), V(failed) (block jobs), V(connected) (agent). Connection and state records
        always pass.
    type: list
    elements: str
  names:
    description:
      - Only objects whose name matches one of these shell patterns (V(web-*), V(db?)). Default is all.
    type: list
    elements: str
  exclude_names:
    description:
      - Leave out objects whose name matches one of these shell patterns.
    type: list
    elements: str
  current_state:
    description:
      - After connecting and after each reconnection, emit one C(type=state) record for every object of the
        selected kinds whose name passes O(names) and O(exclude_names). C(event) is its state (a guest's
        V(running), V(paused), V(shutoff) ...; a network's V(active) or V(inactive); a pool's V(running) ...),
        C(detail) the reason where libvirt gives one, and C(data.snapshot) the number of the snapshot.
    type: bool
    default: false
  connection_events:
    description:
      - Emit the C(connection) events (connected, failed, lost, reconnected).
    type: bool
    default: true
  reconnect_delay:
    description:
      - Seconds before the first reconnection attempt; each further attempt waits twice as long, up to
        O(reconnect_max_delay).
    type: float
    default: 1
  reconnect_max_delay:
    description:
      - The longest wait between two reconnection attempts, in seconds.
    type: float
    default: 30
  keepalive_interval:
    description:
      - Seconds between libvirt keepalive messages on remote connections; with O(keepalive_count) unanswered ones
        the connection counts as lost. V(0) leaves libvirt's default.
    type: int
    default: 5
  keepalive_count:
    description:
      - Keepalive messages that may go unanswered before the connection counts as lost.
    type: int
    default: 3
'''

EXAMPLES = r'''
# A rulebook: restart a guest that crashed (on_crash=destroy), on two hypervisors.
- name: Restart crashed guests
  hosts: localhost
  sources:
    - sysvirt.libvirt.libvirt_events:
        uris:
          - qemu+ssh://root@kvm01.example.com/system
          - qemu+ssh://root@kvm02.example.com/system
        kinds: [domain]
        types: [lifecycle]
        events: [stopped, crashed]
        names: ["web-*"]
  rules:
    - name: A guest crashed
      condition: event.event == "crashed" or (event.event == "stopped" and event.detail == "crashed")
      action:
        run_module:
          name: sysvirt.libvirt.domain
          module_args:
            uri: "{{ event.uri }}"
            name: "{{ event.name }}"
            state: running

# Re-synchronise after an outage; the current state comes after every (re)connection.
- name: Keep a CMDB in sync
  hosts: localhost
  sources:
    - sysvirt.libvirt.libvirt_events:
        uris: qemu:///system
        current_state: true
  rules:
    - name: The daemon went away
      condition: event.kind == "connection" and event.type == "lost"
      action:
        debug:
          msg: "lost {{ event.uri }}: {{ event.data.reason }}"
    - name: A guest's state
      condition: event.type == "state" and event.kind == "domain"
      action:
        debug:
          msg: "{{ event.name }} is {{ event.event }}"
'''

import asyncio
import concurrent.futures
import logging
import os
import sys
import threading
import time

try:
    import libvirt
    import libvirtaio
except ImportError:  # pragma: no cover - reported by main()
    libvirt = libvirtaio = None


def _import_collection():
    """ansible-rulebook runs this file with runpy: make the collection importable when its root is not on sys.path
    (<root>/ansible_collections/sysvirt/libvirt/extensions/eda/plugins/event_source/libvirt_events.py)."""
    try:
        import ansible_collections.sysvirt.libvirt.plugins.module_utils._event_catalog  # noqa: F401
    except ImportError:
        root = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 7)))
        if os.path.isdir(os.path.join(root, 'ansible_collections')) and root not in sys.path:
            sys.path.append(root)


_import_collection()

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _event_catalog as catalog  # noqa: E402
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (  # noqa: E402
    DEFAULT_URI, PASSWORD_ENV, URI_ENV, USERNAME_ENV, LibvirtConnection, LibvirtFailure, failure_from)

LOG = logging.getLogger('sysvirt.libvirt.libvirt_events')

_LIST_OPTIONS = ('uris', 'kinds', 'types', 'events', 'names', 'exclude_names')
_DEFAULTS = dict(username=None, password=None, readonly=True, current_state=False, connection_events=True,
                 reconnect_delay=1.0, reconnect_max_delay=30.0, keepalive_interval=5, keepalive_count=3)


def _convert(key, value, default):
    """A value of the default's type (rulebook variables may arrive as text: 'false', '5')."""
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, str) and value.strip().lower() in ('true', 'yes', 'on', '1', 'false', 'no', 'off', '0'):
            return value.strip().lower() in ('true', 'yes', 'on', '1')
        if isinstance(value, bool):
            return value
        raise ValueError('libvirt_events: %s must be true or false, not %r.' % (key, value))
    try:
        return type(default)(value)
    except (TypeError, ValueError):
        raise ValueError('libvirt_events: %s must be a number, not %r.' % (key, value))


class SourceOptions:
    """The source's arguments, checked: ``SourceOptions(args)`` raises ValueError with a plain message."""

    def __init__(self, args):
        args = dict((k, v) for k, v in (args or {}).items() if not k.startswith('eda_'))
        known = set(_LIST_OPTIONS) | set(_DEFAULTS)
        unknown = sorted(set(args) - known)
        if unknown:
            raise ValueError('libvirt_events: unknown options %s; known: %s.'
                             % (', '.join(unknown), ', '.join(sorted(known))))
        for key in _LIST_OPTIONS:
            value = args.get(key)
            setattr(self, key, [value] if isinstance(value, str) else list(value or []))
        for key, default in _DEFAULTS.items():
            setattr(self, key, _convert(key, args.get(key, default), default))
        self.uris = self.uris or [os.environ.get(URI_ENV) or DEFAULT_URI]
        self.username = self.username or os.environ.get(USERNAME_ENV)
        self.password = self.password or os.environ.get(PASSWORD_ENV)
        self.filter = catalog.EventFilter(self.kinds, self.types, self.events, self.names, self.exclude_names)
        problems = self.filter.problems()
        if self.reconnect_delay <= 0 or self.reconnect_max_delay < self.reconnect_delay:
            problems.append('reconnect_delay must be > 0 and reconnect_max_delay >= reconnect_delay.')
        if problems:
            raise ValueError('libvirt_events: %s' % ' '.join(problems))


class HypervisorWatch:
    """One URI: connect, register for the selected events, put them on the queue; reconnect when lost."""

    def __init__(self, uri, options, queue):
        self.uri = uri
        self.options = options
        self.queue = queue
        self.connection = None
        self.conn = None
        self.hostname = None
        self.callback_ids = []
        self.lost = None
        self.lost_reason = None
        self.snapshots = 0
        self.backlog = []
        self.pump = None
        self.stopped = False

    # -- output ------------------------------------------------------------------------------------------------
    def put(self, rec):
        if not self.options.filter.accepts(rec):
            return
        if not self.backlog:
            try:
                self.queue.put_nowait(rec)
                return
            except asyncio.QueueFull:
                pass
        # A bounded queue that is full: keep the order, wait for room.
        self.backlog.append(rec)
        if self.pump is None or self.pump.done():
            self.pump = asyncio.ensure_future(self._drain_backlog())

    async def _drain_backlog(self):
        while self.backlog:
            await self.queue.put(self.backlog[0])
            self.backlog.pop(0)

    def connection_event(self, type_name, **data):
        if self.options.connection_events:
            self.put(catalog.record(self.uri, self.hostname, 'connection', type_name, data=data))

    # -- libvirt callbacks (run on the event loop by libvirtaio) -----------------------------------------------
    def _callback(self, kind, type_name):
        def on_event(conn, obj, *args):
            try:
                self.put(catalog.callback_record(self.uri, self.hostname, kind, type_name, obj, args[:-1]))
            except Exception:  # a callback must never raise into libvirt's loop
                LOG.exception('libvirt_events: could not decode a %s %s event from %s', kind, type_name, self.uri)
        return on_event

    def _on_close(self, conn, reason, opaque):
        self.lost_reason = catalog._named('VIR_CONNECT_CLOSE_REASON_')(reason)
        if self.lost is not None:
            self.lost.set()

    # -- connection --------------------------------------------------------------------------------------------
    def connect(self):
        self.connection = LibvirtConnection(self.uri, self.options.readonly, self.options.username,
                                            self.options.password)
        self.conn = self.connection.open()
        self.lost_reason = None
        try:
            self.hostname = self.conn.getHostname()
            if self.options.keepalive_interval > 0:
                self._try(self.conn.setKeepAlive, self.options.keepalive_interval, self.options.keepalive_count)
            self._try(self.conn.registerCloseCallback, self._on_close, None)
            self.register()
        except libvirt.libvirtError as e:
            self.disconnect()
            raise failure_from(e, 'watch the events of %s' % self.uri)
        if self.stopped:
            self.disconnect()  # the source was stopped while this thread connected

    @staticmethod
    def _try(func, *args):
        """Calls that some drivers do not support (keepalive and close callbacks on in-process drivers)."""
        try:
            func(*args)
        except libvirt.libvirtError as e:
            LOG.debug('libvirt_events: %s: %s', func.__name__, e)

    def register(self):
        for kind, type_name, event_id in self.options.filter.subscriptions():
            try:
                callback_id = catalog.register(self.conn, kind, None, event_id, self._callback(kind, type_name))
            except libvirt.libvirtError as e:
                if e.get_error_code() in (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT):
                    LOG.warning('libvirt_events: %s does not offer %s %s events: %s', self.uri, kind, type_name, e)
                    continue
                raise
            self.callback_ids.append((kind, callback_id))

    def stop(self):
        self.stopped = True
        self.disconnect()

    def disconnect(self):
        """Deregister and close; on a connection already lost the calls fail, which is fine."""
        if self.conn is None:
            return
        for kind, callback_id in self.callback_ids:
            try:
                catalog.deregister(self.conn, kind, callback_id)
            except libvirt.libvirtError:
                pass
        self.callback_ids = []
        try:
            self.conn.unregisterCloseCallback()
        except libvirt.libvirtError:
            pass
        self.connection.close()
        self.conn = None

    def emit_current_state(self):
        self.snapshots += 1
        kinds = [k for k in self.options.filter.kinds if k in catalog.KINDS]
        for rec in catalog.current_state(self.conn, self.uri, self.hostname, kinds):
            rec['data']['snapshot'] = self.snapshots
            self.put(rec)

    def try_current_state(self):
        try:
            self.emit_current_state()
        except libvirt.libvirtError as e:
            # Most likely the connection dropped meanwhile: its close callback starts the reconnection.
            LOG.warning('libvirt_events: could not read the current state of %s: %s', self.uri, e)

    # -- the loop ----------------------------------------------------------------------------------------------
    async def run(self):
        delay, attempts, down_since, reported = self.options.reconnect_delay, 0, None, False
        while True:
            self.lost = asyncio.Event()
            try:
                await _in_thread(self.connect)
            except (LibvirtFailure, libvirt.libvirtError) as e:
                message = e.full_message() if isinstance(e, LibvirtFailure) else str(e)
                self.disconnect()
                attempts += 1
                if not reported:
                    self.connection_event('failed', error=message, attempts=attempts)
                    reported = True
                LOG.warning('libvirt_events: %s (retrying in %.1f s)', message, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.options.reconnect_max_delay)
                continue
            LOG.info('libvirt_events: watching %s (%s), %d event types', self.uri, self.hostname,
                     len(self.callback_ids))
            if down_since is None:
                self.connection_event('connected')
            else:
                self.connection_event('reconnected', attempts=attempts + 1,
                                      down_seconds=round(time.monotonic() - down_since, 3))
            if self.options.current_state:
                self.try_current_state()
            await self.lost.wait()
            down_since = time.monotonic()
            self.connection_event('lost', reason=self.lost_reason)
            LOG.warning('libvirt_events: lost the connection to %s (%s)', self.uri, self.lost_reason)
            self.disconnect()
            delay, attempts, reported = self.options.reconnect_delay, 0, True
            await asyncio.sleep(delay)


class _ThreadSafeImpl(libvirtaio.virEventAsyncIOImpl if libvirtaio else object):
    """libvirtaio's implementation, callable from any thread: a connection opened on a worker thread (so that a
    hypervisor that does not answer holds only that thread, not the rulebook's event loop) registers its socket
    and timers through the loop's own thread, as asyncio requires."""

    def __init__(self, loop):
        super(_ThreadSafeImpl, self).__init__(loop=loop)
        self.loop_thread = threading.get_ident()

    def _in_loop(self, func, *args):
        if threading.get_ident() == self.loop_thread:
            return func(*args)
        future = concurrent.futures.Future()

        def run():
            try:
                future.set_result(func(*args))
            except BaseException as e:  # handed to the calling thread
                future.set_exception(e)
        self.loop.call_soon_threadsafe(run)
        return future.result()

    def _add_handle(self, *args):
        return self._in_loop(super(_ThreadSafeImpl, self)._add_handle, *args)

    def _update_handle(self, *args):
        return self._in_loop(super(_ThreadSafeImpl, self)._update_handle, *args)

    def _remove_handle(self, *args):
        return self._in_loop(super(_ThreadSafeImpl, self)._remove_handle, *args)

    def _add_timeout(self, *args):
        return self._in_loop(super(_ThreadSafeImpl, self)._add_timeout, *args)

    def _update_timeout(self, *args):
        return self._in_loop(super(_ThreadSafeImpl, self)._update_timeout, *args)

    def _remove_timeout(self, *args):
        return self._in_loop(super(_ThreadSafeImpl, self)._remove_timeout, *args)


def _event_loop_impl():
    """libvirt's asyncio event loop integration on the running loop (once per process)."""
    impl = libvirtaio.getCurrentImpl()
    if impl is None:
        impl = _ThreadSafeImpl(asyncio.get_running_loop()).register()
        libvirtaio._current_impl = impl  # what libvirtaio.getCurrentImpl() answers
    elif impl.loop is not asyncio.get_running_loop():
        raise RuntimeError('libvirt_events: libvirt events are bound to another asyncio loop of this process; '
                           'run the source in the loop that first ran it.')
    return impl


async def _in_thread(func, *args):
    """Run a blocking libvirt call on a daemon thread of its own: a call that never returns (a hypervisor that
    accepts the connection and then says nothing) is abandoned at shutdown instead of holding it."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def run():
        try:
            outcome = (future.set_result, func(*args))
        except BaseException as e:  # handed to the loop
            outcome = (future.set_exception, e)
        try:
            loop.call_soon_threadsafe(lambda: future.done() or outcome[0](outcome[1]))
        except RuntimeError:
            pass  # the loop is gone: the source was stopped meanwhile
    threading.Thread(target=run, name='libvirt-events-connect', daemon=True).start()
    return await future


async def main(queue, args):
    """The ansible-rulebook entry point: runs until cancelled, then closes every connection."""
    if libvirt is None:
        raise ImportError('libvirt_events needs libvirt-python (pip install libvirt-python).')
    options = SourceOptions(args)
    impl = _event_loop_impl()
    watches = [HypervisorWatch(uri, options, queue) for uri in options.uris]
    try:
        await asyncio.gather(*(watch.run() for watch in watches))
    finally:
        for watch in watches:
            watch.stop()
            if watch.pump is not None:
                watch.pump.cancel()
        # Let libvirt free the handles and timers of the closed connections.
        try:
            await asyncio.wait_for(asyncio.shield(impl.drain()), 2)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass


if __name__ == '__main__':
    # Try it without ansible-rulebook: python libvirt_events.py [URI ...] prints the events as JSON lines.
    import json

    class _Printer:
        def put_nowait(self, event):
            print(json.dumps(event, default=str), flush=True)

    try:
        asyncio.run(main(_Printer(), dict(uris=sys.argv[1:] or None, current_state=True)))
    except KeyboardInterrupt:
        pass
