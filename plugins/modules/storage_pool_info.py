#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: storage_pool_info
short_description: Read libvirt storage pools, and discover pool sources
version_added: 0.1.0
description:
  - Lists storage pools (all, or one by name or UUID) with their state, type, target path, sizes, volume
    count, autostart and persistence; their XML on request.
  - Discovers the sources a pool type can use (C(virConnectFindStoragePoolSources)), for the types whose
    driver supports it (for example C(logical), C(netfs), C(iscsi)).
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - Only the pool with this name.
    type: str
  uuid:
    description:
      - Only the pool with this UUID.
    type: str
  xml:
    description:
      - Also return each pool's stored definition as RV(storage_pools[].xml).
    type: bool
    default: false
  discover:
    description:
      - Discover pool sources of a type, returned as RV(discovered).
    type: dict
    suboptions:
      type:
        description:
          - The pool type, for example V(logical), V(netfs), V(iscsi).
        type: str
        required: true
      source_xml:
        description:
          - A C(<source>) document narrowing the search (for V(netfs) and V(iscsi), the host to ask).
        type: str
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
seealso:
  - module: sysvirt.libvirt.storage_pool
'''

EXAMPLES = r'''
- name: All pools
  sysvirt.libvirt.storage_pool_info:
  register: pools

- name: One pool with its definition
  sysvirt.libvirt.storage_pool_info:
    name: default
    xml: true

- name: Volume groups that a logical pool could use
  sysvirt.libvirt.storage_pool_info:
    discover:
      type: logical

- name: NFS exports of a server
  sysvirt.libvirt.storage_pool_info:
    discover:
      type: netfs
      source_xml: "<source><host name='nfs.example.com'/></source>"
'''

RETURN = r'''
storage_pools:
  description: The pools, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Pool name.
      type: str
    uuid:
      description: Pool UUID.
      type: str
    type:
      description: Pool type.
      type: str
      sample: dir
    state:
      description: C(inactive), C(building), C(running), C(degraded) or C(inaccessible).
      type: str
    active:
      description: Whether the pool is started.
      type: bool
    persistent:
      description: Whether the pool has a persistent definition.
      type: bool
    autostart:
      description: Whether the pool starts with libvirtd.
      type: bool
    capacity:
      description: Capacity in bytes.
      type: int
    allocation:
      description: Allocated bytes.
      type: int
    available:
      description: Free bytes.
      type: int
    target_path:
      description: Target path, if the type has one.
      type: str
    volume_count:
      description: Number of volumes; null while inactive.
      type: int
    xml:
      description: The stored (inactive) definition.
      returned: when O(xml=true)
      type: str
discovered:
  description: The discovered sources.
  returned: when O(discover) is given
  type: dict
  contains:
    type:
      description: The pool type searched.
      type: str
    sources:
      description: One entry per source found.
      type: list
      elements: dict
      contains:
        hosts:
          description: Host names.
          type: list
          elements: str
        devices:
          description: Device paths.
          type: list
          elements: str
        dirs:
          description: Directories (exports).
          type: list
          elements: str
        name:
          description: Source name (volume group, ...).
          type: str
        format:
          description: Source format.
          type: str
        adapter:
          description: Adapter attributes (SCSI).
          type: dict
        xml:
          description: The C(<source>) element, ready for a pool definition.
          type: str
    xml:
      description: libvirt's answer as text.
      type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, exit_module, module_connection, require_libraries,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._storage import discover_sources, list_pools


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            name=dict(type='str'),
            uuid=dict(type='str'),
            xml=dict(type='bool', default=False),
            discover=dict(type='dict', options=dict(
                type=dict(type='str', required=True),
                source_xml=dict(type='str'),
            )),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    p = module.params
    result = dict(changed=False)
    with module_connection(module) as conn:
        result['storage_pools'] = list_pools(conn, p['name'], p['uuid'], p['xml'])
        if p['discover']:
            result['discovered'] = discover_sources(conn, p['discover']['type'], p['discover']['source_xml'])
    exit_module(module, result)


if __name__ == '__main__':
    main()
