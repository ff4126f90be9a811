# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Many domains, networks, storage pools and volumes in one task, over one connection (the bulk module).

Private to this collection: the names here may change without notice.

Every item goes through exactly the code of its kind's module: its options are validated against that module's
own argument spec (OPTIONS and CONSTRAINTS of the kind's module_utils), then the kind's run brings it in line
with an Outcome of its own, in check mode and for real alike. So an item is idempotent, predicted, diffed and
failed the way the single module does it. What this file adds is only the order, the concurrency and the
aggregation:

- removals first (state absent, or deleted for a pool), what uses an object before the object: domains, then
  volumes, then storage pools and networks; then every other item the other way round: networks and pools,
  then volumes, then domains. Within one kind the given order is kept;
- the items of one such stage run concurrently on up to ``workers`` threads (libvirt's connection is
  thread-safe); two items naming the same object run one after the other, in the given order. For a URI of this
  host each thread has a connection of its own (Connections): libvirtd serves at most max_client_requests (5)
  calls of one connection at a time, and a destroy holds its call for ~0.2 s while libvirtd waits for QEMU to go;
- an item that fails does not stop the others: the task fails at the end, saying what changed and what failed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain, _network, _storage, _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    LibvirtFailure, connection_from_params, failure_from, is_local_uri, keepalive_failure)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import Outcome

try:
    import libvirt
except ImportError:  # reported by _connection.require_libraries
    libvirt = None


def _domain_run(module, conn, outcome):
    return _domain.DomainRun(module, conn, outcome).run()


def _kind_run(run):
    """The result of a kind's run in the one shape of every module (what _resource.run_kind exits with)."""
    def result(module, conn, outcome):
        return outcome.module_result(**run(module, conn, outcome))
    return result


class BulkKind:
    """One kind the bulk module takes: its list option, the spec and run of its module, its place in the order."""

    def __init__(self, name, option, spec, run, rank, removal, events=None):
        self.name, self.option, self.run, self.rank = name, option, run, rank
        self.options, self.constraints = spec
        #: The states that remove the object (run first, in reverse rank).
        self.removal = removal
        #: Whether an item's parameters need the connection's event loop (a domain waiting for its state).
        self.events = events or (lambda params: False)


#: The kinds, in the order their list options are documented. ``rank``: what an object of a higher rank may use
#: (a domain uses networks, pools and volumes; a volume its pool) is created before it and removed after it.
KINDS = (
    BulkKind('network', 'networks', (_network.OPTIONS, _network.CONSTRAINTS), _kind_run(_network.run), 0,
             ('absent',)),
    BulkKind('storage_pool', 'storage_pools', (_storage.POOL_OPTIONS, _storage.POOL_CONSTRAINTS),
             _kind_run(_storage.run_pool), 0, ('absent', 'deleted')),
    BulkKind('volume', 'volumes', (_storage.VOLUME_OPTIONS, _storage.VOLUME_CONSTRAINTS),
             _kind_run(_storage.run_volume), 1, ('absent',)),
    BulkKind('domain', 'domains', (_domain.OPTIONS, _domain.CONSTRAINTS), _domain_run, 2, ('absent',),
             events=_domain.waits),
)


class ItemModule:
    """What a kind's run reads of its module: the item's validated parameters and check mode."""

    def __init__(self, params, check_mode):
        self.params = params
        self.check_mode = check_mode


class Item:
    """One validated item: its kind, parameters, position in the task, and how results name it."""

    def __init__(self, index, kind, params):
        self.index, self.kind, self.params = index, kind, params
        self.name = item_name(params)
        self.removal = params.get('state') in kind.removal

    @property
    def key(self):
        """What the item acts on: items with the same key never run at the same time. An item without a name
        (a UUID, path or key only) is its own."""
        if self.name is None:
            return (self.kind.name, None, self.index)
        return (self.kind.name, self.params.get('pool') if self.kind.name == 'volume' else None, self.name)

    @property
    def stage(self):
        """(0, -rank) for a removal, (1, rank) otherwise: the order stages run in."""
        return (0, -self.kind.rank) if self.removal else (1, self.kind.rank)


