#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: volume_info
short_description: Read libvirt storage volumes
version_added: 0.1.0
description:
  - Lists the volumes of active storage pools (all, one pool, or one name), with their key, path, type,
    format, capacity, allocation and backing store; their XML on request.
  - Inactive pools are skipped when no O(pool) is given (libvirt cannot list their volumes).
author:
  - sysvirt developers (@sysvirt)
options:
  pool:
    description:
      - Only volumes of this pool (which must be active).
    type: str
  name:
    description:
      - Only volumes with this name.
    type: str
  xml:
    description:
      - Also return each volume's XML as RV(volumes[].xml).
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
seealso:
  - module: sysvirt.libvirt.volume
'''

EXAMPLES = r'''
- name: Volumes of one pool
  sysvirt.libvirt.volume_info:
    pool: images
  register: vols

- name: One volume with its XML
  sysvirt.libvirt.volume_info:
    pool: images
    name: web01.qcow2
    xml: true
'''

RETURN = r'''
volumes:
  description: The volumes, sorted by pool and name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Volume name.
      type: str
    key:
      description: Volume key.
      type: str
    path:
      description: Volume path.
      type: str
    pool:
      description: Pool name.
      type: str
    type:
      description: C(file), C(block), C(dir), C(network), C(netdir) or C(ploop).
      type: str
    format:
      description: Format (C(raw), C(qcow2), ...).
      type: str
    capacity:
      description: Capacity in bytes.
      type: int
    allocation:
      description: Allocated bytes.
      type: int
    backing_store:
      description: The backing file, or null.
      type: dict
      contains:
        path:
          description: Path of the backing file.
          type: str
        format:
          description: Its format.
          type: str
    xml:
      description: The volume's XML.
      returned: when O(xml=true)
      type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, module_connection, require_libraries,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._storage import list_volumes


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            pool=dict(type='str'),
            name=dict(type='str'),
            xml=dict(type='bool', default=False),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    p = module.params
    with module_connection(module) as conn:
        volumes = list_volumes(conn, p['pool'], p['name'], p['xml'])
    module.exit_json(changed=False, volumes=volumes)


if __name__ == '__main__':
    main()
