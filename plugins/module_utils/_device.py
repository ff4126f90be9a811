# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A guest's devices: find one in a domain definition, attach, update and detach it.

Private to this collection: the names here may change without notice.

Also home of ``find_domain``/``require_domain``, the lookup of a guest by name or UUID that the day-2
modules (snapshots, devices, block, guest agent, migration) share: the domain Kind's one lookup.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

try:
    import libvirt
except ImportError:
    libvirt = None

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure
from ansible_collections.sysvirt.libvirt.plugins.module_utils._domain import DOMAIN_KIND

_UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$')


def looks_like_uuid(value):
    return bool(value) and bool(_UUID_RE.match(value))


def find_domain(conn, ref):
    """The domain whose UUID is ``ref``, or named ``ref``; None when there is none (the domain Kind's lookup)."""
    return DOMAIN_KIND.lookup(conn, uuid=ref if looks_like_uuid(ref) else None, name=ref)


def require_domain(conn, ref):
    """Like find_domain, but a missing domain is the one "does not exist" failure, with a hint."""
    dom = find_domain(conn, ref)
    if dom is None:
        raise DOMAIN_KIND.missing(ref, 'define it first (sysvirt.libvirt.domain)',
                                  hint='Check the domain name or UUID (sysvirt.libvirt.domain_info lists them).')
    return dom


def is_active(dom):
    return bool(dom.isActive())


# ---------------------------------------------------------------------------------------------- devices

try:  # noqa: E402
    from lxml import etree
except ImportError:  # reported by _connection.require_libraries
    etree = None

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml  # noqa: E402
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import call  # noqa: E402
from ansible_collections.sysvirt.libvirt.plugins.module_utils._events import DomainEvents  # noqa: E402
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import ModuleRun, assumed_parent  # noqa: E402

#: How device definitions are compared: what the user wrote must be in what libvirt stored; what libvirt
#: fills in (addresses, aliases, driver names, backing chains, target buses) is not compared unless given.
DEVICE_RULES = _xml.CompareRules(
    aliases={('driver', 'type'): {'raw': 'raw'}},
    ignore=('address', 'alias'),
)


# Root elements of libvirt's other documents: never a device of a domain (given by mistake, they would be
# predicted as attached in check mode and fail only in the real run).
_NOT_DEVICES = ('domain', 'devices', 'network', 'networkport', 'pool', 'volume', 'secret', 'filter',
                'filterbinding', 'domainsnapshot', 'domaincheckpoint', 'domainbackup', 'capabilities',
                'domainCapabilities', 'cpu')


def _flag(name):
    return getattr(libvirt, name, 0)


def device_from_params(params):
    """The desired device element, from O(xml), O(disk) or O(interface)."""
    if params.get('xml') is not None:  # '' too: it fails as a document, not as a missing interface
        element = _xml.parse(params['xml'], what='device XML')
        if element.tag in _NOT_DEVICES:
            raise _xml.XMLInputError('Give one device element (<disk>, <interface>, ...), not <%s>' % element.tag)
        return element
    if params.get('disk'):
        return disk_element(params['disk'])
    return interface_element(params['interface'])


def disk_element(spec):
    device = spec.get('device') or 'disk'
    source = spec.get('source')
    kind = 'block' if source and source.startswith('/dev/') else 'file'
    if spec.get('pool'):
        kind = 'volume'
    disk = etree.Element('disk', type=kind, device=device)
    fmt = spec.get('format')
    if fmt:
        etree.SubElement(disk, 'driver', name='qemu', type=fmt)
    if spec.get('pool'):
        etree.SubElement(disk, 'source', pool=spec['pool'], volume=spec.get('volume') or '')
    elif source:
        etree.SubElement(disk, 'source', **{'dev' if kind == 'block' else 'file': source})
    target = etree.SubElement(disk, 'target', dev=spec['target'])
    if spec.get('bus'):
        target.set('bus', spec['bus'])
    readonly = spec.get('readonly')
    if readonly is None:
        readonly = device == 'cdrom'
    if readonly:
        etree.SubElement(disk, 'readonly')
    if spec.get('serial'):
        etree.SubElement(disk, 'serial').text = spec['serial']
    return disk


