# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Network filters and filter bindings: lookup, reconcile, to-dict for _info.

Private to this collection: the names here may change without notice.

A filter binding attaches one filter to one port (a tap device) and is identified by that port: a port
has at most one binding. libvirt cannot change a binding, so a binding that differs is deleted and
created again.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import re

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call, lookup
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import Kind, converge, reconcile_definition

try:
    from lxml import etree
except ImportError:
    etree = None

# The rules and references of a filter are the user's: stored but not asked for means "would be removed".
RULES = _xml.CompareRules(removable={'': {'rule', 'filterref'}})


class NWFilterKind(Kind):
    noun = 'network filter'
    rules = RULES

    def identity(self, desired):
        # filters carry their name as an attribute, not a <name> element
        return desired.get('name'), _xml.find_text(desired, 'uuid')

    def carry_over(self, desired, stored):
        if desired.find('uuid') is None and _xml.find_text(stored, 'uuid'):
            _xml.set_child_text(desired, 'uuid', _xml.find_text(stored, 'uuid'))
            desired.insert(0, desired.find('uuid'))

    lookups = (('uuid', 'nwfilterLookupByUUIDString'), ('name', 'nwfilterLookupByName'))
    define_call = ('nwfilterDefineXML', ())

    def is_active(self, obj):
        return False  # a filter has no running state

    def is_persistent(self, obj):
        return True


KIND = NWFilterKind()


_UUID_RE = re.compile(r'^\s*[0-9a-fA-F]{2}(-?[0-9a-fA-F]{2}){15}\s*$')


def _spelled_as_stored(name, value):
    """An attribute value as libvirt writes it back (measured on libvirt 9.0); unknown forms unchanged."""
    if _xml.is_mac(value):
        return ':'.join('%02x' % int(part, 16) for part in value.split(':'))
    if name.endswith('ipmask') and '.' in value:
        try:
            return str(ipaddress.IPv4Network('0.0.0.0/%s' % value).prefixlen)
        except ValueError:
            return value
    if name == 'ipsetflags':
        return value.lower()
    if name.endswith('ipaddr') or name.endswith('ipto') or name.endswith('ipfrom'):
        if ':' in value:
            try:
                return str(ipaddress.IPv6Address(value))
            except ValueError:
                return value
    return value


def normalise(root):
    """Rewrite the rules' attribute values the way libvirt stores them, so that comparing predicts right."""
    for rule in root.findall('rule'):
        for protocol in rule:
            if not isinstance(protocol.tag, str):
                continue
            for name, value in list(protocol.attrib.items()):
                if not value.startswith('$'):
                    protocol.set(name, _spelled_as_stored(name, value))
    return root


def desired_document(params):
    root = _xml.parse(params['xml'], 'network filter XML', root='filter')
    name = root.get('name')
    if params.get('name'):
        if name and name != params['name']:
            raise _xml.XMLInputError('name %r and the name of the XML (%r) differ' % (params['name'], name))
        root.set('name', params['name'])
    elif not name:
        raise _xml.XMLInputError('network filter XML has no name attribute and no name option is given')
    uuid = _xml.find_text(root, 'uuid')
    if params.get('uuid'):
        if uuid and not _xml.same_uuid(uuid, params['uuid']):
            raise _xml.XMLInputError('uuid %s and the <uuid> of the XML (%s) differ' % (params['uuid'], uuid))
        if not uuid:
            _xml.set_child_text(root, 'uuid', params['uuid'])
            root.insert(0, root.find('uuid'))
    return normalise(root)


def filter_to_dict(nwfilter, xml_text=None, with_xml=False):
    text = xml_text or KIND.stored_xml(nwfilter)
    root = _xml.parse(text, 'stored network filter XML')
    rules = []
    for rule in root.findall('rule'):
        protocols = []
        for child in rule:
            if isinstance(child.tag, str):
                protocols.append(dict(protocol=child.tag, attributes=dict(child.attrib)))
        rules.append(dict(action=rule.get('action'), direction=rule.get('direction'),
                          priority=_xml.parse_int(rule.get('priority')) if rule.get('priority') else None,
                          statematch=rule.get('statematch'), protocols=protocols))
    references = [dict(filter=ref.get('filter'), parameters=_parameters(ref)) for ref in root.findall('filterref')]
    priority = root.get('priority')
    data = dict(name=root.get('name'), uuid=_xml.find_text(root, 'uuid'), chain=root.get('chain'),
                priority=_xml.parse_int(priority) if priority else None, rules=rules, references=references,
                rule_count=len(rules))
    if with_xml:
        data['xml'] = text
    return data


def _parameters(element):
    return dict((p.get('name'), p.get('value')) for p in element.findall('parameter'))


def binding_to_dict(binding):
    with call('read a network filter binding'):
        root = _xml.parse(binding.XMLDesc(0), 'stored filter binding XML')
    ref = root.find('filterref')
    return dict(port_dev=root.find('portdev').get('name') if root.find('portdev') is not None else None,
                mac=(root.find('mac').get('address') or '').lower() if root.find('mac') is not None else None,
                owner_name=_xml.find_text(root, 'owner/name'), owner_uuid=_xml.find_text(root, 'owner/uuid'),
                filter=ref.get('filter') if ref is not None else None,
                parameters=_parameters(ref) if ref is not None else {})


def list_bindings(conn, filter_name=None):
    with call('list network filter bindings'):
        bindings = conn.listAllNWFilterBindings(0)
    result = [binding_to_dict(b) for b in bindings]
    if filter_name:
        result = [b for b in result if b['filter'] == filter_name]
    return sorted(result, key=lambda b: b['port_dev'] or '')


