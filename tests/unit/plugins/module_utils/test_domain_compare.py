# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The domain comparison rules: what libvirt rewrites is no difference, what the user owns is."""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain, _xml

ALIASES = {('type', 'machine'): {'pc': 'pc-i440fx-7.2', 'q35': 'pc-q35-7.2'}}
RULES = _domain.DOMAIN_RULES.with_aliases(ALIASES)


def _doc(inner):
    return '<domain type="kvm"><name>d</name>%s</domain>' % inner


SAME = [
    ('memory in MiB, stored in KiB', "<memory unit='MiB'>512</memory>", "<memory unit='KiB'>524288</memory>"),
    ('memory without unit is KiB', '<memory>524288</memory>', "<memory unit='KiB'>524288</memory>"),
    ('memory rounded up by libvirt', "<memory unit='KiB'>524289</memory>", "<memory unit='KiB'>525312</memory>"),
    ('memory in GiB', "<currentMemory unit='G'>1</currentMemory>", "<currentMemory unit='KiB'>1048576</currentMemory>"),
    ('machine alias', "<os><type arch='x86_64' machine='pc'>hvm</type></os>",
     "<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><boot dev='hd'/></os>"),
    ('q35 alias', "<os><type machine='q35'>hvm</type></os>", "<os><type machine='pc-q35-7.2'>hvm</type></os>"),
    ('cpuset spelled differently', "<vcpu cpuset='0-3,^2'>2</vcpu>", "<vcpu placement='static' cpuset='0-1,3'>2</vcpu>"),
    ('numatune nodeset', "<numatune><memory nodeset='0,1'/></numatune>",
     "<numatune><memory mode='strict' nodeset='0-1'/></numatune>"),
    ('hex and decimal', "<devices><hostdev><source><address domain='0' bus='1'/></source></hostdev></devices>",
     "<devices><hostdev><source><address domain='0x0000' bus='0x01'/></source></hostdev></devices>"),
    ('libvirt adds controllers, inputs, memballoon, video, console',
     "<devices><disk type='file' device='disk'><target dev='vda'/></disk></devices>",
     "<devices><disk type='file' device='disk'><target dev='vda' bus='virtio'/><address type='pci'/></disk>"
     "<controller type='usb' index='0'/><controller type='pci' index='0' model='pci-root'/>"
     "<input type='mouse' bus='ps2'/><memballoon model='virtio'/><video><model type='cirrus'/></video>"
     "<console type='pty'/></devices>"),
    ('generated UUID and MAC', "<devices><interface type='network'><source network='default'/></interface></devices>",
     "<uuid>0a6f9a1c-7d39-4b7e-9a64-6f1b7b3a6e11</uuid><devices><interface type='network'>"
     "<mac address='52:54:00:12:34:56'/><source network='default'/><model type='virtio'/></interface></devices>"),
]

DIFFERENT = [
    ('more memory', "<memory unit='MiB'>1024</memory>", "<memory unit='KiB'>524288</memory>", '/domain/memory[1]'),
    ('memory rounded far beyond tolerance', "<memory unit='KiB'>524288</memory>",
     "<memory unit='KiB'>530432</memory>", '/domain/memory[1]'),
    ('other machine', "<os><type machine='q35'>hvm</type></os>", "<os><type machine='pc-i440fx-7.2'>hvm</type></os>",
     '/domain/os[1]/type[1]/@machine'),
    ('other cpuset', "<vcpu cpuset='0-3'>2</vcpu>", "<vcpu cpuset='0-2'>2</vcpu>", '/domain/vcpu[1]/@cpuset'),
    ('vcpu count', '<vcpu>4</vcpu>', "<vcpu placement='static'>2</vcpu>", '/domain/vcpu[1]'),
]

REMOVABLE = ['disk', 'interface', 'hostdev', 'filesystem', 'redirdev', 'smartcard', 'rng', 'tpm', 'sound',
             'watchdog', 'shmem', 'memory', 'vsock']
NOT_REMOVABLE = ['controller', 'input', 'memballoon', 'video', 'console', 'serial', 'channel', 'graphics',
                 'emulator', 'panic']


@pytest.mark.parametrize('what,desired,stored', SAME, ids=[c[0] for c in SAME])
def test_no_difference(what, desired, stored):
    assert _xml.differences(_domain.normalise_desired(_xml.parse(_doc(desired))), _doc(stored), RULES) == []


@pytest.mark.parametrize('what,desired,stored,path', DIFFERENT, ids=[c[0] for c in DIFFERENT])
def test_difference(what, desired, stored, path):
    diffs = _xml.differences(_doc(desired), _doc(stored), RULES)
    assert [d.path for d in diffs] == [path]


