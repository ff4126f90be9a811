# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_backup on the real Linux test guest (tests/utils/linux_guest.py, one boot per session): data written
inside the guest over SSH, a full backup, more data, two incremental backups; every point restored into a new
disk with qemu-img and proven by checksums to hold exactly the data written up to it; once with the backups in
directories, once in volumes of a storage pool.

A 32 MiB qcow2 data disk is hot-plugged into the shared guest for the test (the guest's root disk is not
touched) and detached afterwards; only that disk is backed up.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import subprocess
import tempfile
import time

import libvirt
import pytest

from conftest import QEMU_URI, run_module
from day2_guest import dir_pool, restored_digest
from utils.linux_guest import WORK_DIR

MIB = 1024 * 1024
SIZE = 32 * MIB
SERIAL = 'sysvirtbackup'
DEVICE = '/dev/disk/by-id/virtio-%s' % SERIAL


def backup(guest, check=False, **args):
    return run_module('domain_backup', dict(args, domain=guest.name, uri=QEMU_URI), check_mode=check)


def disk_xml(path):
    return ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='%s'/>"
            "<target dev='vdc' bus='virtio'/><serial>%s</serial></disk>" % (path, SERIAL))


@pytest.fixture
def data_disk(linux_guest, qemu_conn):
    dom = qemu_conn.lookupByName(linux_guest.name)
    path = os.path.join(WORK_DIR, '%s-backupdata.qcow2' % linux_guest.name)
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path, str(SIZE)], check=True)
    root = tempfile.mkdtemp(prefix='sysvirt-test-backup-linux-')
    os.chmod(root, 0o755)
    try:
        dom.attachDeviceFlags(disk_xml(path), libvirt.VIR_DOMAIN_AFFECT_LIVE)
        deadline = time.monotonic() + 60
        while linux_guest.ssh('test', '-b', DEVICE, timeout=30).returncode != 0:
            assert time.monotonic() < deadline, 'the hot-plugged disk did not show up in the guest'
            time.sleep(1)
        yield dom, path, root
    finally:
        for cp in dom.listAllCheckpoints(libvirt.VIR_DOMAIN_CHECKPOINT_LIST_ROOTS):
            cp.delete(libvirt.VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN)
        try:
            dom.detachDeviceFlags(disk_xml(path), libvirt.VIR_DOMAIN_AFFECT_LIVE)
        except libvirt.libvirtError:
            pass
        deadline = time.monotonic() + 60
        while 'vdc' in dom.XMLDesc(0) and time.monotonic() < deadline:
            time.sleep(0.5)
        if os.path.exists(path):
            os.unlink(path)
        shutil.rmtree(root, ignore_errors=True)


def write_in_guest(guest, model, offset, data):
    """dd ``data`` at ``offset`` of the data disk, inside the guest, direct and synced; the model follows. ssh's own
    failure (255: the TCG guest did not answer within ssh's ConnectTimeout, on a loaded machine) is tried again, at
    most three times; the write is the same each time."""
    for _attempt in range(3):
        result = subprocess.run(guest.ssh_argv('sudo', 'dd', 'of=%s' % DEVICE, 'bs=64K',
                                               'seek=%d' % (offset // 65536), 'oflag=direct', 'conv=fsync,notrunc',
                                               'status=none'),
                                input=data, capture_output=True, timeout=120, check=False)
        if result.returncode != 255:
            break
    assert result.returncode == 0, result.stderr
    model[offset:offset + len(data)] = data


@contextlib.contextmanager
def backup_place(target, conn, root):
    """Yield a function of a backup's name to the options that put it there: a directory under ``root``, or a name
    in a directory pool made for the test (removed afterwards with its volumes)."""
    if target == 'directory':
        yield lambda name: dict(directory=os.path.join(root, name))
        return
    with dir_pool(conn, 'backup2-linux') as (pool_name, _directory, _pool):
        yield lambda name: dict(pool=pool_name, name=name)


@pytest.mark.parametrize('target', ['directory', 'pool'])
def test_linux_guest_full_then_two_incrementals_restore_every_point(linux_guest, data_disk, qemu_conn, target):
    dom, path, root = data_disk
    rng = random.Random(19)
    model = bytearray(SIZE)
    points = []
    steps = [
        ('full', [(0, 2 * MIB), (20 * MIB, MIB)], dict(checkpoint='lx0')),
        ('inc1', [(MIB, 2 * MIB), (30 * MIB, 64 * 1024)], dict(incremental='lx0', checkpoint='lx1')),
        ('inc2', [(0, 256 * 1024), (10 * MIB, 3 * MIB)], dict(incremental='lx1', checkpoint='lx2')),
    ]
    with backup_place(target, qemu_conn, root) as place:
        for name, writes, options in steps:
            for offset, length in writes:
                write_in_guest(linux_guest, model, offset, rng.randbytes(length))
            result = backup(linux_guest, disks=[dict(name='vdc')], **dict(options, **place(name)))
            assert result['changed'] and not result.failed, result
            points.append((result['backup'], hashlib.sha256(bytes(model)).hexdigest()))
        # what was written inside the guest is on the disk
        assert restored_digest(path, root) == points[-1][1]
        for made, digest in points:
            assert made['disks'][0]['name'] == 'vdc' and len(made['disks']) == 1
            assert (made['pool'] is None) == (target == 'directory'), made
            assert restored_digest(made['disks'][0]['file'], root) == digest, made['disks']
    assert len(set(d for _m, d in points)) == 3
    assert points[1][0]['kind'] == 'incremental' and points[1][0]['bytes'] < points[0][0]['bytes']
