# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain live_changes on qemu:///system: CD-ROM media given as a file, as a pool volume, and ejected.

A volume source has no <source file>: before live_changes compared every kind of source, changing the volume
in the drive redefined the guest but left the old medium in the running guest. Four runs each (check, real,
check, real), verified with virsh domblklist (live and --inactive).
"""

from __future__ import annotations

import os
import subprocess

import libvirt
import pytest
from lxml import etree

from conftest import QEMU_URI, run_module, unique_name
from day2_guest import guest_with_disks, make_image

CDROM_EMPTY = "<disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>"


def blklist(name, inactive=False):
    out = subprocess.run(['virsh', '-c', QEMU_URI, 'domblklist', name] + (['--inactive'] if inactive else []),
                         check=True, capture_output=True, text=True).stdout
    rows = [line.split(None, 1) for line in out.splitlines()[2:] if line.strip()]
    return dict((r[0], r[1].strip() if len(r) > 1 else '-') for r in rows)


@pytest.fixture(scope='module')
def guest(qemu_conn):
    with guest_with_disks(qemu_conn, kind='media', extra_devices='    %s\n' % CDROM_EMPTY) as g:
        yield g


@pytest.fixture(scope='module')
def pool(qemu_conn, guest):
    name, dom, workdir, paths = guest
    directory = os.path.join(workdir, 'isos')
    os.mkdir(directory)
    pool_name = unique_name('mediapool')
    pool = qemu_conn.storagePoolDefineXML("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
                                          % (pool_name, directory))
    try:
        pool.create()
        for iso in ('one.iso', 'two.iso'):
            make_image(os.path.join(directory, iso), 'raw', '1M')
        pool.refresh()
        yield pool_name, directory
    finally:
        try:
            pool.destroy()
        except libvirt.libvirtError:
            pass
        pool.undefine()


def _with_cdrom(dom, cdrom):
    """The guest's stored definition with its CD-ROM drive replaced by ``cdrom``."""
    root = etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    old = root.find("devices/disk[@device='cdrom']")
    old.getparent().replace(old, etree.fromstring(cdrom))
    return etree.tostring(root, encoding='unicode')


def four_runs(name, xml, media_action):
    args = dict(uri=QEMU_URI, name=name, xml=xml, live_changes=True)
    results = [run_module('domain', args, check_mode=c) for c in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions']
    assert media_action in results[1]['actions'], results[1]['actions']
    # the stored definition carries what libvirt filled in (cpu check='none' is 'full' live): only the drive counts
    pending = [d['path'] for d in results[3].get('restart_differences') or []]
    assert not [p for p in pending if '/disk' in p], pending
    return results


def test_media_from_file_volume_and_eject(qemu_conn, guest, pool):
    name, dom, workdir, paths = guest
    pool_name, directory = pool
    iso = make_image(os.path.join(workdir, 'file.iso'), 'raw', '1M')
    file_cdrom = ("<disk type='file' device='cdrom'><source file='%s'/><target dev='sda' bus='sata'/><readonly/>"
                  "</disk>" % iso)
    four_runs(name, _with_cdrom(dom, file_cdrom), 'change media of sda to %s' % iso)
    assert blklist(name)['sda'] == iso and blklist(name, inactive=True)['sda'] == iso

    for volume in ('one.iso', 'two.iso'):
        cdrom = ("<disk type='volume' device='cdrom'><source pool='%s' volume='%s'/><target dev='sda' bus='sata'/>"
                 "<readonly/></disk>" % (pool_name, volume))
        four_runs(name, _with_cdrom(dom, cdrom), 'change media of sda to %s/%s' % (pool_name, volume))
        live = blklist(name)['sda']
        assert live == os.path.join(directory, volume) or live == volume, live
        assert blklist(name, inactive=True)['sda'] == volume

    four_runs(name, _with_cdrom(dom, CDROM_EMPTY), 'change media of sda to none')
    assert blklist(name)['sda'] == '-' and blklist(name, inactive=True)['sda'] == '-'
