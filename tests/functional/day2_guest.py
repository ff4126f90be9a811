# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tiny test guest with disks, for the day-2 functional tests (snapshots, devices, block jobs, agent).

``guest_with_disks(conn, disks)`` makes a temporary directory, creates the disk images in it with qemu-img,
defines and (optionally) starts the tiny guest with those disks, and removes the guest (with its snapshot
metadata), the images and the directory afterwards, also when the test fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile

import libvirt
import pytest

from conftest import unique_name
from utils.guest import GUEST_KERNEL, MARKER_UP, tiny_guest_xml, wait_for_console

DISK = """    <disk type='file' device='disk'>
      <driver name='qemu' type='{fmt}'/>
      <source file='{path}'/>
      <target dev='{dev}' bus='{bus}'/>
    </disk>
"""


def restored_digest(image, workdir):
    """Restore ``image`` (with its backing chain) into a new raw file in ``workdir`` with qemu-img: its SHA-256."""
    out = os.path.join(workdir, 'restore-%s.raw' % hashlib.md5(image.encode()).hexdigest()[:8])
    subprocess.run(['qemu-img', 'convert', '-U', '-O', 'raw', image, out], check=True, capture_output=True)
    try:
        with open(out, 'rb') as f:
            return hashlib.sha256(f.read()).hexdigest()
    finally:
        os.unlink(out)


def make_image(path, fmt='qcow2', size='16M', backing=None):
    cmd = ['qemu-img', 'create', '-q', '-f', fmt]
    if backing:
        cmd += ['-b', backing, '-F', 'qcow2']
    cmd += [path]
    if size:
        cmd.append(size)
    subprocess.run(cmd, check=True, capture_output=True)
    os.chmod(path, 0o666)
    return path


def guest_xml(name, workdir, disks, extra_devices=''):
    xml = tiny_guest_xml(name, serial_log=os.path.join(workdir, 'serial.log'))
    devices = ''.join(DISK.format(fmt=fmt, path=path, dev=dev, bus=bus) for dev, fmt, path, bus in disks)
    return xml.replace('  </devices>', devices + extra_devices + '  </devices>')


def cleanup_domain(conn, name):
    try:
        dom = conn.lookupByName(name)
    except libvirt.libvirtError:
        return
    try:
        if dom.isActive():
            dom.destroy()
    except libvirt.libvirtError:
        pass
    try:
        if dom.isPersistent():
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                              | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
                              | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    except libvirt.libvirtError:
        try:
            dom.undefine()  # a driver without those flags (the test driver)
        except libvirt.libvirtError:
            pass
    # the errors above are swallowed so that every step is tried; a guest that is still there is a leak
    try:
        conn.lookupByName(name)
    except libvirt.libvirtError:
        return
    raise AssertionError('could not remove the test guest %s' % name)


@contextlib.contextmanager
def guest_with_disks(conn, disks=(('vda', 'qcow2', '16M'),), start=True, wait_up=True, extra_devices='',
                     kind='guest'):
    """Yield (name, dom, workdir, {dev: path}); everything is removed afterwards."""
    if not os.path.exists(GUEST_KERNEL):
        pytest.fail('the tiny test guest is not built: run `bash scripts/build-test-guest.sh`', pytrace=False)
    name = unique_name(kind)
    workdir = tempfile.mkdtemp(prefix='sysvirt-test-')
    os.chmod(workdir, 0o755)
    paths = {}
    try:
        spec = []
        for dev, fmt, size in disks:
            path = make_image(os.path.join(workdir, '%s.%s' % (dev, fmt)), fmt, size)
            paths[dev] = path
            spec.append((dev, fmt, path, 'virtio' if dev.startswith('vd') else 'sata'))
        dom = conn.defineXML(guest_xml(name, workdir, spec, extra_devices))
        if start:
            dom.create()
            if wait_up:
                wait_for_console(os.path.join(workdir, 'serial.log'), MARKER_UP, timeout=60)
        yield name, dom, workdir, paths
    finally:
        cleanup_domain(conn, name)
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def dir_pool(conn, kind, images=()):
    """A started directory pool ``sysvirt-test-<kind>-<hex>`` in a new directory, with images made by qemu-img
    (``images``: (file name, format, size)); yields (pool name, directory, pool). The pool, its volumes (also those
    a test added) and the directory are removed afterwards, also when the test fails."""
    directory = tempfile.mkdtemp(prefix='sysvirt-test-')
    os.chmod(directory, 0o755)
    name = unique_name(kind)
    pool = conn.storagePoolDefineXML("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
                                     % (name, directory))
    try:
        pool.create()
        for file_name, fmt, size in images:
            make_image(os.path.join(directory, file_name), fmt, size)
        pool.refresh()
        yield name, directory, pool
    finally:
        if pool.isActive():
            pool.refresh()
            for vol in pool.listAllVolumes():
                vol.delete()
            pool.destroy()
        pool.undefine()
        shutil.rmtree(directory, ignore_errors=True)
