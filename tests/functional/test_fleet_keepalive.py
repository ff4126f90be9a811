# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A link cut in the middle of a call (the fleet's veth taken down inside its namespace): with keepalive the call
fails in bounded time and the failure names the hypervisor; without it the call just waits."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time

import libvirt
import pytest

from conftest import run_module, unique_name
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtConnection


class Call(threading.Thread):
    """func() in a daemon thread; .result or .error when it ends, .elapsed from start to end."""

    def __init__(self, func):
        super().__init__(daemon=True)
        self.func, self.result, self.error, self.elapsed = func, None, None, None

    def run(self):
        started = time.monotonic()
        try:
            self.result = self.func()
        except Exception as e:  # what the call raised is the test's subject
            self.error = e
        self.elapsed = time.monotonic() - started


def _forever(func):
    """func() over and over, until it raises: the call in flight when the link goes down waits for an answer."""
    while True:
        func()


def _cut_during(fleet, host, call, cut_after, wait):
    """Start ``call``, cut the host's link after ``cut_after`` seconds, wait up to ``wait`` more for the call to
    end, bring the link back. Returns the seconds from the cut to the call's end, or None if it had not ended."""
    call.start()
    time.sleep(cut_after)
    assert call.is_alive(), 'the call ended before the link was cut (%s, %s)' % (call.result, call.error)
    with fleet.link_cut(host):
        cut = time.monotonic()
        call.join(wait)
        ended = None if call.is_alive() else time.monotonic() - cut
    return ended


def test_a_call_on_a_cut_link_fails_within_the_keepalive_bound(fleet):
    """keepalive 1 s x 2: the pending call fails within about 3 s of the cut (bound checked: 15 s)."""
    host = fleet.hosts[1]
    connection = LibvirtConnection(host.tls_uri, keepalive_interval=1, keepalive_count=2)
    conn = connection.open()
    try:
        call = Call(lambda: _forever(conn.getHostname))
        ended = _cut_during(fleet, host, call, 0.5, 15)
    finally:
        connection.close()
    assert ended is not None, 'the call did not end within 15 s of the cut'
    assert isinstance(call.error, libvirt.libvirtError), call.error
    assert 'keepalive' in str(call.error), call.error


def test_without_keepalive_the_call_waits(fleet):
    """The same cut without keepalive: the call is still waiting 8 s later (then the link comes back)."""
    host = fleet.hosts[1]
    connection = LibvirtConnection(host.tls_uri, keepalive_interval=0)
    conn = connection.open()
    try:
        call = Call(lambda: _forever(conn.getHostname))
        ended = _cut_during(fleet, host, call, 0.5, 8)
        assert ended is None, 'the call ended without keepalive: %s' % call.error
    finally:
        # The link is back: the pending call completes; the loop then ends when the connection closes.
        connection.close()
        call.join(60)


@pytest.fixture
def slow_pool(fleet):
    """A directory pool on hypervisor 3, and its link limited to 2 Mbit/s towards it (an upload takes seconds)."""
    host = fleet.hosts[2]
    path = tempfile.mkdtemp(prefix='sysvirt-test-fleet-pool-', dir='/var/tmp')
    name = unique_name('fleet-pool')
    conn = libvirt.open(host.tls_uri)
    pool = conn.storagePoolCreateXML(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>" % (name, path), 0)
    subprocess.run(['tc', 'qdisc', 'add', 'dev', host.link, 'root', 'tbf', 'rate', '2mbit', 'burst', '32kbit',
                    'latency', '400ms'], check=True)
    try:
        yield host, name
    finally:
        subprocess.run(['tc', 'qdisc', 'del', 'dev', host.link, 'root'], check=False)
        try:
            for vol in pool.listAllVolumes():
                vol.delete()
            pool.destroy()
        except libvirt.libvirtError:
            pass
        conn.close()
        shutil.rmtree(path, ignore_errors=True)


def test_a_module_on_a_cut_link_fails_naming_the_hypervisor(fleet, slow_pool, tmp_path):
    """volume uploads 8 MiB at 2 Mbit/s (about 30 s); the link is cut 2 s in: the task fails within the keepalive
    bound (2 s x 2, checked: 20 s), and its message names the hypervisor's URI."""
    host, pool = slow_pool
    image = tmp_path / 'disk.img'
    with open(image, 'wb') as handle:
        handle.write(os.urandom(8 << 20))
    args = dict(uri=host.tls_uri, pool=pool, name='upload.img', format='raw', upload=str(image),
                keepalive_interval=2, keepalive_count=2)
    call = Call(lambda: run_module('volume', args))
    ended = _cut_during(fleet, host, call, 2, 20)
    assert ended is not None, 'the module did not end within 20 s of the cut'
    result = call.result
    assert result is not None, call.error
    assert result.failed, result
    assert host.tls_uri in result['msg'], result['msg']
    assert result['msg'].startswith('Lost the connection to %s: Failed to ' % host.tls_uri), result['msg']
    assert 'keepalive' in result['msg'], result['msg']
    assert 'stopped answering' in result['hint']
