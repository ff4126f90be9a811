# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_events.loop_paused on qemu:///system: a guest's event that arrives while the event loop is held (a volume
stream runs) is not lost: the held loop's next tick delivers it, during the hold. Run in a child process, whose
event loop is its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import QEMU_URI, unique_name
from utils.guest import serial_log_path, tiny_guest_xml

CHILD = r'''
import json, sys, threading, time
import libvirt
from ansible_collections.sysvirt.libvirt.plugins.module_utils import _events

uri, xml = sys.argv[1], sys.stdin.read()
_events.ensure_event_loop()
conn = libvirt.open(uri)
seen = []
got = threading.Event()

def on_lifecycle(conn, dom, event, detail, opaque):
    seen.append(event)
    if event == libvirt.VIR_DOMAIN_EVENT_STARTED:
        got.set()

callback = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle, None)
dom = conn.defineXML(xml)
try:
    with _events.loop_paused():
        dom.create()
        during = got.wait(10)  # the held loop still ticks (every PAUSED_TICK seconds)
    after = got.wait(30)
    print(json.dumps(dict(during=during, after=after)))
finally:
    if dom.isActive():
        dom.destroy()
    dom.undefine()
    conn.domainEventDeregisterAny(callback)
    conn.close()
'''


def test_an_event_during_the_hold_is_delivered_by_a_tick():
    name = unique_name('pause')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    try:
        out = subprocess.run([sys.executable, '-c', CHILD, QEMU_URI], input=tiny_guest_xml(name), capture_output=True,
                             text=True, env=env, timeout=120, check=False)
    finally:
        if os.path.exists(serial_log_path(name)):
            os.unlink(serial_log_path(name))
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen == dict(during=True, after=True), seen
