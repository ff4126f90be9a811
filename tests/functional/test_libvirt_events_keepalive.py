# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""libvirt's keepalive finds a dead peer: a private libvirtd of this test is frozen (SIGSTOP, by its PID), so its
socket stays open but nothing answers; the libvirt_events source must report the connection ``lost`` with
reason ``keepalive`` within keepalive_interval x (keepalive_count + 1) seconds, and ``reconnected`` once the
daemon runs again (SIGCONT). The shared daemon is never touched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import libvirt
import pytest

from utils.private_libvirtd import PrivateLibvirtd

SOURCE = os.path.join(os.path.dirname(__file__), '..', '..', 'extensions', 'eda', 'plugins', 'event_source',
                      'libvirt_events.py')
RUNNER = r'''
import asyncio, json, runpy, signal, sys, time
source = runpy.run_path(sys.argv[1])
class Printer:
    def put_nowait(self, rec):
        print(json.dumps([time.monotonic(), rec]), flush=True)
def stop(*args):
    raise KeyboardInterrupt()
signal.signal(signal.SIGTERM, stop)
try:
    asyncio.run(source['main'](Printer(), json.loads(sys.argv[2])))
except KeyboardInterrupt:
    pass
'''


@pytest.fixture
def daemon():
    private = PrivateLibvirtd()
    private.start()
    yield private
    if private.proc is not None:
        os.kill(private.proc.pid, signal.SIGCONT)
    private.close()


def test_a_frozen_daemon_is_lost_by_keepalive_and_found_again(daemon):
    keep = libvirt.open(daemon.test_uri)  # the test driver's state lives while a connection is open
    args = dict(uris=[daemon.test_uri], kinds=['domain'], keepalive_interval=1, keepalive_count=2,
                reconnect_delay=0.5, reconnect_max_delay=1)
    proc = subprocess.Popen([sys.executable, '-c', RUNNER, SOURCE, json.dumps(args)], stdout=subprocess.PIPE,
                            text=True)
    records = []
    reader = threading.Thread(target=lambda: records.extend(json.loads(line) for line in proc.stdout))
    reader.start()

    def wait_for(type_name, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            found = [(t, r) for t, r in list(records) if r['kind'] == 'connection' and r['type'] == type_name]
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError('no %s connection event within %ss: %s' % (type_name, timeout, records))

    try:
        wait_for('connected', 60)  # a private libvirtd starting on a loaded machine
        os.kill(daemon.proc.pid, signal.SIGSTOP)
        frozen = time.monotonic()
        lost_at, lost = wait_for('lost', 30)
        assert lost['data']['reason'] == 'keepalive'
        print('lost after %.1f s (keepalive 1 s x 2)' % (lost_at - frozen))
        os.kill(daemon.proc.pid, signal.SIGCONT)
        reconnected = wait_for('reconnected', 60)[1]
        assert reconnected['data']['attempts'] >= 1
    finally:
        os.kill(daemon.proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(30)
        reader.join(30)
        keep.close()
    assert proc.returncode == 0
