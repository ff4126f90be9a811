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
  - Only reads; works on a read-only connection.
author:
  - sysvirt developers
options:
  capabilities_xml:
    description:
      - Also return the raw capabilities XML document as C(ansible_facts.libvirt.capabilities_xml).
    type: bool
    default: false
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
        capabilities_xml:
          description: The capabilities document as libvirt returns it.
          returned: when O(capabilities_xml=true)
          type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, module_connection,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._host import host_facts


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            capabilities_xml=dict(type='bool', default=False),
        )),
        supports_check_mode=True,
    )
    with module_connection(module) as conn:
        facts = host_facts(conn, capabilities_xml=module.params['capabilities_xml'])
    module.exit_json(changed=False, ansible_facts=dict(libvirt=facts))


if __name__ == '__main__':
    main()
