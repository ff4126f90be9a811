# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_domain_spec: options -> domain XML, and the defaults read from (canned) host capabilities."""

from __future__ import annotations

import libvirt
import pytest
from lxml import etree

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain_spec as ds
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure

DOMCAPS = """<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path><domain>kvm</domain><machine>pc-q35-7.2</machine><arch>x86_64</arch>
  <os supported='yes'>
    <enum name='firmware'>%(firmware)s</enum>
    <loader supported='yes'><enum name='secure'>%(secure)s</enum></loader>
  </os>
  <cpu>
    <mode name='host-passthrough' supported='%(passthrough)s'/>
    <mode name='maximum' supported='yes'/>
    <mode name='host-model' supported='no'/>
    <mode name='custom' supported='yes'/>
  </cpu>
  <devices>
    <disk supported='yes'><enum name='bus'>%(buses)s</enum></disk>
    <graphics supported='yes'><enum name='type'><value>vnc</value></enum></graphics>
    <rng supported='yes'><enum name='model'>%(rng)s</enum></rng>
    <tpm supported='%(tpm)s'><enum name='backendModel'>%(tpm_backends)s</enum></tpm>
  </devices>
</domainCapabilities>"""


def values(*names):
    return ''.join('<value>%s</value>' % n for n in names)


def host(virt_type='kvm', machine='pc-q35-7.2', features=('acpi', 'apic'), emulator='/usr/bin/qemu-system-x86_64',
         domcaps=True, **over):
    fields = dict(firmware=values('efi'), secure=values('yes', 'no'), passthrough='yes',
                  buses=values('fdc', 'scsi', 'virtio', 'usb', 'sata'), rng=values('virtio'), tpm='yes',
                  tpm_backends=values('passthrough', 'emulator'))
    fields.update(over)
    caps = etree.fromstring(DOMCAPS % fields) if domcaps else None
    return ds.HostDefaults('x86_64', virt_type, machine, ['pc', 'q35', 'pc-q35-7.2'], emulator, features, caps)


def render(spec, h=None, formats=None):
    return ds.render(dict(spec), 'g1', h or host(), formats)


def one(root, path):
    found = root.xpath(path)
    assert len(found) == 1, (path, etree.tostring(root).decode())
    value = found[0]
    return value if isinstance(value, str) else (value.text or '')


def failure(spec, h=None, formats=None):
    with pytest.raises(LibvirtFailure) as info:
        render(spec, h, formats)
    return info.value


# --- general ------------------------------------------------------------------------------------------------

def test_minimal_generic_guest():
    root = render(dict(memory=512))
    assert root.tag == 'domain' and root.get('type') == 'kvm'
    assert one(root, 'name') == 'g1'
    assert one(root, 'memory') == '524288' and one(root, 'memory/@unit') == 'KiB'
    assert one(root, 'currentMemory') == '524288'
    assert one(root, 'vcpu') == '1' and root.find('vcpu').get('current') is None
    assert one(root, 'vcpu/@placement') == 'static'
    assert one(root, 'os/type') == 'hvm' and one(root, 'os/type/@arch') == 'x86_64'
    assert one(root, 'os/type/@machine') == 'pc-q35-7.2'
    assert root.find('os').get('firmware') is None and root.find('os/firmware') is None
    assert [f.tag for f in root.find('features')] == ['acpi', 'apic']
    assert root.find('cpu') is None  # generic: the hypervisor's default CPU
    assert one(root, 'clock/@offset') == 'utc' and root.find('clock/timer') is None
    assert one(root, 'devices/emulator') == '/usr/bin/qemu-system-x86_64'
    assert one(root, 'devices/serial/@type') == 'pty' and one(root, 'devices/serial/target/@port') == '0'
    for tag in ('disk', 'interface', 'graphics', 'channel', 'rng', 'tpm', 'watchdog', 'controller'):
        assert root.find('devices/' + tag) is None, tag
    assert [c.tag for c in root] == ['name', 'memory', 'currentMemory', 'vcpu', 'os', 'features', 'clock', 'devices']
    linux = render(dict(memory=64, os='linux2022'))
    assert [c.tag for c in linux][4:8] == ['os', 'features', 'cpu', 'clock']


@pytest.mark.parametrize('value, expected', [(512, 524288), ('512', 524288), ('1GiB', 1048576), ('1024KiB', 1024),
                                             ('2G', 2097152), ('2GB', 1953125), ('1025KiB', 1025)])
def test_memory_units(value, expected):
    assert ds.kib(value, 'memory') == expected


@pytest.mark.parametrize('value', ['0', '1000b', 'lots', -1])
def test_memory_that_is_no_size(value):
    with pytest.raises(LibvirtFailure) as info:
        ds.kib(value, 'memory')
    assert info.value.msg.startswith('memory: ')


def test_max_memory_is_memory_and_memory_is_current():
    root = render(dict(memory=256, max_memory='1GiB'))
    assert one(root, 'memory') == '1048576' and one(root, 'currentMemory') == '262144'
    assert 'more than max_memory' in failure(dict(memory=2048, max_memory=1024)).msg
    root = render(dict(memory=1024, max_memory=1024))
    assert one(root, 'memory') == one(root, 'currentMemory') == '1048576'


