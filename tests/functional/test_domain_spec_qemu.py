# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain with spec (a guest described by options) on qemu:///system and on the daemon's test driver.

A table of option sets: each is defined by four runs (check, real, check, real: changed, changed, unchanged,
unchanged), the check run's diff equals the real run's, and the stored definition is read back with virsh-level
calls and checked for what the options asked. Then a guest changed later (memory, a second disk, a NIC), invalid
combinations (clean errors, nothing defined or created), and the tiny test guest booted from options (TCG, direct
kernel boot, a CD-ROM).
"""

from __future__ import annotations

import os
import re

import libvirt
import pytest
from lxml import etree

from conftest import QEMU_URI, SHARED_TEST_URI, run_module, unique_name
from day2_guest import cleanup_domain, dir_pool
from utils.guest import GUEST_INITRD, GUEST_KERNEL, MARKER_UP, wait_for_console


@pytest.fixture(scope='module')
def pool(qemu_conn):
    """A directory pool with a qcow2 base image, a raw image and an ISO-like raw file; removed afterwards."""
    images = (('base.qcow2', 'qcow2', '32M'), ('data.raw', 'raw', '4M'), ('media.iso', 'raw', '1M'))
    with dir_pool(qemu_conn, 'optpool', images) as (name, directory, _pool):
        yield name, directory


@pytest.fixture(scope='module')
def network(qemu_conn):
    """An isolated network (no <forward>), defined but not started: a guest's NIC may name it."""
    name = unique_name('optnet')
    net = qemu_conn.networkDefineXML('<network><name>%s</name></network>' % name)
    yield name
    net.undefine()


def four_runs(uri, name, spec, extra=None):
    """check, real, check, real: (the real run's result, the stored XML); asserts the changed pattern and that
    the check run predicts the real run's actions (a new guest's diff differs: libvirt adds UUID, addresses...)."""
    args = dict(uri=uri, name=name, spec=spec, **(extra or {}))
    check = run_module('domain', args, check_mode=True, diff=True)
    assert not check.failed, check
    real = run_module('domain', args, diff=True)
    assert not real.failed, real
    assert (check['changed'], real['changed']) == (True, True)
    assert check['actions'] == real['actions'] and 'define' in real['actions'], (check, real)
    again_check = run_module('domain', args, check_mode=True, diff=True)
    again = run_module('domain', args, diff=True)
    assert (again_check['changed'], again['changed']) == (False, False), (again_check, again)
    assert again['actions'] == [] and again['differences'] == []
    conn = libvirt.open(uri)
    try:
        stored = conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    finally:
        conn.close()
    return real, etree.fromstring(stored.encode())


def xp(root, path):
    """The one value (attribute or text) at an XPath of the stored definition."""
    found = root.xpath(path)
    assert len(found) == 1, (path, found, etree.tostring(root).decode())
    value = found[0]
    return value.strip() if isinstance(value, str) else (value.text or '').strip()


#: A <cpu> as sysvirt.libvirt.cpu_baseline returns it (its xml), for cpu.xml.
BASELINE_CPU = "<cpu><arch>x86_64</arch><model fallback='allow'>qemu64</model></cpu>"

