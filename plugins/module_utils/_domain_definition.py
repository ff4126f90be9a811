# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A domain's definition (XML) as data: the part of _domain_data that reads the document (no libvirt calls).

Private to this collection: the names here may change without notice. Use it through _domain_data
(``describe_domain``, ``_domain_data.definition_data``, ...), which loads it when a definition is read, so a run
that reads no XML (the inventory plugin with its defaults) never compiles it: ansible-core compiles collection
module_utils from source on every run. The keys are described in _domain_data.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml


def _int(value):
    return _xml.parse_int(value) if value is not None else None


def _bytes(element):
    if element is None or element.text is None:
        return None
    try:
        return _xml.size_to_bytes(element.text.strip(), element.get('unit', 'KiB'))
    except (ValueError, TypeError):
        return None


def _text(element, path):
    value = _xml.find_text(element, path)
    return value if value is None else value


def _yes(value):
    return None if value is None else value == 'yes'


def _disk(disk):
    source = disk.find('source')
    driver = disk.find('driver')
    target = disk.find('target')
    src = dict(file=None, dev=None, dir=None, pool=None, volume=None, protocol=None, name=None)
    if source is not None:
        for key in ('file', 'dev', 'dir', 'pool', 'volume', 'protocol', 'name'):
            src[key] = source.get(key)
    boot = disk.find('boot')
    return dict(
        target=target.get('dev') if target is not None else None,
        bus=target.get('bus') if target is not None else None,
        device=disk.get('device', 'disk'),
        type=disk.get('type'),
        source=src,
        format=driver.get('type') if driver is not None else None,
        readonly=disk.find('readonly') is not None,
        boot_order=_int(boot.get('order')) if boot is not None else None,
    )


def _interface(iface):
    mac = iface.find('mac')
    source = iface.find('source')
    model = iface.find('model')
    target = iface.find('target')
    src = dict(network=None, bridge=None, dev=None, portgroup=None)
    if source is not None:
        for key in src:
            src[key] = source.get(key)
    return dict(
        mac=mac.get('address').lower() if mac is not None and mac.get('address') else None,
        type=iface.get('type'),
        source=src,
        model=model.get('type') if model is not None else None,
        target=target.get('dev') if target is not None else None,
        addresses=[],
    )


QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0'
# QEMU's user-mode network forward: hostfwd=[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport
_HOSTFWD_RE = re.compile(r'^(tcp|udp)?:([^:]*):(\d+)-([^:]*):(\d+)$')


def _forward(proto, address, host_port, guest_port, source, host_port_end=None):
    return dict(proto=proto, address=address or None, host_port=host_port,
                host_port_end=host_port if host_port_end is None else host_port_end,
                guest_port=guest_port, source=source)


def _passt_forwards(devices):
    """libvirt's <portForward> on user-mode interfaces (the passt backend), one entry per forwarded range."""
    found = []
    for iface in devices.findall('interface'):
        for fwd in iface.findall('portForward'):
            proto = fwd.get('proto') or 'tcp'
            for rng in fwd.findall('range'):
                start, end, to = _int(rng.get('start')), _int(rng.get('end')), _int(rng.get('to'))
                if start is None or rng.get('exclude') == 'yes':
                    continue
                found.append(_forward(proto, fwd.get('address'), start, start if to is None else to, 'interface',
                                      host_port_end=end))
    return found


def _hostfwd_forwards(root):
    """hostfwd= rules of QEMU user-mode networks given in <qemu:commandline> (-netdev user,... or -nic user,...)."""
    found = []
    for cmdline in root.findall('{%s}commandline' % QEMU_NS):
        for arg in cmdline.findall('{%s}arg' % QEMU_NS):
            for item in (arg.get('value') or '').split(','):
                if not item.startswith('hostfwd='):
                    continue
                match = _HOSTFWD_RE.match(item[len('hostfwd='):])
                if match:
                    proto, host, host_port, _guest, guest_port = match.groups()
                    found.append(_forward(proto or 'tcp', host, int(host_port), int(guest_port), 'qemu_commandline'))
    return found


