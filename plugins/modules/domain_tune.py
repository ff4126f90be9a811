#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_tune
short_description: Set a guest's tunables live and in its definition (memory, CPU, block I/O, pinning, IOThreads)
version_added: 0.1.0
description:
  - Sets the resource controls of a guest without a restart (O(live)), in its persistent definition
    (O(persistent)), or both; the XML elements C(<memtune>), C(<cputune>), C(<blkiotune>), C(<numatune>),
    C(<iothreadids>), C(<perf>) and an interface's C(<bandwidth>) are what they change in the definition.
  - Only the tunables given are read, compared and set; a tunable left out keeps its value. A scope already holding
    the values asked for is not touched, so re-runs report no change.
  - Groups are applied in the running guest first, then in the definition, in this order - O(vcpus), O(iothreads),
    O(memory), O(memory_stats_period), O(scheduler), O(blkio), O(vcpu_pins), O(emulator_pin), O(numa),
    O(interfaces), O(perf). A run stops at the first tunable libvirt refuses, with libvirt's reason and a hint; what
    was set before it is reported (RV(actions)).
  - Sizes take a unit (V(2 GiB), V(512M), V(64KiB)); a bare number is in the unit libvirt uses for that
    tunable, which the option says.
author:
  - sysvirt developers (@sysvirt)