# (id, spec, {xpath: expected value in the stored definition}); {pool} and {net} are filled in.
QEMU_TABLE = [
    ('memory-vcpus', dict(memory=256, max_memory='512MiB', vcpus=1, max_vcpus=2),
     {'memory': '524288', 'currentMemory': '262144', 'vcpu': '2', 'vcpu/@current': '1'}),
    ('topology', dict(memory=128, cpu=dict(sockets=1, cores=2, threads=2)),
     {'vcpu': '4', 'cpu/topology/@cores': '2', 'cpu/topology/@threads': '2'}),
    ('cpu-custom', dict(memory=128, cpu=dict(model='qemu64')), {'cpu/model': 'qemu64', 'cpu/@mode': 'custom'}),
    ('cpu-maximum', dict(memory=128, cpu=dict(mode='maximum')), {'cpu/@mode': 'maximum'}),
    ('cpu-baseline-xml', dict(memory=128, cpu=dict(cores=2, xml=BASELINE_CPU)),
     {'cpu/model': 'qemu64', 'cpu/@mode': 'custom', 'cpu/topology/@cores': '2', 'vcpu': '2'}),
    ('machine-q35', dict(memory=128, machine='q35'), {'os/type/@machine': 'pc-q35-7.2'}),
    ('hint-linux', dict(memory=128, os='linux2022'),
     {'os/type/@machine': 'pc-q35-7.2', 'devices/rng/@model': 'virtio',
      "devices/channel/target/@name": 'org.qemu.guest_agent.0'}),
    ('disk-volume', dict(memory=128, disks=[dict(pool='{pool}', volume='data.raw', cache='none', io='native')]),
     {'devices/disk/source/@volume': 'data.raw', 'devices/disk/driver/@type': 'raw',
      'devices/disk/driver/@io': 'native', 'devices/disk/target/@bus': 'ide'}),
    ('disk-path-sata', dict(memory=128, machine='q35', disks=[dict(path='{dir}/data.raw', bus='sata')]),
     {'devices/disk/source/@file': '{dir}/data.raw', 'devices/disk/target/@dev': 'sda'}),
    ('disk-new-and-overlay', dict(memory=128, os='linux2022', disks=[
        dict(pool='{pool}', volume='{name}-new.qcow2', size='8MiB'),
        dict(pool='{pool}', volume='{name}-cow.qcow2', backing='base.qcow2')]),
     {"devices/disk[target/@dev='vda']/driver/@type": 'qcow2',
      "devices/disk[target/@dev='vdb']/source/@volume": '{name}-cow.qcow2'}),
    ('cdrom-iso-scsi', dict(memory=128, machine='q35', disks=[
        dict(device='cdrom', pool='{pool}', volume='media.iso', bus='scsi')], boot=['cdrom', 'hd']),
     {'devices/disk/@device': 'cdrom', "devices/controller[@type='scsi']/@model": 'virtio-scsi',
      'os/boot[1]/@dev': 'cdrom'}),
    ('nics', dict(memory=128, nics=[dict(network='{net}'), dict(bridge='virbr-nonexist', model='e1000e'),
                                    dict(direct='lo', mode='vepa'), dict(user=True, mac='52:54:00:12:34:56')]),
     {"devices/interface[@type='network']/source/@network": '{net}',
      "devices/interface[@type='bridge']/model/@type": 'e1000e',
      "devices/interface[@type='direct']/source/@mode": 'vepa',
      "devices/interface[@type='user']/mac/@address": '52:54:00:12:34:56'}),
    ('kernel-boot', dict(memory=128, kernel=GUEST_KERNEL, initrd=GUEST_INITRD, cmdline='console=ttyS0'),
     {'os/kernel': GUEST_KERNEL, 'os/cmdline': 'console=ttyS0'}),
    ('graphics-vnc', dict(memory=128, graphics=dict(type='vnc', listen='127.0.0.1')),
     {"devices/graphics/@type": 'vnc', "devices/graphics/listen/@address": '127.0.0.1'}),
    ('graphics-spice', dict(memory=128, graphics=dict(type='spice', listen='127.0.0.1')),
     {"devices/graphics/@type": 'spice'}),
    ('consoles-and-extras', dict(memory=128, serial=dict(log='/var/log/libvirt/qemu/{name}-serial.log'),
                                 guest_agent=True, rng=True, watchdog=dict(model='i6300esb', action='poweroff')),
     {'devices/serial/log/@file': '/var/log/libvirt/qemu/{name}-serial.log', 'devices/watchdog/@action': 'poweroff',
      'devices/rng/backend': '/dev/urandom'}),
    ('no-serial', dict(memory=128, serial=dict(type='none')), {'count(devices/serial)': 0}),
    ('uefi', dict(memory=128, machine='q35', firmware='uefi'), {'os/@firmware': 'efi'}),
    ('uefi-secure-boot', dict(memory=128, machine='q35', firmware='uefi', secure_boot=True),
     {"os/firmware/feature[@name='secure-boot']/@enabled": 'yes', 'features/smm/@state': 'on'}),
    ('hint-win10', dict(memory=256, os='win10', disks=[dict(pool='{pool}', volume='data.raw')]),
     {'clock/@offset': 'localtime', 'devices/disk/target/@bus': 'sata', 'features/hyperv/@mode': 'custom'}),
    ('raw-fragments', dict(memory=128, extra_devices=["<panic model='isa'/>"],
                           extra_elements=["<on_reboot>destroy</on_reboot>"]),
     {'devices/panic/@model': 'isa', 'on_reboot': 'destroy'}),
]