@pytest.mark.parametrize('spec, counts', [
    (dict(), (1, 1)),
    (dict(vcpus=3), (3, 3)),
    (dict(max_vcpus=4), (4, 4)),
    (dict(vcpus=2, max_vcpus=4), (2, 4)),
    (dict(cpu=dict(sockets=2, cores=2, threads=2)), (8, 8)),
    (dict(cpu=dict(cores=3)), (3, 3)),
    (dict(vcpus=1, cpu=dict(sockets=1, cores=2, threads=1)), (1, 2)),
])
def test_vcpu_counts(spec, counts):
    assert ds.vcpu_counts(spec) == counts


def test_vcpu_current_only_when_below_maximum():
    root = render(dict(memory=64, vcpus=2, max_vcpus=4))
    assert one(root, 'vcpu') == '4' and one(root, 'vcpu/@current') == '2'
    root = render(dict(memory=64, vcpus=4, max_vcpus=4))
    assert root.find('vcpu').get('current') is None


@pytest.mark.parametrize('spec, words', [
    (dict(max_vcpus=3, cpu=dict(sockets=1, cores=2)), 'must equal the maximum vCPUs (3)'),
    (dict(vcpus=5, max_vcpus=4), 'vcpus (5) is more than max_vcpus (4)'),
])
def test_vcpu_mistakes(spec, words):
    with pytest.raises(LibvirtFailure) as info:
        ds.vcpu_counts(spec)
    assert words in info.value.msg


# --- CPU ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('hint', ['linux2018', 'linux2022', 'win10', 'win11'])
def test_cpu_defaults_by_hint_and_domain_type(hint):
    spec = dict(memory=64, os=hint, tpm=None)
    assert one(render(spec), 'cpu/@mode') == 'host-passthrough'
    assert render(spec, host(virt_type='qemu')).find('cpu') is None
    assert render(spec, host(passthrough='no')).find('cpu') is None
    assert one(render(spec, host(domcaps=False)), 'cpu/@mode') == 'host-passthrough'
    assert render(dict(memory=64), host()).find('cpu') is None  # generic: the hypervisor's default


def test_cpu_model_and_topology():
    root = render(dict(memory=64, cpu=dict(model='EPYC', sockets=1, cores=2, threads=2)))
    cpu = root.find('cpu')
    assert (cpu.get('mode'), cpu.get('match')) == ('custom', 'exact')
    assert one(root, 'cpu/model') == 'EPYC' and one(root, 'cpu/model/@fallback') == 'forbid'
    assert dict(cpu.find('topology').attrib) == dict(sockets='1', cores='2', threads='2')
    assert one(root, 'vcpu') == '4'
    root = render(dict(memory=64, cpu=dict(cores=2)), host(virt_type='qemu'))
    assert dict(root.find('cpu/topology').attrib) == dict(sockets='1', cores='2', threads='1')
    assert root.find('cpu').get('mode') is None


@pytest.mark.parametrize('cpu, words', [
    (dict(mode='custom'), 'needs a model'),
    (dict(mode='host-model'), 'CPU mode host-model is not supported'),
    (dict(mode='maximum', model='EPYC'), 'cpu.model needs cpu mode custom, not maximum'),
])
def test_cpu_mistakes(cpu, words):
    assert words in failure(dict(memory=64, cpu=cpu)).msg


def test_cpu_mode_the_host_supports():
    assert one(render(dict(memory=64, cpu=dict(mode='maximum'))), 'cpu/@mode') == 'maximum'


def test_cpu_from_a_baseline_document():
    baseline = ("<cpu><arch>x86_64</arch><model fallback='allow'>EPYC-Rome</model><vendor>AMD</vendor>"
                "<topology sockets='9'/><feature policy='require' name='x2apic'/></cpu>")
    root = render(dict(memory=64, cpu=dict(xml=baseline, cores=2)))
    cpu = root.find('cpu')
    assert (cpu.get('mode'), cpu.get('match')) == ('custom', 'exact')
    assert cpu.find('arch') is None and one(root, 'cpu/model') == 'EPYC-Rome'
    assert dict(cpu.find('topology').attrib) == dict(sockets='1', cores='2', threads='1')
    assert one(root, 'cpu/feature/@name') == 'x2apic'
    kept = render(dict(memory=64, cpu=dict(xml="<cpu mode='host-model' match='minimum'><model>x</model></cpu>")))
    assert (kept.find('cpu').get('mode'), kept.find('cpu').get('match')) == ('host-model', 'minimum')


# --- OS, firmware, boot -------------------------------------------------------------------------------------

def test_uefi_and_secure_boot():
    root = render(dict(memory=64, firmware='uefi'))
    assert root.find('os').get('firmware') == 'efi'
    assert root.find('os/firmware') is None  # libvirt chooses among the host's firmware
    assert root.find('features/smm') is None
    root = render(dict(memory=64, firmware='uefi', secure_boot=False))
    assert [(f.get('name'), f.get('enabled')) for f in root.findall('os/firmware/feature')] == [
        ('enrolled-keys', 'no'), ('secure-boot', 'no')]
    assert root.find('features/smm') is None
    root = render(dict(memory=64, firmware='uefi', secure_boot=True))
    assert [f.get('enabled') for f in root.findall('os/firmware/feature')] == ['yes', 'yes']
    assert one(root, 'features/smm/@state') == 'on'


