#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_info
short_description: Read libvirt domains (guests) as data
version_added: 0.1.0
description:
  - Returns every domain of a libvirt connection, or those matching the filters, with name, UUID, id, state and
    its reason, persistence, autostart, vCPUs, memory, CPU time, OS type, architecture and machine, firmware,
    disks, network interfaces with their IP addresses, graphics, title, description and metadata.
  - Optionally the XML definition and libvirt's bulk statistics of each domain.
  - Fast with many domains. One listing of all domains, one bulk statistics call for the matching ones, and
    one XML read per domain. Reading addresses adds one call per running domain and address source.
  - Only reads; works on a read-only connection (the guest agent address source needs a read-write one).
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - Only domains with one of these names. An entry with C(*), C(?) or C([) is a shell-style pattern
        (C(web-*)); any other entry must match exactly.
    type: list
    elements: str
    aliases: [names]
  uuid:
    description:
      - Only domains with one of these UUIDs.
    type: list
    elements: str
  state:
    description:
      - Only domains in one of these states (as libvirt reports them; C(shutting_down) is a guest in the middle of
        shutting down).
    type: list
    elements: str
    choices: [nostate, running, blocked, paused, shutting_down, shutoff, crashed, pmsuspended]
  persistent:
    description:
      - Only persistent domains (V(true)) or only transient ones (V(false)). Both when not set.
    type: bool
  autostart:
    description:
      - Only domains that start with the host (V(true)) or only those that do not (V(false)). Both when not set.
    type: bool
  address_sources:
    description:
      - Where to look for the IP addresses of running domains' interfaces, in order. Addresses from all listed
        sources are merged; each address says where it came from.
      - V(lease) reads the DHCP leases of libvirt's networks, V(agent) asks the QEMU guest agent inside the guest,
        V(arp) reads the host's ARP table.
      - An empty list reads no addresses. A source that fails for a domain (no guest agent, for example) is a
        warning and an entry in that domain's RV(domains[].address_errors), never a failure.
    type: list
    elements: str
    choices: [lease, agent, arp]
    default: [lease]
  agent_timeout:
    description:
      - Seconds to wait for the guest agent of each domain when O(address_sources) has V(agent).
    type: int
    default: 5
  xml:
    description:
      - Also return each domain's XML definition as RV(domains[].xml) (never with secrets such as graphics
        passwords).
    type: bool
    default: false
  inactive:
    description:
      - Read the persistent definition (what the next boot uses) instead of the live one for running domains.
        Affects RV(domains[].xml) and everything taken from the definition.
    type: bool
    default: false
  stats:
    description:
      - Also return libvirt's bulk statistics of each domain as RV(domains[].stats) (the groups C(state),
        C(cpu_total), C(balloon), C(vcpu) and those in O(stats_groups)).
    type: bool
    default: false
  stats_groups:
    description:
      - Further statistics groups to return; implies O(stats=true). Groups the driver does not support are
        left out by libvirt.
    type: list
    elements: str
    choices: [interface, block, perf, iothread, memory, dirtyrate]
    default: []
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
notes:
  - Domains are listed in the order libvirt returns them (running ones first, by id, then the others by name).
seealso:
  - module: sysvirt.libvirt.domain
  - module: sysvirt.libvirt.host_facts
'''

EXAMPLES = r'''
- name: All domains of the local hypervisor
  sysvirt.libvirt.domain_info:
    uri: qemu:///system
  register: all_domains

- name: Names of the running ones
  ansible.builtin.debug:
    msg: "{{ all_domains.domains | selectattr('state', 'eq', 'running') | map(attribute='name') }}"

- name: Web servers, with addresses from DHCP leases and the guest agent
  sysvirt.libvirt.domain_info:
    name:
      - web-*
      - db01
    state: [running]
    address_sources: [lease, agent]
    agent_timeout: 3
  register: web

- name: One domain's persistent XML and block statistics, over a read-only connection
  sysvirt.libvirt.domain_info:
    uri: qemu:///system
    readonly: true
    name: db01
    xml: true
    inactive: true
    stats_groups: [block]
  register: db01
