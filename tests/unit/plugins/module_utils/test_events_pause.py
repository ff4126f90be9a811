# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_events.loop_paused: the event loop thread runs one iteration per tick in the block (a stream transfer) and
freely again after.

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
libvirt.virEventAddTimeout(10, lambda timer, opaque: fires.append(time.monotonic()), None)
counts = {'tick': _events.PAUSED_TICK}
time.sleep(0.5)
counts['before'] = len(fires)
with _events.loop_paused():
    time.sleep(0.1)  # the loop's current iteration ends
    counts['paused'] = len(fires)
    time.sleep(1.0)
    counts['paused_later'] = len(fires)
    with _events.loop_paused():
        pass
    time.sleep(0.5)
    counts['after_nested'] = len(fires)
time.sleep(0.5)
counts['after'] = len(fires)
print(json.dumps(counts))
'''


def test_the_loop_ticks_while_paused_and_runs_freely_after():
    collections = os.environ.get('ANSIBLE_COLLECTIONS_PATH') or os.pathsep.join(sys.path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([collections] + sys.path))
    out = subprocess.run([sys.executable, '-c', CHILD], capture_output=True, text=True, env=env, timeout=60,
                         check=False)
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout)
    held = int(1.0 / counts['tick']) + 2  # one iteration per tick, and the timer fires once per iteration at most
    assert counts['before'] >= 10, counts  # a free loop fires a 10 ms timer about 50 times in 0.5 s
    assert counts['paused_later'] - counts['paused'] <= held, counts  # held: about 4 in 1 s, not about 100
    assert counts['paused_later'] - counts['paused'] >= 2, counts  # but still ticking (keepalive's timer runs)
    assert counts['after_nested'] - counts['paused_later'] <= held // 2 + 1, counts  # the inner end keeps the hold
    assert counts['after'] >= counts['after_nested'] + 10, counts  # free again
