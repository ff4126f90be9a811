#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_block
short_description: Grow a guest's disk live, set its I/O limits, run block copy / commit / pull jobs
version_added: 0.1.0
description:
  - Works on one disk of a guest, given by its target (C(vda)).
  - O(size) grows the disk of a running guest (libvirt's block resize); a disk already at least that large is left
    alone (never shrunk unless O(allow_shrink=true)).
  - O(iotune) sets I/O limits (libvirt's block I/O tune) live and/or in the persistent definition; only the
    limits given are compared and set.
  - O(job) runs a block job and waits for it, driven by libvirt's block-job events, with progress samples in the
    result. V(copy) mirrors the disk to a new image and (O(job.pivot)) switches the guest to it; V(commit) merges
    an overlay into its backing image (the active image, then switching to the base); V(pull) copies the
    backing chain into the top image so it stands alone.
  - Jobs are idempotent on their outcome. A copy whose destination already is the disk's image does nothing;
    so does a commit or pull on a disk without backing chain.
author:
  - sysvirt developers (@sysvirt)
options:
  domain:
    description:
      - The guest, by name or UUID.
    type: str
    required: true
  disk:
    description:
      - The disk's target device name (C(<target dev>), for example V(vda)).
    type: str
    required: true
  size:
    description:
      - The wanted capacity, as bytes or with a unit (V(20GiB), V(512M)). Needs the guest running.
    type: str
  allow_shrink:
    description:
      - Allow O(size) to shrink the disk (data at the end is lost).
    type: bool
    default: false
  iotune:
    description:
      - I/O limits to set; V(0) removes a limit. Limits not given are left as they are.
    type: dict
    suboptions:
      total_bytes_sec:
        description: Total throughput limit in bytes per second.
        type: int
      read_bytes_sec:
        description: Read throughput limit in bytes per second.
        type: int
      write_bytes_sec:
        description: Write throughput limit in bytes per second.
        type: int
      total_iops_sec:
        description: Total I/O operations per second.
        type: int
      read_iops_sec:
        description: Read I/O operations per second.
        type: int
      write_iops_sec:
        description: Write I/O operations per second.
        type: int
      total_bytes_sec_max:
        description: Burst total throughput in bytes per second.
        type: int
      read_bytes_sec_max:
        description: Burst read throughput in bytes per second.
        type: int
      write_bytes_sec_max:
        description: Burst write throughput in bytes per second.
        type: int
      total_iops_sec_max:
        description: Burst total I/O operations per second.
        type: int
      read_iops_sec_max:
        description: Burst read I/O operations per second.
        type: int
      write_iops_sec_max:
        description: Burst write I/O operations per second.
        type: int
      size_iops_sec:
        description: Bytes counted as one I/O operation.
        type: int
  live:
    description:
      - Set O(iotune) on the running guest. Default V(true) when it runs.
    type: bool
  persistent:
    description:
      - Set O(iotune) in the persistent definition too.
    type: bool
    default: true
  job:
    description:
      - A block job to run on the disk of the running guest, waited for.
    type: dict
    suboptions:
      type:
        description: V(copy), V(commit) or V(pull).
        type: str
        required: true
        choices: [copy, commit, pull]
      destination:
        description: The new image of a V(copy) (a file, or a block device C(/dev/...)); required for V(copy).
        type: path
      format:
        description: The destination's format for V(copy) (for example V(qcow2)).
        type: str
      shallow:
        description: V(copy) only the top image (the destination then needs the same backing chain; see
          O(job.reuse_external)).
        type: bool
        default: false
      reuse_external:
        description: V(copy) into an existing destination image (pre-created, for example with its backing file).
        type: bool
        default: false
      base:
        description: For V(commit), the image to commit into (default the top's immediate backing image); for
          V(pull), the image to stop at (default the whole chain).
        type: path
      top:
        description: For V(commit), the image to commit (default the active image, which makes an active commit).
        type: path
      pivot:
        description: After a V(copy) or an active V(commit) is in sync, switch the guest to the new image. With
          V(false), the job is left mirroring (status V(ready)).
        type: bool
        default: true
      bandwidth:
        description: Bandwidth limit in MiB/s (V(0) for none).
        type: int
        default: 0
      timeout:
        description: Seconds to wait for the job. On timeout the module fails and the job keeps running.
        type: int
        default: 600
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
attributes:
  diff_mode:
    support: none
seealso:
  - module: sysvirt.libvirt.domain_device
  - module: sysvirt.libvirt.domain_snapshot
notes:
  - A V(copy) of a persistent guest runs as libvirt's transient job; after the switch the persistent definition
    still names the old image, and a warning says so.
'''

EXAMPLES = r'''
- name: Grow vda of a running guest to 40 GiB
  sysvirt.libvirt.domain_block:
    domain: web1
    disk: vda
    size: 40GiB

- name: Limit vdb to 50 MB/s and 500 IOPS, live and persistent
  sysvirt.libvirt.domain_block:
    domain: web1
    disk: vdb
    iotune:
      total_bytes_sec: 50000000
      total_iops_sec: 500

- name: Move vda to new storage while the guest runs
  sysvirt.libvirt.domain_block:
    domain: web1
    disk: vda
    job:
      type: copy
      destination: /srv/fast/web1-vda.qcow2
      format: qcow2
      bandwidth: 200
  register: moved

- name: Merge the external snapshot overlay back into its base
  sysvirt.libvirt.domain_block:
    domain: web1
    disk: vda
    job:
      type: commit

- name: Make the overlay stand alone
  sysvirt.libvirt.domain_block:
    domain: web1
    disk: vda
    job:
      type: pull
'''

RETURN = r'''
domain:
  description: The guest's name.
  returned: always
  type: str
disk:
  description: The disk after the run.
  returned: always
  type: dict
  contains:
    target:
      description: The target device name.
      type: str
    source:
      description: The image the guest uses.
      type: str
    backing_chain:
      description: Backing images below it, top first (running guests).
      type: list
      elements: str
    capacity:
      description: Capacity in bytes (running guests).
      type: int
    allocation:
      description: Allocated bytes (running guests).
      type: int
    physical:
      description: Physical size in bytes (running guests).
      type: int
    iotune:
      description: The live I/O limits (running guests).
      type: dict
job:
  description: The block job run, when one ran.
  returned: when a job ran
  type: dict
  contains:
    type:
      description: V(copy), V(commit) or V(pull).
      type: str
    status:
      description: V(completed), or V(ready) for a copy/active commit left mirroring.
      type: str
    seconds:
      description: How long it took.
      type: float
    progress:
      description: Samples of the job's progress while it ran (C(seconds), C(cur), C(end) in bytes).
      type: list
      elements: dict
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _block
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            domain=dict(type='str', required=True),
            disk=dict(type='str', required=True),
            size=dict(type='str'),
            allow_shrink=dict(type='bool', default=False),
            iotune=dict(type='dict', options=dict(
                total_bytes_sec=dict(type='int'),
                read_bytes_sec=dict(type='int'),
                write_bytes_sec=dict(type='int'),
                total_iops_sec=dict(type='int'),
                read_iops_sec=dict(type='int'),
                write_iops_sec=dict(type='int'),
                total_bytes_sec_max=dict(type='int'),
                read_bytes_sec_max=dict(type='int'),
                write_bytes_sec_max=dict(type='int'),
                total_iops_sec_max=dict(type='int'),
                read_iops_sec_max=dict(type='int'),
                write_iops_sec_max=dict(type='int'),
                size_iops_sec=dict(type='int'),
            )),
            live=dict(type='bool'),
            persistent=dict(type='bool', default=True),
            job=dict(type='dict', options=dict(
                type=dict(type='str', required=True, choices=['copy', 'commit', 'pull']),
                destination=dict(type='path'),
                format=dict(type='str'),
                shallow=dict(type='bool', default=False),
                reuse_external=dict(type='bool', default=False),
                base=dict(type='path'),
                top=dict(type='path'),
                pivot=dict(type='bool', default=True),
                bandwidth=dict(type='int', default=0),
                timeout=dict(type='int', default=600),
            ), required_if=[('type', 'copy', ('destination',))]),
        )),
        required_one_of=[('size', 'iotune', 'job')],
        supports_check_mode=True,
    )
    require_libraries(module)
    _block.run_module(module)


if __name__ == '__main__':
    main()
