#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: secret
short_description: Manage libvirt secrets and their values
version_added: 0.1.0
description:
  - Defines, changes and removes libvirt secrets (the passphrases, keys and passwords libvirt hands to
    volumes, Ceph and iSCSI storage, TLS and vTPM devices), and sets their value idempotently.
  - The secret is found by O(uuid), or by its usage (O(usage_type) and O(usage_id)); with O(xml), by the
    C(<uuid>) or C(<usage>) of the document.
  - The definition is reconciled like every XML-defined object of this collection; only what you set is
    compared. libvirt cannot change the usage or the C(private) flag of an existing secret; asking for that
    fails with a message saying so, and changes nothing.
  - The value is never returned, shown in a diff, a warning or a log. It is compared in constant time with the
    stored value where libvirt gives that back. A private secret's value cannot be read, so it cannot be
    compared; see O(value_update).
author:
  - sysvirt developers (@sysvirt)
options:
  uuid:
    description:
      - The secret's UUID. Looks the secret up by it; for a new secret, the UUID to give it (libvirt generates one
        otherwise).
    type: str
  usage_type:
    description:
      - What the secret is for. Together with O(usage_id) it identifies the secret (libvirt allows one secret per
        usage).
      - V(passphrase) and V(none) are not offered; use O(xml) for documents libvirt may add.
    type: str
    choices: [volume, ceph, iscsi, tls, vtpm]
  usage_id:
    description:
      - The usage's identifier, the text of the usage's child element, by O(usage_type) - V(volume) the volume path
        (C(<volume>)), V(ceph) and V(tls) and V(vtpm) the name (C(<name>)), V(iscsi) the target (C(<target>)).
    type: str
  description:
    description:
      - A human-readable description of the secret.
    type: str
  ephemeral:
    description:
      - Keep the value only in memory, never on disk. Left as stored when not given (libvirt's default for a new
        secret is V(false)).
    type: bool
  private:
    description:
      - Never give the value back to any client once set. libvirt cannot change this flag of an existing secret.
        Left as stored when not given (default for a new secret V(false)).
    type: bool
  xml:
    description:
      - The secret's definition as a libvirt C(<secret>) document, instead of the structured options.
      - It is parsed safely (no entities, no DTD). Its C(<uuid>) or C(<usage>) identifies the secret.
    type: str
  state:
    description:
      - V(present) defines the secret (and sets its value when one is given); V(absent) removes it with its value.
    type: str
    choices: [present, absent]
    default: present
  value:
    description:
      - The secret's value, as text (stored as its UTF-8 bytes). Never logged or returned.
    type: str
  value_base64:
    description:
      - The secret's value as base64, for binary values (keys). Never logged or returned.
    type: str
  value_update:
    description:
      - When to set the value on a secret that already exists. A new secret always gets the value.
      - V(on_change) compares it with the stored value and sets it when they differ (or when the secret has no
        value). A private secret's value cannot be read back; it is then left as it is, the result says so
        (RV(value_report.comparable=false)) and a warning suggests V(always).
      - V(on_create) sets it only when the secret is new in this run or has no value yet.
      - V(always) sets it on every run, and so always reports a change.
    type: str
    choices: [on_change, on_create, always]
    default: on_change
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
attributes:
  idempotent:
    details: Not with O(value_update=always), which sets the value on every run.
