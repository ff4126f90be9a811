# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rulebooks and playbooks of docs/guides/events.md, run as written against qemu:///system.

The files are taken from the guide (each ```yaml block after a ``<!-- file: NAME -->`` line); only vars.yml is the
test's own (its guest, its directories). What the guide says it cannot test here, it says why, in its last
section.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import libvirt
import pytest
import yaml

from conftest import QEMU_URI, run_module, unique_name
from day2_guest import guest_with_disks
from second_daemon import second_daemon
from utils.guest import tiny_guest_xml
from utils.rulebook import Rulebook, tool

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '.build', 'collections'))
from ansible_collections.sysvirt.libvirt.plugins.module_utils import _event_catalog  # noqa: E402

GUIDE = os.path.join(os.path.dirname(__file__), '..', '..', 'docs', 'guides', 'events.md')
IMAGES = '/var/lib/libvirt/images'
FILE_BLOCK = re.compile(r'<!-- file: (?P<name>[\w.-]+) -->\n```yaml\n(?P<text>.*?)\n```', re.S)


def guide_files():
    with open(GUIDE, encoding='utf-8') as handle:
        return dict((m.group('name'), m.group('text') + '\n') for m in FILE_BLOCK.finditer(handle.read()))


@pytest.fixture
def work(tmp_path):
    """The guide's files in a directory, with the test's vars.yml."""
    files = guide_files()
    assert {'inventory.yml', 'vars.yml', 'restart-crashed.yml', 'ioerror-alert.yml', 'alert-ioerror.yml',
            'jobs.yml', 'verify-backup.yml'} <= set(files), sorted(files)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    backups = os.path.join(IMAGES, unique_name('events-bk'))
    os.mkdir(backups, 0o755)
    alerts = tmp_path / 'alerts'
    alerts.mkdir()
    guide_vars = yaml.safe_load(files['vars.yml'])
    guide_vars.update(libvirt_uris=[QEMU_URI], watch_names=['sysvirt-test-events-*'], alert_dir=str(alerts),
                      backup_dir=backups)
    (tmp_path / 'vars.yml').write_text(yaml.safe_dump(guide_vars))
    yield tmp_path
    shutil.rmtree(backups, ignore_errors=True)


@pytest.fixture
def guest(qemu_conn):
    """A running TCG test guest with a 16 MiB qcow2 disk (vda), defined (persistent), removed afterwards."""
    name = unique_name('events')
    disk = os.path.join(IMAGES, name + '.qcow2')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', disk, '16M'], check=True)
    xml = tiny_guest_xml(name).replace('</devices>', "<disk type='file' device='disk'><driver name='qemu' "
                                       "type='qcow2'/><source file='%s'/><target dev='vda' bus='virtio'/></disk>"
                                       "</devices>" % disk)
    dom = qemu_conn.defineXML(xml)
    dom.create()
    yield dom
    try:
        if dom.isActive():
            dom.destroy()
        dom.undefine()
    except libvirt.libvirtError:
        pass
    os.remove(disk)


def started(work, name):
    rulebook = Rulebook(work, name)
    rulebook.wait_output('libvirt_events: watching %s' % QEMU_URI)
    return rulebook


def qemu_pid(name):
    with open('/run/libvirt/qemu/%s.pid' % name) as handle:
        return int(handle.read().strip())


def test_restart_crashed(work, guest):
    rulebook = started(work, 'restart-crashed.yml')
    try:
        before = qemu_pid(guest.name())
        os.kill(before, signal.SIGKILL)
        # Nothing else restarts it (a killed QEMU is not a guest crash for <on_crash>): the rule's action did.
        # libvirt starts QEMU paused and resumes it: wait for running, in a new QEMU process.
        rulebook.wait(lambda: guest.state()[0] == libvirt.VIR_DOMAIN_RUNNING and qemu_pid(guest.name()) != before,
                      'the guest to run again')
        assert 'sysvirt.libvirt.domain' in rulebook.output() or 'Module wrapper' in rulebook.output()
    finally:
        rulebook.stop()


def test_backup_finished(work, guest):
    backup_dir = yaml.safe_load((work / 'vars.yml').read_text())['backup_dir']
    image = os.path.join(backup_dir, guest.name() + '.qcow2')
    rulebook = started(work, 'jobs.yml')
    try:
        guest.backupBegin("<domainbackup mode='push'><disks><disk name='vda' type='file'><target file='%s'/>"
                          "<driver type='qcow2'/></disk></disks></domainbackup>" % image, None)
        rulebook.wait(lambda: os.path.exists(image + '.json') and os.path.getsize(image + '.json'),
                      'the backup record')
    finally:
        rulebook.stop()
    record = json.loads(open(image + '.json').read())
    assert record['guest'] == guest.name() and record['success'] is True
    with open(image, 'rb') as handle:
        assert record['sha256'] == hashlib.sha256(handle.read()).hexdigest()
    assert record['check']['check-errors'] == 0 and record['check']['filename'] == image
    assert record['bytes'] == 16 * 1024 * 1024


def test_alert_playbook_on_a_recorded_io_error(work, guest, qemu_conn):
    disk = os.path.join(IMAGES, guest.name() + '.qcow2')
    args = (disk, 'virtio-disk0', libvirt.VIR_DOMAIN_EVENT_IO_ERROR_PAUSE, 'enospc')
    data = _event_catalog.decode('domain', 'io_error_reason', args)
    event = _event_catalog.record(QEMU_URI, qemu_conn.getHostname(), 'domain', 'io_error_reason', guest.name(),
                                  guest.UUIDString(), data)
    (work / 'event.json').write_text(json.dumps(dict(ansible_eda=dict(event=event))))
    alerts = yaml.safe_load((work / 'vars.yml').read_text())['alert_dir']
    proc = subprocess.run([tool('ansible-playbook'), '-i', 'inventory.yml', 'alert-ioerror.yml', '-e', '@event.json',
                           '-e', 'alert_dir=%s' % alerts], cwd=str(work), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = os.listdir(alerts)
    assert len(written) == 1 and written[0].startswith(guest.name() + '-')
    alert = json.loads(open(os.path.join(alerts, written[0])).read())
    assert (alert['guest'], alert['disk'], alert['reason'], alert['state']) == (
        guest.name(), 'virtio-disk0', 'enospc', 'running')
    assert [d['target'] for d in alert['disks']] == ['vda']


# Every read of the image fails with EIO: QEMU's blkdebug driver, exported by qemu-nbd. The image holds data, not a
# hole: an NBD server answers a read of a hole without reading, so nothing would fail.
BLKDEBUG = ('driver=raw,file.driver=blkdebug,file.image.driver=file,file.image.filename=%s,'
            'file.inject-error.0.event=read_aio,file.inject-error.0.immediately=on')

FAILING_GUEST = """<domain type='qemu'>
  <name>%(name)s</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw' error_policy='stop' rerror_policy='stop'/>
      <source protocol='nbd' name='failing'><host transport='unix' socket='%(socket)s'/></source>
      <target dev='vda' bus='virtio'/>
    </disk>
    <memballoon model='none'/>
  </devices>
</domain>
"""


@pytest.fixture
def failing_guest(qemu_conn):
    """A defined (not started) TCG guest whose only disk fails every read. Started, its firmware (SeaBIOS) reads
    the boot sector and QEMU pauses the guest (rerror_policy='stop'): a real I/O-error pause, no guest OS needed."""
    name = unique_name('events')
    folder = tempfile.mkdtemp(prefix=name + '-', dir=IMAGES)
    os.chmod(folder, 0o755)
    image, socket = os.path.join(folder, 'disk.raw'), os.path.join(folder, 'nbd.sock')
    with open(image, 'wb') as handle:
        handle.write(os.urandom(1 << 20))
    # The export has a name: libvirt sends no I/O-error event for an NBD disk without one (its source path).
    nbd = subprocess.Popen(['qemu-nbd', '--persistent', '--export-name=failing', '--socket=' + socket,
                            '--image-opts', BLKDEBUG % image],
                           stdin=subprocess.DEVNULL)
    dom = None
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(socket) and nbd.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert os.path.exists(socket), 'qemu-nbd did not make its socket (exit status %s)' % nbd.poll()
        os.chmod(socket, 0o777)   # QEMU runs as libvirt-qemu
        dom = qemu_conn.defineXML(FAILING_GUEST % dict(name=name, socket=socket))
        yield dom
    finally:
        if dom is not None:
            with contextlib.suppress(libvirt.libvirtError):
                if dom.isActive():
                    dom.destroy()
                dom.undefine()
        nbd.terminate()
        nbd.wait(30)
        shutil.rmtree(folder, ignore_errors=True)


def test_ioerror_alert_rulebook(work, failing_guest):
    rulebook = started(work, 'ioerror-alert.yml')
    alerts = yaml.safe_load((work / 'vars.yml').read_text())['alert_dir']
    try:
        failing_guest.create()
        rulebook.wait(lambda: any(os.path.getsize(os.path.join(alerts, f)) for f in os.listdir(alerts)),
                      'the I/O-error alert')
    finally:
        rulebook.stop()
    written = os.listdir(alerts)
    assert len(written) == 1 and written[0].startswith(failing_guest.name() + '-'), written
    alert = json.loads(open(os.path.join(alerts, written[0])).read())
    state, reason = failing_guest.state()
    assert (state, reason) == (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_IOERROR)
    assert (alert['guest'], alert['disk'], alert['state']) == (failing_guest.name(), 'virtio-disk0', 'paused'), alert
    # libvirt's reason is 'enospc' for a full filesystem and empty for any other error.
    assert (alert['path'], alert['reason']) == ('failing', ''), alert
    assert [d['target'] for d in alert['disks']] == ['vda']


def test_migration_rule(work, qemu_conn):
    """jobs.yml's migration rule, watching a second libvirtd (second_daemon.py): a guest migrated there live gets
    autostart from the rule, which migration does not carry over."""
    with second_daemon() as destination:
        guide_vars = yaml.safe_load((work / 'vars.yml').read_text())
        guide_vars['libvirt_uris'] = [destination]
        (work / 'vars.yml').write_text(yaml.safe_dump(guide_vars))
        rulebook = Rulebook(work, 'jobs.yml')
        try:
            rulebook.wait_output('libvirt_events: watching %s' % destination)
            with guest_with_disks(qemu_conn, disks=(), kind='events-mig') as (name, dom, workdir, paths):
                result = run_module('domain_migrate', dict(uri=QEMU_URI, domain=name, destination=destination,
                                                           migration_uri='tcp://127.0.0.1'))
                assert not result.failed and result['changed'], result
                remote = libvirt.open(destination)
                try:
                    moved = remote.lookupByName(name)
                    assert moved.isPersistent() and moved.isActive()
                    rulebook.wait(lambda: moved.autostart() == 1, 'autostart on the destination')
                finally:
                    remote.close()
                assert 'sysvirt.libvirt.domain' in rulebook.output() or 'Module wrapper' in rulebook.output()
        finally:
            rulebook.stop()


def test_catch_up_reports_a_shut_off_autostart_guest(work, qemu_conn):
    name = unique_name('events')
    dom = qemu_conn.defineXML(tiny_guest_xml(name))
    try:
        dom.setAutostart(1)
        rulebook = Rulebook(work, 'catch-up.yml')
        try:
            rulebook.wait_output('%s should run but is shut off' % name)
        finally:
            rulebook.stop()
    finally:
        dom.undefine()
