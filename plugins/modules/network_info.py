#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: network_info
short_description: Read libvirt virtual networks
version_added: 0.1.0
description:
  - Lists libvirt virtual networks, all of them or those that match the filters, with their state, bridge,
    forward mode, addresses, DHCP ranges and hosts, DNS records, port groups and current DHCP leases.
  - Networks without a bridge (host device, passthrough, macvtap networks) are listed with RV(networks[].bridge)
    set to V(null).
  - Only reads; works on a read-only connection.
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - Only the network with this name. No network (and no failure) when it does not exist.
    type: str
  uuid:
    description:
      - Only the network with this UUID.
    type: str
  pattern:
    description:
      - Only networks whose name matches this shell-style pattern (V(lab-*), V(net?)).
    type: str
  active:
    description:
      - Only running (V(true)) or stopped (V(false)) networks.
    type: bool
  persistent:
    description:
      - Only persistent (V(true)) or transient (V(false)) networks.
    type: bool
  leases:
    description:
      - Read the current DHCP leases of running networks.
    type: bool
    default: true
  xml:
    description:
      - Also return each network's live XML (RV(networks[].xml)) and persistent XML (RV(networks[].inactive_xml)).
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
notes:
  - The data describe the running definition of active networks and the persistent one of stopped networks.
seealso:
  - module: sysvirt.libvirt.network
'''

EXAMPLES = r'''
- name: All networks
  sysvirt.libvirt.network_info:
  register: nets

- name: Names of the running networks
  ansible.builtin.debug:
    msg: "{{ nets.networks | selectattr('active') | map(attribute='name') }}"

- name: One network with its XML
  sysvirt.libvirt.network_info:
    name: default
    xml: true
  register: default_net

- name: Addresses handed out on the lab networks
  sysvirt.libvirt.network_info:
    pattern: 'lab-*'
    active: true
  register: lab

- name: Show the leases
  ansible.builtin.debug:
    msg: "{{ lab.networks | map(attribute='leases') | flatten | map(attribute='ip') }}"
'''

RETURN = r'''
networks:
  description: The networks, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The network's name.
      type: str
      sample: default
    uuid:
      description: The network's UUID.
      type: str
    active:
      description: Whether the network runs.
      type: bool
    persistent:
      description: Whether the network has a persistent definition (V(false) for transient networks).
      type: bool
    autostart:
      description: Whether libvirt starts the network at boot.
      type: bool
    bridge:
      description: The bridge device's name; V(null) for networks without one.
      type: str
      sample: virbr0
    mac:
      description: The bridge's MAC address, or V(null).
      type: str
    forward_mode:
      description: The forward mode (V(nat), V(route), V(open), V(bridge), V(passthrough), V(private), V(vepa),
        V(hostdev)); V(null) for an isolated network.
      type: str
    forward_dev:
      description: The C(dev) of the C(<forward>) element, or V(null).
      type: str
    forward_interfaces:
      description: The host interfaces of the forward pool.
      type: list
      elements: str
    forward_pf:
      description: The physical functions of the forward element.
      type: list
      elements: str
    domain:
      description: The DNS domain, or V(null).
      type: str
    mtu:
      description: The MTU, or V(null).
      type: int
    ips:
      description: The C(<ip>) elements.
      type: list
      elements: dict
      contains:
        index:
          description: Position among the network's C(<ip>) elements.
          type: int
        family:
          description: V(ipv4) or V(ipv6).
          type: str
        address:
          description: The network's own address.
          type: str
        prefix:
          description: The prefix length, when given as such.
          type: int
        netmask:
          description: The netmask, when given as such.
          type: str
        tftp_root:
          description: The TFTP root, or V(null).
          type: str
        dhcp_ranges:
          description: DHCP ranges (start, end, and lease when set).
          type: list
          elements: dict
        dhcp_hosts:
          description: DHCP host entries (mac, name, ip, id).
          type: list
          elements: dict
    dhcp_ranges:
      description: All DHCP ranges, with the C(ip_index) of the C(<ip>) element they belong to.
      type: list
      elements: dict
    dhcp_hosts:
      description: All DHCP host entries (mac, name, ip, id, ip_index).
      type: list
      elements: dict
    dns_hosts:
      description: DNS host records (ip, hostnames).
      type: list
      elements: dict
    dns_txt:
      description: DNS TXT records (name, value).
      type: list
      elements: dict
    dns_srv:
      description: DNS SRV records (service, protocol, domain, target, port, priority, weight).
      type: list
      elements: dict
    portgroups:
      description: Port groups (name, default, vlan_tags).
      type: list
      elements: dict
    leases:
      description:
        - Current DHCP leases of a running network (interface, mac, ip, prefix, hostname, client_id, iaid,
          expiry_time as seconds since the epoch, type V(ipv4) or V(ipv6)). Empty for stopped networks,
          networks without a DHCP server, drivers that keep none, and when O(leases=false).
      type: list
      elements: dict
    xml:
      description: The live XML (for a stopped network, its definition).
      returned: when O(xml=true)
      type: str
    inactive_xml:
      description: The persistent definition; V(null) for transient networks.
      returned: when O(xml=true)
      type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, module_connection, require_libraries,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._network import network_info


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            name=dict(type='str'),
            uuid=dict(type='str'),
            pattern=dict(type='str'),
            active=dict(type='bool'),
            persistent=dict(type='bool'),
            leases=dict(type='bool', default=True),
            xml=dict(type='bool', default=False),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    with module_connection(module) as conn:
        networks = network_info(conn, module.params)
    module.exit_json(changed=False, networks=networks)


if __name__ == '__main__':
    main()