notes:
  - The test driver (C(test:///default)) has no secrets; use a real daemon.
  - Check mode predicts from the stored definition and, where readable, the stored value.
seealso:
  - module: sysvirt.libvirt.secret_info
  - name: libvirt secret XML format
    description: The elements and attributes of a secret definition.
    link: https://libvirt.org/formatsecret.html
'''

EXAMPLES = r'''
- name: A Ceph client key, given as base64, private to libvirt
  sysvirt.libvirt.secret:
    usage_type: ceph
    usage_id: client.libvirt secret
    description: Ceph client.libvirt key
    private: true
    value_base64: "{{ vault_ceph_libvirt_key }}"

- name: A LUKS passphrase for a volume, compared with the stored one on every run
  sysvirt.libvirt.secret:
    usage_type: volume
    usage_id: /var/lib/libvirt/images/encrypted.qcow2
    value: "{{ vault_volume_passphrase }}"
  no_log: true

- name: Rotate the private iSCSI CHAP password (it cannot be compared, so set it every time)
  sysvirt.libvirt.secret:
    usage_type: iscsi
    usage_id: iqn.2013-06.com.example:iscsi-pool
    private: true
    value: "{{ vault_chap_password }}"
    value_update: always

- name: A secret from a document
  sysvirt.libvirt.secret:
    xml: |
      <secret ephemeral='no' private='no'>
        <uuid>8e7ee0a2-6d12-4a7e-bd4d-3a4f0e6c2c31</uuid>
        <description>TLS key passphrase</description>
        <usage type='tls'>
          <name>migration-tls</name>
        </usage>
      </secret>

- name: Remove the secret of a volume
  sysvirt.libvirt.secret:
    usage_type: volume
    usage_id: /var/lib/libvirt/images/encrypted.qcow2
    state: absent
'''

RETURN = r'''
secret:
  description: The secret after the run (in check mode, as it would be); null when absent. Never holds the value.
  returned: always
  type: dict
  contains:
    uuid:
      description: The UUID (null in check mode for a secret that would be created without one).
      type: str
      sample: 8e7ee0a2-6d12-4a7e-bd4d-3a4f0e6c2c31
    usage_type:
      description: The usage type, or null.
      type: str
      sample: ceph
    usage_id:
      description: The usage identifier, or null.
      type: str
      sample: client.libvirt secret
    description:
      description: The description, or null.
      type: str
    ephemeral:
      description: Whether the value is kept only in memory.
      type: bool
    private:
      description: Whether the value can never be read back.
      type: bool
value_report:
  description: What happened to the value (never the value itself).
  returned: when O(state=present)
  type: dict
  contains:
    given:
      description: Whether a value was given.
      type: bool
    mode:
      description: The O(value_update) mode that applied.
      type: str
      sample: on_change
    changed:
      description: Whether the value was set (in check mode, would be set).
      type: bool
    comparable:
      description: Whether the stored value could be compared with the given one; false for private secrets and
        new secrets; null when no value was given.
      type: bool
    note:
      description: One sentence on what was done with the value and why.
      type: str
      sample: The stored value is the wanted one.
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [define, set value]
differences:
  description: >-
    The parts of the stored definition that did not match the desired one, each item as in
    RV(sysvirt.libvirt.network#module:differences).
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _secret
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, exit_module, module_connection, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            uuid=dict(type='str'),
            usage_type=dict(type='str', choices=['volume', 'ceph', 'iscsi', 'tls', 'vtpm']),
            usage_id=dict(type='str'),
            description=dict(type='str'),
            ephemeral=dict(type='bool'),
            private=dict(type='bool'),
            xml=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            value=dict(type='str', no_log=True),
            value_base64=dict(type='str', no_log=True),
            value_update=dict(type='str', choices=['on_change', 'on_create', 'always'], default='on_change'),
        )),
        mutually_exclusive=[
            ('value', 'value_base64'),
            ('xml', 'description'), ('xml', 'ephemeral'), ('xml', 'private'),
        ],
        required_together=[('usage_type', 'usage_id')],
        required_one_of=[('uuid', 'usage_type', 'xml')],
        supports_check_mode=True,
    )
    require_libraries(module)
    params = module.params
    with module_connection(module) as conn:
        if params['state'] == 'absent':
            outcome, data = _secret.ensure_absent(conn, params, module.check_mode)
            report = None
        else:
            outcome, data, report = _secret.ensure_present(conn, params, module.check_mode)
    extra = dict(secret=data)
    if report is not None:
        extra['value_report'] = dict(given=report['value_given'], mode=report['value_update'],
                                     changed=report['value_changed'], comparable=report['value_comparable'],
                                     note=report['value_note'])
    exit_module(module, outcome.result(diff=outcome.diff(), warnings=outcome.warnings, **extra))


if __name__ == '__main__':
    main()
