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
from day2_guest import dir_pool, guest_with_disks, restored_digest
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


def pool_volumes(pool):
    pool.refresh()
    return sorted(v.name() for v in pool.listAllVolumes())


def test_pool_target_full_incremental_retention_restore(guest, qemu_conn):
    name, dom, paths, root = guest
    model = Model()
    with dir_pool(qemu_conn, 'backup2-pool') as (pool_name, directory, pool):
        model.write(name, 0x81, 0, MIB)
        model.write(name, 0x82, 50 * MIB, 2 * MIB)
        point0 = model.digest()
        results = four_runs(name, pool=pool_name, name='n0', checkpoint='v0', format='qcow2')
        full = results[1]['backup']
        assert full['pool'] == pool_name and full['name'] == 'n0' and full['directory'] is None
        assert full['disks'][0]['volume'] == 'n0.vda.qcow2' and results[3]['backup'] == full
        assert results[0]['backup']['disks'] == full['disks']  # check mode predicted the volume's path
        assert pool_volumes(pool) == ['n0.backup.json', 'n0.vda.qcow2']
        assert pool.storageVolLookupByName('n0.vda.qcow2').info()[1] == SIZE  # sized from the disk
        model.write(name, 0x83, 3 * MIB, MIB)
        point1 = model.digest()
        inc = four_runs(name, pool=pool_name, name='n1', incremental='v0', checkpoint='v1')[1]['backup']
        assert inc['kind'] == 'incremental' and 0 < inc['bytes'] <= 2 * MIB, inc
        assert inc['disks'][0]['backing'] == full['disks'][0]['file'] == os.path.join(directory, 'n0.vda.qcow2')
        assert restored_digest(full['disks'][0]['file'], root) == point0
        assert restored_digest(inc['disks'][0]['file'], root) == point1 == restored_digest(paths['vda'], root)
        # a raw full backup, then retention keep 1: the raw one is full and needs nothing, the chain n0 <- n1 goes
        results = four_runs(name, pool=pool_name, name='n2', checkpoint='v2', format='raw', retention=dict(keep=1))
        assert results[0]['deleted'] == results[1]['deleted'] == ['%s/n0' % pool_name, '%s/n1' % pool_name]
        assert results[1]['deleted_checkpoints'] == ['v0', 'v1'] and checkpoints(name) == ['v2']
        assert pool_volumes(pool) == ['n2.backup.json', 'n2.vda.raw']
        assert restored_digest(results[1]['backup']['disks'][0]['file'], root) == point1


def test_pool_target_timeout_and_errors(guest, qemu_conn):
    name, dom, paths, root = guest
    for i in range(4):
        write(name, 0x90 + i, i * 16 * MIB, 16 * MIB)
    with dir_pool(qemu_conn, 'backup2-pool') as (pool_name, directory, pool):
        result = backup(name, pool=pool_name, name='slow', checkpoint='w1', timeout=0)
        assert result.failed and 'did not finish within 0 seconds' in result['msg'], result
        assert 'volumes' in result['msg'] and not result.get('changed')
        assert pool_volumes(pool) == [] and checkpoints(name) == []
        # a volume of that name without a manifest: refused before any change
        pool.createXML("<volume><name>left.vda.qcow2</name><capacity>1048576</capacity>"
                       "<target><format type='qcow2'/></target></volume>", 0)
        result = backup(name, pool=pool_name, name='left', checkpoint='w2')
        assert result.failed and 'left.vda.qcow2 exists, but no complete backup' in result['msg'], result
        assert pool_volumes(pool) == ['left.vda.qcow2'] and checkpoints(name) == []
        # an inactive pool, then a missing one: clean errors, in check mode too
        pool.destroy()
        for check in (True, False):
            result = backup(name, check=check, pool=pool_name, name='x', checkpoint='w3')
            assert result.failed and 'is not active' in result['msg'] and result['hint'], result
        pool.create()
        result = backup(name, pool='sysvirt-test-backup2-nopool', name='x', checkpoint='w3')
        assert result.failed and 'Storage pool sysvirt-test-backup2-nopool not found' in result['msg'], result
        result = backup(name, mode='pull', nbd=dict(port=free_loopback_port()), pool=pool_name, name='x')
        assert result.failed and 'pool is where a push backup writes' in result['msg'], result
        assert checkpoints(name) == [] and pool_volumes(pool) == ['left.vda.qcow2']
        assert 'none' in virsh('domjobinfo', name).lower()
        # the guest backs up into the pool afterwards
        assert backup(name, pool=pool_name, name='slow', checkpoint='w1')['changed']


def test_pull_retention_keeps_the_newest_and_what_the_export_needs(guest):
    name, dom, paths, root = guest
    port = free_loopback_port()
    nbd = dict(host='127.0.0.1', port=port)

    def export(check=False, **args):
        return backup(name, check=check, mode='pull', nbd=nbd, scratch_directory=root, **args)

    for cp in ('pr1', 'pr2'):
        assert export(checkpoint=cp)['changed'] and export(state='absent')['changed']
    assert backup(name, directory=os.path.join(root, 'other'), checkpoint='other')['changed']
    assert checkpoints(name) == ['other', 'pr1', 'pr2']
    # an incremental export since pr2, keep 1: pr3 is the newest, pr2 is what the running export needs
    args = dict(incremental='pr2', checkpoint='pr3', retention=dict(keep=1, prefix='pr'))
    results = [export(check=c, **args) for c in (True, False, True, False)]
    assert [r['changed'] for r in results] == [True, True, False, False], results
    assert results[0]['deleted_checkpoints'] == results[1]['deleted_checkpoints'] == ['pr1']
    assert results[0]['actions'] == results[1]['actions'] and results[3]['deleted_checkpoints'] == []
    assert checkpoints(name) == ['other', 'pr2', 'pr3'] and results[3]['export']['incremental'] == 'pr2'
    assert export(state='absent')['changed']
    # once that export has ended, pr2 is not needed any more: a full export with pr4, keep 2
    args = dict(checkpoint='pr4', retention=dict(keep=2, prefix='pr'))
    results = [export(check=c, **args) for c in (True, False, True, False)]
    assert [r['changed'] for r in results] == [True, True, False, False], results
    assert results[0]['deleted_checkpoints'] == results[1]['deleted_checkpoints'] == ['pr2']
    assert checkpoints(name) == ['other', 'pr3', 'pr4']
    assert export(state='absent')['changed']
    # the chain stays whole: an incremental push backup since pr3 restores to the disk
    write(name, 0xa1, 9 * MIB, MIB)
    inc = backup(name, directory=os.path.join(root, 'since-pr3'), incremental='pr3')
    assert inc['changed'] and 0 < inc['backup']['bytes'] <= 2 * MIB, inc
