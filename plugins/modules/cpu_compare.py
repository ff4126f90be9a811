#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: cpu_compare
short_description: Check whether a host can run a CPU definition
version_added: 0.1.0
description:
  - Compares a CPU definition with the host behind the connection, and tells whether the host CPU is
    V(identical) to it, a V(superset) of it (the host can run it), or V(incompatible) with it, with the features
    the host lacks.
  - Where the daemon supports it, the hypervisor-aware comparison is used, which asks whether the emulator (QEMU)
    on that host can give a guest this CPU; otherwise the CPU is compared with the host CPU itself.
  - With O(host_cpu), the CPU is compared with another CPU definition instead (for example the facts of a
    hypervisor gathered earlier); libvirt then expands both models into their features and the lists are
    compared.
  - With O(fail_on_incompatible=true), it is a pre-flight check, for example before migrating a guest.
  - Only reads; changes nothing on the hypervisor.
author:
  - sysvirt developers (@sysvirt)
options:
  xml:
    description:
      - The CPU as XML text, a C(<cpu>) element or a document that holds one (a domain definition, a
        capabilities document).
      - Exactly one of O(xml) and O(cpu) is required.
    type: str
  cpu:
    description:
      - The CPU as data, as M(sysvirt.libvirt.host_facts) reports under C(capabilities.host.cpu) or
        M(sysvirt.libvirt.cpu_baseline) returns as C(cpu), with the keys C(arch), C(model), C(vendor), C(features) (names, or
        dictionaries with C(name) and C(policy)), and optionally C(mode), C(match), C(disabled_features),
        C(topology).
      - A CPU without an architecture is taken to have the architecture of the connected host.
    type: dict
  host_cpu:
    description:
      - Compare with this CPU definition instead of the connected host; XML text or CPU data as for O(cpu).
      - Cannot be combined with O(hypervisor) or O(hypervisor_aware=true).
    type: raw
  hypervisor_aware:
    description:
      - Whether to use the hypervisor-aware comparison (libvirt's C(virConnectCompareHypervisorCPU)).
      - When not set, it is used where the connection supports it, and the host CPU comparison elsewhere.
      - V(true) requires it and fails with a hint where the connection does not support it.
      - V(false) compares with the host CPU as the capabilities describe it.
      - Setting O(hypervisor) implies V(true).
    type: bool
  hypervisor:
    description:
      - The emulator for the hypervisor-aware comparison. Anything left out takes libvirt's default for the host.
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
  fail_on_incompatible:
    description:
      - Fail when the result is V(incompatible), with the missing features in the message.
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
notes:
  - On a host that itself runs nested in a virtual machine, the hypervisor-aware comparison can find even the
    host's own CPU V(incompatible), because the emulator cannot give a guest every feature the host CPU reports;
    that is the answer that matters for running guests there.
seealso:
  - module: sysvirt.libvirt.cpu_baseline
  - module: sysvirt.libvirt.host_facts
'''

EXAMPLES = r'''
- name: Pre-flight before migrating to this host - can its QEMU run the fleet baseline CPU?
  sysvirt.libvirt.cpu_compare:
    uri: qemu:///system
    cpu: "{{ fleet.cpu }}"
    fail_on_incompatible: true

- name: Compare a CPU given as XML with the host CPU itself
  sysvirt.libvirt.cpu_compare:
    uri: qemu:///system
    hypervisor_aware: false
    xml: |
      <cpu mode='custom' match='exact'>
        <model fallback='forbid'>EPYC-Rome</model>
        <vendor>AMD</vendor>
        <feature policy='require' name='x2apic'/>
      </cpu>
  register: check

- name: Is the baseline still runnable on another hypervisor, from its gathered facts?
  sysvirt.libvirt.cpu_compare:
    uri: qemu:///system
    cpu: "{{ fleet.cpu }}"
    host_cpu: "{{ hostvars['kvm02'].ansible_facts.libvirt.capabilities.host.cpu }}"
'''

RETURN = r'''
result:
  description:
    - V(identical) when the host CPU is the given CPU, V(superset) when the host CPU offers more, V(incompatible)
      when the host cannot run it.
  returned: when the comparison ran, also when O(fail_on_incompatible=true) fails the task
  type: str
  sample: superset
against:
  description: What the CPU was compared with, V(hypervisor), V(host) or V(host_cpu) (the O(host_cpu) definition).
  returned: when the comparison ran, also when O(fail_on_incompatible=true) fails the task
  type: str
  sample: hypervisor
hypervisor_aware:
  description: Whether the hypervisor-aware comparison was used.
  returned: when the comparison ran, also when O(fail_on_incompatible=true) fails the task
  type: bool
reason:
  description: libvirt's reason when the result is V(incompatible), otherwise null.
  returned: when the comparison ran, also when O(fail_on_incompatible=true) fails the task
  type: str
  sample: "Host CPU does not provide required features: avx512f, avx512dq"
missing_features:
  description: The features of the CPU that the host lacks (empty unless the result is V(incompatible)).
  returned: when the comparison ran, also when O(fail_on_incompatible=true) fails the task
  type: list
  elements: str
  sample: [avx512f, avx512dq]
extra_features:
  description: The features O(host_cpu) has beyond the CPU, after expanding both models.
  returned: when O(host_cpu) is given
  type: list
  elements: str
cpu_xml:
  description: The CPU as given to libvirt.
  returned: when the comparison ran, also when O(fail_on_incompatible=true) fails the task
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, module_connection, require_libraries,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._cpu import compare


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            xml=dict(type='str'),
            cpu=dict(type='dict'),
            host_cpu=dict(type='raw'),
            hypervisor_aware=dict(type='bool'),
            hypervisor=dict(type='dict', options=dict(
                emulator=dict(type='str'),
                arch=dict(type='str'),
                machine=dict(type='str'),
                virt_type=dict(type='str'),
            )),
            fail_on_incompatible=dict(type='bool', default=False),
        )),
        mutually_exclusive=[('xml', 'cpu'), ('host_cpu', 'hypervisor')],
        required_one_of=[('xml', 'cpu')],
        supports_check_mode=True,
    )
    require_libraries(module)
    params = module.params
    if params['hypervisor'] and params['hypervisor_aware'] is False:
        module.fail_json(msg='hypervisor options need the hypervisor-aware comparison: leave hypervisor_aware '
                             'unset or set it to true')
    if params['host_cpu'] is not None and params['hypervisor_aware']:
        module.fail_json(msg='host_cpu compares two CPU definitions; the hypervisor-aware comparison needs the '
                             'connected host: leave hypervisor_aware unset or set it to false')
    cpu = params['xml'] if params['xml'] is not None else params['cpu']
    with module_connection(module) as conn:
        outcome = compare(conn, cpu, hypervisor_aware=params['hypervisor_aware'],
                          hypervisor=params['hypervisor'], host_cpu_definition=params['host_cpu'])
    if outcome['result'] == 'incompatible' and params['fail_on_incompatible']:
        target = dict(hypervisor='the hypervisor', host='the host CPU', host_cpu='host_cpu')[outcome['against']]
        details = []
        if outcome['reason'] and 'does not provide' not in outcome['reason']:
            details.append(outcome['reason'])
        if outcome['missing_features']:
            details.append('missing features: %s' % ', '.join(outcome['missing_features']))
        detail = '; '.join(details) or 'libvirt gave no reason'
        module.fail_json(msg='The CPU is incompatible with %s; %s' % (target, detail), **outcome)
    module.exit_json(changed=False, **outcome)


if __name__ == '__main__':
    main()
