# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Virtual networks: lookup, the network Kind, live updates, state changes and the to-dict of network_info.

Private to this collection: the names here may change without notice. Used by the network and
network_info modules.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import fnmatch
import ipaddress

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    LibvirtFailure, call, failure_from)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import (
    Kind, ensure_active, ensure_autostart, reconcile_definition, remove)

try:
    import libvirt
except ImportError:
    libvirt = None

try:
    from lxml import etree
except ImportError:
    etree = None

#: Forward modes whose networks have a libvirt-managed bridge (libvirt invents its name and MAC).
BRIDGED_MODES = (None, 'nat', 'route', 'open')

NETWORK_RULES = _xml.CompareRules(
    aliases={
        ('bridge', 'stp'): {'yes': 'on', 'no': 'off'},
        ('mac', 'address'): {},
    },
    order={'': ('name', 'uuid', 'metadata', 'forward', 'bridge', 'mtu', 'mac', 'domain', 'dns', 'virtualport',
                'vlan', 'bandwidth', 'port', 'ip', 'route', 'portgroup')},
)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


class NetworkKind(Kind):
    noun = 'network'
    rules = NETWORK_RULES
    autostart_actions = ('autostart on', 'autostart off')
    lookups = (('uuid', 'networkLookupByUUIDString'), ('name', 'networkLookupByName'))
    define_call = ('networkDefineXML', ())
    stored_flags = ('VIR_NETWORK_XML_INACTIVE',)

    def carry_over(self, desired, stored):
        """UUID, and the bridge name and MAC libvirt generated, when the document gives none."""
        super(NetworkKind, self).carry_over(desired, stored)
        if forward_mode(desired) not in BRIDGED_MODES or forward_mode(stored) not in BRIDGED_MODES:
            return
        anchor = desired.find('uuid') if desired.find('uuid') is not None else desired.find('name')
        stored_bridge = stored.find('bridge')
        bridge = desired.find('bridge')
        if stored_bridge is not None and stored_bridge.get('name'):
            if bridge is None:
                bridge = etree.Element('bridge')
                if anchor is not None:
                    anchor.addnext(bridge)
                else:
                    desired.insert(0, bridge)
            if not bridge.get('name'):
                bridge.set('name', stored_bridge.get('name'))
        stored_mac = stored.find('mac')
        if desired.find('mac') is None and stored_mac is not None and stored_mac.get('address'):
            mac = etree.Element('mac', address=stored_mac.get('address'))
            after = desired.find('bridge')
            if after is None:
                after = anchor
            if after is not None:
                after.addnext(mac)
            else:
                desired.insert(0, mac)


KIND = NetworkKind()


def forward_mode(root):
    forward = root.find('forward')
    if forward is None:
        return None
    return forward.get('mode', 'nat')


def find_network(conn, name=None, uuid=None):
    return KIND.lookup(conn, name=name, uuid=uuid)


def _flag(name):
    return getattr(libvirt, name)


def live_xml(net):
    with call('read the live definition of network %s' % net.name()):
        return net.XMLDesc(0)


# ---------------------------------------------------------------------------------------------------------------
# Live updates (virNetworkUpdate), one section per structured option.


def _address(value, what):
    """The ip_address of an option value; LibvirtFailure naming the option when it is not one (checked before
    anything is looked at, so check mode fails as the real run would)."""
    try:
        return ipaddress.ip_address(u'%s' % value)
    except ValueError:
        raise LibvirtFailure('%s %r is not an IP address' % (what, value))


def _is_ipv6(address):
    return bool(address) and ':' in address


def _ip_family(ip):
    family = ip.get('family')
    if family:
        return family
    return 'ipv6' if _is_ipv6(ip.get('address')) else 'ipv4'


def _serialize(element):
    return etree.tostring(element, encoding='unicode', with_tail=False)


class Section:
    """One kind of entry that virNetworkUpdate can add, modify and delete."""

    option = None
    section = None
    label = None
    can_modify = False

    def container(self, root, entry, create):
        """(parent element, parent index for virNetworkUpdate); parent None when absent and not created."""
        raise NotImplementedError

    def elements(self, parent):
        raise NotImplementedError

    def matches(self, entry, element):
        """Whether the element is the one the entry names."""
        raise NotImplementedError

    def satisfied(self, entry, element):
        """Whether the element already has everything the entry asks for."""
        raise NotImplementedError

    def build(self, entry, existing):
        """The element the entry asks for, starting from the existing one (what the user left out stays)."""
        raise NotImplementedError

    def describe(self, entry):
        raise NotImplementedError

    def validate(self, entry):
        """Raise LibvirtFailure for an entry that cannot name anything."""


