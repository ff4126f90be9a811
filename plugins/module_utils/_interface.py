# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Host interfaces: lookup by name or MAC, reconcile inside libvirt's change transaction, to-dict for _info.

Private to this collection: the names here may change without notice.

libvirt's interface driver has two backends: netcf (reads and writes the distribution's network
configuration) and udev (only reads). Debian's libvirt is built with udev only, so every change fails with
'this function is not supported'; that is reported as what it means.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
import time

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    LibvirtConnection, LibvirtFailure, call, lookup,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import Kind, Outcome, reconcile_definition

try:
    import libvirt
except ImportError:
    libvirt = None

READ_ONLY_MSG = ("This libvirt host cannot change host interfaces: its interface driver only reads them (the udev "
                 "backend, as in Debian's and Ubuntu's libvirt builds) and has no netcf backend")
READ_ONLY_HINT = ("Manage the host's network configuration with the distribution's tools (ifupdown, NetworkManager "
                  "e.g. community.general.nmcli, systemd-networkd); sysvirt.libvirt.host_interface_info still reads "
                  "the interfaces.")

RULES = _xml.CompareRules()


def _unsupported(failure):
    return failure.code is not None and libvirt is not None and failure.code == libvirt.VIR_ERR_NO_SUPPORT


def read_only_failure(failure):
    return LibvirtFailure('%s (%s)' % (READ_ONLY_MSG, failure.msg), code=failure.code, domain=failure.domain,
                          hint=READ_ONLY_HINT, libvirt_message=failure.libvirt_message)


class InterfaceKind(Kind):
    noun = 'host interface'
    rules = RULES
    uuid_tag = None

    def identity(self, desired):
        return desired.get('name'), None

    def lookup(self, conn, name=None, uuid=None, mac=None):
        if name:
            return lookup(conn.interfaceLookupByName, name)
        if mac:
            return lookup(conn.interfaceLookupByMACString, mac)
        return None

    def stored_xml(self, obj):
        with call('read the definition of host interface %s' % obj.name()):
            try:
                return obj.XMLDesc(libvirt.VIR_INTERFACE_XML_INACTIVE)
            except libvirt.libvirtError as e:
                if e.get_error_code() not in (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT):
                    raise
                return obj.XMLDesc(0)

    def define(self, conn, xml):
        with call('define the host interface'):
            return conn.interfaceDefineXML(xml, 0)


KIND = InterfaceKind()


def desired_document(params):
    root = _xml.parse(params['xml'], 'host interface XML', root='interface')
    if params.get('name'):
        if root.get('name') and root.get('name') != params['name']:
            raise _xml.XMLInputError('name %r and the name of the XML (%r) differ' % (params['name'], root.get('name')))
        root.set('name', params['name'])
    if not root.get('name'):
        raise _xml.XMLInputError('host interface XML has no name attribute and no name option is given')
    return root


def interface_to_dict(text, active=None, with_xml=False):
    root = _xml.parse(text, 'host interface XML')
    mac = root.find('mac')
    mtu = root.find('mtu')
    start = root.find('start')
    protocols = []
    for protocol in root.findall('protocol'):
        protocols.append(dict(family=protocol.get('family'), dhcp=protocol.find('dhcp') is not None,
                              autoconf=protocol.find('autoconf') is not None,
                              addresses=['%s/%s' % (ip.get('address'), ip.get('prefix')) if ip.get('prefix')
                                         else ip.get('address') for ip in protocol.findall('ip')]))
    members = []
    for holder in ('bridge', 'bond'):
        element = root.find(holder)
        if element is not None:
            members = [m.get('name') for m in element.findall('interface')]
    vlan = root.find('vlan')
    data = dict(name=root.get('name'), type=root.get('type'), mac=mac.get('address') if mac is not None else None,
                mtu=_xml.parse_int(mtu.get('size')) if mtu is not None and mtu.get('size') else None,
                start_mode=start.get('mode') if start is not None else None, protocols=protocols, members=members,
                vlan_tag=_xml.parse_int(vlan.get('tag')) if vlan is not None and vlan.get('tag') else None,
                vlan_parent=vlan.find('interface').get('name')
                if vlan is not None and vlan.find('interface') is not None else None,
                active=active)
    if with_xml:
        data['xml'] = text
    return data


def describe(iface, with_xml=False):
    with call('read host interface %s' % iface.name()):
        active = bool(iface.isActive())
        text = iface.XMLDesc(0)
    data = interface_to_dict(text, active, with_xml)
    if not data['mac']:
        # the udev backend leaves <mac> out of some documents (bridges) but knows the address
        try:
            data['mac'] = iface.MACString() or None
        except libvirt.libvirtError:
            pass
    return data


def list_interfaces(conn, name=None, mac=None, with_xml=False):
    if name or mac:
        found = [KIND.lookup(conn, name=name, mac=mac)]
    else:
        with call('list host interfaces'):
            found = conn.listAllInterfaces(0)
    return sorted((describe(i, with_xml) for i in found if i is not None), key=lambda d: d['name'])


