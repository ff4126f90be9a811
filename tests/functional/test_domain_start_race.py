# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The domain module asked for ``running`` while another client starts the same guest (qemu:///system).

libvirt runs a starting guest's QEMU paused (reason "starting up") until it has set it up, then resumes it. A
run that read that state used to resume the guest itself and fail with "Failed to resume domain ...: domain is
already running" (two bulk benchmarks collided on it). The test starts a tiny no-OS guest with libvirt-python
in a thread, and runs the module as soon as libvirt shows the start-up: the module waits for that start, reports
no change of its own, and the guest runs. Unit tests (test_domain_race.py) cover the other orders of the race.
"""

from __future__ import annotations

import threading
import time

import libvirt
import pytest

from conftest import QEMU_URI, run_module, unique_name

TINY = ("<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
        "<devices><memballoon model='none'/></devices></domain>")
STARTING_UP = [libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_STARTING_UP]
ROUNDS = 2
ATTEMPTS = 6


@pytest.fixture
def guest(qemu_conn):
    name = unique_name('race')
    dom = qemu_conn.defineXML(TINY.format(name=name))
    yield dom
    if dom.isActive():
        dom.destroy()
    dom.undefine()


def start_elsewhere(dom):
    """Start the guest from another thread (another client); return the thread and what its start raised."""
    errors = []

    def start():
        try:
            dom.create()
        except libvirt.libvirtError as exc:
            errors.append(exc)
    thread = threading.Thread(target=start)
    thread.start()
    return thread, errors


def seen_starting_up(dom, thread):
    """Whether libvirt showed the guest starting up before the other client's start returned."""
    while thread.is_alive():
        if dom.state() == STARTING_UP:
            return True
        time.sleep(0.002)
    return False


def test_running_while_another_client_starts_the_guest(guest):
    hits = attempts = 0
    while hits < ROUNDS and attempts < ATTEMPTS:
        attempts += 1
        thread, errors = start_elsewhere(guest)
        if seen_starting_up(guest, thread):
            result = run_module('domain', dict(uri=QEMU_URI, name=guest.name(), state='running'))
            thread.join()
            assert not result.failed, result['msg']
            assert 'resume' not in result['actions'] and 'start' not in result['actions']
            assert result['domain']['state'] == 'running'
            hits += 1
        thread.join()
        assert errors == []
        assert guest.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        guest.destroy()
    assert hits == ROUNDS, 'libvirt showed the start-up in %d of %d starts only' % (hits, ATTEMPTS)