def _child(parent, tag, create):
    """The child ``tag`` of ``parent``; a new one (``create``) goes where libvirt writes it (<dns> before <ip>),
    so check mode's predicted definition has the real run's layout."""
    found = parent.find(tag)
    if found is None and create:
        found = etree.Element(tag)
        order = NETWORK_RULES.order.get('') if parent.getparent() is None else None
        _xml._insert(parent, found, parent[-1] if len(parent) else None, order)
    return found


class _DhcpSection(Section):
    def _ip(self, root, entry):
        want = 'ipv6' if _is_ipv6(self.address(entry)) else 'ipv4'
        candidates = [(index, ip) for index, ip in enumerate(root.findall('ip')) if _ip_family(ip) == want]
        if not candidates:
            raise LibvirtFailure('The network has no %s <ip> element to hold the %s %s; add one to the network '
                                 'definition first' % (want.upper().replace('IPV', 'IPv'), self.label,
                                                       self.describe(entry)))
        for index, ip in candidates:
            if ip.find('dhcp') is not None:
                return index, ip
        return candidates[0]

    def container(self, root, entry, create):
        index, ip = self._ip(root, entry)
        return _child(ip, 'dhcp', create), index

    def address(self, entry):
        raise NotImplementedError


class DhcpHosts(_DhcpSection):
    option = 'dhcp_hosts'
    label = 'DHCP host'
    can_modify = True

    @property
    def section(self):
        return _flag('VIR_NETWORK_SECTION_IP_DHCP_HOST')

    def address(self, entry):
        return entry.get('ip')

    def validate(self, entry):
        if not entry.get('mac') and not entry.get('name'):
            raise LibvirtFailure('Each dhcp_hosts entry needs a mac or a name to identify it')
        if entry.get('state', 'present') == 'present' and not entry.get('ip') and not entry.get('name'):
            raise LibvirtFailure('The DHCP host %s needs an ip or a name' % self.describe(entry))
        if entry.get('mac') and not _xml.is_mac(entry['mac']):
            raise LibvirtFailure('dhcp_hosts: %r is not a MAC address (six hex bytes separated by colons, such as '
                                 '52:54:00:12:34:56)' % entry['mac'])
        if entry.get('mac') and int(entry['mac'].split(':')[0], 16) & 1:
            raise LibvirtFailure('dhcp_hosts: %s is a multicast MAC address; a DHCP host needs a unicast one'
                                 % entry['mac'])
        address = _address(entry['ip'], 'dhcp_hosts: ip') if entry.get('ip') else None
        if address is not None and address.version == 6 and entry.get('mac'):
            raise LibvirtFailure('dhcp_hosts: the IPv6 host %s is identified by name (or DHCPv6 id), not by MAC; '
                                 'libvirt refuses a mac on an IPv6 DHCP host' % entry['ip'])

    def elements(self, parent):
        return parent.findall('host')

    def matches(self, entry, element):
        if entry.get('mac'):
            return _lower(element.get('mac')) == _lower(entry['mac'])
        return element.get('name') == entry.get('name')

    def satisfied(self, entry, element):
        for key in ('mac', 'name', 'ip'):
            if entry.get(key) is not None and _lower(element.get(key)) != _lower(entry[key]):
                return False
        return True

    def build(self, entry, existing):
        element = copy.deepcopy(existing) if existing is not None else etree.Element('host')
        element.tail = None
        for key in ('mac', 'name', 'ip'):
            if entry.get(key) is not None:
                element.set(key, entry[key].lower() if key == 'mac' else entry[key])
        return element

    def describe(self, entry):
        return ' '.join('%s=%s' % (k, entry[k]) for k in ('mac', 'name', 'ip') if entry.get(k))


class DhcpRanges(_DhcpSection):
    option = 'dhcp_ranges'
    label = 'DHCP range'

    @property
    def section(self):
        return _flag('VIR_NETWORK_SECTION_IP_DHCP_RANGE')

    def address(self, entry):
        return entry.get('start')

    def validate(self, entry):
        start, end = _address(entry['start'], 'dhcp_ranges: start'), _address(entry['end'], 'dhcp_ranges: end')
        if start.version != end.version:
            raise LibvirtFailure('The DHCP range %s mixes IPv4 and IPv6 addresses' % self.describe(entry))
        if entry.get('state', 'present') == 'present' and start > end:
            raise LibvirtFailure('The DHCP range %s is reversed: its start is above its end' % self.describe(entry))

    def elements(self, parent):
        return parent.findall('range')

    def matches(self, entry, element):
        return element.get('start') == entry['start'] and element.get('end') == entry['end']

    def satisfied(self, entry, element):
        return True

    def build(self, entry, existing):
        return etree.Element('range', start=entry['start'], end=entry['end'])

    def describe(self, entry):
        return '%s-%s' % (entry['start'], entry['end'])


class _DnsSection(Section):
    def container(self, root, entry, create):
        return _child(root, 'dns', create), -1