def port_forwards(root):
    """Ports the hypervisor forwards into the guest (user-mode networking): list of dicts
    ``{proto, address (host side, None for every address), host_port, host_port_end, guest_port, source}``."""
    devices = root.find('devices')
    return (_passt_forwards(devices) if devices is not None else []) + _hostfwd_forwards(root)


def _graphics(graphics):
    listen = graphics.get('listen')
    if listen is None:
        for element in graphics.findall('listen'):
            listen = element.get('address') or element.get('socket') or element.get('network')
            if listen:
                break
    return dict(
        type=graphics.get('type'),
        port=_int(graphics.get('port')),
        tls_port=_int(graphics.get('tlsPort')),
        autoport=_yes(graphics.get('autoport')),
        listen=listen,
    )


def _firmware(os_el, domain_type):
    if os_el is None:
        return None
    firmware = os_el.get('firmware')
    if firmware:
        return firmware
    loader = os_el.find('loader')
    if loader is not None:
        path = (loader.text or '').lower()
        if loader.get('type') == 'pflash' or 'ovmf' in path or 'aavmf' in path or 'edk2' in path:
            return 'efi'
        return 'bios'
    if _xml.find_text(os_el, 'type') == 'hvm':
        return 'bios'
    return None


def _metadata(root):
    result = {}
    metadata = root.find('metadata')
    if metadata is None:
        return result
    for child in metadata:
        if not isinstance(child.tag, str):
            continue
        namespace = child.tag[1:].split('}', 1)[0] if child.tag.startswith('{') else ''
        result[namespace] = _xml.to_string(child, pretty=False)
    return result


def has_agent_channel(devices):
    """True when the definition's devices have the QEMU guest agent's channel (org.qemu.guest_agent.0)."""
    if devices is None:
        return False
    return any(target.get('name') == 'org.qemu.guest_agent.0' for target in devices.findall('channel/target'))


def definition_data(root):
    """Everything the domain XML tells (no libvirt calls)."""
    os_el = root.find('os')
    os_type = os_el.find('type') if os_el is not None else None
    loader = os_el.find('loader') if os_el is not None else None
    vcpu = root.find('vcpu')
    vcpu_max = _int(vcpu.text.strip()) if vcpu is not None and vcpu.text else None
    vcpu_current = _int(vcpu.get('current')) if vcpu is not None and vcpu.get('current') else vcpu_max
    memory_max = _bytes(root.find('memory'))
    memory_current = _bytes(root.find('currentMemory'))
    dom_id = root.get('id')
    devices = root.find('devices')
    return dict(
        name=_text(root, 'name'),
        uuid=_text(root, 'uuid'),
        id=_int(dom_id) if dom_id not in (None, '-1') else None,
        type=root.get('type'),
        vcpus=dict(current=vcpu_current, maximum=vcpu_max),
        memory=dict(current_bytes=memory_current if memory_current is not None else memory_max,
                    maximum_bytes=memory_max),
        os=dict(
            type=os_type.text.strip() if os_type is not None and os_type.text else None,
            arch=os_type.get('arch') if os_type is not None else None,
            machine=os_type.get('machine') if os_type is not None else None,
            loader=loader.text.strip() if loader is not None and loader.text else None,
            loader_type=loader.get('type') if loader is not None else None,
            nvram=_text(os_el, 'nvram') if os_el is not None else None,
            kernel=_text(os_el, 'kernel') if os_el is not None else None,
            initrd=_text(os_el, 'initrd') if os_el is not None else None,
            boot=[b.get('dev') for b in os_el.findall('boot')] if os_el is not None else [],
        ),
        firmware=_firmware(os_el, root.get('type')),
        disks=[_disk(d) for d in devices.findall('disk')] if devices is not None else [],
        interfaces=[_interface(i) for i in devices.findall('interface')] if devices is not None else [],
        graphics=[_graphics(g) for g in devices.findall('graphics')] if devices is not None else [],
        port_forwards=port_forwards(root),
        agent_channel=has_agent_channel(devices),
        title=_text(root, 'title'),
        description=_text(root, 'description'),
        metadata=_metadata(root),
    )