@pytest.mark.parametrize('spec, over, msg, hint', [
    (dict(firmware='uefi'), dict(firmware=''),
     'UEFI firmware was asked for, but the host has no UEFI firmware for machine type pc-q35-7.2 (kvm x86_64)',
     'Install the UEFI firmware for this architecture (ovmf on Debian for x86_64), or use firmware: bios'),
    (dict(firmware='uefi', secure_boot=True), dict(secure=values('no')),
     'Secure boot was asked for, but the host has no secure-boot UEFI firmware for machine type pc-q35-7.2',
     'Secure boot needs a machine type with SMM, such as q35 (machine: q35)'),
    (dict(secure_boot=True), dict(secure=values('no')), 'secure_boot needs firmware: uefi',
     'Set firmware: uefi (and a machine type with SMM, such as q35)'),
    (dict(os='win11'), dict(tpm_backends=values('passthrough')),
     'An emulated TPM was asked for, but this host cannot emulate one (no TPM emulator backend)',
     'Install swtpm (the package swtpm-tools on Debian) and restart libvirtd, or leave tpm unset (and use an os '
     'hint other than win11)'),
    (dict(tpm=dict(model='tpm-crb')), dict(tpm='no'),
     'An emulated TPM was asked for, but this host cannot emulate one (no TPM emulator backend)', None),
    (dict(graphics=dict(type='spice')), {}, 'Graphics spice is not available here', 'Graphics types offered: vnc'),
    (dict(rng=True), dict(rng=values('virtio-transitional', 'egd')),
     'A virtio RNG was asked for, but this host has no virtio RNG model',
     'RNG models offered here: virtio-transitional, egd; set rng: false'),
    (dict(disks=[dict(device='cdrom', bus='ide')]), {}, 'Disk bus ide is not available on machine type pc-q35-7.2 here',
     'Disk buses this machine type has: fdc, scsi, virtio, usb, sata'),
])
def test_what_the_host_cannot_give(spec, over, msg, hint):
    error = failure(dict(memory=64, **spec), host(**over))
    assert error.msg == msg
    assert error.hint == hint if hint is not None else error.hint


@pytest.mark.parametrize('spec, msg', [
    (dict(os='plan9'), 'Unknown os hint plan9'),
    (dict(max_memory=32), 'memory (64) is more than max_memory (32)'),
    (dict(initrd='/i'), 'initrd and cmdline need kernel (direct kernel boot)'),
    (dict(cpu=dict(mode='custom')), 'cpu mode custom needs a model (cpu.model)'),
    (dict(cpu=dict(mode='maximum', model='m')), 'cpu.model needs cpu mode custom, not maximum'),
    (dict(cpu=dict(mode='host-model')), 'CPU mode host-model is not supported for kvm guests here'),
    (dict(max_vcpus=3, cpu=dict(cores=2)),
     'The CPU topology (sockets x cores x threads = 2) must equal the maximum vCPUs (3)'),
    (dict(vcpus=3, max_vcpus=2), 'vcpus (3) is more than max_vcpus (2)'),
    (dict(disks=[dict(volume='v')]), 'Disk volume v needs its pool (pool)'),
    (dict(disks=[dict()]), 'A disk needs a volume (with its pool) or a path; only a cdrom or floppy drive may be empty'),
    (dict(nics=[dict()]), 'A NIC needs one of network, bridge, direct or user'),
    (dict(nics=[dict(network='n', mac='x')]), 'NIC MAC address x is not of the form 52:54:00:xx:xx:xx'),
    (dict(extra_elements=['<uuid/>']), 'extra_elements cannot replace <uuid>; use the name option or extra_devices'),
])
def test_exact_messages(spec, msg):
    assert failure(dict(dict(memory=64), **spec)).msg == msg


def test_exact_hints():
    assert failure(dict(memory=64, os='plan9')).hint == 'Known hints: generic, linux2018, linux2022, win10, win11'
    with pytest.raises(LibvirtFailure) as info:
        ds.kib('1000b', 'max_memory')
    assert info.value.msg == 'max_memory: 1000b is not a whole number of KiB above zero'
    with pytest.raises(LibvirtFailure) as info:
        ds.kib('lots', 'memory')
    assert info.value.msg.startswith('memory: ') and 'lots' in info.value.msg


def test_details_the_renderer_must_keep():
    root = render(dict(memory=64, kernel='/k', initrd='/i', cmdline='c'))
    assert [(c.tag, c.text) for c in root.find('os')][1:] == [('kernel', '/k'), ('initrd', '/i'), ('cmdline', 'c')]
    assert one(root, 'currentMemory/@unit') == 'KiB'
    assert dict(render(dict(memory=64, cpu=dict(sockets=2)), host(virt_type='qemu')).find('cpu/topology').attrib) \
        == dict(sockets='2', cores='1', threads='1')
    custom = render(dict(memory=64, cpu=dict(xml="<cpu match='minimum'><model>m</model></cpu>")))
    assert (custom.find('cpu').get('mode'), custom.find('cpu').get('match')) == ('custom', 'minimum')
    assert one(render(dict(memory=64, os='win10'), host(virt_type='qemu')), 'features/hyperv/@mode') == 'custom'
    floppy = render(dict(memory=64, disks=[dict(device='floppy')]))
    assert one(floppy, 'devices/disk/driver/@type') == 'raw' and floppy.find('devices/disk/source') is None
    bad = failure(dict(memory=64, cpu=dict(xml='<notcpu/>')))
    assert bad.msg == 'CPU XML must have a <cpu> root element, not <notcpu>'