class DnsHosts(_DnsSection):
    option = 'dns_hosts'
    label = 'DNS host'

    @property
    def section(self):
        return _flag('VIR_NETWORK_SECTION_DNS_HOST')

    def validate(self, entry):
        if entry.get('state', 'present') == 'present' and not entry.get('hostnames'):
            raise LibvirtFailure('The DNS host %s needs at least one hostname' % entry['ip'])

    def elements(self, parent):
        return parent.findall('host')

    def matches(self, entry, element):
        return element.get('ip') == entry['ip']

    def satisfied(self, entry, element):
        names = [h.text.strip() for h in element.findall('hostname') if h.text]
        return sorted(names) == sorted(entry.get('hostnames') or [])

    def build(self, entry, existing):
        element = etree.Element('host', ip=entry['ip'])
        for hostname in entry.get('hostnames') or []:
            etree.SubElement(element, 'hostname').text = hostname
        return element

    def describe(self, entry):
        return entry['ip']


class DnsTxt(_DnsSection):
    option = 'dns_txt'
    label = 'DNS TXT record'

    @property
    def section(self):
        return _flag('VIR_NETWORK_SECTION_DNS_TXT')

    def validate(self, entry):
        if entry.get('state', 'present') == 'present' and entry.get('value') is None:
            raise LibvirtFailure('The DNS TXT record %s needs a value' % entry['name'])

    def elements(self, parent):
        return parent.findall('txt')

    def matches(self, entry, element):
        return element.get('name') == entry['name']

    def satisfied(self, entry, element):
        return entry.get('value') is None or element.get('value') == entry['value']

    def build(self, entry, existing):
        return etree.Element('txt', name=entry['name'], value=entry['value'])

    def describe(self, entry):
        return entry['name']


_SRV_KEYS = ('service', 'protocol', 'domain', 'target', 'port')
_SRV_VALUES = ('priority', 'weight')


class DnsSrv(_DnsSection):
    option = 'dns_srv'
    label = 'DNS SRV record'

    @property
    def section(self):
        return _flag('VIR_NETWORK_SECTION_DNS_SRV')

    def elements(self, parent):
        return parent.findall('srv')

    def matches(self, entry, element):
        for key in _SRV_KEYS:
            value = entry.get(key)
            if value is not None and str(value) != (element.get(key) or ''):
                return False
            if value is None and element.get(key) is not None and key != 'domain':
                return False
        return True

    def satisfied(self, entry, element):
        return all(entry.get(k) is None or str(entry[k]) == element.get(k) for k in _SRV_VALUES)

    def build(self, entry, existing):
        element = etree.Element('srv')
        for key in _SRV_KEYS + _SRV_VALUES:
            if entry.get(key) is not None:
                element.set(key, str(entry[key]))
        return element

    def describe(self, entry):
        return '_%s._%s%s%s' % (entry['service'], entry['protocol'],
                                '.%s' % entry['domain'] if entry.get('domain') else '',
                                ' -> %s:%s' % (entry['target'], entry.get('port')) if entry.get('target') else '')


class Portgroups(Section):
    option = 'portgroups'
    label = 'port group'
    can_modify = True

    @property
    def section(self):
        return _flag('VIR_NETWORK_SECTION_PORTGROUP')

    def container(self, root, entry, create):
        return root, -1

    def elements(self, parent):
        return parent.findall('portgroup')

    def matches(self, entry, element):
        return element.get('name') == entry['name']

    def _tags(self, element):
        vlan = element.find('vlan')
        if vlan is None:
            return []
        return sorted(int(t.get('id')) for t in vlan.findall('tag') if t.get('id') is not None)

    def satisfied(self, entry, element):
        if entry.get('default') is not None and (element.get('default') == 'yes') != entry['default']:
            return False
        if entry.get('vlan_tags') is not None and self._tags(element) != sorted(entry['vlan_tags']):
            return False
        return True

    def build(self, entry, existing):
        element = copy.deepcopy(existing) if existing is not None else etree.Element('portgroup',
                                                                                     name=entry['name'])
        element.tail = None
        if entry.get('default') is not None:
            if entry['default']:
                element.set('default', 'yes')
            elif 'default' in element.attrib:
                del element.attrib['default']
        if entry.get('vlan_tags') is not None:
            for old in element.findall('vlan'):
                element.remove(old)
            if entry['vlan_tags']:
                vlan = etree.Element('vlan')
                if len(entry['vlan_tags']) > 1:
                    vlan.set('trunk', 'yes')
                for tag in entry['vlan_tags']:
                    etree.SubElement(vlan, 'tag', id=str(tag))
                element.insert(0, vlan)
        return element

    def describe(self, entry):
        return entry['name']


