# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Domains: the Kind for reconcile_definition, comparison rules, power-state changes, removal.

Private to this collection: the names here may change without notice. Used by the domain module.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os
import time

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _cloud_init, _resource, _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    LibvirtFailure, call, failure_from, lookup,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._domain_data import STATE_NAMES, describe_domain
from ansible_collections.sysvirt.libvirt.plugins.module_utils._events import DomainEvents
from ansible_collections.sysvirt.libvirt.plugins.module_utils._capabilities import machine_aliases, read_capabilities
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import Kind, reconcile_definition

try:
    import libvirt
except ImportError:
    libvirt = None

try:
    from lxml import etree
except ImportError:
    etree = None

#: libvirt's own NVRAM directory (QEMU driver): only NVRAM files inside it are removed with a domain.
NVRAM_DIR = '/var/lib/libvirt/qemu/nvram'

# Memory sizes without a unit are KiB in domain XML.
_KIB_TAGS = ('memory', 'currentMemory', 'maxMemory', 'hard_limit', 'soft_limit', 'swap_hard_limit',
             'min_guarantee', 'size', 'requested', 'current', 'block')

#: Devices the user owns: stored but left out of the document means "remove it". Never the ones
#: libvirt adds itself (controllers, inputs, memballoon, video, console, ...).
REMOVABLE_DEVICES = ('disk', 'interface', 'hostdev', 'filesystem', 'redirdev', 'smartcard', 'rng', 'tpm',
                     'sound', 'watchdog', 'shmem', 'memory', 'vsock')

DOMAIN_RULES = _xml.CompareRules(
    default_units=dict((tag, 'KiB') for tag in _KIB_TAGS),
    fallback_unit='KiB',
    # libvirt rounds memory sizes up to what the machine or device allows (1 MiB, 2 MiB for DIMMs).
    size_tolerance=dict(memory=2 * 1024 * 1024, currentMemory=2 * 1024 * 1024, maxMemory=2 * 1024 * 1024,
                        size=2 * 1024 * 1024),
    cpuset_attributes=('cpuset', 'cpus', 'nodeset', 'vcpus', 'vcpu', 'iothreads'),
    removable={'devices': REMOVABLE_DEVICES},
    order={'': ('name', 'uuid', 'genid', 'title', 'description', 'metadata', 'maxMemory', 'memory', 'currentMemory',
                'blkiotune', 'memtune', 'memoryBacking', 'vcpu', 'vcpus', 'iothreads', 'iothreadids', 'cputune',
                'numatune', 'resource', 'sysinfo', 'bootloader', 'bootloader_args', 'os', 'idmap', 'features',
                'cpu', 'clock', 'on_poweroff', 'on_reboot', 'on_crash', 'pm', 'perf', 'devices', 'seclabel',
                'keywrap', 'launchSecurity'),
           'devices': ('emulator', 'disk', 'controller', 'lease', 'filesystem', 'interface', 'smartcard', 'serial',
                       'parallel', 'console', 'channel', 'input', 'tpm', 'graphics', 'sound', 'audio', 'video',
                       'hostdev', 'redirdev', 'redirfilter', 'hub', 'watchdog', 'memballoon', 'rng', 'panic',
                       'shmem', 'memory', 'iommu', 'vsock', 'crypto')},
)


DEFAULT_TIMEOUT = 120


def domain_rules(conn):
    """DOMAIN_RULES with the machine-type aliases of this host ('pc' -> 'pc-i440fx-7.2')."""
    caps = read_capabilities(conn)[1]
    aliases = machine_aliases(caps)
    if not aliases:
        return DOMAIN_RULES
    return DOMAIN_RULES.with_aliases({('type', 'machine'): aliases})


def normalise_desired(desired):
    """Rewrite values libvirt stores in another but equal spelling, so they compare equal (in place).

    NUMA cells carry their size in a ``memory`` attribute with a ``unit`` attribute; libvirt stores KiB.
    """
    for cell in desired.iter('cell'):
        memory, unit = cell.get('memory'), cell.get('unit')
        if memory is not None and unit and unit.lower() not in ('k', 'kib'):
            try:
                kib = _xml.size_to_bytes(memory, unit) // 1024
            except ValueError:
                continue
            cell.set('memory', str(kib))
            cell.set('unit', 'KiB')
    vcpu = desired.find('vcpu')
    if vcpu is not None and vcpu.get('current') is not None:
        # libvirt writes no current count when it equals the maximum
        if _xml.parse_int(vcpu.get('current')) == _xml.parse_int(vcpu.text or ''):
            del vcpu.attrib['current']
    return desired


def align_vcpu_current(desired, stored):
    """A document asking for N vCPUs without a current count means all N are current (in place).

    The subset comparison alone would accept a stored ``<vcpu current='1'>2</vcpu>`` for ``<vcpu>2</vcpu>``.
    """
    want, have = desired.find('vcpu'), stored.find('vcpu')
    if want is None or have is None or want.get('current') is not None or have.get('current') is None:
        return desired
    if _xml.parse_int(have.get('current')) != _xml.parse_int(want.text or ''):
        want.set('current', (want.text or '').strip())
    return desired


def _interface_key(iface):
    source = iface.find('source')
    attrs = tuple(sorted(source.attrib.items())) if source is not None else ()
    return iface.get('type'), attrs


class DomainKind(Kind):
    noun = 'domain'
    rules = DOMAIN_RULES
    lookups = (('uuid', 'lookupByUUIDString'), ('name', 'lookupByName'))
    define_call = ('defineXML', ())
    stored_flags = ('VIR_DOMAIN_XML_INACTIVE', 'VIR_DOMAIN_XML_SECURE')
    autostart_actions = ('enable autostart', 'disable autostart')
    stop_action = 'destroy'

    def __init__(self, numa_memory=False):
        #: Whether the driver stores <memory> as the sum of the NUMA cells (QEMU's does; the test driver keeps it).
        self.numa_memory = numa_memory

    def is_active(self, obj):
        return safe_state(obj) in _ACTIVE

    def carry_over(self, desired, stored):
        """UUID (by the base class) and the MAC of each NIC the document gives without one."""
        super(DomainKind, self).carry_over(desired, stored)
        carry_over_macs(desired, stored)

    def predict(self, desired, stored, rules):
        """The overlay, with libvirt's memory rule: the current memory is the maximum unless the document gives
        it, and never more than the maximum."""
        predicted = super(DomainKind, self).predict(desired, stored, rules)
        memory, current = predicted.find('memory'), predicted.find('currentMemory')
        if self.numa_memory:
            _numa_memory(predicted, memory)
        if memory is None or current is None:
            return predicted
        size = _xml.size_to_bytes(memory.text.strip(), memory.get('unit') or 'KiB')
        have = _xml.size_to_bytes(current.text.strip(), current.get('unit') or 'KiB')
        if desired.find('currentMemory') is None or have > size:
            current.text, current.attrib['unit'] = memory.text, memory.get('unit') or 'KiB'
        return predicted