def test_without_domain_capabilities_nothing_is_checked():
    h = host(domcaps=False, virt_type='test', features=(), emulator=None)
    root = render(dict(memory=64, firmware='uefi', secure_boot=True, tpm=dict(model='tpm-tis'), rng=True,
                       graphics=dict(type='spice'), disks=[dict(device='cdrom', bus='ide')]), h)
    assert root.find('os').get('firmware') == 'efi' and one(root, 'devices/tpm/@model') == 'tpm-tis'
    assert one(root, 'devices/disk/target/@bus') == 'ide'
    assert root.find('devices/emulator') is None and [f.tag for f in root.find('features')] == ['smm']


def test_no_features_element_when_the_host_has_none():
    assert render(dict(memory=64), host(features=('pae',))).find('features') is None


def test_direct_kernel_boot_and_boot_order():
    root = render(dict(memory=64, kernel='/k', initrd='/i', cmdline='console=ttyS0', boot=['cdrom', 'hd']))
    os_el = root.find('os')
    assert [c.tag for c in os_el] == ['type', 'kernel', 'initrd', 'cmdline', 'boot', 'boot']
    assert [b.get('dev') for b in os_el.findall('boot')] == ['cdrom', 'hd']
    assert 'need kernel' in failure(dict(memory=64, initrd='/i')).msg
    assert 'need kernel' in failure(dict(memory=64, cmdline='x')).msg


# --- OS hints -----------------------------------------------------------------------------------------------

def test_unknown_hint():
    error = failure(dict(memory=64, os='plan9'))
    assert 'Unknown os hint plan9' in error.msg and 'linux2022' in error.hint


def test_linux_hint():
    root = render(dict(memory=64, os='linux2022', disks=[dict(path='/d.img')], nics=[dict(network='n')]))
    assert one(root, 'devices/disk/target/@bus') == 'virtio' and one(root, 'devices/disk/target/@dev') == 'vda'
    assert one(root, 'devices/interface/model/@type') == 'virtio'
    assert one(root, 'devices/channel/target/@name') == 'org.qemu.guest_agent.0'
    assert one(root, 'devices/channel/@type') == 'unix' and one(root, 'devices/channel/target/@type') == 'virtio'
    assert one(root, 'devices/rng/@model') == 'virtio' and one(root, 'devices/rng/backend') == '/dev/urandom'
    assert one(root, 'devices/rng/backend/@model') == 'random'
    off = render(dict(memory=64, os='linux2022', rng=False, guest_agent=False))
    assert off.find('devices/rng') is None and off.find('devices/channel') is None


def test_generic_hint():
    root = render(dict(memory=64, disks=[dict(path='/d.img')], nics=[dict(network='n')]))
    assert one(root, 'devices/disk/target/@bus') == 'sata' and one(root, 'devices/disk/target/@dev') == 'sda'
    assert one(root, 'devices/interface/model/@type') == 'e1000'


def test_windows_hints():
    root = render(dict(memory=64, os='win11', disks=[dict(path='/d.img')], nics=[dict(network='n')]))
    assert root.find('os').get('firmware') == 'efi' and one(root, 'features/smm/@state') == 'on'
    assert one(root, 'devices/tpm/@model') == 'tpm-crb'
    assert one(root, 'devices/tpm/backend/@type') == 'emulator' and one(root, 'devices/tpm/backend/@version') == '2.0'
    assert one(root, 'clock/@offset') == 'localtime' and one(root, 'clock/timer/@name') == 'hypervclock'
    assert one(root, 'clock/timer/@present') == 'yes'
    assert one(root, 'features/hyperv/@mode') == 'custom'
    assert [(h.tag, h.get('state')) for h in root.find('features/hyperv')] == [
        ('relaxed', 'on'), ('vapic', 'on'), ('spinlocks', 'on')]
    assert one(root, 'features/hyperv/spinlocks/@retries') == '8191'
    assert one(root, 'devices/disk/target/@bus') == 'sata' and one(root, 'devices/interface/model/@type') == 'e1000e'
    win10 = render(dict(memory=64, os='win10'))
    assert win10.find('os').get('firmware') is None and win10.find('devices/tpm') is None
    assert render(dict(memory=64, os='win10'), host(virt_type='test')).find('features/hyperv') is None


