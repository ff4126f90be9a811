# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Host (node) devices: listing by capability, capability data as dicts, virtual devices, PCI passthrough.

Private to this collection: the names here may change without notice.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call, lookup
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import Outcome

try:
    import libvirt
except ImportError:
    libvirt = None

#: capability option value -> libvirt list flag suffix (VIR_CONNECT_LIST_NODE_DEVICES_CAP_<suffix>)
CAPABILITIES = {
    'system': 'SYSTEM', 'pci': 'PCI_DEV', 'usb_device': 'USB_DEV', 'usb': 'USB_INTERFACE', 'net': 'NET',
    'scsi_host': 'SCSI_HOST', 'scsi_target': 'SCSI_TARGET', 'scsi': 'SCSI', 'storage': 'STORAGE',
    'fc_host': 'FC_HOST', 'vports': 'VPORTS', 'scsi_generic': 'SCSI_GENERIC', 'drm': 'DRM',
    'mdev_types': 'MDEV_TYPES', 'mdev': 'MDEV', 'ccw': 'CCW_DEV', 'css': 'CSS_DEV', 'vdpa': 'VDPA',
    'ap_card': 'AP_CARD', 'ap_queue': 'AP_QUEUE', 'ap_matrix': 'AP_MATRIX', 'vpd': 'VPD',
}

#: PCI drivers that mean "detached from the host, ready for passthrough"
PASSTHROUGH_DRIVERS = ('vfio-pci', 'pci-stub', 'pciback', 'xen-pciback')


def capability_flags(capabilities):
    flags = 0
    for cap in capabilities or []:
        name = 'VIR_CONNECT_LIST_NODE_DEVICES_CAP_%s' % CAPABILITIES[cap]
        if not hasattr(libvirt, name):
            raise LibvirtFailure('This libvirt-python cannot list devices by capability %r (%s is missing)'
                                 % (cap, name))
        flags |= getattr(libvirt, name)
    return flags


def _int(text):
    return _xml.parse_int(text) if text is not None else None


def _id_and_name(element):
    if element is None:
        return None
    return dict(id=element.get('id'), name=(element.text or '').strip() or None)


def _pci(cap):
    data = dict(
        domain=_int(_xml.find_text(cap, 'domain')), bus=_int(_xml.find_text(cap, 'bus')),
        slot=_int(_xml.find_text(cap, 'slot')), function=_int(_xml.find_text(cap, 'function')),
        class_code=_xml.find_text(cap, 'class'),
        vendor=_id_and_name(cap.find('vendor')), product=_id_and_name(cap.find('product')),
    )
    if None not in (data['domain'], data['bus'], data['slot'], data['function']):
        data['address'] = '%04x:%02x:%02x.%x' % (data['domain'], data['bus'], data['slot'], data['function'])
    else:
        data['address'] = None
    group = cap.find('iommuGroup')
    data['iommu_group'] = None
    if group is not None:
        data['iommu_group'] = dict(number=_int(group.get('number')), addresses=[
            '%04x:%02x:%02x.%x' % tuple(_int(a.get(k)) for k in ('domain', 'bus', 'slot', 'function'))
            for a in group.findall('address')])
    data['functions'] = dict((c.get('type'), [
        '%04x:%02x:%02x.%x' % tuple(_int(a.get(k)) for k in ('domain', 'bus', 'slot', 'function'))
        for a in c.findall('address')]) for c in cap.findall('capability') if c.findall('address'))
    data['mdev_types'] = _mdev_types(cap)
    numa = cap.find('numa')
    data['numa_node'] = _int(numa.get('node')) if numa is not None else None
    return data


def _mdev_types(cap):
    types = []
    for holder in cap.findall('capability'):
        if holder.get('type') != 'mdev_types':
            continue
        for mdev_type in holder.findall('type'):
            types.append(dict(id=mdev_type.get('id'), name=_xml.find_text(mdev_type, 'name'),
                              device_api=mdev_type.find('deviceAPI').get('value')
                              if mdev_type.find('deviceAPI') is not None and mdev_type.find('deviceAPI').get('value')
                              else _xml.find_text(mdev_type, 'deviceAPI'),
                              available_instances=_int(_xml.find_text(mdev_type, 'availableInstances'))))
    return types