def _numa_memory(domain, memory):
    """libvirt's rule for a guest with NUMA cells: its <memory> is the sum of the cells' memory and of its memory
    devices (a <memory> the document gives is not kept)."""
    cells = [cell for cell in domain.findall('cpu/numa/cell') if cell.get('memory')]
    if memory is None or not cells:
        return
    total = sum(_xml.size_to_bytes(cell.get('memory'), cell.get('unit') or 'KiB') for cell in cells)
    for size in domain.findall('devices/memory/target/size'):
        total += _xml.size_to_bytes(size.text.strip(), size.get('unit') or 'KiB')
    unit = memory.get('unit') or 'KiB'
    scale = _xml.size_to_bytes('1', unit)
    memory.text, memory.attrib['unit'] = (str(total // scale), unit) if total % scale == 0 else (str(total), 'b')


DOMAIN_KIND = DomainKind()


def carry_over_macs(desired, stored):
    """Give each desired NIC without <mac> the MAC of the stored NIC it stands for.

    Matched by user alias first, then by type and source in order; each stored NIC is used once.
    """
    stored_nics = [n for n in stored.findall('devices/interface') if n.find('mac') is not None]
    used = set()
    wanting = [n for n in desired.findall('devices/interface') if n.find('mac') is None]
    claimed = set(m.get('address', '').lower() for m in desired.findall('devices/interface/mac'))

    def take(nic, index):
        used.add(index)
        mac = copy.deepcopy(stored_nics[index].find('mac'))
        mac.tail = None
        nic.insert(0, mac)

    for matcher in ('alias', 'source'):
        for nic in wanting:
            if nic.find('mac') is not None:
                continue
            for index, candidate in enumerate(stored_nics):
                if index in used or candidate.find('mac').get('address', '').lower() in claimed:
                    continue
                if matcher == 'alias':
                    alias = nic.find('alias')
                    other = candidate.find('alias')
                    if alias is None or other is None or alias.get('name') != other.get('name'):
                        continue
                elif _interface_key(nic) != _interface_key(candidate):
                    continue
                take(nic, index)
                break
    return desired


# ---------------------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------------------

def state_name(dom):
    with call('read the state of domain %s' % dom.name()):
        return STATE_NAMES.get(dom.state()[0], 'unknown')


def safe_state(dom):
    """The state name, or 'absent' when the domain went away (a transient domain that stopped)."""
    try:
        return STATE_NAMES.get(dom.state()[0], 'unknown')
    except libvirt.libvirtError as e:
        if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return 'absent'
        raise


def starting_up(dom):
    """Whether the domain is paused only because libvirt is starting it (another client's start in progress:
    QEMU runs paused until libvirt has set it up, then libvirt resumes it)."""
    try:
        state, reason = dom.state()
    except libvirt.libvirtError:
        return False
    return state == libvirt.VIR_DOMAIN_PAUSED and reason == libvirt.VIR_DOMAIN_PAUSED_STARTING_UP


def has_managed_save(dom):
    try:
        return bool(dom.hasManagedSaveImage(0))
    except libvirt.libvirtError:
        return False


_SHUTDOWN_FLAGS = dict(acpi='ACPI_POWER_BTN', agent='GUEST_AGENT', initctl='INITCTL', signal='SIGNAL',
                       paravirt='PARAVIRT')


def mode_flags(modes, prefix):
    flags = 0
    for mode in modes or ():
        flags |= getattr(libvirt, '%s%s' % (prefix, _SHUTDOWN_FLAGS[mode]))
    return flags


class Waiter:
    """Event-driven waits for one domain (the connection must have been opened with events=True)."""

    def __init__(self, conn, dom):
        self.events = DomainEvents(conn, dom)
        self.dom = dom

    def __enter__(self):
        with call('register for events of domain %s' % self.dom.name()):
            self.events.__enter__()
        return self

    def __exit__(self, *exc):
        return self.events.__exit__(*exc)

    def until_state(self, states, timeout):
        states = set(states)
        return self.events.wait(lambda: safe_state(self.dom) in states, timeout)

    def until_rebooted(self, timeout):
        def back():
            return self.events.seen('reboot') or self.events.seen('lifecycle', libvirt.VIR_DOMAIN_EVENT_STARTED)
        return self.events.wait(lambda: back() and safe_state(self.dom) == 'running', timeout)


# ---------------------------------------------------------------------------------------------------------
# Removal
# ---------------------------------------------------------------------------------------------------------

def _under(path, directory):
    real = os.path.normpath(path)
    return real.startswith(directory.rstrip('/') + '/')


def removal_plan(conn, dom, stored, remove_storage, remove_tpm):
    """What undefining ``dom`` removes: flags for undefineFlags, volumes to delete, and a report."""
    flags = 0
    report = dict(managed_save=False, snapshots_metadata=0, checkpoints_metadata=0, nvram=None, nvram_kept=None,
                  tpm_state=False, storage=[], storage_kept=[])
    if has_managed_save(dom):
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
        report['managed_save'] = True
    try:
        snapshots = dom.snapshotNum(0)
    except libvirt.libvirtError:
        snapshots = 0
    if snapshots:
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        report['snapshots_metadata'] = snapshots
    try:
        checkpoints = len(dom.listAllCheckpoints(0))
    except (libvirt.libvirtError, AttributeError):
        checkpoints = 0
    if checkpoints:
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
        report['checkpoints_metadata'] = checkpoints
    nvram = _xml.find_text(stored, 'os/nvram')
    if nvram:
        if _under(nvram, NVRAM_DIR):
            flags |= libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
            report['nvram'] = nvram
        else:
            flags |= libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM
            report['nvram_kept'] = nvram
    if stored.find("devices/tpm/backend[@type='emulator']") is not None:
        if remove_tpm:
            flags |= libvirt.VIR_DOMAIN_UNDEFINE_TPM
            report['tpm_state'] = True
        else:
            flags |= libvirt.VIR_DOMAIN_UNDEFINE_KEEP_TPM
    volumes = []
    wanted = set(remove_storage or ())
    remove_all = 'all' in wanted
    for disk in stored.findall('devices/disk'):
        target = disk.find('target')
        target_dev = target.get('dev') if target is not None else None
        path, vol = _disk_volume(conn, disk)
        named = bool(wanted & set(p for p in (target_dev, path) if p))
        if not (named or (remove_all and disk.get('device', 'disk') == 'disk')):
            continue
        if vol is None:
            report['storage_kept'].append(path or target_dev)
            continue
        volumes.append(vol)
        report['storage'].append(path)
    return flags, volumes, report


def _disk_volume(conn, disk):
    """(path, storage volume or None) of a disk."""
    source = disk.find('source')
    if source is None:
        return None, None
    if disk.get('type') == 'volume':
        pool = lookup(conn.storagePoolLookupByName, source.get('pool')) if source.get('pool') else None
        vol = lookup(pool.storageVolLookupByName, source.get('volume')) if pool is not None else None
        return (vol.path() if vol is not None else '%s/%s' % (source.get('pool'), source.get('volume'))), vol
    path = source.get('file') or source.get('dev')
    if not path:
        return None, None
    try:
        vol = conn.storageVolLookupByPath(path)
    except libvirt.libvirtError:
        vol = None
    return path, vol


def undefine(dom, flags):
    with call('undefine domain %s' % dom.name()):
        try:
            dom.undefineFlags(flags)
        except libvirt.libvirtError as e:
            # Drivers without the NVRAM / TPM flags (the test driver) refuse them: fall back to the flags
            # that matter to them, never to removing more.
            optional = (libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_KEEP_TPM)
            if e.get_error_code() in (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT) and flags & optional:
                dom.undefineFlags(flags & ~optional)
            else:
                raise


def delete_volume(vol):
    with call('delete storage volume %s' % vol.path()):
        vol.delete(0)


# ---------------------------------------------------------------------------------------------------------
# Metadata, live changes
# ---------------------------------------------------------------------------------------------------------

def get_metadata(dom, mtype, uri=None):
    try:
        return dom.metadata(mtype, uri, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    except libvirt.libvirtError as e:
        if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return None
        raise LibvirtFailure('Failed to read metadata of domain %s: %s' % (dom.name(), e.get_error_message()),
                             code=e.get_error_code(), domain=e.get_error_domain())


def _desired_metadata(desired, uri):
    """The element of namespace ``uri`` in a document's <metadata>, as text (as get_metadata gives it), or None."""
    container = desired.find('metadata')
    for child in container if container is not None else ():
        if isinstance(child.tag, str) and etree.QName(child).namespace == uri:
            return _xml.to_string(child, pretty=False)
    return None


def set_metadata(dom, mtype, value, key=None, uri=None):
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if dom.isActive():
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    with call('set metadata of domain %s' % dom.name()):
        dom.setMetadata(mtype, value, key, uri, flags)


def same_metadata_element(wanted, current):
    if current is None:
        return wanted is None
    if wanted is None:
        return False
    w = _xml.parse(wanted, 'metadata XML')
    c = _xml.parse(current, 'stored metadata XML')
    return not _xml.differences(w, c) and not _xml.differences(c, w)


def live_changes(dom, desired):
    """[(action, function)] bringing a running domain's live vCPUs, memory and cdrom media to ``desired``."""
    changes = []
    live = _xml.parse(dom.XMLDesc(0), 'live domain XML')
    vcpu = desired.find('vcpu')
    if vcpu is not None:
        want = _xml.parse_int(vcpu.get('current') or vcpu.text or '')
        have = _xml.parse_int(live.find('vcpu').get('current') or live.find('vcpu').text)
        if want and want != have:
            changes.append(('set live vCPUs to %d' % want,
                            lambda n=want: dom.setVcpusFlags(n, libvirt.VIR_DOMAIN_AFFECT_LIVE)))
    current = desired.find('currentMemory')
    if current is None:
        current = desired.find('memory')
    if current is not None and current.text:
        want = _xml.size_to_bytes(current.text.strip(), current.get('unit', 'KiB')) // 1024
        have_el = live.find('currentMemory')
        have = _xml.size_to_bytes(have_el.text.strip(), have_el.get('unit', 'KiB')) // 1024
        if abs(want - have) >= 1024:
            changes.append(('set live memory to %d KiB' % want,
                            lambda k=want: dom.setMemoryFlags(k, libvirt.VIR_DOMAIN_AFFECT_LIVE)))
    live_disks = dict((d.find('target').get('dev'), d) for d in live.findall('devices/disk')
                      if d.find('target') is not None)
    for disk in desired.findall('devices/disk'):
        if disk.get('device') not in ('cdrom', 'floppy') or disk.find('target') is None:
            continue
        dev = disk.find('target').get('dev')
        current_disk = live_disks.get(dev)
        if current_disk is None:
            continue
        want = media(disk)
        if want != media(current_disk):
            xml = _xml.to_string(disk, pretty=False)
            changes.append(('change media of %s to %s' % (dev, media_label(want)),
                            lambda x=xml: dom.updateDeviceFlags(x, libvirt.VIR_DOMAIN_AFFECT_LIVE)))
    return changes


#: what names the medium in a drive's <source>, for each disk type (file, block, dir, volume, network)
_MEDIA_ATTRIBUTES = ('file', 'dev', 'dir', 'pool', 'volume', 'mode', 'protocol', 'name')


def media(disk):
    """The medium in a cdrom/floppy drive, as a comparable tuple; None when the drive is empty (ejected).

    A drive's source is a file, a block device, a directory, a pool volume or a network export (protocol,
    name and hosts); what libvirt adds to the live XML (index, startupPolicy, seclabels...) does not count."""
    source = disk.find('source')
    if source is None:
        return None
    named = tuple((a, source.get(a)) for a in _MEDIA_ATTRIBUTES if source.get(a))
    hosts = tuple((h.get('name'), h.get('port'), h.get('transport'), h.get('socket')) for h in source.findall('host'))
    if not named and not hosts:
        return None
    return named + ((('hosts', hosts),) if hosts else ())


def media_label(medium):
    if medium is None:
        return 'none'
    values = dict(medium)
    if values.get('pool') or values.get('volume'):
        return '%s/%s' % (values.get('pool'), values.get('volume'))
    label = values.get('file') or values.get('dev') or values.get('dir') or values.get('name') or ''
    if values.get('protocol'):
        label = '%s:%s' % (values['protocol'], label)
    return label


def restart_needed(dom, desired, rules):
    """True when the persistent definition satisfies parts of ``desired`` that the live one does not."""
    if not dom.isActive() or not dom.isPersistent():
        return False
    live = _xml.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE), 'live domain XML')
    stored = _xml.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_INACTIVE),
                        'stored domain XML')
    unkept = set(d.path for d in _xml.differences(desired, stored, rules))
    return [d for d in _xml.differences(desired, live, rules) if d.path not in unkept]