class FakeConn:
    """Capabilities with one x86_64 guest (machines ``machines``) and canned domain capabilities."""

    def __init__(self, machines=('pc', 'q35'), domcaps=None, error=None):
        self.machines = machines
        self.domcaps = domcaps
        self.error = error
        self.asked = []

    def getCapabilities(self):
        return ("<capabilities><host><cpu><arch>x86_64</arch></cpu></host><guest><os_type>hvm</os_type>"
                "<arch name='x86_64'><emulator>/caps/emulator</emulator>%s<domain type='qemu'/></arch>"
                "<features><acpi/></features></guest></capabilities>"
                % ''.join('<machine>%s</machine>' % m for m in self.machines))

    def getDomainCapabilities(self, emulator, arch, machine, virt_type, flags):
        self.asked.append((emulator, arch, machine, virt_type, flags))
        if self.error is not None:
            raise self.error
        return self.domcaps or ("<domainCapabilities><path>/dc/emulator</path><machine>pc-i440fx-7.2</machine>"
                                "</domainCapabilities>")


def test_read_host_hint_machine_only_when_the_host_has_it():
    conn = FakeConn()
    h = ds.read_host(conn, {}, ds.OS_HINTS['linux2022'])
    expected = ('x86_64', 'qemu', 'q35', '/dc/emulator', ['acpi'])
    assert (h.arch, h.virt_type, h.machine, h.emulator, h.features) == expected
    assert conn.asked == [(None, 'x86_64', 'q35', 'qemu', 0)]
    conn = FakeConn(machines=('pc',))
    h = ds.read_host(conn, {}, ds.OS_HINTS['linux2022'])
    assert h.machine == 'pc-i440fx-7.2' and conn.asked == [(None, 'x86_64', None, 'qemu', 0)]
    h = ds.read_host(FakeConn(), dict(machine='pc'), ds.OS_HINTS['linux2022'])
    assert h.machine == 'pc' and h.machines == ['pc', 'q35']


def test_read_host_without_domain_capabilities():
    error = libvirt.libvirtError('no support')
    error.err = (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_FROM_NONE, 'no support', 0, None, None, None, 0, 0)
    h = ds.read_host(FakeConn(error=error), {}, ds.OS_HINTS['generic'])
    assert (h.domcaps, h.machine, h.emulator) == (None, None, '/caps/emulator')


def test_read_host_domain_capabilities_failure():
    error = libvirt.libvirtError('bad')
    error.err = (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_QEMU, 'bad machine', 0, None, None, None, 0, 0)
    with pytest.raises(LibvirtFailure) as info:
        ds.read_host(FakeConn(error=error), dict(machine='q35'), ds.OS_HINTS['generic'])
    assert info.value.msg == ('Failed to read the domain capabilities for qemu x86_64 guests of machine type q35: '
                              'bad machine')
    assert info.value.code == libvirt.VIR_ERR_INVALID_ARG and info.value.hint == 'Machine types offered here: pc, q35'


# --- disks --------------------------------------------------------------------------------------------------

def test_disk_sources_and_driver():
    root = render(dict(memory=64, os='linux2022', disks=[
        dict(pool='p', volume='v.qcow2', cache='none', io='native', discard='unmap'),
        dict(path='/dev/sdz'),
        dict(path='/img.raw', readonly=True, boot_order=1, target='vdq'),
        dict(device='cdrom', path='/x.iso'),
        dict(device='cdrom'),
        dict(device='floppy', path='/f.img'),
    ]), formats={('p', 'v.qcow2'): 'qcow2'})
    disks = root.findall('devices/disk')
    assert [(d.get('type'), d.get('device')) for d in disks] == [
        ('volume', 'disk'), ('block', 'disk'), ('file', 'disk'), ('file', 'cdrom'), ('file', 'cdrom'),
        ('file', 'floppy')]
    assert dict(disks[0].find('driver').attrib) == dict(name='qemu', type='qcow2', cache='none', io='native',
                                                        discard='unmap')
    assert dict(disks[0].find('source').attrib) == dict(pool='p', volume='v.qcow2')
    assert dict(disks[1].find('source').attrib) == dict(dev='/dev/sdz')
    assert dict(disks[2].find('source').attrib) == {'file': '/img.raw'}
    assert [d.find('target').get('dev') for d in disks] == ['vda', 'vdb', 'vdq', 'sda', 'sdb', 'fda']
    assert [d.find('target').get('bus') for d in disks] == ['virtio', 'virtio', 'virtio', 'sata', 'sata', 'fdc']
    assert [d.find('readonly') is not None for d in disks] == [False, False, True, True, True, False]
    assert one(root, 'devices/disk/boot/@order') == '1'
    assert disks[4].find('source') is None
    assert [d.find('driver').get('type') for d in disks] == ['qcow2', 'raw', 'raw', 'raw', 'raw', 'raw']


def test_disk_format_rules():
    assert ds.disk_format(dict(device='disk', format='vmdk', path='/x'), {('/x',): 'raw'}) == 'vmdk'
    assert ds.disk_format(dict(device='cdrom', path='/x'), {('/x',): 'qcow2'}) == 'raw'
    assert ds.disk_format(dict(device='disk', path='/x'), {('/x',): 'qcow2'}) == 'qcow2'
    assert ds.disk_format(dict(device='disk', pool='p', volume='n', size=8), {}) == 'qcow2'
    assert ds.disk_format(dict(device='disk', pool='p', volume='n', backing='b'), {}) == 'qcow2'
    assert ds.disk_format(dict(device='disk', path='/x'), {}) == 'raw'
    assert ds.disk_format(dict(device='cdrom'), {}) == 'raw'


