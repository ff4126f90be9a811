#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: nwfilter
short_description: Manage libvirt network filters and their port bindings
version_added: 0.1.0
description:
  - Defines, changes and removes libvirt network filters (C(nwfilter)), the firewall rules libvirt applies to
    guest network ports, and binds a filter to ports (filter bindings).
  - The filter is found by O(name) or O(uuid) (or the name and C(<uuid>) of O(xml)). Its definition is
    reconciled like every XML-defined object of this collection - only what the document says is compared,
    the UUID of an existing filter is carried over, and rules (C(<rule>)) and references (C(<filterref>)) that
    are stored but not in the document are removed.
  - A filter binding ties this filter to one port device (a guest's tap device), with the port's MAC address,
    its owner (the guest's name and UUID) and filter parameters. A port has at most one binding, and libvirt
    cannot change one; a binding that differs from O(bindings) is deleted and created again. Bindings are
    normally made by libvirt itself when a guest with a filtered interface starts; manage them here for ports
    libvirt does not create (for example, ports of other software).
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - The filter's name. Required unless O(uuid) or O(xml) names the filter.
    type: str
  uuid:
    description:
      - The filter's UUID; looks the filter up by it when O(name) is not given. Given together with O(name),
        both must identify the same filter, or the run fails and changes nothing.
    type: str
  xml:
    description:
      - The filter's definition, a libvirt C(<filter>) document (parsed safely - no entities, no DTD).
      - Required to create a filter. Without it, O(state=present) only checks that the filter exists (and manages
        O(bindings)).
    type: str
  state:
    description:
      - V(present) defines the filter (and makes O(bindings) as listed); V(absent) deletes the O(bindings) listed
        (whatever their own O(bindings[].state)) and then undefines the filter. libvirt refuses to remove a filter
        that a guest or another filter still uses.
    type: str
    choices: [present, absent]
    default: present
  bindings:
    description:
      - Ports this filter is (or is not) bound to. Ports not listed are left alone.
    type: list
    elements: dict
    default: []
    suboptions:
      port_dev:
        description: The port's device name (a tap device, for example V(vnet3)). Identifies the binding.
        type: str
        required: true
      mac:
        description: The MAC address of the port. Quote it in YAML (an unquoted C(52:54:00:00:00:07) is a number).
        type: str
        required: true
      owner_name:
        description: The name of the owner of the port (normally a guest).
        type: str
        required: true
      owner_uuid:
        description: The UUID of the owner of the port.
        type: str
        required: true
      parameters:
        description: Filter parameters (name to value), for example C(IP) for C(clean-traffic).
        type: dict
        default: {}
      state:
        description: Whether this port is bound to this filter. V(absent) deletes the port's binding only when it is
          one of this filter.
        type: str
        choices: [present, absent]
        default: present
      replace:
        description: When the port is bound to another filter, replace that binding (otherwise the module fails).
        type: bool
        default: false
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
notes:
  - The test driver (C(test:///default)) has no network filters; use a real daemon.
seealso:
  - module: sysvirt.libvirt.nwfilter_info
  - name: libvirt network filter XML format
    description: Rules, chains, priorities and references of network filters.
    link: https://libvirt.org/formatnwfilter.html
'''

EXAMPLES = r'''
- name: Allow SSH and ping in, drop the rest, on top of clean-traffic
  sysvirt.libvirt.nwfilter:
    name: ssh-and-ping-only
    xml: |
      <filter name='ssh-and-ping-only' chain='root'>
        <filterref filter='clean-traffic'/>
        <rule action='accept' direction='in' priority='100'>
          <tcp dstportstart='22'/>
        </rule>
        <rule action='accept' direction='in' priority='200'>
          <icmp/>
        </rule>
        <rule action='drop' direction='inout' priority='1000'>
          <all/>
        </rule>
      </filter>

- name: Bind it to the tap device of a port managed outside libvirt
  sysvirt.libvirt.nwfilter:
    name: ssh-and-ping-only
    bindings:
      - port_dev: tap-app1
        mac: '52:54:00:12:34:56'
        owner_name: app1
        owner_uuid: 6b1c3f04-2d7e-4b43-9a0b-3fb4c1d8e2a1
        parameters:
          IP: 192.0.2.10

- name: Remove the binding, keep the filter
  sysvirt.libvirt.nwfilter:
    name: ssh-and-ping-only
    bindings:
      - port_dev: tap-app1
        mac: '52:54:00:12:34:56'
        owner_name: app1
        owner_uuid: 6b1c3f04-2d7e-4b43-9a0b-3fb4c1d8e2a1
        state: absent

- name: Remove the filter
  sysvirt.libvirt.nwfilter:
    name: ssh-and-ping-only
    state: absent
'''

RETURN = r'''
nwfilter:
  description: The filter after the run (in check mode, as it would be); null when absent. Keys as in
    M(sysvirt.libvirt.nwfilter_info)'s RV(sysvirt.libvirt.nwfilter_info#module:nwfilters).
  returned: always
  type: dict
  sample:
    name: ssh-and-ping-only
    uuid: 0e4a0d10-1d0a-4ad5-9d36-c43e1f2e8c70
    chain: root
    priority: -700
    rule_count: 3
    rules: [{action: accept, direction: in, priority: 100, statematch: null,
             protocols: [{protocol: tcp, attributes: {dstportstart: '22'}}]}]
    references: [{filter: clean-traffic, parameters: {}}]
bindings:
  description: >-
    The bindings of this filter after the run (in check mode, as they would be), sorted by port, each as in
    RV(sysvirt.libvirt.nwfilter_info#module:bindings).
  returned: always
  type: list
  elements: dict
  sample: [{port_dev: tap-app1, mac: '52:54:00:12:34:56', owner_name: app1,
            owner_uuid: 6b1c3f04-2d7e-4b43-9a0b-3fb4c1d8e2a1, filter: ssh-and-ping-only,
            parameters: {IP: 192.0.2.10}}]
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [define, create binding tap-app1]
differences:
  description: >-
    The parts of the stored definition that did not match the document, each item as in
    RV(sysvirt.libvirt.network#module:differences).
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _nwfilter
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, exit_module, module_connection, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            name=dict(type='str'),
            uuid=dict(type='str'),
            xml=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            bindings=dict(type='list', elements='dict', default=[], options=dict(
                port_dev=dict(type='str', required=True),
                mac=dict(type='str', required=True),
                owner_name=dict(type='str', required=True),
                owner_uuid=dict(type='str', required=True),
                parameters=dict(type='dict', default={}),
                state=dict(type='str', choices=['present', 'absent'], default='present'),
                replace=dict(type='bool', default=False),
            )),
        )),
        required_one_of=[('name', 'uuid', 'xml')],
        supports_check_mode=True,
    )
    require_libraries(module)
    with module_connection(module) as conn:
        outcome, data, bindings = _nwfilter.ensure(conn, module.params, module.check_mode)
    exit_module(module, outcome.result(nwfilter=data, bindings=bindings, diff=outcome.diff(),
                                       warnings=outcome.warnings))


if __name__ == '__main__':
    main()