# ---------------------------------------------------------------------------------------------------------
# The returned object
# ---------------------------------------------------------------------------------------------------------

def domain_data(dom, with_xml=False):
    """The domain as domain_info describes it (shared _domain_data), plus ``managed_save``.

    ``xml`` (on request) is the persistent definition of a persistent domain, the live one of a transient
    domain, never with secrets.
    """
    with call('describe domain %s' % dom.name()):
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if dom.isPersistent() else 0
        data = describe_domain(dom, include_xml=with_xml, xml_flags=flags)
        data['managed_save'] = has_managed_save(dom)
    return data


def redact(text):
    """Remove secret attributes (graphics passwords) from an XML text for results and diffs."""
    if not text:
        return text
    root = _xml.parse(text, 'domain XML')
    found = False
    for node in root.iter():
        if isinstance(node.tag, str) and 'passwd' in node.attrib:
            node.set('passwd', '********')
            found = True
    return _xml.as_stored(root) if found else text


def strip_namespaces(element):
    """A copy of ``element`` with every tag and attribute in no namespace (for comparing metadata)."""
    element = copy.deepcopy(element)
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        node.tag = _xml._local(node.tag)
        for name in list(node.attrib):
            if name.startswith('{'):
                value = node.attrib.pop(name)
                node.set(_xml._local(name), value)
    etree.cleanup_namespaces(element)
    return element


