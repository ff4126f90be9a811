#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: node_device
short_description: Create virtual host devices, detach PCI devices for passthrough
version_added: 0.1.0
description:
  - Creates and removes virtual host (node) devices - SCSI vHBAs (NPIV) and mediated devices (mdev) - transient
    or, where the daemon supports it (libvirt 7.3 and later, for mdevs), persistent with autostart.
  - Detaches a PCI device from its host driver for passthrough to guests (O(state=detached)), gives it back to the
    host (O(state=attached)), and resets it (O(reset)). Each is idempotent - a device bound to C(vfio-pci) (or
    another passthrough driver) counts as detached.
  - Safety - detaching refuses a device the host uses below it (a network interface, a disk, a display) and PCI
    bridges, and resetting refuses a device bound to a host driver, unless O(force=true). Detaching the PCI
    device behind the host's own network card cuts the host off.
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - The device's name as libvirt lists it (for example V(pci_0000_03_00_0), V(scsi_host5),
        V(mdev_4b20d080_1b54_4048_85b3_a6a62d165c01)). Required for PCI states; for virtual devices, taken from
        the C(<name>) of O(xml) when not given.
    type: str
  xml:
    description:
      - The definition of a virtual device (a C(<device>) document with a C(<parent>) and a C(scsi_host) or C(mdev)
        capability), used to create it when it does not exist. Parsed safely (no entities, no DTD).
    type: str
  state:
    description:
      - V(present) - the virtual device exists and is active (created from O(xml), or started when it is defined).
      - V(absent) - the virtual device is destroyed (and undefined when persistent).
      - V(detached) - the PCI device is detached from its host driver for passthrough.
      - V(attached) - the PCI device is bound to its host driver again.
    type: str
    choices: [present, absent, detached, attached]
    default: present
  persistent:
    description:
      - Define the virtual device persistently (libvirt keeps it across restarts of the host) and start it, rather
        than creating a transient one. Only mediated devices can be persistent.
    type: bool
    default: false
  autostart:
    description:
      - For a persistent virtual device, whether it starts with the host. Left alone when not given.
    type: bool
  driver:
    description:
      - With O(state=detached), the passthrough driver to bind (for example V(vfio)); libvirt chooses when not given.
    type: str
  reset:
    description:
      - Reset the PCI device (function-level or bus reset). Changes something every time it is set, so it reports
        a change every time.
      - Only for a device the host does not use - one that is detached for passthrough (bound to C(vfio-pci) or
        another passthrough driver, or detached in the same run with O(state=detached)) or bound to no driver.
        A device bound to a host driver (for example the host's network card under C(e1000e)), or given back
        to the host with O(state=attached), is refused unless O(force=true), in check mode too. libvirt itself
        refuses to reset a device that a running guest uses.
    type: bool
    default: false
  force:
    description:
      - Detach even a device the host uses or a PCI bridge, and reset (O(reset)) even a device bound to a host
        driver.
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
attributes:
  diff_mode:
    support: none
    details: Devices are not definitions to compare; RV(actions) says what changes.
  idempotent:
    details: Not with O(reset=true).
notes:
  - Detaching needs an IOMMU (C(intel_iommu=on) or C(amd_iommu=on)) for C(vfio-pci); without one libvirt fails and
    the module reports libvirt's error.
  - The test driver (C(test:///default)) has no PCI devices to detach.
seealso:
  - module: sysvirt.libvirt.node_device_info
  - name: libvirt node device XML format
    description: Virtual HBAs and mediated devices.
    link: https://libvirt.org/formatnode.html
'''

EXAMPLES = r'''
- name: Detach a GPU for passthrough
  sysvirt.libvirt.node_device:
    name: pci_0000_65_00_0
    state: detached

- name: Give it back to the host
  sysvirt.libvirt.node_device:
    name: pci_0000_65_00_0
    state: attached

- name: A persistent mediated device (vGPU) that starts with the host
  sysvirt.libvirt.node_device:
    name: mdev_4b20d080_1b54_4048_85b3_a6a62d165c01_0000_65_00_0
    persistent: true
    autostart: true
    xml: |
      <device>
        <parent>pci_0000_65_00_0</parent>
        <capability type='mdev'>
          <type id='nvidia-63'/>
          <uuid>4b20d080-1b54-4048-85b3-a6a62d165c01</uuid>
        </capability>
      </device>

- name: A vHBA on an NPIV-capable HBA
  sysvirt.libvirt.node_device:
    name: scsi_host7
    xml: |
      <device>
        <name>scsi_host7</name>
        <parent>scsi_host5</parent>
        <capability type='scsi_host'>
          <capability type='fc_host'/>
        </capability>
      </device>
'''

RETURN = r'''
device:
  description: The device after the run (in check mode, as it would be), keys as in
    RV(sysvirt.libvirt.node_device_info#module:devices); null when absent.
  returned: always
  type: dict
  sample: {name: pci_0000_65_00_0, parent: pci_0000_64_00_0, driver: vfio-pci, capability_types: [pci]}
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [detach]
differences:
  description: Always empty; present for symmetry with the other resource modules.
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _nodedev
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, exit_module, module_connection, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            name=dict(type='str'),
            xml=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent', 'detached', 'attached'], default='present'),
            persistent=dict(type='bool', default=False),
            autostart=dict(type='bool'),
            driver=dict(type='str'),
            reset=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
        )),
        required_if=[('state', 'detached', ['name']), ('state', 'attached', ['name'])],
        required_one_of=[('name', 'xml')],
        supports_check_mode=True,
    )
    require_libraries(module)
    params = module.params
    if params['reset'] and params['state'] not in ('detached', 'attached'):
        module.fail_json(msg='reset is for PCI devices: use it with state detached or attached')
    with module_connection(module) as conn:
        if params['state'] in ('detached', 'attached'):
            outcome, data = _nodedev.ensure_pci(conn, params, module.check_mode)
        else:
            outcome, data = _nodedev.ensure_virtual(conn, params, module.check_mode)
    exit_module(module, outcome.result(device=data, warnings=outcome.warnings))


if __name__ == '__main__':
    main()
