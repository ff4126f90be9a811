# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Host facts: node info, versions, free memory, security model and capabilities as data.

Private to this collection: the names here may change without notice. Used by the host_facts module. The
capabilities document and node information themselves are read in _capabilities (also used by the inventory
plugin and the domain modules), and their names are available here too.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._capabilities import (  # noqa: F401 pylint: disable=unused-import
    _int, capabilities_data, machine_aliases, node_info, read_capabilities, split_version,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import call, failure_from, LibvirtFailure

try:
    import libvirt
except ImportError:
    libvirt = None


def free_memory(conn, numa_cells):
    """Free memory in bytes: total and per NUMA cell (cell numbers as in the capabilities)."""
    with call('read free memory'):
        total = conn.getFreeMemory()
    cells = []
    if numa_cells:
        ids = sorted(numa_cells)
        with call('read free memory per NUMA cell'):
            values = conn.getCellsFreeMemory(ids[0], ids[-1] - ids[0] + 1)
        for offset, value in enumerate(values):
            cell = ids[0] + offset
            if cell in numa_cells:
                cells.append(dict(cell=cell, free_bytes=value))
    else:
        # No NUMA topology in the capabilities: a uniform host is one cell, if the driver says so.
        try:
            values = conn.getCellsFreeMemory(0, 1)
        except libvirt.libvirtError:
            values = []
        cells = [dict(cell=0, free_bytes=values[0])] if values else []
    return dict(total_bytes=total, cells=cells)


#: What host_facts gathers beyond the basics; domain capabilities are opt-in (libvirt probes the emulator).
GATHER_CHOICES = ('all', 'cpu_models', 'node_stats', 'free_pages', 'domain_capabilities', 'sysinfo', 'cpu_map',
                  'cpu_stats', 'cell_stats', 'sev')
DEFAULT_GATHER = ('cpu_models', 'node_stats', 'free_pages')


def _is_no_support(error, driver=None):
    """Whether a libvirtError says that the connection's driver does not offer the call (not that it failed).

    Besides libvirt's "not supported" codes: the test driver answers some node calls (free pages) with no result,
    which the daemon reports for a remote test driver (test+unix://) as an internal RPC error that says "Library
    function returned error but did not set virError".
    """
    code = error.get_error_code()
    if code in (libvirt.VIR_ERR_NO_SUPPORT, getattr(libvirt, 'VIR_ERR_OPERATION_UNSUPPORTED', -1)):
        return True
    return ((driver or '').upper() == 'TEST' and code == libvirt.VIR_ERR_INTERNAL_ERROR
            and error.get_error_domain() == libvirt.VIR_FROM_RPC)


def _enums(element):
    """{enum name: [values]} of the <enum> children of a domain capabilities element."""
    return dict((enum.get('name'), [v.text.strip() for v in enum.findall('value') if v.text])
                for enum in element.findall('enum'))


def _supported(element):
    return None if element is None or element.get('supported') is None else element.get('supported') == 'yes'


def _cpu_mode_data(mode):
    data = dict(supported=_supported(mode), enums=_enums(mode))
    model = mode.find('model')
    if mode.get('name') == 'host-model' and model is not None:
        data.update(
            model=model.text.strip() if model.text else None,
            vendor=_xml.find_text(mode, 'vendor'),
            features=[f.get('name') for f in mode.findall('feature') if f.get('policy') not in ('disable', 'forbid')],
            disabled_features=[f.get('name') for f in mode.findall('feature')
                               if f.get('policy') in ('disable', 'forbid')],
        )
    if mode.get('name') == 'custom':
        models = []
        for element in mode.findall('model'):
            models.append(dict(name=element.text.strip() if element.text else None,
                               usable=element.get('usable'), vendor=element.get('vendor'),
                               deprecated=element.get('deprecated') == 'yes' if element.get('deprecated') else None))
        data['models'] = models
        data['usable_models'] = [m['name'] for m in models if m['usable'] == 'yes']
    return data


def domain_capabilities_data(root):
    """A domain capabilities document (one emulator, arch, machine, virt type) as data."""
    vcpu = root.find('vcpu')
    os_element = root.find('os')
    loader = os_element.find('loader') if os_element is not None else None
    loader_enums = _enums(loader) if loader is not None else {}
    cpu_modes = dict((mode.get('name'), _cpu_mode_data(mode)) for mode in root.findall('cpu/mode'))
    custom = cpu_modes.get('custom', {})
    devices = dict((device.tag, dict(supported=_supported(device), enums=_enums(device)))
                   for device in root.findall('devices/*'))
    features = dict((feature.tag, dict(supported=_supported(feature), enums=_enums(feature)))
                    for feature in root.findall('features/*'))
    disk = devices.get('disk', {}).get('enums', {})
    return dict(
        emulator=_xml.find_text(root, 'path'),
        virt_type=_xml.find_text(root, 'domain'),
        machine=_xml.find_text(root, 'machine'),
        arch=_xml.find_text(root, 'arch'),
        max_vcpus=_int(vcpu.get('max')) if vcpu is not None else None,
        iothreads=_supported(root.find('iothreads')),
        firmware=dict(
            supported=_supported(os_element),
            firmware=_enums(os_element).get('firmware', []) if os_element is not None else [],
            loader_supported=_supported(loader),
            loaders=[v.text.strip() for v in loader.findall('value') if v.text] if loader is not None else [],
            loader_types=loader_enums.get('type', []),
            readonly=loader_enums.get('readonly', []),
            secure=loader_enums.get('secure', []),
            secure_boot='yes' in loader_enums.get('secure', []),
        ),
        cpu=dict(
            modes=sorted(name for name, mode in cpu_modes.items() if mode['supported']),
            mode_details=cpu_modes,
            host_model=cpu_modes.get('host-model') if cpu_modes.get('host-model', {}).get('supported') else None,
            usable_models=custom.get('usable_models', []),
        ),
        memory_backing=_enums(root.find('memoryBacking')) if root.find('memoryBacking') is not None else {},
        devices=devices,
        device_types=sorted(name for name, device in devices.items() if device['supported']),
        disk_devices=disk.get('diskDevice', []),
        disk_buses=disk.get('bus', []),
        features=features,
    )


def domain_capability_targets(caps_data):
    """(emulator, arch, machine, virt type) for each arch and virt type the capabilities offer."""
    targets = []
    for guest in caps_data['guests']:
        if guest.get('os_type') != 'hvm':
            continue
        for domain in guest['domains']:
            target = dict(emulator=domain.get('emulator') or guest.get('emulator'), arch=guest.get('arch'),
                          machine=None, virt_type=domain.get('type'))
            if target not in targets:
                targets.append(target)
    return targets


def domain_capabilities(conn, targets, explicit, warnings):
    """Domain capabilities as data for each target; a target libvirt cannot describe fails only if explicit.

    None when the driver offers no domain capabilities at all (and the targets are not explicit).
    """
    results = []
    for target in targets:
        args = tuple(target.get(k) or None for k in ('emulator', 'arch', 'machine', 'virt_type'))
        try:
            text = conn.getDomainCapabilities(*(args + (0,)))
        except libvirt.libvirtError as error:
            if explicit:
                raise failure_from(error, 'read the domain capabilities for %s' % _describe(target))
            if _is_no_support(error):
                return None
            warnings.append('No domain capabilities for %s: %s' % (_describe(target), error.get_error_message()))
            continue
        data = domain_capabilities_data(_xml.parse(text, 'domain capabilities XML'))
        data['requested'] = dict(target)
        results.append(data)
    return results


def _describe(target):
    return ', '.join('%s=%s' % (k, target[k]) for k in ('emulator', 'arch', 'machine', 'virt_type') if target.get(k))


def cpu_model_names(conn, arches):
    """{arch: [CPU model names libvirt knows]} (null for an arch libvirt has no CPU models for)."""
    names = {}
    for arch in arches:
        try:
            names[arch] = sorted(conn.getCPUModelNames(arch, 0) or [])
        except libvirt.libvirtError:
            names[arch] = None
    return names


def node_stats(conn, not_supported=None):
    """Node memory statistics (bytes) and CPU time (nanoseconds) for the whole host; null where unsupported.

    The names of the parts the driver does not offer (``node_stats.memory``, ``node_stats.cpu``) are appended to
    ``not_supported``.
    """
    stats = dict(memory=None, cpu=None)
    not_supported = [] if not_supported is None else not_supported
    try:
        memory = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
        stats['memory'] = dict(('%s_bytes' % k, v * 1024) for k, v in memory.items())
    except libvirt.libvirtError as error:
        if not _is_no_support(error):
            raise failure_from(error, 'read the node memory statistics')
        not_supported.append('node_stats.memory')
    try:
        cpu = conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS, 0)
        stats['cpu'] = dict(('%s_ns' % k, v) for k, v in cpu.items())
    except libvirt.libvirtError as error:
        if not _is_no_support(error):
            raise failure_from(error, 'read the node CPU statistics')
        not_supported.append('node_stats.cpu')
    return stats


