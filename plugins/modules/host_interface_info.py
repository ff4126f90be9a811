#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_interface_info
short_description: List the host's network interfaces as libvirt sees them
version_added: 0.1.0
description:
  - Returns the host network interfaces of a libvirt host (all, or one by name or MAC) with type, MAC, MTU, start
    mode, IP protocols and addresses, bridge or bond members, VLAN tag and parent, and whether each is active.
  - Works with every interface backend, including the read-only udev backend of Debian's libvirt.
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - Only the interface of this name.
    type: str
  mac:
    description:
      - Only the interface with this MAC address.
    type: str
  xml:
    description:
      - Also return each interface's XML description.
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
seealso:
  - module: sysvirt.libvirt.host_interface
'''

EXAMPLES = r'''
- name: All host interfaces
  sysvirt.libvirt.host_interface_info:
  register: ifaces

- name: The interface with a given MAC
  sysvirt.libvirt.host_interface_info:
    mac: "02:fc:00:00:00:01"
'''

RETURN = r'''
interfaces:
  description: The interfaces found, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The interface name.
      type: str
      sample: eth0
    type:
      description: C(ethernet), C(bridge), C(bond) or C(vlan).
      type: str
    mac:
      description: The MAC address, or null.
      type: str
    mtu:
      description: The MTU, or null.
      type: int
    start_mode:
      description: C(onboot), C(hotplug), C(none), or null.
      type: str
    protocols:
      description: One per IP family - C(family), C(dhcp), C(autoconf), C(addresses) (C(address/prefix)).
      type: list
      elements: dict
    members:
      description: Member interfaces of a bridge or bond.
      type: list
      elements: str
    vlan_tag:
      description: The VLAN tag of a VLAN interface, or null.
      type: int
    vlan_parent:
      description: The interface a VLAN sits on, or null.
      type: str
    active:
      description: Whether the interface is up.
      type: bool
    xml:
      description: The XML description.
      returned: when O(xml=true)
      type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _interface
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, module_connection, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            name=dict(type='str'),
            mac=dict(type='str'),
            xml=dict(type='bool', default=False),
        )),
        mutually_exclusive=[('name', 'mac')],
        supports_check_mode=True,
    )
    require_libraries(module)
    params = module.params
    with module_connection(module) as conn:
        interfaces = _interface.list_interfaces(conn, name=params['name'], mac=params['mac'], with_xml=params['xml'])
    module.exit_json(changed=False, interfaces=interfaces)


if __name__ == '__main__':
    main()
