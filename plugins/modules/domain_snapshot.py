#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_snapshot
short_description: Create, revert to and delete snapshots of libvirt guests, with retention
version_added: 0.1.0
description:
  - Takes a snapshot of a guest (internal or external, disk-only or with the memory state, quiesced through the
    guest agent when asked), reverts a guest to a snapshot, deletes snapshots (one, with its descendants, only
    its descendants, or only libvirt's metadata), and keeps only the newest N snapshots whose names start with a
    prefix.
  - Snapshots are found by O(name); a snapshot that exists is not taken again. Its content cannot change after
    creation; only its O(description) is updated (through libvirt's redefine). Other differences are reported
    as a warning.
  - O(state=reverted) always reports a change, since libvirt cannot tell whether a guest already is in the state
    of a snapshot.
  - On libvirt older than 9.9 QEMU guests cannot revert to, or delete (except O(metadata_only=true)), external
    snapshots; libvirt then fails with a clear message.
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - The snapshot name. Required for O(state=present) unless O(xml) has a C(<name>), and for O(state=absent)
        unless only O(retention) is wanted.
      - With O(state=reverted), the snapshot to revert to; the guest's current snapshot when omitted.
    type: str
  state:
    description:
      - V(present) takes the snapshot when no snapshot of that name exists.
      - V(absent) deletes it (see O(children), O(children_only), O(metadata_only)). It succeeds with no change
        when the snapshot or the domain does not exist, so teardown runs again.
      - In check mode, a snapshot of a domain that does not exist yet is predicted as taken, with a warning that
        the prediction assumes an earlier task creates the domain.
      - V(reverted) reverts the guest to the snapshot; see O(after).
    type: str
    choices: [present, absent, reverted]
    default: present
  description:
    description:
      - The snapshot description. Updated on an existing snapshot when it differs.
    type: str
  xml:
    description:
      - A complete C(<domainsnapshot>) document instead of the structured options; O(name) and O(description)
        override its C(<name>) and C(<description>).
    type: str
  location:
    description:
      - V(internal) keeps the snapshot inside the guest's qcow2 images (and the memory state inside the first one
        when the guest runs); V(external) writes the disk changes to new overlay files from then on.
      - V(external) applies to the disks listed in O(disks), or, when O(disks) is not given, to every writable
        disk of the guest (read from its current definition); read-only drives such as CD-ROMs are left out.
      - V(external) needs O(disk_only=true) (the disks only) or O(memory=true) with O(memory_file) (the disks and
        the memory state) - libvirt takes an external snapshot in no other form, so anything else fails before
        any change, in check mode too.
      - Ignored with O(xml).
    type: str
    choices: [internal, external]
    default: internal
  memory:
    description:
      - Whether to save the memory state of a running guest. V(false) for a snapshot of the disks only.
      - With O(location=external), needs O(memory_file).
      - By default libvirt chooses (memory included for running guests, except with O(disk_only=true)).
    type: bool
  memory_file:
    description:
      - Where an external snapshot saves the memory state.
    type: path
  disk_only:
    description:
      - Take an external disk-only snapshot (no memory state; the guest keeps running on the new overlays).
    type: bool
    default: false
  disks:
    description:
      - Per disk choices; disks not listed get libvirt's default for the snapshot.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The disk's target (C(vda)) or source path.
        type: str
        required: true
      snapshot:
        description: V(no) leaves the disk out; V(internal) / V(external) / V(manual) as libvirt knows them.
          Default is O(location).
        type: str
        choices: [internal, external, 'no', manual]
      file:
        description: The overlay file of an external disk snapshot (default generated next to the image).
        type: path
      format:
        description: The overlay's format (for example V(qcow2)).
        type: str
  quiesce:
    description:
      - Freeze the guest's filesystems through the QEMU guest agent while the snapshot is taken. Needs
        O(disk_only=true) and a guest agent that answers; fails otherwise.
    type: bool
    default: false
  live:
    description:
      - For external snapshots with memory, keep the guest running while the memory is saved.
    type: bool
    default: false
  halt:
    description:
      - Stop the guest once the snapshot is taken.
    type: bool
    default: false
  reuse_external:
    description:
      - Reuse existing overlay files given in O(disks) (libvirt's C(REUSE_EXT)).
    type: bool
    default: false
  after:
    description:
      - The power state the guest ends in after O(state=reverted); default that of the snapshot.
      - V(shutoff) stops the guest after the revert, if it runs.
    type: str
    choices: [running, paused, shutoff]
  force:
    description:
      - Revert even when libvirt considers it risky (libvirt's C(REVERT_FORCE)).
    type: bool
    default: false
  metadata_only:
    description:
      - Delete only libvirt's record of the snapshot (also for O(retention)), leaving the disk data.
    type: bool
    default: false
  retention:
    description:
      - After the O(state) action, keep only the newest O(retention.keep) snapshots whose names start with
        O(retention.prefix) and delete the older ones (by creation time).
    type: dict
    suboptions:
      prefix:
        description: Only snapshots whose names start with this take part.
        type: str
        required: true
      keep:
        description: How many to keep.
        type: int
        required: true
extends_documentation_fragment:
  - sysvirt.libvirt._domain_child
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
  - sysvirt.libvirt._attributes.LIFECYCLE
attributes:
  idempotent:
    support: partial
    details: O(state=reverted) reverts, and reports a change, on every run.
seealso:
  - module: sysvirt.libvirt.domain_snapshot_info
  - name: libvirt snapshot XML format
    description: The C(<domainsnapshot>) document.
    link: https://libvirt.org/formatsnapshot.html
'''

EXAMPLES = r'''
- name: Internal snapshot (qcow2 disks), with the memory state when the guest runs
  sysvirt.libvirt.domain_snapshot:
    domain: web1
    name: before-upgrade
    description: Before the upgrade to 2.0

- name: External disk-only snapshot, quiesced through the guest agent
  sysvirt.libvirt.domain_snapshot:
    domain: db1
    name: nightly-2024-05-01
    disk_only: true
    location: external
    quiesce: true
    disks:
      - name: vda
        file: /var/lib/libvirt/images/db1.nightly-2024-05-01.qcow2
        format: qcow2

- name: Nightly snapshot, keeping the newest seven
  sysvirt.libvirt.domain_snapshot:
    domain: web1
    name: "nightly-{{ now(utc=true, fmt='%Y%m%d') }}"
    retention:
      prefix: nightly-
      keep: 7

- name: Revert to the snapshot and leave the guest paused
  sysvirt.libvirt.domain_snapshot:
    domain: web1
    name: before-upgrade
    state: reverted
    after: paused

- name: Revert to the current snapshot
  sysvirt.libvirt.domain_snapshot:
    domain: web1
    state: reverted

- name: Delete a snapshot and all its descendants
  sysvirt.libvirt.domain_snapshot:
    domain: web1
    name: before-upgrade
    state: absent
    children: true
'''

RETURN = r'''
snapshot:
  description:
    - The snapshot after the run (as in RV(sysvirt.libvirt.domain_snapshot_info#module:snapshots)); null for
      O(state=absent). In check mode, for a snapshot that would be created, what the options say.
  returned: always
  type: dict
  sample:
    name: before-upgrade
    description: Before the upgrade to 2.0
    state: running
    parent: null
    children: []
    current: true
    creation_time: 1714550400
    location: internal
    disk_only: false
    memory: internal
    memory_file: null
    disks: [{name: vda, snapshot: internal, file: null, format: null}]
domain:
  description: The guest's name.
  returned: always
  type: str
current:
  description: The name of the guest's current snapshot after the run, or null (also null in check mode when
    something would change).
  returned: always
  type: str
deleted:
  description: Names of the snapshots deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: str
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [create snapshot before-upgrade]
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
            state=dict(type='str', default='present', choices=['present', 'absent', 'reverted']),
            description=dict(type='str'),
            xml=dict(type='str'),
            location=dict(type='str', default='internal', choices=['internal', 'external']),
            memory=dict(type='bool'),
            memory_file=dict(type='path'),
            disk_only=dict(type='bool', default=False),
            disks=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                snapshot=dict(type='str', choices=['internal', 'external', 'no', 'manual']),
                file=dict(type='path'),
                format=dict(type='str'),
            )),
            quiesce=dict(type='bool', default=False),
            live=dict(type='bool', default=False),
            halt=dict(type='bool', default=False),
            reuse_external=dict(type='bool', default=False),
            after=dict(type='str', choices=['running', 'paused', 'shutoff']),
            force=dict(type='bool', default=False),
            children=dict(type='bool', default=False),
            children_only=dict(type='bool', default=False),
            metadata_only=dict(type='bool', default=False),
            retention=dict(type='dict', options=dict(
                prefix=dict(type='str', required=True),
                keep=dict(type='int', required=True),
            )),
        )),
        mutually_exclusive=[('children', 'children_only'), ('xml', 'disks'), ('xml', 'memory_file')],
        required_if=[('state', 'present', ('name', 'xml', 'retention'), True),
                     ('state', 'absent', ('name', 'retention'), True)],
        supports_check_mode=True,
    )
    require_libraries(module)
    _snapshot.run_module(module)


if __name__ == '__main__':
    main()