class ForwardInterfaces(Section):
    option = 'forward_interfaces'
    label = 'forward interface'

    @property
    def section(self):
        return _flag('VIR_NETWORK_SECTION_FORWARD_INTERFACE')

    def container(self, root, entry, create):
        forward = root.find('forward')
        if forward is None:
            raise LibvirtFailure('The network has no <forward> element, so it has no forward interfaces to '
                                 'manage (%s)' % entry['dev'])
        return forward, -1

    def elements(self, parent):
        return parent.findall('interface')

    def matches(self, entry, element):
        return element.get('dev') == entry['dev']

    def satisfied(self, entry, element):
        return True

    def build(self, entry, existing):
        return etree.Element('interface', dev=entry['dev'])

    def describe(self, entry):
        return entry['dev']


SECTIONS = (DhcpHosts(), DhcpRanges(), DnsHosts(), DnsTxt(), DnsSrv(), Portgroups(), ForwardInterfaces())
UPDATE_OPTIONS = tuple(s.option for s in SECTIONS)


class Op:
    """One virNetworkUpdate call."""

    def __init__(self, command, section, parent, element, action):
        self.command = command
        self.section = section
        self.parent = parent
        self.xml = _serialize(element)
        self.action = action

    def key(self):
        return (self.command, self.section.option, self.parent, self.xml)


def plan_updates(root, params):
    """The virNetworkUpdate calls that bring one definition (element, changed in place) in line."""
    ops = []
    for section in SECTIONS:
        for entry in params.get(section.option) or []:
            section.validate(entry)
            state = entry.get('state') or 'present'
            parent, index = section.container(root, entry, create=(state == 'present'))
            existing = None
            if parent is not None:
                for element in section.elements(parent):
                    if section.matches(entry, element):
                        existing = element
                        break
            what = '%s %s' % (section.label, section.describe(entry))
            if state == 'absent':
                if existing is not None:
                    ops.append(Op('delete', section, index, existing, 'remove %s' % what))
                    parent.remove(existing)
                    _drop_if_empty(parent)
                continue
            if existing is not None and section.satisfied(entry, existing):
                continue
            element = section.build(entry, existing)
            if existing is None:
                ops.append(Op('add', section, index, element, 'add %s' % what))
                parent.append(element)
            elif section.can_modify:
                ops.append(Op('modify', section, index, element, 'change %s' % what))
                parent.replace(existing, element)
            else:
                ops.append(Op('delete', section, index, existing, 'remove old %s' % what))
                ops.append(Op('add', section, index, element, 'add %s' % what))
                parent.replace(existing, element)
    _forward_dev(root)
    return ops


def _forward_dev(root):
    """libvirt writes <forward dev=...> as the first forward interface: check mode's prediction does the same."""
    forward = root.find('forward')
    first = forward.find('interface') if forward is not None and forward.find('pf') is None else None
    if first is not None and forward.get('dev') is not None and first.get('dev'):
        forward.set('dev', first.get('dev'))


def _drop_if_empty(element):
    """libvirt does not write a <dns> or <dhcp> that holds nothing: check mode's prediction drops it too."""
    container = element.getparent()
    if container is not None and not len(element) and not element.attrib and not (element.text or '').strip():
        container.remove(element)


_COMMANDS = dict(add='VIR_NETWORK_UPDATE_COMMAND_ADD_LAST', modify='VIR_NETWORK_UPDATE_COMMAND_MODIFY',
                 delete='VIR_NETWORK_UPDATE_COMMAND_DELETE')


def apply_ops(net, ops, where, outcome, check_mode):
    """Run (or in check mode, record) ops on the definitions named in ``where`` ('live', 'config')."""
    flags = 0
    if 'live' in where:
        flags |= _flag('VIR_NETWORK_UPDATE_AFFECT_LIVE')
    if 'config' in where:
        flags |= _flag('VIR_NETWORK_UPDATE_AFFECT_CONFIG')
    for op in ops:
        outcome.act('%s (%s)' % (op.action, ', '.join(where)))
        if check_mode or net is None:
            continue
        with call('%s on network %s' % (op.action, net.name())):
            net.update(_flag(_COMMANDS[op.command]), op.section.section, op.parent, op.xml, flags)


def update_entries(net, config_root, live_root, params, outcome, check_mode):
    """Apply the structured options to the persistent (config) and/or live definition.

    ``config_root`` / ``live_root`` are parsed definitions (None when that definition does not exist); both
    are changed in place to what the updates make of them. When both need the same calls, they are made
    once with both flags.
    """
    config_ops = plan_updates(config_root, params) if config_root is not None else []
    live_ops = plan_updates(live_root, params) if live_root is not None else []
    if config_ops and live_ops and [o.key() for o in config_ops] == [o.key() for o in live_ops]:
        apply_ops(net, config_ops, ('live', 'config'), outcome, check_mode)
        return
    if config_ops:
        apply_ops(net, config_ops, ('config',), outcome, check_mode)
    if live_ops:
        apply_ops(net, live_ops, ('live',), outcome, check_mode)


# ---------------------------------------------------------------------------------------------------------------
# Network as data (network_info and the module's return value).