def _fill(value, names):
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return dict((k, _fill(v, names)) for k, v in value.items())
    return value


@pytest.mark.parametrize('case', QEMU_TABLE, ids=[c[0] for c in QEMU_TABLE])
def test_options_on_qemu(qemu_conn, pool, network, case):
    label, spec, expected = case
    name = unique_name('opt-' + label)
    names = dict(pool=pool[0], dir=pool[1], net=network, name=name)
    spec = _fill(dict(spec, virt_type='qemu'), names)
    try:
        result, stored = four_runs(QEMU_URI, name, spec)
        for path, value in expected.items():
            path = _fill(path, names)
            if path.startswith('count('):
                assert stored.xpath(path) == value
            else:
                assert xp(stored, path) == _fill(value, names), path
    finally:
        cleanup_domain(qemu_conn, name)
        remove_volumes(qemu_conn, pool[0], name)


def remove_volumes(conn, pool_name, prefix):
    pool = conn.storagePoolLookupByName(pool_name)
    pool.refresh()
    for vol in pool.listAllVolumes():
        if vol.name().startswith(prefix):
            vol.delete()


# The test driver: what it accepts of the options (no domain capabilities: libvirt validates on define).
TEST_TABLE = [
    ('minimal', dict(memory=128), {'memory': '131072'}),
    ('vcpus-topology', dict(memory=128, vcpus=2, max_vcpus=4, cpu=dict(sockets=2, cores=2)),
     {'vcpu': '4', 'vcpu/@current': '2'}),
    ('disk-nic-cdrom', dict(memory=128, disks=[dict(path='/dev/null-disk', bus='virtio'), dict(device='cdrom')],
                            nics=[dict(network='default', mac='52:54:00:aa:bb:cc')]),
     {"devices/disk[@device='disk']/target/@dev": 'vda', "devices/interface/mac/@address": '52:54:00:aa:bb:cc'}),
    ('kernel-graphics', dict(memory=128, kernel=GUEST_KERNEL, cmdline='quiet', graphics=dict(type='vnc')),
     {'os/cmdline': 'quiet', 'devices/graphics/@type': 'vnc'}),
]


@pytest.mark.parametrize('case', TEST_TABLE, ids=[c[0] for c in TEST_TABLE])
def test_options_on_test_driver(shared_test_conn, case):
    label, spec, expected = case
    name = unique_name('opt-' + label)
    try:
        _result, stored = four_runs(SHARED_TEST_URI, name, spec)
        for path, value in expected.items():
            assert xp(stored, path) == value, path
    finally:
        cleanup_domain(shared_test_conn, name)


def test_changing_options_updates_the_guest(qemu_conn, pool, network):
    """More memory, a second disk (a new volume) and a NIC later: check predicts the real diff, then no change."""
    name = unique_name('opt-update')
    spec = dict(virt_type='qemu', os='linux2022', memory=128, max_memory=512,
                disks=[dict(pool=pool[0], volume='data.raw')])
    try:
        four_runs(QEMU_URI, name, spec)
        spec = dict(spec, memory=256, disks=spec['disks'] + [dict(pool=pool[0], volume=name + '-b.qcow2', size=8)],
                    nics=[dict(network=network)])
        args = dict(uri=QEMU_URI, name=name, spec=spec)
        check = run_module('domain', args, check_mode=True, diff=True)
        real = run_module('domain', args, diff=True)
        assert not real.failed, real
        assert check['changed'] and real['changed']
        assert check['actions'] == real['actions'] == ['create volume %s-b.qcow2 in pool %s' % (name, pool[0]),
                                                       'redefine']
        # the same differences and the same new lines in both diffs; what check mode cannot know is where libvirt
        # puts new PCI devices (addresses, an added root port), as with xml
        assert check['differences'] == real['differences'] and real['differences']
        for diff in (check['diff'][0], real['diff'][0]):
            assert "volume='%s-b.qcow2'" % name in diff['after'] and "network='%s'" % network in diff['after']
            assert "<currentMemory unit='KiB'>262144</currentMemory>" in diff['after']
        again = run_module('domain', args, diff=True)
        assert not again['changed'], again
        stored = etree.fromstring(qemu_conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode())
        assert xp(stored, 'currentMemory') == '262144'
        assert xp(stored, "devices/disk[target/@dev='vdb']/source/@volume") == name + '-b.qcow2'
        assert xp(stored, 'devices/interface/source/@network') == network
        # dropping the NIC again removes it (a device the user owns)
        dropped = run_module('domain', dict(args, spec=dict(spec, nics=[])))
        assert dropped['changed'] and not qemu_conn.lookupByName(name).XMLDesc(0).count('<interface')
    finally:
        cleanup_domain(qemu_conn, name)
        remove_volumes(qemu_conn, pool[0], name)