def binding_xml(filter_name, spec):
    root = etree.Element('filterbinding')
    owner = etree.SubElement(root, 'owner')
    etree.SubElement(owner, 'name').text = spec['owner_name']
    etree.SubElement(owner, 'uuid').text = spec['owner_uuid']
    etree.SubElement(root, 'portdev', name=spec['port_dev'])
    etree.SubElement(root, 'mac', address=spec['mac'])
    ref = etree.SubElement(root, 'filterref', filter=filter_name)
    for name in sorted(spec.get('parameters') or {}):
        etree.SubElement(ref, 'parameter', name=name, value=str(spec['parameters'][name]))
    return _xml.to_string(root, pretty=False)


def _wanted_binding(filter_name, spec):
    return dict(port_dev=spec['port_dev'], mac=spec['mac'].lower(), owner_name=spec['owner_name'],
                owner_uuid=spec['owner_uuid'].lower(), filter=filter_name,
                parameters=dict((k, str(v)) for k, v in (spec.get('parameters') or {}).items()))


def check_bindings(specs):
    """Refuse binding specs libvirt would refuse, before anything (the filter included) is changed."""
    for spec in specs or []:
        if not _xml.is_mac(spec['mac']):
            raise _xml.XMLInputError('bindings: mac %r of port %s is not a MAC address (quote MAC addresses in '
                                     'YAML: an unquoted 52:54:00:00:00:07 is read as a number)'
                                     % (spec['mac'], spec['port_dev']))
        if not _UUID_RE.match(spec['owner_uuid']):
            raise _xml.XMLInputError('bindings: owner_uuid %r of port %s is not a UUID'
                                     % (spec['owner_uuid'], spec['port_dev']))


def reconcile_bindings(conn, filter_name, specs, check_mode, outcome, remove_all=False):
    """Bindings of this filter, present or absent, one per port. Returns the bindings after the run."""
    check_bindings(specs)
    for spec in specs or []:
        port = spec['port_dev']
        existing = lookup(conn.nwfilterBindingLookupByPortDev, port)
        current = binding_to_dict(existing) if existing is not None else None
        if current is not None:
            current['owner_uuid'] = (current['owner_uuid'] or '').lower()
        state = 'absent' if remove_all else spec.get('state') or 'present'
        if state == 'absent':
            if current is None or current['filter'] != filter_name:
                continue
            outcome.perform('delete binding %s' % port, existing.delete, check_mode,
                            'delete the filter binding of port %s' % port)
            continue
        wanted = _wanted_binding(filter_name, spec)
        if current == wanted:
            continue
        if current is not None:
            if current['filter'] != filter_name and not spec.get('replace'):
                raise LibvirtFailure('Port %s is bound to network filter %r, not %r; a port has one binding'
                                     % (port, current['filter'], filter_name),
                                     hint='Set replace: true on this binding to replace the other one.')
            outcome.perform('recreate binding %s' % port, existing.delete, check_mode,
                            'delete the filter binding of port %s' % port)
        else:
            outcome.act('create binding %s' % port)
        if not check_mode:
            with call('bind network filter %s to port %s' % (filter_name, port)):
                conn.nwfilterBindingCreateXML(binding_xml(filter_name, spec), 0)
    if check_mode:
        return _predicted_bindings(conn, filter_name, specs, remove_all)
    return list_bindings(conn, filter_name)


def _predicted_bindings(conn, filter_name, specs, remove_all):
    current = dict((b['port_dev'], b) for b in list_bindings(conn, filter_name))
    for spec in specs or []:
        if remove_all or (spec.get('state') or 'present') == 'absent':
            current.pop(spec['port_dev'], None)
        else:
            current[spec['port_dev']] = _wanted_binding(filter_name, spec)
    return [current[k] for k in sorted(current)]


def run(module, conn, outcome):
    """The nwfilter module's logic; returns its values (nwfilter, bindings)."""
    params, check_mode = module.params, module.check_mode
    check_bindings(params.get('bindings'))
    name, uuid = params.get('name'), params.get('uuid')
    desired = desired_document(params) if params.get('xml') else None
    if desired is not None:
        name, uuid = KIND.identity(desired)
    existing = KIND.check_found(KIND.lookup(conn, name=name, uuid=uuid), name, uuid)
    if existing is not None:
        name = existing.name()
    if params['state'] == 'absent':
        bindings = reconcile_bindings(conn, name, params.get('bindings'), check_mode, outcome, remove_all=True)
        converge(KIND, existing, 'absent', check_mode, outcome)
        return dict(nwfilter=None, bindings=bindings)
    if desired is None:
        if existing is None:
            raise KIND.missing(name or uuid)
        outcome.before = outcome.after = KIND.stored_xml(existing)
        outcome.obj = existing
    else:
        reconcile_definition(conn, KIND, desired, check_mode, outcome, obj=existing)
    bindings = reconcile_bindings(conn, name, params.get('bindings'), check_mode, outcome)
    # outcome.after is the stored definition after the run, or in check mode the predicted one
    return dict(nwfilter=filter_to_dict(None, outcome.after), bindings=bindings)


def list_filters(conn, name=None, uuid=None, with_xml=False):
    if name or uuid:
        found = [KIND.lookup(conn, name=name, uuid=uuid)]
    else:
        with call('list network filters'):
            found = conn.listAllNWFilters(0)
    result = [filter_to_dict(f, with_xml=with_xml) for f in found if f is not None]
    return sorted(result, key=lambda f: f['name'])
