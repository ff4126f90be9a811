# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A live migration watched through domain_job_info, and aborted with domain_job.

The running tiny guest migrates from qemu:///system to a second libvirtd (second_daemon.py) over 127.0.0.1, with
its bandwidth held at 1 MiB/s so that the job runs for seconds (the guest's kernel and initramfs alone are more
than 10 MiB of memory to move). While it runs, domain_job_info reads the job twice: type, operation, progress,
data processed/remaining, elapsed time and the expected downtime, and the second read is further on than the
first. Then domain_job aborts it: the guest runs on, on the source, and the destination has no guest.
"""

from __future__ import annotations

import threading
import time

import libvirt
import pytest

from conftest import QEMU_URI, run_module
from day2_guest import guest_with_disks
from second_daemon import second_daemon

MIB = 1024 * 1024


def job_info(name):
    result = run_module('domain_job_info', dict(domain=name, uri=QEMU_URI))
    assert not result.failed and not result['changed'], result
    assert [j['domain'] for j in result['jobs']] == [name]
    return result['jobs'][0]


def read_running_job(name, deadline):
    """The first job that shows migration progress (memory moved and an expected downtime), read while it runs."""
    while time.monotonic() < deadline:
        job = job_info(name)['job']
        if job['active'] and job['data_processed'] and job['downtime_ms'] is not None:
            return job
        time.sleep(0.3)
    raise AssertionError('no running migration job with progress was seen: %r' % (job,))


@pytest.fixture
def migrating(qemu_conn):
    """A guest migrating slowly in a thread; yields (name, destination URI, the thread's outcome)."""
    with second_daemon() as destination, guest_with_disks(qemu_conn, disks=(), kind='backup2-migjob') as guest:
        name, dom = guest[0], guest[1]
        outcome = {}

        def migrate():
            params = {libvirt.VIR_MIGRATE_PARAM_URI: 'tcp://127.0.0.1', libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 1}
            try:
                dom.migrateToURI3(destination, params, libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER)
                outcome['done'] = True
            except libvirt.libvirtError as e:
                outcome['error'] = str(e)

        thread = threading.Thread(target=migrate, daemon=True)
        thread.start()
        try:
            yield name, destination, outcome
        finally:
            if thread.is_alive():
                try:
                    dom.abortJob()
                except libvirt.libvirtError:
                    pass
            thread.join(60)
            assert not thread.is_alive(), 'the migration thread did not end'


def test_running_migration_in_domain_job_info_then_aborted(migrating, qemu_conn):
    name, destination, outcome = migrating
    first = read_running_job(name, time.monotonic() + 60)
    assert first['type'] == 'unbounded' and first['operation'] == 'migration_out', first
    assert first['memory_total'] >= 64 * MIB and first['data_total'] >= first['memory_total'], first
    assert 0 < first['data_processed'] < first['data_total'], first
    assert first['data_remaining'] > 0 and first['data_remaining'] <= first['data_total'], first
    assert 0 <= first['progress'] < 100 and first['elapsed_ms'] > 0, first
    assert first['downtime_ms'] >= 0 and first['stats']['type'] == libvirt.VIR_DOMAIN_JOB_UNBOUNDED, first
    time.sleep(1.5)
    second = job_info(name)['job']
    assert second['active'] and second['operation'] == 'migration_out', second
    assert second['elapsed_ms'] >= first['elapsed_ms'] + 1000, (first, second)
    assert second['data_processed'] > first['data_processed'], (first, second)
    # at 1 MiB/s, 1.5 s move about 1.5 MiB: the limit holds (with room for the zero pages' headers)
    assert second['memory_processed'] - first['memory_processed'] < 8 * MIB, (first, second)
    aborted = run_module('domain_job', dict(domain=name, state='aborted', uri=QEMU_URI))
    assert not aborted.failed and aborted['changed'], aborted
    assert aborted['aborted']['operation'] == 'migration_out', aborted
    deadline = time.monotonic() + 60
    while not outcome and time.monotonic() < deadline:
        time.sleep(0.2)
    assert 'error' in outcome and 'cancel' in outcome['error'].lower(), outcome
    after = job_info(name)
    assert after['active'] and after['job']['type'] == 'none', after
    assert qemu_conn.lookupByName(name).isActive()
    dest = libvirt.open(destination)
    try:
        assert [d.name() for d in dest.listAllDomains(0)] == []
    finally:
        dest.close()