def test_scsi_bus_adds_a_virtio_scsi_controller():
    root = render(dict(memory=64, disks=[dict(path='/a', bus='scsi'), dict(path='/b', bus='sata')]))
    assert one(root, "devices/controller/@model") == 'virtio-scsi'
    assert one(root, "devices/controller/@type") == 'scsi' and one(root, "devices/controller/@index") == '0'
    assert [d.get('dev') for d in root.findall('devices/disk/target')] == ['sda', 'sdb']
    assert render(dict(memory=64, disks=[dict(path='/a', bus='sata')])).find('devices/controller') is None


@pytest.mark.parametrize('buses, disk, expected', [
    (None, dict(device='cdrom'), 'sata'),
    (['ide', 'sata'], dict(device='cdrom'), 'ide'),
    (['sata', 'virtio'], dict(device='cdrom'), 'sata'),
    (['ide', 'virtio'], dict(device='disk'), 'ide'),
    (['fdc', 'sata'], dict(device='floppy'), 'fdc'),
    (['sata'], dict(device='disk', bus='sata'), 'sata'),
])
def test_disk_bus_defaults(buses, disk, expected):
    h = host(buses=values(*buses)) if buses is not None else host(domcaps=False)
    assert ds.disk_bus(disk, {}, ds.OS_HINTS['generic'], h) == expected


def test_virtio_only_where_the_machine_has_it():
    h = host(buses=values('ide', 'sata'))
    assert ds.disk_bus(dict(device='disk'), {}, ds.OS_HINTS['linux2022'], h) == 'ide'
    assert ds.disk_bus(dict(device='cdrom'), {}, ds.OS_HINTS['linux2022'], host()) == 'sata'


@pytest.mark.parametrize('disk, words', [
    (dict(volume='v'), 'needs its pool'),
    (dict(), 'needs a volume (with its pool) or a path'),
])
def test_disk_mistakes(disk, words):
    assert words in failure(dict(memory=64, disks=[disk])).msg


def test_target_names():
    disks = [dict(), dict(target='vda'), dict(), dict(), dict(), dict()]
    buses = ['virtio', 'virtio', 'virtio', 'scsi', 'usb', 'ide']
    assert ds.target_names(disks, buses) == ['vdb', 'vda', 'vdc', 'sda', 'sdb', 'hda']
    assert ds.target_names([dict()], ['weird']) == ['sda']


@pytest.mark.parametrize('index, letters', [(0, 'a'), (1, 'b'), (25, 'z'), (26, 'aa'), (27, 'ab'), (701, 'zz'),
                                            (702, 'aaa')])
def test_letters(index, letters):
    assert ds._letters(index) == letters


# --- NICs, consoles, other devices --------------------------------------------------------------------------

def test_nics():
    root = render(dict(memory=64, nics=[
        dict(network='default'), dict(bridge='br0', model='virtio'), dict(direct='eth0'),
        dict(direct='eth1', mode='vepa'), dict(user=True, mac='52:54:00:AB:CD:EF', boot_order=2)]))
    nics = root.findall('devices/interface')
    assert [n.get('type') for n in nics] == ['network', 'bridge', 'direct', 'direct', 'user']
    assert [dict(n.find('source').attrib) if n.find('source') is not None else None for n in nics] == [
        dict(network='default'), dict(bridge='br0'), dict(dev='eth0', mode='bridge'), dict(dev='eth1', mode='vepa'),
        None]
    assert [n.find('model').get('type') for n in nics] == ['e1000', 'virtio', 'e1000', 'e1000', 'e1000']
    assert one(root, 'devices/interface/mac/@address') == '52:54:00:ab:cd:ef'
    assert [c.tag for c in nics[4]] == ['mac', 'model', 'boot']
    assert one(root, 'devices/interface/boot/@order') == '2'


@pytest.mark.parametrize('nic, words', [
    (dict(), 'needs one of network, bridge, direct or user'),
    (dict(user=False), 'needs one of network, bridge, direct or user'),
    (dict(network='n', mac='nope'), 'is not of the form'),
])
def test_nic_mistakes(nic, words):
    assert words in failure(dict(memory=64, nics=[nic])).msg


def test_graphics_and_serial():
    root = render(dict(memory=64, graphics=dict(type='vnc', listen='0.0.0.0'), serial=dict(log='/l')))
    assert one(root, 'devices/graphics/@type') == 'vnc' and one(root, 'devices/graphics/@autoport') == 'yes'
    assert dict(root.find('devices/graphics/listen').attrib) == dict(type='address', address='0.0.0.0')
    assert dict(root.find('devices/serial/log').attrib) == {'file': '/l', 'append': 'on'}
    assert [c.tag for c in root.find('devices/serial')] == ['log', 'target']
    default_listen = render(dict(memory=64, graphics=dict(type='vnc')))
    assert one(default_listen, 'devices/graphics/listen/@address') == '127.0.0.1'
    none = render(dict(memory=64, graphics=dict(type='none'), serial=dict(type='none')))
    assert none.find('devices/graphics') is None and none.find('devices/serial') is None