def _ip_dict(index, ip):
    dhcp = ip.find('dhcp')
    ranges, hosts = [], []
    if dhcp is not None:
        for r in dhcp.findall('range'):
            item = dict(start=r.get('start'), end=r.get('end'))
            lease = r.find('lease')
            if lease is not None:
                item['lease'] = dict(lease.attrib)
            ranges.append(item)
        for h in dhcp.findall('host'):
            hosts.append(dict(mac=h.get('mac'), name=h.get('name'), ip=h.get('ip'), id=h.get('id')))
    prefix = _xml.parse_int(ip.get('prefix')) if ip.get('prefix') else None
    return dict(index=index, family=_ip_family(ip), address=ip.get('address'), prefix=prefix,
                netmask=ip.get('netmask'), dhcp_ranges=ranges, dhcp_hosts=hosts,
                tftp_root=ip.find('tftp').get('root') if ip.find('tftp') is not None else None)


def definition_to_dict(root):
    """What a network definition says, as data."""
    bridge = root.find('bridge')
    forward = root.find('forward')
    mac = root.find('mac')
    dns = root.find('dns')
    ips = [_ip_dict(i, ip) for i, ip in enumerate(root.findall('ip'))]
    data = dict(
        name=_xml.find_text(root, 'name'),
        uuid=_xml.find_text(root, 'uuid'),
        bridge=bridge.get('name') if bridge is not None else None,
        mac=mac.get('address') if mac is not None else None,
        forward_mode=forward_mode(root),
        forward_dev=forward.get('dev') if forward is not None else None,
        forward_interfaces=[i.get('dev') for i in forward.findall('interface')] if forward is not None else [],
        forward_pf=[p.get('dev') for p in forward.findall('pf')] if forward is not None else [],
        domain=root.find('domain').get('name') if root.find('domain') is not None else None,
        mtu=_xml.parse_int(root.find('mtu').get('size')) if root.find('mtu') is not None else None,
        ips=ips,
        dhcp_ranges=[dict(r, ip_index=ip['index']) for ip in ips for r in ip['dhcp_ranges']],
        dhcp_hosts=[dict(h, ip_index=ip['index']) for ip in ips for h in ip['dhcp_hosts']],
        dns_hosts=[], dns_txt=[], dns_srv=[],
        portgroups=[],
    )
    if dns is not None:
        data['dns_hosts'] = [dict(ip=h.get('ip'), hostnames=[n.text.strip() for n in h.findall('hostname')
                                                             if n.text])
                             for h in dns.findall('host')]
        data['dns_txt'] = [dict(name=t.get('name'), value=t.get('value')) for t in dns.findall('txt')]
        data['dns_srv'] = [dict((k, _xml.parse_int(s.get(k)) if k in ('port', 'priority', 'weight') and s.get(k)
                                 else s.get(k)) for k in _SRV_KEYS + _SRV_VALUES) for s in dns.findall('srv')]
    for pg in root.findall('portgroup'):
        vlan = pg.find('vlan')
        data['portgroups'].append(dict(
            name=pg.get('name'), default=pg.get('default') == 'yes',
            vlan_tags=[_xml.parse_int(t.get('id')) for t in vlan.findall('tag')] if vlan is not None else []))
    return data


def leases(net):
    """Current DHCP leases of an active network; [] when it has none or the driver keeps none."""
    try:
        raw = net.DHCPLeases()
    except libvirt.libvirtError:
        return []
    result = []
    for lease in raw or []:
        ltype = lease.get('type')
        result.append(dict(
            interface=lease.get('iface'), mac=lease.get('mac'), ip=lease.get('ipaddr'),
            prefix=lease.get('prefix'), hostname=lease.get('hostname'), client_id=lease.get('clientid'),
            iaid=lease.get('iaid'), expiry_time=lease.get('expirytime'),
            type='ipv6' if ltype == getattr(libvirt, 'VIR_IP_ADDR_TYPE_IPV6', 1) else 'ipv4'))
    return result


def network_to_dict(net, with_leases=True, with_xml=False):
    """A network as data: state flags, the live definition when active, leases, XML on request."""
    with call('read the state of network %s' % net.name()):
        active = bool(net.isActive())
        persistent = bool(net.isPersistent())
        autostart = bool(net.autostart()) if persistent else False
    text = live_xml(net)
    data = definition_to_dict(_xml.parse(text, 'network XML'))
    data.update(active=active, persistent=persistent, autostart=autostart)
    data['leases'] = leases(net) if (with_leases and active) else []
    if with_xml:
        data['xml'] = text
        data['inactive_xml'] = KIND.stored_xml(net) if persistent else None
    return data


