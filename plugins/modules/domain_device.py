#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_device
short_description: Attach, update and detach devices of libvirt guests (hotplug)
version_added: 0.1.0
description:
  - Attaches a device (disk, cdrom, NIC, hostdev, filesystem, ...) to a guest, updates it (for example new media
    in a cdrom drive, a NIC's link state) or detaches it, in the running guest (O(live)), in its persistent
    definition (O(persistent)), or both.
  - The device is given as XML (O(xml)) or, for disks and NICs, in a small structured form (O(disk),
    O(interface)).
  - The device is found in the guest by its target (disks C(<target dev>), filesystems C(<target dir>)), its MAC
    address (NICs), its C(<alias name>), a hostdev's C(<source>), or else by its whole definition. What the
    user did not write, and what libvirt fills in (PCI addresses, aliases, driver names, backing chains), is not
    compared.
  - Detaching from a running guest waits for the guest to release the device (libvirt's device-removed event),
    up to O(timeout) seconds; PCI devices need the guest OS to cooperate (ACPI hotplug).
author:
  - sysvirt developers (@sysvirt)
options:
  domain:
    description:
      - The guest, by name or UUID.
    type: str
    required: true
  state:
    description:
      - V(present) attaches the device, or updates it when it is there and differs.
      - V(absent) detaches it.
    type: str
    choices: [present, absent]
    default: present
  xml:
    description:
      - The device element, for example C(<disk>...</disk>) or C(<hostdev>...</hostdev>).
      - A NIC needs C(<mac address>) (or a user alias C(<alias name='ua-...'>)) to be found again.
    type: str
  disk:
    description:
      - A disk or cdrom in structured form.
    type: dict
    suboptions:
      target:
        description: The target device name in the guest (C(vdb), C(sdc), C(hdc)); identifies the disk.
        type: str
        required: true
      source:
        description:
          - Path of the image file or block device (C(/dev/...)). For a cdrom, the media; leave it out for an
            empty drive (ejects media that is in it).
        type: path
      pool:
        description: Use a volume of this storage pool as the source (with O(disk.volume)).
        type: str
      volume:
        description: The volume name in O(disk.pool).
        type: str
      device:
        description: The kind of drive.
        type: str
        choices: [disk, cdrom, floppy, lun]
        default: disk
      format:
        description: The image format (C(<driver type>)), for example V(qcow2) or V(raw).
        type: str
      bus:
        description: The bus (V(virtio), V(scsi), V(sata), V(usb), ...); libvirt's choice when omitted.
        type: str
      readonly:
        description: Read-only. Default V(true) for a cdrom, V(false) otherwise.
        type: bool
      serial:
        description: The serial number the guest sees.
        type: str
  interface:
    description:
      - A NIC in structured form. Found by its MAC address, which is therefore required.
    type: dict
    suboptions:
      mac:
        description: The MAC address; identifies the NIC.
        type: str
        required: true
      type:
        description: The interface type.
        type: str
        choices: [network, user]
        default: network
      network:
        description: The libvirt network (needed to attach an O(interface.type=network) NIC).
        type: str
      model:
        description: The NIC model, for example V(virtio) or V(e1000).
        type: str
      link_state:
        description: The link state.
        type: str
        choices: [up, down]
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
  timeout:
    description:
      - Seconds to wait for the guest to release a device on live detach. On timeout the module fails; the
        request stays pending in the guest.
    type: int
    default: 30
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
seealso:
  - module: sysvirt.libvirt.domain_block
  - name: libvirt domain XML, devices
    description: The device elements.
    link: https://libvirt.org/formatdomain.html#devices
notes:
  - A disk whose media or source changes is updated in place (libvirt's update-device); other changes libvirt
    cannot make to an attached device fail with libvirt's message, and nothing is changed.
  - Definitions are read without libvirt's secure flag, so secrets (graphics passwords) never appear in the result
    or the diff; a device whose desired XML holds such a secret is therefore always reported as different.
'''

EXAMPLES = r'''
- name: Hotplug a data disk, live and in the definition
  sysvirt.libvirt.domain_device:
    domain: web1
    disk:
      target: vdb
      source: /var/lib/libvirt/images/web1-data.qcow2
      format: qcow2
      bus: virtio

- name: Insert an ISO into the cdrom drive
  sysvirt.libvirt.domain_device:
    domain: web1
    disk:
      target: sda
      device: cdrom
      bus: sata
      source: /var/lib/libvirt/images/tools.iso

- name: Eject it (the drive stays)
  sysvirt.libvirt.domain_device:
    domain: web1
    disk:
      target: sda
      device: cdrom
      bus: sata

- name: Add a NIC on an isolated network
  sysvirt.libvirt.domain_device:
    domain: web1
    interface:
      mac: "52:54:00:12:34:56"
      network: isolated
      model: virtio

- name: Detach the data disk, waiting up to a minute for the guest to let go
  sysvirt.libvirt.domain_device:
    domain: web1
    state: absent
    timeout: 60
    disk:
      target: vdb

- name: A host USB device, given as XML
  sysvirt.libvirt.domain_device:
    domain: web1
    xml: |
      <hostdev mode='subsystem' type='usb'>
        <source><vendor id='0x0781'/><product id='0x5567'/></source>
      </hostdev>
'''

RETURN = r'''
domain:
  description: The guest's name.
  returned: always
  type: str
device:
  description: The device as libvirt stores it after the run (live definition first, else persistent), null
    when absent; in check mode what would be attached.
  returned: always
  type: str
devices:
  description: The device per scope (C(live), C(config)) the run applied to.
  returned: always
  type: dict
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["attach disk target vdb (live)", "attach disk target vdb (config)"]
differences:
  description: Why an existing device is updated, each item as in RV(sysvirt.libvirt.network#module:differences).
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _device
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            domain=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            xml=dict(type='str'),
            disk=dict(type='dict', options=dict(
                target=dict(type='str', required=True),
                source=dict(type='path'),
                pool=dict(type='str'),
                volume=dict(type='str'),
                device=dict(type='str', default='disk', choices=['disk', 'cdrom', 'floppy', 'lun']),
                format=dict(type='str'),
                bus=dict(type='str'),
                readonly=dict(type='bool'),
                serial=dict(type='str'),
            ), mutually_exclusive=[('source', 'pool')], required_together=[('pool', 'volume')]),
            interface=dict(type='dict', options=dict(
                mac=dict(type='str', required=True),
                type=dict(type='str', default='network', choices=['network', 'user']),
                network=dict(type='str'),
                model=dict(type='str'),
                link_state=dict(type='str', choices=['up', 'down']),
            )),
            live=dict(type='bool'),
            persistent=dict(type='bool', default=True),
            timeout=dict(type='int', default=30),
        )),
        mutually_exclusive=[('xml', 'disk', 'interface')],
        required_one_of=[('xml', 'disk', 'interface')],
        supports_check_mode=True,
    )
    require_libraries(module)
    _device.run_module(module)


if __name__ == '__main__':
    main()
