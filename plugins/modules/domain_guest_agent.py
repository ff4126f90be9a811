#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_guest_agent
short_description: Use the QEMU guest agent of a libvirt guest (facts, freeze, passwords, SSH keys, clock, suspend)
version_added: 0.1.0
description:
  - Through the QEMU guest agent running inside a guest, reads facts (OS, hostname, logged-in users, timezone,
    filesystems, disks, network interfaces), freezes or thaws the guest's filesystems, and sets a user's password.
  - Maintenance through the agent - trims the guest's filesystems (O(fstrim)), sets its clock (O(clock)), manages
    a user's authorized SSH keys (O(authorized_keys)), takes vCPUs online or offline inside the guest (O(vcpus)),
    and suspends the guest to RAM or disk (O(suspend)). The keys, the vCPUs, the clock and the suspended state are
    read first, so a second run changes nothing.
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
  fstrim:
    description:
      - Discard the unused blocks of every mounted filesystem of the guest (C(virDomainFSTrim)), so thin storage
        gives them back (the disk needs C(discard='unmap') in its C(<driver>)). The guest cannot tell what is left
        to trim, so this reports a change on every run.
      - libvirt's QEMU driver trims every filesystem; it cannot trim one mount point.
    type: dict
    suboptions:
      minimum:
        description: Skip free ranges smaller than this (V(1M), V(64 KiB); a bare number is bytes).
        type: str
  clock:
    description:
      - Set the guest's clock (C(virDomainSetTime)).
    type: dict
    suboptions:
      source:
        description:
          - V(host) sets it to the time of the host the module runs on, when the guest's clock is more than
            O(clock.tolerance) off (read with C(virDomainGetTime)); a second run changes nothing.
          - V(rtc) makes the guest read its hardware clock, which the hypervisor keeps (after a resume, for
            example); this reports a change on every run.
        type: str
        choices: [host, rtc]
        default: host
      tolerance:
        description: Seconds the guest's clock may be off before O(clock.source=host) sets it.
        type: float
        default: 2.0
  authorized_keys:
    description:
      - The authorized SSH keys of a user in the guest (C(virDomainAuthorizedSSHKeysGet) /
        C(virDomainAuthorizedSSHKeysSet)), read first, and changed only where they differ.
    type: dict
    suboptions:
      user:
        description: The user whose C(~/.ssh/authorized_keys) it is.
        type: str
        required: true
      public_keys:
        description: Public keys, one C(authorized_keys) line each.
        type: list
        elements: str
        required: true
      state:
        description:
          - V(present) adds the keys that are missing, V(absent) removes these keys, V(exact) leaves exactly these
            keys.
        type: str
        choices: [present, absent, exact]
        default: present
  vcpus:
    description:
      - Take the guest's vCPUs online or offline inside the guest (C(virDomainSetGuestVcpus)), as the guest's own
        CPU hotplug does; which vCPUs the guest has is its definition's business (M(sysvirt.libvirt.domain)).
      - Lists as libvirt writes CPU sets (V(1-3,5)). Read first (C(virDomainGetGuestVcpus)); a vCPU the guest cannot
        take offline (usually CPU 0) fails with the guest's list of those it can.
    type: dict
    suboptions:
      online:
        description: The vCPUs to have online.
        type: str
      offline:
        description: The vCPUs to have offline.
        type: str
  suspend:
    description:
      - Suspend the guest through its agent (C(virDomainPMSuspendForDuration)) to RAM (V(mem)), to disk (V(disk),
        hibernation, the guest powers off), or both (V(hybrid)), then wait up to O(timeout) until libvirt reports it
        suspended (or, for V(disk), off).
      - A guest already suspended (for V(disk), already off, with a warning that libvirt cannot tell hibernation
        from a shutdown) is left alone. A guest that cannot suspend fails with the agent's reason and a hint; one
        that accepts and does not get there within O(timeout) fails saying so.
      - Wake a guest suspended to RAM with M(sysvirt.libvirt.domain) O(sysvirt.libvirt.domain#module:state=running).
      - Runs alone, without the other options.
    type: str
    choices: [mem, disk, hybrid]
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
    details: >-
      O(user_password), O(fstrim) and O(clock.source=rtc) act on every run; O(frozen) is idempotent where the freeze
      status can be read; O(authorized_keys), O(vcpus), O(clock.source=host) and O(suspend) read first.
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

- name: Let the deploy key in as ansible, leaving the other keys alone
  sysvirt.libvirt.domain_guest_agent:
    domain: web1
    authorized_keys:
      user: ansible
      public_keys:
        - "{{ lookup('ansible.builtin.file', 'deploy_key.pub') }}"

- name: Give thin storage back and fix the clock after a restore
  sysvirt.libvirt.domain_guest_agent:
    domain: web1
    fstrim:
      minimum: 1M
    clock:
      source: host

- name: Take vCPU 3 offline inside the guest
  sysvirt.libvirt.domain_guest_agent:
    domain: web1
    vcpus:
      offline: '3'

- name: Suspend the guest to RAM
  sysvirt.libvirt.domain_guest_agent:
    domain: web1
    suspend: mem

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
guest_vcpus:
  description: The guest's vCPUs after the run (predicted in check mode), as the agent reports them.
  returned: when O(vcpus) is given
  type: dict
  contains:
    vcpus:
      description: The vCPUs the guest has.
      type: list
      elements: int
      sample: [0, 1]
    online:
      description: Those online.
      type: list
      elements: int
      sample: [0, 1]
    offlinable:
      description: Those the guest can take offline.
      type: list
      elements: int
      sample: [1]
authorized_keys:
  description: The user's authorized SSH keys after the run (predicted in check mode), spaces normalised.
  returned: when O(authorized_keys) is given
  type: dict
  contains:
    user:
      description: The user.
      type: str
      sample: ansible
    public_keys:
      description: The keys, sorted (the agent decides their order in the file).
      type: list
      elements: str
clock:
  description: The guest's clock after the run.
  returned: when O(clock) is given
  type: dict
  contains:
    offset:
      description: Seconds the guest's clock is ahead of the host the module runs on (negative when behind); 0 in
        check mode after a predicted set.
      type: float
      sample: 0.012
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
            fstrim=dict(type='dict', options=dict(
                minimum=dict(type='str'),
            )),
            clock=dict(type='dict', options=dict(
                source=dict(type='str', default='host', choices=['host', 'rtc']),
                tolerance=dict(type='float', default=2.0),
            )),
            authorized_keys=dict(type='dict', no_log=False, options=dict(
                user=dict(type='str', required=True),
                public_keys=dict(type='list', elements='str', required=True, no_log=False),
                state=dict(type='str', default='present', choices=['present', 'absent', 'exact']),
            )),
            vcpus=dict(type='dict', options=dict(
                online=dict(type='str'),
                offline=dict(type='str'),
            )),
            suspend=dict(type='str', choices=['mem', 'disk', 'hybrid']),
        )),
        required_one_of=[('gather', 'frozen', 'user_password', 'fstrim', 'clock', 'authorized_keys', 'vcpus',
                          'suspend')],
        mutually_exclusive=[('suspend', other) for other in ('gather', 'frozen', 'user_password', 'fstrim', 'clock',
                                                             'authorized_keys', 'vcpus')],
        supports_check_mode=True,
    )
    require_libraries(module)
    _agent.run_module(module)


if __name__ == '__main__':
    main()