options:
  domain:
    description:
      - The guest, by name or UUID.
    type: str
    required: true
  live:
    description:
      - Apply to the running guest. Default V(true) when the guest runs, V(false) otherwise; V(true) with a
        stopped guest fails.
    type: bool
  persistent:
    description:
      - Apply to the guest's persistent definition (takes effect at the next start).
    type: bool
    default: true
  memory:
    description:
      - Memory limits (C(<memtune>), C(virsh memtune)). Each is a size (a bare number is KiB) or V(unlimited).
    type: dict
    suboptions:
      hard_limit:
        description: The most memory the guest (QEMU process included) may use.
        type: raw
      soft_limit:
        description: The memory the guest is pushed back to when the host is short of memory.
        type: raw
      swap_hard_limit:
        description: The most memory plus swap the guest may use; at least O(memory.hard_limit).
        type: raw
      min_guarantee:
        description: The memory guaranteed to the guest (VMware ESX only; QEMU has no such tunable and fails).
        type: raw
  memory_stats_period:
    description:
      - How often, in seconds, the guest's balloon driver reports memory statistics (C(virsh dommemstat --period));
        V(0) stops it. Needs a memory balloon device.
    type: int
  scheduler:
    description:
      - CPU scheduler values (C(<cputune>), C(virsh schedinfo)). Periods are microseconds (1000 to 1000000); a quota
        is microseconds of CPU time per period (1000 and more, V(-1) for none).
    type: dict
    suboptions:
      cpu_shares:
        description: The guest's relative CPU weight against other guests.
        type: int
      vcpu_period:
        description: The enforcement period of each vCPU.
        type: int
      vcpu_quota:
        description: The CPU time each vCPU may use per period.
        type: int
      emulator_period:
        description: The enforcement period of the emulator threads (everything but vCPUs and IOThreads).
        type: int
      emulator_quota:
        description: The CPU time the emulator threads may use per period.
        type: int
      global_period:
        description: The enforcement period of the whole guest.
        type: int
      global_quota:
        description: The CPU time the whole guest may use per period.
        type: int
      iothread_period:
        description: The enforcement period of each IOThread.
        type: int
      iothread_quota:
        description: The CPU time each IOThread may use per period.
        type: int
  blkio:
    description:
      - Block I/O weight and per host device weights and limits (C(<blkiotune>), C(virsh blkiotune)).
    type: dict
    suboptions:
      weight:
        description: The guest's relative I/O weight (100-1000).
        type: int
      devices:
        description: Weights and limits per host block device; V(0) removes a device's weight or limit.
        type: list
        elements: dict
        suboptions:
          path:
            description: The host block device, for example V(/dev/sda).
            type: str
            required: true
          weight:
            description: The guest's relative I/O weight on this device.
            type: int
          read_bytes_sec:
            description: Read throughput limit per second, a size (a bare number is bytes).
            type: raw
          write_bytes_sec:
            description: Write throughput limit per second, a size (a bare number is bytes).
            type: raw
          read_iops_sec:
            description: Read operations per second.
            type: int
          write_iops_sec:
            description: Write operations per second.
            type: int
  numa:
    description:
      - Where the guest's memory comes from (C(<numatune>), C(virsh numatune)). A running guest can change only
        the nodeset, in mode V(strict) or V(restrictive).
    type: dict
    suboptions:
      mode:
        description: The memory policy.
        type: str
        choices: [strict, preferred, interleave, restrictive]
      nodeset:
        description: The host NUMA nodes, as a set (V(0), V(0-1), V(0,2)).
        type: str
  perf:
    description:
      - Perf events to enable (V(true)) or disable (V(false)) for the guest, by libvirt's name (C(virsh perf)),
        for example V(cpu_clock), V(task_clock), V(page_faults), V(context_switches), V(cpu_cycles),
        V(instructions), V(cmt). A name the hypervisor does not know fails, listing those it knows.
    type: dict
  interfaces:
    description:
      - Bandwidth limits of the guest's NICs (C(<bandwidth>), C(virsh domiftune)). V(0) removes a limit.
    type: list
    elements: dict
    suboptions:
      device:
        description: The NIC, by MAC address (in both scopes) or by its host-side device name (C(vnet0), live
          only).
        type: str
        required: true
      inbound:
        description: Limits of the traffic to the guest. Rates are sizes per second, bursts sizes (a bare number
          is KiB).
        type: dict
        suboptions:
          average:
            description: Average rate.
            type: raw
          peak:
            description: Peak rate.
            type: raw
          burst:
            description: How much may be sent at the peak rate.
            type: raw
          floor:
            description: Guaranteed rate (only for NICs on a network with a bandwidth setting).
            type: raw
      outbound:
        description: Limits of the traffic from the guest, as O(interfaces[].inbound).
        type: dict
        suboptions:
          average:
            description: Average rate.
            type: raw
          peak:
            description: Peak rate.
            type: raw
          burst:
            description: How much may be sent at the peak rate.
            type: raw
  vcpu_pins:
    description:
      - Host CPUs each vCPU may run on (C(virsh vcpupin)). vCPUs not listed keep their pinning.
    type: list
    elements: dict
    suboptions:
      vcpu:
        description: The vCPU number, from V(0).
        type: int
        required: true
      cpuset:
        description: Host CPUs, as a set (V(1), V(0-3), V(0-7,^4)).
        type: str
        required: true
  emulator_pin:
    description:
      - Host CPUs the emulator threads may run on (C(virsh emulatorpin)), as a set.
    type: str
  iothreads:
    description:
      - IOThreads to add, remove, pin or tune (C(virsh iothreadadd), C(iothreaddel), C(iothreadpin),
        C(iothreadset), C(iothreadinfo)). IOThreads not listed are left alone.
    type: list
    elements: dict
    suboptions:
      id:
        description: The IOThread ID, from V(1).
        type: int
        required: true
      state:
        description: V(present) adds it when missing, V(absent) removes it (an IOThread a disk uses cannot be
          removed).
        type: str
        choices: [present, absent]
        default: present
      cpuset:
        description: Host CPUs the IOThread may run on, as a set.
        type: str
      poll_max_ns:
        description: The longest time the IOThread polls before it sleeps, in nanoseconds (V(0) turns polling
          off). Live only; libvirt keeps no polling values in the definition, so the persistent scope skips it.
        type: int
      poll_grow:
        description: How the polling time grows (V(0) is QEMU's default). Live only.
        type: int
      poll_shrink:
        description: How the polling time shrinks (V(0) is QEMU's default). Live only.
        type: int
  vcpus:
    description:
      - The number of vCPUs (C(virsh setvcpus)), up to the maximum in the definition's C(<vcpu>). Removing vCPUs
        from a running guest needs the guest OS to release them.
    type: int
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
seealso:
  - module: sysvirt.libvirt.domain
  - module: sysvirt.libvirt.domain_block
  - name: libvirt domain XML, resource tuning
    description: C(<cputune>), C(<memtune>), C(<blkiotune>), C(<numatune>) and C(<iothreadids>).
    link: https://libvirt.org/formatdomain.html#cpu-tuning
notes:
  - What a host can set live depends on it. On cgroup v1 and v2 hosts the memory, cpu, cpuset and blkio
    controllers carry memory limits, the scheduler, pinning and NUMA nodesets, and block I/O; block I/O weights
    need the bfq (or cfq) I/O scheduler on the host's disks, interface bandwidth needs the kernel's traffic control
    queues, and some perf events need hardware support. A tunable the host cannot set fails with libvirt's reason
    and a hint; set O(live=false) to change the definition alone.
  - For O(iothreads) a C(<iothreads>) count in the definition grows with the IOThreads added.
  - The guest must exist. In check mode (unless O(live=true)), a guest that does not exist yet is assumed to be
    defined by an earlier task of the play, with a warning; every value given is then predicted as set in its
    definition.
  - A value libvirt accepts but reports back differently (for example the scheduler's IOThread quota of a guest
    without IOThreads) is reported with a warning, and the next run tries again.
'''

EXAMPLES = r'''
- name: Cap a noisy neighbour now and after its next start
  sysvirt.libvirt.domain_tune:
    domain: web1
    memory:
      hard_limit: 2 GiB
      swap_hard_limit: 3 GiB
    scheduler:
      cpu_shares: 512
      vcpu_period: 100000
      vcpu_quota: 50000

- name: Pin two vCPUs and the emulator threads
  sysvirt.libvirt.domain_tune:
    domain: web1
    vcpu_pins:
      - vcpu: 0
        cpuset: "2"
      - vcpu: 1
        cpuset: "3"
    emulator_pin: 0-1

- name: An IOThread for the disks, pinned, with polling tuned in the running guest
  sysvirt.libvirt.domain_tune:
    domain: web1
    iothreads:
      - id: 1
        cpuset: 0-1
        poll_max_ns: 32768

- name: Block I/O weight and a read limit on the host's disk, in the definition only
  sysvirt.libvirt.domain_tune:
    domain: web1
    live: false
    blkio:
      weight: 500
      devices:
        - path: /dev/sda
          read_bytes_sec: 50M

- name: Limit a NIC to 10 MiB/s each way (average), with bursts
  sysvirt.libvirt.domain_tune:
    domain: web1
    interfaces:
      - device: "52:54:00:12:34:56"
        inbound:
          average: 10MiB
          peak: 20MiB
          burst: 1MiB
        outbound:
          average: 10MiB

- name: Two vCPUs online, memory from NUMA node 0, count its CPU time
  sysvirt.libvirt.domain_tune:
    domain: web1
    vcpus: 2
    numa:
      mode: strict
      nodeset: "0"
    perf:
      cpu_clock: true
  register: tuned

- name: Show the live values
  ansible.builtin.debug:
    var: tuned.tuned.live
'''

RETURN = r'''
domain:
  description: The guest's name.
  returned: always
  type: str
tuned:
  description:
    - The values of the tunables given, per scope the run applied to, after the run (in check mode, what they would
      be). Each group has the shape and the units of its option (sizes as numbers in the option's unit, memory
      limits V(unlimited) when there is none).
  returned: always
  type: dict
  sample: {"live": {"memory": {"hard_limit": 2097152}, "vcpu_pins": [{"vcpu": 0, "cpuset": "2"}]},
           "config": {"memory": {"hard_limit": 2097152}, "vcpu_pins": [{"vcpu": 0, "cpuset": "2"}]}}
  contains:
    live:
      description: The running guest's values, by option (V(memory), V(scheduler), ...), when the run applied live.
      type: dict
      returned: when the run applied live
    config:
      description: The persistent definition's values, by option, when the run applied to it.
      type: dict
      returned: when the run applied to the definition
actions:
  description: What was set (or would be, in check mode), per group and scope, with the new values.
  returned: always
  type: list
  elements: str
  sample: ["set memory (live): hard_limit=2097152", "set memory (config): hard_limit=2097152"]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _tune
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)


def argument_spec():
    return connection_argument_spec(dict(
        domain=dict(type='str', required=True),
        live=dict(type='bool'),
        persistent=dict(type='bool', default=True),
        memory=dict(type='dict', options=dict(
            hard_limit=dict(type='raw'), soft_limit=dict(type='raw'), swap_hard_limit=dict(type='raw'),
            min_guarantee=dict(type='raw'))),
        memory_stats_period=dict(type='int'),
        scheduler=dict(type='dict', options=dict((key, dict(type='int')) for key in (
            'cpu_shares', 'vcpu_period', 'vcpu_quota', 'emulator_period', 'emulator_quota', 'global_period',
            'global_quota', 'iothread_period', 'iothread_quota'))),
        blkio=dict(type='dict', options=dict(
            weight=dict(type='int'),
            devices=dict(type='list', elements='dict', options=dict(
                path=dict(type='str', required=True), weight=dict(type='int'), read_bytes_sec=dict(type='raw'),
                write_bytes_sec=dict(type='raw'), read_iops_sec=dict(type='int'), write_iops_sec=dict(type='int'))),
        )),
        numa=dict(type='dict', options=dict(
            mode=dict(type='str', choices=['strict', 'preferred', 'interleave', 'restrictive']),
            nodeset=dict(type='str'))),
        perf=dict(type='dict'),
        interfaces=dict(type='list', elements='dict', options=dict(
            device=dict(type='str', required=True),
            inbound=dict(type='dict', options=dict(
                average=dict(type='raw'), peak=dict(type='raw'), burst=dict(type='raw'), floor=dict(type='raw'))),
            outbound=dict(type='dict', options=dict(
                average=dict(type='raw'), peak=dict(type='raw'), burst=dict(type='raw'))),
        )),
        vcpu_pins=dict(type='list', elements='dict', options=dict(
            vcpu=dict(type='int', required=True), cpuset=dict(type='str', required=True))),
        emulator_pin=dict(type='str'),
        iothreads=dict(type='list', elements='dict', options=dict(
            id=dict(type='int', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            cpuset=dict(type='str'), poll_max_ns=dict(type='int'), poll_grow=dict(type='int'),
            poll_shrink=dict(type='int'))),
        vcpus=dict(type='int'),
    ))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_one_of=[('memory', 'memory_stats_period', 'scheduler', 'blkio', 'numa', 'perf', 'interfaces',
                          'vcpu_pins', 'emulator_pin', 'iothreads', 'vcpus')],
        supports_check_mode=True,
    )
    require_libraries(module)
    _tune.run_module(module)


if __name__ == '__main__':
    main()
