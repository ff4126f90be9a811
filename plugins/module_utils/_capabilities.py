# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The hypervisor's capabilities document and node information as data: what every reader of the host needs.

Private to this collection: the names here may change without notice. Used by _host (the host_facts module),
_domain (guest and machine types) and the inventory plugin (hypervisors as hosts). Kept apart from _host so that
the inventory plugin and the domain modules compile only this much of it (ansible-core compiles collection
module_utils from source on every run).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import call


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
        host_data['migration_transports'] = [
            t.text for t in host.findall('migration_features/uri_transports/uri_transport')]
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