def item_name(params):
    """The name of the object an item names: its name, UUID, path or key option, else the <name> of its xml."""
    for option in ('name', 'uuid', 'path', 'key'):
        if params.get(option):
            return params[option]
    if params.get('xml'):
        try:
            return _xml.find_text(_xml.parse(params['xml'], 'XML'), 'name')
        except _xml.XMLInputError:
            return None  # the item's own run fails on it, with the kind's message
    return None


def validate(kind, raw, defaults=None):
    """(parameters, error messages, no_log values) of one item, validated against its kind's module spec, with
    ``defaults`` (the kind's entry of the defaults option) under the item's own options."""
    params = dict(defaults or {})
    params.update(raw)
    result = ArgumentSpecValidator(kind.options, **kind.constraints).validate(params)
    return result.validated_parameters, list(result.error_messages), set(result._no_log_values)


def collect(options, defaults=None):
    """(items, errors, no_log values) of the module's list options, every item validated (a string is short for
    {name: <string>}): errors are "<option>[<n>]: <message>" and fail the task before anything is looked at."""
    items, errors, secrets = [], [], set()
    defaults = defaults or {}
    for kind in KINDS:
        for position, raw in enumerate(options.get(kind.option) or ()):
            if isinstance(raw, str):
                raw = dict(name=raw)
            if not isinstance(raw, dict):
                errors.append('%s[%d]: an item is a dict of options or a name, not %s'
                              % (kind.option, position, type(raw).__name__))
                continue
            params, messages, no_log = validate(kind, raw, defaults.get(kind.name))
            secrets.update(no_log)
            errors.extend('%s[%d]: %s' % (kind.option, position, message) for message in messages)
            if not messages:
                items.append(Item(len(items), kind, params))
    return items, errors, secrets


def waves(items):
    """The items in the order they run: a list of waves, each run concurrently, one after the other. A stage
    (see Item.stage) is one wave, or several when items in it name the same object (the n-th item naming an
    object goes into the stage's n-th wave)."""
    ordered = sorted(items, key=lambda item: (item.stage, item.index))
    result, stage, seen = [], None, None
    for item in ordered:
        if item.stage != stage:
            stage, seen, first = item.stage, collections.Counter(), len(result)
        position = first + seen[item.key]
        seen[item.key] += 1
        if position == len(result):
            result.append([])
        result[position].append(item)
    return result


def run_item(conn, item, check_mode, uri):
    """One item through its kind's run; its entry of RV(objects): the module's result with kind and name, or
    on failure what it did before and the failure (msg, error, hint), as the module would fail."""
    outcome = Outcome()
    entry = dict(kind=item.kind.name, name=item.name)
    try:
        result = item.kind.run(ItemModule(item.params, check_mode), conn, outcome)
    except (LibvirtFailure, _xml.XMLInputError) + ((libvirt.libvirtError,) if libvirt else ()) as exc:
        if not isinstance(exc, (LibvirtFailure, _xml.XMLInputError)):
            exc = failure_from(exc, 'complete the libvirt call')
        failure = keepalive_failure(exc, uri).fail_kwargs() if isinstance(exc, LibvirtFailure) \
            else dict(msg=str(exc))
        entry.update(failed=True, changed=outcome.changed, actions=list(outcome.actions),
                     warnings=list(outcome.warnings), **failure)
        return entry
    entry.update(result, failed=False)
    return entry


class Connections:
    """The connections the items run on: the task's own, and up to ``size`` in all, each thread keeping the one it
    took first. ``opener()`` opens one more (None when it cannot: that thread then shares the task's connection;
    a failure there is no failure of the task). ``close()`` closes what ``opener`` opened."""

    def __init__(self, conn, size=1, opener=None):
        self.conn, self.size, self.opener = conn, size, opener
        self.free, self.opened = [conn], []
        self.lock, self.local = threading.Lock(), threading.local()

    def get(self):
        """This thread's connection."""
        conn = getattr(self.local, 'conn', None)
        if conn is None:
            with self.lock:
                if self.free:
                    conn = self.free.pop()
                elif self.opener is not None and len(self.opened) + 1 < self.size:
                    extra = self.opener()
                    if extra is not None:
                        self.opened.append(extra)
                        conn = extra.conn
            self.local.conn = conn = conn or self.conn
        return conn

    def close(self):
        for extra in self.opened:
            extra.close()
        self.opened = []