def test_watchdog_and_tpm():
    root = render(dict(memory=64, watchdog=dict(model='itco', action='poweroff'), tpm=dict(model='tpm-tis',
                                                                                           version='1.2')))
    assert dict(root.find('devices/watchdog').attrib) == dict(model='itco', action='poweroff')
    assert one(root, 'devices/tpm/@model') == 'tpm-tis' and one(root, 'devices/tpm/backend/@version') == '1.2'
    defaults = render(dict(memory=64, watchdog=dict(), tpm=dict()))
    assert dict(defaults.find('devices/watchdog').attrib) == dict(model='i6300esb', action='reset')
    assert one(defaults, 'devices/tpm/@model') == 'tpm-crb' and one(defaults, 'devices/tpm/backend/@version') == '2.0'


def test_device_order():
    root = render(dict(memory=64, os='linux2022', disks=[dict(path='/a', bus='scsi')], nics=[dict(network='n')],
                       graphics=dict(type='vnc'), watchdog=dict(), tpm=dict(), extra_devices=['<panic/>']))
    assert [c.tag for c in root.find('devices')] == [
        'emulator', 'disk', 'controller', 'interface', 'graphics', 'serial', 'channel', 'rng', 'tpm', 'watchdog',
        'panic']


def test_raw_fragments():
    root = render(dict(memory=64, extra_devices=["<panic model='isa'/>"],
                       extra_elements=["<clock offset='localtime'/>", '<on_reboot>destroy</on_reboot>']))
    assert one(root, 'devices/panic/@model') == 'isa'
    assert one(root, 'clock/@offset') == 'localtime' and len(root.findall('clock')) == 1
    assert [c.tag for c in root][-3:] == ['clock', 'on_reboot', 'devices']
    for tag in ('name', 'uuid', 'devices'):
        assert 'cannot replace <%s>' % tag in failure(dict(memory=64, extra_elements=['<%s/>' % tag])).msg
    broken = failure(dict(memory=64, extra_devices=['<panic'])).msg
    assert broken.startswith('extra_devices XML') and broken.count('extra_devices XML') == 1
    assert failure(dict(memory=64, extra_elements=['<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'])).msg.startswith(
        'extra_elements XML')


# --- the host -----------------------------------------------------------------------------------------------

ARCHES = [('i686', ['qemu', 'kvm'], ['pc'], '/usr/bin/qemu-system-i386', ['acpi']),
          ('x86_64', ['qemu'], ['pc', 'q35'], '/usr/bin/qemu-system-x86_64', ['acpi', 'apic']),
          ('x86_64', ['kvm'], ['pc'], None, [])]


@pytest.mark.parametrize('arch, virt_type, host_arch, expected', [
    (None, None, 'x86_64', ('x86_64', 'kvm')),
    (None, None, 'aarch64', ('i686', 'kvm')),
    ('i686', 'qemu', 'x86_64', ('i686', 'qemu')),
    (None, 'qemu', 'x86_64', ('x86_64', 'qemu')),
])
def test_choose_guest(arch, virt_type, host_arch, expected):
    chosen = ds.choose_guest(ARCHES, arch, virt_type, host_arch)
    assert chosen[:2] == expected
    assert chosen[2:] == (ARCHES[0] if chosen[0] == 'i686' else ARCHES[1])[2:]


def test_choose_guest_prefers_qemu_over_others_without_kvm():
    assert ds.choose_guest([('x86_64', ['xen', 'qemu'], [], None, [])])[1] == 'qemu'
    assert ds.choose_guest([('x86_64', ['test'], [], None, [])])[1] == 'test'


@pytest.mark.parametrize('arches, arch, virt_type, words', [
    ([], None, None, 'no hvm guest at all'),
    (ARCHES, 'aarch64', None, 'no hvm guest of architecture aarch64'),
    (ARCHES, 'i686', 'xen', 'no xen guest of architecture i686'),
])
def test_choose_guest_mistakes(arches, arch, virt_type, words):
    with pytest.raises(LibvirtFailure) as info:
        ds.choose_guest(arches, arch, virt_type, 'x86_64')
    assert words in info.value.msg


def test_guest_arches_from_capabilities():
    caps = etree.fromstring(
        "<capabilities><guest><os_type>hvm</os_type><arch name='x86_64'><emulator>/e</emulator>"
        "<machine canonical='pc-q35-7.2'>q35</machine><machine>pc-q35-7.2</machine><domain type='qemu'/>"
        "<domain type='kvm'><machine>kvm-only</machine></domain></arch><features><acpi/><apic/></features></guest>"
        "<guest><os_type>xen</os_type><arch name='x86_64'><domain type='xen'/></arch></guest>"
        "<guest><os_type>hvm</os_type></guest></capabilities>")
    assert ds._guest_arches(caps) == [('x86_64', ['qemu', 'kvm'], ['q35', 'pc-q35-7.2', 'kvm-only'], '/e',
                                       ['acpi', 'apic'])]


def test_read_host_on_the_test_driver(test_conn):
    """The test driver has no domain capabilities: the guest comes from its capabilities alone."""
    h = ds.read_host(test_conn, {}, ds.OS_HINTS['linux2022'])
    assert (h.arch, h.virt_type, h.domcaps) == ('i686', 'test', None)
    assert h.machine is None and h.emulator == '/usr/bin/test-hv' and h.firmwares is None and h.disk_buses is None
    assert h.supported('devices/tpm') is None
    # it lists no machine types: nothing to check a machine type against
    assert ds.read_host(test_conn, dict(machine='q35-nope'), ds.OS_HINTS['generic']).machine == 'q35-nope'


