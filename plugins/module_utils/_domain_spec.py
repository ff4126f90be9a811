# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A guest described by options (the domain module's ``spec``), rendered to domain XML.

Private to this collection: the names here may change without notice.

``render(spec, name, host)`` is pure: it turns the options and what the host supports (``HostDefaults``, read
from libvirt's capabilities and domain capabilities) into a ``<domain>`` element, which then goes through the
domain module's one reconcile path exactly like an ``xml`` document. ``volume_plan`` says which storage volumes
the disks need created first. Nothing here defines or creates anything.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import platform

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call, lookup

try:
    import libvirt
except ImportError:  # reported by _connection.require_libraries
    libvirt = None

try:
    from lxml import etree
except ImportError:  # reported by _connection.require_libraries
    etree = None


#: What an OS hint changes (documented as a table in the domain module and docs/guides/domain-spec.md).
#: ``virtio``: paravirtual disk bus and NIC model; ``machine``: preferred machine type (when the host has it);
#: ``passthrough``: a KVM guest gets the host's CPU (host-passthrough), as virt-install does for a known OS.
OS_HINTS = {
    'generic': dict(machine=None, passthrough=False, virtio=False, nic_model='e1000', rng=False, guest_agent=False,
                    firmware='bios', secure_boot=False, tpm=False, clock='utc', hyperv=False),
    'linux2022': dict(machine='q35', passthrough=True, virtio=True, nic_model='virtio', rng=True, guest_agent=True,
                      firmware='bios', secure_boot=False, tpm=False, clock='utc', hyperv=False),
    'linux2018': dict(machine='q35', passthrough=True, virtio=True, nic_model='virtio', rng=True, guest_agent=True,
                      firmware='bios', secure_boot=False, tpm=False, clock='utc', hyperv=False),
    'win10': dict(machine='q35', passthrough=True, virtio=False, nic_model='e1000e', rng=False, guest_agent=False,
                  firmware='bios', secure_boot=False, tpm=False, clock='localtime', hyperv=True),
    'win11': dict(machine='q35', passthrough=True, virtio=False, nic_model='e1000e', rng=False, guest_agent=False,
                  firmware='uefi', secure_boot=True, tpm=True, clock='localtime', hyperv=True),
}

#: The first letters of disk target names, by bus.
_TARGET_PREFIX = dict(virtio='vd', sata='sd', scsi='sd', usb='sd', ide='hd', fdc='fd', xen='xvd')


def fail(msg, hint=None):
    raise LibvirtFailure(msg, hint=hint)


def _values(element, path):
    """The <value> texts of an enum (or of a list of values) in a domain capabilities document; None when the
    document does not describe it (nothing to check against)."""
    if element is None:
        return None
    found = element.find(path)
    if found is None:
        return None
    return [v.text.strip() for v in found.findall('value') if v.text]


class HostDefaults:
    """What the host supports for one guest type, from libvirt's capabilities and domain capabilities.

    Every attribute may be None when the driver does not say (the test driver has no domain capabilities):
    nothing is then checked or defaulted from it, and libvirt's own validation at define time applies.
    """

    def __init__(self, arch, virt_type, machine=None, machines=(), emulator=None, features=(), domcaps=None):
        self.arch = arch
        self.virt_type = virt_type
        self.machine = machine
        self.machines = list(machines)
        self.emulator = emulator
        self.features = list(features)
        self.domcaps = domcaps

    def enum(self, path):
        return _values(self.domcaps, path)

    @property
    def firmwares(self):
        return self.enum("os/enum[@name='firmware']")

    @property
    def disk_buses(self):
        return self.enum("devices/disk/enum[@name='bus']")

    def supported(self, path):
        """Whether the domain capabilities say an element is supported (None when they do not say)."""
        if self.domcaps is None:
            return None
        found = self.domcaps.find(path)
        return found is not None and found.get('supported') == 'yes'


def _guest_arches(caps_root):
    """[(arch, [domain types], [machine names and aliases], emulator, [feature names])] of the hvm guests."""
    arches = []
    for guest in caps_root.findall('guest'):
        if _xml.find_text(guest, 'os_type') != 'hvm':
            continue
        arch = guest.find('arch')
        if arch is None:
            continue
        machines = [m.text.strip() for m in arch.iter('machine') if m.text]
        types = [d.get('type') for d in arch.findall('domain')]
        features = [f.tag for f in guest.findall('features/*')]
        arches.append((arch.get('name'), types, machines, _xml.find_text(arch, 'emulator'), features))
    return arches


def choose_guest(arches, arch=None, virt_type=None, host_arch=None):
    """(arch, virt_type, machines, emulator, features) for the options: the arch asked for (else the host's, else
    the first the host offers); the domain type asked for, else kvm, else qemu, else the first one offered."""
    if not arches:
        fail('The host offers no hvm guest at all (its capabilities list no <guest> with <os_type>hvm</os_type>)')
    offered = [a[0] for a in arches]
    wanted = arch or (host_arch if host_arch in offered else offered[0])
    candidates = [a for a in arches if a[0] == wanted]
    if not candidates:
        fail('The host offers no hvm guest of architecture %s' % wanted,
             hint='Architectures offered here: %s' % ', '.join(sorted(set(offered))))
    types = [t for a in candidates for t in a[1]]
    if virt_type:
        if virt_type not in types:
            fail('The host offers no %s guest of architecture %s' % (virt_type, wanted),
                 hint='Domain types offered for %s here: %s' % (wanted, ', '.join(types)))
        chosen = virt_type
    else:
        chosen = next((t for t in ('kvm', 'qemu') if t in types), types[0] if types else None)
    entry = candidates[0]
    return wanted, chosen, entry[2], entry[3], entry[4]


def read_host(conn, spec, hint):
    """HostDefaults for the options, read from the connection (capabilities, then domain capabilities)."""
    with call('read the host capabilities'):
        caps = _xml.parse(conn.getCapabilities(), 'capabilities XML')
    host_arch = _xml.find_text(caps, 'host/cpu/arch') or platform.machine()
    arch, virt_type, machines, emulator, features = choose_guest(
        _guest_arches(caps), spec.get('arch'), spec.get('virt_type'), host_arch)
    machine = spec.get('machine')
    if machine and machines and machine not in machines:
        fail('Machine type %s is not offered for %s %s guests here' % (machine, virt_type, arch),
             hint='Machine types offered: %s' % ', '.join(sorted(machines)))
    if not machine and hint['machine'] and hint['machine'] in machines:
        machine = hint['machine']
    domcaps = None
    try:
        text = conn.getDomainCapabilities(None, arch, machine, virt_type, 0)
        domcaps = _xml.parse(text, 'domain capabilities XML')
    except libvirt.libvirtError as error:
        unsupported = (libvirt.VIR_ERR_NO_SUPPORT, getattr(libvirt, 'VIR_ERR_OPERATION_UNSUPPORTED', -1))
        if error.get_error_code() not in unsupported:
            raise LibvirtFailure('Failed to read the domain capabilities for %s %s guests%s: %s' % (
                virt_type, arch, ' of machine type %s' % machine if machine else '', error.get_error_message()),
                code=error.get_error_code(), domain=error.get_error_domain(),
                hint='Machine types offered here: %s' % ', '.join(sorted(machines)) if machines else None)
    if domcaps is not None:
        emulator = _xml.find_text(domcaps, 'path') or emulator
        machine = machine or _xml.find_text(domcaps, 'machine')
    return HostDefaults(arch, virt_type, machine, machines, emulator, features, domcaps)


# --- validation ---------------------------------------------------------------------------------------------

def hint_for(spec):
    name = spec.get('os') or 'generic'
    if name not in OS_HINTS:
        fail('Unknown os hint %s' % name, hint='Known hints: %s' % ', '.join(sorted(OS_HINTS)))
    return OS_HINTS[name]


def _setting(spec, key, hint):
    """The option when set, else the OS hint's default."""
    value = spec.get(key)
    return hint[key] if value is None else value


def check_host(spec, hint, host):
    """Fail, before anything is created or defined, on what this host cannot give the options."""
    firmware = _setting(spec, 'firmware', hint)
    firmwares = host.firmwares
    if firmware == 'uefi' and firmwares is not None and 'efi' not in firmwares:
        fail('UEFI firmware was asked for, but the host has no UEFI firmware for machine type %s (%s %s)'
             % (host.machine, host.virt_type, host.arch),
             hint='Install the UEFI firmware for this architecture (ovmf on Debian for x86_64), or use firmware: bios')
    if firmware == 'uefi' and _setting(spec, 'secure_boot', hint):
        secure = host.enum("os/loader/enum[@name='secure']")
        if secure is not None and 'yes' not in secure:
            fail('Secure boot was asked for, but the host has no secure-boot UEFI firmware for machine type %s'
                 % host.machine, hint='Secure boot needs a machine type with SMM, such as q35 (machine: q35)')
    if (spec.get('tpm') is not None or hint['tpm']) and host.domcaps is not None:
        backends = host.enum("devices/tpm/enum[@name='backendModel']")
        if not host.supported('devices/tpm') or (backends is not None and 'emulator' not in backends):
            fail('An emulated TPM was asked for, but this host cannot emulate one (no TPM emulator backend)',
                 hint='Install swtpm (the package swtpm-tools on Debian) and restart libvirtd, or leave tpm unset '
                      '(and use an os hint other than win11)')


def disk_bus(disk, spec, hint, host):
    """The bus of a disk: the one given, else the OS hint's (virtio for disks), else SATA (q35) or IDE."""
    buses = host.disk_buses
    bus = disk.get('bus')
    if bus is None:
        if disk['device'] == 'disk' and hint['virtio'] and (buses is None or 'virtio' in buses):
            bus = 'virtio'
        elif disk['device'] == 'floppy':
            bus = 'fdc'
        elif buses is not None and 'ide' not in buses:
            bus = 'sata'
        else:
            bus = 'ide' if buses is not None else 'sata'
    if buses is not None and bus not in buses:
        fail('Disk bus %s is not available on machine type %s here' % (bus, host.machine),
             hint='Disk buses this machine type has: %s' % ', '.join(buses))
    return bus


# --- rendering ----------------------------------------------------------------------------------------------

def _sub(parent, tag, text=None, **attrib):
    element = etree.SubElement(parent, tag, dict((k, str(v)) for k, v in attrib.items() if v is not None))
    if text is not None:
        element.text = str(text)
    return element


def kib(value, what):
    """A size option (a number is MiB, as in virt-install; or a string with a unit) in KiB."""
    if isinstance(value, int):
        value = '%dMiB' % value
    try:
        size = _xml.size_to_bytes(str(value), 'MiB')
    except ValueError as e:
        fail('%s: %s' % (what, e))
    if size <= 0 or size % 1024:
        fail('%s: %s is not a whole number of KiB above zero' % (what, value))
    return size // 1024


def vcpu_counts(spec):
    """(current, maximum) vCPUs: the topology's product is the maximum when no maximum is given."""
    cpu = spec.get('cpu') or {}
    topology = [cpu.get(k) for k in ('sockets', 'cores', 'threads')]
    product = None
    if any(topology):
        product = 1
        for value in topology:
            product *= value or 1
    maximum = spec.get('max_vcpus') or product or spec.get('vcpus') or 1
    current = spec.get('vcpus') or maximum
    if product is not None and product != maximum:
        fail('The CPU topology (sockets x cores x threads = %d) must equal the maximum vCPUs (%d)' % (product, maximum))
    if current > maximum:
        fail('vcpus (%d) is more than max_vcpus (%d)' % (current, maximum))
    return current, maximum


def render_general(root, spec, name):
    _sub(root, 'name', name)
    memory = kib(spec['memory'], 'memory')
    maximum = kib(spec['max_memory'], 'max_memory') if spec.get('max_memory') is not None else memory
    if memory > maximum:
        fail('memory (%s) is more than max_memory (%s)' % (spec['memory'], spec['max_memory']))
    _sub(root, 'memory', maximum, unit='KiB')
    _sub(root, 'currentMemory', memory, unit='KiB')
    current, maximum = vcpu_counts(spec)
    _sub(root, 'vcpu', maximum, placement='static', current=current if current != maximum else None)


def render_os(root, spec, hint, host):
    firmware = _setting(spec, 'firmware', hint)
    os_el = _sub(root, 'os', firmware='efi' if firmware == 'uefi' else None)
    _sub(os_el, 'type', 'hvm', arch=host.arch, machine=host.machine)
    secure = spec.get('secure_boot')
    if secure is None and hint['secure_boot']:
        secure = True
    if firmware == 'uefi' and secure is not None:
        # only when secure boot is asked for or refused: otherwise libvirt chooses among the host's firmware
        fw = _sub(os_el, 'firmware')
        _sub(fw, 'feature', enabled='yes' if secure else 'no', name='enrolled-keys')
        _sub(fw, 'feature', enabled='yes' if secure else 'no', name='secure-boot')
    elif spec.get('secure_boot'):
        fail('secure_boot needs firmware: uefi', hint='Set firmware: uefi (and a machine type with SMM, such as q35)')
    for key in ('kernel', 'initrd', 'cmdline'):
        if spec.get(key):
            _sub(os_el, key, spec[key])
    if (spec.get('initrd') or spec.get('cmdline')) and not spec.get('kernel'):
        fail('initrd and cmdline need kernel (direct kernel boot)')
    for device in spec.get('boot') or ():
        _sub(os_el, 'boot', dev=device)


def render_features(root, spec, hint, host):
    features = _sub(root, 'features')
    for name in ('acpi', 'apic'):
        if name in host.features:
            _sub(features, name)
    if _setting(spec, 'firmware', hint) == 'uefi' and _setting(spec, 'secure_boot', hint):
        _sub(features, 'smm', state='on')
    if hint['hyperv'] and host.virt_type in ('kvm', 'qemu'):
        hyperv = _sub(features, 'hyperv', mode='custom')
        _sub(hyperv, 'relaxed', state='on')
        _sub(hyperv, 'vapic', state='on')
        _sub(hyperv, 'spinlocks', state='on', retries=8191)
    if len(features) == 0:
        root.remove(features)


def render_cpu(root, spec, hint, host):
    cpu = spec.get('cpu') or {}
    if cpu.get('xml'):
        element = _fragment(cpu['xml'], 'CPU XML', root='cpu')
        for tag in ('arch', 'topology'):
            for child in element.findall(tag):
                element.remove(child)
        if element.get('mode') is None and element.find('model') is not None:
            element.set('mode', 'custom')
            element.set('match', element.get('match') or 'exact')
        root.append(element)
    else:
        mode = cpu.get('mode') or _default_cpu_mode(cpu, hint, host)
        if mode == 'custom' and not cpu.get('model'):
            fail('cpu mode custom needs a model (cpu.model)')
        element = _sub(root, 'cpu', mode=mode)
        if cpu.get('model'):
            if mode not in (None, 'custom'):
                fail('cpu.model needs cpu mode custom, not %s' % mode)
            element.set('mode', 'custom')
            element.set('match', 'exact')
            _sub(element, 'model', cpu['model'], fallback='forbid')
        if mode is not None and host.domcaps is not None and not host.supported("cpu/mode[@name='%s']" % mode):
            fail('CPU mode %s is not supported for %s guests here' % (mode, host.virt_type))
    if any(cpu.get(k) for k in ('sockets', 'cores', 'threads')):
        _sub(element, 'topology', sockets=cpu.get('sockets') or 1, dies=None, cores=cpu.get('cores') or 1,
             threads=cpu.get('threads') or 1)
    if len(element) == 0 and not element.attrib:
        root.remove(element)


def _default_cpu_mode(cpu, hint, host):
    """host-passthrough for a KVM guest of a known OS when the host offers it (virt-install's default); else the
    hypervisor's default CPU (no <cpu> mode)."""
    if cpu.get('model'):
        return 'custom'
    if hint['passthrough'] and host.virt_type == 'kvm' and \
            host.supported("cpu/mode[@name='host-passthrough']") is not False:
        return 'host-passthrough'
    return None


def render_clock(root, hint):
    clock = _sub(root, 'clock', offset=hint['clock'])
    if hint['hyperv']:
        _sub(clock, 'timer', name='hypervclock', present='yes')


# --- devices ------------------------------------------------------------------------------------------------

def disk_source(disk):
    """('volume', pool, volume), ('file'|'block', path) or None (an empty CD-ROM or floppy drive)."""
    if disk.get('volume'):
        if not disk.get('pool'):
            fail('Disk volume %s needs its pool (pool)' % disk['volume'])
        return ('volume', disk['pool'], disk['volume'])
    if disk.get('path'):
        return ('block' if disk['path'].startswith('/dev/') else 'file', disk['path'])
    if disk['device'] == 'disk':
        fail('A disk needs a volume (with its pool) or a path; only a cdrom or floppy drive may be empty')
    return None


def disk_format(disk, formats):
    """The driver's format: the option, else a new volume's (qcow2), else the stored volume's, else raw."""
    if disk.get('format'):
        return disk['format']
    if disk['device'] == 'cdrom':
        return 'raw'
    source = disk_source(disk)
    known = formats.get(source[1:]) if source else None
    if known:
        return known
    if disk.get('size') or disk.get('backing'):
        return 'qcow2'
    return 'raw'


def target_names(disks, buses):
    """The target device of each disk: the one given, else the next free name of its bus's prefix."""
    taken = set(d.get('target') for d in disks if d.get('target'))
    names = []
    counters = {}
    for disk, bus in zip(disks, buses):
        if disk.get('target'):
            names.append(disk['target'])
            continue
        prefix = _TARGET_PREFIX.get(bus, 'sd')
        while True:
            index = counters.get(prefix, 0)
            counters[prefix] = index + 1
            candidate = prefix + _letters(index)
            if candidate not in taken:
                break
        taken.add(candidate)
        names.append(candidate)
    return names


def _letters(index):
    """0 -> a, 25 -> z, 26 -> aa: how Linux names disks."""
    text = ''
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        text = chr(ord('a') + rest) + text
    return text


def render_disks(devices, spec, hint, host, formats):
    disks = [dict(d) for d in spec.get('disks') or ()]
    for disk in disks:
        disk['device'] = disk.get('device') or 'disk'
    buses = [disk_bus(d, spec, hint, host) for d in disks]
    for disk, bus, target in zip(disks, buses, target_names(disks, buses)):
        source = disk_source(disk)
        element = _sub(devices, 'disk', type=source[0] if source else 'file', device=disk['device'])
        _sub(element, 'driver', name='qemu', type=disk_format(disk, formats), cache=disk.get('cache'),
             io=disk.get('io'), discard=disk.get('discard'))
        if source and source[0] == 'volume':
            _sub(element, 'source', pool=source[1], volume=source[2])
        elif source:
            _sub(element, 'source', **{'file' if source[0] == 'file' else 'dev': source[1]})
        _sub(element, 'target', dev=target, bus=bus)
        if disk.get('boot_order'):
            _sub(element, 'boot', order=disk['boot_order'])
        if disk['device'] == 'cdrom' or disk.get('readonly'):
            _sub(element, 'readonly')
    if 'scsi' in buses:
        _sub(devices, 'controller', type='scsi', index=0, model='virtio-scsi')


def nic_type(nic):
    for key, kind in (('network', 'network'), ('bridge', 'bridge'), ('direct', 'direct')):
        if nic.get(key):
            return kind
    if nic.get('user'):
        return 'user'
    fail('A NIC needs one of network, bridge, direct or user')


def render_nics(devices, spec, hint):
    for nic in spec.get('nics') or ():
        kind = nic_type(nic)
        element = _sub(devices, 'interface', type=kind)
        if nic.get('mac'):
            if not _xml.is_mac(nic['mac']):
                fail('NIC MAC address %s is not of the form 52:54:00:xx:xx:xx' % nic['mac'])
            _sub(element, 'mac', address=nic['mac'].lower())
        if kind == 'network':
            _sub(element, 'source', network=nic['network'])
        elif kind == 'bridge':
            _sub(element, 'source', bridge=nic['bridge'])
        elif kind == 'direct':
            _sub(element, 'source', dev=nic['direct'], mode=nic.get('mode') or 'bridge')
        _sub(element, 'model', type=nic.get('model') or hint['nic_model'])
        if nic.get('boot_order'):
            _sub(element, 'boot', order=nic['boot_order'])


def render_consoles(devices, spec, hint, host):
    graphics = spec.get('graphics') or {}
    kind = graphics.get('type') or 'none'
    if kind != 'none':
        types = host.enum("devices/graphics/enum[@name='type']")
        if types is not None and kind not in types:
            fail('Graphics %s is not available here' % kind, hint='Graphics types offered: %s' % ', '.join(types))
        element = _sub(devices, 'graphics', type=kind, autoport='yes')
        _sub(element, 'listen', type='address', address=graphics.get('listen') or '127.0.0.1')
    serial = spec.get('serial') or {}
    if (serial.get('type') or 'pty') == 'pty':
        element = _sub(devices, 'serial', type='pty')
        if serial.get('log'):
            _sub(element, 'log', file=serial['log'], append='on')
        _sub(element, 'target', port=0)
    if _setting(spec, 'guest_agent', hint):
        channel = _sub(devices, 'channel', type='unix')
        _sub(channel, 'target', type='virtio', name='org.qemu.guest_agent.0')


def render_extras(devices, spec, hint, host):
    if _setting(spec, 'rng', hint):
        models = host.enum("devices/rng/enum[@name='model']")
        if models is not None and 'virtio' not in models:
            fail('A virtio RNG was asked for, but this host has no virtio RNG model',
                 hint='RNG models offered here: %s; set rng: false' % ', '.join(models))
        rng = _sub(devices, 'rng', model='virtio')
        _sub(rng, 'backend', '/dev/urandom', model='random')
    tpm = spec.get('tpm')
    if tpm is None and hint['tpm']:
        tpm = dict(model='tpm-crb', version='2.0')
    if tpm is not None:
        element = _sub(devices, 'tpm', model=tpm.get('model') or 'tpm-crb')
        _sub(element, 'backend', type='emulator', version=tpm.get('version') or '2.0')
    watchdog = spec.get('watchdog')
    if watchdog is not None:
        _sub(devices, 'watchdog', model=watchdog.get('model') or 'i6300esb', action=watchdog.get('action') or 'reset')


def _fragment(text, what, root=None):
    try:
        return _xml.parse(text, what, root=root)
    except (ValueError, _xml.XMLInputError) as e:
        message = str(e)
        fail(message if message.startswith(what) else '%s: %s' % (what, message))


def render_raw(root, devices, spec):
    """Raw XML fragments: devices appended to <devices>; other elements replace the rendered one of their tag."""
    for text in spec.get('extra_devices') or ():
        devices.append(_fragment(text, 'extra_devices XML'))
    for text in spec.get('extra_elements') or ():
        element = _fragment(text, 'extra_elements XML')
        if element.tag in ('name', 'uuid', 'devices'):
            fail('extra_elements cannot replace <%s>; use the name option or extra_devices' % element.tag)
        current = root.find(element.tag)
        if current is not None:
            current.addprevious(element)
            root.remove(current)
        else:
            devices.addprevious(element)


def render(spec, name, host, formats=None):
    """The <domain> element the options describe on this host (``formats``: {(pool, volume) or (path,): format}
    of the existing volumes the disks use)."""
    hint = hint_for(spec)
    check_host(spec, hint, host)
    root = etree.Element('domain', type=host.virt_type)
    render_general(root, spec, name)
    render_os(root, spec, hint, host)
    render_features(root, spec, hint, host)
    render_cpu(root, spec, hint, host)
    render_clock(root, hint)
    devices = _sub(root, 'devices')
    if host.emulator:
        _sub(devices, 'emulator', host.emulator)
    render_disks(devices, spec, hint, host, formats or {})
    render_nics(devices, spec, hint)
    render_consoles(devices, spec, hint, host)
    render_extras(devices, spec, hint, host)
    render_raw(root, devices, spec)
    return root


# --- what the options need from the connection --------------------------------------------------------------

class VolumeToCreate:
    """A disk's volume that does not exist yet: created (in check mode, predicted) before the definition."""

    def __init__(self, pool, pool_name, name, xml_text):
        self.pool = pool
        self.pool_name = pool_name
        self.name = name
        self.xml_text = xml_text

    @property
    def action(self):
        return 'create volume %s in pool %s' % (self.name, self.pool_name)

    def create(self):
        return self.pool.createXML(self.xml_text, 0)


def _volume_format(vol):
    root = _xml.parse(vol.XMLDesc(0), 'volume XML')
    found = root.find('target/format')
    return found.get('type') if found is not None else None


def plan_disk(conn, disk, check=False, warnings=None):
    """(format or None, VolumeToCreate or None) of one disk, after looking its volume up. In check mode a missing
    volume that is not to be created here is a warning (an earlier task may create it)."""
    from ansible_collections.sysvirt.libvirt.plugins.module_utils import _storage
    if disk.get('volume'):
        vol, pool = _storage.find_volume(conn, pool=disk.get('pool'), name=disk['volume'])
        if vol is not None:
            return _volume_format(vol), None
        if not (disk.get('size') or disk.get('backing')):
            message = 'The volume %s does not exist in pool %s' % (disk['volume'], disk['pool'])
            if check:
                warnings.append('%s; check mode predicts this task as if an earlier task of the play had created it'
                                % message)
                return None, None
            fail('%s; give size (and backing for an overlay) to create it' % message)
        fmt = disk.get('format') or 'qcow2'
        backing = dict(name=disk['backing'], pool=disk['pool']) if disk.get('backing') else None
        params = dict(name=disk['volume'], xml=None, capacity=disk.get('size'), allocation=None, format=fmt,
                      upload=None, backing=backing)
        root = _storage.volume_xml_from_options(conn, params, disk['pool'], None)
        return fmt, VolumeToCreate(pool, disk['pool'], disk['volume'], _xml.to_string(root, pretty=False))
    if disk.get('size') or disk.get('backing'):
        fail('size and backing create a volume: give the disk a pool and a volume name, not a path')
    if disk.get('path') and disk.get('device', 'disk') != 'cdrom':
        vol = lookup(conn.storageVolLookupByPath, disk['path'])
        if vol is not None:
            return _volume_format(vol), None
    return None, None


def prepare(conn, spec, name, check, warnings, run_command=None):
    """(the <domain> element, [VolumeToCreate]) for the options on this connection (``run_command``: the module's,
    which builds a cloud-init seed). Fails, before anything is
    created or defined, on what the host cannot give them (firmware, machine type, bus, network, pool, volume)."""
    if not name:
        fail('spec needs the name option (the name of the domain)')
    hint = hint_for(spec)
    host = read_host(conn, spec, hint)
    formats, plan = {}, []
    record = None
    if spec.get('cloud_init'):
        from ansible_collections.sysvirt.libvirt.plugins.module_utils import _cloud_init
        seed_disk, record, plan = _cloud_init.plan(conn, spec, name, check, warnings, run_command)
        spec = dict(spec, disks=list(spec.get('disks') or ()) + [seed_disk])
    for disk in (spec.get('disks') or ())[:-1 if record is not None else None]:
        fmt, create = plan_disk(conn, disk, check, warnings)
        source = disk_source(dict(disk, device=disk.get('device') or 'disk'))
        if fmt and source:
            formats[source[1:]] = fmt
        if create is not None:
            plan.append(create)
    for nic in spec.get('nics') or ():
        if nic.get('network') and lookup(conn.networkLookupByName, nic['network']) is None:
            message = 'The network %s does not exist' % nic['network']
            if not check:
                fail(message, hint='Create it first (sysvirt.libvirt.network), or name an existing network')
            warnings.append('%s; check mode predicts this task as if an earlier task of the play had created it'
                            % message)
    root = render(spec, name, host, formats)
    if record is not None:
        container = root.find('metadata')
        if container is None:
            container = _sub(root, 'metadata')
            root.find('name').addnext(container)
        container.append(record)
    return root, plan
