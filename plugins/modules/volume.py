#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: volume
short_description: Create, clone, resize, wipe, upload, download and delete libvirt storage volumes
version_added: 0.1.0
description:
  - Manages one volume of a libvirt storage pool, found by O(pool) and O(name), by O(path), or by O(key).
  - A missing volume is created from structured options (O(capacity), O(allocation), O(format), O(backing)),
    from O(xml), or cloned from another volume (O(clone_from)).
  - libvirt cannot redefine a volume. For an existing one only the capacity is reconciled (grown, and shrunk
    only with O(shrink=true)); other differences from O(xml) or O(format) are reported as warnings.
  - O(upload) and O(download) move content through libvirt streams, so they work on remote URIs, and keep
    holes as holes (sparse streams).
  - "Idempotent transfers: before an upload the volume is read back through a sparse stream and compared with
    the local file, byte by byte, stopping at the first difference; holes on both sides cost nothing. When the
    volume already starts with exactly the file's bytes nothing is sent. A download writes to a temporary file
    next to O(download) and replaces it only when the content differs. The volume itself is the reference;
    no checksum is recorded anywhere, since a guest can change the volume behind a record's back. With
    O(checksum), the SHA-256 of the content is computed and checked as well."
author:
  - sysvirt developers (@sysvirt)
options:
  pool:
    description:
      - The pool holding the volume. Required to create one.
    type: str
  name:
    description:
      - Volume name in O(pool). Taken from O(xml) when not given.
    type: str
  path:
    description:
      - Find the volume by its path instead (for example C(/var/lib/libvirt/images/disk.qcow2)).
    type: path
  key:
    description:
      - Find the volume by its key instead.
    type: str
  state:
    description:
      - V(present) creates the volume when it is missing; V(absent) deletes it (its data is lost).
      - V(absent) succeeds with no change when the volume or its O(pool) does not exist, so teardown runs again.
      - In check mode, a volume whose O(pool) does not exist yet is predicted as created, with a warning that
        the prediction assumes an earlier task defines the pool.
    type: str
    choices: [present, absent]
    default: present
  capacity:
    description:
      - Size, in bytes or with a unit (V(10G), V(512MiB), V(1TB); K, M, G, T are powers of 1024).
      - When creating, defaults to the size of O(clone_from), of the O(backing) volume, or of the O(upload)
        file.
      - A larger capacity grows an existing volume; a smaller one shrinks it only with O(shrink=true).
    type: str
  allocation:
    description:
      - Bytes to allocate up front when creating (units as for O(capacity)). Defaults to V(0), a sparse
        volume (libvirt itself would allocate the whole capacity).
    type: str
  format:
    description:
      - Volume format when creating, for example V(raw), V(qcow2), V(iso). Defaults to the driver's default (or
        that of O(clone_from)).
      - libvirt names a plain file by its content, so a V(raw) volume that holds an ISO 9660 image reads back as
        V(iso); V(raw) and V(iso) count as the same format (the bytes are the same).
    type: str
  backing:
    description:
      - A backing volume for copy-on-write (the new volume, typically qcow2, records only changes).
    type: dict
    suboptions:
      name:
        description: Name of the backing volume (in O(backing.pool), by default O(pool)).
        type: str
      pool:
        description: Pool of the backing volume.
        type: str
      path:
        description: Path of the backing file (need not be a libvirt volume).
        type: path
      key:
        description: Key of the backing volume.
        type: str
      format:
        description: Format of the backing file; read from the backing volume when omitted.
        type: str
  xml:
    description:
      - A C(<volume>) document to create the volume from, instead of the structured options.
    type: str
  clone_from:
    description:
      - Create the volume as a copy of this volume (C(virStorageVolCreateXMLFrom)). Only used when the volume
        is missing.
    type: dict
    suboptions:
      name:
        description: Name of the source volume (in O(clone_from.pool), by default O(pool)).
        type: str
      pool:
        description: Pool of the source volume.
        type: str
      path:
        description: Path of the source volume.
        type: path
      key:
        description: Key of the source volume.
        type: str
  shrink:
    description:
      - Allow shrinking the volume to O(capacity). Data past the new end is lost.
    type: bool
    default: false
  wipe:
    description:
      - Wipe the volume's data (C(virStorageVolWipe)).
      - An action, not a state; it runs and reports a change on every run where it is set. With
        O(state=absent) the volume is wiped before it is deleted.
    type: bool
    default: false
  upload:
    description:
      - A local file (on the host running the module) to put into the volume from offset 0.
      - Not sent again when the volume already holds exactly these bytes.
      - For a qcow2 volume, upload a qcow2 image; the bytes are copied as they are.
      - A volume too small for the file is grown first.
    type: path
  download:
    description:
      - A local file to write the whole volume into (holes kept). Replaced only when the content differs.
    type: path
  checksum:
    description:
      - Expected SHA-256 (hex) of the uploaded file or of the downloaded content. Checked before the upload
        starts (nothing changes on a mismatch) and after a download (the old file is kept on a mismatch).
      - Computing it reads every byte (holes included), so it costs time on large images.
    type: str
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
  - sysvirt.libvirt._attributes.LIFECYCLE