def list_networks(conn, name=None, pattern=None, active=None, persistent=None):
    with call('list networks'):
        nets = conn.listAllNetworks(0)
    result = []
    for net in sorted(nets, key=lambda n: n.name()):
        if name is not None and net.name() != name:
            continue
        if pattern is not None and not fnmatch.fnmatchcase(net.name(), pattern):
            continue
        if active is not None and bool(net.isActive()) != active:
            continue
        if persistent is not None and bool(net.isPersistent()) != persistent:
            continue
        result.append(net)
    return result


def network_info(conn, params):
    """The network_info result: the networks that match the filters, as data."""
    if params.get('uuid'):
        net = find_network(conn, uuid=params['uuid'])
        nets = [net] if net is not None and (not params.get('name') or net.name() == params['name']) else []
    elif params.get('name'):
        net = find_network(conn, name=params['name'])
        nets = [net] if net is not None else []
    else:
        nets = list_networks(conn, pattern=params.get('pattern'))
    result = []
    for net in nets:
        try:
            if params.get('pattern') and not fnmatch.fnmatchcase(net.name(), params['pattern']):
                continue
            active, persistent = bool(net.isActive()), bool(net.isPersistent())
            if params.get('active') is not None and active != params['active']:
                continue
            if params.get('persistent') is not None and persistent != params['persistent']:
                continue
            result.append(network_to_dict(net, with_leases=params.get('leases', True),
                                          with_xml=params.get('xml', False)))
        except LibvirtFailure as failure:
            if failure.code in _gone_codes():
                continue  # removed by someone else while we read
            raise
        except libvirt.libvirtError as e:
            if e.get_error_code() in _gone_codes():
                continue
            raise failure_from(e, 'read network %s' % net.name())
    return result


def _gone_codes():
    return (libvirt.VIR_ERR_NO_NETWORK,)


# ---------------------------------------------------------------------------------------------------------------
# The network module.


def _desired(params, version=None, warnings=None):
    """The user's document as an element, with its name set from (and checked against) the name option."""
    root = _xml.parse(params['xml'], 'network XML', root='network')
    name = _xml.find_text(root, 'name')
    if params.get('name'):
        if name and name != params['name']:
            raise _xml.XMLInputError('The name option (%s) and the <name> of the XML (%s) differ'
                                     % (params['name'], name))
        if not name:
            element = etree.Element('name')
            element.text = params['name']
            root.insert(0, element)
    elif not name:
        raise _xml.XMLInputError('network XML has no <name> and the name option is not set')
    found = normalise(root, version)
    if warnings is not None:
        warnings.extend(found)
    uuid = _xml.find_text(root, 'uuid')
    if params.get('uuid') and uuid and not _xml.same_uuid(uuid, params['uuid']):
        raise _xml.XMLInputError('The uuid option (%s) and the <uuid> of the XML (%s) differ'
                                 % (params['uuid'], uuid))
    return root


#: Parts of a network document that libvirt older than the version given drops when defining:
#: (path from the root, first version that keeps it, what it is). Measured on libvirt 9.0.
DROPPED_BEFORE = (
    ('forward/driver', 10000000, '<forward><driver model=...> (host device driver, libvirt 10.0)'),
    ('ip/dhcp/option', 10000000, '<dhcp><option> (DHCP options)'),
)


def normalise(root, version=None):
    """Make the desired document say what libvirt stores for it; return warnings for what it drops.

    MAC addresses are stored in lower case; a <pf> next to <interface> pool members is dropped; elements
    this libvirt version does not know are dropped.
    """
    warnings = []
    for element in root.iter('mac'):
        if element.get('address'):
            element.set('address', element.get('address').lower())
    for host in root.iterfind('ip/dhcp/host'):
        if host.get('mac'):
            host.set('mac', host.get('mac').lower())
    forward = root.find('forward')
    if forward is not None and forward.find('interface') is not None and forward.find('pf') is not None:
        for pf in forward.findall('pf'):
            forward.remove(pf)
        warnings.append('libvirt ignores <forward><pf> when <interface> elements list the pool; it is not compared')
    if version:
        for path, since, what in DROPPED_BEFORE:
            found = root.findall(path)
            if found and version < since:
                for element in found:
                    element.getparent().remove(element)
                warnings.append('libvirt %s drops %s; it is not compared' % (_version_text(version), what))
    return warnings


