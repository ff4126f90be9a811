# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Event-driven waits on libvirt domains: no fixed sleeps, no polling.

Private to this collection: the names here may change without notice.

libvirt delivers events only to connections opened after an event loop implementation was registered,
so ``ensure_event_loop()`` must run before the connection opens (``LibvirtConnection(..., events=True)``
does it). One daemon thread then runs libvirt's default event loop for the life of the process.

``loop_paused()`` slows that thread down while the calling thread streams a volume: every stream message wakes
an event loop that is running (libvirt moves the connection's socket watch in and out of it around each call), which
costs a third more CPU for a transfer. Held, the loop still runs one iteration every ``PAUSED_TICK`` seconds, which
dispatches libvirt's expired timers: keepalive's timer is one of them, and without it a transfer on a cut link
would wait forever instead of failing within the keepalive bound.

``DomainEvents`` registers lifecycle and reboot callbacks for one domain; ``wait(predicate, timeout)``
evaluates the predicate (typically "the domain's state is X") right after registering and again after
every event, so a transition that happened before the wait started is never missed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import threading
import time

try:
    import libvirt
except ImportError:
    libvirt = None

_LOCK = threading.Lock()
_LOOP = {'thread': None, 'paused': 0}
#: Set while the loop runs freely; cleared by loop_paused().
_RUNNING = threading.Event()
_RUNNING.set()
#: Seconds between two iterations of a held loop: a dead link is found at most this much later than keepalive says.
PAUSED_TICK = 0.25


def _run_loop():
    while True:
        _RUNNING.wait(PAUSED_TICK)  # held: one iteration per tick, so libvirt's timers (keepalive's) still run
        try:
            libvirt.virEventRunDefaultImpl()
        except Exception:  # pragma: no cover - the loop must never die silently mid-run
            time.sleep(0.05)


def ensure_event_loop():
    """Register libvirt's default event loop and start the thread running it (once per process)."""
    with _LOCK:
        if _LOOP['thread'] is not None:
            return
        libvirt.virEventRegisterDefaultImpl()
        thread = threading.Thread(target=_run_loop, name='libvirt-event-loop')
        thread.daemon = True
        thread.start()
        _LOOP['thread'] = thread


def event_loop_running():
    return _LOOP['thread'] is not None


def _wake(timer, opaque):
    """A timer's callback that does nothing: firing it brings the loop out of its poll() to see a pause."""


@contextlib.contextmanager
def loop_paused():
    """The event loop thread held to one iteration per ``PAUSED_TICK`` for the ``with`` block, where the calling
    thread streams data; events and timers that come due meanwhile are dispatched at the next tick. Nothing to do
    without a loop."""
    if _LOOP['thread'] is None:
        yield
        return
    with _LOCK:
        _LOOP['paused'] += 1
        timer = None
        if _LOOP['paused'] == 1:
            _RUNNING.clear()
            timer = libvirt.virEventAddTimeout(0, _wake, None)
    try:
        yield
    finally:
        with _LOCK:
            _LOOP['paused'] -= 1
            if timer is not None:
                libvirt.virEventRemoveTimeout(timer)
            if not _LOOP['paused']:
                _RUNNING.set()


def _lifecycle_names():
    names = {}
    if libvirt is None:
        return names
    for name in dir(libvirt):
        if name.startswith('VIR_DOMAIN_EVENT_') and not name.startswith('VIR_DOMAIN_EVENT_ID_') \
                and name.count('_') == 3:
            names[getattr(libvirt, name)] = name[len('VIR_DOMAIN_EVENT_'):].lower()
    return names


class DomainEvents:
    """Lifecycle and reboot events of one domain: ``with DomainEvents(conn, dom) as events: ...``."""

    def __init__(self, conn, dom):
        self.conn = conn
        self.dom = dom
        self.cond = threading.Condition()
        self.count = 0
        self.events = []
        self._ids = []

    def registrations(self):
        """The (event ID, callback) pairs registered for the domain on entry."""
        return [(libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_lifecycle),
                (libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, self._on_reboot)]

    def __enter__(self):
        if not event_loop_running():
            raise RuntimeError('%s needs the event loop registered before the connection opened'
                               % type(self).__name__)
        for event_id, callback in self.registrations():
            self._ids.append(self.conn.domainEventRegisterAny(self.dom, event_id, callback, None))
        return self

    def __exit__(self, exc_type, exc, tb):
        for callback_id in self._ids:
            try:
                self.conn.domainEventDeregisterAny(callback_id)
            except libvirt.libvirtError:
                pass
        self._ids = []
        return False

    def _record(self, event):
        with self.cond:
            self.events.append(event)
            self.count += 1
            self.cond.notify_all()

    def _on_lifecycle(self, conn, dom, event, detail, opaque):
        self._record(('lifecycle', event, detail))

    def _on_reboot(self, conn, dom, opaque):
        self._record(('reboot', None, None))

    def seen(self, kind, event=None):
        with self.cond:
            return any(e[0] == kind and (event is None or e[1] == event) for e in self.events)

    def names(self):
        """The events seen so far, as readable names ('started', 'stopped', 'reboot', ...)."""
        lookup = _lifecycle_names()
        with self.cond:
            return [e[0] if e[0] != 'lifecycle' else lookup.get(e[1], str(e[1])) for e in self.events]

    def wait(self, predicate, timeout):
        """Wait until ``predicate()`` is true, re-checking after each event; True, or False on timeout.

        The predicate runs without the lock held (it may call libvirt); the event counter read before it
        runs tells whether an event arrived meanwhile, so none is lost.
        """
        deadline = time.monotonic() + max(0, timeout)
        while True:
            with self.cond:
                seen = self.count
            if predicate():
                return True
            with self.cond:
                while self.count == seen:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self.cond.wait(remaining)