# ---------------------------------------------------------------------------------------------------------
# The domain module's run
# ---------------------------------------------------------------------------------------------------------

_ACTIVE = ('running', 'blocked', 'paused', 'shutting_down', 'pmsuspended', 'crashed')
_OFF = ('shutoff', 'nostate', 'absent')
_STOPPED = ('shutoff', 'nostate', 'crashed')

#: The domain's power states as a plan: for each state asked, rows of (the states the domain may be in, None for
#: any; the transitions that bring it there, in order). The first row that holds the current state applies; no
#: row, nothing to do. DomainRun.POWER_STEPS makes each transition (or, in check mode, predicts it).
POWER_PLAN = {
    'running': ((_STOPPED, ('start',)), (('paused',), ('resume',)), (('pmsuspended',), ('wake up',)),
                (('shutting_down',), ('wait until off', 'start'))),
    'paused': ((_STOPPED, ('start paused',)), (('running', 'blocked'), ('pause',)), (('paused',), ()),
               (None, ('refuse',))),
    'shutdown': ((_ACTIVE, ('shutdown',)),),
    'destroyed': ((_ACTIVE, ('destroy',)),),
    'restarted': ((_ACTIVE, ('reboot',)), (_OFF, ('start',))),
    'reset': ((_ACTIVE, ('hard reset',)), (_OFF, ('start',))),
    'saved': ((('running', 'paused', 'blocked'), ('managed save',)), (_OFF, ('nothing to save',)),
              (None, ('refuse',))),
}


def start_flags(force_boot, reset_nvram):
    """createWithFlags' flags: FORCE_BOOT discards a managed save image, RESET_NVRAM starts from a fresh copy of
    the NVRAM template."""
    flags = 0
    if force_boot:
        flags |= libvirt.VIR_DOMAIN_START_FORCE_BOOT
    if reset_nvram:
        flags |= libvirt.VIR_DOMAIN_START_RESET_NVRAM
    return flags


def start_action(managed_save, force_boot, reset_nvram):
    """How a start is named in ``actions``."""
    notes = []
    if managed_save:
        notes.append('discard the managed save, boot afresh' if force_boot else 'restore the managed save')
    if reset_nvram:
        notes.append('reset the NVRAM')
    return 'start (%s)' % ', '.join(notes) if notes else 'start'