def interface_element(spec):
    iface = etree.Element('interface', type=spec.get('type') or 'network')
    if spec.get('mac'):
        etree.SubElement(iface, 'mac', address=spec['mac'].lower())
    if iface.get('type') == 'network' and spec.get('network'):
        etree.SubElement(iface, 'source', network=spec['network'])
    if spec.get('model'):
        etree.SubElement(iface, 'model', type=spec['model'])
    if spec.get('link_state'):
        etree.SubElement(iface, 'link', state=spec['link_state'])
    return iface


def identity(device):
    """How a device is recognised in a definition: (description, match function)."""
    tag = device.tag
    alias = device.find('alias')
    if alias is not None and alias.get('name'):
        name = alias.get('name')
        return 'alias %s' % name, lambda el: el.tag == tag and el.find('alias') is not None \
            and el.find('alias').get('name') == name
    if tag == 'disk' and device.find('target') is not None and device.find('target').get('dev'):
        dev = device.find('target').get('dev')
        return 'target %s' % dev, lambda el: el.tag == 'disk' and el.find('target') is not None \
            and el.find('target').get('dev') == dev
    if tag == 'interface' and device.find('mac') is not None and device.find('mac').get('address'):
        mac = device.find('mac').get('address').lower()
        return 'MAC %s' % mac, lambda el: el.tag == 'interface' and el.find('mac') is not None \
            and (el.find('mac').get('address') or '').lower() == mac
    if tag == 'filesystem' and device.find('target') is not None and device.find('target').get('dir'):
        target = device.find('target').get('dir')
        return 'target %s' % target, lambda el: el.tag == 'filesystem' and el.find('target') is not None \
            and el.find('target').get('dir') == target
    if tag in ('hostdev', 'redirdev', 'smartcard', 'rng', 'tpm', 'watchdog', 'filesystem', 'interface',
               'controller', 'channel', 'serial', 'console', 'sound', 'input', 'video', 'memballoon',
               'vsock', 'shmem', 'memory', 'iommu', 'panic', 'graphics', 'hub', 'lease', 'fs'):
        source = device.find('source')
        if tag == 'hostdev' and source is not None:
            return 'source', lambda el: el.tag == tag and el.find('source') is not None \
                and not _xml.differences(source, el.find('source'), DEVICE_RULES)
        if tag == 'interface':
            raise LibvirtFailure('An <interface> without <mac address=...> or <alias name=...> cannot be found '
                                 'again on the next run', hint='Give the interface a MAC address (or an alias '
                                 'starting with "ua-") so the module can tell whether it is attached.')
    return 'definition', lambda el: el.tag == tag and not _xml.differences(device, el, DEVICE_RULES)


def find_device(root, match):
    devices = root.find('devices')
    if devices is None:
        return None
    for el in devices:
        if isinstance(el.tag, str) and match(el):
            return el
    return None


def affect_scopes(dom, live, persistent):
    """[(scope, read flags, affect flag)] of a day-2 change: ``live`` (None: when the guest runs) and ``persistent``,
    as domain_device, domain_tune and domain_block take them; a scope the guest does not have fails with a hint."""
    active = bool(dom.isActive())
    if live is None:
        live = active
    if live and not active:
        raise LibvirtFailure('live=true, but %s is not running' % dom.name(),
                             hint='Start the guest, or set live=false to change only its definition.')
    out = []
    if live:
        out.append(('live', 0, _flag('VIR_DOMAIN_AFFECT_LIVE')))
    if persistent:
        if not dom.isPersistent():
            raise LibvirtFailure('persistent=true, but %s is transient (has no definition)' % dom.name(),
                                 hint='Set persistent=false for a transient guest.')
        out.append(('config', _flag('VIR_DOMAIN_XML_INACTIVE'), _flag('VIR_DOMAIN_AFFECT_CONFIG')))
    if not out:
        raise LibvirtFailure('Nothing to change: live and persistent are both false',
                             hint='Set live=true, persistent=true, or both.')
    return out


