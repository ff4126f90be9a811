#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: bulk
short_description: Define, start, stop or remove many domains, networks, storage pools and volumes in one task
version_added: 0.1.0
description:
  - Brings many libvirt objects in line in one task, over one connection, instead of a loop that starts one
    module process and one connection per object. Each item is what one task of the object's own module would
    take (M(sysvirt.libvirt.domain), M(sysvirt.libvirt.network), M(sysvirt.libvirt.storage_pool),
    M(sysvirt.libvirt.volume)), without the connection options, which the task gives once.
  - "Each item runs through exactly that module's code: its options are validated against that module's own
    argument spec (so an option means the same thing in both), and it is compared, predicted in check mode,
    changed and diffed the same way, with the same errors. Use the single modules for one object or a few; use
    this module when a play would loop over tens of objects of the same host: it is many times faster (see
    C(bench/BULK.md)) and still reports every object on its own (RV(objects))."
  - "Order: removals first (C(state=absent) in an item, or C(state=deleted) for a storage pool), what
    uses an object before the object: domains, then volumes, then storage pools and networks. Then every other
    item the other way round: networks and storage pools, then volumes, then domains. So one task can create a
    network, a pool, its volumes and the guests that use them, and another remove them all. Within one kind the
    items keep their order."
  - Items of the same step run concurrently, on up to O(workers) threads. Two items naming the same object (the
    same kind and name) never run at the same time; they run in the order given.
  - "When an item fails, the others still run; the task then fails, its message lists each failed item with its
    error, and C(changed), RV(actions) and RV(objects) say what every item did, the failed ones included (an item
    that changed something before it failed says so). A mistake in an item's options fails the task before any
    item runs."
author:
  - sysvirt developers (@sysvirt)
