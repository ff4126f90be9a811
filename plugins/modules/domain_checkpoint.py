#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_checkpoint
short_description: Create, redefine and delete checkpoints of libvirt guests (for incremental backups)
version_added: 0.1.0
description:
  - A checkpoint marks a point in time from which QEMU tracks the changed blocks of a guest's disks (a persistent
    dirty bitmap in each qcow2 image). An incremental backup (M(sysvirt.libvirt.domain_backup) with
    O(sysvirt.libvirt.domain_backup#module:incremental)) copies only the blocks changed since a checkpoint.
  - Checkpoints are found by O(name); one that exists is neither created again nor changed (a checkpoint cannot
    change after creation); a difference from the options is reported as a warning.
  - O(redefine=true) recreates libvirt's record of a checkpoint from the document libvirt wrote for it (for
    example after the guest was undefined and defined again, or migrated), so that the chain of checkpoints and
    the bitmaps in the images belong together again.
  - The guest must run (libvirt 9.0 and its QEMU driver refuse a checkpoint of a stopped guest, with a clean error;
    REDEFINE of a stopped guest's checkpoints works). Disks must be qcow2 images. A checkpoint is best created together with a backup
    (O(sysvirt.libvirt.domain_backup#module:checkpoint)); a checkpoint created alone starts tracking changes
    from now.
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - The checkpoint name. Required unless O(xml) has a C(<name>).
    type: str
  state:
    description:
      - V(present) creates (or with O(redefine=true) redefines) the checkpoint when none of that name exists.
      - V(absent) deletes it (see O(children), O(children_only), O(metadata_only)). It succeeds with no change
        when the checkpoint or the domain does not exist, so teardown runs again. Deleting a checkpoint merges
        its changed blocks into its parent's, so later incremental backups stay complete.
      - In check mode, a checkpoint of a domain that does not exist yet is predicted as created, with a warning
        that the prediction assumes an earlier task creates the domain.
    type: str
    choices: [present, absent]
    default: present
  description:
    description:
      - The checkpoint description (set at creation).
    type: str
  xml:
    description:
      - A complete C(<domaincheckpoint>) document instead of the structured options; O(name) and O(description)
        override its C(<name>) and C(<description>).
      - With O(redefine=true), the document libvirt wrote for the checkpoint (with C(<creationTime>), C(<parent>)
        and C(<disks>)), as RV(sysvirt.libvirt.domain_checkpoint_info#module:checkpoints[].xml) returns it.
    type: str
  disks:
    description:
      - Which disks the checkpoint tracks; disks not listed get libvirt's default (every qcow2 disk is tracked).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The disk's target (C(vda)).
        type: str
        required: true
      checkpoint:
        description: V(bitmap) tracks the disk's changes, V(no) leaves the disk out.
        type: str
        choices: [bitmap, 'no']
        default: bitmap
      bitmap:
        description: The name of the bitmap in the image (default the checkpoint name).
        type: str
  redefine:
    description:
      - Recreate libvirt's record of an existing checkpoint from O(xml) (libvirt's C(REDEFINE)) instead of creating
        a new one. The bitmaps must still be in the images.
    type: bool
    default: false
  validate:
    description:
      - With O(redefine=true), have libvirt check that the bitmaps of the checkpoint are present in the images
        (libvirt's C(REDEFINE_VALIDATE)).
    type: bool
    default: false
  quiesce:
    description:
      - Freeze the guest's filesystems through the QEMU guest agent while the checkpoint is created.
    type: bool
    default: false
  metadata_only:
    description:
      - With O(state=absent), delete only libvirt's record of the checkpoint and leave the bitmaps in the images
        (to move the chain elsewhere and O(redefine) it there).
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._domain_child
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
  - sysvirt.libvirt._attributes.LIFECYCLE
seealso:
  - module: sysvirt.libvirt.domain_checkpoint_info
  - module: sysvirt.libvirt.domain_backup
  - name: libvirt checkpoint XML format
    description: The C(<domaincheckpoint>) document.
    link: https://libvirt.org/formatcheckpoint.html
'''

EXAMPLES = r'''
- name: Start tracking the changes of vda (vdb left out)
  sysvirt.libvirt.domain_checkpoint:
    domain: web1
    name: weekly-base
    description: Start of the week
    disks:
      - name: vda
      - name: vdb
        checkpoint: 'no'

- name: Save the chain's records before the guest is undefined
  sysvirt.libvirt.domain_checkpoint_info:
    domain: web1
    full_xml: true
  register: chain

- name: Carry the chain over to the guest defined again (oldest first, so that parents exist)
  sysvirt.libvirt.domain_checkpoint:
    domain: web1
    xml: "{{ item.xml }}"
    redefine: true
  loop: "{{ chain.checkpoints }}"
  loop_control:
    label: "{{ item.name }}"

- name: Delete a checkpoint and everything after it
  sysvirt.libvirt.domain_checkpoint:
    domain: web1
    name: weekly-base
    state: absent
    children: true
'''

RETURN = r'''
checkpoint:
  description:
    - The checkpoint after the run (as in RV(sysvirt.libvirt.domain_checkpoint_info#module:checkpoints)); null
      for O(state=absent). In check mode, for a checkpoint that would be created, what the options say (its
      C(creation_time) null).
  returned: always
  type: dict
  sample:
    name: weekly-base
    description: Start of the week
    parent: null
    chain: []
    children: []
    creation_time: 1714550400
    disks: [{name: vda, checkpoint: bitmap, bitmap: weekly-base}, {name: vdb, checkpoint: 'no', bitmap: null}]
domain:
  description: The guest's name.
  returned: always
  type: str
deleted:
  description: Names of the checkpoints deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: str
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [create checkpoint weekly-base]
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
            state=dict(type='str', default='present', choices=['present', 'absent']),
            description=dict(type='str'),
            xml=dict(type='str'),
            disks=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                checkpoint=dict(type='str', default='bitmap', choices=['bitmap', 'no']),
                bitmap=dict(type='str'),
            )),
            redefine=dict(type='bool', default=False),
            validate=dict(type='bool', default=False),
            quiesce=dict(type='bool', default=False),
            children=dict(type='bool', default=False),
            children_only=dict(type='bool', default=False),
            metadata_only=dict(type='bool', default=False),
        )),
        mutually_exclusive=[('children', 'children_only'), ('xml', 'disks')],
        required_if=[('state', 'present', ('name', 'xml'), True),
                     ('state', 'absent', ('name',)),
                     ('redefine', True, ('xml',))],
        supports_check_mode=True,
    )
    require_libraries(module)
    _checkpoint.run_module(module)


if __name__ == '__main__':
    main()
