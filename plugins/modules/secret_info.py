#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: secret_info
short_description: List libvirt secrets
version_added: 0.1.0
description:
  - Returns the secrets of a libvirt host, all of them or one found by UUID or by usage, with their metadata
    (UUID, usage, description, ephemeral and private flags).
  - The value only when O(value=true), and only for secrets that are not private; libvirt never gives back the
    value of a private secret.
author:
  - sysvirt developers (@sysvirt)
options:
  uuid:
    description:
      - Only the secret with this UUID.
    type: str
  usage_type:
    description:
      - Only secrets of this usage type; with O(usage_id), the one secret of that usage.
    type: str
    choices: [volume, ceph, iscsi, tls, vtpm]
  usage_id:
    description:
      - With O(usage_type), the usage identifier of the one secret to return.
    type: str
  value:
    description:
      - Also return the value of each non-private secret. Reading a value needs a read-write connection.
      - The values then appear in the module's result; protect the task with C(no_log) when it matters.
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.INFO_MODULE
seealso:
  - module: sysvirt.libvirt.secret
'''

EXAMPLES = r'''
- name: All secrets of the host
  sysvirt.libvirt.secret_info:
  register: secrets

- name: The secret of a volume
  sysvirt.libvirt.secret_info:
    usage_type: volume
    usage_id: /var/lib/libvirt/images/encrypted.qcow2
  register: volume_secret

- name: Read a non-private value
  sysvirt.libvirt.secret_info:
    uuid: 8e7ee0a2-6d12-4a7e-bd4d-3a4f0e6c2c31
    value: true
  register: tls_secret
  no_log: true
'''

RETURN = r'''
secrets:
  description: The secrets found, sorted by usage; empty when none matches.
  returned: always
  type: list
  elements: dict
  contains:
    uuid:
      description: The UUID.
      type: str
      sample: 8e7ee0a2-6d12-4a7e-bd4d-3a4f0e6c2c31
    usage_type:
      description: The usage type, or null.
      type: str
      sample: volume
    usage_id:
      description: The usage identifier, or null.
      type: str
      sample: /var/lib/libvirt/images/encrypted.qcow2
    description:
      description: The description, or null.
      type: str
    ephemeral:
      description: Whether the value is kept only in memory.
      type: bool
    private:
      description: Whether the value can never be read back.
      type: bool
    value_status:
      description: V(ok) (value returned), V(unset) (the secret has no value) or V(private) (cannot be read).
      returned: when O(value=true)
      type: str
    value:
      description: The value as text; null when private, unset, or not valid UTF-8 (see RV(secrets[].value_base64)).
      returned: when O(value=true)
      type: str
    value_base64:
      description: The value as base64; null when private or unset.
      returned: when O(value=true)
      type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _secret
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, module_connection, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            uuid=dict(type='str'),
            usage_type=dict(type='str', choices=['volume', 'ceph', 'iscsi', 'tls', 'vtpm']),
            usage_id=dict(type='str'),
            value=dict(type='bool', default=False),
        )),
        required_by=dict(usage_id=['usage_type']),
        mutually_exclusive=[('uuid', 'usage_type')],
        supports_check_mode=True,
    )
    require_libraries(module)
    params = module.params
    with module_connection(module) as conn:
        secrets = _secret.list_secrets(conn, uuid=params['uuid'], usage_type=params['usage_type'],
                                       usage_id=params['usage_id'], with_value=params['value'])
    module.exit_json(changed=False, secrets=secrets)


if __name__ == '__main__':
    main()