attributes:
  idempotent:
    support: partial
    details: O(wipe) runs every time it is set.
notes:
  - The pool must be active.
seealso:
  - module: sysvirt.libvirt.volume_info
  - module: sysvirt.libvirt.storage_pool
'''

EXAMPLES = r'''
- name: A 10 GiB qcow2 disk
  sysvirt.libvirt.volume:
    pool: images
    name: web01.qcow2
    capacity: 10G
    format: qcow2

- name: A copy-on-write overlay on a base image
  sysvirt.libvirt.volume:
    pool: images
    name: web02.qcow2
    format: qcow2
    backing:
      name: debian-12-base.qcow2

- name: Put a cloud image into a volume (not sent again on later runs)
  sysvirt.libvirt.volume:
    pool: images
    name: debian-12-base.qcow2
    format: qcow2
    upload: /srv/isos/debian-12-genericcloud-amd64.qcow2

- name: Clone it
  sysvirt.libvirt.volume:
    pool: images
    name: web03.qcow2
    clone_from:
      name: debian-12-base.qcow2

- name: Grow a disk to 20 GiB
  sysvirt.libvirt.volume:
    pool: images
    name: web01.qcow2
    capacity: 20G

- name: Save a volume to a local file
  sysvirt.libvirt.volume:
    path: /var/lib/libvirt/images/web01.qcow2
    download: /backup/web01.qcow2

- name: Delete it
  sysvirt.libvirt.volume:
    pool: images
    name: web03.qcow2
    state: absent
'''

RETURN = r'''
volume:
  description:
    - The volume after the run (in check mode, as it would be), keys as in
      RV(sysvirt.libvirt.volume_info#module:volumes) without C(xml). In check mode, for a volume that would be
      created, C(key), C(path), C(type) and C(allocation) are null (libvirt chooses them).
    - Null when absent, as every module's object is.
  returned: always
  type: dict
  sample: {name: web01.qcow2, key: /var/lib/libvirt/images/web01.qcow2, path: /var/lib/libvirt/images/web01.qcow2,
           pool: default, type: file, format: qcow2, capacity: 21474836480, allocation: 196608, backing_store: null}
actions:
  description: What the run did (or would do).
  returned: always
  type: list
  elements: str
  sample: [create, upload]
differences:
  description: Always empty for volumes (differences from O(xml) are reported as warnings).
  returned: always
  type: list
  elements: dict
transfer:
  description: What an upload or download compared and moved.
  returned: when O(upload) or O(download) is given
  type: dict
  contains:
    direction:
      description: C(upload) or C(download).
      type: str
    path:
      description: The local file.
      type: str
    bytes:
      description: Size of the content.
      type: int
    identical:
      description: Whether the content was already the same (nothing moved).
      type: bool
    sha256:
      description: The SHA-256 of the content, when O(checksum) is given.
      type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import run_kind
from ansible_collections.sysvirt.libvirt.plugins.module_utils._storage import (
    VOLUME_CONSTRAINTS, VOLUME_OPTIONS, run_volume,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(VOLUME_OPTIONS),
        supports_check_mode=True,
        **VOLUME_CONSTRAINTS
    )
    require_libraries(module)
    run_kind(module, run_volume)


if __name__ == '__main__':
    main()
