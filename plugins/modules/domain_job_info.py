#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_job_info
short_description: Read the jobs of libvirt guests (migration, save, dump, backup, block jobs) and their disk errors
version_added: 0.1.0
description:
  - Returns, per guest, its current job (type, operation, progress, data processed and remaining, elapsed time,
    downtime of a migration) decoded to names, its last completed job, its block jobs, the disks with an I/O
    error and whether it has a managed save image.
  - Never changes anything. The last completed job is read so that other readers still find it (libvirt's
    C(VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED)).
author:
  - sysvirt developers (@sysvirt)
options:
  domain:
    description:
      - Only this guest, by name or UUID (it must exist). Without it, every guest of the connection.
    type: str
  running_only:
    description:
      - Only guests with a job or a block job running.
    type: bool
    default: false
  managed_save_xml:
    description:
      - Also return the domain definition inside each guest's managed save image (RV(jobs[].managed_save_xml)).
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
seealso:
  - module: sysvirt.libvirt.domain_job
  - module: sysvirt.libvirt.domain_block
  - module: sysvirt.libvirt.domain_migrate
'''

EXAMPLES = r'''
- name: Read the job of one guest
  sysvirt.libvirt.domain_job_info:
    domain: web1
  register: web1_job

- name: Show its progress
  ansible.builtin.debug:
    msg: "{{ web1_job.jobs[0].job.operation }}: {{ web1_job.jobs[0].job.progress }} %"
  when: web1_job.jobs[0].job.active

- name: Every guest with a job running on the host
  sysvirt.libvirt.domain_job_info:
    running_only: true
  register: busy

- name: Guests with disk errors (a full disk pauses a guest with error_policy=stop)
  ansible.builtin.debug:
    msg: "{{ busy.jobs | selectattr('disk_errors') | map(attribute='domain') | list }}"
'''

RETURN = r'''
jobs:
  description: One entry per guest, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    domain:
      description: The guest's name.
      type: str
    uuid:
      description: The guest's UUID.
      type: str
    active:
      description: Whether the guest runs (a stopped guest has no job).
      type: bool
    job:
      description: The current job; C(type) is V(none) and the amounts null when there is none.
      type: dict
      contains:
        type:
          description:
            - V(none), V(bounded) (its end is known), V(unbounded); for a completed job V(completed), V(failed)
              or V(cancelled); V(unknown) on a driver that reports no jobs (libvirt's test driver).
          type: str
        active:
          description: Whether a job runs (C(type) V(bounded) or V(unbounded)).
          type: bool
        operation:
          description:
            - What the job does, V(save), V(restore), V(dump), V(migration_out), V(migration_in), V(backup),
              V(snapshot), V(snapshot_revert), V(snapshot_delete), V(start) or V(unknown); null when the driver
              does not say.
          type: str
        progress:
          description: Percent done (data, or memory when the job has no data total), null when unknown.
          type: float
        data_total:
          description: Bytes the job moves in all, null when unknown.
          type: int
        data_processed:
          description: Bytes moved so far.
          type: int
        data_remaining:
          description: Bytes left.
          type: int
        memory_total:
          description: Guest memory the job moves, in bytes.
          type: int
        memory_processed:
          description: Memory bytes moved so far.
          type: int
        memory_remaining:
          description: Memory bytes left.
          type: int
        disk_total:
          description: Disk bytes the job moves (a migration with storage, a backup).
          type: int
        disk_processed:
          description: Disk bytes moved so far.
          type: int
        disk_remaining:
          description: Disk bytes left.
          type: int
        elapsed_ms:
          description: Milliseconds since the job started.
          type: int
        remaining_ms:
          description: libvirt's estimate of the milliseconds left, when it has one.
          type: int
        downtime_ms:
          description: The guest's downtime in milliseconds (expected while a migration runs, real once completed).
          type: int
        setup_ms:
          description: Milliseconds spent setting the job up (migrations).
          type: int
        error:
          description: The error message of a failed completed job.
          type: str
        stats:
          description: Every statistic libvirt gave, under libvirt's names (C(virDomainGetJobStats)).
          type: dict
    last_completed:
      description:
        - The guest's last completed job since libvirtd started (a migration, save or dump), in the shape of
          RV(jobs[].job); C(type) V(none) when libvirt keeps none.
      type: dict
    block_jobs:
      description: The block jobs running on the guest's disks (copy, commit, pull, backup).
      type: list
      elements: dict
      contains:
        disk:
          description: The disk's target (V(vda)).
          type: str
        type:
          description: V(pull), V(copy), V(commit), V(active_commit), V(backup) or V(unknown).
          type: str
        bandwidth:
          description: Its speed limit in MiB/s, V(0) for none.
          type: int
        cur:
          description: Bytes done.
          type: int
        end:
          description: Bytes in all.
          type: int
        progress:
          description: Percent done, null before the job knows its end.
          type: float
        ready:
          description: Whether a copy or active commit is in sync (waits for a pivot or an abort).
          type: bool
    disk_errors:
      description:
        - The disks with an I/O error libvirt recorded, by target, V(unspec) or V(no_space)
          (C(virDomainGetDiskErrors)); empty when there is none or the guest is stopped.
      type: dict
    managed_save:
      description: Whether the guest has a managed save image (its next start restores it).
      type: bool
    managed_save_xml:
      description: The domain definition in the managed save image (null without one), without secrets.
      returned: when O(managed_save_xml=true)
      type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _job
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            domain=dict(type='str'),
            running_only=dict(type='bool', default=False),
            managed_save_xml=dict(type='bool', default=False),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    _job.run_info(module)


if __name__ == '__main__':
    main()