def test_overlay_volume_is_backed_by_its_base(qemu_conn, pool):
    name = unique_name('opt-cow')
    spec = dict(virt_type='qemu', memory=128, disks=[dict(pool=pool[0], volume=name + '.qcow2', backing='base.qcow2')])
    try:
        result = run_module('domain', dict(uri=QEMU_URI, name=name, spec=spec))
        assert result['changed'], result
        vol = qemu_conn.storagePoolLookupByName(pool[0]).storageVolLookupByName(name + '.qcow2')
        stored = etree.fromstring(vol.XMLDesc(0).encode())
        assert xp(stored, 'backingStore/path') == os.path.join(pool[1], 'base.qcow2')
        assert xp(stored, 'target/format/@type') == 'qcow2'
        assert xp(stored, 'capacity') == str(32 * 1024 * 1024)
    finally:
        cleanup_domain(qemu_conn, name)
        remove_volumes(qemu_conn, pool[0], name)


def _tpm_emulator_here(conn):
    caps = etree.fromstring(conn.getDomainCapabilities(None, 'x86_64', 'q35', 'qemu', 0).encode())
    return 'emulator' in caps.xpath("devices/tpm/enum[@name='backendModel']/value/text()")


INVALID = [
    ('uefi-no-firmware', dict(arch='i686', firmware='uefi'), 'UEFI firmware was asked for'),
    ('secure-boot-on-pc', dict(machine='pc', firmware='uefi', secure_boot=True), 'Secure boot was asked for'),
    ('ide-on-q35', dict(machine='q35', disks=[dict(device='cdrom', bus='ide')]), 'Disk bus ide is not available'),
    ('missing-network', dict(nics=[dict(network='sysvirt-test-no-such-network')]),
     'The network sysvirt-test-no-such-network does not exist'),
    ('missing-volume', dict(disks=[dict(pool='{pool}', volume='{name}-absent.qcow2')]),
     'The volume {name}-absent.qcow2 does not exist in pool {pool}'),
    ('unknown-machine', dict(machine='no-such-machine'), 'Machine type no-such-machine is not offered'),
    ('topology-mismatch', dict(max_vcpus=3, cpu=dict(sockets=1, cores=2)), 'must equal the maximum vCPUs'),
    ('bad-fragment', dict(extra_devices=['<panic']), 'extra_devices XML'),
]


@pytest.mark.parametrize('case', INVALID, ids=[c[0] for c in INVALID])
def test_invalid_combinations_define_nothing(qemu_conn, pool, case):
    label, spec, message = case
    name = unique_name('opt-bad-' + label)
    message = _fill(message, dict(pool=pool[0], name=name))
    spec = _fill(dict(spec, virt_type='qemu', memory=128,
                      disks=list(spec.get('disks', [])) + [dict(pool='{pool}', volume='{name}-new.qcow2', size=8)]),
                 dict(pool=pool[0], name=name))
    try:
        for check in (True, False):
            result = run_module('domain', dict(uri=QEMU_URI, name=name, spec=spec), check_mode=check)
            if check and label in ('missing-network', 'missing-volume'):
                # an earlier task of the play may create it: check mode warns and predicts
                assert not result.failed and message in str(result['warnings']), result
                continue
            assert result.failed and message in result['msg'], result
            assert 'Traceback' not in result.get('msg', '') and not result.get('exception')
            assert not result.get('changed')
        with pytest.raises(libvirt.libvirtError):
            qemu_conn.lookupByName(name)
        qemu_conn.storagePoolLookupByName(pool[0]).refresh()
        with pytest.raises(libvirt.libvirtError):
            qemu_conn.storagePoolLookupByName(pool[0]).storageVolLookupByName(name + '-new.qcow2')
    finally:
        cleanup_domain(qemu_conn, name)
        remove_volumes(qemu_conn, pool[0], name)


