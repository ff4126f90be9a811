#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_event_wait
short_description: Wait for an event of a libvirt guest (agent connected, block job finished, device removed ...)
version_added: 0.1.0
description:
  - Waits until libvirt reports an event of one guest, of the type given in O(event), whose decoded fields match
    O(match), or until O(timeout) seconds have passed. For playbook steps that must wait for something other than a
    power state, which M(sysvirt.libvirt.domain) already waits for.
  - The module registers for the event with libvirt and sleeps until it arrives; it does not poll.
  - Events are decoded as the C(sysvirt.libvirt.libvirt_events) event source decodes them (the same names), so a
    O(match) written for a playbook also reads right in a rulebook condition.
  - Only events that arrive while the task runs count. An event that happened before the task started is not
    seen; to wait for the result of an action, start the wait first (C(async) with C(poll=0)), then run the action,
    then collect the wait with M(ansible.builtin.async_status), as the examples do. O(ready_path) tells the play
    when the wait is listening.
author:
  - sysvirt developers (@sysvirt)
options:
  domain:
    description:
      - The guest, by name or UUID.
    type: str
    required: true
  event:
    description:
      - The event type, as libvirt names it (C(VIR_DOMAIN_EVENT_ID_*), lower case). For example V(lifecycle)
        (started, stopped, suspended ...), V(agent_lifecycle) (the guest agent connected or disconnected),
        V(block_job_2) (a block job on a disk, by target name, completed, failed, was cancelled or is ready to
        pivot), V(device_removed), V(device_added), V(job_completed) (a migration, backup, save or dump finished),
        V(tray_change), V(io_error_reason), V(watchdog), V(reboot).
      - Types this host's libvirt-python does not offer fail with a message saying so.
    type: str
    required: true
    choices: [agent_lifecycle, balloon_change, block_job, block_job_2, block_threshold, control_error, device_added,
              device_removal_failed, device_removed, disk_change, graphics, io_error, io_error_reason, job_completed,
              lifecycle, memory_device_size_change, memory_failure, metadata_change, migration_iteration,
              nic_mac_change, pmsuspend, pmsuspend_disk, pmwakeup, reboot, rtc_change, tray_change, tunable,
              watchdog]
  match:
    description:
      - The fields the event must have; the first event of type O(event) that matches ends the wait. Without it,
        the first event of that type does.
      - Keys are C(event) and C(detail) (see RV(event.event)), or keys of RV(event.data), for example C(state) and
        C(reason) (agent_lifecycle), C(disk), C(job_type) and C(status) (block jobs), C(dev_alias) (devices),
        C(operation) (job_completed). Values compare as text; a list matches any of its values.
    type: dict
  timeout:
    description:
      - Seconds to wait.
    type: int
    default: 60
  fail_on_timeout:
    description:
      - Fail when no matching event came in O(timeout) seconds. With V(false), the module succeeds and
        RV(timed_out) says so.
    type: bool
    default: true
  ready_path:
    description:
      - A file on the managed host that the module creates (empty) as soon as it is registered with libvirt for
        the event, so a wait started with C(async) and C(poll=0) can be awaited with M(ansible.builtin.wait_for)
        before the action it watches runs. Without it, an action that runs before the wait has registered is not
        seen; a fixed pause only makes that less likely.
      - A file already at this path is removed when the module starts, so a file from an earlier run never counts.
        The module leaves the file in place when it ends; remove it when you no longer need it.
      - It is created in check mode too, as a signal the task asked for, not a change to the hypervisor.
    type: path
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
attributes:
  idempotent:
    support: full
    details: It only waits; it changes nothing.
seealso:
  - name: libvirt's domain event types
    description: What each event type means (C(virDomainEventID)). The collection's C(libvirt_events) event source
      delivers the same events to Event-Driven Ansible rulebooks.
    link: https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainEventID
  - module: sysvirt.libvirt.domain_block
    description: Starts the block jobs whose end this module can wait for.
'''

EXAMPLES = r'''
- name: Start waiting for the guest agent, without blocking
  sysvirt.libvirt.domain_event_wait:
    domain: web1
    event: agent_lifecycle
    match:
      state: connected
    timeout: 180
    ready_path: /tmp/web1-agent-wait.ready
  async: 200
  poll: 0
  register: agent_wait

