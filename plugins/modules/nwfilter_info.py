#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: nwfilter_info
short_description: List libvirt network filters and filter bindings
version_added: 0.1.0
description:
  - Returns the network filters of a libvirt host (all, or one by name or UUID) with their chain, priority, a
    summary of their rules and the filters they reference, and the filter bindings (which port is bound to which
    filter).
  - The definitions themselves on request (O(xml)).
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - Only the filter of this name (and the bindings to it).
    type: str
  uuid:
    description:
      - Only the filter of this UUID (and the bindings to it).
    type: str
  xml:
    description:
      - Also return each filter's definition.
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
seealso:
  - module: sysvirt.libvirt.nwfilter
'''

EXAMPLES = r'''
- name: All filters and bindings
  sysvirt.libvirt.nwfilter_info:
  register: filters

- name: Names of the filters clean-traffic references
  ansible.builtin.debug:
    msg: "{{ (filters.nwfilters | selectattr('name', 'eq', 'clean-traffic') | first).references | map(attribute='filter') }}"

- name: One filter with its definition
  sysvirt.libvirt.nwfilter_info:
    name: clean-traffic
    xml: true
  register: clean_traffic
'''

RETURN = r'''
nwfilters:
  description: The filters found, sorted by name; empty when none matches.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The filter's name.
      type: str
      sample: clean-traffic
    uuid:
      description: The filter's UUID.
      type: str
    chain:
      description: The chain the filter's rules go into (C(root), C(ipv4), C(arp), C(mac) ...), or null.
      type: str
      sample: root
    priority:
      description: The filter's priority in its chain, or null when libvirt's default applies.
      type: int
    rule_count:
      description: The number of rules.
      type: int
    rules:
      description: The rules - C(action), C(direction), C(priority), C(statematch) and C(protocols) (each a
        C(protocol) element name and its C(attributes)).
      type: list
      elements: dict
      sample: [{action: accept, direction: in, priority: 100, statematch: null,
                protocols: [{protocol: tcp, attributes: {dstportstart: '22'}}]}]
    references:
      description: The filters this one references (C(filterref)), with their C(parameters).
      type: list
      elements: dict
      sample: [{filter: no-mac-spoofing, parameters: {}}]
    xml:
      description: The definition.
      returned: when O(xml=true)
      type: str
bindings:
  description: The filter bindings (of the selected filter, or all), sorted by port device.
  returned: always
  type: list
  elements: dict
  contains:
    port_dev:
      description: The port's device name.
      type: str
      sample: vnet0
    mac:
      description: The port's MAC address, lower case.
      type: str
    owner_name:
      description: The owner's (normally a guest's) name.
      type: str
    owner_uuid:
      description: The owner's UUID.
      type: str
    filter:
      description: The bound filter's name.
      type: str
    parameters:
      description: The filter parameters of the binding.
      type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _nwfilter
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, module_connection, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            name=dict(type='str'),
            uuid=dict(type='str'),
            xml=dict(type='bool', default=False),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    params = module.params
    with module_connection(module) as conn:
        filters = _nwfilter.list_filters(conn, name=params['name'], uuid=params['uuid'], with_xml=params['xml'])
        selected = params['name'] or params['uuid']
        if selected and not filters:
            bindings = []
        else:
            bindings = _nwfilter.list_bindings(conn, filters[0]['name'] if selected else None)
    module.exit_json(changed=False, nwfilters=filters, bindings=bindings)


if __name__ == '__main__':
    main()
