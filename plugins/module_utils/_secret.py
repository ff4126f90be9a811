# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secrets: lookup, desired XML from options, the value (set idempotently, never shown), to-dict for _info.

Private to this collection: the names here may change without notice.

Rules for the secret value, which this file is the only one to touch:
- it is never put into a result, a diff, a warning, an exception message or a log line;
- it is compared in constant time (hmac.compare_digest);
- a private secret's value cannot be read back (libvirt says "secret is private"), so it cannot be
  compared: the result says so, and the value is only set when the secret is created in this run or the
  user asks for ``value_update: always``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import hmac

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    LibvirtFailure, call, failure_from)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import Kind, converge, reconcile_definition

try:
    import libvirt
except ImportError:
    libvirt = None

try:
    from lxml import etree
except ImportError:
    etree = None

#: usage type -> (libvirt constant name, child element holding the usage id)
USAGES = {
    'volume': ('VIR_SECRET_USAGE_TYPE_VOLUME', 'volume'),
    'ceph': ('VIR_SECRET_USAGE_TYPE_CEPH', 'name'),
    'iscsi': ('VIR_SECRET_USAGE_TYPE_ISCSI', 'target'),
    'tls': ('VIR_SECRET_USAGE_TYPE_TLS', 'name'),
    'vtpm': ('VIR_SECRET_USAGE_TYPE_VTPM', 'name'),
}

VALUE_UPDATES = ('on_change', 'on_create', 'always')


def usage_constant(usage_type):
    name = USAGES[usage_type][0]
    if not hasattr(libvirt, name):
        raise LibvirtFailure('This libvirt-python has no secret usage type %r (%s)' % (usage_type, name))
    return getattr(libvirt, name)


def usage_type_name(constant):
    for name, (const_name, dummy) in USAGES.items():
        if getattr(libvirt, const_name, None) == constant:
            return name
    return None if constant == 0 else str(constant)


class SecretKind(Kind):
    noun = 'secret'

    def identity(self, desired):
        return None, _xml.find_text(desired, 'uuid')

    lookups = (('uuid', 'secretLookupByUUIDString'), ('usage', 'secretLookupByUsage'))
    define_call = ('secretDefineXML', ())

    def label(self, obj):
        return 'secret %s' % obj.UUIDString()

    def is_active(self, obj):
        return False  # a secret has no running state

    def is_persistent(self, obj):
        return True  # an ephemeral secret is still defined until undefined

    def lookup(self, conn, usage_type=None, usage_id=None, **ids):
        """By UUID, then by usage (type and id)."""
        usage = (usage_constant(usage_type), usage_id) if usage_type and usage_id else None
        return super(SecretKind, self).lookup(conn, usage=usage, **ids)

    def check_identity(self, obj, desired, stored):
        uuid = _xml.find_text(desired, 'uuid')
        stored_uuid = _xml.find_text(stored, 'uuid')
        if uuid and stored_uuid and not _xml.same_uuid(uuid, stored_uuid):
            raise LibvirtFailure('The secret for this usage exists with UUID %s, but the document asks for UUID '
                                 '%s; remove the <uuid> element or the other secret first' % (stored_uuid, uuid))
        desired_usage, stored_usage = usage_of(desired), usage_of(stored)
        if desired_usage[0] and desired_usage != stored_usage:
            raise LibvirtFailure(
                'The secret %s is used for %s %r; libvirt cannot change the usage of an existing secret'
                % (stored_uuid, stored_usage[0], stored_usage[1]),
                hint='Remove the secret first (state: absent), or give the usage of the existing secret.')
        wanted = desired.get('private')
        if wanted is not None and _bool_attr(wanted) != _bool_attr(stored.get('private')):
            raise LibvirtFailure(
                'The secret %s has private=%s; libvirt cannot change the private flag of an existing secret'
                % (stored_uuid, stored.get('private')),
                hint='Remove the secret first (state: absent) and create it again, then set its value.')


KIND = SecretKind()


def _bool_attr(value):
    return (value or 'no').strip().lower() in ('yes', 'true', '1')


def usage_of(root):
    """(type, id) of a secret document's <usage>, (None, None) without one."""
    usage = root.find('usage')
    if usage is None:
        return None, None
    usage_type = usage.get('type')
    child = USAGES.get(usage_type, (None, None))[1]
    usage_id = _xml.find_text(usage, child) if child else None
    return usage_type, usage_id