- name: Wait until the wait listens
  ansible.builtin.wait_for:
    path: /tmp/web1-agent-wait.ready
    timeout: 60

- name: Start the guest
  sysvirt.libvirt.domain:
    name: web1
    state: running

- name: Collect the wait (the agent connected)
  ansible.builtin.async_status:
    jid: "{{ agent_wait.ansible_job_id }}"
  register: agent
  until: agent.finished
  retries: 200
  delay: 1

- name: A block copy of vdb finished (or failed)
  sysvirt.libvirt.domain_event_wait:
    domain: db1
    event: block_job_2
    match:
      disk: vdb
      status: [completed, failed, canceled]
    timeout: 3600
  register: job

- name: Say how it ended
  ansible.builtin.debug:
    msg: "block job on {{ job.event.data.disk }}: {{ job.event.data.status }}"

- name: Wait for a hot-unplugged disk to leave, without failing on timeout
  sysvirt.libvirt.domain_event_wait:
    domain: db1
    event: device_removed
    match:
      dev_alias: virtio-disk1
    timeout: 30
    fail_on_timeout: false
  register: removed
'''

RETURN = r'''
domain:
  description: The guest's name.
  returned: always
  type: str
  sample: web1
event:
  description:
    - The event that ended the wait; null when none came (RV(timed_out)).
    - The same record the C(libvirt_events) event source emits.
  returned: always
  type: dict
  contains:
    uri:
      description: The connection's URI.
      type: str
    hostname:
      description: The hypervisor's host name.
      type: str
    kind:
      description: Always V(domain).
      type: str
    type:
      description: The event type (O(event)).
      type: str
    name:
      description: The guest's name.
      type: str
    uuid:
      description: The guest's UUID.
      type: str
    timestamp:
      description: When the module received the event (ISO 8601, UTC).
      type: str
    event:
      description:
        - The event's main value as a name. V(lifecycle) events give the event (V(defined), V(undefined),
          V(started), V(suspended), V(resumed), V(stopped), V(shutdown), V(pmsuspended), V(crashed)); block jobs
          their status; V(agent_lifecycle) the agent's state; V(job_completed) the operation; V(watchdog) and
          V(io_error) the action; null for types without one.
      type: str
    detail:
      description: The lifecycle event's detail as a name (V(destroyed), V(booted), V(ioerror) ...).
      type: str
    data:
      description: Every value libvirt gave with the event, decoded to names, plus the numeric codes.
      type: dict
  sample:
    uri: qemu:///system
    hostname: kvm01
    kind: domain
    type: agent_lifecycle
    name: web1
    uuid: 6695eb01-f6a4-8304-79aa-97f2502e193f
    timestamp: '2026-01-01T12:00:00.000000Z'
    event: connected
    detail: null
    data: {state: connected, reason: channel}
events:
  description: Every event of type O(event) the guest had while the module waited, matching or not, in the shape
    of one RV(event).
  returned: always
  type: list
  elements: dict
timed_out:
  description: No matching event came within O(timeout).
  returned: always
  type: bool
elapsed:
  description: Seconds the module waited.
  returned: always
  type: float
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _event_wait
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            domain=dict(type='str', required=True),
            event=dict(type='str', required=True, choices=[
                'agent_lifecycle', 'balloon_change', 'block_job', 'block_job_2', 'block_threshold', 'control_error',
                'device_added', 'device_removal_failed', 'device_removed', 'disk_change', 'graphics', 'io_error',
                'io_error_reason', 'job_completed', 'lifecycle', 'memory_device_size_change', 'memory_failure',
                'metadata_change', 'migration_iteration', 'nic_mac_change', 'pmsuspend', 'pmsuspend_disk',
                'pmwakeup', 'reboot', 'rtc_change', 'tray_change', 'tunable', 'watchdog']),
            match=dict(type='dict'),
            timeout=dict(type='int', default=60),
            fail_on_timeout=dict(type='bool', default=True),
            ready_path=dict(type='path'),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    _event_wait.run_module(module)


if __name__ == '__main__':
    main()