class DomainRun:
    """One run of the domain module: definition, metadata, autostart, power state, removal.

    Every decision is made the same way in check mode; only the mutating calls are guarded.
    """

    def __init__(self, module, conn, outcome):
        self.module = module
        self.params = module.params
        self.conn = conn
        self.check = module.check_mode
        self.outcome = outcome
        self.kind = DomainKind(numa_memory=conn.getType() == 'QEMU')
        self.rules = None
        self.dom = None
        self.desired = None
        #: The power state predicted in check mode once an action would have changed it.
        self.predicted = None
        self.extra = dict(restart_needed=False)
        self.state_before = None
        #: title / description the document gives empty: libvirt keeps none, so "none" is what is wanted.
        self.emptied = set()
        #: In check mode, the domain rename_from names, which the real run would have renamed.
        self.renamed_in_check_mode = None
        #: The volumes the disks of O(spec) need created before the definition.
        self.spec_volumes = []

    # -- helpers -------------------------------------------------------------------------------------
    def fail(self, msg, **kwargs):
        raise LibvirtFailure(msg, **kwargs)

    def act(self, action, func=None, what=None):
        return self.outcome.perform(action, func, self.check, what)

    def op(self, method, *args):
        """A deferred call of a method of the domain (looked up when it runs: never in check mode)."""
        return lambda: getattr(self.dom, method)(*args)

    def current_state(self):
        if self.predicted is not None:
            return self.predicted
        if self.dom is None:
            return 'absent'
        return safe_state(self.dom)

    def timeout(self):
        return self.params['timeout']

    def waiter(self):
        return Waiter(self.conn, self.dom)

    # -- input ---------------------------------------------------------------------------------------
    def read_input(self):
        p = self.params
        text = p['xml']
        if p['from_native']:
            fmt = p['from_native']['format']
            with call('convert the native %s configuration to domain XML' % fmt):
                text = self.conn.domainXMLFromNative(fmt, p['from_native']['config'], 0)
        name, uuid = p['name'], p['uuid']
        if p['spec'] and p['state'] != 'absent':
            # imported here: a run without `spec` does not compile it (modules run from a zip without bytecode)
            from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain_spec
            element, self.spec_volumes = _domain_spec.prepare(self.conn, p['spec'], name, self.check,
                                                              self.outcome.warnings, self.module.run_command)
            text = _xml.to_string(element)
        if text:
            desired = normalise_desired(_xml.parse(text, 'domain XML', root='domain'))
            dname, duuid = self.kind.identity(desired)
            if name and dname and name != dname:
                self.fail('The name option (%s) and the <name> of the XML (%s) differ; give one name' % (name, dname))
            if uuid and duuid and not _xml.same_uuid(uuid, duuid):
                self.fail('The uuid option (%s) and the <uuid> of the XML (%s) differ' % (uuid, duuid))
            if not dname:
                if not name:
                    self.fail('The domain XML has no <name> and the name option is not set')
                _xml.set_child_text(desired, 'name', name)
                desired.insert(0, desired.find('name'))
            self.apply_options_to_document(desired)
            self.desired = desired
            name, uuid = name or dname, uuid or duuid
        if p['restore'] and not (name or uuid):
            with call('read the domain definition in the save file %s' % p['restore']):
                saved = _xml.parse(self.conn.saveImageGetXMLDesc(p['restore'], 0), 'saved domain XML')
            name, uuid = self.kind.identity(saved)
        if not (name or uuid):
            self.fail('Give the domain by name, uuid, xml or restore')
        self.name, self.uuid = name, uuid

    def apply_options_to_document(self, desired):
        """Title, description and metadata options written into the document, so both agree."""
        p = self.params
        for option in ('title', 'description'):
            if p[option] is None:
                element = desired.find(option)
                if element is not None and not (element.text or '') and len(element) == 0:
                    # An empty <title/> is no title to libvirt: compared as is, it would never be kept.
                    desired.remove(element)
                    self.emptied.add(option)
                continue
            element = desired.find(option)
            if p[option] == '':
                if element is not None:
                    desired.remove(element)
                continue
            if element is None:
                element = _xml.set_child_text(desired, option, p[option])
                desired.find('name').addnext(element)
            element.text = p[option]
        for entry in p['metadata'] or ():
            if entry['state'] != 'present':
                continue
            wanted = _xml.parse(entry['xml'], 'metadata XML')
            container = desired.find('metadata')
            if container is None:
                container = etree.SubElement(desired, 'metadata')
            for child in list(container):
                if isinstance(child.tag, str) and etree.QName(child).namespace == entry['namespace']:
                    container.remove(child)
            container.append(_namespaced(wanted, entry['namespace'], entry['key']))

    # -- the run -------------------------------------------------------------------------------------
    def run(self):
        p = self.params
        self.read_input()
        if p['rename_from']:
            self.rename()
        self.dom = self.kind.check_found(self.kind.lookup(self.conn, name=self.name, uuid=self.uuid),
                                         self.name, self.uuid) or self.renamed_in_check_mode
        self.state_before = self.current_state()
        state = p['state']
        if state == 'absent':
            self.remove()
            return self.finish()
        for volume in self.spec_volumes:
            self.act(volume.action, volume.create, what=volume.action)
        if p['persistent']:
            self.ensure_persistent_definition()
        else:
            self.ensure_transient()
        if self.dom is None and not self.outcome.changed:
            if state in ('shutdown', 'destroyed'):
                return self.finish()  # teardown re-runs: a missing domain is not running
            if p['restore']:
                self.restore()
            else:
                raise self.kind.missing(self.name or self.uuid)
        if self.dom is not None or self.outcome.changed:
            self.ensure_metadata()
            self.ensure_autostart()
            if p['restore'] and self.current_state() in _OFF:
                self.restore()
            self.live_changes()
            self.check_restart_needed()
            self.ensure_state(state)
        if p['to_native']:
            self.export_native()
        return self.finish()

    def finish(self):
        p = self.params
        result = self.outcome.module_result(**self.extra)
        if self.dom is not None and self.predicted != 'absent':
            try:
                result['domain'] = domain_data(self.dom, with_xml=p['return_xml'])
            except LibvirtFailure:
                if self.dom is not None and safe_state(self.dom) != 'absent':
                    raise
                result['domain'] = None
        else:
            result['domain'] = None
        for diff in result['differences']:
            if (diff.get('path') or '').endswith('@passwd'):
                diff['desired'] = diff['current'] = '********'
        # the domain's diff has two parts: the definition (the one diff of every module) and the power state
        after_state = self.predicted or (safe_state(self.dom) if self.dom is not None else 'absent')
        definition = result['diff']
        result['diff'] = [
            dict(before_header='domain XML (%s)' % self.name, after_header='domain XML (%s)' % self.name,
                 before=redact(definition['before']), after=redact(definition['after'])),
            dict(before_header='domain state', after_header='domain state',
                 before='state: %s\n' % self.state_before, after='state: %s\n' % after_state),
        ]
        return result

    # -- definition ----------------------------------------------------------------------------------
    def ensure_persistent_definition(self):
        if self.desired is None:
            return
        if self.dom is not None and not self.dom.isPersistent():
            self.outcome.before = ''
            self.outcome.after = _xml.to_string(self.desired)
            self.kind.carry_over(self.desired, _xml.parse(self.dom.XMLDesc(0), 'live domain XML'))
            self.act('define (make the transient domain persistent)',
                     lambda: self.kind.define(self.conn, _xml.to_string(self.desired, pretty=False)))
            return
        self.rules = domain_rules(self.conn)
        existed = self.dom is not None
        if existed:
            align_vcpu_current(self.desired, _xml.parse(self.kind.stored_xml(self.dom), 'stored domain XML'))
        reconcile_definition(self.conn, self.kind, self.desired, self.check, self.outcome, self.rules, obj=self.dom)
        self.dom = self.outcome.obj
        if not existed:
            self.predicted = 'shutoff' if self.check else None

    def ensure_transient(self):
        p = self.params
        if self.dom is None:
            if self.desired is None or p['state'] in ('shutdown', 'destroyed', 'saved'):
                return
            flags = libvirt.VIR_DOMAIN_START_PAUSED if p['state'] == 'paused' else 0
            text = _xml.to_string(self.desired, pretty=False)
            self.outcome.before = ''
            self.outcome.after = _xml.to_string(self.desired)
            self.dom = self.act('create (transient)', lambda: self.conn.createXML(text, flags),
                                'create transient domain %s' % self.name)
            if self.check:
                self.predicted = 'paused' if flags else 'running'
            return
        if self.dom.isPersistent():
            if not self.dom.isActive():
                self.fail('Domain %s is defined and not running; persistent=false cannot make it transient. '
                          'Start it first, or remove it (state=absent) and create it anew' % self.name)
            self.act('undefine (keep running as a transient domain)',
                     lambda: self.dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM
                                                    | libvirt.VIR_DOMAIN_UNDEFINE_KEEP_TPM))
        if self.desired is not None and self.dom.isActive():
            rules = domain_rules(self.conn)
            live = _xml.parse(self.dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE), 'live domain XML')
            diffs = _xml.differences(self.desired, live, rules)
            if diffs:
                self.outcome.differences.extend(diffs)
                self.extra['restart_needed'] = True

    # -- metadata, autostart --------------------------------------------------------------------------
    def redefining_in_check_mode(self):
        """In check mode, a redefinition is planned: what it stores, not the domain now, is what comes next."""
        return self.check and self.desired is not None and 'redefine' in self.outcome.actions

    def ensure_metadata(self):
        p = self.params
        if self.dom is None:
            return
        for option, mtype in (('title', libvirt.VIR_DOMAIN_METADATA_TITLE),
                              ('description', libvirt.VIR_DOMAIN_METADATA_DESCRIPTION)):
            wanted = '' if p[option] is None and option in self.emptied else p[option]
            if wanted is None:
                continue
            if self.redefining_in_check_mode():
                current = _xml.find_text(self.desired, option) or ''  # what the redefinition will store
            else:
                current = get_metadata(self.dom, mtype) or ''
            if current != wanted:
                self.act('set %s' % option, lambda m=mtype, v=wanted: set_metadata(self.dom, m, v or None))
        for entry in p['metadata'] or ():
            uri = entry['namespace']
            if self.redefining_in_check_mode():
                current = _desired_metadata(self.desired, uri)
            else:
                current = get_metadata(self.dom, libvirt.VIR_DOMAIN_METADATA_ELEMENT, uri)
            if entry['state'] == 'absent':
                if current is not None:
                    self.act('remove metadata %s' % uri, lambda u=uri: set_metadata(
                        self.dom, libvirt.VIR_DOMAIN_METADATA_ELEMENT, None, None, u))
                continue
            wanted = strip_namespaces(_xml.parse(entry['xml'], 'metadata XML'))
            have = strip_namespaces(_xml.parse(current, 'stored metadata')) if current else None
            if have is None or _xml.differences(wanted, have) or _xml.differences(have, wanted):
                self.act('set metadata %s' % uri, lambda e=entry: set_metadata(
                    self.dom, libvirt.VIR_DOMAIN_METADATA_ELEMENT, e['xml'], e['key'], e['namespace']))

    def ensure_autostart(self):
        wanted = self.params['autostart']
        if wanted is None:
            return
        if not self.params['persistent']:
            if wanted:
                self.fail('A transient domain (persistent=false) cannot start automatically; drop autostart')
            return
        _resource.converge(self.kind, self.dom, 'present', self.check, self.outcome, autostart=wanted)

    # -- live changes, restart needed ----------------------------------------------------------------
    def live_changes(self):
        if not self.params['live_changes'] or self.desired is None or self.dom is None:
            return
        if self.current_state() not in ('running', 'paused', 'blocked'):
            return
        with call('read the live definition of domain %s' % self.name):
            changes = live_changes(self.dom, self.desired)
        for action, func in changes:
            self.act(action, func, '%s of domain %s' % (action, self.name))

    def check_restart_needed(self):
        if self.desired is None or self.dom is None or not self.params['persistent']:
            return
        if self.current_state() not in _ACTIVE:
            return
        rules = self.rules or domain_rules(self.conn)
        with call('compare the live and persistent definitions of domain %s' % self.name):
            if self.check and 'redefine' in self.outcome.actions:
                live = _xml.parse(self.dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE), 'live domain XML')
                pending = _xml.differences(self.desired, live, rules)
                # what live_changes would apply is not pending after the run
                pending = [d for d in pending if not (self.params['live_changes'] and _live_path(d.path))]
            else:
                pending = restart_needed(self.dom, self.desired, rules)
        if not pending:
            return
        self.extra['restart_needed'] = True
        self.extra['restart_differences'] = [d.as_dict() for d in pending]
        applies = ('present', 'running', 'paused', 'restarted')
        if self.params['restart_on_change'] and self.params['state'] in applies:
            target = 'paused' if self.current_state() == 'paused' else 'running'
            self.stop_gracefully()
            self.start(paused=target == 'paused' and self.params['state'] != 'running')
            self.extra['restart_needed'] = False
            self.extra['restarted_for_change'] = True

    # -- power state ---------------------------------------------------------------------------------
    def ensure_state(self, state):
        """Plan the power transitions from the current state to ``state`` (POWER_PLAN), then make them in order
        (in check mode each predicts the state it leads to)."""
        current = self.current_state()
        if current == 'paused' and self.predicted is None and starting_up(self.dom):
            # Another client is starting the guest: what it shows as paused is its start-up, not a pause to resume.
            with self.waiter() as waiter:
                waiter.events.wait(lambda: not starting_up(self.dom), self.timeout())
            current = self.current_state()
        for states, steps in POWER_PLAN.get(state, ()):
            if states is None or current in states:
                break
        else:
            steps = ()
        for step in steps:
            self.POWER_STEPS[step](self, state, current)

    def _refuse(self, state, current):
        self.fail('Domain %s is %s and cannot be %s' % (self.name, current, state))

    def _reboot_unless_restarted(self, state, current):
        if not self.extra.get('restarted_for_change'):
            self.reboot()

    def _managed_save(self, state, current):
        if not self.dom.isPersistent():
            self.fail('Domain %s is transient; a managed save needs a persistent domain' % self.name)
        self.transition('managed save', lambda: self.dom.managedSave(0), _OFF)

    def _nothing_to_save(self, state, current):
        if not (self.dom is not None and has_managed_save(self.dom)):
            self.outcome.warnings.append('Domain %s is not running, so there is nothing to save' % self.name)

    def _hard_reset(self, state, current):
        # The guest stays in its state (a paused guest is reset and stays paused); the reset always acts.
        self.transition('hard reset', lambda: self.dom.reset(0), (current,) if current in ('running', 'paused')
                        else ('running',))

    POWER_STEPS = {
        'start': lambda run, state, current: run.start(),
        'start paused': lambda run, state, current: run.start(paused=True),
        'resume': lambda run, state, current: run.transition('resume', run.op('resume'), ('running',)),
        'wake up': lambda run, state, current: run.transition('wake up', lambda: run.dom.pMWakeup(0), ('running',)),
        'wait until off': lambda run, state, current: run.wait_for(('shutoff', 'absent'), 'finish shutting down'),
        'pause': lambda run, state, current: run.transition('pause', run.op('suspend'), ('paused',)),
        'shutdown': lambda run, state, current: run.stop_gracefully(),
        'destroy': lambda run, state, current: run.transition('destroy', run.op('destroy'), _OFF),
        'reboot': _reboot_unless_restarted,
        'hard reset': _hard_reset,
        'managed save': _managed_save,
        'nothing to save': _nothing_to_save,
        'refuse': _refuse,
    }

    def wait_for(self, states, what):
        if self.check:
            return
        started = _now()
        with self.waiter() as waiter:
            ok = waiter.until_state(states, self.timeout())
        self.extra['wait_seconds'] = round(_now() - started, 3)
        if not ok:
            self.fail('Domain %s did not %s within %s seconds' % (self.name, what, self.timeout()))

    def transition(self, action, func, states):
        """Do ``func`` and wait (event-driven) until the domain is in one of ``states``."""
        if self.check:
            self.outcome.act(action)
            self.predicted = states[0]
            return
        started = _now()
        with self.waiter() as waiter:
            try:
                self.outcome.perform(action, func, what='%s domain %s' % (action, self.name))
            except LibvirtFailure as exc:
                if not self.done_by_another(exc, states):
                    raise
                self.outcome.warnings.append('Domain %s: another client did the %s first (libvirt: %s)' % (
                    self.name, action, exc.libvirt_message))
            ok = waiter.until_state(states, self.timeout())
        self.extra['wait_seconds'] = round(_now() - started, 3)
        if not ok:
            self.fail('Domain %s did not reach state %s within %s seconds after %s' % (
                self.name, ' or '.join(states), self.timeout(), action))

    def done_by_another(self, exc, states):
        """Whether a transition failed only because another client made it between our reading the state and our
        call: libvirt refused it as invalid for the domain's state now ("domain is already running", "domain is
        not running"), and the domain is now in one of ``states``, or being started when running is wanted. The
        action is then not ours: it is not reported, and the transition waits for the state as usual."""
        if exc.code != libvirt.VIR_ERR_OPERATION_INVALID:
            return False
        return safe_state(self.dom) in states or ('running' in states and starting_up(self.dom))

    def start(self, paused=False):
        action = start_action(self.dom is not None and has_managed_save(self.dom), self.params['force_boot'],
                              self.params['reset_nvram'])
        if paused:
            action += ' paused'
        self.transition(action, lambda: self._create(paused), ('paused',) if paused else ('running',))

    def _create(self, paused):
        flags = start_flags(self.params['force_boot'], self.params['reset_nvram'])
        if not paused:
            return self.dom.createWithFlags(flags)
        try:
            return self.dom.createWithFlags(flags | libvirt.VIR_DOMAIN_START_PAUSED)
        except libvirt.libvirtError as e:
            # Drivers without start-paused (the test driver): start, then pause at once.
            if e.get_error_code() not in (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT):
                raise
        self.dom.createWithFlags(flags)
        return self.dom.suspend()

    def rename(self):
        """Rename the (inactive) domain rename_from to the name asked for, unless a domain of that name exists."""
        old_name = self.params['rename_from']
        if not self.name:
            self.fail('rename_from needs the new name (name, or the <name> of the XML)')
        new = self.kind.lookup(self.conn, name=self.name)
        old = self.kind.lookup(self.conn, name=old_name) if old_name != self.name else None
        if new is not None:
            if old is not None:
                self.outcome.warnings.append('Both domain %s and domain %s exist; %s was not renamed'
                                             % (old_name, self.name, old_name))
            return
        if old is None:
            return
        if old.isActive():
            self.fail('Domain %s is running; libvirt renames only a domain that is shut off' % old_name,
                      hint='Shut it down first (state=shutdown in an earlier task), then rename it.')
        self.outcome.perform('rename %s to %s' % (old_name, self.name), lambda: old.rename(self.name, 0),
                             self.check, 'rename domain %s to %s' % (old_name, self.name))
        if self.check:
            self.renamed_in_check_mode = old

    def stop_gracefully(self):
        """Shut down (ACPI and/or agent as asked), wait up to timeout, then fail or, with force, destroy."""
        if self.current_state() == 'paused':
            self.transition('resume', self.op('resume'), ('running',))
        if self.check:
            self.outcome.act('shutdown')
            self.predicted = 'shutoff'
            return
        flags = mode_flags(self.params['shutdown_mode'], 'VIR_DOMAIN_SHUTDOWN_')
        self.graceful('shutdown', 'shut down', lambda: self.dom.shutdownFlags(flags),
                      lambda waiter: waiter.until_state(_OFF, self.timeout()),
                      ('did not shut down', 'it was powered off',
                       'Check that the guest reacts to the ACPI power button (acpid) or runs the guest agent '
                       '(shutdown_mode), raise timeout, or set force=true to power it off after the timeout'),
                      ('destroy (graceful shutdown timed out)', self.op('destroy'), _OFF))

    def reboot(self):
        if self.check:
            self.outcome.act('reboot')
            return
        flags = mode_flags(self.params['shutdown_mode'], 'VIR_DOMAIN_REBOOT_')
        # The test driver reboots synchronously and sends no reboot event.
        synchronous = self.conn.getType().lower() == 'test'
        self.graceful('reboot', 'reboot', lambda: self.dom.reboot(flags),
                      lambda waiter: (waiter.until_state(('running',), self.timeout()) if synchronous
                                      else waiter.until_rebooted(self.timeout())),
                      ('did not come back from a reboot', 'it was reset',
                       'Check that the guest reacts to the ACPI power button or runs the guest agent, raise '
                       'timeout, or set force=true to reset it after the timeout'),
                      ('reset (graceful reboot timed out)', lambda: self.dom.reset(0), ('running',)))

    def graceful(self, action, verb, func, wait, words, fallback):
        """A request the guest carries out (shutdown, reboot): ``func``, recorded once it is sent, then ``wait``
        (waiter) up to timeout; when the guest did not, fail or, with force, do the ``fallback`` transition.
        ``words``: (what the guest did not do, what force did instead, the hint)."""
        started = _now()
        with self.waiter() as waiter:
            with call('%s domain %s' % (verb, self.name)):
                func()
            self.outcome.act(action)
            ok = wait(waiter)
        self.extra['wait_seconds'] = round(_now() - started, 3)
        if ok:
            return
        not_done, instead, hint = words
        if not self.params['force']:
            self.fail('Domain %s %s within %s seconds' % (self.name, not_done, self.timeout()), hint=hint)
        self.outcome.warnings.append('Domain %s %s within %s seconds; %s (force=true)'
                                     % (self.name, not_done, self.timeout(), instead))
        self.transition(*fallback)

    def restore(self):
        path = self.params['restore']
        paused = self.params['state'] == 'paused'
        # Without a flag the domain comes back as it was saved; ensure_state resumes or pauses it after.
        flags = libvirt.VIR_DOMAIN_SAVE_PAUSED if paused else 0
        self.outcome.act('restore from %s' % path)
        if self.check:
            self.predicted = 'paused' if paused else 'running'
            return
        with call('restore domain %s from %s' % (self.name, path)):
            try:
                self.conn.restoreFlags(path, None, flags)
            except libvirt.libvirtError as e:
                # drivers without the paused flag (the test driver): restore, ensure_state pauses it
                if not flags or e.get_error_code() != libvirt.VIR_ERR_INVALID_ARG:
                    raise
                self.conn.restoreFlags(path, None, 0)
        self.dom = self.kind.lookup(self.conn, name=self.name, uuid=self.uuid)

    # -- removal -------------------------------------------------------------------------------------
    def remove(self):
        p = self.params
        self.extra['removed'] = dict(managed_save=False, snapshots_metadata=0, checkpoints_metadata=0, nvram=None,
                                     nvram_kept=None, tpm_state=False, storage=[], storage_kept=[])
        if self.dom is None:
            return
        persistent = bool(self.dom.isPersistent())
        with call('read the definition of domain %s' % self.name):
            text = self.dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE if persistent else 0)
        stored = _xml.parse(text, 'stored domain XML')
        flags, volumes, report = removal_plan(self.conn, self.dom, stored, p['remove_storage'], p['remove_tpm'])
        seed = _cloud_init.seed_volume(self.conn, stored)  # the cloud-init seed spec wrote for the domain
        if seed is not None and seed.path() not in report['storage']:
            volumes.append(seed)
            report['storage'].append(seed.path())
        storage = [_resource.Step('delete volume %s' % path, lambda v=vol: delete_volume(v), 'delete volume %s' % path)
                   for vol, path in zip(volumes, report['storage'])]
        _resource.converge(self.kind, self.dom, 'absent', self.check, self.outcome, after=storage,
                           calls=dict(undefine=lambda dom: undefine(dom, flags)))
        self.outcome.before, self.outcome.after = text, ''
        self.extra['removed'] = report
        if report['storage_kept']:
            self.outcome.warnings.append('Kept storage that is not a libvirt storage volume: %s'
                                         % ', '.join(report['storage_kept']))
        self.predicted = 'absent'
        if not self.check:
            self.dom = None

    # -- native formats ------------------------------------------------------------------------------
    def export_native(self):
        fmt = self.params['to_native']
        if self.dom is not None and self.predicted != 'absent':
            text = self.dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE if self.dom.isPersistent() else 0)
        elif self.desired is not None:
            text = _xml.to_string(self.desired, pretty=False)
        else:
            return
        try:
            native = self.conn.domainXMLToNative(fmt, text, 0)
        except libvirt.libvirtError as e:
            failure = failure_from(e, 'convert domain %s to the native %s format' % (self.name, fmt))
            if e.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
                failure.hint = ('This libvirt driver cannot export native configurations; the QEMU driver '
                                'exports the qemu-argv format')
            raise failure
        self.extra['native_config'] = native


