# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_snapshot / domain_snapshot_info on qemu:///system with the running tiny guest and a qcow2 disk.

Four runs for each behaviour; the result is checked with virsh (snapshot-list, snapshot-current, domstate,
domblklist) and qemu-img, never only with the module's own answer.
"""

from __future__ import annotations

import json
import os
import subprocess

import libvirt
import pytest

from conftest import QEMU_URI, run_module
from day2_guest import guest_with_disks


def virsh(*args):
    return subprocess.run(['virsh', '-c', QEMU_URI] + list(args), check=True, capture_output=True,
                          text=True).stdout.strip()


def snap(guest_name, check=False, **args):
    return run_module('domain_snapshot', dict(args, domain=guest_name, uri=QEMU_URI), check_mode=check, diff=True)


def four_runs(guest_name, **args):
    results = [snap(guest_name, check=c, **args) for c in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions']
    return results


def snapshot_names(name):
    return sorted(virsh('snapshot-list', name, '--name').split())


@pytest.fixture(scope='module')
def guest(qemu_conn):
    with guest_with_disks(qemu_conn, kind='snapguest') as (name, dom, workdir, paths):
        yield name, dom, paths


@pytest.fixture
def clean(guest):
    yield guest
    dom = guest[1]
    # Delete leaves first, until none is left.
    while True:
        snaps = dom.listAllSnapshots(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_LEAVES)
        if not snaps:
            break
        for s in snaps:
            s.delete(0)
    if not dom.isActive():
        dom.create()


def test_internal_with_memory_then_revert_paused(clean):
    name, dom, paths = clean
    results = four_runs(name, name='base', description='with memory')
    assert results[1]['snapshot']['memory'] == 'internal' and results[1]['snapshot']['state'] == 'running'
    assert snapshot_names(name) == ['base']
    assert virsh('snapshot-current', name, '--name') == 'base'
    # qemu-img sees the internal snapshot (with its VM state) inside the image.
    image = json.loads(subprocess.run(['qemu-img', 'info', '-U', '--output=json', paths['vda']], check=True,
                                      capture_output=True, text=True).stdout)
    assert [s['name'] for s in image.get('snapshots', [])] == ['base']
    assert image['snapshots'][0]['vm-state-size'] > 0
    # Revert, leaving the guest paused: changes every time (documented), power state as asked.
    for check in (True, False):
        result = snap(name, check=check, state='reverted', name='base', after='paused')
        assert result['changed'] and result['actions'] == ['revert %s to snapshot base (paused after)' % name]
    assert virsh('domstate', name) == 'paused'
    result = snap(name, state='reverted', after='running')
    assert result['changed'] and result['snapshot']['name'] == 'base'
    assert virsh('domstate', name) == 'running'


def test_disk_only_internal_offline_and_tree(clean):
    name, dom, paths = clean
    four_runs(name, name='one')
    four_runs(name, name='two')
    info = run_module('domain_snapshot_info', dict(domain=name, uri=QEMU_URI), check_mode=True)
    assert [s['name'] for s in info['snapshots']] == ['one', 'two']
    assert info['current'] == 'two' and info['snapshots'][1]['parent'] == 'one'
    assert info['tree'] == [{'name': 'one', 'current': False,
                             'children': [{'name': 'two', 'current': True, 'children': []}]}]
    assert virsh('snapshot-parent', name, 'two') == 'one'
    # Delete with children: both gone.
    results = four_runs(name, name='one', state='absent', children=True)
    assert sorted(results[1]['deleted']) == ['one', 'two']
    assert snapshot_names(name) == []


def test_retention_keeps_newest(clean):
    name, dom, paths = clean
    for n in ('daily-a', 'daily-b', 'keep-me'):
        assert snap(name, name=n)['changed']
    results = four_runs(name, name='daily-c', retention=dict(prefix='daily-', keep=2))
    assert results[1]['deleted'] == ['daily-a']
    assert snapshot_names(name) == ['daily-b', 'daily-c', 'keep-me']


def test_quiesce_without_agent_fails_cleanly(clean):
    name, dom, paths = clean
    result = snap(name, name='q', disk_only=True, location='external', quiesce=True,
                  disks=[dict(name='vda', file=os.path.join(os.path.dirname(paths['vda']), 'q.qcow2'))])
    assert result.failed and result['msg'].startswith('Failed to create snapshot q'), result
    assert 'agent' in result['msg'].lower()
    assert snapshot_names(name) == []
    assert virsh('domblklist', name).split()[-1] == paths['vda']


def test_external_disk_only_and_metadata_delete(qemu_conn):
    with guest_with_disks(qemu_conn, kind='extsnap') as (name, dom, workdir, paths):
        overlay = os.path.join(workdir, 'vda.ext1.qcow2')
        results = four_runs(name, name='ext1', location='external', disk_only=True,
                            disks=[dict(name='vda', file=overlay, format='qcow2')])
        data = results[1]['snapshot']
        assert data['location'] == 'external' and data['disk_only'] and data['state'] == 'disk-snapshot'
        # The guest now writes to the overlay, whose backing file is the original image.
        assert virsh('domblklist', name).split()[-1] == overlay
        image = json.loads(subprocess.run(['qemu-img', 'info', '-U', '--output=json', overlay], check=True,
                                          capture_output=True, text=True).stdout)
        assert image['backing-filename'] == paths['vda']
        # External memory snapshot, live, to a file.
        memfile = os.path.join(workdir, 'ext2.mem')
        results = four_runs(name, name='ext2', location='external', memory=True, memory_file=memfile, live=True,
                            disks=[dict(name='vda', file=os.path.join(workdir, 'vda.ext2.qcow2'))])
        assert results[1]['snapshot']['memory'] == 'external' and os.path.getsize(memfile) > 0
        assert virsh('domstate', name) == 'running'
        # libvirt 9.0 cannot delete external snapshots' data: metadata only works, files stay.
        four_runs(name, name='ext2', state='absent', metadata_only=True)
        four_runs(name, name='ext1', state='absent', metadata_only=True)
        assert snapshot_names(name) == [] and os.path.exists(overlay)


def test_external_without_disks_covers_every_disk(qemu_conn):
    """location=external alone makes overlays for every writable disk (not an internal snapshot of the disks
    nobody listed); read-only drives are left out; check mode predicts the same."""
    cdrom = "    <disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>\n"
    with guest_with_disks(qemu_conn, disks=(('vda', 'qcow2', '16M'), ('vdb', 'qcow2', '8M')), extra_devices=cdrom,
                          kind='extall') as (name, dom, workdir, paths):
        results = four_runs(name, name='all', location='external', disk_only=True)
        predicted, data = results[0]['snapshot'], results[1]['snapshot']
        wanted = [('sda', 'no'), ('vda', 'external'), ('vdb', 'external')]
        assert sorted((d['name'], d['snapshot']) for d in data['disks']) == wanted
        assert sorted((d['name'], d['snapshot']) for d in predicted['disks']) == wanted
        assert predicted['location'] == data['location'] == 'external' and data['state'] == 'disk-snapshot'
        listed = dict(line.split(None, 1) for line in virsh('domblklist', name).splitlines()[2:] if line.strip())
        for dev in ('vda', 'vdb'):
            assert listed[dev] != paths[dev], listed
            image = json.loads(subprocess.run(['qemu-img', 'info', '-U', '--output=json', listed[dev]], check=True,
                                              capture_output=True, text=True).stdout)
            assert image['backing-filename'] == paths[dev]
        # With the memory state: every disk external too, and the memory in its file.
        memfile = os.path.join(workdir, 'all2.mem')
        results = four_runs(name, name='all2', location='external', memory=True, memory_file=memfile)
        predicted, data = results[0]['snapshot'], results[1]['snapshot']
        assert sorted((d['name'], d['snapshot']) for d in data['disks']) == wanted
        assert sorted((d['name'], d['snapshot']) for d in predicted['disks']) == wanted
        assert predicted['location'] == data['location'] == 'external' and data['memory'] == 'external'
        assert os.path.getsize(memfile) > 0 and virsh('domstate', name) == 'running'
        # Neither: refused before anything, in check mode too (libvirt would refuse, or before this fix
        # silently take an internal snapshot).
        for check in (True, False):
            result = snap(name, check=check, name='neither', location='external')
            assert result.failed and 'disk_only' in result['msg'] and 'memory_file' in result['hint'], result
        assert sorted(snapshot_names(name)) == ['all', 'all2']
        four_runs(name, name='all2', state='absent', metadata_only=True)
        four_runs(name, name='all', state='absent', metadata_only=True)