class _Transaction:
    """libvirt's interface change transaction: begin; commit on success (after the confirm step, when asked);
    roll back on any failure."""

    def __init__(self, conn, enabled, outcome):
        self.conn, self.enabled, self.outcome = conn, enabled, outcome

    def __enter__(self):
        if self.enabled:
            try:
                with call('begin a host interface change transaction'):
                    self.conn.changeBegin(0)
            except LibvirtFailure as failure:
                raise read_only_failure(failure) if _unsupported(failure) else failure
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.enabled:
            return False
        if exc is None:
            with call('commit the host interface change transaction'):
                self.conn.changeCommit(0)
            return False
        try:
            self.conn.changeRollback(0)
        except libvirt.libvirtError as e:
            if isinstance(exc, LibvirtFailure):
                exc.msg = '%s; rolling back the change transaction failed too: %s' % (exc.msg, e.get_error_message())
            return False
        if isinstance(exc, LibvirtFailure):
            exc.msg = '%s; the change transaction was rolled back, the host interfaces are as before' % exc.msg
        return False


def _plan(conn, params, desired, iface, outcome, check_mode):
    """Do (or in check mode, record) the definition and the state change."""
    state = params['state']
    if state == 'absent':
        if iface is None:
            return None
        outcome.before, outcome.after = KIND.stored_xml(iface), ''
        if iface.isActive():
            outcome.act('stop')
            if not check_mode:
                with call('stop host interface %s' % iface.name()):
                    iface.destroy(0)
        outcome.act('undefine')
        if not check_mode:
            with call('undefine host interface %s' % iface.name()):
                iface.undefine()
        return None
    if desired is not None:
        reconcile_definition(conn, KIND, desired, check_mode, outcome=outcome, obj=iface)
        iface = outcome.obj
    elif iface is None:
        raise LibvirtFailure('The host interface %s does not exist; give its definition (xml) to define it'
                             % (params.get('name') or params.get('mac')))
    else:
        outcome.before = outcome.after = KIND.stored_xml(iface)
    active = bool(iface.isActive()) if iface is not None else False
    if state == 'active' and not active:
        outcome.act('start')
        if not check_mode:
            with call('start host interface %s' % iface.name()):
                iface.create(0)
    elif state == 'inactive' and active:
        outcome.act('stop')
        if not check_mode:
            with call('stop host interface %s' % iface.name()):
                iface.destroy(0)
    if check_mode:
        predicted = state == 'active' or (state == 'present' and active)
        return interface_to_dict(outcome.after, predicted)
    return describe(iface)


CONFIRM_HINT = ('The change was not committed. Give confirm.uri the address the controller reaches the host by '
                'over the network the change touches (for example qemu+ssh://host/system), and check the new '
                'definition.')


def _answers(uri, params, seconds):
    """None when a new connection to ``uri`` opens and answers within ``seconds``, else why not. The attempt
    runs in a thread: a transport to an unreachable host can take minutes to fail on its own."""
    outcome = {}

    def attempt():
        try:
            with LibvirtConnection(uri, username=params.get('username'), password=params.get('password')) as conn:
                conn.getHostname()
            outcome['ok'] = True
        except LibvirtFailure as failure:
            outcome['error'] = failure.msg
        except Exception as e:  # reported as the reason, never swallowed
            outcome['error'] = str(e)
    worker = threading.Thread(target=attempt)
    worker.daemon = True
    worker.start()
    worker.join(max(seconds, 0.1))
    if outcome.get('ok'):
        return None
    return outcome.get('error') or 'no answer within %g s' % max(seconds, 0.1)


def confirm(params):
    """The confirm step, after the change and before the commit: a new connection to the hypervisor must
    answer within confirm.timeout seconds; otherwise LibvirtFailure (and the transaction rolls back)."""
    spec = params.get('confirm')
    if not spec:
        return
    uri = spec.get('uri') or params.get('uri')
    time.sleep(spec['delay'])
    deadline = time.monotonic() + spec['timeout']
    while True:
        error = _answers(uri, params, deadline - time.monotonic())
        if error is None:
            return
        if time.monotonic() >= deadline:
            raise LibvirtFailure('The hypervisor did not answer a new connection to %s within %d s after the '
                                 'change (%s)' % (uri, spec['timeout'], error), hint=CONFIRM_HINT)
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


def ensure(conn, params, check_mode):
    if params.get('confirm') and not params.get('transaction', True):
        raise LibvirtFailure('confirm needs transaction: true (without a transaction there is nothing to roll back)')
    desired = desired_document(params) if params.get('xml') else None
    name = desired.get('name') if desired is not None else params.get('name')
    iface = KIND.lookup(conn, name=name, mac=None if name else params.get('mac'))
    # plan in check mode first; only a run that changes something opens a transaction
    preview = Outcome()
    data = _plan(conn, params, _copy(desired), iface, preview, True)
    if check_mode or not preview.changed:
        return preview, data
    outcome = Outcome()
    try:
        with _Transaction(conn, params.get('transaction', True), outcome):
            data = _plan(conn, params, desired, iface, outcome, False)
            confirm(params)
    except LibvirtFailure as failure:
        if _unsupported(failure):
            raise read_only_failure(failure)
        raise
    return outcome, data


def _copy(element):
    return None if element is None else _xml.parse(_xml.to_string(element, pretty=False))