def build_xml(params):
    """The desired document from structured options (only what the user set)."""
    root = etree.Element('secret')
    if params.get('ephemeral') is not None:
        root.set('ephemeral', 'yes' if params['ephemeral'] else 'no')
    if params.get('private') is not None:
        root.set('private', 'yes' if params['private'] else 'no')
    if params.get('uuid'):
        _xml.set_child_text(root, 'uuid', params['uuid'])
    if params.get('description') is not None:
        _xml.set_child_text(root, 'description', params['description'])
    if params.get('usage_type'):
        usage = etree.SubElement(root, 'usage', type=params['usage_type'])
        etree.SubElement(usage, USAGES[params['usage_type']][1]).text = params['usage_id']
    return root


def desired_document(params):
    """The desired document: the user's XML (with uuid/usage options checked against it) or one built."""
    if params.get('xml'):
        root = _xml.parse(params['xml'], 'secret XML', root='secret')
        uuid = _xml.find_text(root, 'uuid')
        if params.get('uuid') and uuid and not _xml.same_uuid(uuid, params['uuid']):
            raise _xml.XMLInputError('uuid %s and the <uuid> of the XML (%s) differ' % (params['uuid'], uuid))
        if params.get('uuid') and not uuid:
            _xml.set_child_text(root, 'uuid', params['uuid'])
            root.insert(0, root.find('uuid'))
        usage_type, usage_id = usage_of(root)
        if usage_type and usage_type not in USAGES:
            raise _xml.XMLInputError('secret XML has usage type %r; supported: %s'
                                     % (usage_type, ', '.join(sorted(USAGES))))
        if params.get('usage_type') and (params['usage_type'], params.get('usage_id')) != (usage_type, usage_id):
            raise _xml.XMLInputError('usage_type/usage_id and the <usage> of the XML differ')
        return root
    return build_xml(params)