@pytest.mark.parametrize('tag', REMOVABLE)
def test_stored_user_device_left_out_is_a_difference(tag):
    diffs = _xml.differences(_doc('<devices/>'), _doc('<devices><%s/></devices>' % tag), RULES)
    assert [(d.path, d.reason) for d in diffs] == [('/domain/devices[1]/%s' % tag, 'extra')]


@pytest.mark.parametrize('tag', NOT_REMOVABLE)
def test_device_libvirt_may_add_is_no_difference(tag):
    assert _xml.differences(_doc('<devices/>'), _doc('<devices><%s/></devices>' % tag), RULES) == []


def test_numa_cell_sizes_normalised_to_kib():
    desired = _domain.normalise_desired(_xml.parse(_doc(
        "<cpu><numa><cell id='0' cpus='0-1' memory='512' unit='MiB'/></numa></cpu>")))
    stored = _doc("<cpu><numa><cell id='0' cpus='0-1' memory='524288' unit='KiB'/></numa></cpu>")
    assert _xml.differences(desired, stored, RULES) == []
    other = _doc("<cpu><numa><cell id='0' cpus='0-1' memory='262144' unit='KiB'/></numa></cpu>")
    assert [d.path for d in _xml.differences(desired, other, RULES)] == ['/domain/cpu[1]/numa[1]/cell[1]/@memory']


STORED_NICS = ("<domain><name>d</name><uuid>11111111-2222-3333-4444-555555555555</uuid><devices>"
               "<interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>"
               "<interface type='bridge'><mac address='52:54:00:00:00:02'/><source bridge='br0'/></interface>"
               "<interface type='network'><mac address='52:54:00:00:00:03'/><source network='default'/>"
               "<alias name='ua-net2'/></interface>"
               "</devices></domain>")


@pytest.mark.parametrize('desired,macs', [
    # matched by type and source, in order
    ("<interface type='network'><source network='default'/></interface>"
     "<interface type='bridge'><source bridge='br0'/></interface>", ['52:54:00:00:00:01', '52:54:00:00:00:02']),
    # the user alias wins over the order
    ("<interface type='network'><source network='default'/><alias name='ua-net2'/></interface>"
     "<interface type='network'><source network='default'/></interface>", ['52:54:00:00:00:03', '52:54:00:00:00:01']),
    # a MAC the user gives is kept and not handed out twice
    ("<interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>"
     "<interface type='network'><source network='default'/></interface>", ['52:54:00:00:00:01', '52:54:00:00:00:03']),
    # a NIC with another source gets no MAC (libvirt makes a new one: it is a new NIC)
    ("<interface type='network'><source network='other'/></interface>", [None]),
])
def test_mac_carry_over(desired, macs):
    doc = _xml.parse('<domain><name>d</name><devices>%s</devices></domain>' % desired)
    _domain.DomainKind().carry_over(doc, _xml.parse(STORED_NICS))
    assert _xml.find_text(doc, 'uuid') == '11111111-2222-3333-4444-555555555555'
    found = [(n.find('mac').get('address') if n.find('mac') is not None else None)
             for n in doc.findall('devices/interface')]
    assert found == macs


def test_machine_aliases_come_from_the_host(test_conn):
    rules = _domain.domain_rules(test_conn)
    assert rules.removable['devices'] == set(REMOVABLE)
    assert rules.default_units['memory'] == 'KiB'


def test_redact_masks_passwords():
    text = _domain.redact("<domain><devices><graphics type='vnc' passwd='s3cret'/></devices></domain>")
    assert 's3cret' not in text and "passwd='********'" in text


@pytest.mark.parametrize('path,inside', [
    ('/var/lib/libvirt/qemu/nvram/guest_VARS.fd', True),
    ('/usr/share/OVMF/OVMF_VARS.fd', False),
    ('/var/lib/libvirt/qemu/nvram/../../../../../usr/share/OVMF/OVMF_VARS.fd', False),
    ('/var/lib/libvirt/qemu/nvram-other/x.fd', False),
])
def test_nvram_only_removed_inside_libvirts_directory(path, inside):
    assert _domain._under(path, _domain.NVRAM_DIR) is inside


def test_state_names_follow_libvirt():
    assert _domain.STATE_NAMES[libvirt.VIR_DOMAIN_RUNNING] == 'running'
    assert _domain.STATE_NAMES[libvirt.VIR_DOMAIN_SHUTOFF] == 'shutoff'
