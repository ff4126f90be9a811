#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_interface
short_description: Manage the host's network interfaces through libvirt (ethernet, bridge, bond, VLAN)
version_added: 0.1.0
description:
  - Defines, starts, stops and removes host network interfaces through libvirt's interface driver, from a libvirt
    C(<interface>) document (types C(ethernet), C(bridge), C(bond), C(vlan)). The interface is found by O(name)
    (or the name of O(xml)), or by O(mac).
  - The definition is reconciled like every XML-defined object of this collection; only what the document says is
    compared.
  - Changes run inside libvirt's interface change transaction (O(transaction)) - begun before the first change,
    committed as soon as every libvirt call of the run succeeded, rolled back when one failed. A call that
    succeeds does not prove that the host is still reachable - by itself, a change that cuts the host off is
    committed like any other.
  - With O(confirm), the module checks before the commit that the hypervisor still answers a new connection
    (to O(confirm.uri)); when it does not within O(confirm.timeout) seconds, the change is rolled back and the
    task fails. When the change also cut off the module's own connection, neither the rollback nor the commit
    can reach the host - the transaction stays open and the host keeps the new configuration until someone
    rolls it back on the host (C(virsh iface-rollback)); netcf's boot-time service (C(netcf-transaction)), where
    the distribution runs it, restores the saved configuration at the next boot.
  - Only hosts whose libvirt has the netcf backend can change interfaces. Debian's and Ubuntu's libvirt is built
    with the udev backend, which only reads them; there the module fails with a message that says so (and
    M(sysvirt.libvirt.host_interface_info) still works).
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - The interface's name, for example V(br0). Required unless O(xml) names it or O(mac) finds it.
    type: str
  mac:
    description:
      - Find an existing interface by its MAC address instead of its name.
    type: str
  xml:
    description:
      - The interface's definition, a libvirt C(<interface>) document (parsed safely - no entities, no DTD).
        Required to define an interface.
    type: str
  state:
    description:
      - V(present) - defined (started or not, as it is). V(active) - defined and started. V(inactive) - defined
        and stopped. V(absent) - stopped and undefined.
    type: str
    choices: [present, active, inactive, absent]
    default: present
  transaction:
    description:
      - Wrap the changes of the run in libvirt's change transaction (begin, commit, roll back on failure).
    type: bool
    default: true
  confirm:
    description:
      - After the change and before the commit, check that the hypervisor still answers a new connection; roll
        back and fail when it does not. Needs O(transaction=true). Not done in check mode, nor when nothing
        changes.
    type: dict
    suboptions:
      uri:
        description:
          - The URI to open, with the module's O(username) and O(password). Default is the module's O(uri).
          - Give the address the controller reaches the host by over the network the change touches (for
            example V(qemu+ssh://kvm01.example.com/system)); a local URI such as V(qemu:///system) only proves
            that the daemon runs.
        type: str
      timeout:
        description:
          - Seconds to keep trying, counted after O(confirm.delay); each attempt is cut off when the time is up.
        type: int
        default: 30
      delay:
        description:
          - Seconds to wait after the change before the first attempt (for example for a bridge's STP delay).
        type: int
        default: 0
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
notes:
  - Check mode does not need the netcf backend, so on a read-only (udev) host it predicts changes that the real run
    then refuses.
seealso:
  - module: sysvirt.libvirt.host_interface_info
  - name: libvirt host interface XML format
    description: Ethernet, bridge, bond and VLAN interface documents.
    link: https://libvirt.org/formatnode.html
'''

EXAMPLES = r'''
- name: A bridge over eth1 with DHCP, started
  sysvirt.libvirt.host_interface:
    state: active
    xml: |
      <interface type='bridge' name='br1'>
        <start mode='onboot'/>
        <protocol family='ipv4'>
          <dhcp/>
        </protocol>
        <bridge stp='off' delay='0'>
          <interface type='ethernet' name='eth1'/>
        </bridge>
      </interface>

- name: VLAN 42 on eth0, defined but not started
  sysvirt.libvirt.host_interface:
    state: inactive
    xml: |
      <interface type='vlan' name='eth0.42'>
        <start mode='none'/>
        <vlan tag='42'>
          <interface name='eth0'/>
        </vlan>
      </interface>

- name: Move the host's address to a bridge; roll back unless the host still answers over the network
  sysvirt.libvirt.host_interface:
    uri: qemu+ssh://root@kvm01.example.com/system
    state: active
    xml: "{{ lookup('ansible.builtin.file', 'br0.xml') }}"
    confirm:
      uri: qemu+ssh://root@kvm01.example.com/system
      delay: 5
      timeout: 60

- name: Remove the bridge
  sysvirt.libvirt.host_interface:
    name: br1
    state: absent
'''

RETURN = r'''
interface:
  description: The interface after the run (in check mode, as it would be), keys as in
    RV(sysvirt.libvirt.host_interface_info#module:interfaces); null when absent.
  returned: always
  type: dict
  sample: {name: br1, type: bridge, mac: null, mtu: null, start_mode: onboot, members: [eth1], vlan_tag: null,
           vlan_parent: null, active: true, protocols: [{family: ipv4, dhcp: true, autoconf: false, addresses: []}]}
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [define, start]
differences:
  description: >-
    The parts of the stored definition that did not match the document, each item as in
    RV(sysvirt.libvirt.network#module:differences).
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _interface
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, exit_module, module_connection, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            name=dict(type='str'),
            mac=dict(type='str'),
            xml=dict(type='str'),
            state=dict(type='str', choices=['present', 'active', 'inactive', 'absent'], default='present'),
            transaction=dict(type='bool', default=True),
            confirm=dict(type='dict', options=dict(
                uri=dict(type='str'),
                timeout=dict(type='int', default=30),
                delay=dict(type='int', default=0),
            )),
        )),
        required_one_of=[('name', 'mac', 'xml')],
        mutually_exclusive=[('mac', 'xml')],
        supports_check_mode=True,
    )
    require_libraries(module)
    with module_connection(module) as conn:
        outcome, data = _interface.ensure(conn, module.params, module.check_mode)
    exit_module(module, outcome.result(interface=data, diff=outcome.diff(), warnings=outcome.warnings))


if __name__ == '__main__':
    main()
