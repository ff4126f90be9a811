# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Load on the libvirt_events source: 100 guests defined, started and stopped twice and undefined by 4 threads
while the source runs (bench/events_load.py: the test driver of a private libvirtd of its own, never the shared
daemon). Every lifecycle event arrives exactly once and, per guest, in the order the calls were made. The
latency the script measures is printed, never asserted (bench/EVENTS.md has the numbers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', 'bench', 'events_load.py')


def test_every_lifecycle_event_once_and_in_order_per_guest():
    proc = subprocess.run([sys.executable, SCRIPT, '--guests', '100', '--rounds', '2', '--workers', '4', '--json'],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.stdout.strip(), proc.stderr
    result = json.loads(proc.stdout)
    assert result['errors'] == []
    assert result['expected_sequence'] == ['defined', 'started', 'stopped', 'started', 'stopped', 'undefined']
    assert result['events_expected'] == 600
    assert result['events_delivered'] == 600, 'lost or duplicated events'
    assert result['wrong_sequences'] == {}, 'events out of order or missing for some guests'
    assert proc.returncode == 0, proc.stderr
    print('libvirt_events latency (ms), call returned -> on the queue: %s' % result['latency_ms'])
