#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_facts
short_description: Gather facts about a libvirt hypervisor
version_added: 0.1.0
description:
  - Sets C(ansible_facts.libvirt) with what libvirt knows about the host behind a connection URI.
  - Node information (memory, CPU model, CPUs, MHz, NUMA nodes, sockets, cores, threads), free memory in
    total and per NUMA cell, library and hypervisor versions, whether the connection is secure and encrypted,
    the maximum vCPUs per domain type, the security model, and the host capabilities as data (host CPU,
    NUMA cells, and for each guest type its OS type, architecture, word size, emulator, machine types and
    domain types).
  - By default also the CPU model names libvirt knows per architecture, the node's memory and CPU statistics,
    and the free pages of each size (hugepages) per NUMA cell; see O(gather).
  - On request, the domain capabilities for each architecture and virtualization type (firmware, CPU modes and
    usable CPU models, device types, disk buses, maximum vCPUs); see O(gather) and O(domain_capabilities).
  - Only reads; works on a read-only connection.
author:
  - sysvirt developers (@sysvirt)
options:
  capabilities_xml:
    description:
      - Also return the raw capabilities XML document as C(ansible_facts.libvirt.capabilities_xml).
    type: bool
    default: false
  gather:
    description:
      - The optional parts to gather, beyond the basics that are always reported.
      - V(cpu_models) is RV(ansible_facts.libvirt.cpu_model_names), V(node_stats) is
        RV(ansible_facts.libvirt.node_stats), V(free_pages) is RV(ansible_facts.libvirt.free_pages), all fast.
      - V(domain_capabilities) is RV(ansible_facts.libvirt.domain_capabilities) for every architecture and
        virtualization type the host offers. It is not gathered by default because libvirt may probe the
        emulator for each, which can take seconds.
      - V(sysinfo) is RV(ansible_facts.libvirt.sysinfo) (the host's SMBIOS data), V(cpu_map) is
        RV(ansible_facts.libvirt.cpu_map) (the online CPUs), V(cpu_stats) is RV(ansible_facts.libvirt.cpu_stats)
        (per CPU), V(cell_stats) is RV(ansible_facts.libvirt.cell_stats) (memory per NUMA cell), V(sev) is
        RV(ansible_facts.libvirt.sev) (AMD SEV parameters); all fast, none gathered by default.
      - V(all) gathers everything.
      - An empty list gathers only the basics.
    type: list
    elements: str
    choices: [all, cpu_models, node_stats, free_pages, domain_capabilities, sysinfo, cpu_map, cpu_stats, cell_stats, sev]
    default: [cpu_models, node_stats, free_pages]
  domain_capabilities:
    description:
      - Gather the domain capabilities for exactly these combinations (whatever O(gather) says), and fail when
        libvirt cannot describe one of them.
      - Anything left out of an entry takes libvirt's default for the host.
    type: list
    elements: dict
    suboptions:
      emulator:
        description: Path to the emulator binary, for example V(/usr/bin/qemu-system-x86_64).
        type: str
      arch:
        description: Guest architecture, for example V(x86_64).
        type: str
      machine:
        description: Machine type, for example V(q35).
        type: str
      virt_type:
        description: Virtualization type, for example V(kvm) or V(qemu).
        type: str
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
attributes:
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
notes:
  - The facts are those of the hypervisor named by O(uri), which need not be the host the task runs on.
seealso:
  - module: sysvirt.libvirt.domain_info
  - module: sysvirt.libvirt.cpu_baseline
  - module: sysvirt.libvirt.cpu_compare
  - name: libvirt domain capabilities
    description: What the domain capabilities document describes.
    link: https://libvirt.org/formatdomaincaps.html
'''

EXAMPLES = r'''
- name: Gather facts about the local QEMU/KVM hypervisor
  sysvirt.libvirt.host_facts:
    uri: qemu:///system

- name: Show free memory per NUMA cell
  ansible.builtin.debug:
    msg: "{{ ansible_facts.libvirt.free_memory.cells }}"

- name: Gather facts from the test driver over a read-only connection, with the capabilities XML
  sysvirt.libvirt.host_facts:
    uri: test:///default
    readonly: true
    capabilities_xml: true

- name: Gather everything, including the domain capabilities of every architecture and virtualization type
  sysvirt.libvirt.host_facts:
    uri: qemu:///system
    gather: [all]

- name: Only the basics, and the domain capabilities for KVM guests on the q35 machine
  sysvirt.libvirt.host_facts:
    uri: qemu:///system
    gather: []
    domain_capabilities:
      - arch: x86_64
        machine: q35
        virt_type: kvm

- name: Does this host offer UEFI with secure boot for KVM guests?
  ansible.builtin.debug:
    msg: "{{ ansible_facts.libvirt.domain_capabilities[0].firmware.secure_boot }}"

- name: SMBIOS data, online CPUs and their statistics, memory per NUMA cell, SEV where the host has it
  sysvirt.libvirt.host_facts:
    uri: qemu:///system
    gather: [sysinfo, cpu_map, cpu_stats, cell_stats, sev]

- name: Which CPUs are online
  ansible.builtin.debug:
    msg: "{{ ansible_facts.libvirt.cpu_map.online }}"
'''

RETURN = r'''
ansible_facts:
  description: Facts to add to C(ansible_facts).
  returned: always
  type: dict
  contains:
    libvirt:
      description: Facts about the hypervisor.
      returned: always
      type: dict
      contains:
        hostname:
          description: The hypervisor host's name.
          type: str
          sample: kvm01.example.com
        uri:
          description: The canonical URI of the connection.
          type: str
          sample: qemu:///system
        driver:
          description: The hypervisor driver's name.
          type: str
          sample: QEMU
        library_version:
          description: The libvirt library version of the daemon (or of the client for in-process drivers).
          type: dict
          contains:
            full:
              description: As C(major.minor.micro).
              type: str
              sample: 9.0.0
            number:
              description: libvirt's packed form, C(major * 1000000 + minor * 1000 + micro).
              type: int
              sample: 9000000
            major:
              description: Major version.
              type: int
              sample: 9
            minor:
              description: Minor version.
              type: int
              sample: 0
            micro:
              description: Micro version.
              type: int
              sample: 0
        hypervisor_version:
          description: The hypervisor's version (for QEMU, the QEMU version), same keys as RV(ansible_facts.libvirt.library_version).
          type: dict
          sample: {full: 7.2.22, number: 7002022, major: 7, minor: 2, micro: 22}
        is_secure:
          description: Whether the connection is secure against eavesdropping (local socket, TLS, SSH).
          type: bool
        is_encrypted:
          description: Whether the connection is encrypted.
          type: bool
        node:
          description: Node information, as C(virsh nodeinfo) shows it.
          type: dict
          contains:
            cpu_model:
              description: The CPU architecture or model string.
              type: str
              sample: x86_64
            memory_mib:
              description: Memory size in MiB.
              type: int
            memory_bytes:
              description: Memory size in bytes.
              type: int
            cpus:
              description: Number of active CPUs.
              type: int
            mhz:
              description: Expected CPU frequency in MHz.
              type: int
            numa_nodes:
              description: Number of NUMA nodes (1 for a uniform memory host).
              type: int
            sockets:
              description: CPU sockets per NUMA node.
              type: int
            cores:
              description: Cores per socket.
              type: int
            threads:
              description: Threads per core.
              type: int
        free_memory:
          description: Free memory.
          type: dict
          contains:
            total_bytes:
              description: Free memory of the whole host in bytes.
              type: int
            cells:
              description: Free memory per NUMA cell.
              type: list
              elements: dict
              sample: [{cell: 0, free_bytes: 23100000256}]
        max_vcpus:
          description: Maximum vCPUs of a guest, per domain type the host offers (null where libvirt cannot tell).
          type: dict
          sample: {kvm: 255, qemu: 255}
        security_model:
          description: The host's security model and its domain of interpretation (null values when none).
          type: dict
          sample: {model: apparmor, doi: '0'}
        capabilities:
          description: The host capabilities as data.
          type: dict
          contains:
            host:
              description: >-
                The host: C(uuid), C(cpu) (C(arch), C(model), C(vendor), C(features), C(topology)), C(numa_cells)
                (C(id), C(memory_bytes), C(cpus), C(pages)), C(migration_transports), C(secmodels), C(iommu).
              type: dict
            guests:
              description: >-
                One entry per guest type: C(os_type), C(arch), C(wordsize), C(emulator), C(machines) (C(name),
                C(canonical), C(max_cpus)), C(domain_types), C(domains) (C(type), C(emulator), C(machines)),
                C(features).
              type: list
              elements: dict
        cpu_model_names:
          description: The CPU model names libvirt knows, per architecture (host and guest architectures); null for an
            architecture libvirt has no CPU models for.
          returned: when O(gather) has V(cpu_models)
          type: dict
          sample: {x86_64: [486, EPYC, EPYC-Milan, Haswell, qemu64]}
        node_stats:
          description: Statistics of the whole node.
          returned: when O(gather) has V(node_stats)
          type: dict
          contains:
            memory:
              description: >-
                Memory statistics in bytes as the driver reports them (C(total_bytes), C(free_bytes),
                C(buffers_bytes), C(cached_bytes)); null where the driver does not offer them (see
                RV(ansible_facts.libvirt.not_supported)).
              type: dict
              sample: {total_bytes: 25276502016, free_bytes: 24176435200, buffers_bytes: 13459456, cached_bytes: 632672256}
            cpu:
              description: >-
                CPU time in nanoseconds since boot, summed over all CPUs (C(kernel_ns), C(user_ns), C(idle_ns),
                C(iowait_ns)); null where the driver does not offer them (see
                RV(ansible_facts.libvirt.not_supported)).
              type: dict
              sample: {kernel_ns: 63790000000, user_ns: 190770000000, idle_ns: 865380000000, iowait_ns: 4840000000}
        free_pages:
          description:
            - Free pages of each size the host offers (hugepages included), per NUMA cell.
            - Empty when the driver does not offer them (then RV(ansible_facts.libvirt.not_supported) has
              V(free_pages)).
          returned: when O(gather) has V(free_pages)
          type: list
          elements: dict
          sample: [{cell: 0, pages: [{size_kib: 4, free: 934181}, {size_kib: 2048, free: 0}, {size_kib: 1048576, free: 0}]}]
        not_supported:
          description:
            - The gathered parts that this connection's driver does not offer, so they are empty or null instead of
              a warning; any of V(node_stats.memory), V(node_stats.cpu), V(free_pages), V(domain_capabilities),
              V(sysinfo), V(cpu_map), V(cpu_stats), V(cell_stats) and V(sev).
            - A host without SMBIOS data (many virtual machines and containers) has no V(sysinfo), and a host without
              AMD SEV no V(sev); they are named here, not an error.
            - For example libvirt's test driver offers no node memory statistics and no domain capabilities, and no
              free pages through the daemon (C(test+unix:///default)).
            - A driver that offers a part but fails to read it fails the task (the node statistics) or warns (the
              free pages and the domain capabilities that O(gather) asks for).
          returned: always
          type: list
          elements: str
          sample: [node_stats.memory, free_pages]
        domain_capabilities:
          description: >-
            The domain capabilities, one entry per architecture and virtualization type the host offers (or per entry
            of O(domain_capabilities)); empty when the driver offers none (then
            RV(ansible_facts.libvirt.not_supported) has V(domain_capabilities)).
          returned: when O(gather) has V(domain_capabilities), or O(domain_capabilities) is given
          type: list
          elements: dict
          contains:
            requested:
              description: What was asked for (C(emulator), C(arch), C(machine), C(virt_type); null is libvirt's default).
              type: dict
            emulator:
              description: The emulator binary.
              type: str
              sample: /usr/bin/qemu-system-x86_64
            virt_type:
              description: The virtualization type.
              type: str
              sample: kvm
            machine:
              description: The machine type (the canonical name).
              type: str
              sample: pc-i440fx-7.2
            arch:
              description: The guest architecture.
              type: str
              sample: x86_64
            max_vcpus:
              description: The most vCPUs a guest can have.
              type: int
              sample: 255
            iothreads:
              description: Whether I/O threads are supported.
              type: bool
            firmware:
              description: >-
                Firmware: C(supported), C(firmware) (automatic firmware selection values such as V(efi)),
                C(loader_supported), C(loaders) (loader image paths), C(loader_types) (V(rom), V(pflash)),
                C(readonly), C(secure) (the values libvirt accepts), C(secure_boot) (whether a secure-boot loader is
                offered).
              type: dict
              sample: {firmware: [efi], loaders: [/usr/share/OVMF/OVMF_CODE_4M.fd], loader_types: [rom, pflash], secure: ['no'], secure_boot: false}
            cpu:
              description: >-
                CPU: C(modes) (the supported CPU modes), C(host_model) (the model, vendor, features and
                disabled_features of host-model, or null), C(usable_models) (the custom models this host can run),
                C(mode_details) (every mode with C(supported), C(enums), and for custom C(models) with C(name),
                C(usable), C(vendor), C(deprecated)).
              type: dict
            memory_backing:
              description: Memory backing enumerations, such as C(sourceType).
              type: dict
            devices:
              description: Per device type, C(supported) and C(enums) (the values libvirt accepts per attribute).
              type: dict
            device_types:
              description: The device types that are supported.
              type: list
              elements: str
              sample: [disk, graphics, hostdev, rng, tpm, video]
            disk_devices:
              description: The disk devices supported.
              type: list
              elements: str
              sample: [disk, cdrom, floppy, lun]
            disk_buses:
              description: The disk buses supported.
              type: list
              elements: str
              sample: [ide, fdc, scsi, virtio, usb, sata]
            features:
              description: Per domain feature (such as C(sev), C(gic), C(hyperv)), C(supported) and C(enums).
              type: dict
        sysinfo:
          description:
            - The host's SMBIOS data (C(virConnectGetSysinfo)), null where the host has none (then
              RV(ansible_facts.libvirt.not_supported) has V(sysinfo)).
            - Entry names as libvirt writes them (C(vendor), C(version), C(serial), C(uuid), C(sku), ...).
          returned: when O(gather) has V(sysinfo)
          type: dict
          contains:
            type:
              description: The kind of data, V(smbios).
              type: str
              sample: smbios
            bios:
              description: The BIOS entries.
              type: dict
              sample: {vendor: LENOVO, version: G4ETA1WW (2.61 ), date: 05/07/2014, release: '2.61'}
            system:
              description: The system entries (C(manufacturer), C(product), C(version), C(serial), C(uuid), C(sku), C(family)).
              type: dict
            chassis:
              description: The chassis entries.
              type: dict
            base_boards:
              description: The base boards' entries, one dict per board.
              type: list
              elements: dict
            processors:
              description: The processors' entries (C(socket_destination), C(type), C(family), C(manufacturer), ...).
              type: list
              elements: dict
            memory_devices:
              description: The memory devices' entries (C(size), C(form_factor), C(locator), C(type), C(speed), ...).
              type: list
              elements: dict
            oem_strings:
              description: The OEM strings, in order.
              type: list
              elements: str
        cpu_map:
          description: The host's CPUs and which are online (C(virNodeGetCPUMap)); null where the driver has no CPU map.
          returned: when O(gather) has V(cpu_map)
          type: dict
          contains:
            cpus:
              description: How many CPUs the host has (online or not).
              type: int
              sample: 8
            online:
              description: The numbers of the online CPUs.
              type: list
              elements: int
              sample: [0, 1, 2, 3]
        cpu_stats:
          description:
            - CPU time per online CPU, in nanoseconds since boot (C(cpu), C(kernel_ns), C(user_ns), C(idle_ns),
              C(iowait_ns)); null where the driver does not offer them.
          returned: when O(gather) has V(cpu_stats)
          type: list
          elements: dict
          sample: [{cpu: 0, kernel_ns: 1756660000000, user_ns: 8300110000000, idle_ns: 18884680000000, iowait_ns: 14640000000}]
        cell_stats:
          description:
            - Memory per NUMA cell in bytes (C(cell), C(total_bytes), C(free_bytes)); null where the driver does not
              offer them.
          returned: when O(gather) has V(cell_stats)
          type: list
          elements: dict
          sample: [{cell: 0, total_bytes: 25276182528, free_bytes: 21582471168}]
        sev:
          description:
            - The host's AMD SEV parameters for guests with launch security (C(virNodeGetSEVInfo)), with C(_) for
              libvirt's C(-) (C(pdh), C(cert_chain), C(cbitpos), C(reduced_phys_bits), C(max_guests),
              C(max_es_guests), C(cpu0_id)); null on a host without SEV (then
              RV(ansible_facts.libvirt.not_supported) has V(sev)).
            - libvirt gives them only to a read-write connection; with O(readonly=true) they are null and a warning
              says so.
          returned: when O(gather) has V(sev)
          type: dict
        capabilities_xml:
          description: The capabilities document as libvirt returns it.
          returned: when O(capabilities_xml=true)
          type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, exit_module, module_connection, require_libraries,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._host import host_facts


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            capabilities_xml=dict(type='bool', default=False),
            gather=dict(type='list', elements='str', default=['cpu_models', 'node_stats', 'free_pages'],
                        choices=['all', 'cpu_models', 'node_stats', 'free_pages', 'domain_capabilities', 'sysinfo',
                                 'cpu_map', 'cpu_stats', 'cell_stats', 'sev']),
            domain_capabilities=dict(type='list', elements='dict', options=dict(
                emulator=dict(type='str'),
                arch=dict(type='str'),
                machine=dict(type='str'),
                virt_type=dict(type='str'),
            )),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    warnings = []
    with module_connection(module) as conn:
        facts = host_facts(conn, capabilities_xml=module.params['capabilities_xml'], gather=module.params['gather'],
                           domain_capability_targets_=module.params['domain_capabilities'], warnings=warnings)
    exit_module(module, dict(changed=False, ansible_facts=dict(libvirt=facts), warnings=warnings))


if __name__ == '__main__':
    main()
