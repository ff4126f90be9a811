# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connections the bulk module's items run on (_bulk.Connections, connections_for, run_waves): the task's own,
and for a URI of this host one per worker thread, opened on first need, kept by the thread, closed at the end."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _bulk, _connection
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, is_local_uri


class Extra:
    """What the opener returns: an opened LibvirtConnection-like object."""

    def __init__(self, name):
        self.conn, self.closed = name, False

    def close(self):
        self.closed = True


def opener_of(names):
    opened = []

    def opener():
        if not names:
            return None
        extra = Extra(names.pop(0))
        opened.append(extra)
        return extra
    return opener, opened


def in_threads(connections, count):
    """Each of ``count`` threads takes its connection twice (all hold the first until every one has one)."""
    barrier, got = threading.Barrier(count), {}

    def take(index):
        first = connections.get()
        barrier.wait()
        got[index] = (first, connections.get())
    threads = [threading.Thread(target=take, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [got[i] for i in range(count)]


def test_one_connection_is_shared_by_every_thread_and_nothing_is_opened():
    opener, opened = opener_of(['c1', 'c2'])
    connections = _bulk.Connections('main', 1, opener)
    assert in_threads(connections, 3) == [('main', 'main')] * 3
    assert opened == []


def test_each_thread_has_its_own_up_to_the_size_then_shares_the_tasks():
    opener, opened = opener_of(['c1', 'c2', 'c3'])
    connections = _bulk.Connections('main', 3, opener)
    got = in_threads(connections, 4)
    assert all(first == again for first, again in got)
    assert sorted(pair[0] for pair in got) == ['c1', 'c2', 'main', 'main']
    assert [extra.conn for extra in opened] == ['c1', 'c2']
    connections.close()
    assert all(extra.closed for extra in opened) and connections.opened == []


def test_a_connection_that_cannot_be_opened_means_sharing_the_tasks():
    opener, opened = opener_of([])
    connections = _bulk.Connections('main', 4, opener)
    assert sorted(pair[0] for pair in in_threads(connections, 3)) == ['main'] * 3


def test_run_waves_runs_items_on_the_threads_connections(monkeypatch):
    seen = []

    def run_item(conn, item, check_mode, uri):
        seen.append((threading.get_ident(), conn))
        return dict(kind='domain', name=item)
    monkeypatch.setattr(_bulk, 'run_item', run_item)
    opener, opened = opener_of(['c1', 'c2', 'c3'])
    entries = []
    _bulk.run_waves(_bulk.Connections('main', 2, opener), [['a', 'b', 'c', 'd'], ['e']], False, 2, 'u', entries)
    assert [e['name'] for e in entries] == ['a', 'b', 'c', 'd', 'e']
    by_thread = {}
    for ident, conn in seen:
        assert by_thread.setdefault(ident, conn) == conn  # a thread keeps its connection
    assert set(by_thread.values()) <= {'main', 'c1'} and len(opened) <= 1


class Conn:
    def __init__(self, uri):
        self.uri = uri

    def getURI(self):
        return self.uri


class Module:
    def __init__(self, workers, **params):
        self.params = dict(dict(uri=None, readonly=False, username=None, password=None, keepalive_interval=None,
                                keepalive_count=None), workers=workers, **params)


@pytest.mark.parametrize('uri, size', [
    ('qemu:///system', 6),
    ('test+unix:///default', 6),
    ('qemu+unix:///session?socket=/run/x/libvirt-sock', 6),
    ('test:///default', 1),
    ('qemu+ssh://root@kvm01/system', 1),
    ('qemu+tls://kvm01/system', 1),
])
def test_connections_for_one_per_worker_only_on_this_host(uri, size):
    assert _bulk.connections_for(Module(6), Conn(uri), False).size == size


@pytest.mark.parametrize('fail', [False, True])
def test_connections_for_opens_with_the_tasks_options_and_events(monkeypatch, fail):
    made = []

    class Connection:
        def __init__(self, params, events):
            self.params, self.events, self.conn = params, events, 'extra'
            made.append(self)

        def open(self):
            if fail:
                raise LibvirtFailure('Failed to connect')
            return self.conn
    monkeypatch.setattr(_bulk, 'connection_from_params', Connection)
    module = Module(4, uri='qemu:///system', username='u', password='p')
    extra = _bulk.connections_for(module, Conn('qemu:///system'), True).opener()
    assert made[0].params is module.params and made[0].events is True
    assert extra is (None if fail else made[0])


def test_connection_from_params_takes_every_connection_option():
    connection = _connection.connection_from_params(dict(uri='qemu:///system', readonly=True, username='u',
                                                         password='p', keepalive_interval=5, keepalive_count=3),
                                                    events=True)
    assert (connection.uri, connection.readonly, connection.username, connection.password, connection.events,
            connection.keepalive) == ('qemu:///system', True, 'u', 'p', True, (5, 3))


@pytest.mark.parametrize('uri, local', [
    ('qemu:///system', True), ('qemu:///session', True), ('test+unix:///default', True),
    ('test:///default', False), ('qemu+ssh://kvm01/system', False), ('qemu+tcp://kvm01/system', False),
    ('', False), (None, False),
])
def test_is_local_uri(uri, local):
    assert is_local_uri(uri) is local