def _live_path(path):
    bare = _xml._bare_path(path)
    return bare.startswith(('vcpu', 'currentMemory', 'memory')) or bare.startswith('devices/disk')


def _now():
    return time.monotonic()


def _namespaced(element, uri, prefix):
    """``element`` (and its descendants without a namespace) in namespace ``uri`` with ``prefix``."""
    plain = strip_namespaces(element)
    root = etree.Element('{%s}%s' % (uri, plain.tag), nsmap={prefix: uri})
    root.text = plain.text
    for name, value in plain.attrib.items():
        root.set(name, value)

    def copy_children(source, target):
        for child in source:
            if not isinstance(child.tag, str):
                continue
            new = etree.SubElement(target, '{%s}%s' % (uri, child.tag))
            new.text, new.tail = child.text, None
            for name, value in child.attrib.items():
                new.set(name, value)
            copy_children(child, new)
    copy_children(plain, root)
    return root


def waits(params):
    """Whether a run with these parameters may wait for the domain's events (the connection then opens with
    libvirt's event loop)."""
    return params['state'] in ('running', 'paused', 'shutdown', 'destroyed', 'restarted', 'saved', 'absent',
                               'reset') or bool(params['restart_on_change'])


def run_module(module):
    """The domain module's main: exits with the result, or fails through fail_json."""
    _resource.run_module(module, lambda conn, outcome: DomainRun(module, conn, outcome).run(),
                         events=waits(module.params))