def test_tpm_needs_an_emulator(qemu_conn):
    """An emulated TPM: a clean error where libvirt has no TPM emulator (swtpm), else a guest with one."""
    name = unique_name('opt-tpm')
    spec = dict(virt_type='qemu', memory=128, machine='q35', tpm=dict(model='tpm-crb'))
    try:
        result = run_module('domain', dict(uri=QEMU_URI, name=name, spec=spec))
        if _tpm_emulator_here(qemu_conn):
            assert result['changed'] and not result.failed, result
        else:
            assert result.failed and 'cannot emulate one' in result['msg'] and 'swtpm' in result['hint'], result
            with pytest.raises(libvirt.libvirtError):
                qemu_conn.lookupByName(name)
    finally:
        cleanup_domain(qemu_conn, name)


def test_tiny_guest_boots_from_options(qemu_conn, pool):
    """The busybox test guest, TCG, direct kernel boot, a CD-ROM and a user-mode NIC: it runs and prints its
    marker; a second run changes nothing; the CD-ROM medium changes live with live_changes (the tiny guest has
    no balloon driver, so its memory cannot change live), and autostart is set."""
    if not os.path.exists(GUEST_KERNEL):
        pytest.fail('the tiny test guest is not built: run `bash scripts/build-test-guest.sh`', pytrace=False)
    name = unique_name('opt-boot')
    log = os.path.join(pool[1], name + '-serial.log')
    spec = dict(virt_type='qemu', machine='pc', memory=192, vcpus=1, kernel=GUEST_KERNEL, initrd=GUEST_INITRD,
                cmdline='console=ttyS0', serial=dict(log=log), nics=[dict(user=True, model='virtio')],
                disks=[dict(device='cdrom', path=os.path.join(pool[1], 'media.iso'))])
    args = dict(uri=QEMU_URI, name=name, spec=spec, state='running', timeout=60)
    try:
        check = run_module('domain', args, check_mode=True)
        assert check['actions'] == ['define', 'start'], check
        started = run_module('domain', args)
        assert started['actions'] == ['define', 'start'], started
        wait_for_console(log, MARKER_UP, timeout=90)
        again = run_module('domain', args)
        assert not again['changed'], again
        swapped = dict(spec, disks=[dict(device='cdrom', pool=pool[0], volume='data.raw')])
        live = run_module('domain', dict(args, spec=swapped, live_changes=True, autostart=True))
        assert live['changed'] and not live.failed, live
        dom = qemu_conn.lookupByName(name)
        assert 'data.raw' in dom.XMLDesc(0) and dom.autostart() == 1
        assert not run_module('domain', dict(args, spec=swapped, live_changes=True, autostart=True))['changed']
    finally:
        cleanup_domain(qemu_conn, name)


def test_linux_guest_provisioned_from_options(linux_guest, qemu_conn):
    """The session's real Linux guest is defined from options (utils/linux_guest.py) with a cloud-init seed:
    cloud-init made its user (SSH logs in with the run's key), and the same options again change nothing."""
    from utils.linux_guest import WORK_DIR, linux_guest_spec

    spec = linux_guest_spec(os.path.join(WORK_DIR, linux_guest.name + '.qcow2'),
                            os.path.join(WORK_DIR, linux_guest.name + '-seed.iso'), linux_guest.port,
                            serial_log=linux_guest.serial_log)
    again = run_module('domain', dict(uri=QEMU_URI, name=linux_guest.name, spec=spec, state='running'))
    assert not again.failed and not again['changed'], again
    # cloud-init has finished (the image's locale module may report an error; that is the image, not the seed)
    status = linux_guest.ssh('cloud-init', 'status', '--wait', timeout=300)
    assert re.search(r'^status: (done|error)$', status.stdout, re.M), status
    # what the seed says: the user (SSH logs in as it, with the run's key) and the hostname
    assert linux_guest.ssh('id', '-un').stdout.strip() == linux_guest.user
    assert linux_guest.ssh('hostname').stdout.strip() == 'sysvirt-test-guest'