class DeviceEvents(DomainEvents):
    """DomainEvents plus device-removed / removal-failed events (one domain)."""

    def __enter__(self):
        super(DeviceEvents, self).__enter__()
        self._ids.append(self.conn.domainEventRegisterAny(
            self.dom, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, self._on_removed, None))
        failed = getattr(libvirt, 'VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED', None)
        if failed is not None:
            self._ids.append(self.conn.domainEventRegisterAny(self.dom, failed, self._on_removal_failed, None))
        return self

    def _on_removed(self, conn, dom, alias, opaque):
        self._record(('device-removed', alias, None))

    def _on_removal_failed(self, conn, dom, alias, opaque):
        self._record(('device-removal-failed', alias, None))

    def removal_failed(self, alias):
        with self.cond:
            return any(e[0] == 'device-removal-failed' and e[1] == alias for e in self.events)


class DeviceRun(ModuleRun):
    """One run of domain_device."""

    def __init__(self, module, conn):
        super(DeviceRun, self).__init__(module, conn)
        self.before = []
        self.after = []

    def scopes(self, dom):
        """[(scope, read flags, affect flag)] the run applies to."""
        return affect_scopes(dom, self.params.get('live'), self.params.get('persistent'))

    def run(self):
        p = self.params
        desired = device_from_params(p)
        what, match = identity(desired)
        label = '%s %s' % (desired.tag, what)
        dom = find_domain(self.conn, p['domain'])
        if dom is None:
            return self.without_domain(desired, label)
        result_devices = {}
        for scope, read_flags, affect in self.scopes(dom):
            with call('read the %s definition of %s' % (scope, dom.name())):
                root = _xml.parse(dom.XMLDesc(read_flags), what='domain XML')
            current = find_device(root, match)
            if p['state'] == 'present':
                result_devices[scope] = self.present(dom, scope, affect, desired, current, label)
            else:
                self.absent(dom, scope, affect, current, label)
                result_devices[scope] = None
        return self._result(dom.name(), result_devices)

    def without_domain(self, desired, label):
        """The guest does not exist: removing succeeds unchanged (teardown re-runs), check mode predicts attaching
        to the definition as if an earlier task defined the guest, anything else fails."""
        p = self.params
        if p['state'] == 'absent':
            return self._result(p['domain'], {})
        if self.check and p.get('persistent') and not p.get('live'):
            self.warnings.append(assumed_parent('Domain', p['domain']))
            return self._result(p['domain'], dict(config=self.present(None, 'config', 0, desired, None, label)))
        require_domain(self.conn, p['domain'])  # fails: the domain does not exist

    def _result(self, domain, result_devices):
        return self.finish(diff=dict(before='\n'.join(self.before), after='\n'.join(self.after)), compared=True,
                           domain=domain, device=result_devices.get('live', result_devices.get('config')),
                           devices=result_devices)

    def _device_xml(self, element):
        return _xml.to_string(element, pretty=False)

    def present(self, dom, scope, affect, desired, current, label):
        text = self._device_xml(desired)
        if current is None:
            self.act('attach %s (%s)' % (label, scope))
            self.after.append('<!-- %s -->\n%s' % (scope, _xml.to_string(desired)))
            if self.check:
                return _xml.to_string(desired)
            with call('attach %s to %s (%s)' % (label, dom.name(), scope)):
                dom.attachDeviceFlags(text, affect)
            return self._reread(dom, scope, desired)
        diffs = _xml.differences(desired, current, DEVICE_RULES) + _eject_difference(desired, current)
        if not diffs:
            return _xml.to_string(current)
        self.differences.extend(diffs)
        self.act('update %s (%s)' % (label, scope))
        self.before.append('<!-- %s -->\n%s' % (scope, _xml.to_string(current)))
        self.after.append('<!-- %s -->\n%s' % (scope, _xml.to_string(desired)))
        if self.check:
            return _xml.to_string(desired)
        update = _merge_for_update(desired, current)
        with call('update %s of %s (%s)' % (label, dom.name(), scope)):
            dom.updateDeviceFlags(self._device_xml(update), affect)
        after = self._reread(dom, scope, desired)
        still = _xml.differences(desired, _xml.parse(after), DEVICE_RULES) if after else []
        if still:
            self.warnings.append('libvirt updated %s (%s) but did not keep: %s'
                                 % (label, scope, '; '.join(str(d) for d in still)))
        return after

    def _reread(self, dom, scope, desired):
        flags = _flag('VIR_DOMAIN_XML_INACTIVE') if scope == 'config' else 0
        with call('read the %s definition of %s' % (scope, dom.name())):
            root = _xml.parse(dom.XMLDesc(flags), what='domain XML')
        found = find_device(root, identity(desired)[1])
        if found is None:
            # Matching on the whole definition can miss when libvirt rewrote a value; say so, not fail.
            return None
        return _xml.to_string(found)

    def absent(self, dom, scope, affect, current, label):
        if current is None:
            return
        self.act('detach %s (%s)' % (label, scope))
        self.before.append('<!-- %s -->\n%s' % (scope, _xml.to_string(current)))
        if self.check:
            return
        text = self._device_xml(current)
        if scope == 'config':
            with call('detach %s from %s (%s)' % (label, dom.name(), scope)):
                dom.detachDeviceFlags(text, affect)
            return
        alias_el = current.find('alias')
        alias = alias_el.get('name') if alias_el is not None else None
        timeout = self.params.get('timeout')
        match = identity(current)[1]

        def gone():
            root = _xml.parse(dom.XMLDesc(0), what='domain XML')
            return find_device(root, match) is None

        with DeviceEvents(self.conn, dom) as events:
            with call('detach %s from %s (%s)' % (label, dom.name(), scope)):
                dom.detachDeviceFlags(text, affect)
            with call('wait for %s to release %s' % (dom.name(), label)):
                done = events.wait(lambda: gone() or (alias is not None and events.removal_failed(alias)), timeout)
            if alias is not None and events.removal_failed(alias):
                raise LibvirtFailure('The guest %s refused to release %s' % (dom.name(), label),
                                     hint='The guest OS rejected the unplug; try again later or detach '
                                          'with live=false and restart the guest.')
            if not done:
                raise LibvirtFailure('%s did not release %s within %s seconds (the detach request stays '
                                     'pending)' % (dom.name(), label, timeout),
                                     hint='The guest OS must cooperate to unplug PCI devices (ACPI hotplug); '
                                          'raise timeout, or detach with live=false and restart the guest.')


