# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_backup on qemu:///system with the running tiny guest and a qcow2 disk.

Data is written into the guest's disk while it runs, through QEMU's own block layer (HMP ``qemu-io`` on the
guest's virtio device: the same path a guest's writes take, so the dirty bitmaps of the checkpoints see it). Every
point of a backup chain is restored with ``qemu-img convert`` and compared by checksum with the disk as it was
written; the Linux guest's version of the proof (data written inside the guest) is test_backup_linux.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

from conftest import QEMU_URI, run_module
from day2_guest import guest_with_disks
from utils.guest import free_loopback_port

MIB = 1024 * 1024
SIZE = 64 * MIB


def virsh(*args):
    return subprocess.run(['virsh', '-c', QEMU_URI] + list(args), check=True, capture_output=True,
                          text=True).stdout.strip()


def write(guest_name, pattern, offset, length):
    """Write ``pattern`` (a byte) at ``offset`` of the guest's vda, through QEMU (as the guest's writes go)."""
    out = virsh('qemu-monitor-command', guest_name, '--hmp',
                'qemu-io -d /machine/peripheral/virtio-disk0/virtio-backend "write -P 0x%02x %d %d"'
                % (pattern, offset, length))
    assert 'error' not in out.lower(), out


class Model:
    """What the disk must hold: a bytearray with the same writes applied."""

    def __init__(self):
        self.data = bytearray(SIZE)

    def write(self, guest_name, pattern, offset, length):
        write(guest_name, pattern, offset, length)
        self.data[offset:offset + length] = bytes([pattern]) * length

    def digest(self):
        return hashlib.sha256(bytes(self.data)).hexdigest()


def restored_digest(image, workdir):
    """Restore ``image`` (with its backing chain) into a new raw disk with qemu-img; its sha256."""
    out = os.path.join(workdir, 'restore-%s.raw' % hashlib.md5(image.encode()).hexdigest()[:8])
    subprocess.run(['qemu-img', 'convert', '-U', '-O', 'raw', image, out], check=True, capture_output=True)
    try:
        with open(out, 'rb') as f:
            return hashlib.sha256(f.read()).hexdigest()
    finally:
        os.unlink(out)


def backup(guest_name, check=False, **args):
    return run_module('domain_backup', dict(args, domain=guest_name, uri=QEMU_URI), check_mode=check, diff=True)


