#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: cpu_baseline
short_description: Compute the baseline CPU that runs on every host of a set
version_added: 0.1.0
description:
  - Computes, with libvirt, the most capable guest CPU that every one of a set of host CPUs can run, for a guest
    that must be able to live-migrate between those hosts.
  - The CPUs are given as XML or as the CPU data M(sysvirt.libvirt.host_facts) reports under
    C(ansible_facts.libvirt.capabilities.host.cpu), typically gathered from every hypervisor of a group.
  - Where the daemon supports it, the hypervisor-aware variant is used, which also knows what the emulator (QEMU)
    can actually provide on the host the connection goes to; otherwise the CPU definitions alone are used.
  - Only reads; changes nothing on the hypervisor.
author:
  - sysvirt developers (@sysvirt)
options:
  cpus:
    description:
      - The host CPU definitions, at least one.
      - Each is either XML text (a C(<cpu>) element, or a document that holds one such as the capabilities
        document of a host or a domain definition), or a dictionary of CPU data with the keys C(arch), C(model),
        C(vendor), C(features) (a list of feature names, or of dictionaries with C(name) and C(policy)) and
        optionally C(topology) and C(disabled_features), as M(sysvirt.libvirt.host_facts) reports under
        C(capabilities.host.cpu) and this module returns as RV(cpu).
      - A CPU without an architecture is taken to have the architecture of the connected host.
      - All CPUs must have the same vendor; libvirt refuses to mix vendors.
    type: list
    elements: raw
    required: true
  expand_features:
    description:
      - List every feature of the baseline CPU, including those its model implies, rather than only those it
        adds to its model.
    type: bool
    default: false
  migratable:
    description:
      - Leave out features that block migration (such as C(invtsc)).
    type: bool
    default: false
  hypervisor_aware:
    description:
      - Whether to use the hypervisor-aware baseline (libvirt's C(virConnectBaselineHypervisorCPU)), which takes
        the emulator on the connected host into account.
      - When not set, it is used where the connection supports it, and the plain baseline is used elsewhere.
      - V(true) requires it and fails with a hint where the connection does not support it.
      - V(false) computes the baseline from the CPU definitions alone.
      - Setting O(hypervisor) implies V(true).
    type: bool
  hypervisor:
    description:
      - The emulator for the hypervisor-aware baseline. Anything left out takes libvirt's default for the host.
    type: dict
    suboptions:
      emulator:
        description: Path to the emulator binary, for example V(/usr/bin/qemu-system-x86_64).
        type: str
      arch:
        description: Guest architecture, for example V(x86_64).
        type: str
      machine:
        description: Machine type, for example V(q35).
        type: str
      virt_type:
        description: Virtualization type, for example V(kvm) or V(qemu).
        type: str
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
notes:
  - The hypervisor-aware baseline starts nothing, but libvirt may probe the emulator; it can take a few seconds.
  - On a host that itself runs nested in a virtual machine, the hypervisor-aware baseline may drop features that
    the host CPU reports but the emulator cannot give a guest.
seealso:
  - module: sysvirt.libvirt.cpu_compare
  - module: sysvirt.libvirt.host_facts
  - name: libvirt CPU model and topology
    description: The C(<cpu>) element of a domain.
    link: https://libvirt.org/formatdomain.html#cpu-model-and-topology
'''

EXAMPLES = r'''
- name: Gather the facts of every hypervisor
  sysvirt.libvirt.host_facts:
    uri: qemu:///system

- name: Compute the baseline CPU of the group
  sysvirt.libvirt.cpu_baseline:
    uri: qemu:///system
    cpus: "{{ groups['hypervisors'] | map('extract', hostvars, ['ansible_facts', 'libvirt', 'capabilities', 'host', 'cpu']) | list }}"
    migratable: true
  run_once: true
  register: fleet

- name: Show the baseline model
  ansible.builtin.debug:
    msg: "{{ fleet.cpu.model }} + {{ fleet.cpu.features | join(', ') }}"

- name: Baseline of two CPUs given as XML, from their definitions alone, every feature listed
  sysvirt.libvirt.cpu_baseline:
    uri: qemu:///system
    hypervisor_aware: false
    expand_features: true
    cpus:
      - |
        <cpu>
          <arch>x86_64</arch>
          <model>EPYC-Rome</model>
          <vendor>AMD</vendor>
          <feature name='x2apic'/>
        </cpu>
      - |
        <cpu>
          <arch>x86_64</arch>
          <model>EPYC-Milan</model>
          <vendor>AMD</vendor>
        </cpu>

- name: Baseline for TCG guests on the q35 machine
  sysvirt.libvirt.cpu_baseline:
    uri: qemu:///system
    cpus:
      - "{{ ansible_facts.libvirt.capabilities.host.cpu }}"
    hypervisor:
      arch: x86_64
      machine: q35
      virt_type: qemu
'''

RETURN = r'''
xml:
  description: The baseline CPU as a C(<cpu>) element, ready for a domain definition.
  returned: success
  type: str
  sample: "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>EPYC-Rome</model>\n  <vendor>AMD</vendor>\n</cpu>\n"
cpu:
  description: The baseline CPU as data; give it to M(sysvirt.libvirt.cpu_compare) as O(sysvirt.libvirt.cpu_compare#module:cpu).
  returned: success
  type: dict
  contains:
    mode:
      description: The CPU mode, normally V(custom).
      type: str
      sample: custom
    match:
      description: How strictly the model must match, normally V(exact).
      type: str
      sample: exact
    check:
      description: The check attribute, when libvirt sets one.
      type: str
    arch:
      description: The architecture, when libvirt names one.
      type: str
    model:
      description: The CPU model.
      type: str
      sample: EPYC-Rome
    fallback:
      description: Whether libvirt may fall back to another model (V(allow) or V(forbid)).
      type: str
      sample: allow
    vendor:
      description: The CPU vendor.
      type: str
      sample: AMD
    features:
      description: The features the CPU requires beyond its model (every feature with O(expand_features=true)).
      type: list
      elements: str
      sample: [x2apic, tsc-deadline, hypervisor]
    disabled_features:
      description: The features of the model the CPU turns off.
      type: list
      elements: str
      sample: [svm]
    feature_policies:
      description: Every feature with its policy (C(name), C(policy)).
      type: list
      elements: dict
      sample: [{name: x2apic, policy: require}]
    topology:
      description: The topology, when present (normally empty).
      type: dict
hypervisor_aware:
  description: Whether the hypervisor-aware baseline was used.
  returned: success
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, module_connection, require_libraries,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._cpu import baseline


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            cpus=dict(type='list', elements='raw', required=True),
            expand_features=dict(type='bool', default=False),
            migratable=dict(type='bool', default=False),
            hypervisor_aware=dict(type='bool'),
            hypervisor=dict(type='dict', options=dict(
                emulator=dict(type='str'),
                arch=dict(type='str'),
                machine=dict(type='str'),
                virt_type=dict(type='str'),
            )),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    params = module.params
    if params['hypervisor'] and params['hypervisor_aware'] is False:
        module.fail_json(msg='hypervisor options need the hypervisor-aware baseline: leave hypervisor_aware unset '
                             'or set it to true')
    with module_connection(module) as conn:
        outcome = baseline(conn, params['cpus'], expand_features=params['expand_features'],
                           migratable=params['migratable'], hypervisor_aware=params['hypervisor_aware'],
                           hypervisor=params['hypervisor'])
    module.exit_json(changed=False, xml=outcome['xml'], cpu=outcome['cpu'],
                     hypervisor_aware=outcome['hypervisor_aware'])


if __name__ == '__main__':
    main()