# ---------------------------------------------------------------------------------------------------------
# The module's options: the domain module and each domain item of the bulk module validate against these
# ---------------------------------------------------------------------------------------------------------

#: The options of O(spec): a guest described the way virt-install describes it.
SPEC_OPTIONS = dict(
    os=dict(type='str', choices=['generic', 'linux2018', 'linux2022', 'win10', 'win11']),
    virt_type=dict(type='str'),
    arch=dict(type='str'),
    machine=dict(type='str'),
    memory=dict(type='raw', required=True),
    max_memory=dict(type='raw'),
    vcpus=dict(type='int'),
    max_vcpus=dict(type='int'),
    cpu=dict(type='dict', options=dict(
        mode=dict(type='str', choices=['host-passthrough', 'host-model', 'maximum', 'custom']),
        model=dict(type='str'),
        xml=dict(type='str'),
        sockets=dict(type='int'),
        cores=dict(type='int'),
        threads=dict(type='int'),
    ), mutually_exclusive=[('xml', 'mode'), ('xml', 'model')]),
    firmware=dict(type='str', choices=['bios', 'uefi']),
    secure_boot=dict(type='bool'),
    kernel=dict(type='str'),
    initrd=dict(type='str'),
    cmdline=dict(type='str'),
    boot=dict(type='list', elements='str', choices=['hd', 'cdrom', 'network', 'fd']),
    disks=dict(type='list', elements='dict', options=dict(
        device=dict(type='str', choices=['disk', 'cdrom', 'floppy'], default='disk'),
        path=dict(type='str'),
        pool=dict(type='str'),
        volume=dict(type='str'),
        size=dict(type='raw'),
        backing=dict(type='str'),
        format=dict(type='str'),
        bus=dict(type='str'),
        target=dict(type='str'),
        cache=dict(type='str', choices=['default', 'none', 'writethrough', 'writeback', 'directsync',
                                        'unsafe']),
        io=dict(type='str', choices=['native', 'threads', 'io_uring']),
        discard=dict(type='str', choices=['unmap', 'ignore']),
        readonly=dict(type='bool', default=False),
        boot_order=dict(type='int'),
    ), mutually_exclusive=[('path', 'volume'), ('path', 'pool')]),
    nics=dict(type='list', elements='dict', options=dict(
        network=dict(type='str'),
        bridge=dict(type='str'),
        direct=dict(type='str'),
        mode=dict(type='str', choices=['bridge', 'vepa', 'private', 'passthrough']),
        user=dict(type='bool'),
        model=dict(type='str'),
        mac=dict(type='str'),
        boot_order=dict(type='int'),
    ), mutually_exclusive=[('network', 'bridge', 'direct', 'user')]),
    graphics=dict(type='dict', options=dict(
        type=dict(type='str', choices=['none', 'vnc', 'spice'], default='none'),
        listen=dict(type='str', default='127.0.0.1'),
    )),
    serial=dict(type='dict', options=dict(
        type=dict(type='str', choices=['pty', 'none'], default='pty'),
        log=dict(type='str'),
    )),
    guest_agent=dict(type='bool'),
    rng=dict(type='bool'),
    watchdog=dict(type='dict', options=dict(
        model=dict(type='str', choices=['i6300esb', 'ib700', 'itco'], default='i6300esb'),
        action=dict(type='str', choices=['reset', 'shutdown', 'poweroff', 'pause', 'none', 'dump',
                                         'inject-nmi'], default='reset'),
    )),
    tpm=dict(type='dict', options=dict(
        model=dict(type='str', choices=['tpm-crb', 'tpm-tis'], default='tpm-crb'),
        version=dict(type='str', choices=['1.2', '2.0'], default='2.0'),
    )),
    cloud_init=dict(type='dict', options=dict(
        user_data=dict(type='raw', no_log=True),
        meta_data=dict(type='raw'),
        instance_id=dict(type='str'),
        hostname=dict(type='str'),
        network_config=dict(type='raw'),
        vendor_data=dict(type='raw', no_log=True),
        pool=dict(type='str'),
        volume=dict(type='str'),
        bus=dict(type='str'),
    )),
    extra_devices=dict(type='list', elements='str'),
    extra_elements=dict(type='list', elements='str'),
)