def _capability(cap):
    kind = cap.get('type')
    if kind == 'pci':
        data = _pci(cap)
    elif kind == 'usb_device':
        data = dict(bus=_int(_xml.find_text(cap, 'bus')), device=_int(_xml.find_text(cap, 'device')),
                    vendor=_id_and_name(cap.find('vendor')), product=_id_and_name(cap.find('product')))
    elif kind == 'usb':
        data = dict(number=_int(_xml.find_text(cap, 'number')), class_code=_xml.find_text(cap, 'class'),
                    subclass=_xml.find_text(cap, 'subclass'), protocol=_xml.find_text(cap, 'protocol'),
                    description=_xml.find_text(cap, 'description'))
    elif kind == 'net':
        link = cap.find('link')
        data = dict(interface=_xml.find_text(cap, 'interface'), address=_xml.find_text(cap, 'address'),
                    link_state=link.get('state') if link is not None else None,
                    link_speed=_int(link.get('speed')) if link is not None and link.get('speed') else None,
                    features=[f.get('name') for f in cap.findall('feature')])
    elif kind == 'storage':
        size = _xml.find_text(cap, 'size')
        data = dict(block=_xml.find_text(cap, 'block'), drive_type=_xml.find_text(cap, 'drive_type'),
                    bus=_xml.find_text(cap, 'bus'), model=_xml.find_text(cap, 'model'),
                    vendor=_xml.find_text(cap, 'vendor'), serial=_xml.find_text(cap, 'serial'),
                    size_bytes=_int(size) if size else None,
                    removable=[c.get('type') for c in cap.findall('capability')])
    elif kind == 'scsi_host':
        data = dict(host=_int(_xml.find_text(cap, 'host')), unique_id=_int(_xml.find_text(cap, 'unique_id')),
                    capabilities=[c.get('type') for c in cap.findall('capability')],
                    wwnn=_xml.find_text(cap, 'capability/wwnn'), wwpn=_xml.find_text(cap, 'capability/wwpn'))
    elif kind == 'mdev':
        data = dict(mdev_type=cap.find('type').get('id') if cap.find('type') is not None else None,
                    uuid=_xml.find_text(cap, 'uuid'), iommu_group=_int(cap.find('iommuGroup').get('number'))
                    if cap.find('iommuGroup') is not None else None,
                    attributes=dict((a.get('name'), a.get('value')) for a in cap.findall('attr')))
    elif kind == 'system':
        data = dict(product=_xml.find_text(cap, 'product'), vendor=_xml.find_text(cap, 'hardware/vendor'),
                    firmware_vendor=_xml.find_text(cap, 'firmware/vendor'))
    else:
        data = dict((c.tag, (c.text or '').strip() or dict(c.attrib)) for c in cap if isinstance(c.tag, str)
                    and c.tag != 'capability')
    data['type'] = kind
    return data


def device_to_dict(text, with_xml=False):
    root = _xml.parse(text, 'node device XML')
    driver = root.find('driver')
    capabilities = [_capability(cap) for cap in root.findall('capability')]
    data = dict(
        name=_xml.find_text(root, 'name'), path=_xml.find_text(root, 'path'),
        parent=_xml.find_text(root, 'parent'),
        driver=_xml.find_text(driver, 'name') if driver is not None else None,
        devnodes=[dict(type=d.get('type'), path=(d.text or '').strip()) for d in root.findall('devnode')],
        capability_types=[c['type'] for c in capabilities], capabilities=capabilities,
    )
    if with_xml:
        data['xml'] = text
    return data


def _state(device, data):
    for key, method in (('active', 'isActive'), ('persistent', 'isPersistent')):
        func = getattr(device, method, None)
        try:
            data[key] = bool(func()) if func else None
        except libvirt.libvirtError:
            data[key] = None
    try:
        data['autostart'] = bool(device.autostart()) if hasattr(device, 'autostart') else None
    except libvirt.libvirtError:
        data['autostart'] = None
    return data


def describe(device, with_xml=False):
    with call('read node device %s' % device.name()):
        text = device.XMLDesc(0)
    return _state(device, device_to_dict(text, with_xml))


def list_devices(conn, name=None, capabilities=None, with_xml=False):
    if name:
        device = lookup(conn.nodeDeviceLookupByName, name)
        devices = [device] if device is not None else []
    else:
        with call('list node devices'):
            devices = conn.listAllDevices(capability_flags(capabilities))
    result = []
    for device in devices:
        try:
            result.append(describe(device, with_xml))
        except LibvirtFailure:
            # devices come and go (hot-unplug) between the listing and the read: skip the vanished ones
            if lookup(conn.nodeDeviceLookupByName, device.name()) is not None:
                raise
    if name and capabilities:
        result = [d for d in result if set(capabilities) & set(d['capability_types'])]
    return sorted(result, key=lambda d: d['name'])


# ---------------------------------------------------------------------------------------------------------
# Write side
# ---------------------------------------------------------------------------------------------------------

def _children(conn, name):
    with call('list node devices'):
        devices = conn.listAllDevices(0)
    children = []
    for device in devices:
        try:
            root = _xml.parse(device.XMLDesc(0))
        except (libvirt.libvirtError, _xml.XMLInputError):
            continue
        if _xml.find_text(root, 'parent') == name:
            children.append(device_to_dict(device.XMLDesc(0)))
    return children


