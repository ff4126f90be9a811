#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_migrate
short_description: Migrate a libvirt guest to another host, live or offline
version_added: 0.1.0
description:
  - Moves a guest from the host of O(uri) to the host of O(destination), live (the guest keeps running) or offline
    (only its definition), peer-to-peer or directly, optionally tunnelled through libvirt's connection, with
    storage copy, post-copy, bandwidth and downtime limits; the guest is made persistent on the destination and
    undefined on the source when asked.
  - Idempotent, a guest already on the destination (running there for a live migration, defined there for an
    offline one) is not migrated again.
  - Waits for the migration to finish (up to O(timeout), then aborts it) and returns samples of libvirt's job
    statistics taken while it ran, and the completed job's statistics.
  - With O(cpu_compare=true), the guest's CPU definition is first compared with what the destination can run
    (sysvirt.libvirt.cpu_compare's logic), and an incompatible CPU fails before anything moves.
  - See the collection's migration guide (docs/guides/migration.md) for exactly what was tested.
author:
  - sysvirt developers (@sysvirt)
options:
  domain:
    description:
      - The guest, by name or UUID.
    type: str
    required: true
  destination:
    description:
      - The destination's libvirt URI, for example V(qemu+ssh://host2/system) or V(qemu+tls://host2/system).
      - With O(peer_to_peer=true) the source host's daemon connects to it, so it must work from there.
      - The module's own connection to it uses O(keepalive_interval) and O(keepalive_count) too.
    type: str
    required: true
  destination_username:
    description:
      - Username for the destination connection, when it asks for one.
    type: str
  destination_password:
    description:
      - Password for the destination connection, when it asks for one.
    type: str
  mode:
    description:
      - V(live) migrates a running guest; V(offline) moves the definition of a stopped one.
      - V(auto) chooses by the guest's state.
    type: str
    choices: [auto, live, offline]
    default: auto
  peer_to_peer:
    description:
      - The source daemon talks to the destination itself (otherwise this module drives both sides).
    type: bool
    default: true
  tunnelled:
    description:
      - Send the migration data through the libvirt connection instead of a separate channel (implies
        O(peer_to_peer)).
    type: bool
    default: false
  tls:
    description:
      - Encrypt QEMU's migration data with TLS (libvirt's C(VIR_MIGRATE_TLS)), on the separate channel of a
        native migration; with O(tunnelled) the data already travels inside the libvirt connection, so the two
        exclude each other.
      - Both hosts need QEMU's TLS certificates, in the directory C(migrate_tls_x509_cert_dir) of their
        C(qemu.conf) (by default C(default_tls_x509_cert_dir), which is C(/etc/pki/qemu)). The destination uses
        C(ca-cert.pem), C(server-cert.pem) and C(server-key.pem), the source C(ca-cert.pem), C(client-cert.pem)
        and C(client-key.pem), signed by a CA both trust. The destination's certificate must name the address the
        source connects to (its host name, or C(migration_host) of its C(qemu.conf), or the host of
        O(migration_uri)).
      - Without those, the migration fails before the guest moves, with libvirt's error.
    type: bool
    default: false
  migration_uri:
    description:
      - Where the migration data goes, for example V(tcp://10.0.0.2) to pick a network (not with O(tunnelled)).
    type: str
  listen_address:
    description:
      - The address the destination listens on for the migration data.
    type: str
  copy_storage:
    description:
      - Copy disk contents too (non-shared storage). V(all) copies whole disks; V(incremental) only the top images
        (the backing images must already exist on the destination).
    type: str
    choices: [none, all, incremental]
    default: none
  disks:
    description:
      - With O(copy_storage), only these disks (target names).
    type: list
    elements: str
  persistent:
    description:
      - Define the guest on the destination (a live migration otherwise leaves it transient there).
    type: bool
    default: true
  undefine_source:
    description:
      - Remove the guest's definition from the source after a successful migration.
    type: bool
    default: false
  postcopy:
    description:
      - Allow post-copy, and switch to it after O(postcopy_after_iterations) pre-copy iterations of memory.
    type: bool
    default: false
  postcopy_after_iterations:
    description:
      - Pre-copy iterations before switching to post-copy.
    type: int
    default: 1
  postcopy_bandwidth:
    description:
      - Bandwidth limit during post-copy, MiB/s.
    type: int
  bandwidth:
    description:
      - Bandwidth limit, MiB/s.
    type: int
  downtime:
    description:
      - The longest pause allowed at the end of a live migration, milliseconds.
    type: int
  auto_converge:
    description:
      - Let QEMU slow the guest's CPUs down when memory changes faster than it is copied.
    type: bool
    default: false
  compressed:
    description:
      - Compress the migration data.
    type: bool
    default: false
  unsafe:
    description:
      - Migrate even when libvirt considers it unsafe (for example disks with a host cache on storage libvirt does
        not know to be shared).
    type: bool
    default: false
  paused:
    description:
      - Leave the guest paused on the destination.
    type: bool
    default: false
  cpu_compare:
    description:
      - Compare the guest's CPU with the destination first and fail when it is incompatible.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for the migration; it is aborted after that and the module fails.
    type: int
    default: 600
  poll_interval:
    description:
      - Seconds between job statistics samples while waiting.
    type: float
    default: 1.0
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
attributes:
  diff_mode:
    support: none
seealso:
  - module: sysvirt.libvirt.cpu_compare
  - name: libvirt migration
    description: Migration modes, transports and flags.
    link: https://libvirt.org/migration.html
'''

EXAMPLES = r'''
- name: Live-migrate web1 to host2 and make it persistent there, removing it here
  sysvirt.libvirt.domain_migrate:
    domain: web1
    destination: qemu+ssh://root@host2/system
    undefine_source: true
    cpu_compare: true
    bandwidth: 500
    downtime: 300
  register: moved

- name: Show how long it took
  ansible.builtin.debug:
    msg: "{{ moved.job.seconds | default('already there') }}"

- name: Move a stopped guest's definition only
  sysvirt.libvirt.domain_migrate:
    domain: build-runner
    destination: qemu+tls://host3/system
    mode: offline
    undefine_source: true

- name: Live-migrate web1 with the migration data encrypted by QEMU's TLS (certificates in /etc/pki/qemu on both)
  sysvirt.libvirt.domain_migrate:
    domain: web1
    destination: qemu+tls://host2/system
    tls: true

- name: Local disks, tunnelled through libvirt, with post-copy for a busy guest
  sysvirt.libvirt.domain_migrate:
    domain: db1
    destination: qemu+ssh://root@host2/system
    tunnelled: true
    copy_storage: all
    postcopy: true
'''

RETURN = r'''
domain:
  description: The guest, as given.
  returned: always
  type: str
destination:
  description: The destination URI.
  returned: always
  type: str
location:
  description: Where the guest is after the run (V(source) only in check mode, before a migration).
  returned: always
  type: str
state:
  description: The guest's state where it is (V(running), V(paused), V(shutoff), ...).
  returned: always
  type: str
persistent_on_destination:
  description: Whether the guest is defined on the destination (null in check mode before a migration).
  returned: always
  type: bool
on_source:
  description: Whether the source still has the guest (defined or running).
  returned: always
  type: bool
cpu_check:
  description: The CPU pre-flight comparison, when one ran (as M(sysvirt.libvirt.cpu_compare) makes it).
  returned: when O(cpu_compare=true) and something was to migrate
  type: dict
  contains:
    result:
      description: V(identical) or V(superset) (V(incompatible) fails the task before anything migrates).
      type: str
      sample: superset
    against:
      description: What the CPU was compared with, V(hypervisor) (the destination's) or V(host).
      type: str
      sample: hypervisor
    missing_features:
      description: The features of the guest's CPU that the destination lacks.
      type: list
      elements: str
      sample: []
job:
  description: The migration job.
  returned: when a migration ran
  type: dict
  contains:
    seconds:
      description: Wall time of the migration.
      type: float
    live:
      description: Whether it was a live migration.
      type: bool
    postcopy:
      description: Whether it switched to post-copy.
      type: bool
    progress:
      description: Job statistics sampled while it ran (C(seconds), C(data_processed), C(data_remaining),
        C(memory_iteration), ... as libvirt names them).
      type: list
      elements: dict
    completed:
      description: The completed job's statistics, read on the destination (C(time_elapsed), C(downtime),
        C(data_total), ...), when libvirt keeps them.
      type: dict
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _migrate
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            domain=dict(type='str', required=True),
            destination=dict(type='str', required=True),
            destination_username=dict(type='str'),
            destination_password=dict(type='str', no_log=True),
            mode=dict(type='str', default='auto', choices=['auto', 'live', 'offline']),
            peer_to_peer=dict(type='bool', default=True),
            tunnelled=dict(type='bool', default=False),
            tls=dict(type='bool', default=False),
            migration_uri=dict(type='str'),
            listen_address=dict(type='str'),
            copy_storage=dict(type='str', default='none', choices=['none', 'all', 'incremental']),
            disks=dict(type='list', elements='str'),
            persistent=dict(type='bool', default=True),
            undefine_source=dict(type='bool', default=False),
            postcopy=dict(type='bool', default=False),
            postcopy_after_iterations=dict(type='int', default=1),
            postcopy_bandwidth=dict(type='int'),
            bandwidth=dict(type='int'),
            downtime=dict(type='int'),
            auto_converge=dict(type='bool', default=False),
            compressed=dict(type='bool', default=False),
            unsafe=dict(type='bool', default=False),
            paused=dict(type='bool', default=False),
            cpu_compare=dict(type='bool', default=False),
            timeout=dict(type='int', default=600),
            poll_interval=dict(type='float', default=1.0),
        )),
        mutually_exclusive=[('tunnelled', 'migration_uri'), ('tunnelled', 'tls')],
        supports_check_mode=True,
    )
    require_libraries(module)
    _migrate.run_module(module)


if __name__ == '__main__':
    main()