def _eject_difference(desired, current):
    """A cdrom/floppy asked for without <source> is an empty drive: media present is a difference."""
    if desired.tag == 'disk' and desired.get('device') in ('cdrom', 'floppy') and desired.find('source') is None:
        source = current.find('source')
        if source is not None and any(source.get(a) for a in ('file', 'dev', 'volume', 'name', 'dir')):
            return [_xml.Difference('/disk/source', None, _xml.to_string(source, pretty=False), 'extra')]
    return []


def _merge_for_update(desired, current):
    """The device XML for updateDeviceFlags: the stored device with the desired parts laid over it.

    libvirt's update takes a full device; attributes the user did not give (addresses, aliases, the bus)
    must stay as stored, or libvirt refuses the change as 'cannot modify ...'.
    """
    merged = _xml.parse(_xml.to_string(current, pretty=False))
    _overlay(desired, merged)
    if desired.tag == 'disk' and desired.get('device') == 'cdrom' and desired.find('source') is None:
        source = merged.find('source')
        if source is not None:
            merged.remove(source)  # eject
    return merged


def _overlay(src, dst):
    for key, value in src.attrib.items():
        dst.set(key, value)
    if (src.text or '').strip():
        dst.text = src.text
    for child in src:
        if not isinstance(child.tag, str):
            continue
        existing = dst.find(child.tag)
        if existing is None:
            dst.append(_xml.parse(_xml.to_string(child, pretty=False)))
        elif child.tag == 'source':
            # A new source replaces the old one whole (a different file, pool or device).
            dst.replace(existing, _xml.parse(_xml.to_string(child, pretty=False)))
        else:
            _overlay(child, existing)


def run_module(module):
    DeviceRun.main(module, events=True)