options:
  domains:
    description:
      - Domains, each with the options of M(sysvirt.libvirt.domain) (for example O(sysvirt.libvirt.domain#module:name),
        O(sysvirt.libvirt.domain#module:xml), O(sysvirt.libvirt.domain#module:state)) except the connection options.
      - "An item may be a name alone (a string), short for C({name: <string>}), as for the other kinds; with
        O(defaults), a list of names (an inventory group) is a list of domains."
    type: list
    elements: raw
    default: []
  networks:
    description:
      - Networks, each with the options of M(sysvirt.libvirt.network) except the connection options.
    type: list
    elements: raw
    default: []
  storage_pools:
    description:
      - Storage pools, each with the options of M(sysvirt.libvirt.storage_pool) except the connection options.
    type: list
    elements: raw
    default: []
  volumes:
    description:
      - Volumes, each with the options of M(sysvirt.libvirt.volume) except the connection options.
    type: list
    elements: raw
    default: []
  defaults:
    description:
      - Options given to every item of a kind; an item's own options take precedence.
      - The merge is shallow, option by option; an item's O(sysvirt.libvirt.domain#module:spec) replaces the whole
        C(spec) of O(defaults.domain).
    type: dict
    default: {}
    suboptions:
      domain:
        description: Options for every item of O(domains).
        type: dict
      network:
        description: Options for every item of O(networks).
        type: dict
      storage_pool:
        description: Options for every item of O(storage_pools).
        type: dict
      volume:
        description: Options for every item of O(volumes).
        type: dict
  workers:
    description:
      - How many items of one step run at the same time (threads).
      - For a URI of this host (no host name, for example V(qemu:///system)) each thread has a connection of its
        own, opened when it first runs an item, since libvirtd serves at most C(max_client_requests) calls of one
        connection at a time (5 unless C(libvirtd.conf) says otherwise). For a remote URI all threads share the
        task's one connection (another connection would be another login), so more than 5 gains little there.
      - Starting and stopping guests is what gains from more.
      - V(1) runs the items one after the other.
    type: int
    default: 8
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
  - sysvirt.libvirt._attributes.LIFECYCLE
notes:
  - Check mode predicts every item as its module does. A volume whose pool an earlier step of the same task
    would define is predicted as created, with the module's warning that the pool does not exist yet.
  - Warnings of an item come as the task's warnings, prefixed with its kind and name, and in its entry of
    RV(objects).
seealso:
  - module: sysvirt.libvirt.domain
  - module: sysvirt.libvirt.network
  - module: sysvirt.libvirt.storage_pool
  - module: sysvirt.libvirt.volume
'''

EXAMPLES = r'''
- name: A network, a pool, a disk per guest and the guests that use them, running
  sysvirt.libvirt.bulk:
    uri: qemu:///system
    networks:
      - xml: |
          <network>
            <name>lab</name>
            <ip address='192.168.150.1' prefix='24'/>
          </network>
        state: active
    storage_pools:
      - xml: |
          <pool type='dir'>
            <name>lab</name>
            <target><path>/var/lib/libvirt/lab</path></target>
          </pool>
        build: new
        state: active
    volumes:
      - name: web01.qcow2
      - name: web02.qcow2
    domains:
      - name: web01
        spec:
          memory: 1GiB
          disks:
            - pool: lab
              volume: web01.qcow2
          nics:
            - network: lab
      - name: web02
        spec:
          memory: 1GiB
          disks:
            - pool: lab
              volume: web02.qcow2
          nics:
            - network: lab
    defaults:
      volume:
        pool: lab
        capacity: 10G
        format: qcow2
      domain:
        state: running

- name: Guests listed in a variable (guests, a list of items such as name and xml), each started at boot
  sysvirt.libvirt.bulk:
    domains: "{{ guests }}"
    defaults:
      domain:
        state: running
        autostart: true

- name: Shut down 50 guests, 16 at a time, powering off those that do not stop within 60 seconds
  sysvirt.libvirt.bulk:
    domains: "{{ groups['web'] }}"
    defaults:
      domain:
        state: shutdown
        timeout: 60
        force: true
    workers: 16

- name: Remove it all again (the guests first, then the volumes, then the pool and the network)
  sysvirt.libvirt.bulk:
    domains: [web01, web02]
    volumes: [web01.qcow2, web02.qcow2]
    storage_pools:
      - name: lab
        state: deleted
    networks:
      - name: lab
        state: absent
    defaults:
      domain:
        state: absent
      volume:
        pool: lab
        state: absent
  register: removed

- name: Say which items changed
  ansible.builtin.debug:
    msg: "{{ removed.objects | selectattr('changed') | map(attribute='name') | list }}"
'''

RETURN = r'''
actions:
  description:
    - "What the task did (or would do), in the order the items ran, each as C(<kind> <name>: <action>)."
  returned: always
  type: list
  elements: str
  sample: ['network lab: define', 'network lab: start', 'domain web01: define', 'domain web01: start']
objects:
  description:
    - One entry per item, in the order the items ran (see the order above), each the result the item's own
      module returns (its object, RV(objects[].actions), RV(objects[].differences), its values) plus
      RV(objects[].kind), RV(objects[].name) and RV(objects[].failed).
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: The kind of the item, V(domain), V(network), V(storage_pool) or V(volume).
      type: str
      returned: always
    name:
      description: The name the item gives (name, UUID, path or key option, else the C(<name>) of its xml).
      type: str
      returned: always
    failed:
      description: Whether the item failed.
      type: bool
      returned: always
    changed:
      description: Whether the item changed something (in check mode, would change); a failed item that changed
        something before it failed too.
      type: bool
      returned: always
    actions:
      description: What the item did (or would do), as in its module's RV(sysvirt.libvirt.domain#module:actions).
      type: list
      elements: str
      returned: always
    differences:
      description: The parts of the item's document its stored definition did not satisfy, as in
        RV(sysvirt.libvirt.network#module:differences).
      type: list
      elements: dict
      returned: success
    warnings:
      description: The item's warnings (also given as the task's warnings).
      type: list
      elements: str
      returned: always
    diff:
      description: The item's diff, as its module returns it (a domain's is a list of two, its definition and its
        power state).
      type: raw
      returned: when diff mode is on and the item succeeded
    msg:
      description: The failed item's message, as its module's would be.
      type: str
      returned: when the item failed
    hint:
      description: What to try, when there is a hint.
      type: str
      returned: when the item failed with a hint
    error:
      description: libvirt's error (code, code_name, domain, domain_name, message) when libvirt failed the call.
      type: dict
      returned: when the item failed in a libvirt call
    domain:
      description: A domain item's domain, as in RV(sysvirt.libvirt.domain#module:domain).
      type: dict
      returned: for a domain item that succeeded
    restart_needed:
      description: As in the domain and network modules (RV(sysvirt.libvirt.domain#module:restart_needed)).
      type: bool
      returned: for a domain or network item that succeeded
    restart_differences:
      description: As in RV(sysvirt.libvirt.domain#module:restart_differences).
      type: list
      elements: dict
      returned: when restart_needed is true for a domain
    restarted_for_change:
      description: As in the domain module (RV(sysvirt.libvirt.domain#module:restarted_for_change)).
      type: bool
      returned: when it happened
    wait_seconds:
      description: As in the domain module (RV(sysvirt.libvirt.domain#module:wait_seconds)).
      type: float
      returned: when the item waited
    removed:
      description: As in RV(sysvirt.libvirt.domain#module:removed).
      type: dict
      returned: for a domain item with state absent
    native_config:
      description: As in the domain module (RV(sysvirt.libvirt.domain#module:native_config)).
      type: str
      returned: when the item sets to_native
    network:
      description: A network item's network, as in RV(sysvirt.libvirt.network#module:network).
      type: dict
      returned: for a network item that succeeded
    pending_live_changes:
      description: As in RV(sysvirt.libvirt.network#module:pending_live_changes).
      type: list
      elements: dict
      returned: when restart_needed is true for a network
    storage_pool:
      description: A storage pool item's pool, as in RV(sysvirt.libvirt.storage_pool#module:storage_pool).
      type: dict
      returned: for a storage pool item that succeeded
    refreshed:
      description: As in the storage_pool module (RV(sysvirt.libvirt.storage_pool#module:refreshed)).
      type: bool
      returned: for a storage pool item that succeeded
    volume:
      description: A volume item's volume, as in RV(sysvirt.libvirt.volume#module:volume).
      type: dict
      returned: for a volume item that succeeded
    transfer:
      description: As in RV(sysvirt.libvirt.volume#module:transfer).
      type: dict
      returned: for a volume item with upload or download
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._bulk import collect, needs_events, run_bulk
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import run_module


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            domains=dict(type='list', elements='raw', default=[]),
            networks=dict(type='list', elements='raw', default=[]),
            storage_pools=dict(type='list', elements='raw', default=[]),
            volumes=dict(type='list', elements='raw', default=[]),
            defaults=dict(type='dict', default={}, options=dict(
                domain=dict(type='dict'),
                network=dict(type='dict'),
                storage_pool=dict(type='dict'),
                volume=dict(type='dict'),
            )),
            workers=dict(type='int', default=8),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    if module.params['workers'] < 1:
        module.fail_json(msg='workers must be 1 or more, not %d' % module.params['workers'])
    items, errors, secrets = collect(module.params, module.params['defaults'])
    module.no_log_values.update(secrets)
    if errors:
        module.fail_json(msg='Items with options their module does not accept (nothing was changed): %s'
                         % '; '.join(errors), changed=False)
    run_module(module, lambda conn, outcome: run_bulk(module, conn, outcome, items), events=needs_events(items))


if __name__ == '__main__':
    main()