def host_users(conn, name):
    """What the host uses below a device (network interfaces, disks, SCSI hosts), as 'kind name' strings."""
    users = []
    pending = [name]
    while pending:
        current = pending.pop()
        for child in _children(conn, current):
            pending.append(child['name'])
            for cap in child['capabilities']:
                if cap['type'] == 'net':
                    users.append('network interface %s' % cap.get('interface'))
                elif cap['type'] == 'storage':
                    users.append('disk %s' % cap.get('block'))
                elif cap['type'] == 'drm':
                    users.append('display device %s' % child['name'])
    return users


def _pci_device(conn, name):
    device = lookup(conn.nodeDeviceLookupByName, name)
    if device is None:
        raise LibvirtFailure('There is no node device %r' % name,
                             hint='List the devices with sysvirt.libvirt.node_device_info (capability: pci).')
    data = describe(device)
    if 'pci' not in data['capability_types']:
        raise LibvirtFailure('The node device %s is not a PCI device (it is %s); only PCI devices can be detached, '
                             're-attached or reset' % (name, ', '.join(data['capability_types']) or 'unknown'))
    return device, data


def _refuse_reset_of_host_device(name, data, state):
    """A reset is only for a device the host does not use: one that is (or this run makes it) detached for
    passthrough, or bound to no driver at all. A running guest's device libvirt refuses itself."""
    if state == 'detached' or data['driver'] is None:
        return
    if data['driver'] in PASSTHROUGH_DRIVERS:
        raise LibvirtFailure('Refusing to reset %s: state=attached gives it back to the host before the reset' % name,
                             hint='Reset it with state: detached, or set force: true if you are sure.')
    raise LibvirtFailure('Refusing to reset %s: the host uses it (bound to the host driver %s); a reset takes the '
                         'device away from that driver' % (name, data['driver']),
                         hint='Detach it first (state: detached with reset: true), or set force: true if you are '
                              'sure.')


def ensure_pci(conn, params, check_mode):
    """state detached / attached, and reset. Returns (outcome, device dict)."""
    outcome = Outcome()
    name = params['name']
    device, data = _pci_device(conn, name)
    state = params['state']
    detached = data['driver'] in PASSTHROUGH_DRIVERS
    if params.get('reset') and not params.get('force'):
        _refuse_reset_of_host_device(name, data, state)
    if state == 'detached' and not detached:
        users = host_users(conn, name)
        if users and not params.get('force'):
            raise LibvirtFailure(
                'Refusing to detach %s from the host: the host uses it (%s); detaching it would take that away'
                % (name, ', '.join(users)),
                hint='Stop using the device on the host first, or set force: true if you are sure.')
        if data['capabilities'][0].get('class_code', '').startswith('0x06'):
            if not params.get('force'):
                raise LibvirtFailure('Refusing to detach %s: it is a PCI bridge or host bridge' % name,
                                     hint='Set force: true if you are sure.')
        outcome.act('detach')
        if not check_mode:
            with call('detach PCI device %s from the host' % name):
                if params.get('driver'):
                    device.detachFlags(params['driver'], 0)
                else:
                    device.dettach()
    elif state == 'attached' and detached:
        outcome.act('reattach')
        if not check_mode:
            with call('re-attach PCI device %s to the host' % name):
                device.reAttach()
    if params.get('reset'):
        outcome.act('reset')
        if not check_mode:
            with call('reset PCI device %s' % name):
                device.reset()
    if outcome.changed and not check_mode:
        data = describe(lookup(conn.nodeDeviceLookupByName, name) or device)
    return outcome, data


def _xml_name(params):
    root = _xml.parse(params['xml'], 'node device XML', root='device')
    name = params.get('name') or _xml.find_text(root, 'name')
    return root, name


_MDEVCTL_HINT = ('libvirt manages mediated devices through mdevctl: install it on the host (package mdevctl) '
                 'and restart the libvirt daemon.')


