#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_memory
short_description: Reserve hugepages and tune kernel same-page merging (KSM) on a libvirt host
version_added: 0.1.0
description:
  - Sets the size of the host's hugepage pools, per page size, for the whole host or per NUMA cell
    (C(virNodeAllocPages)). The counts are compared first, so a second run changes nothing.
  - A pool is never shrunk below the pages that running guests use, unless O(release_in_use=true), and then a
    warning says how many.
  - Tunes the kernel's same-page merging (KSM) through libvirt's node memory parameters
    (C(virNodeSetMemoryParameters)) where the host offers them; a host without them fails with a clear message
    when O(ksm) is given.
  - Always returns the pools and the KSM parameters as they are after the run.
author:
  - sysvirt developers (@sysvirt)
options:
  hugepages:
    description:
      - The pools to size. Pools not listed are left alone.
    type: list
    elements: dict
    suboptions:
      size:
        description:
          - The page size, with a unit (V(2M), V(2 MiB), V(1G)); a bare number is KiB (V(2048)).
          - The host's ordinary page size is not a pool and cannot be set.
        type: str
        required: true
      count:
        description: How many pages the pool holds.
        type: int
        required: true
      cell:
        description:
          - The NUMA cell whose pool to size; left out, the whole host's pool (the kernel spreads it over the
            cells).
          - A page size is given either once for the whole host or per cell.
        type: int
  release_in_use:
    description:
      - Shrink a pool below the pages guests use. The kernel frees those pages only when the guests let go of them;
        a warning says how many are in use.
    type: bool
    default: false
  ksm:
    description:
      - Kernel same-page merging parameters. Those left out are left alone.
    type: dict
    suboptions:
      pages_to_scan:
        description: How many pages KSM scans before it sleeps.
        type: int
      sleep_millisecs:
        description: How long KSM sleeps between scans, in milliseconds.
        type: int
      merge_across_nodes:
        description:
          - Whether pages of different NUMA cells are merged. The kernel changes it only while no pages are
            shared (RV(ksm.pages_shared) is 0).
        type: bool
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
notes:
  - The kernel may reserve fewer hugepages than asked for when free memory is fragmented; a warning then says how
    many it reserved, and the next run tries again. Reserve them early after boot, or on the kernel command line, to
    be sure of large pools.
  - In check mode, a whole-host count on a host with several NUMA cells of that page size is predicted as spread
    evenly over the cells; the kernel decides the real spread.
seealso:
  - module: sysvirt.libvirt.host_facts
    description: The free pages of every size per cell (RV(sysvirt.libvirt.host_facts#module:ansible_facts.libvirt.free_pages)).
  - name: Hugepages in the kernel
    description: How the kernel sizes hugepage pools.
    link: https://docs.kernel.org/admin-guide/mm/hugetlbpage.html
  - name: KSM in the kernel
    description: What the KSM parameters do.
    link: https://docs.kernel.org/admin-guide/mm/ksm.html
'''

EXAMPLES = r'''
- name: Reserve 512 pages of 2 MiB on the whole host
  sysvirt.libvirt.host_memory:
    uri: qemu:///system
    hugepages:
      - size: 2M
        count: 512

- name: Reserve 1 GiB pages on NUMA cell 0 only
  sysvirt.libvirt.host_memory:
    uri: qemu:///system
    hugepages:
      - size: 1 GiB
        count: 4
        cell: 0

- name: Scan more pages per run, less often
  sysvirt.libvirt.host_memory:
    uri: qemu:///system
    ksm:
      pages_to_scan: 200
      sleep_millisecs: 50

- name: Read the pools and KSM parameters without changing anything
  sysvirt.libvirt.host_memory:
    uri: qemu:///system
  register: memory
'''

RETURN = r'''
hugepages:
  description:
    - The host's hugepage pools after the run (predicted in check mode), one per page size and NUMA cell.
  returned: always
  type: list
  elements: dict
  contains:
    cell:
      description: The NUMA cell.
      type: int
      sample: 0
    size_kib:
      description: The page size in KiB.
      type: int
      sample: 2048
    count:
      description: The pages in the pool.
      type: int
      sample: 512
    free:
      description: The pages no guest uses.
      type: int
      sample: 512
    in_use:
      description: The pages guests use (C(count - free)).
      type: int
      sample: 0
ksm:
  description:
    - The KSM parameters after the run (predicted in check mode), named as in the kernel's C(/sys/kernel/mm/ksm)
      (C(pages_to_scan), C(sleep_millisecs), C(merge_across_nodes), and the counters C(pages_shared),
      C(pages_sharing), C(pages_unshared), C(pages_volatile), C(full_scans)).
    - Null when the host does not offer them (and O(ksm) is not given).
  returned: always
  type: dict
  sample: {pages_to_scan: 100, sleep_millisecs: 20, merge_across_nodes: true, pages_shared: 0, pages_sharing: 0,
           pages_unshared: 0, pages_volatile: 0, full_scans: 0}
  contains:
    pages_to_scan:
      description: How many pages KSM scans before it sleeps.
      type: int
    sleep_millisecs:
      description: How long KSM sleeps between scans, in milliseconds.
      type: int
    merge_across_nodes:
      description: Whether pages of different NUMA cells are merged.
      type: bool
    pages_shared:
      description: How many shared pages KSM holds.
      type: int
    pages_sharing:
      description: How many more sites share them (how much is saved).
      type: int
    pages_unshared:
      description: Pages unique but checked again for merging.
      type: int
    pages_volatile:
      description: Pages that change too fast to be merged.
      type: int
    full_scans:
      description: How many times KSM has scanned all mergeable memory.
      type: int
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ['reserve 512 pages of 2048 KiB on the whole host (was 0)']
diff:
  description: The counts and parameters that change, before and after.
  returned: in diff mode
  type: dict
  sample: {before: {'2048 KiB pages (host)': 0}, after: {'2048 KiB pages (host)': 512}}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _hostmem
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            hugepages=dict(type='list', elements='dict', options=dict(
                size=dict(type='str', required=True),
                count=dict(type='int', required=True),
                cell=dict(type='int'),
            )),
            release_in_use=dict(type='bool', default=False),
            ksm=dict(type='dict', options=dict(
                pages_to_scan=dict(type='int'),
                sleep_millisecs=dict(type='int'),
                merge_across_nodes=dict(type='bool'),
            )),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    _hostmem.run_module(module)


if __name__ == '__main__':
    main()