def _version_text(number):
    return '%d.%d.%d' % (number // 1000000, number // 1000 % 1000, number % 1000)


def _state_of(net):
    with call('read the state of network %s' % net.name()):
        return bool(net.isActive()), bool(net.isPersistent())


def run(module, conn, outcome):
    """The network module's logic: bring one network to what the parameters ask; returns the module's values."""
    return _NetworkRun(conn, module.params, module.check_mode, outcome).run()


class _NetworkRun:
    """One run of the network module: definition (persistent or transient), state, pending changes, entry
    updates, autostart. Check mode makes every decision the same way; only the libvirt calls are skipped."""

    def __init__(self, conn, params, check_mode, outcome):
        self.conn, self.params, self.check, self.outcome = conn, params, check_mode, outcome
        self.extras = dict(restart_needed=False)
        self.net = self.desired = self.predicted_live = None
        self.active = self.persistent = self.started = False

    def run(self):
        p = self.params
        self.lookup()
        if p['state'] == 'absent':
            if self.net is not None:
                remove(KIND, self.net, self.check, self.outcome)
            return dict(self.extras, network=None)
        if self.net is None and self.desired is None:
            if p['state'] == 'inactive':
                return dict(self.extras, network=None)  # teardown re-runs: a missing network is not running
            raise KIND.missing(p.get('name') or p.get('uuid'))
        if p['state'] == 'inactive' and not p.get('persistent', True):
            raise LibvirtFailure('A transient network (persistent: false) exists only while it runs; '
                                 'state: inactive is not possible')
        if p.get('autostart') and not p.get('persistent', True):
            raise LibvirtFailure('A transient network (persistent: false) cannot be started automatically')
        if self.net is not None:
            self.active, self.persistent = _state_of(self.net)
            self.predicted_live = live_xml(self.net) if self.active else None
        if p.get('persistent', True):
            self.persistent_definition()
        else:
            self.transient()
        self.ensure_state()
        self.pending_changes()
        self.entry_updates()
        if self.persistent:
            ensure_autostart(KIND, self.net, p.get('autostart'), self.check, self.outcome)
        self.extras['network'] = self.result()
        return self.extras

    def lookup(self):
        p = self.params
        version = None
        if p.get('xml'):
            with call('read the libvirt version'):
                version = self.conn.getLibVersion()
            self.desired = _desired(p, version, self.outcome.warnings)
        desired = self.desired
        name = p.get('name') or (_xml.find_text(desired, 'name') if desired is not None else None)
        uuid = p.get('uuid') or (_xml.find_text(desired, 'uuid') if desired is not None else None)
        # Bad update entries fail before anything is looked up, defined or started (and check mode fails alike).
        for section in SECTIONS:
            for entry in p.get(section.option) or []:
                section.validate(entry)
        self.net = KIND.check_found(find_network(self.conn, name=name, uuid=uuid), name, uuid)
        if self.net is not None and desired is not None and self.net.name() != _xml.find_text(desired, 'name'):
            raise LibvirtFailure('The network with UUID %s is named %s, not %s; libvirt cannot rename networks'
                                 % (uuid, self.net.name(), _xml.find_text(desired, 'name')))

    def persistent_definition(self):
        outcome, net = self.outcome, self.net
        if self.desired is None:
            if net is not None and not self.persistent:
                raise LibvirtFailure('The network %s is transient; give its xml to make it persistent, or set '
                                     'persistent: false' % net.name())
            outcome.before = outcome.after = KIND.stored_xml(net)
        elif net is not None and not self.persistent:
            # A transient network becomes persistent by defining it.
            outcome.before = ''
            KIND.carry_over(self.desired, _xml.parse(self.predicted_live, 'network XML'))
            text = _xml.to_string(self.desired, pretty=False)
            defined = outcome.perform('make persistent', lambda: KIND.define(self.conn, text), self.check)
            self.net = defined or net
            outcome.after = _xml.to_string(self.desired) if self.check else KIND.stored_xml(self.net)
        else:
            reconcile_definition(self.conn, KIND, self.desired, self.check, outcome, obj=net)
            self.net = outcome.obj
        self.persistent = True

    def transient(self):
        outcome, net = self.outcome, self.net
        if net is None:
            outcome.before = ''
            text = _xml.to_string(self.desired, pretty=False)
            self.net = outcome.perform('create transient', lambda: self.conn.networkCreateXML(text), self.check,
                                       'create transient network %s' % _xml.find_text(self.desired, 'name'))
            outcome.after = _xml.to_string(self.desired) if self.check else live_xml(self.net)
            self.predicted_live = outcome.after
            self.active = self.started = True
        elif self.persistent:
            # its one definition afterwards is the running one, which the real run's diff shows
            outcome.before = KIND.stored_xml(net)
            outcome.after = live_xml(net) if self.active else outcome.before
            if not self.active:
                # An inactive persistent network: start it, then drop the persistent definition.
                ensure_active(KIND, net, True, self.check, outcome)
                self.predicted_live = outcome.before
                self.active = self.started = True
            outcome.perform('make transient', net.undefine, self.check,
                            lambda: 'undefine network %s (it keeps running)' % net.name())
            self.persistent = False
        else:
            outcome.before = outcome.after = self.predicted_live

    def ensure_state(self):
        wanted = {'active': True, 'inactive': False}.get(self.params['state'])
        if wanted is None or wanted == self.active:
            return
        ensure_active(KIND, self.net, wanted, self.check, self.outcome)
        self.active = self.started = wanted
        self.predicted_live = self.outcome.after if wanted else None

    def pending_changes(self):
        """Definition changes the running network does not have yet: restart (restart_on_change) or report them."""
        if not self.active or self.started or self.desired is None:
            return
        current_live = live_xml(self.net) if (self.net is not None and not self.check) else self.predicted_live
        if not current_live:
            return
        pending = _xml.differences(self.desired, _xml.parse(current_live, 'live network XML'), NETWORK_RULES)
        if not pending:
            return
        if not self.params.get('restart_on_change'):
            self.extras['restart_needed'] = True
            self.extras['pending_live_changes'] = [d.as_dict() for d in pending]
            return
        self.outcome.perform('restart', lambda: self.restart(current_live), self.check,
                             lambda: 'restart network %s' % self.net.name())
        self.predicted_live = self.outcome.after if self.persistent else _xml.to_string(self.desired)

    def restart(self, current_live):
        self.net.destroy()
        if self.persistent:
            return self.net.create()
        KIND.carry_over(self.desired, _xml.parse(current_live, 'network XML'))
        self.net = self.conn.networkCreateXML(_xml.to_string(self.desired, pretty=False))
        return self.net

    def entry_updates(self):
        p, outcome, net = self.params, self.outcome, self.net
        if not any(p.get(option) for option in UPDATE_OPTIONS):
            return
        if self.check or net is None:
            config_text = outcome.after if self.persistent else None
            live_text = self.predicted_live if self.active else None
        else:
            config_text = KIND.stored_xml(net) if self.persistent else None
            live_text = live_xml(net) if self.active else None
        config_root = _xml.parse(config_text, 'network XML') if config_text else None
        live_root = _xml.parse(live_text, 'live network XML') if live_text else None
        update_entries(net, config_root, live_root, p, outcome, self.check)
        if self.check and (config_root is not None or live_root is not None):
            outcome.after = _xml.to_string(config_root if config_root is not None else live_root)

    def result(self):
        net, outcome = self.net, self.outcome
        if net is not None and not self.check:
            outcome.after = KIND.stored_xml(net) if self.persistent else live_xml(net)
            return network_to_dict(net)
        data = definition_to_dict(_xml.parse(outcome.after or (live_xml(net) if net is not None else ''),
                                             'network XML'))
        autostart = self.params.get('autostart')
        if autostart is None:
            autostart = bool(net.autostart()) if (net is not None and self.persistent) else False
        data.update(active=self.active, persistent=self.persistent, autostart=autostart and self.persistent,
                    leases=leases(net) if (net is not None and self.active) else [])
        return data


# The network module's options (connection_argument_spec adds the connection options); the bulk module
# validates each network item against them.
_ENTRY_STATE = dict(type='str', choices=['present', 'absent'], default='present')

OPTIONS = dict(
    name=dict(type='str'),
    uuid=dict(type='str'),
    xml=dict(type='str'),
    state=dict(type='str', choices=['present', 'active', 'inactive', 'absent'], default='present'),
    persistent=dict(type='bool', default=True),
    autostart=dict(type='bool'),
    restart_on_change=dict(type='bool', default=False),
    dhcp_hosts=dict(type='list', elements='dict', options=dict(
        mac=dict(type='str'),
        name=dict(type='str'),
        ip=dict(type='str'),
        state=dict(_ENTRY_STATE),
    )),
    dhcp_ranges=dict(type='list', elements='dict', options=dict(
        start=dict(type='str', required=True),
        end=dict(type='str', required=True),
        state=dict(_ENTRY_STATE),
    )),
    dns_hosts=dict(type='list', elements='dict', options=dict(
        ip=dict(type='str', required=True),
        hostnames=dict(type='list', elements='str'),
        state=dict(_ENTRY_STATE),
    )),
    dns_txt=dict(type='list', elements='dict', options=dict(
        name=dict(type='str', required=True),
        value=dict(type='str'),
        state=dict(_ENTRY_STATE),
    )),
    dns_srv=dict(type='list', elements='dict', options=dict(
        service=dict(type='str', required=True),
        protocol=dict(type='str', required=True, choices=['tcp', 'udp']),
        domain=dict(type='str'),
        target=dict(type='str'),
        port=dict(type='int'),
        priority=dict(type='int'),
        weight=dict(type='int'),
        state=dict(_ENTRY_STATE),
    )),
    portgroups=dict(type='list', elements='dict', options=dict(
        name=dict(type='str', required=True),
        default=dict(type='bool'),
        vlan_tags=dict(type='list', elements='int'),
        state=dict(_ENTRY_STATE),
    )),
    forward_interfaces=dict(type='list', elements='dict', options=dict(
        dev=dict(type='str', required=True),
        state=dict(_ENTRY_STATE),
    )),
)

#: Its constraints between options, as AnsibleModule takes them.
CONSTRAINTS = dict(
    required_one_of=[('name', 'uuid', 'xml')],
)