def connections_for(module, conn, events):
    """The task's Connections: one per worker for a URI of this host (a local socket: opening one costs
    milliseconds, and libvirtd then serves each thread's calls side by side), else the task's one (another
    connection to a remote host would be another login)."""
    size = module.params['workers'] if is_local_uri(conn.getURI()) else 1

    def opener():
        extra = connection_from_params(module.params, events=events)
        try:
            extra.open()
        except LibvirtFailure:
            return None
        return extra
    return Connections(conn, size, opener)


def run_waves(conn, all_waves, check_mode, workers, uri, entries):
    """Run every wave, its items on up to ``workers`` threads (on the connections of ``conn``, a Connections,
    or a connection all share), adding their entries to ``entries`` in the order the items ran. An unexpected
    exception (a bug, not a libvirt failure) is raised once its wave has finished, so ``entries`` still says what
    every other item did."""
    connections = conn if isinstance(conn, Connections) else Connections(conn)

    def run(item):
        return run_item(connections.get(), item, check_mode, uri)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for wave in all_waves:
            futures = [pool.submit(run, item) for item in wave]
            error = None
            for future in futures:
                try:
                    entries.append(future.result())
                except Exception as exc:  # pylint: disable=broad-except
                    error = error or exc
            if error is not None:
                raise error


def action_lines(entries):
    """Every action of every item, as "<kind> <name>: <action>", in the order the items ran."""
    return ['%s %s: %s' % (e['kind'], e['name'], action) for e in entries for action in e.get('actions') or ()]


def diff_list(entries):
    """The --diff of the task: each changed item's diff, with headers naming it (a domain's has its own)."""
    diffs = []
    for entry in entries:
        diff = entry.get('diff')
        if not entry.get('changed') or not diff:
            continue
        if isinstance(diff, dict):
            header = '%s %s' % (entry['kind'], entry['name'])
            diff = [dict(diff, before_header=header, after_header=header)]
        diffs.extend(diff)
    return diffs


def failure_message(entries):
    """The task's message when items failed: how many, and each failed item's own message."""
    failed = [e for e in entries if e.get('failed')]
    changed = [e for e in entries if e.get('changed')]
    lines = ['%s %s: %s' % (e['kind'], e['name'], e['msg']) for e in failed]
    return '%d of %d items failed (%d changed something): %s' % (
        len(failed), len(entries), len(changed), '; '.join(lines))


def failure_hint(entries):
    """The task's hint when items failed: the failed items' hints, each once, in the order they came (none when
    no failed item has one)."""
    hints = []
    for entry in entries:
        hint = entry.get('hint') if entry.get('failed') else None
        if hint and hint not in hints:
            hints.append(hint)
    return '\n'.join(hints) or None


def needs_events(items):
    return any(item.kind.events(item.params) for item in items)


def run_bulk(module, conn, outcome, items):
    """Run the items; return the module's result, or fail the module (after every item ran) listing what
    failed, what changed (``changed``, ``actions``) and every item's entry (``objects``)."""
    uri = conn.getURI()
    entries = []
    connections = connections_for(module, conn, needs_events(items))
    try:
        run_waves(connections, waves(items), module.check_mode, module.params['workers'], uri, entries)
    finally:
        connections.close()
        # (after an unexpected exception too: the failure then reports what the items changed)
        for line in action_lines(entries):
            outcome.act(line)
    for entry in entries:
        outcome.warnings.extend('%s %s: %s' % (entry['kind'], entry['name'], w) for w in entry.get('warnings') or ())
        if not getattr(module, '_diff', False):
            entry.pop('diff', None)
    result = dict(changed=outcome.changed, actions=list(outcome.actions), objects=entries,
                  diff=diff_list(entries), warnings=list(outcome.warnings))
    if any(entry.get('failed') for entry in entries):
        for warning in result.pop('warnings'):
            module.warn(warning)
        result.pop('diff')
        hint = failure_hint(entries)
        if hint:
            result['hint'] = hint
        module.fail_json(msg=failure_message(entries), **result)
    return result
