#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: storage_pool
short_description: Define, build, start, stop, delete libvirt storage pools
version_added: 0.1.0
description:
  - Brings a libvirt storage pool in line with a definition (O(xml)) and a state.
  - An existing pool is compared with O(xml) the way libvirt stores it (units, number bases, collapsed target
    paths); what libvirt fills in (UUID, capacity, allocation, available) is never a difference. A pool that
    differs is redefined with its UUID carried over.
  - Redefining an active pool changes its persistent definition; the running pool keeps the old one until
    its next start (a warning says so).
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - Name of the pool. Taken from O(xml) when not given.
    type: str
  uuid:
    description:
      - UUID of the pool, to look it up by UUID. Given together with O(name), both must identify the same pool,
        or the run fails and changes nothing.
    type: str
  xml:
    description:
      - The pool definition (a C(<pool>) document). Needed to create a pool.
      - Sizes (C(capacity), C(allocation), C(available)) in the document are what libvirt measures and are
        ignored.
    type: str
  state:
    description:
      - V(present) defines the pool (or leaves it as it is) without starting or stopping it.
      - V(active) also starts it; V(inactive) also stops it.
      - V(absent) stops and undefines the pool and leaves its storage (directory, volumes, disks) alone.
      - V(deleted) stops the pool, removes its underlying storage (for a C(dir) pool its directory, which must
        be empty; for C(logical) the volume group; see libvirt's C(virStoragePoolDelete)), and undefines it.
        Only use it when that storage may go.
    type: str
    choices: [present, active, inactive, absent, deleted]
    default: present
  build:
    description:
      - Build the pool's underlying storage (create the directory, format the disk, make the volume group)
        when it needs it, with this mode. Omitted means never build.
      - A pool needs building when this run defines it, or when it is a C(dir), C(fs) or C(netfs) pool on a
        local connection and its target directory is missing. On a remote connection a missing directory is
        only found when starting the pool fails; the pool is then built and started again (check mode cannot
        predict that case).
      - V(new) builds with no flag (the driver's default); V(no_overwrite) refuses to overwrite an existing
        file system or label, V(overwrite) overwrites it, V(repair) repairs, V(resize) extends.
      - A C(dir) pool has one way to build (create the directory); every mode does that.
    type: str
    choices: [new, no_overwrite, overwrite, repair, resize]
  autostart:
    description:
      - Whether the pool starts when libvirtd starts. Omitted leaves it as it is.
    type: bool
  refresh:
    description:
      - Rescan the volumes of an active pool. This only makes libvirt's view current, so it does not count
        as a change; RV(refreshed) says whether it ran. Not run in check mode.
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
  - sysvirt.libvirt._attributes.LIFECYCLE
notes:
  - Builds run only when needed, so a second run does not build again and reports no change.
seealso:
  - module: sysvirt.libvirt.storage_pool_info
  - module: sysvirt.libvirt.volume
'''

EXAMPLES = r'''
- name: A directory pool, built and started, started at boot
  sysvirt.libvirt.storage_pool:
    xml: |
      <pool type='dir'>
        <name>images</name>
        <target><path>/srv/images</path></target>
      </pool>
    build: no_overwrite
    state: active
    autostart: true

- name: Rescan its volumes
  sysvirt.libvirt.storage_pool:
    name: images
    state: active
    refresh: true

- name: Stop and undefine it, keeping the directory and its files
  sysvirt.libvirt.storage_pool:
    name: images
    state: absent

- name: Stop it, remove its (empty) directory, and undefine it
  sysvirt.libvirt.storage_pool:
    name: images
    state: deleted
'''

RETURN = r'''
storage_pool:
  description:
    - The pool after the run (in check mode, as it would be), keys as in
      RV(sysvirt.libvirt.storage_pool_info#module:storage_pools) without C(xml). In check mode, C(uuid) is null
      for a pool not yet defined, unless the document gives one.
    - Null when it is gone, as every module's object is when absent.
  returned: always
  type: dict
  sample: {name: images, uuid: 3e1f0f5c-2a8e-4d7a-9d3c-6b3f4a1e2c10, type: dir, state: running, active: true,
           persistent: true, autostart: true, capacity: 107374182400, allocation: 21474836480,
           available: 85899345920, target_path: /srv/images, volume_count: 3}
actions:
  description: What the run did (or would do), in order.
  returned: always
  type: list
  elements: str
  sample: [define, build, start, autostart]
differences:
  description: The parts of O(xml) that the stored definition did not satisfy, each item as in RV(sysvirt.libvirt.network#module:differences).
  returned: always
  type: list
  elements: dict
refreshed:
  description: Whether the pool was refreshed.
  returned: success
  type: bool
diff:
  description: Stored definition before and after (in check mode, the document that would be defined).
  returned: when diff mode is on
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import run_kind
from ansible_collections.sysvirt.libvirt.plugins.module_utils._storage import (
    POOL_CONSTRAINTS, POOL_OPTIONS, run_pool,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(POOL_OPTIONS),
        supports_check_mode=True,
        **POOL_CONSTRAINTS
    )
    require_libraries(module)
    run_kind(module, run_pool)


if __name__ == '__main__':
    main()