def page_sizes(caps):
    """The page sizes (KiB) the host offers, from the capabilities."""
    sizes = set()
    for pages in caps.findall('host/cpu/pages') + caps.findall('host/topology/cells/cell/pages'):
        size = _int(pages.get('size'))
        if size:
            sizes.add(size)
    return sorted(sizes)


def free_pages(conn, caps, numa_ids, driver=None):
    """Free pages per page size per NUMA cell: [{cell, pages: [{size_kib, free}]}]; None if the driver (the name
    conn.getType() gives, e.g. TEST) does not offer them."""
    sizes = page_sizes(caps)
    if not sizes:
        return []
    ids = sorted(numa_ids) or [0]
    try:
        values = conn.getFreePages(sizes, ids[0], ids[-1] - ids[0] + 1, 0)
    except libvirt.libvirtError as error:
        if _is_no_support(error, driver):
            return None
        raise failure_from(error, 'read the free pages')
    cells = []
    for cell in sorted(values or {}):
        if cell in ids:
            cells.append(dict(cell=cell, pages=[dict(size_kib=size, free=count)
                                                for size, count in sorted(values[cell].items())]))
    return cells


#: SMBIOS sections that appear once, and those that repeat (returned as lists), with the names they get.
_SYSINFO_SINGLE = (('bios', 'bios'), ('system', 'system'), ('chassis', 'chassis'))
_SYSINFO_LISTS = (('baseBoard', 'base_boards'), ('processor', 'processors'), ('memory_device', 'memory_devices'))


