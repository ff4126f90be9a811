#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_snapshot_info
short_description: List the snapshots of a libvirt guest, with their tree
version_added: 0.1.0
description:
  - Returns the snapshots of one guest, oldest first, with parent, children, the current flag, location
    (internal or external), memory and per-disk details, and the whole snapshot tree.
author:
  - sysvirt developers (@sysvirt)
options:
  xml:
    description:
      - Also return each snapshot's XML document.
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._domain_child.INFO
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
seealso:
  - module: sysvirt.libvirt.domain_snapshot
'''

EXAMPLES = r'''
- name: All snapshots of web1
  sysvirt.libvirt.domain_snapshot_info:
    domain: web1
  register: snaps

- name: Names of the nightly snapshots, oldest first
  ansible.builtin.debug:
    msg: "{{ snaps.snapshots | selectattr('name', 'match', 'nightly-') | map(attribute='name') }}"
'''

RETURN = r'''
domain:
  description: The guest's name.
  returned: always
  type: str
current:
  description: The name of the current snapshot, or null.
  returned: always
  type: str
snapshots:
  description: The snapshots, oldest first.
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
    state:
      description: The guest state captured (V(running), V(shutoff), V(disk-snapshot), ...).
      type: str
    parent:
      description: The parent snapshot's name, or null for a root.
      type: str
    children:
      description: Names of the direct children.
      type: list
      elements: str
    current:
      description: Whether this is the guest's current snapshot.
      type: bool
    creation_time:
      description: Creation time, seconds since the epoch.
      type: int
    location:
      description: V(internal) or V(external).
      type: str
    disk_only:
      description: Whether it holds disks only (no memory, state V(disk-snapshot)).
      type: bool
    memory:
      description: How the memory state is kept (V(no), V(internal), V(external)), or null.
      type: str
    memory_file:
      description: The memory state file of an external snapshot, or null.
      type: str
    disks:
      description: Per disk, C(name), C(snapshot) mode, overlay C(file) and C(format).
      type: list
      elements: dict
    xml:
      description: The snapshot's XML document.
      returned: when O(xml=true)
      type: str
tree:
  description: All snapshots as a tree from the roots down, each node C(name), C(current) and C(children).
  returned: always
  type: list
  elements: dict
  sample: [{name: base, current: false, children: [{name: after-update, current: true, children: []}]}]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _snapshot
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
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    _snapshot.run_info(module)


if __name__ == '__main__':
    main()
