# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_events.loop_paused: the event loop thread stands still in the block (a stream transfer) and runs again after.

Run in a child process: libvirt's event loop, once registered, stays for the life of the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip('libvirt')

CHILD = r'''
import json, time
import libvirt
from ansible_collections.sysvirt.libvirt.plugins.module_utils import _events

with _events.loop_paused():  # no loop yet: nothing to hold
    pass
fires = []
_events.ensure_event_loop()
libvirt.virEventAddTimeout(10, lambda timer, opaque: fires.append(1), None)
counts = {}
time.sleep(0.5)
counts['before'] = len(fires)
with _events.loop_paused():
    # the loop's current iteration ends: wait (bounded) until the count stops moving; a loop that is not held
    # fires the 10 ms timer about ten times per 0.1 s and never gets here before the deadline
    last, deadline = -1, time.monotonic() + 5
    while len(fires) != last and time.monotonic() < deadline:
        last = len(fires)
        time.sleep(0.1)
    counts['paused'] = len(fires)
    time.sleep(0.3)
    counts['paused_later'] = len(fires)
    with _events.loop_paused():
        pass
    time.sleep(0.2)
    counts['after_nested'] = len(fires)
time.sleep(0.5)
counts['after'] = len(fires)
print(json.dumps(counts))
'''


def test_the_loop_stands_still_while_paused_and_runs_after():
    collections = os.environ.get('ANSIBLE_COLLECTIONS_PATH') or os.pathsep.join(sys.path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([collections] + sys.path))
    out = subprocess.run([sys.executable, '-c', CHILD], capture_output=True, text=True, env=env, timeout=60,
                         check=False)
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout)
    assert counts['before'] >= 5, counts  # a 10 ms timer in 0.3 s, on a busy machine
    assert counts['paused_later'] == counts['paused'], counts
    assert counts['after_nested'] == counts['paused'], counts  # the inner block's end does not resume the loop
    assert counts['after'] >= counts['after_nested'] + 5, counts