def _entries(element):
    return dict((entry.get('name'), (entry.text or '').strip()) for entry in element.findall('entry')
                if entry.get('name'))


def sysinfo_data(root):
    """A <sysinfo> document (SMBIOS) as data: type, bios, system, chassis (dicts of their entries), base_boards,
    processors, memory_devices (lists of such dicts) and oem_strings (the strings in order)."""
    data = dict(type=root.get('type'))
    for tag, name in _SYSINFO_SINGLE:
        element = root.find(tag)
        data[name] = _entries(element) if element is not None else {}
    for tag, name in _SYSINFO_LISTS:
        data[name] = [_entries(element) for element in root.findall(tag)]
    data['oem_strings'] = [(e.text or '').strip() for e in root.findall('oemStrings/entry')]
    return data


def _absent(error, driver=None):
    """Whether a failed optional read means "this host or driver has none" (not supported, or not available)."""
    return _is_no_support(error, driver) or error.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED


def optional_read(what, func, name, not_supported, driver=None):
    """``func()``, or None with ``name`` appended to ``not_supported`` when the host or driver has none."""
    try:
        return func()
    except libvirt.libvirtError as error:
        if not _absent(error, driver):
            raise failure_from(error, what)
        not_supported.append(name)
        return None


def sysinfo(conn, not_supported, driver=None):
    text = optional_read('read the host sysinfo', lambda: conn.getSysinfo(0), 'sysinfo', not_supported, driver)
    return sysinfo_data(_xml.parse(text, 'sysinfo XML')) if text else None


def cpu_map(conn, not_supported, driver=None):
    """{cpus: how many the host has, online: [the online CPU numbers]}."""
    found = optional_read('read the host CPU map', lambda: conn.getCPUMap(0), 'cpu_map', not_supported, driver)
    if found is None:
        return None
    count, online = found[0], found[1]
    return dict(cpus=count, online=[cpu for cpu, up in enumerate(online) if up])


def cpu_stats(conn, cpus, not_supported, driver=None):
    """[{cpu, kernel_ns, user_ns, idle_ns, iowait_ns}] for each CPU of ``cpus``."""
    stats = []
    for cpu in cpus:
        values = optional_read('read the statistics of CPU %d' % cpu, lambda c=cpu: conn.getCPUStats(c, 0),
                               'cpu_stats', not_supported, driver)
        if values is None:
            return None
        stats.append(dict([('cpu', cpu)] + [('%s_ns' % k, v) for k, v in sorted(values.items())]))
    return stats


def cell_stats(conn, cells, not_supported, driver=None):
    """[{cell, total_bytes, free_bytes}] for each NUMA cell of ``cells`` (libvirt reports KiB)."""
    stats = []
    for cell in cells:
        values = optional_read('read the memory statistics of NUMA cell %d' % cell,
                               lambda c=cell: conn.getMemoryStats(c, 0), 'cell_stats', not_supported, driver)
        if values is None:
            return None
        stats.append(dict([('cell', cell)] + [('%s_bytes' % k, v * 1024) for k, v in sorted(values.items())]))
    return stats


def sev_info(conn, not_supported, driver=None, warnings=None):
    """The host's SEV (AMD Secure Encrypted Virtualization) parameters, names with '_' for '-'; None without SEV.
    libvirt gives them only to a read-write connection (they hold the platform's certificates): a read-only one
    gets None and a warning."""
    try:
        values = optional_read('read the SEV information', lambda: conn.getSEVInfo(0), 'sev', not_supported, driver)
    except LibvirtFailure as failure:
        if failure.code != libvirt.VIR_ERR_OPERATION_DENIED:
            raise
        if warnings is not None:
            warnings.append('SEV information was not gathered: libvirt gives it only to a read-write connection '
                            '(readonly=false)')
        return None
    if values is None:
        return None
    return dict((k.replace('-', '_'), v) for k, v in sorted(values.items()))


