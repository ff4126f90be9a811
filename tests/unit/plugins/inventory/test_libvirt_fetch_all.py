# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory's fetch of many hypervisors: order, concurrency, the timeout, keepalive passed on."""

from __future__ import annotations

import threading
import time

from ansible_collections.sysvirt.libvirt.plugins.inventory import libvirt as inv

NEVER = threading.Event()


def _fake(delays, seen=None):
    def fetch_one(uri, **kwargs):
        if seen is not None:
            seen.append((uri, kwargs))
        delay = delays.get(uri, 0)
        if delay is None:
            NEVER.wait(30)  # a hypervisor that never answers (the thread is a daemon; 30 s bounds it anyway)
        else:
            time.sleep(delay)
        return dict(uri=uri, error=None, hypervisor={'hostname': uri}, domains=[], warnings=[], definition='all')
    return fetch_one


def test_results_in_the_order_of_the_uris(monkeypatch):
    monkeypatch.setattr(inv, 'fetch_one', _fake({'a': 0.3, 'b': 0, 'c': 0.1}))
    results = inv.fetch_all(['a', 'b', 'c'], 3)
    assert [r['uri'] for r in results] == ['a', 'b', 'c']
    assert [r['error'] for r in results] == [None] * 3


def test_workers_bound_the_concurrency(monkeypatch):
    monkeypatch.setattr(inv, 'fetch_one', _fake(dict((u, 0.2) for u in 'abcd')))
    started = time.monotonic()
    inv.fetch_all(list('abcd'), 2)
    assert 0.4 <= time.monotonic() - started < 2  # two rounds of two


def test_a_silent_hypervisor_times_out_and_the_others_load(monkeypatch):
    seen = []
    monkeypatch.setattr(inv, 'fetch_one', _fake({'dead': None, 'b': 0.1}, seen))
    started = time.monotonic()
    results = inv.fetch_all(['dead', 'b', 'c'], 1, timeout=1, definition='none', keepalive_interval=2,
                            keepalive_count=3)
    elapsed = time.monotonic() - started
    # One worker: the silent one's slot goes to the next URI once it timed out.
    assert 1 <= elapsed < 3, elapsed
    assert results[0]['error'] == 'Failed to read dead: no answer within 1 seconds (the timeout option)'
    assert results[0]['definition'] == 'none' and results[0]['domains'] == []
    assert [r['error'] for r in results[1:]] == [None, None]
    assert seen[0][1] == dict(definition='none', keepalive_interval=2, keepalive_count=3)


def test_without_a_timeout_every_fetch_ends_by_itself(monkeypatch):
    monkeypatch.setattr(inv, 'fetch_one', _fake({'a': 0.5}))
    results = inv.fetch_all(['a', 'b'], 2, timeout=0)
    assert [r['error'] for r in results] == [None, None]


def test_the_plugin_passes_its_options(monkeypatch):
    calls = []

    def fetch_all(uris, workers, timeout=0, **kwargs):
        calls.append((uris, workers, timeout, kwargs))
        return []
    monkeypatch.setattr(inv, 'fetch_all', fetch_all)
    from test_libvirt_populate import NAME, new_plugin
    plugin = new_plugin()
    plugin.set_options(direct=dict(plugin=NAME, uris=['test:///default', 'test:///x'], timeout=7,
                                   keepalive_interval=3, keepalive_count=2, max_workers=1))
    plugin._fetch()
    uris, workers, timeout, kwargs = calls[0]
    assert (uris, workers, timeout) == (['test:///default', 'test:///x'], 1, 7)
    assert (kwargs['keepalive_interval'], kwargs['keepalive_count']) == (3, 2)


def test_keepalive_reaches_the_connection():
    result = inv.fetch_one('test:///default', keepalive_interval=1, keepalive_count=1)
    assert result['error'] is None and result['hypervisor']


class _ClockWithoutSleep:
    """inv.time for fetch_all: the clock works, sleeping fails the test (fetch_all must wait on its condition)."""
    monotonic = staticmethod(time.monotonic)

    @staticmethod
    def sleep(seconds):
        raise AssertionError('fetch_all polled with time.sleep(%s)' % seconds)


def test_each_fetch_wakes_the_wait_instead_of_a_polling_loop(monkeypatch):
    monkeypatch.setattr(inv, 'fetch_one', _fake({'a': 0.2, 'b': 0}))
    monkeypatch.setattr(inv, 'time', _ClockWithoutSleep)
    results = inv.fetch_all(['a', 'b'], 2)
    assert [r['uri'] for r in results] == ['a', 'b'] and [r['error'] for r in results] == [None, None]


def test_a_timeout_is_noticed_without_polling(monkeypatch):
    monkeypatch.setattr(inv, 'fetch_one', _fake({'dead': None, 'b': 0}))
    monkeypatch.setattr(inv, 'time', _ClockWithoutSleep)
    results = inv.fetch_all(['dead', 'b'], 1, timeout=1)
    assert results[0]['error'] == 'Failed to read dead: no answer within 1 seconds (the timeout option)'
    assert results[1]['error'] is None


def test_no_uris_no_threads():
    assert inv.fetch_all([], 4) == []
