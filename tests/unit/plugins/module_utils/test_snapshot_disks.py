# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_snapshot location=external without disks: the disk list built from the guest's definition
(applied on qemu:///system in tests/functional/test_snapshot_qemu.py)."""

from __future__ import annotations

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _snapshot

DOMAIN = """<domain type='kvm'><name>g</name><devices>
  <disk type='file' device='disk'><source file='/i/a.qcow2'/><target dev='vda' bus='virtio'/></disk>
  <disk type='block' device='disk'><source dev='/dev/vg/b'/><target dev='vdb' bus='virtio'/></disk>
  <disk type='file' device='disk'><source file='/i/ro.img'/><target dev='vdc' bus='virtio'/><readonly/></disk>
  <disk type='file' device='disk' snapshot='no'><source file='/i/scratch.img'/><target dev='vdd' bus='virtio'/></disk>
  <disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>
  <disk type='file' device='floppy'><source file='/i/f.img'/><target dev='fda'/></disk>
  <disk type='network' device='lun'><source protocol='iscsi' name='iqn.x/1'/><target dev='sdb' bus='scsi'/></disk>
</devices></domain>"""


def test_every_writable_disk_is_external_the_rest_left_out():
    assert _snapshot.every_disk(DOMAIN) == [
        dict(name='vda', snapshot='external'), dict(name='vdb', snapshot='external'),
        dict(name='vdc', snapshot='no'), dict(name='vdd', snapshot='no'), dict(name='sda', snapshot='no'),
        dict(name='fda', snapshot='no'), dict(name='sdb', snapshot='external'),
    ]


def test_desired_document_lists_them_only_when_no_disks_are_given():
    params = dict(name='s', location='external', disk_only=True, disks=[])
    root = _snapshot.desired_xml(params, DOMAIN)
    assert [(d.get('name'), d.get('snapshot')) for d in root.findall('disks/disk')][:2] == [
        ('vda', 'external'), ('vdb', 'external')]
    listed = _snapshot.desired_xml(dict(params, disks=[dict(name='vda', file='/i/o.qcow2')]), DOMAIN)
    assert [d.get('name') for d in listed.findall('disks/disk')] == ['vda']
    internal = _snapshot.desired_xml(dict(params, location='internal'), DOMAIN)
    assert internal.find('disks') is None