def check_parent(conn, root):
    """Fail before changing anything (and in check mode) when the parent cannot hold the new device."""
    parent_name = _xml.find_text(root, 'parent')
    kinds = [c.get('type') for c in root.findall('capability')]
    if 'mdev' not in kinds and 'scsi_host' not in kinds:
        raise _xml.XMLInputError('node_device creates mediated devices (capability mdev) and vHBAs (capability '
                                 'scsi_host); this document has %s' % (', '.join(kinds) or 'no capability'))
    if not parent_name:
        if 'scsi_host' in kinds and root.find('parent') is not None and root.find('parent').get('wwnn'):
            return  # vHBA parent given by WWNN/WWPN or fabric: libvirt resolves it
        raise _xml.XMLInputError('The node device XML needs a <parent>')
    parent = lookup(conn.nodeDeviceLookupByName, parent_name)
    if parent is None:
        raise LibvirtFailure('The parent device %s does not exist on this host' % parent_name,
                             hint='List the candidates with sysvirt.libvirt.node_device_info '
                                  '(capabilities: [mdev_types] for mediated devices, [vports] for vHBAs).')
    data = describe(parent)
    caps = data['capabilities']
    if 'mdev' in kinds:
        wanted = root.find('capability/type')
        wanted = wanted.get('id') if wanted is not None else None
        offered = [t['id'] for c in caps for t in c.get('mdev_types', [])]
        if wanted not in offered:
            raise LibvirtFailure('The parent device %s offers no mediated device type %r (it offers: %s)'
                                 % (parent_name, wanted, ', '.join(offered) or 'none'),
                                 hint='List the types with sysvirt.libvirt.node_device_info (capabilities: '
                                      '[mdev_types]).')
    if 'scsi_host' in kinds:
        vports = [c for c in caps if c['type'] == 'scsi_host' and 'vport_ops' in (c.get('capabilities') or [])]
        if not vports:
            raise LibvirtFailure('The parent device %s is not an NPIV-capable HBA (no vport_ops capability)'
                                 % parent_name, hint='List the candidates with sysvirt.libvirt.node_device_info '
                                                     '(capabilities: [vports]).')


def _mdevctl_hint(failure):
    if 'mdevctl' in (failure.libvirt_message or failure.msg):
        failure.hint = _MDEVCTL_HINT
    return failure


def ensure_virtual(conn, params, check_mode):
    try:
        return _ensure_virtual(conn, params, check_mode)
    except LibvirtFailure as failure:
        raise _mdevctl_hint(failure)


def _ensure_virtual(conn, params, check_mode):
    """state present / absent for virtual devices (vHBA, mdev). Returns (outcome, device dict or None)."""
    outcome = Outcome()
    name = params.get('name')
    root = None
    if params.get('xml'):
        root, name = _xml_name(params)
    if not name:
        raise _xml.XMLInputError('A virtual device needs a name (the name option or <name> in the XML) so that '
                                 'the next run finds it; for an mdev, name it by its UUID (mdev_<uuid with _>)')
    device = lookup(conn.nodeDeviceLookupByName, name)
    if params['state'] == 'absent':
        if device is None:
            return outcome, None
        data = describe(device)
        # drivers that cannot say (the test driver) only have active, transient devices
        if data.get('active') is not False:
            outcome.act('destroy')
            if not check_mode:
                with call('destroy node device %s' % name):
                    device.destroy()
        if data.get('persistent'):
            outcome.act('undefine')
            if not check_mode:
                again = lookup(conn.nodeDeviceLookupByName, name)
                if again is not None:
                    with call('undefine node device %s' % name):
                        again.undefine()
        return outcome, None
    persistent = params.get('persistent')
    if device is None:
        if root is None:
            raise LibvirtFailure('The node device %s does not exist; give its definition (xml) to create it' % name)
        check_parent(conn, root)
        text = _xml.to_string(root, pretty=False)
        if persistent:
            outcome.act('define')
            outcome.act('start')
            if not check_mode:
                with call('define node device %s' % name):
                    device = conn.nodeDeviceDefineXML(text, 0)
                with call('start node device %s' % name):
                    device.create()
        else:
            outcome.act('create')
            if not check_mode:
                with call('create node device %s' % name):
                    device = conn.nodeDeviceCreateXML(text, 0)
        if check_mode:
            predicted = device_to_dict(_xml.to_string(root))
            predicted.update(active=True, persistent=bool(persistent), autostart=bool(params.get('autostart')))
            return outcome, predicted
    data = describe(device)
    if persistent and not data.get('persistent'):
        raise LibvirtFailure('The node device %s exists but is not persistent; libvirt cannot make it persistent'
                             % name, hint='Remove it (state: absent) and create it again with persistent: true.')
    if not data.get('active') and data.get('persistent'):
        outcome.act('start')
        if not check_mode:
            with call('start node device %s' % name):
                device.create()
    if params.get('autostart') is not None and data.get('persistent') and \
            bool(data.get('autostart')) != params['autostart']:
        outcome.act('autostart' if params['autostart'] else 'no autostart')
        if not check_mode:
            with call('set autostart of node device %s' % name):
                device.setAutostart(1 if params['autostart'] else 0)
    if outcome.changed and not check_mode:
        data = describe(lookup(conn.nodeDeviceLookupByName, name) or device)
    return outcome, data
