# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_job and domain_job_info on qemu:///system with the running tiny guest (TCG).

A long job: a core dump of the guest's state into a FIFO that the test reads slowly (the reader sets the pace),
observed with domain_job_info, waited on and aborted with domain_job. Core dumps in each format QEMU 7.2 offers,
checked with file(1) and readelf; a save / restore round trip; the managed save image; a block job's speed.
Four runs (check, real, check, real) for every idempotent change; clean errors leave nothing behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time

import libvirt
import pytest

from conftest import QEMU_URI, run_module, unique_name
from day2_guest import DISK, cleanup_domain, make_image
from utils.guest import MARKER_UP, tiny_guest_xml, wait_for_console


def job(name, check=False, **args):
    return run_module('domain_job', dict(args, domain=name, uri=QEMU_URI), check_mode=check)


def info(name, **args):
    result = run_module('domain_job_info', dict(args, domain=name, uri=QEMU_URI))
    assert not result.failed, result
    return result['jobs'][0]


def four_runs(name, **args):
    results = [job(name, check=c, **args) for c in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions'] and results[1]['actions']
    return results


def file_says(path):
    return subprocess.run(['file', '-b', path], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def guest(qemu_conn):
    """The tiny guest running (256 MiB) with a 32 MiB qcow2 vda holding 8 MiB of data; its work directory."""
    name = unique_name('jobguest')
    workdir = tempfile.mkdtemp(prefix='sysvirt-test-job-')
    os.chmod(workdir, 0o777)
    try:
        disk = make_image(os.path.join(workdir, 'vda.qcow2'), 'qcow2', '32M')
        subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x5a 0 8M', disk], check=True, capture_output=True)
        xml = tiny_guest_xml(name, memory_mib=256, serial_log=os.path.join(workdir, 'serial.log'))
        xml = xml.replace('  </devices>', DISK.format(fmt='qcow2', path=disk, dev='vda', bus='virtio') + '  </devices>')
        dom = qemu_conn.defineXML(xml)
        dom.create()
        wait_for_console(os.path.join(workdir, 'serial.log'), MARKER_UP, timeout=90)
        yield name, dom, workdir
    finally:
        cleanup_domain(qemu_conn, name)
        shutil.rmtree(workdir, ignore_errors=True)


class SlowReader:
    """Reads a FIFO in 256 KiB pieces, pausing between them until ``fast`` is set: it sets a dump's pace."""

    def __init__(self, path):
        os.mkfifo(path)
        os.chmod(path, 0o666)
        self.path = path
        self.fast = threading.Event()
        self.read = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        with open(self.path, 'rb') as fifo:
            while True:
                chunk = fifo.read(256 * 1024)
                if not chunk:
                    return
                self.read += len(chunk)
                if not self.fast.is_set():
                    time.sleep(0.05)


def dump_in_background(dom, path):
    """Start a core dump of the guest's whole state (as another task would), in a thread; its outcome dict."""
    outcome = {}

    def work():
        try:
            dom.coreDump(path, 0)
            outcome['done'] = True
        except libvirt.libvirtError as e:
            outcome['error'] = e.get_error_message()
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    outcome['thread'] = thread
    deadline = time.monotonic() + 30
    while not dom.jobStats().get('type') and time.monotonic() < deadline:
        time.sleep(0.1)
    return outcome


def test_long_job_observed_waited_and_aborted(guest):
    name, dom, workdir = guest
    assert info(name)['job']['type'] == 'none'
    # No job: nothing to abort, nothing to wait for.
    for check in (True, False):
        result = job(name, check=check, state='aborted')
        assert not result['changed'] and result['actions'] == [] and 'aborted' not in result
    assert job(name, state='finished', timeout=5)['waited'] < 5

    reader = SlowReader(os.path.join(workdir, 'dump.fifo'))
    running = dump_in_background(dom, reader.path)
    seen = info(name)['job']
    assert seen['active'] and seen['operation'] == 'dump' and seen['type'] in ('bounded', 'unbounded'), seen
    time.sleep(1.5)
    later = info(name)['job']
    assert later['data_processed'] > seen['data_processed'] and later['elapsed_ms'] > seen['elapsed_ms']
    assert 0 < later['progress'] < 100 and later['data_remaining'] > 0
    listed = run_module('domain_job_info', dict(uri=QEMU_URI, running_only=True))['jobs']
    assert name in [entry['domain'] for entry in listed]

    # A wait that times out fails cleanly and leaves the job running.
    result = job(name, state='finished', timeout=2)
    assert result.failed and 'still runs after 2 seconds' in result['msg'] and result['hint']
    assert info(name)['job']['active']
    # Check mode predicts the abort and leaves the job alone; the real run aborts it; then nothing to abort.
    predicted = job(name, check=True, state='aborted')
    assert predicted['changed'] and predicted['aborted']['operation'] == 'dump' and info(name)['job']['active']
    aborted = job(name, state='aborted')
    assert aborted['changed'] and aborted['actions'] == predicted['actions'] == [
        'abort the dump job of %s' % name]
    assert aborted['job']['job']['type'] == 'none'
    running['thread'].join(30)
    assert 'canceled' in running.get('error', ''), running
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert not job(name, state='aborted')['changed']
    reader.fast.set()

    # A job that ends: the wait sees it end through the job's own events and re-reads.
    reader2 = SlowReader(os.path.join(workdir, 'dump2.fifo'))
    running = dump_in_background(dom, reader2.path)
    threading.Timer(2.0, reader2.fast.set).start()
    waited = job(name, state='finished', timeout=120)
    assert not waited.failed and not waited['changed'] and waited['waited'] >= 1.0, waited
    assert waited['completed']['operation'] == 'dump' and waited['completed']['type'] == 'completed'
    assert waited['completed']['data_processed'] > 0
    running['thread'].join(30)
    assert running.get('done'), running


def test_dump_timeout_aborts_and_leaves_guest_running(guest):
    name, dom, workdir = guest
    reader = SlowReader(os.path.join(workdir, 'slow.fifo'))
    result = job(name, dump=dict(path=reader.path, force=True), timeout=3)
    reader.fast.set()
    assert result.failed and 'did not finish within 3 seconds and was aborted' in result['msg'], result
    assert not result.get('changed')
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING and info(name)['job']['type'] == 'none'


def test_core_dump_formats(guest):
    name, dom, workdir = guest
    elf = os.path.join(workdir, 'memory.elf')
    results = four_runs(name, dump=dict(path=elf, memory_only=True))
    assert results[1]['dump']['size'] == os.path.getsize(elf) > 256 * 1024 * 1024
    assert 'ELF 64-bit LSB core file, x86-64' in file_says(elf)
    notes = subprocess.run(['readelf', '-n', elf], check=True, capture_output=True, text=True).stdout
    assert 'CORE' in notes and 'NT_PRSTATUS' in notes
    headers = subprocess.run(['readelf', '-l', elf], check=True, capture_output=True, text=True).stdout
    assert 'LOAD' in headers
    # force dumps again at every run
    again = job(name, dump=dict(path=elf, memory_only=True, force=True))
    assert again['changed'] and again['dump']['seconds'] > 0

    kdump = os.path.join(workdir, 'memory.kdump')
    four_runs(name, dump=dict(path=kdump, memory_only=True, format='kdump-zlib'))
    assert 'kdump compressed dump' in file_says(kdump)
    assert os.path.getsize(kdump) < os.path.getsize(elf)

    state = os.path.join(workdir, 'state.dump')
    result = job(name, dump=dict(path=state, live=True))
    assert result['changed'] and 'QEMU suspend to disk image' in file_says(state)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING


def test_dump_errors_leave_nothing(guest, qemu_conn):
    name, dom, workdir = guest
    path = os.path.join(workdir, 'never')
    result = job(name, dump=dict(path=path, format='kdump-zlib'))
    assert result.failed and 'needs dump.memory_only=true' in result['msg'] and not os.path.exists(path)
    for fmt in ('kdump-lzo', 'win-dmp'):  # not in Debian 12's QEMU / not a Windows guest
        result = job(name, dump=dict(path=path, memory_only=True, format=fmt))
        assert result.failed and 'Failed to core dump of %s' % name in result['msg'], result
        assert result['error']['code'] in (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_OPERATION_FAILED)
        assert not os.path.exists(path) and not result.get('changed')
    result = job(name, dump=dict(path='/nonexistent-sysvirt-dir/core', memory_only=True))
    assert result.failed and 'Failed to core dump' in result['msg'] and not result.get('changed')
    assert info(name)['job']['type'] == 'none' and dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    dom.destroy()
    result = job(name, dump=dict(path=path, memory_only=True))
    assert result.failed and 'is not running' in result['msg'] and result['hint'] and not os.path.exists(path)


def test_save_restore_round_trip(guest):
    name, dom, workdir = guest
    path = os.path.join(workdir, 'guest.save')
    results = four_runs(name, save=dict(path=path))
    assert results[1]['actions'] == ['save %s to %s (it stops)' % (name, path)]
    assert results[1]['save']['size'] == os.path.getsize(path) and results[3]['save']['path'] == path
    assert not dom.isActive() and results[3]['job']['active'] is False
    assert 'Suspend Image' in file_says(path)
    # The definition in the image, redefined (four runs) and read back by libvirt.
    saved_xml = dom.connect().saveImageGetXMLDesc(path, 0)
    wanted = saved_xml.replace('</name>', '</name>\n  <description>saved by sysvirt</description>', 1)
    redefined = four_runs(name, save=dict(path=path, xml=wanted))
    assert redefined[0]['differences'] and 'differences' not in redefined[2]
    assert '<description>saved by sysvirt</description>' in dom.connect().saveImageGetXMLDesc(path, 0)
    # Restored with the domain module; it runs again, the same guest.
    restored = run_module('domain', dict(name=name, uri=QEMU_URI, restore=path, state='running'))
    assert restored['changed'] and dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING, restored
    # Saved again over its own older image.
    assert job(name, save=dict(path=path, restore_state='paused'))['changed'] and not dom.isActive()
    assert run_module('domain', dict(name=name, uri=QEMU_URI, restore=path, state='paused'))['changed']
    assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED


def test_save_errors_leave_nothing(guest):
    name, dom, workdir = guest
    other = os.path.join(workdir, 'other.file')
    with open(other, 'w') as handle:
        handle.write('not an image')
    result = job(name, save=dict(path=other))
    assert result.failed and 'is no save image of %s' % name in result['msg'] and dom.isActive()
    assert open(other).read() == 'not an image'
    result = job(name, save=dict(path='/nonexistent-sysvirt-dir/guest.save'))
    assert result.failed and 'Failed to save of %s' % name in result['msg'] and not result.get('changed')
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING and info(name)['job']['type'] == 'none'
    # A save that outlasts its timeout is aborted: the guest runs on, no job is left.
    reader = SlowReader(os.path.join(workdir, 'save.fifo'))
    result = job(name, save=dict(path=reader.path, force=True), timeout=2)
    reader.fast.set()
    assert result.failed and 'did not finish within 2 seconds and was aborted' in result['msg'], result
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING and info(name)['job']['type'] == 'none'
    dom.destroy()
    path = os.path.join(workdir, 'missing.save')
    result = job(name, save=dict(path=path))
    assert result.failed and 'nothing to save' in result['msg'] and not os.path.exists(path)


def test_managed_save_image(guest):
    name, dom, workdir = guest
    result = job(name, managed_save=dict(state='present'))
    assert result.failed and 'has no managed save image' in result['msg']
    assert not job(name, managed_save=dict(state='absent'))['changed']
    dom.managedSave(0)
    seen = info(name, managed_save_xml=True)
    assert seen['managed_save'] and '<name>%s</name>' % name in seen['managed_save_xml']
    wanted = seen['managed_save_xml'].replace('</name>', '</name>\n  <title>managed</title>', 1)
    four_runs(name, managed_save=dict(xml=wanted))
    assert '<title>managed</title>' in dom.managedSaveGetXMLDesc(0)
    four_runs(name, managed_save=dict(state='absent'))
    assert not dom.hasManagedSaveImage(0) and info(name, managed_save_xml=True)['managed_save_xml'] is None


def test_block_job_speed_wait_abort(guest):
    name, dom, workdir = guest
    result = job(name, disk='vda', speed=5)
    assert result.failed and 'has no block job running' in result['msg'] and result['hint']
    dest = os.path.join(workdir, 'copy.qcow2')
    dom.blockCopy('vda', "<disk type='file'><source file='%s'/><driver type='qcow2'/></disk>" % dest,
                  {'bandwidth': 1024 * 1024}, libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB)
    try:
        running = info(name)['block_jobs']
        assert [(j['disk'], j['type'], j['bandwidth']) for j in running] == [('vda', 'copy', 1)], running
        four_runs(name, disk='vda', speed=2)
        assert dom.blockJobInfo('vda', 0)['bandwidth'] == 2
        result = job(name, disk='vda', state='finished', timeout=1)
        assert result.failed and 'block job on disk vda' in result['msg']
        results = four_runs(name, disk='vda', state='aborted')
        assert results[1]['aborted']['type'] == 'copy' and results[1]['job']['block_jobs'] == []
        assert dom.blockJobInfo('vda', 0) == {}
    finally:
        if dom.blockJobInfo('vda', 0):
            dom.blockJobAbort('vda', 0)