def decode_value(params):
    """The wanted value as bytes, or None. Never echoes the value in an error."""
    if params.get('value') is not None:
        return params['value'].encode('utf-8')
    if params.get('value_base64') is not None:
        text = ''.join(params['value_base64'].split())
        try:
            return base64.b64decode(text.encode('ascii'), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise _xml.XMLInputError('value_base64 is not valid base64 (the value itself is not shown)')
    return None


def read_value(secret):
    """('ok', bytes) | ('private', None) | ('unset', None)."""
    try:
        return 'ok', secret.value()
    except libvirt.libvirtError as e:
        message = (e.get_error_message() or '').lower()
        if 'private' in message:
            return 'private', None
        if 'does not have a value' in message or e.get_error_code() == libvirt.VIR_ERR_NO_SECRET:
            return 'unset', None
        # failure_from adds the hint (read-only connection, permission) to libvirt's code and domain
        raise failure_from(e, 'read the value of secret %s' % secret.UUIDString())


def secret_to_dict(secret, xml_text=None):
    root = _xml.parse(xml_text or secret.XMLDesc(0), 'stored secret XML')
    usage_type, usage_id = usage_of(root)
    return dict(
        uuid=_xml.find_text(root, 'uuid'),
        usage_type=usage_type,
        usage_id=usage_id,
        description=_xml.find_text(root, 'description'),
        ephemeral=_bool_attr(root.get('ephemeral')),
        private=_bool_attr(root.get('private')),
    )


def find(conn, params, desired=None):
    """Look the secret up by UUID (option or XML) or by usage."""
    uuid = params.get('uuid')
    usage_type, usage_id = params.get('usage_type'), params.get('usage_id')
    if desired is not None:
        uuid = uuid or _xml.find_text(desired, 'uuid')
        if not usage_type:
            usage_type, usage_id = usage_of(desired)
    secret = None
    if uuid:
        secret = KIND.lookup(conn, uuid=uuid)
    if secret is None and usage_type in USAGES and usage_id:
        secret = KIND.lookup(conn, usage_type=usage_type, usage_id=usage_id)
    return secret


def run(module, conn, outcome):
    """The secret module's logic; returns its values (secret, and value_report when present)."""
    params = module.params
    if params['state'] == 'absent':
        secret = find(conn, params, desired_document(params) if params.get('xml') else None)
        converge(KIND, secret, 'absent', module.check_mode, outcome)
        return dict(secret=None)
    data, report = ensure_present(conn, params, module.check_mode, outcome)[1:]
    return dict(secret=data, value_report=dict(
        given=report['value_given'], mode=report['value_update'], changed=report['value_changed'],
        comparable=report['value_comparable'], note=report['value_note']))


def ensure_present(conn, params, check_mode, outcome=None):
    """Define/redefine the secret and set its value. Returns (outcome, secret dict, value report)."""
    wanted = decode_value(params)
    desired = desired_document(params)
    secret = find(conn, params, desired)
    if secret is None and desired.find('usage') is None and not _xml.find_text(desired, 'uuid'):
        # A secret without usage can only be found by UUID: without one, every run would create another.
        raise _xml.XMLInputError('A new secret needs usage_type and usage_id, or a uuid, so that the next run '
                                 'finds it again')
    created = secret is None
    outcome = reconcile_definition(conn, KIND, desired, check_mode, outcome, obj=secret)
    secret = outcome.obj
    report = dict(value_given=wanted is not None, value_update=params.get('value_update'), value_changed=False,
                  value_comparable=None, value_note=None)
    if wanted is not None:
        _apply_value(secret, wanted, params.get('value_update') or 'on_change', created, check_mode, outcome,
                     report, desired)
    if check_mode:
        # the predicted object: what is stored, with what the document sets
        data = secret_to_dict(None, outcome.before) if outcome.before else secret_to_dict(None, _xml.to_string(desired))
        predicted = secret_to_dict(None, _xml.to_string(desired))
        for key in ('uuid', 'usage_type', 'usage_id', 'description'):
            if predicted[key] is not None:
                data[key] = predicted[key]
        for key in ('ephemeral', 'private'):
            if desired.get(key) is not None:
                data[key] = predicted[key]
    else:
        data = secret_to_dict(secret, outcome.after)
    return outcome, data, report


def _apply_value(secret, wanted, mode, created, check_mode, outcome, report, desired):
    if created:
        report['value_comparable'] = False
        report['value_note'] = 'The secret is new: its value is set.'
        do_set = True
    elif mode == 'always':
        do_set = True
        state, dummy = read_value(secret)
        report['value_comparable'] = state != 'private'
        report['value_note'] = 'value_update=always: the value is set on every run.'
    else:
        state, stored = read_value(secret)
        if state == 'private':
            report['value_comparable'] = False
            do_set = False
            if mode == 'on_change':
                report['value_note'] = ('The secret is private: libvirt does not give its value back, so it cannot '
                                        'be compared and is left as it is. Use value_update=always to set it.')
                outcome.warnings.append(report['value_note'])
            else:
                report['value_note'] = 'value_update=on_create: the existing value is left as it is.'
        elif mode == 'on_create':
            report['value_comparable'] = state == 'ok'
            do_set = state == 'unset'
            report['value_note'] = ('The secret had no value: it is set.' if do_set else
                                    'value_update=on_create: the existing value is left as it is.')
        else:
            report['value_comparable'] = True
            do_set = state == 'unset' or not hmac.compare_digest(stored, wanted)
            report['value_note'] = ('The stored value differs: it is set.' if do_set and state == 'ok' else
                                    'The secret had no value: it is set.' if do_set else
                                    'The stored value is the wanted one.')
    if not do_set:
        return
    outcome.act('set value')
    report['value_changed'] = True
    if check_mode:
        return
    with call('set the value of secret %s' % secret.UUIDString()):
        secret.setValue(wanted)


def list_secrets(conn, uuid=None, usage_type=None, usage_id=None, with_value=False):
    """Secrets as dicts, optionally filtered; with_value adds the value of non-private secrets."""
    if uuid:
        found = [KIND.lookup(conn, uuid=uuid)]
    elif usage_type and usage_id:
        found = [KIND.lookup(conn, usage_type=usage_type, usage_id=usage_id)]
    else:
        with call('list secrets'):
            found = conn.listAllSecrets(0)
    result = []
    for secret in found:
        if secret is None:
            continue
        data = secret_to_dict(secret)
        if usage_type and data['usage_type'] != usage_type:
            continue
        if with_value:
            data['value'] = None
            data['value_base64'] = None
            if data['private']:
                data['value_status'] = 'private'
            else:
                state, value = read_value(secret)
                data['value_status'] = state
                if value is not None:
                    data['value_base64'] = base64.b64encode(value).decode('ascii')
                    try:
                        data['value'] = value.decode('utf-8')
                    except UnicodeDecodeError:
                        data['value'] = None
        result.append(data)
    result.sort(key=lambda d: (d['usage_type'] or '', d['usage_id'] or '', d['uuid']))
    return result