def test_read_host_unknown_machine():
    with pytest.raises(LibvirtFailure) as info:
        ds.read_host(FakeConn(), dict(machine='q35-nope'), ds.OS_HINTS['generic'])
    assert info.value.msg == 'Machine type q35-nope is not offered for qemu x86_64 guests here'
    assert info.value.hint == 'Machine types offered: pc, q35'


def test_prepare_on_the_test_driver(test_conn):
    warnings = []
    root, plan = ds.prepare(test_conn, dict(memory=64, nics=[dict(network='default')]), 'g2', False, warnings)
    assert one(root, 'name') == 'g2' and plan == [] and warnings == []
    with pytest.raises(LibvirtFailure) as info:
        ds.prepare(test_conn, dict(memory=64, nics=[dict(network='nope')]), 'g2', False, warnings)
    assert info.value.msg == 'The network nope does not exist' and 'sysvirt.libvirt.network' in info.value.hint
    ds.prepare(test_conn, dict(memory=64, nics=[dict(network='nope')]), 'g2', True, warnings)
    assert len(warnings) == 1 and warnings[0].startswith('The network nope does not exist; check mode predicts')
    with pytest.raises(LibvirtFailure) as info:
        ds.prepare(test_conn, dict(memory=64), None, False, [])
    assert 'needs the name option' in info.value.msg


def test_prepare_plans_volumes_on_the_test_driver(test_conn):
    pool = test_conn.storagePoolLookupByName('default-pool')
    pool.createXML("<volume><name>base.img</name><capacity>1048576</capacity>"
                   "<target><format type='qcow2'/></target></volume>", 0)
    spec = dict(memory=64, disks=[dict(pool='default-pool', volume='base.img'),
                                  dict(pool='default-pool', volume='new.img', size='2MiB'),
                                  dict(pool='default-pool', volume='cow.img', backing='base.img')])
    root, plan = ds.prepare(test_conn, spec, 'g3', False, [])
    assert [p.action for p in plan] == ['create volume new.img in pool default-pool',
                                        'create volume cow.img in pool default-pool']
    new = etree.fromstring(plan[0].xml_text)
    assert one(new, 'capacity') == str(2 * 1024 * 1024) and one(new, 'target/format/@type') == 'qcow2'
    cow = etree.fromstring(plan[1].xml_text)
    assert one(cow, 'backingStore/path').endswith('/base.img') and one(cow, 'capacity') == '1048576'
    plan[0].create()
    assert pool.storageVolLookupByName('new.img').info()[1] == 2 * 1024 * 1024
    missing = dict(memory=64, disks=[dict(pool='default-pool', volume='absent.img')])
    with pytest.raises(LibvirtFailure) as info:
        ds.prepare(test_conn, missing, 'g3', False, [])
    assert info.value.msg == ('The volume absent.img does not exist in pool default-pool; give size (and backing '
                              'for an overlay) to create it')
    warnings = []
    root, plan = ds.prepare(test_conn, missing, 'g3', True, warnings)
    assert plan == [] and one(root, 'devices/disk/source/@volume') == 'absent.img'
    assert warnings == ['The volume absent.img does not exist in pool default-pool; check mode predicts this task as '
                        'if an earlier task of the play had created it']
    with pytest.raises(LibvirtFailure) as info:
        ds.prepare(test_conn, dict(memory=64, disks=[dict(path='/x', size=8)]), 'g3', False, [])
    assert 'give the disk a pool and a volume name' in info.value.msg


def test_prepare_with_cloud_init_on_the_test_driver(test_conn):
    """The seed is the last CD-ROM (its volume is not looked up as a disk's), the record follows <name>, and an
    existing <metadata> of extra_elements keeps its children."""
    spec = dict(memory=64, disks=[dict(pool='default-pool', volume='base', size=8)],
                cloud_init=dict(user_data='#cloud-config\n'),
                extra_elements=["<metadata><x:a xmlns:x='urn:x'/></metadata>"])
    root, plan = ds.prepare(test_conn, spec, 'g4', False, [])
    assert [s.action for s in plan] == ['write cloud-init seed volume g4-seed.iso in pool default-pool',
                                        'create volume base in pool default-pool']
    disks = root.findall('devices/disk')
    assert [d.get('device') for d in disks] == ['disk', 'cdrom']
    assert disks[1].find('source').get('volume') == 'g4-seed.iso' and disks[1].find('readonly') is not None
    assert disks[1].find('driver').get('type') == 'raw'
    metadata = root.findall('metadata')
    assert len(metadata) == 1 and [etree.QName(c).localname for c in metadata[0]] == ['a', 'seed']
    spec.pop('extra_elements')
    root, _plan = ds.prepare(test_conn, spec, 'g4', False, [])
    assert root.index(root.find('metadata')) == root.index(root.find('name')) + 1
    assert spec['disks'] == [dict(pool='default-pool', volume='base', size=8)]
