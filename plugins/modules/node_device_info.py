#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: node_device_info
short_description: List the host devices libvirt knows (PCI, USB, network, storage, mediated devices ...)
version_added: 0.1.0
description:
  - Returns the host (node) devices of a libvirt host - all of them, those with given capabilities, or one by name
    - with their parent, driver, device nodes and capability data parsed - PCI address, class, vendor and product,
    IOMMU group, SR-IOV functions and mediated device types; USB bus and device; network interface, MAC and link;
    storage block device, type and size; SCSI hosts; mediated devices.
  - Also whether each device is active, persistent and autostarted, where the daemon says so.
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - Only the device of this name (for example V(pci_0000_00_03_0)). Empty result when there is none.
    type: str
  capabilities:
    description:
      - Only devices with one of these capabilities.
    type: list
    elements: str
    choices: [system, pci, usb_device, usb, net, scsi_host, scsi_target, scsi, storage, fc_host, vports,
              scsi_generic, drm, mdev_types, mdev, ccw, css, vdpa, ap_card, ap_queue, ap_matrix, vpd]
    default: []
  xml:
    description:
      - Also return each device's XML description.
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
seealso:
  - module: sysvirt.libvirt.node_device
'''

EXAMPLES = r'''
- name: All PCI devices
  sysvirt.libvirt.node_device_info:
    capabilities: [pci]
  register: pci

- name: PCI addresses of the devices bound to vfio-pci (detached for passthrough)
  ansible.builtin.debug:
    msg: "{{ pci.devices | selectattr('driver', 'eq', 'vfio-pci') | map(attribute='capabilities') | map('first')
             | map(attribute='address') }}"

- name: One device, with its XML
  sysvirt.libvirt.node_device_info:
    name: net_eth0_02_fc_00_00_00_01
    xml: true
'''

RETURN = r'''
devices:
  description: The devices found, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: libvirt's name of the device.
      type: str
      sample: pci_0000_00_03_0
    path:
      description: The sysfs path, or null.
      type: str
      sample: /sys/devices/pci0000:00/0000:00:03.0
    parent:
      description: The parent device's name, or null.
      type: str
      sample: computer
    driver:
      description: The bound kernel driver, or null.
      type: str
      sample: virtio-pci
    devnodes:
      description: Device nodes (C(type), C(path)).
      type: list
      elements: dict
    capability_types:
      description: The capability types of the device.
      type: list
      elements: str
      sample: [pci]
    capabilities:
      description:
        - One dict per capability, with C(type) and the data of that type. V(pci) - C(address), C(domain),
          C(bus), C(slot), C(function), C(class_code), C(vendor) and C(product) (C(id), C(name)), C(iommu_group)
          (C(number), C(addresses)), C(functions) (SR-IOV, by type), C(mdev_types) (C(id), C(name),
          C(device_api), C(available_instances)), C(numa_node). V(usb_device) - C(bus), C(device), C(vendor),
          C(product). V(net) - C(interface), C(address), C(link_state), C(link_speed), C(features). V(storage) -
          C(block), C(drive_type), C(bus), C(model), C(vendor), C(serial), C(size_bytes). V(scsi_host) - C(host),
          C(unique_id), C(capabilities), C(wwnn), C(wwpn). V(mdev) - C(mdev_type), C(uuid), C(iommu_group),
          C(attributes). Other types - their child elements.
      type: list
      elements: dict
      sample: [{type: pci, address: '0000:00:03.0', domain: 0, bus: 0, slot: 3, function: 0, class_code: '0x020000',
                vendor: {id: '0x1af4', name: null}, product: {id: '0x1041', name: null}, iommu_group: null,
                functions: {}, mdev_types: [], numa_node: null}]
    active:
      description: Whether the device is active (null where the daemon cannot say).
      type: bool
    persistent:
      description: Whether the device is defined persistently (null where the daemon cannot say).
      type: bool
    autostart:
      description: Whether a persistent device is started with the host (null where the daemon cannot say).
      type: bool
    xml:
      description: The device's XML description.
      returned: when O(xml=true)
      type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _nodedev
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, module_connection, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            name=dict(type='str'),
            capabilities=dict(type='list', elements='str', default=[], choices=[
                'system', 'pci', 'usb_device', 'usb', 'net', 'scsi_host', 'scsi_target', 'scsi', 'storage',
                'fc_host', 'vports', 'scsi_generic', 'drm', 'mdev_types', 'mdev', 'ccw', 'css', 'vdpa', 'ap_card',
                'ap_queue', 'ap_matrix', 'vpd']),
            xml=dict(type='bool', default=False),
        )),
        supports_check_mode=True,
    )
    require_libraries(module)
    params = module.params
    with module_connection(module) as conn:
        devices = _nodedev.list_devices(conn, name=params['name'], capabilities=params['capabilities'],
                                        with_xml=params['xml'])
    module.exit_json(changed=False, devices=devices)


if __name__ == '__main__':
    main()
