#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_backup
short_description: Full and incremental backups of running libvirt guests (push to files or pool volumes, pull over NBD), with retention
version_added: 0.1.0
description:
  - O(mode=push) copies the disks of a running guest into image files in O(directory), one per disk
    (C(<directory>/<disk>.<format>)), while the guest runs; a full backup copies every block, an incremental one
    (O(incremental)) only the blocks changed since a checkpoint. A checkpoint can be created in the same job
    (O(checkpoint)), to start the next incremental from. The module waits for libvirt's job-completed event and
    reports the bytes transferred and the duration.
  - With O(pool) instead of O(directory), the images are volumes of that storage pool, C(<name>.<disk>.<format>),
    which the module creates (sized from the disk, in O(format)) and libvirt writes into; the manifest is a volume
    C(<name>.backup.json). Everything said of directories below holds for O(pool) and O(name) the same way.
  - When the backup is complete, a manifest C(backup.json) is written into O(directory), last. A directory that
    holds a complete backup is not backed up again (that makes the task idempotent); a directory without the
    manifest holds no complete backup. A backup that fails, or does not finish within O(timeout) and is aborted,
    removes its files, its directory (when it made it) and its checkpoint, so nothing half-written is left.
  - The images of an incremental backup have the images of the backup made at the checkpoint it starts from
    (found in a directory next to O(directory), by its manifest) as backing files, so that every image is the whole
    disk at its point in time; C(qemu-img convert) of it restores that point (see the backup guide).
  - O(mode=pull) exports the disks over NBD (a UNIX socket or a loopback address) for an external backup tool, with
    scratch files holding the blocks the guest overwrites meanwhile; O(state=absent) ends the export.
  - O(retention) of O(mode=push) keeps the newest backups of the guest in the directories next to O(directory), and every backup a
    kept one needs (an incremental needs the backups down to its full backup); the others are deleted with their
    checkpoints.
  - The module reads and writes the backup files itself, so it runs on the hypervisor host (O(uri) such as
    C(qemu:///system); delegate the task to the host). It needs C(qemu-img).
  - libvirt backs up running guests only, with QEMU 6.0 or later (libvirt reports C(<backup supported='yes'/>) in
    C(virsh domcapabilities)); incremental backups need qcow2 disks.
author:
  - sysvirt developers (@sysvirt)
options:
  domain:
    description:
      - The guest, by name or UUID. It must run.
    type: str
    required: true
  state:
    description:
      - V(present) takes the backup (O(mode=push)) or starts the export (O(mode=pull); unchanged when a backup job
        already runs).
      - V(absent) ends the guest's running backup job (the NBD export of O(mode=pull), or a push backup still
        running); unchanged when there is none.
    type: str
    choices: [present, absent]
    default: present
  mode:
    description:
      - V(push) writes the backup into files; V(pull) exports the disks over NBD.
    type: str
    choices: [push, pull]
    default: push
  directory:
    description:
      - O(mode=push), the directory of this backup (this or O(pool) is required) (made when missing; its parent must exist). Keep each backup in a
        directory of its own under one directory per guest, for example C(/srv/backup/web1/2024-05-01), so that incremental
        backups and O(retention) find the others there.
      - O(mode=pull), where scratch files go when O(scratch_directory) is not set.
    type: path
  pool:
    description:
      - O(mode=push), back up into volumes of this storage pool (active), instead of files in O(directory). The
        volumes are C(<name>.<disk>.<format>) and the manifest C(<name>.backup.json); O(retention) and incremental
        backups look for the guest's other backups in the same pool.
      - The module creates the volumes; if one of them exists without a complete backup (the manifest), the task
        fails before any change.
    type: str
  name:
    description:
      - With O(pool), the name of this backup in the pool (what O(directory) is for a backup into files), for
        example C(web1-20240501).
    type: str
  format:
    description:
      - The format of the image files (or volumes) of a push backup. Incremental backups need V(qcow2).
    type: str
    choices: [qcow2, raw]
    default: qcow2
  incremental:
    description:
      - Copy only the blocks changed since this checkpoint (an incremental backup); a full backup when not set.
    type: str
  checkpoint:
    description:
      - Create a checkpoint of this name in the same job, to start a later incremental backup from. It must not
        exist yet (the task fails before any change otherwise).
    type: str
  checkpoint_description:
    description:
      - The description of the checkpoint O(checkpoint).
    type: str
  disks:
    description:
      - The disks to back up. When not set, every writable disk (CD-ROMs, floppies and read-only disks left out).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The disk's target (C(vda)).
        type: str
        required: true
      backup:
        description: V(false) leaves the disk out.
        type: bool
        default: true
      file:
        description: O(mode=push), the image file to write instead of C(<directory>/<name>.<format>).
        type: path
      format:
        description: O(mode=push), this disk's image format instead of O(format).
        type: str
        choices: [qcow2, raw]
      scratch:
        description: O(mode=pull), the scratch file of this disk.
        type: path
  nbd:
    description:
      - O(mode=pull), where the NBD server listens, a UNIX socket (O(nbd.socket)) or a loopback TCP port.
    type: dict
    suboptions:
      socket:
        description: The path of the UNIX socket.
        type: path
      host:
        description: The address to listen on (TCP).
        type: str
        default: localhost
      port:
        description: The TCP port.
        type: int
  scratch_directory:
    description:
      - O(mode=pull), where scratch files are made (C(<domain>.<disk>.scratch)); default O(directory), else
        C(/var/lib/libvirt/images).
    type: path
  timeout:
    description:
      - Seconds to wait for a push backup (or the end of an export). A push backup still running then is aborted;
        its files and checkpoint are removed and the task fails.
    type: int
    default: 3600
  retention:
    description:
      - After a push backup, keep the newest O(retention.keep) complete backups of the guest found in the directories
        next to O(directory) (or in O(pool)) by their manifests, and every backup a kept incremental one needs; delete the others
        (manifest first, then files or volumes) and their checkpoints.
      - After a pull export is started (or found running), keep the newest O(retention.keep) checkpoints of the
        guest whose names start with O(retention.prefix) (the checkpoint O(checkpoint) of this export counts), and
        the checkpoint the running export starts from (O(incremental)); delete the others, oldest first. libvirt
        merges a deleted checkpoint's record of changed blocks into its parent's, so an incremental backup from
        any kept checkpoint stays whole.
    type: dict
    suboptions:
      keep:
        description: How many backups (O(mode=push)) or checkpoints (O(mode=pull)) to keep, 1 or more.
        type: int
        required: true
      prefix:
        description:
          - O(mode=pull), only the checkpoints whose names start with this count (and are deleted); every checkpoint
            of the guest when not set. O(mode=push) finds its backups by their manifests and ignores it.
        type: str
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
attributes:
  idempotent:
    support: partial
    details: A push backup into a directory that holds a complete backup does nothing; a pull export that runs is
      left alone.
seealso:
  - module: sysvirt.libvirt.domain_checkpoint
  - module: sysvirt.libvirt.domain_checkpoint_info
  - name: libvirt backup XML format
    description: The C(<domainbackup>) document.
    link: https://libvirt.org/formatbackup.html
  - name: Backups guide
    description: Nightly incremental, weekly full, and restore to a new guest.
    link: https://github.com/sysvirt/libvirt/blob/main/docs/guides/backup.md
'''

EXAMPLES = r'''
- name: Weekly full backup, starting a new chain
  sysvirt.libvirt.domain_backup:
    domain: web1
    directory: "/srv/backup/web1/{{ now(utc=true, fmt='%Y%m%d') }}-full"
    checkpoint: "web1-{{ now(utc=true, fmt='%Y%m%d') }}"
    timeout: 7200
  register: full

- name: Nightly incremental since the newest checkpoint, keeping two weeks
  sysvirt.libvirt.domain_backup:
    domain: web1
    directory: "/srv/backup/web1/{{ now(utc=true, fmt='%Y%m%d') }}"
    incremental: "{{ last_checkpoint }}"
    checkpoint: "web1-{{ now(utc=true, fmt='%Y%m%d') }}"
    retention:
      keep: 14
  vars:
    last_checkpoint: web1-20240501

- name: Full backup into volumes of the storage pool backups (made as web1-20240501.vda.qcow2)
  sysvirt.libvirt.domain_backup:
    domain: web1
    pool: backups
    name: web1-20240501
    checkpoint: web1-20240501
    retention:
      keep: 7

- name: Export vda over NBD for a backup tool
  sysvirt.libvirt.domain_backup:
    domain: web1
    mode: pull
    nbd:
      socket: /run/web1-backup.sock
    scratch_directory: /var/lib/libvirt/images
    disks:
      - name: vda

- name: Export vda since the newest checkpoint, keeping the last 7 nightly checkpoints
  sysvirt.libvirt.domain_backup:
    domain: web1
    mode: pull
    nbd:
      socket: /run/web1-backup.sock
    incremental: nightly-20240501
    checkpoint: nightly-20240502
    retention:
      keep: 7
      prefix: nightly-

- name: End the export
  sysvirt.libvirt.domain_backup:
    domain: web1
    mode: pull
    nbd:
      socket: /run/web1-backup.sock
    state: absent
'''

RETURN = r'''
backup:
  description:
    - O(mode=push), the backup (its manifest); in check mode what would be written, with null numbers.
  returned: when O(mode=push) and O(state=present)
  type: dict
  contains:
    domain:
      description: The guest's name.
      type: str
    uuid:
      description: The guest's UUID.
      type: str
    mode:
      description: V(push).
      type: str
    complete:
      description: Always true (the manifest is written when the backup is complete).
      type: bool
    kind:
      description: V(full) or V(incremental).
      type: str
    since:
      description: The checkpoint an incremental backup starts from, or null.
      type: str
    checkpoint:
      description: The checkpoint created with the backup, or null.
      type: str
    directory:
      description: The backup's directory (null for a backup into a pool).
      type: str
    pool:
      description: The storage pool of a backup into volumes (null for a backup into a directory).
      type: str
    name:
      description: The backup's name in O(pool) (null for a backup into a directory).
      type: str
    disks:
      description: Per disk, C(name), the image C(file), its C(format), its C(backing) file (the previous
        backup's image, for an incremental backup, or null), and its C(volume) in the pool (or null).
      type: list
      elements: dict
    bytes:
      description: Bytes the job transferred.
      type: int
    total_bytes:
      description: Bytes the job had to look at.
      type: int
    seconds:
      description: How long the job took, as the module measured it.
      type: float
    libvirt_ms:
      description: How long the job took as libvirt measured it, in milliseconds.
      type: int
    started:
      description: When the backup started, seconds since the epoch.
      type: float
    completed:
      description: When it completed, seconds since the epoch.
      type: float
  sample:
    domain: web1
    kind: incremental
    since: web1-20240501
    checkpoint: web1-20240502
    directory: /srv/backup/web1/20240502
    disks: [{name: vda, file: /srv/backup/web1/20240502/vda.qcow2, format: qcow2,
             backing: /srv/backup/web1/20240501-full/vda.qcow2}]
    bytes: 52428800
    total_bytes: 52428800
    seconds: 2.4
export:
  description:
    - O(mode=pull), the running export (with O(state=absent), the export that was ended, or null).
  returned: when O(mode=pull) or O(state=absent)
  type: dict
  contains:
    mode:
      description: V(pull) (or V(push) for a push backup that was still running).
      type: str
    incremental:
      description: The checkpoint the export starts from, or null.
      type: str
    transport:
      description: V(unix) or V(tcp).
      type: str
    socket:
      description: The UNIX socket.
      type: str
    host:
      description: The TCP address.
      type: str
    port:
      description: The TCP port.
      type: int
    disks:
      description: Per disk, C(name), the NBD C(export) name, the C(bitmap) of changed blocks (incremental) and the
        C(scratch) file.
      type: list
      elements: dict
  sample:
    mode: pull
    transport: unix
    socket: /run/web1-backup.sock
    disks: [{name: vda, export: vda, bitmap: null, scratch: /var/lib/libvirt/images/web1.vda.scratch}]
domain:
  description: The guest's name.
  returned: always
  type: str
deleted:
  description: The backups deleted by O(retention), their directories (or C(<pool>/<name>) of backups into a
    pool); in check mode, those that would be.
  returned: always
  type: list
  elements: str
deleted_checkpoints:
  description: The checkpoints deleted with them (O(mode=push)), or by the retention of O(mode=pull).
  returned: always
  type: list
  elements: str
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [back up vda of web1 (full) to /srv/backup/web1/20240501-full, create checkpoint web1-20240501]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _backup
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            domain=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            mode=dict(type='str', default='push', choices=['push', 'pull']),
            directory=dict(type='path'),
            pool=dict(type='str'),
            name=dict(type='str'),
            format=dict(type='str', default='qcow2', choices=['qcow2', 'raw']),
            incremental=dict(type='str'),
            checkpoint=dict(type='str'),
            checkpoint_description=dict(type='str'),
            disks=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                backup=dict(type='bool', default=True),
                file=dict(type='path'),
                format=dict(type='str', choices=['qcow2', 'raw']),
                scratch=dict(type='path'),
            )),
            nbd=dict(type='dict', options=dict(
                socket=dict(type='path'),
                host=dict(type='str', default='localhost'),
                port=dict(type='int'),
            )),
            scratch_directory=dict(type='path'),
            timeout=dict(type='int', default=3600),
            retention=dict(type='dict', options=dict(
                keep=dict(type='int', required=True),
                prefix=dict(type='str'),
            )),
        )),
        required_if=[('mode', 'pull', ('nbd',)), ('mode', 'push', ('directory', 'pool'), True)],
        mutually_exclusive=[('directory', 'pool')],
        required_together=[('pool', 'name')],
        supports_check_mode=True,
    )
    require_libraries(module)
    _backup.run_module(module)


if __name__ == '__main__':
    main()
