#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: network
short_description: Manage libvirt virtual networks
version_added: 0.1.0
description:
  - Defines, redefines, starts, stops and removes libvirt virtual networks, persistent or transient.
  - An existing network is brought in line with O(xml). Only what the document says is compared, and what
    libvirt fills in itself (the UUID, and for NAT, routed, open and isolated networks the bridge name and
    MAC address when the document gives none) is carried over, so a re-run reports no change.
  - DHCP host entries, DHCP ranges, DNS hosts, DNS TXT and SRV records, port groups and forward interfaces
    can be changed entry by entry without restarting the network (libvirt's network update), in the running
    network and in its persistent definition. Only entries that differ are touched.
  - A changed O(xml) only changes the persistent definition of a running network. The module then returns
    RV(restart_needed) and restarts the network only when O(restart_on_change) is set.
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - The network's name. With O(xml), it must match the document's C(<name>), or is put into a document
        without one.
      - One of O(name), O(uuid) or O(xml) is required.
    type: str
  uuid:
    description:
      - The network's UUID, to find it by UUID instead of by name. Given together with O(name), both must
        identify the same network, or the run fails and changes nothing.
    type: str
  xml:
    description:
      - The network definition (libvirt's network XML format).
      - Needed to create the network. For an existing network, only the elements and attributes the document
        gives are compared; children of the stored definition it does not mention are left alone.
    type: str
  state:
    description:
      - V(present) defines the network and leaves it running or stopped as it is.
      - V(active) defines the network if needed and starts it.
      - V(inactive) defines the network if needed and stops it.
      - V(absent) stops the network if it runs and removes its definition.
    type: str
    choices: [present, active, inactive, absent]
    default: present
  persistent:
    description:
      - V(false) makes a transient network, which exists only while it runs (it is started at once and
        disappears when stopped). An existing persistent network made transient keeps running without a
        persistent definition.
      - V(true) defines the network; an existing transient network becomes persistent.
    type: bool
    default: true
  autostart:
    description:
      - Whether libvirt starts the network when the host boots. Left alone when not set.
      - Only for persistent networks.
    type: bool
  restart_on_change:
    description:
      - Restart a running network when its definition changed in a way that is not live yet (see
        RV(restart_needed)). Guests' interfaces on the network lose their connection until they are plugged
        in again.
    type: bool
    default: false
  dhcp_hosts:
    description:
      - DHCP host entries (static leases) of the first C(<ip>) element of the matching address family that has
        a C(<dhcp>) element (or the first of that family).
      - An entry is found by O(dhcp_hosts[].mac), or by O(dhcp_hosts[].name) when it has no MAC; it is added
        when missing, changed when an attribute it gives differs, and removed with O(dhcp_hosts[].state=absent).
        Entries not listed are left alone.
    type: list
    elements: dict
    suboptions:
      mac:
        description:
          - The guest interface's MAC address (unicast). IPv6 hosts are found by O(dhcp_hosts[].name) instead;
            libvirt refuses a MAC on them.
        type: str
      name:
        description: The host name handed out.
        type: str
      ip:
        description: The address handed out.
        type: str
      state:
        description: Whether the entry should exist.
        type: str
        choices: [present, absent]
        default: present
  dhcp_ranges:
    description:
      - DHCP address ranges, added or removed (with O(dhcp_ranges[].state=absent)), on the C(<ip>) element
        chosen as for O(dhcp_hosts). Ranges not listed are left alone.
    type: list
    elements: dict
    suboptions:
      start:
        description: First address of the range.
        type: str
        required: true
      end:
        description: Last address of the range.
        type: str
        required: true
      state:
        description: Whether the range should exist.
        type: str
        choices: [present, absent]
        default: present
  dns_hosts:
    description:
      - DNS host records of the network's DNS server, found by address. The host names of a listed address are
        exactly O(dns_hosts[].hostnames).
    type: list
    elements: dict
    suboptions:
      ip:
        description: The address.
        type: str
        required: true
      hostnames:
        description: The names that resolve to O(dns_hosts[].ip). Required when O(dns_hosts[].state=present).
        type: list
        elements: str
      state:
        description: Whether the record should exist.
        type: str
        choices: [present, absent]
        default: present
  dns_txt:
    description:
      - DNS TXT records, found by name.
    type: list
    elements: dict
    suboptions:
      name:
        description: The record's name.
        type: str
        required: true
      value:
        description: The record's text. Required when O(dns_txt[].state=present).
        type: str
      state:
        description: Whether the record should exist.
        type: str
        choices: [present, absent]
        default: present
  dns_srv:
    description:
      - DNS SRV records, found by service, protocol, domain, target and port; priority and weight are compared.
    type: list
    elements: dict
    suboptions:
      service:
        description: The service name, without the leading underscore.
        type: str
        required: true
      protocol:
        description: The protocol.
        type: str
        required: true
        choices: [tcp, udp]
      domain:
        description: The domain the record is in.
        type: str
      target:
        description: The host that provides the service.
        type: str
      port:
        description: The port of the service.
        type: int
      priority:
        description: The record's priority.
        type: int
      weight:
        description: The record's weight.
        type: int
      state:
        description: Whether the record should exist.
        type: str
        choices: [present, absent]
        default: present
  portgroups:
    description:
      - Port groups, found by name.
    type: list
    elements: dict
    suboptions:
      name:
        description: The port group's name.
        type: str
        required: true
      default:
        description: Whether this is the network's default port group. Left alone when not set.
        type: bool
      vlan_tags:
        description:
          - VLAN tags of the port group (several make a trunk). An empty list removes the VLAN setting.
          - Only networks whose type supports VLANs (Open vSwitch bridges, SR-IOV host devices) accept them.
        type: list
        elements: int
      state:
        description: Whether the port group should exist.
        type: str
        choices: [present, absent]
        default: present
  forward_interfaces:
    description:
      - The interfaces of the C(<forward>) element (pools of host interfaces for bridge, passthrough, private,
        VEPA and hostdev networks), found by device name.
    type: list
    elements: dict
    suboptions:
      dev:
        description: The host interface's name.
        type: str
        required: true
      state:
        description: Whether the interface should be in the pool.
        type: str
        choices: [present, absent]
        default: present
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
  - sysvirt.libvirt._attributes.LIFECYCLE
notes:
  - Entry updates go to the running network (when it runs) and to its persistent definition (when it has
    one), each only where the entry differs; RV(actions) says which.
  - libvirt cannot rename a network. A document whose C(<name>) differs from the network found by O(uuid) fails.
  - Check mode predicts the run from the stored definitions without changing anything.
seealso:
  - module: sysvirt.libvirt.network_info
  - name: libvirt network XML format
    description: The elements of a network definition.
    link: https://libvirt.org/formatnetwork.html
'''

EXAMPLES = r'''
- name: An isolated network with DHCP, running and started at boot
  sysvirt.libvirt.network:
    name: lab
    state: active
    autostart: true
    xml: |
      <network>
        <name>lab</name>
        <bridge name='virbr-lab'/>
        <ip address='192.0.2.1' prefix='24'>
          <dhcp>
            <range start='192.0.2.100' end='192.0.2.200'/>
          </dhcp>
        </ip>
      </network>

- name: Static leases and DNS names, applied without restarting the network
  sysvirt.libvirt.network:
    name: lab
    dhcp_hosts:
      - mac: '52:54:00:00:00:10'
        name: web1
        ip: 192.0.2.10
      - mac: '52:54:00:00:00:11'
        state: absent
    dns_hosts:
      - ip: 192.0.2.10
        hostnames: [web1, www]
    dns_txt:
      - name: lab-info
        value: managed by ansible

- name: Change the definition and restart the network if the change is not live yet
  sysvirt.libvirt.network:
    name: lab
    restart_on_change: true
    xml: |
      <network>
        <name>lab</name>
        <domain name='lab.example'/>
        <ip address='192.0.2.1' prefix='24'/>
      </network>

- name: A transient network (gone when stopped)
  sysvirt.libvirt.network:
    name: scratch
    persistent: false
    state: active
    xml: |
      <network>
        <name>scratch</name>
      </network>

- name: Remove a network
  sysvirt.libvirt.network:
    name: lab
    state: absent
'''

RETURN = r'''
network:
  description:
    - The network after the run (in check mode, as it would be), in the shape of one
      RV(sysvirt.libvirt.network_info#module:networks) item without the XML. V(null) when it is absent.
  returned: always
  type: dict
  sample:
    name: lab
    uuid: 6a3c1f0e-6b8e-4e39-9d55-1a0b6d2d1c11
    active: true
    persistent: true
    autostart: true
    bridge: virbr-lab
    mac: '52:54:00:3e:1a:77'
    forward_mode: null
    forward_dev: null
    forward_interfaces: []
    forward_pf: []
    domain: null
    mtu: null
    ips:
      - index: 0
        family: ipv4
        address: 192.0.2.1
        prefix: 24
        netmask: null
        tftp_root: null
        dhcp_ranges: [{start: 192.0.2.100, end: 192.0.2.200}]
        dhcp_hosts: [{mac: '52:54:00:00:00:10', name: web1, ip: 192.0.2.10, id: null}]
    dhcp_ranges: [{start: 192.0.2.100, end: 192.0.2.200, ip_index: 0}]
    dhcp_hosts: [{mac: '52:54:00:00:00:10', name: web1, ip: 192.0.2.10, id: null, ip_index: 0}]
    dns_hosts: [{ip: 192.0.2.10, hostnames: [web1, www]}]
    dns_txt: [{name: lab-info, value: managed by ansible}]
    dns_srv: []
    portgroups: []
    leases: []
actions:
  description: What the run did (or would do in check mode), in order; entry updates say where they apply.
  returned: always
  type: list
  elements: str
  sample: [define, start, 'add DHCP host mac=52:54:00:00:00:10 name=web1 ip=192.0.2.10 (live, config)']
differences:
  description: Where the stored definition did not satisfy O(xml).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The place in the document.
      type: str
    desired:
      description: What the document asks for.
      type: str
    current:
      description: What is stored.
      type: str
    reason:
      description: V(missing), V(changed) or V(extra).
      type: str
restart_needed:
  description:
    - Whether the running network differs from O(xml) in a way only a restart applies (the persistent
      definition already has it). Never true after a restart done by O(restart_on_change).
  returned: always
  type: bool
pending_live_changes:
  description: >-
    When RV(restart_needed) is true, where the running network differs from O(xml), each item as in
    RV(differences).
  returned: when restart_needed is true
  type: list
  elements: dict
diff:
  description: The persistent definition (for transient networks, the live one) before and after.
  returned: when diff mode is on
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._network import CONSTRAINTS, OPTIONS, run
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import run_kind


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(OPTIONS),
        supports_check_mode=True,
        **CONSTRAINTS
    )
    require_libraries(module)
    run_kind(module, run)


if __name__ == '__main__':
    main()
