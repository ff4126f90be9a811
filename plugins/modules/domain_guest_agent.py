#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_guest_agent
short_description: Use the QEMU guest agent of a libvirt guest (facts, filesystem freeze, passwords)
version_added: 0.1.0
description:
  - Through the QEMU guest agent running inside a guest, reads facts (OS, hostname, logged-in users, timezone,
    filesystems, disks, network interfaces), freezes or thaws the guest's filesystems, and sets a user's password.
  - Every agent call is bounded by O(timeout). A guest whose agent cannot answer gets one clear error saying why
    (not running, no agent channel in its definition, agent not connected, agent not responding), and nothing is
    changed.
author:
  - sysvirt developers (@sysvirt)
options:
  domain:
    description:
      - The guest, by name or UUID. It must be running.
    type: str
    required: true
  gather:
    description:
      - The facts to read; returned in RV(guest).
    type: list
    elements: str
    choices: [os, hostname, users, timezone, filesystems, disks, interfaces]
  frozen:
    description:
      - V(true) freezes the guest's filesystems (all, or O(mountpoints)); V(false) thaws them.
      - On QEMU guests the agent's freeze status is read first, so a second run changes nothing; where it cannot
        be read (other drivers) the request is always made and reported as a change.
    type: bool
  mountpoints:
    description:
      - With O(frozen=true), freeze only these mount points.
    type: list
    elements: str
  user_password:
    description:
      - Set the password of a user in the guest. A password cannot be read back, so this reports a change on
        every run.
    type: dict
    suboptions:
      user:
        description: The user.
        type: str
        required: true
      password:
        description: The password, in clear text, or crypted (see O(user_password.crypted)).
        type: str
        required: true
      crypted:
        description: O(user_password.password) is already crypted (as in C(/etc/shadow)).
        type: bool
        default: false
  timeout:
    description:
      - Seconds to wait for the agent to answer each call (at least 1).
    type: int
    default: 10
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
attributes:
  diff_mode:
    support: none
  idempotent:
    support: partial
    details: O(user_password) is set on every run; O(frozen) is idempotent where the freeze status can be read.
seealso:
  - module: sysvirt.libvirt.domain_snapshot
    description: Quiesced snapshots (O(sysvirt.libvirt.domain_snapshot#module:quiesce=true)) also use the agent.
  - name: QEMU guest agent
    description: The agent protocol.
    link: https://www.qemu.org/docs/master/interop/qemu-ga.html
'''

EXAMPLES = r'''
- name: What runs in the guest
  sysvirt.libvirt.domain_guest_agent:
    domain: web1
    gather: [os, hostname, users, filesystems, interfaces]
    timeout: 5
  register: agent

- name: Show the guest's OS
  ansible.builtin.debug:
    msg: "{{ agent.guest.os.pretty_name | default(agent.guest.os.name) }}"

- name: Freeze the filesystems before a storage-level snapshot
  sysvirt.libvirt.domain_guest_agent:
    domain: db1
    frozen: true

- name: Thaw them
  sysvirt.libvirt.domain_guest_agent:
    domain: db1
    frozen: false

- name: Set the root password
  sysvirt.libvirt.domain_guest_agent:
    domain: web1
    user_password:
      user: root
      password: "{{ vault_root_password }}"
'''

RETURN = r'''
domain:
  description: The guest's name.
  returned: always
  type: str
guest:
  description: The facts asked for in O(gather), as the agent reports them.
  returned: when O(gather) is not empty
  type: dict
  contains:
    os:
      description: OS identification (C(id), C(name), C(pretty_name), C(version), C(version_id),
        C(kernel_release), C(kernel_version), C(machine)).
      type: dict
    hostname:
      description: The hostname.
      type: str
    users:
      description: Logged-in users (C(name), C(domain), C(login_time)).
      type: list
      elements: dict
    timezone:
      description: C(name) and C(offset) (seconds east of UTC).
      type: dict
    filesystems:
      description: Mounted filesystems (C(mountpoint), C(name), C(fstype), sizes and C(disk) when known).
      type: list
      elements: dict
    disks:
      description: Disks the guest sees.
      type: list
      elements: dict
    interfaces:
      description: Network interfaces (C(name), C(hwaddr), C(addresses) with C(address), C(prefix), C(type)).
      type: list
      elements: dict
freeze_status:
  description: V(frozen) or V(thawed) after the run (null where it cannot be read).
  returned: when O(frozen) is set
  type: str
filesystems_changed:
  description: How many filesystems the agent froze or thawed.
  returned: when a freeze or thaw ran
  type: int
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _agent
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            domain=dict(type='str', required=True),
            gather=dict(type='list', elements='str',
                        choices=['os', 'hostname', 'users', 'timezone', 'filesystems', 'disks', 'interfaces']),
            frozen=dict(type='bool'),
            mountpoints=dict(type='list', elements='str'),
            user_password=dict(type='dict', no_log=False, options=dict(
                user=dict(type='str', required=True),
                password=dict(type='str', required=True, no_log=True),
                crypted=dict(type='bool', default=False),
            )),
            timeout=dict(type='int', default=10),
        )),
        required_one_of=[('gather', 'frozen', 'user_password')],
        supports_check_mode=True,
    )
    require_libraries(module)
    _agent.run_module(module)


if __name__ == '__main__':
    main()