'''

RETURN = r'''
domains:
  description: The matching domains.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The domain's name.
      type: str
      sample: web01
    uuid:
      description: The domain's UUID.
      type: str
      sample: 6695eb01-f6a4-8304-79aa-97f2502e193f
    id:
      description: The id of a running domain; null when it is not running.
      type: int
      sample: 3
    type:
      description: The domain type (hypervisor).
      type: str
      sample: kvm
    state:
      description: >-
        The state: V(running), V(blocked), V(paused), V(shutting_down), V(shutoff), V(crashed), V(pmsuspended)
        or V(nostate).
      type: str
      sample: running
    state_reason:
      description: Why it is in that state, as libvirt says (V(booted), V(destroyed), V(shutdown), V(user), ...).
      type: str
      sample: booted
    persistent:
      description: Whether the domain has a persistent definition (false for a transient domain).
      type: bool
    autostart:
      description: Whether the domain starts with the host.
      type: bool
    vcpus:
      description: Virtual CPUs, C(current) (online now, or at boot when off) and C(maximum).
      type: dict
      sample: {current: 2, maximum: 4}
    memory:
      description: >-
        Memory in bytes, C(current_bytes) (the balloon size of a running guest, the boot size otherwise) and
        C(maximum_bytes).
      type: dict
      sample: {current_bytes: 2147483648, maximum_bytes: 4294967296}
    cpu_time_ns:
      description: CPU time used, in nanoseconds (0 when not running).
      type: int
    os:
      description: >-
        The OS section: C(type) (hvm, xen, exe, ...), C(arch), C(machine), C(loader), C(loader_type), C(nvram),
        C(kernel), C(initrd) and C(boot) (boot devices in order).
      type: dict
      sample: {type: hvm, arch: x86_64, machine: pc-q35-7.2, loader: null, loader_type: null, nvram: null,
               kernel: null, initrd: null, boot: [hd]}
    firmware:
      description: V(efi), V(bios) or null (for example for containers).
      type: str
      sample: efi
    disks:
      description: >-
        Disks: C(target), C(bus), C(device) (disk, cdrom, floppy, lun), C(type) (file, block, volume, network,
        dir), C(source) (C(file), C(dev), C(dir), C(pool), C(volume), C(protocol), C(name)), C(format),
        C(readonly), C(boot_order).
      type: list
      elements: dict
    interfaces:
      description: >-
        Network interfaces: C(mac), C(type), C(source) (C(network), C(bridge), C(dev), C(portgroup)), C(model),
        C(target) (host-side device of a running guest), C(addresses) (C(address), C(prefix), C(family) ipv4 or
        ipv6, C(source) lease, agent or arp). A NIC that a source reports but the definition has no C(<interface>)
        for (a PCI NIC given as C(<hostdev>), a NIC in C(<qemu:commandline>)) is listed too, with C(type) null and
        only its C(mac) and C(addresses).
      type: list
      elements: dict
    graphics:
      description: Graphics consoles, C(type), C(port), C(tls_port), C(autoport), C(listen); never passwords.
      type: list
      elements: dict
    port_forwards:
      description: >-
        Ports the hypervisor forwards into the guest on user-mode networks: C(proto) (tcp or udp), C(address)
        (host address it listens on, null for all), C(host_port) to C(host_port_end) on the host to C(guest_port)
        onwards in the guest, C(source) (V(interface) for libvirt's C(<portForward>), V(qemu_commandline) for a
        C(hostfwd=) rule in C(<qemu:commandline>)).
      type: list
      elements: dict
      sample: [{"proto": "tcp", "address": "127.0.0.1", "host_port": 2222, "host_port_end": 2222, "guest_port": 22,
                "source": "interface"}]
    agent_channel:
      description: >-
        Whether the definition has the QEMU guest agent's channel (C(org.qemu.guest_agent.0)); null when the
        definition was not read. Says nothing about an agent running in the guest.
      type: bool
    title:
      description: The domain's title, or null.
      type: str
    description:
      description: The domain's description, or null.
      type: str
    metadata:
      description: The custom metadata elements, by namespace URI, each as its XML text.
      type: dict
      sample: {"https://example.com/app": "<app:owner xmlns:app=\"https://example.com/app\">ops</app:owner>"}
    address_errors:
      description: Why an address source failed for this domain (also reported as warnings).
      type: list
      elements: str
    xml:
      description: The XML definition (live, or persistent with O(inactive=true)).
      returned: when O(xml=true)
      type: str
    stats:
      description: libvirt's bulk statistics of the domain, keys as libvirt names them (C(state.state), C(cpu.time), ...).
      returned: when O(stats=true) or O(stats_groups) is set
      type: dict
      sample: {"state.state": 1, "state.reason": 1, "cpu.time": 1870000000}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, exit_module, module_connection, require_libraries,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._domain_data import collect_domains
from ansible_collections.sysvirt.libvirt.plugins.module_utils._xml import canonical_uuid

_XML_INACTIVE = 2  # VIR_DOMAIN_XML_INACTIVE


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            name=dict(type='list', elements='str', aliases=['names']),
            uuid=dict(type='list', elements='str'),
            state=dict(type='list', elements='str',
                       choices=['nostate', 'running', 'blocked', 'paused', 'shutting_down', 'shutoff', 'crashed',
                                'pmsuspended']),
            persistent=dict(type='bool'),
            autostart=dict(type='bool'),
            address_sources=dict(type='list', elements='str', choices=['lease', 'agent', 'arp'],
                                 default=['lease']),
            agent_timeout=dict(type='int', default=5),
            xml=dict(type='bool', default=False),
            inactive=dict(type='bool', default=False),
            stats=dict(type='bool', default=False),
            stats_groups=dict(type='list', elements='str', default=[],
                              choices=['interface', 'block', 'perf', 'iothread', 'memory', 'dirtyrate']),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    p = module.params
    stats_groups = list(p['stats_groups']) if (p['stats'] or p['stats_groups']) else None
    with module_connection(module) as conn:
        domains, warnings = collect_domains(
            conn, names=p['name'], uuids=[canonical_uuid(u) for u in p['uuid']] if p['uuid'] else None,
            states=p['state'], persistent=p['persistent'], autostart=p['autostart'],
            address_sources=p['address_sources'], agent_timeout=p['agent_timeout'], include_xml=p['xml'],
            stats_groups=stats_groups, xml_flags=_XML_INACTIVE if p['inactive'] else 0, workers=4)
    exit_module(module, dict(changed=False, domains=domains, warnings=warnings))


if __name__ == '__main__':
    main()
