#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_job
short_description: Wait for or abort a guest's job, set a block job's speed, core-dump or save a guest to a file
version_added: 0.1.0
description:
  - Works on the jobs of one guest, the long operations libvirt runs one at a time per guest (a migration, a save,
    a core dump, a backup) and its block jobs (copy, commit, pull); P(sysvirt.libvirt.domain_job_info#module)
    reads them.
  - O(state=finished) waits until the running job ends (or, with O(disk), the disk's block job ends or is in
    sync), listening to libvirt's job and block-job events and re-reading the job at least every second; it
    never changes anything.
  - O(state=aborted) aborts the running job (C(virDomainAbortJob)) or, with O(disk), the disk's block job, and
    waits until it is gone. No job running is no change.
  - O(speed) sets the speed limit of the block job on O(disk).
  - O(dump) writes a core dump of the running guest to a file (ELF or kdump formats, memory only or QEMU's whole
    state). O(save) saves the running guest's memory to a file and stops it; restore it with
    P(sysvirt.libvirt.domain#module) O(sysvirt.libvirt.domain#module:restore). O(managed_save) removes the
    managed save image (made by P(sysvirt.libvirt.domain#module) O(sysvirt.libvirt.domain#module:state=saved))
    or redefines the domain definition inside it.
  - A dump or a save runs as the guest's job, so another task can follow it with
    P(sysvirt.libvirt.domain_job_info#module) or end it with O(state=aborted); this task samples its progress
    (RV(dump.progress)) and aborts it after O(timeout), removing the partial file.
author:
  - sysvirt developers (@sysvirt)
options:
  domain:
    description: The guest, by name or UUID.
    type: str
    required: true
  state:
    description:
      - V(finished) waits up to O(timeout) seconds for the job to end, and fails if it does not.
      - V(aborted) aborts the job if one runs. A memory-only dump cannot be aborted (libvirt refuses).
    type: str
    choices: [finished, aborted]
  disk:
    description:
      - The disk's target (V(vda)) whose block job O(state) and O(speed) work on, instead of the guest's job.
    type: str
  speed:
    description:
      - The speed limit of the block job on O(disk), in MiB/s (V(0) for none). The disk must have a block job.
    type: int
  timeout:
    description:
      - Seconds to wait for a job to end (O(state=finished)), for an aborted job to go, and for a dump or save to
        finish (then it is aborted).
    type: int
    default: 600
  dump:
    description:
      - Write a core dump of the running guest to a file on the hypervisor (C(virDomainCoreDumpWithFormat)).
      - Idempotent on the file, like C(creates) of P(ansible.builtin.command#module). A dump is a picture of one
        moment, so a file already at O(dump.path) is taken for it and nothing is done, unless O(dump.force=true),
        which dumps again at every run. The check for the file is made where the module runs; for a remote
        hypervisor, run the task on it.
    type: dict
    suboptions:
      path:
        description: The file to write (its directory must be writable by libvirt's QEMU user).
        type: path
        required: true
      format:
        description:
          - V(elf) (libvirt's raw format), or the kdump compressed formats V(kdump-zlib), V(kdump-lzo),
            V(kdump-snappy) (readable by C(crash)) and V(win-dmp) (a Windows guest's crash dump), as in
            C(virsh dump --format). Formats other than V(elf) need O(dump.memory_only=true); which ones work
            depends on the QEMU binary (Debian 12's QEMU 7.2 offers V(elf) and V(kdump-zlib); V(win-dmp) needs a
            Windows guest).
        type: str
        choices: [elf, kdump-zlib, kdump-lzo, kdump-snappy, win-dmp]
        default: elf
      memory_only:
        description:
          - Dump the guest's memory only, as an ELF core file for C(gdb) or C(crash) (or the O(dump.format)).
            Without it, libvirt writes QEMU's whole device state as a save stream, as C(virsh dump) does.
        type: bool
        default: false
      live:
        description: Leave the guest running during the dump (without it, libvirt pauses it while it dumps).
        type: bool
        default: false
      crash:
        description: Leave the guest crashed (powered off) after the dump.
        type: bool
        default: false
      reset:
        description: Reset the guest after the dump.
        type: bool
        default: false
      bypass_cache:
        description: Write around the host's file cache.
        type: bool
        default: false
      force:
        description: Dump even when a file exists at O(dump.path) (it is overwritten).
        type: bool
        default: false
  save:
    description:
      - Save the running guest's memory to a file on the hypervisor and stop it (C(virDomainSaveFlags)); restore
        it with P(sysvirt.libvirt.domain#module) O(sysvirt.libvirt.domain#module:restore).
      - Idempotent on the outcome, read through libvirt (so on a remote hypervisor too). A stopped guest whose
        image is in O(save.path) is saved already (no change). A stopped guest without an image there fails, since
        there is nothing to save. A running guest is saved, over an older image of itself too.
    type: dict
    suboptions:
      path:
        description: The file to write (its directory must be writable by libvirt's QEMU user).
        type: path
        required: true
      xml:
        description:
          - A domain definition to store in the image instead of the guest's (the same guest; only host-side
            details such as disk paths may differ). For a guest saved already, the definition in the image is
            redefined when it does not satisfy this one (C(virDomainSaveImageDefineXML)).
        type: str
      restore_state:
        description:
          - The state the guest comes back in when restored, V(running) or V(paused); by default the state it was
            saved in. Applied when it saves, and with O(save.xml) when it redefines.
        type: str
        choices: [running, paused]
      bypass_cache:
        description: Write around the host's file cache.
        type: bool
        default: false
      force:
        description:
          - Overwrite a file at O(save.path) that is not a save image of this guest. Such a file is looked for
            where the module runs; for a remote hypervisor, run the task on it.
        type: bool
        default: false
  managed_save:
    description:
      - The guest's managed save image (the one its next start restores).
    type: dict
    suboptions:
      state:
        description:
          - V(absent) removes the image (C(virDomainManagedSaveRemove)); the next start boots the guest afresh.
            No image is no change.
          - V(present) requires an image, and with O(managed_save.xml) redefines the domain definition inside it.
        type: str
        choices: [present, absent]
        default: present
      xml:
        description:
          - The domain definition the image should hold; redefined (C(virDomainManagedSaveDefineXML)) when the one
            inside does not satisfy it, compared as P(sysvirt.libvirt.domain#module) compares definitions.
        type: str
      restore_state:
        description: With O(managed_save.xml), the state the guest comes back in, V(running) or V(paused).
        type: str
        choices: [running, paused]
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
attributes:
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - O(state), O(speed), O(save) and O(managed_save) are idempotent. O(dump) is idempotent on the file at its
        path, and dumps at every run with O(dump.force=true).
notes:
  - Where the saving features live. P(sysvirt.libvirt.domain#module) owns the guest's power states, so the managed
    save (O(sysvirt.libvirt.domain#module:state=saved)) and restoring from a file
    (O(sysvirt.libvirt.domain#module:restore)) are there. Saving to a file, core dumps and the managed save image
    are jobs on the guest's memory, observed and aborted through the guest's job, so they are here, next to
    waiting for and aborting that job.
  - Check mode predicts every change from the guest's current job, block jobs, files and images; a wait
    (O(state=finished)) waits in check mode too, since it changes nothing.
  - A save or dump that fails or is aborted leaves no file that looks complete. libvirt marks a save image
    complete only at its end, and this module removes a partial file it created.
seealso:
  - module: sysvirt.libvirt.domain_job_info
  - module: sysvirt.libvirt.domain
  - module: sysvirt.libvirt.domain_block
  - module: sysvirt.libvirt.domain_migrate
'''

EXAMPLES = r'''
- name: Wait (up to an hour) for the migration or backup another task started on web1
  sysvirt.libvirt.domain_job:
    domain: web1
    state: finished
    timeout: 3600

- name: Abort whatever job web1 runs (a migration, a save, a dump, a backup)
  sysvirt.libvirt.domain_job:
    domain: web1
    state: aborted

- name: Cancel the block copy of vda, leaving the guest on its old image
  sysvirt.libvirt.domain_job:
    domain: web1
    disk: vda
    state: aborted

- name: Slow the block job on vdb down to 20 MiB/s
  sysvirt.libvirt.domain_job:
    domain: web1
    disk: vdb
    speed: 20

- name: Dump web1's memory for the crash utility (compressed), leaving it running
  sysvirt.libvirt.domain_job:
    domain: web1
    dump:
      path: /var/crash/web1.kdump
      format: kdump-zlib
      memory_only: true

- name: Save web1 to a file (it stops)
  sysvirt.libvirt.domain_job:
    domain: web1
    save:
      path: /var/lib/libvirt/save/web1.save
      restore_state: running

- name: Restore it later
  sysvirt.libvirt.domain:
    name: web1
    restore: /var/lib/libvirt/save/web1.save
    state: running

- name: Throw away web1's managed save image, so it boots afresh
  sysvirt.libvirt.domain_job:
    domain: web1
    managed_save:
      state: absent
'''

RETURN = r'''
job:
  description:
    - The guest's jobs after the run; keys as in RV(sysvirt.libvirt.domain_job_info#module:jobs) (without
      C(managed_save_xml)).
  returned: always
  type: dict
aborted:
  description: The job or block job that was aborted (or would be, in check mode), as it was just before.
  returned: when a job was aborted
  type: dict
waited:
  description: Seconds waited until the job ended (O(state=finished)).
  returned: when O(state=finished)
  type: float
completed:
  description: The guest's last completed job after the wait, as RV(sysvirt.libvirt.domain_job_info#module:jobs[].job).
  returned: when O(state=finished)
  type: dict
dump:
  description: The dump made (all null but C(path) in check mode or when the file was there).
  returned: when O(dump) is given
  type: dict
  contains:
    path:
      description: The file.
      type: str
    seconds:
      description: How long the dump took.
      type: float
    progress:
      description: Samples of its progress, each C(seconds), C(progress) (percent), C(data_processed), C(data_total).
      type: list
      elements: dict
    size:
      description: The file's size in bytes.
      type: int
    completed:
      description: libvirt's statistics of the finished job, as RV(sysvirt.libvirt.domain_job_info#module:jobs[].job).
      type: dict
save:
  description: The save made, with the keys of RV(dump) (all null but C(path) and C(size) when saved already).
  returned: when O(save) is given
  type: dict
differences:
  description: Where the definition inside a save image did not satisfy O(save.xml) or O(managed_save.xml).
  returned: when a definition in an image was compared and differed
  type: list
  elements: dict
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _job
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)


def main():
    restore_state = dict(type='str', choices=['running', 'paused'])
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            domain=dict(type='str', required=True),
            state=dict(type='str', choices=['finished', 'aborted']),
            disk=dict(type='str'),
            speed=dict(type='int'),
            timeout=dict(type='int', default=600),
            dump=dict(type='dict', options=dict(
                path=dict(type='path', required=True),
                format=dict(type='str', default='elf', choices=list(_job.DUMP_FORMATS)),
                memory_only=dict(type='bool', default=False),
                live=dict(type='bool', default=False),
                crash=dict(type='bool', default=False),
                reset=dict(type='bool', default=False),
                bypass_cache=dict(type='bool', default=False),
                force=dict(type='bool', default=False),
            )),
            save=dict(type='dict', options=dict(
                path=dict(type='path', required=True),
                xml=dict(type='str'),
                restore_state=restore_state,
                bypass_cache=dict(type='bool', default=False),
                force=dict(type='bool', default=False),
            )),
            managed_save=dict(type='dict', options=dict(
                state=dict(type='str', default='present', choices=['present', 'absent']),
                xml=dict(type='str'),
                restore_state=restore_state,
            )),
        )),
        required_one_of=[('state', 'speed', 'dump', 'save', 'managed_save')],
        mutually_exclusive=[('state', 'dump', 'save', 'managed_save'), ('disk', 'dump', 'save', 'managed_save')],
        required_by={'speed': 'disk'},
        supports_check_mode=True,
    )
    require_libraries(module)
    _job.run_module(module)


if __name__ == '__main__':
    main()