def gather_node_details(conn, gather, numa_ids, driver, facts, warnings=None):
    """The optional parts of issue 20: sysinfo, CPU map, per-CPU and per-cell statistics, SEV."""
    not_supported = facts['not_supported']
    if 'sysinfo' in gather:
        facts['sysinfo'] = sysinfo(conn, not_supported, driver)
    online = None
    if 'cpu_map' in gather or 'cpu_stats' in gather:
        found = cpu_map(conn, not_supported if 'cpu_map' in gather else [], driver)
        online = found['online'] if found else list(range(facts['node']['cpus']))
        if 'cpu_map' in gather:
            facts['cpu_map'] = found
    if 'cpu_stats' in gather:
        facts['cpu_stats'] = cpu_stats(conn, online, not_supported, driver)
    if 'cell_stats' in gather:
        facts['cell_stats'] = cell_stats(conn, sorted(numa_ids) or [0], not_supported, driver)
    if 'sev' in gather:
        facts['sev'] = sev_info(conn, not_supported, driver, warnings)


def host_facts(conn, capabilities_xml=False, gather=DEFAULT_GATHER, domain_capability_targets_=None,
               warnings=None):
    """Everything host_facts reports, as one dict.

    gather: the optional parts (GATHER_CHOICES); domain_capability_targets_: explicit
    (emulator, arch, machine, virt_type) dicts, which gather domain capabilities for those only.
    """
    warnings = [] if warnings is None else warnings
    gather = set(gather or ())
    if 'all' in gather:
        gather = set(GATHER_CHOICES)
    caps_text, caps = read_capabilities(conn)
    caps_data = capabilities_data(caps)
    with call('read the connection details'):
        hostname = conn.getHostname()
        uri = conn.getURI()
        driver = conn.getType()
        lib_version = conn.getLibVersion()
        hv_version = conn.getVersion()
        secure = bool(conn.isSecure())
        encrypted = bool(conn.isEncrypted())
    with call('read the security model'):
        secmodel = conn.getSecurityModel()
    numa_ids = set(c['id'] for c in caps_data['host'].get('numa_cells', []) if c['id'] is not None)
    domain_types = sorted(set(t for g in caps_data['guests'] for t in g['domain_types'] if t))
    max_vcpus = {}
    for dtype in domain_types:
        try:
            max_vcpus[dtype] = conn.getMaxVcpus(dtype)
        except libvirt.libvirtError:
            max_vcpus[dtype] = None
    facts = dict(
        hostname=hostname,
        uri=uri,
        driver=driver,
        library_version=split_version(lib_version),
        hypervisor_version=split_version(hv_version),
        is_secure=secure,
        is_encrypted=encrypted,
        node=node_info(conn),
        free_memory=free_memory(conn, numa_ids),
        max_vcpus=max_vcpus,
        security_model=dict(model=secmodel[0] or None, doi=secmodel[1] or None) if secmodel else None,
        capabilities=caps_data,
    )
    if 'cpu_models' in gather:
        arches = []
        host_arch = caps_data['host'].get('cpu', {}).get('arch')
        for arch in [host_arch] + [g['arch'] for g in caps_data['guests']]:
            if arch and arch not in arches:
                arches.append(arch)
        facts['cpu_model_names'] = cpu_model_names(conn, arches)
    # What the driver does not offer is data, not a warning: the parts stay empty and are named here.
    not_supported = facts['not_supported'] = []
    if 'node_stats' in gather:
        facts['node_stats'] = node_stats(conn, not_supported)
    if 'free_pages' in gather:
        try:
            pages = free_pages(conn, caps, numa_ids, driver)
        except LibvirtFailure as failure:
            # Gathered by default: a driver that offers them but fails only warns.
            pages = []
            warnings.append('Free pages were not gathered: %s' % failure.msg)
        if pages is None:
            not_supported.append('free_pages')
        facts['free_pages'] = pages or []
    if domain_capability_targets_:
        facts['domain_capabilities'] = domain_capabilities(conn, domain_capability_targets_, True, warnings)
    elif 'domain_capabilities' in gather:
        found = domain_capabilities(conn, domain_capability_targets(caps_data), False, warnings)
        if found is None:
            not_supported.append('domain_capabilities')
        facts['domain_capabilities'] = found or []
    gather_node_details(conn, gather, numa_ids, driver, facts, warnings)
    if capabilities_xml:
        facts['capabilities_xml'] = caps_text
    return facts
