# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_block on qemu:///system with the running tiny guest: live grow, I/O limits, copy / commit / pull jobs.

Four runs for each behaviour; checked with virsh domblkinfo / blkdeviotune / domblklist and qemu-img.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import libvirt
import pytest

from conftest import QEMU_URI, run_module, unique_name
from day2_guest import cleanup_domain, guest_xml, make_image
from utils.guest import MARKER_UP, wait_for_console


def virsh(*args):
    return subprocess.run(['virsh', '-c', QEMU_URI] + list(args), check=True, capture_output=True,
                          text=True).stdout


def qemu_img_info(path):
    return json.loads(subprocess.run(['qemu-img', 'info', '-U', '--output=json', path], check=True,
                                     capture_output=True, text=True).stdout)


def block(guest_name, check=False, **args):
    return run_module('domain_block', dict(args, domain=guest_name, uri=QEMU_URI), check_mode=check)


def four_runs(guest_name, **args):
    results = [block(guest_name, check=c, **args) for c in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions']
    return results


@pytest.fixture
def layered_guest(qemu_conn):
    """The tiny guest running on vda = overlay.qcow2 -> base.qcow2 (some data in each layer)."""
    name = unique_name('blkguest')
    workdir = tempfile.mkdtemp(prefix='sysvirt-test-')
    os.chmod(workdir, 0o755)
    try:
        base = make_image(os.path.join(workdir, 'base.qcow2'), 'qcow2', '32M')
        subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x11 0 4M', base], check=True, capture_output=True)
        overlay = make_image(os.path.join(workdir, 'overlay.qcow2'), 'qcow2', None, backing=base)
        subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x22 4M 4M', overlay], check=True,
                       capture_output=True)
        dom = qemu_conn.defineXML(guest_xml(name, workdir, [('vda', 'qcow2', overlay, 'virtio')]))
        dom.create()
        wait_for_console(os.path.join(workdir, 'serial.log'), MARKER_UP, timeout=60)
        yield name, dom, workdir, base, overlay
    finally:
        cleanup_domain(qemu_conn, name)
        shutil.rmtree(workdir, ignore_errors=True)


def test_grow_live(layered_guest):
    name, dom, workdir, base, overlay = layered_guest
    results = four_runs(name, disk='vda', size='48MiB')
    assert results[1]['disk']['capacity'] == 48 * 1024 * 1024
    assert 'Capacity:       50331648' in virsh('domblkinfo', name, 'vda')
    # Smaller than now: left alone, with a warning.
    result = block(name, disk='vda', size='16MiB')
    assert not result['changed'] and 'not shrunk' in str(result['warnings'])


def test_iotune_live_and_persistent(layered_guest):
    name, dom, workdir, base, overlay = layered_guest
    results = four_runs(name, disk='vda', iotune=dict(total_bytes_sec=10485760, total_iops_sec=400))
    assert len(results[1]['actions']) == 2
    for extra in ([], ['--config']):
        out = virsh('blkdeviotune', name, 'vda', *extra)
        assert 'total_bytes_sec: 10485760' in out and 'total_iops_sec : 400' in out, out
    # Removing a limit (0) and changing another: only those are set.
    four_runs(name, disk='vda', iotune=dict(total_iops_sec=0), persistent=False)
    assert 'total_iops_sec : 0' in virsh('blkdeviotune', name, 'vda')
    assert 'total_iops_sec : 400' in virsh('blkdeviotune', name, 'vda', '--config')


def test_pull(layered_guest):
    name, dom, workdir, base, overlay = layered_guest
    results = four_runs(name, disk='vda', job=dict(type='pull', timeout=120))
    assert results[1]['job']['status'] == 'completed'
    assert results[3]['disk']['backing_chain'] == []
    assert 'backing-filename' not in qemu_img_info(overlay)


def test_active_commit_pivots_to_base(layered_guest):
    name, dom, workdir, base, overlay = layered_guest
    results = four_runs(name, disk='vda', job=dict(type='commit', timeout=120))
    assert results[1]['job']['status'] == 'completed'
    assert virsh('domblklist', name).split()[-1] == base
    # The overlay's data is now in the base image.
    out = subprocess.run(['qemu-io', '-r', '-U', '-f', 'qcow2', '-c', 'read -P 0x22 4M 4M', base], capture_output=True,
                         text=True, check=False)
    assert 'Pattern verification failed' not in out.stdout and out.returncode == 0, out


def test_copy_pivots_to_destination(layered_guest):
    name, dom, workdir, base, overlay = layered_guest
    dest = os.path.join(workdir, 'copy.qcow2')
    results = four_runs(name, disk='vda', job=dict(type='copy', destination=dest, format='qcow2', timeout=120))
    assert results[1]['job']['status'] == 'completed'
    assert 'persistent definition' in str(results[1]['warnings'])
    assert virsh('domblklist', name).split()[-1] == dest
    assert 'backing-filename' not in qemu_img_info(dest)  # a full copy flattens the chain
    out = subprocess.run(['qemu-io', '-r', '-U', '-f', 'qcow2', '-c', 'read -P 0x11 0 4M', '-c', 'read -P 0x22 4M 4M',
                          dest], capture_output=True, text=True, check=False)
    assert 'Pattern verification failed' not in out.stdout and out.returncode == 0, out


def test_copy_left_mirroring(layered_guest):
    name, dom, workdir, base, overlay = layered_guest
    dest = os.path.join(workdir, 'mirror.qcow2')
    result = block(name, disk='vda', job=dict(type='copy', destination=dest, format='qcow2', pivot=False))
    assert result['changed'] and result['job']['status'] == 'ready'
    job = dom.blockJobInfo('vda', 0)  # (virsh blockjob --info prints its answer on stderr)
    assert job['type'] == libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COPY and job['cur'] == job['end']
    # A second job on the same disk is refused clearly.
    again = block(name, disk='vda', job=dict(type='pull'))
    assert again.failed and 'already has a block job' in again['msg']
    dom.blockJobAbort('vda', 0)


@pytest.mark.parametrize('args,message', [
    (dict(disk='vdz', size='1G'), 'no disk with target vdz'),
    (dict(disk='vda', size='lots'), 'not a size'),
])
def test_bad_input(layered_guest, args, message):
    name = layered_guest[0]
    result = block(name, **args)
    assert result.failed and message in result['msg'], result
