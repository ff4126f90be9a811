#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_checkpoint_info
short_description: List the checkpoints of a libvirt guest, with their parent chain
version_added: 0.1.0
description:
  - Returns the checkpoints of one guest, oldest first, each with its parent, its chain of ancestors up to the
    root, its children and the disks it tracks; and the newest leaf (the checkpoint the next incremental backup
    usually starts from).
author:
  - sysvirt developers (@sysvirt)
options:
  xml:
    description:
      - Also return each checkpoint's XML document (without the embedded domain definition).
    type: bool
    default: false
  full_xml:
    description:
      - Also return each checkpoint's complete XML document, with the guest's definition at the time it was taken (what
        O(sysvirt.libvirt.domain_checkpoint#module:redefine) needs to carry the chain over).
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._domain_child.INFO
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
seealso:
  - module: sysvirt.libvirt.domain_checkpoint
  - module: sysvirt.libvirt.domain_backup
'''

EXAMPLES = r'''
- name: All checkpoints of web1
  sysvirt.libvirt.domain_checkpoint_info:
    domain: web1
  register: cps

- name: The chain below the newest checkpoint
  ansible.builtin.debug:
    msg: "{{ (cps.checkpoints | selectattr('name', 'equalto', cps.leaf) | first).chain }}"
  when: cps.leaf is not none
'''

RETURN = r'''
domain:
  description: The guest's name.
  returned: always
  type: str
leaf:
  description: The newest checkpoint that has no children (the one libvirt makes the parent of the next), or null.
  returned: always
  type: str
checkpoints:
  description: The checkpoints, oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The name.
      type: str
    description:
      description: The description, or null.
      type: str
    parent:
      description: The parent checkpoint's name, or null for a root.
      type: str
    chain:
      description: The ancestors, from the parent up to the root.
      type: list
      elements: str
    children:
      description: Names of the direct children.
      type: list
      elements: str
    creation_time:
      description: Creation time, seconds since the epoch.
      type: int
    disks:
      description: Per disk, C(name), C(checkpoint) (V(bitmap) or V(no)) and the C(bitmap) name.
      type: list
      elements: dict
    xml:
      description: The checkpoint's XML document (complete with O(full_xml=true)).
      returned: when O(xml=true) or O(full_xml=true)
      type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _checkpoint
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            domain=dict(type='str', required=True),
            name=dict(type='str'),
            prefix=dict(type='str'),
            xml=dict(type='bool', default=False),
            full_xml=dict(type='bool', default=False),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    _checkpoint.run_info(module)


if __name__ == '__main__':
    main()