#: The domain module's own options (connection_argument_spec adds the connection options).
OPTIONS = dict(
    name=dict(type='str'),
    uuid=dict(type='str'),
    xml=dict(type='str'),
    from_native=dict(type='dict', options=dict(
        format=dict(type='str', required=True),
        config=dict(type='str', required=True),
    )),
    to_native=dict(type='str'),
    spec=dict(type='dict', options=SPEC_OPTIONS),
    state=dict(type='str', default='present',
               choices=['present', 'absent', 'running', 'paused', 'shutdown', 'destroyed', 'restarted',
                        'saved', 'reset']),
    persistent=dict(type='bool', default=True),
    autostart=dict(type='bool'),
    shutdown_mode=dict(type='list', elements='str', choices=['acpi', 'agent', 'initctl', 'signal',
                                                             'paravirt']),
    timeout=dict(type='int', default=120),
    force=dict(type='bool', default=False),
    restart_on_change=dict(type='bool', default=False),
    live_changes=dict(type='bool', default=False),
    title=dict(type='str'),
    description=dict(type='str'),
    metadata=dict(type='list', elements='dict', options=dict(
        namespace=dict(type='str', required=True),
        key=dict(type='str', no_log=False),
        xml=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    ), required_if=[('state', 'present', ('key', 'xml'))]),
    restore=dict(type='path'),
    force_boot=dict(type='bool', default=False),
    reset_nvram=dict(type='bool', default=False),
    rename_from=dict(type='str'),
    remove_storage=dict(type='list', elements='str'),
    remove_tpm=dict(type='bool', default=False),
    return_xml=dict(type='bool', default=False),
)

#: Its constraints between options, as AnsibleModule takes them.
CONSTRAINTS = dict(
    mutually_exclusive=[('xml', 'from_native', 'spec'), ('uuid', 'rename_from')],
    required_one_of=[('name', 'uuid', 'xml', 'from_native', 'restore')],
    required_by=dict(spec='name'),
)
