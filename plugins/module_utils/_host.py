# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Host facts: node info, versions, free memory, security model and capabilities as data.

Private to this collection: the names here may change without notice. Used by the host_facts module
and the inventory plugin (hypervisors as hosts).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import call

try:
    import libvirt
except ImportError:
    libvirt = None


def split_version(number):
    """libvirt's packed version (major * 1,000,000 + minor * 1,000 + micro) as a dict."""
    number = int(number or 0)
    major, rest = divmod(number, 1000000)
    minor, micro = divmod(rest, 1000)
    return dict(full='%d.%d.%d' % (major, minor, micro), number=number, major=major, minor=minor, micro=micro)


def _int(value, default=None):
    parsed = _xml.parse_int(value) if value is not None else None
    return default if parsed is None else parsed


def node_info(conn):
    with call('read node information'):
        info = conn.getInfo()
    model, memory_mib, cpus, mhz, nodes, sockets, cores, threads = info[:8]
    return dict(cpu_model=model, memory_mib=memory_mib, memory_bytes=memory_mib * 1024 * 1024, cpus=cpus,
                mhz=mhz, numa_nodes=nodes, sockets=sockets, cores=cores, threads=threads)


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


def capabilities_data(root):
    """The capabilities document as data."""
    host = root.find('host')
    data = dict(host={}, guests=[])
    if host is not None:
        cpu = host.find('cpu')
        host_data = dict(uuid=_xml.find_text(host, 'uuid'))
        if cpu is not None:
            topology = cpu.find('topology')
            host_data['cpu'] = dict(
                arch=_xml.find_text(cpu, 'arch'),
                model=_xml.find_text(cpu, 'model'),
                vendor=_xml.find_text(cpu, 'vendor'),
                features=[f.get('name') for f in cpu.findall('feature')],
                topology=dict((k, _int(v)) for k, v in topology.attrib.items()) if topology is not None else {},
            )
        cells = []
        for cell in host.findall('topology/cells/cell'):
            memory = cell.find('memory')
            cells.append(dict(
                id=_int(cell.get('id')),
                memory_bytes=_xml.size_to_bytes(memory.text.strip(), memory.get('unit', 'KiB'))
                if memory is not None and memory.text else None,
                cpus=[_int(c.get('id')) for c in cell.findall('cpus/cpu')],
                pages=[dict(size_kib=_int(p.get('size')), count=_int(p.text)) for p in cell.findall('pages')],
            ))
        host_data['numa_cells'] = cells
        host_data['migration_transports'] = [t.text for t in host.findall('migration_features/uri_transports/'
                                                                            'uri_transport')]
        host_data['secmodels'] = [dict(model=_xml.find_text(s, 'model'), doi=_xml.find_text(s, 'doi'))
                                  for s in host.findall('secmodel')]
        host_data['iommu'] = (host.find('iommu').get('support') == 'yes') if host.find('iommu') is not None else None
        data['host'] = host_data
    for guest in root.findall('guest'):
        arch = guest.find('arch')
        machines = []
        for machine in (arch.findall('machine') if arch is not None else []):
            machines.append(dict(name=machine.text, canonical=machine.get('canonical'),
                                 max_cpus=_int(machine.get('maxCpus'))))
        domains = []
        for dom in (arch.findall('domain') if arch is not None else []):
            domains.append(dict(type=dom.get('type'), emulator=_xml.find_text(dom, 'emulator'),
                                machines=[m.text for m in dom.findall('machine')]))
        data['guests'].append(dict(
            os_type=_xml.find_text(guest, 'os_type'),
            arch=arch.get('name') if arch is not None else None,
            wordsize=_int(_xml.find_text(arch, 'wordsize')) if arch is not None else None,
            emulator=_xml.find_text(arch, 'emulator') if arch is not None else None,
            machines=machines,
            domain_types=[d['type'] for d in domains],
            domains=domains,
            features=[f.tag for f in guest.findall('features/*')],
        ))
    return data


def machine_aliases(root):
    """{alias: canonical} machine types from a capabilities document ('pc' -> 'pc-i440fx-7.2')."""
    aliases = {}
    for machine in root.iter('machine'):
        if machine.get('canonical') and machine.text:
            aliases[machine.text.strip()] = machine.get('canonical')
    return aliases


def read_capabilities(conn):
    with call('read the host capabilities'):
        text = conn.getCapabilities()
    return text, _xml.parse(text, 'capabilities XML')


def host_facts(conn, capabilities_xml=False):
    """Everything host_facts reports, as one dict."""
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
    if capabilities_xml:
        facts['capabilities_xml'] = caps_text
    return facts