def four_runs(guest_name, **args):
    results = [backup(guest_name, check=c, **args) for c in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions']
    return results


def checkpoints(guest_name):
    return sorted(virsh('checkpoint-list', guest_name, '--name').split())


@pytest.fixture
def guest(qemu_conn):
    with guest_with_disks(qemu_conn, disks=(('vda', 'qcow2', '64M'),), kind='bkguest') as (name, dom, workdir, paths):
        root = tempfile.mkdtemp(prefix='sysvirt-test-backup-')
        os.chmod(root, 0o755)
        try:
            yield name, dom, paths, root
        finally:
            subprocess.run(['chattr', '-R', '-i', root], capture_output=True, check=False)
            shutil.rmtree(root, ignore_errors=True)


def test_full_and_two_incrementals_restore_every_point(guest):
    name, dom, paths, root = guest
    model = Model()
    model.write(name, 0x11, 0, MIB)
    model.write(name, 0x12, 40 * MIB, 3 * MIB)
    point0 = model.digest()
    results = four_runs(name, directory=os.path.join(root, 'b0-full'), checkpoint='c0')
    full = results[1]['backup']
    assert full['kind'] == 'full' and full['checkpoint'] == 'c0' and full['seconds'] > 0
    assert full['bytes'] >= 4 * MIB and full['total_bytes'] == SIZE, full
    assert results[0]['backup']['bytes'] is None and results[3]['backup'] == full
    model.write(name, 0x21, 2 * MIB, MIB)
    model.write(name, 0x22, 0, 512 * 1024)
    point1 = model.digest()
    inc1 = four_runs(name, directory=os.path.join(root, 'b1'), incremental='c0', checkpoint='c1')[1]['backup']
    model.write(name, 0x31, 60 * MIB, 2 * MIB)
    point2 = model.digest()
    inc2 = four_runs(name, directory=os.path.join(root, 'b2'), incremental='c1', checkpoint='c2')[1]['backup']
    assert inc1['kind'] == 'incremental' and inc1['since'] == 'c0'
    # only the changed blocks were copied (the 64 KiB clusters of 1.5 MiB written), far less than the full backup
    assert 0 < inc1['bytes'] <= 2 * MIB and 0 < inc2['bytes'] <= 3 * MIB, (inc1, inc2)
    assert inc2['disks'][0]['backing'] == inc1['disks'][0]['file'] == os.path.join(root, 'b1', 'vda.qcow2')
    # each backup, restored with qemu-img, is the disk at its point; the guest's disk itself is at the last point
    assert restored_digest(full['disks'][0]['file'], root) == point0
    assert restored_digest(inc1['disks'][0]['file'], root) == point1
    assert restored_digest(inc2['disks'][0]['file'], root) == point2
    assert restored_digest(paths['vda'], root) == point2
    assert len({point0, point1, point2}) == 3
    assert checkpoints(name) == ['c0', 'c1', 'c2'] and virsh('checkpoint-parent', name, 'c2') == 'c1'
    with open(os.path.join(root, 'b2', 'backup.json')) as f:
        assert json.load(f)['since'] == 'c1'


def test_retention_keeps_what_a_kept_backup_needs(guest):
    name, dom, paths, root = guest
    write(name, 0x41, 0, MIB)
    assert backup(name, directory=os.path.join(root, '1-full'), checkpoint='r1')['changed']
    assert backup(name, directory=os.path.join(root, '2-inc'), incremental='r1', checkpoint='r2')['changed']
    # keep 1: the newest is incremental, it needs the full one: nothing is deleted
    results = four_runs(name, directory=os.path.join(root, '3-inc'), incremental='r2', checkpoint='r3',
                        retention=dict(keep=1))
    assert results[1]['deleted'] == [] and sorted(os.listdir(root)) == ['1-full', '2-inc', '3-inc']
    # a new full backup, then keep 2: the new full and its incremental stay, the old chain goes with its checkpoints
    assert backup(name, directory=os.path.join(root, '4-full'), checkpoint='r4')['changed']
    results = four_runs(name, directory=os.path.join(root, '5-inc'), incremental='r4', checkpoint='r5',
                        retention=dict(keep=2))
    assert results[0]['deleted'] == results[1]['deleted'] == [os.path.join(root, d) for d in ('1-full', '2-inc',
                                                                                              '3-inc')]
    assert results[1]['deleted_checkpoints'] == ['r1', 'r2', 'r3']
    assert sorted(os.listdir(root)) == ['4-full', '5-inc']
    assert checkpoints(name) == ['r4', 'r5']
    assert restored_digest(os.path.join(root, '5-inc', 'vda.qcow2'), root) == restored_digest(paths['vda'], root)


def test_timeout_aborts_and_leaves_nothing(guest):
    name, dom, paths, root = guest
    for i in range(4):
        write(name, 0x50 + i, i * 16 * MIB, 16 * MIB)
    target = os.path.join(root, 'slow')
    result = backup(name, directory=target, checkpoint='t1', timeout=0)
    assert result.failed and 'did not finish within 0 seconds' in result['msg'], result
    assert not result.get('changed')
    assert not os.path.exists(target) and checkpoints(name) == []
    # the guest is fine and backs up afterwards
    assert backup(name, directory=target, checkpoint='t1')['changed']


def test_clean_errors(guest, qemu_conn):
    name, dom, paths, root = guest
    assert backup(name, directory=os.path.join(root, 'ok'), checkpoint='e1')['changed']
    # a checkpoint name that exists
    result = backup(name, directory=os.path.join(root, 'again'), checkpoint='e1')
    assert result.failed and 'Checkpoint e1' in result['msg'] and 'exists already' in result['msg'], result
    assert not os.path.exists(os.path.join(root, 'again')) and checkpoints(name) == ['e1']
    # a directory that is not writable (immutable)
    locked = os.path.join(root, 'locked')
    os.mkdir(locked)
    subprocess.run(['chattr', '+i', locked], check=True)
    result = backup(name, directory=locked, checkpoint='e2')
    assert result.failed and 'not writable' in result['msg'], result
    assert os.listdir(locked) == [] and checkpoints(name) == ['e1']
    # an incremental from a checkpoint that does not exist
    result = backup(name, directory=os.path.join(root, 'x'), incremental='nope')
    assert result.failed and 'Checkpoint nope' in result['msg'] and not os.path.exists(os.path.join(root, 'x'))
    # a stopped guest
    dom.destroy()
    result = backup(name, directory=os.path.join(root, 'stopped'), checkpoint='e3')
    assert result.failed and 'is not running' in result['msg'] and result['hint'], result
    assert not os.path.exists(os.path.join(root, 'stopped')) and checkpoints(name) == ['e1']


def test_pull_export_over_nbd(guest):
    name, dom, paths, root = guest
    write(name, 0x61, 5 * MIB, 2 * MIB)
    # QEMU (user libvirt-qemu) makes the socket: its directory must be QEMU's to write
    sockdir = os.path.join(root, 'sock')
    os.mkdir(sockdir, 0o750)
    qemu = pwd.getpwnam('libvirt-qemu')
    os.chown(sockdir, qemu.pw_uid, qemu.pw_gid)
    sock = os.path.join(sockdir, 'nbd.sock')
    args = dict(mode='pull', nbd=dict(socket=sock), scratch_directory=root, checkpoint='p1')
    results = four_runs(name, **args)
    export = results[1]['export']
    assert export['transport'] == 'unix' and export['socket'] == sock and export['disks'][0]['export'] == 'vda'
    assert 'Backup' in virsh('domjobinfo', name) and os.path.exists(export['disks'][0]['scratch'])
    # read the export back over NBD and compare with the disk
    out = os.path.join(root, 'pulled.raw')
    subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'raw', 'nbd+unix:///vda?socket=%s' % sock, out],
                   check=True, capture_output=True)
    with open(out, 'rb') as f:
        pulled = hashlib.sha256(f.read()).hexdigest()
    os.unlink(out)
    assert pulled == restored_digest(paths['vda'], root)
    # end it: four runs again (the export ends once)
    results = four_runs(name, state='absent', **args)
    assert results[1]['export']['mode'] == 'pull'
    assert not os.path.exists(sock) and not os.path.exists(export['disks'][0]['scratch'])
    assert checkpoints(name) == ['p1']


def test_pull_export_on_a_loopback_port_incremental(guest):
    name, dom, paths, root = guest
    write(name, 0x71, 0, MIB)
    assert backup(name, directory=os.path.join(root, 'base'), checkpoint='q1')['changed']
    write(name, 0x72, 8 * MIB, MIB)
    port = free_loopback_port()
    result = backup(name, mode='pull', nbd=dict(host='127.0.0.1', port=port), incremental='q1',
                    scratch_directory=root)
    export = result['export']
    assert result['changed'] and export['transport'] == 'tcp' and export['port'] == port
    assert export['incremental'] == 'q1' and export['disks'][0]['bitmap'], export
    # the whole disk reads back over TCP (the bitmap tells a backup tool which blocks changed)
    out = os.path.join(root, 'pulled.raw')
    subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'raw', 'nbd://127.0.0.1:%d/vda' % port, out],
                   check=True, capture_output=True)
    with open(out, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest() == restored_digest(paths['vda'], root)
    os.unlink(out)
    ended = backup(name, mode='pull', nbd=dict(host='127.0.0.1', port=port), state='absent')
    assert ended['changed'] and ended['export']['port'] == port
    assert 'None' in virsh('domjobinfo', name) or 'none' in virsh('domjobinfo', name).lower()
