# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Wait for one event of one guest (the domain_event_wait module): any event type libvirt offers, decoded by
_event_catalog as the libvirt_events source decodes it, matched on its fields, with a timeout.

Private to this collection: the names here may change without notice.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import time

try:
    import libvirt
except ImportError:
    libvirt = None

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _event_catalog as catalog
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    LibvirtFailure, call, exit_module, module_connection)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._device import require_domain
from ansible_collections.sysvirt.libvirt.plugins.module_utils._events import DomainEvents

# What the module documents as O(event): every domain event type of the catalog.
DOMAIN_EVENT_TYPES = sorted(t for k, t in catalog.FIELDS if k == 'domain')


def field(rec, key):
    """A record's value for a O(match) key: ``event`` and ``detail`` of the record, else a key of its data."""
    if key in ('event', 'detail', 'name', 'uuid'):
        return rec.get(key)
    return rec['data'].get(key)


def matches(rec, match):
    """Every key of ``match`` equals the record's value (as text; a list of values: any of them)."""
    for key, wanted in (match or {}).items():
        actual = field(rec, key)
        choices = wanted if isinstance(wanted, list) else [wanted]
        if not any(str(actual) == str(choice) for choice in choices):
            return False
    return True


class EventWait(DomainEvents):
    """``with EventWait(conn, dom, 'agent_lifecycle', {'state': 'connected'}) as w: rec = w.first_match(60)``.

    DomainEvents registering one event type; ``events`` holds the catalog's records of what came."""

    def __init__(self, conn, dom, type_name, match):
        super(EventWait, self).__init__(conn, dom)
        self.type_name = type_name
        self.match = match
        self.uri = conn.getURI()
        self.hostname = conn.getHostname()
        self.found = None

    def registrations(self):
        return [(catalog.event_types('domain')[self.type_name], self._on_event)]

    def __enter__(self):
        with call('register for %s events of %s' % (self.type_name, self.dom.name())):
            return super(EventWait, self).__enter__()

    def _on_event(self, conn, dom, *args):
        rec = catalog.callback_record(self.uri, self.hostname, 'domain', self.type_name, dom, args[:-1])
        with self.cond:
            if self.found is None and matches(rec, self.match):
                self.found = rec
        self._record(rec)

    def first_match(self, timeout):
        """The first matching record, or None after ``timeout`` seconds."""
        self.wait(lambda: self.found is not None, timeout)
        return self.found


def _describe(type_name, match):
    if not match:
        return 'a %s event' % type_name
    return 'a %s event with %s' % (type_name, ', '.join('%s=%s' % item for item in sorted(match.items())))


def _ready_file(path, create):
    """Remove (``create`` false) or create the O(ready_path) signal file; a failure is the user's to fix."""
    try:
        if create:
            with open(path, 'w'):
                pass
        elif os.path.lexists(path):
            os.remove(path)
    except OSError as exc:
        raise LibvirtFailure('Cannot %s ready_path %s: %s.' % ('create' if create else 'remove', path, exc.strerror),
                             hint='Choose a path in a directory the module can write to.')


def run_module(module):
    params = module.params
    type_name, match, timeout = params['event'], params['match'] or {}, params['timeout']
    ready_path = params.get('ready_path')
    with module_connection(module, events=True) as conn:
        if ready_path:
            _ready_file(ready_path, create=False)
        if type_name not in catalog.event_types('domain'):
            raise LibvirtFailure('This libvirt-python (%s) has no %s events.' % (libvirt.getVersion(), type_name),
                                 hint='Upgrade libvirt-python, or wait for another event type.')
        dom = require_domain(conn, params['domain'])
        started = time.monotonic()
        with EventWait(conn, dom, type_name, match) as waiter:
            if ready_path:
                _ready_file(ready_path, create=True)
            found = waiter.first_match(timeout)
        result = dict(changed=False, domain=dom.name(), event=found, events=list(waiter.events),
                      timed_out=found is None, elapsed=round(time.monotonic() - started, 3))
    if found is None and params['fail_on_timeout']:
        seen = ', '.join('%s/%s' % (r['event'], r['detail']) if r['event'] is not None else r['type']
                         for r in result['events']) or 'none'
        failure = LibvirtFailure(
            'Waited %s s for %s of guest %s; it did not come (events seen meanwhile: %s).'
            % (timeout, _describe(type_name, match), result['domain'], seen),
            hint='Only events that happen while the task waits count: start the wait before the action '
                 '(async with poll: 0), or raise timeout.')
        result.update(failure.fail_kwargs())
        module.fail_json(**result)
    exit_module(module, result)
