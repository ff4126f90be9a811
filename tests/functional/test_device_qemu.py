# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_device on qemu:///system with the running tiny guest: disk and cdrom hotplug, media change, NICs on an
isolated network (no <forward>, never carries traffic), live/persistent scopes, detach waits.

Four runs for each behaviour; checked with virsh domblklist / domiflist (live and --inactive).
"""

from __future__ import annotations

import os
import subprocess
import time

import libvirt
import pytest

from conftest import QEMU_URI, run_module, unique_name
from day2_guest import guest_with_disks, make_image


def virsh(*args):
    return subprocess.run(['virsh', '-c', QEMU_URI] + list(args), check=True, capture_output=True,
                          text=True).stdout


def blklist(name, inactive=False):
    """{target: source} from virsh domblklist."""
    out = virsh('domblklist', name, *(['--inactive'] if inactive else []))
    rows = [line.split(None, 1) for line in out.splitlines()[2:] if line.strip()]
    return dict((r[0], r[1].strip() if len(r) > 1 else '-') for r in rows)


def device(guest_name, check=False, **args):
    return run_module('domain_device', dict(args, domain=guest_name, uri=QEMU_URI), check_mode=check, diff=True)


def four_runs(guest_name, **args):
    results = [device(guest_name, check=c, **args) for c in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions']
    return results


@pytest.fixture(scope='module')
def guest(qemu_conn):
    with guest_with_disks(qemu_conn, disks=(('vda', 'qcow2', '16M'),), kind='devguest',
                          extra_devices="    <controller type='scsi' model='virtio-scsi'/>\n"
                                        "    <disk type='file' device='cdrom'><target dev='sda' bus='sata'/>"
                                        "<readonly/></disk>\n") as g:
        yield g


def test_scsi_disk_hotplug_live_and_persistent(guest):
    name, dom, workdir, paths = guest
    image = make_image(os.path.join(workdir, 'sdb.raw'), 'raw', '8M')
    results = four_runs(name, disk=dict(target='sdb', source=image, format='raw', bus='scsi'))
    assert results[1]['actions'] == ['attach disk target sdb (live)', 'attach disk target sdb (config)']
    assert blklist(name)['sdb'] == image and blklist(name, inactive=True)['sdb'] == image
    start = time.monotonic()
    results = four_runs(name, state='absent', disk=dict(target='sdb'))
    assert results[1]['actions'] == ['detach disk target sdb (live)', 'detach disk target sdb (config)']
    assert 'sdb' not in blklist(name) and 'sdb' not in blklist(name, inactive=True)
    assert time.monotonic() - start < 30


def test_virtio_disk_hotplug_waits_for_the_guest(guest):
    name, dom, workdir, paths = guest
    image = make_image(os.path.join(workdir, 'vdb.qcow2'), 'qcow2', '8M')
    four_runs(name, disk=dict(target='vdb', source=image, format='qcow2', bus='virtio'), persistent=False)
    assert 'vdb' in blklist(name) and 'vdb' not in blklist(name, inactive=True)
    # PCI unplug: the guest kernel answers the ACPI eject; the module waits for libvirt's device-removed event.
    four_runs(name, state='absent', disk=dict(target='vdb'), persistent=False, timeout=60)
    assert 'vdb' not in blklist(name)


def test_config_only_on_running_guest(guest):
    name, dom, workdir, paths = guest
    image = make_image(os.path.join(workdir, 'vdc.qcow2'), 'qcow2', '8M')
    results = four_runs(name, disk=dict(target='vdc', source=image, format='qcow2'), live=False)
    assert results[1]['actions'] == ['attach disk target vdc (config)']
    assert 'vdc' in blklist(name, inactive=True) and 'vdc' not in blklist(name)
    four_runs(name, state='absent', disk=dict(target='vdc'), live=False)
    assert 'vdc' not in blklist(name, inactive=True)


def test_cdrom_media_change_and_eject(guest):
    name, dom, workdir, paths = guest
    iso1 = make_image(os.path.join(workdir, 'one.iso'), 'raw', '1M')
    iso2 = make_image(os.path.join(workdir, 'two.iso'), 'raw', '1M')
    for iso in (iso1, iso2):
        results = four_runs(name, disk=dict(target='sda', device='cdrom', bus='sata', source=iso))
        assert results[1]['actions'] == ['update disk target sda (live)', 'update disk target sda (config)']
        assert blklist(name)['sda'] == iso and blklist(name, inactive=True)['sda'] == iso
    results = four_runs(name, disk=dict(target='sda', device='cdrom', bus='sata'))
    assert results[1]['differences'][0]['reason'] == 'extra'
    assert blklist(name)['sda'] == '-' and blklist(name, inactive=True)['sda'] == '-'


def test_xml_cdrom_unchanged_when_libvirt_filled_in(guest):
    name, dom, workdir, paths = guest
    # The stored cdrom has an alias, an address and a driver name the input does not: no change.
    result = device(name, xml="<disk type='file' device='cdrom'><target dev='sda' bus='sata'/></disk>")
    assert not result.failed and not result['changed'], result


@pytest.fixture
def isolated_network(qemu_conn):
    name = unique_name('devnet')
    net = qemu_conn.networkDefineXML("<network><name>%s</name><bridge name='sv%s'/></network>"
                                     % (name, name[-8:]))
    net.create()
    yield name
    try:
        net.destroy()
    except libvirt.libvirtError:
        pass
    net.undefine()


def test_nic_on_isolated_network(guest, isolated_network):
    name, dom, workdir, paths = guest
    mac = '52:54:00:5e:00:%02x' % (os.getpid() % 256)
    spec = dict(mac=mac, network=isolated_network, model='e1000')
    results = four_runs(name, interface=spec, persistent=False)
    assert mac in virsh('domiflist', name)
    # Link down, then up again: updated in place.
    results = four_runs(name, interface=dict(spec, link_state='down'), persistent=False)
    assert results[1]['actions'] == ['update interface MAC %s (live)' % mac]
    assert 'down' in virsh('domif-getlink', name, mac)
    four_runs(name, state='absent', interface=dict(mac=mac), persistent=False, timeout=60)
    assert mac not in virsh('domiflist', name)


@pytest.mark.parametrize('args,message', [
    (dict(xml='<disk'), 'XML'),
    (dict(xml='<domain/>'), 'one device element'),
    (dict(xml="<interface type='network'><source network='x'/></interface>"), '<mac address=...>'),
    (dict(disk=dict(target='vdz', source='/nonexistent/sysvirt.img')), 'Failed to attach'),
])
def test_bad_input_changes_nothing(guest, args, message):
    name, dom, workdir, paths = guest
    before = (virsh('dumpxml', name), virsh('dumpxml', '--inactive', name))
    result = device(name, **args)
    assert result.failed and message in result['msg'], result
    assert (virsh('dumpxml', name), virsh('dumpxml', '--inactive', name)) == before


def test_live_on_stopped_guest_fails(qemu_conn):
    with guest_with_disks(qemu_conn, disks=(), start=False, kind='devoff') as (name, dom, workdir, paths):
        result = device(name, disk=dict(target='vdb', source='/dev/null'), live=True)
        assert result.failed and 'not running' in result['msg']
