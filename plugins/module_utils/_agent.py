# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The QEMU guest agent through libvirt: facts (OS, hostname, users, filesystems, interfaces, timezone),
filesystem freeze/thaw, user passwords. Every call is bounded by a timeout, and a guest whose agent cannot answer
gets one clear message saying why (no agent channel, agent not connected, agent not responding).

Private to this collection: the names here may change without notice.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

try:
    import libvirt
except ImportError:
    libvirt = None

try:
    import libvirt_qemu
except ImportError:
    libvirt_qemu = None

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call
from ansible_collections.sysvirt.libvirt.plugins.module_utils._agent_care import (
    SUSPEND_HINT, SUSPEND_TARGETS, CareMixin, suspended_already)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._device import require_domain
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import ModuleRun

AGENT_CHANNEL = 'org.qemu.guest_agent.0'
CHANNEL_HINT = ("Add a guest agent channel (<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>"
                "</channel>, e.g. with sysvirt.libvirt.domain_device) and install and start qemu-guest-agent in the "
                "guest.")
AGENT_HINT = "Install and start qemu-guest-agent in the guest (the channel is there, nothing answers on it)."
FROZEN_HINT = ("The guest's filesystems are frozen, and a frozen agent answers only freeze commands: thaw them first "
               "(frozen: false).")
BLOCKED_HINT = ("The agent in the guest refuses this command: its configuration blocks it. Allow it with qemu-ga's "
                "--allow-rpcs / --block-rpcs (allow-rpcs / block-rpcs in /etc/qemu/qemu-ga.conf; on RHEL and Fedora "
                "FILTER_RPC_ARGS in /etc/sysconfig/qemu-ga) and restart qemu-guest-agent.")

GATHER_TYPES = ('os', 'hostname', 'users', 'timezone', 'filesystems', 'disks', 'interfaces')


def _flag(name):
    return getattr(libvirt, name, 0)


def _no_support(error):
    return error.get_error_code() in (libvirt.VIR_ERR_NO_SUPPORT, getattr(libvirt, 'VIR_ERR_ARGUMENT_UNSUPPORTED', -1))


def agent_channel_state(dom):
    """'connected', 'disconnected', None (no channel) or 'unknown' (a channel without a reported state)."""
    with call('read the definition of %s' % dom.name()):
        root = _xml.parse(dom.XMLDesc(0), what='domain XML')
    for channel in root.findall('devices/channel'):
        target = channel.find('target')
        if target is not None and target.get('name') == AGENT_CHANNEL:
            return target.get('state') or 'unknown'
    return None


def require_agent(conn, dom):
    """Fail clearly when the guest's agent cannot answer (QEMU guests; other drivers answer for themselves)."""
    if not dom.isActive():
        raise LibvirtFailure('%s is not running; its guest agent cannot answer' % dom.name(),
                             hint='Start the guest first.')
    if conn.getType() != 'QEMU':
        return
    state = agent_channel_state(dom)
    if state is None:
        raise LibvirtFailure('%s has no QEMU guest agent channel, so no agent can answer' % dom.name(),
                             hint=CHANNEL_HINT)
    if state == 'disconnected':
        raise LibvirtFailure('The QEMU guest agent of %s is not connected (channel %s)' % (dom.name(), AGENT_CHANNEL),
                             hint=AGENT_HINT)


def set_timeout(dom, seconds):
    try:
        dom.agentSetResponseTimeout(int(seconds), 0)
    except libvirt.libvirtError as e:
        if not _no_support(e):
            raise
    except AttributeError:  # libvirt-python older than 5.10
        pass


def agent_call(dom, what, func, *args):
    """Call ``func``; agent failures get the agent hint."""
    try:
        return func(*args)
    except libvirt.libvirtError as e:
        from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import failure_from
        failure = failure_from(e, what)
        failure.hint = failure.hint or agent_hint(e.get_error_code(), failure.libvirt_message)
        raise failure


def agent_hint(code, message):
    """The hint for an agent call that failed: frozen filesystems, a command the agent's configuration blocks,
    or an agent that does not answer; None for other failures (the agent answered with its own error)."""
    message = message or ''
    if 'frozen state' in message:
        return FROZEN_HINT
    if 'has been disabled' in message:
        return BLOCKED_HINT
    if code in (getattr(libvirt, 'VIR_ERR_AGENT_UNRESPONSIVE', -1), getattr(libvirt, 'VIR_ERR_AGENT_UNSYNCED', -1)):
        return AGENT_HINT
    return None


_INDEXED = re.compile(r'^(?P<kind>[a-z_]+)\.(?P<index>\d+)\.(?P<rest>.+)$')


def unflatten(flat):
    """libvirt's flat guest-info keys ('os.id', 'user.0.name', 'fs.0.disk.0.alias') as nested data."""
    out = {}
    for key in sorted(flat):
        _put(out, key.split('.'), flat[key])
    return _lists(out)


def _put(node, parts, value):
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _lists(node):
    if not isinstance(node, dict):
        return node
    converted = dict((k, _lists(v)) for k, v in node.items())
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    if 'count' in converted:
        items = [converted[k] for k in sorted((k for k in converted if k.isdigit()), key=int)]
        if items or set(converted) == {'count'}:
            return items
    return dict((k.replace('-', '_'), v) for k, v in converted.items())


def guest_facts(dom, types):
    """The facts asked for: {os, hostname, users, timezone, filesystems, disks, interfaces}."""
    facts = {}
    info_types = {
        'os': 'VIR_DOMAIN_GUEST_INFO_OS', 'hostname': 'VIR_DOMAIN_GUEST_INFO_HOSTNAME',
        'users': 'VIR_DOMAIN_GUEST_INFO_USERS', 'timezone': 'VIR_DOMAIN_GUEST_INFO_TIMEZONE',
        'filesystems': 'VIR_DOMAIN_GUEST_INFO_FILESYSTEM', 'disks': 'VIR_DOMAIN_GUEST_INFO_DISKS',
    }
    mask = 0
    for name in types:
        if name in info_types:
            mask |= _flag(info_types[name])
    flat = None
    if mask:
        try:
            flat = dom.guestInfo(mask, 0)
        except libvirt.libvirtError as e:
            if not _no_support(e):
                agent_call(dom, 'read guest information of %s' % dom.name(), _raise, e)
    if flat is not None:
        data = unflatten(flat)
        if 'os' in types:
            facts['os'] = data.get('os', {})
        if 'hostname' in types:
            facts['hostname'] = data.get('hostname')
        if 'users' in types:
            facts['users'] = data.get('user', [])
        if 'timezone' in types:
            facts['timezone'] = data.get('timezone', {})
        if 'filesystems' in types:
            facts['filesystems'] = data.get('fs', [])
        if 'disks' in types:
            facts['disks'] = data.get('disk', [])
    else:
        # Drivers without the bulk call (the test driver): the single-purpose calls.
        if 'hostname' in types:
            # The agent is the source on QEMU; other drivers (test) have one source and take no flag.
            flags = _flag('VIR_DOMAIN_GET_HOSTNAME_AGENT') if dom.connect().getType() == 'QEMU' else 0
            facts['hostname'] = agent_call(dom, 'read the hostname of %s' % dom.name(), dom.hostname, flags)
        if 'filesystems' in types:
            fsinfo = agent_call(dom, 'read the filesystems of %s' % dom.name(), dom.fsInfo, 0)
            facts['filesystems'] = [dict(mountpoint=m, name=n, fstype=t, disk=[dict(alias=a) for a in d])
                                    for m, n, t, d in fsinfo]
        for name in ('os', 'users', 'timezone', 'disks'):
            if name in types:
                raise LibvirtFailure('Failed to read guest %s of %s: this libvirt driver (%s) cannot'
                                     % (name, dom.name(), dom.connect().getType()))
    if 'interfaces' in types:
        addrs = agent_call(dom, 'read the interfaces of %s' % dom.name(), dom.interfaceAddresses,
                           _flag('VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT'), 0)
        facts['interfaces'] = [
            dict(name=name, hwaddr=value.get('hwaddr'),
                 addresses=[dict(address=a['addr'], prefix=a['prefix'],
                                 type='ipv6' if a['type'] == _flag('VIR_IP_ADDR_TYPE_IPV6') else 'ipv4')
                            for a in (value.get('addrs') or [])])
            for name, value in sorted((addrs or {}).items())]
    return facts


def _raise(error):
    raise error


def freeze_status(dom, timeout):
    """'frozen', 'thawed', or None when it cannot be read (no libvirt_qemu, or a driver that is not QEMU)."""
    if libvirt_qemu is None or dom.connect().getType() != 'QEMU':
        return None
    answer = agent_call(dom, 'read the filesystem freeze status of %s' % dom.name(), libvirt_qemu.qemuAgentCommand,
                        dom, json.dumps({'execute': 'guest-fsfreeze-status'}), int(timeout), 0)
    try:
        return json.loads(answer).get('return')
    except (ValueError, AttributeError):
        return None


class AgentRun(CareMixin, ModuleRun):
    """One run of domain_guest_agent."""

    def run(self):
        """Thaw, set the password, the maintenance calls, read the facts, freeze: a frozen agent answers nothing
        but freeze commands, so they come before a freeze and after a thaw. Suspend runs alone."""
        p = self.params
        if p['timeout'] < 1:
            raise LibvirtFailure('timeout must be at least 1 second, not %d' % p['timeout'])
        dom = require_domain(self.conn, p['domain'])
        if p.get('suspend'):
            return self.suspend(dom)
        require_agent(self.conn, dom)
        set_timeout(dom, p['timeout'])
        result = dict(domain=dom.name())
        if p.get('frozen') is False:
            self.freeze_or_thaw(dom, result)
        if p.get('user_password'):
            spec = p['user_password']
            self.act('set the password of user %s' % spec['user'])
            if not self.check:
                flags = _flag('VIR_DOMAIN_PASSWORD_ENCRYPTED') if spec.get('crypted') else 0
                agent_call(dom, 'set the password of user %s in %s' % (spec['user'], dom.name()),
                           dom.setUserPassword, spec['user'], spec['password'], flags)
        self.maintenance(dom, result, lambda what, func, *args: agent_call(dom, what, func, *args))
        if p.get('gather'):
            result['guest'] = guest_facts(dom, p['gather'])
        if p.get('frozen'):
            self.freeze_or_thaw(dom, result)
        return self.finish(**result)

    def freeze_or_thaw(self, dom, result):
        p = self.params
        frozen = p['frozen']
        status = freeze_status(dom, p['timeout'])
        if status != ('frozen' if frozen else 'thawed'):
            self.act('%s filesystems%s' % ('freeze' if frozen else 'thaw',
                                           (' ' + ', '.join(p['mountpoints'])) if frozen and p.get('mountpoints')
                                           else ''))
            if not self.check:
                if frozen:
                    count = agent_call(dom, 'freeze the filesystems of %s' % dom.name(), dom.fsFreeze,
                                       p.get('mountpoints') or None, 0)
                else:
                    count = agent_call(dom, 'thaw the filesystems of %s' % dom.name(), dom.fsThaw, None, 0)
                result['filesystems_changed'] = count
                if status is not None:
                    status = freeze_status(dom, p['timeout'])
        result['freeze_status'] = status

    def suspend(self, dom):
        """Guest power management: the agent suspends the guest to RAM, to disk, or both; then wait (events) until
        libvirt reports it suspended (or, to disk, off)."""
        p = self.params
        target = p['suspend']
        result = dict(domain=dom.name())
        if suspended_already(dom, target):
            if target == 'disk':
                self.warnings.append('%s is shut off; it was suspended to disk or stopped, which libvirt does not '
                                     'tell apart' % dom.name())
            return self.finish(**result)
        require_agent(self.conn, dom)
        set_timeout(dom, p['timeout'])
        states = ('shutoff',) if target == 'disk' else ('pmsuspended',)
        if self.check:
            self.act('suspend to %s' % target)
            return self.finish(**result)
        from ansible_collections.sysvirt.libvirt.plugins.module_utils._domain import Waiter
        with Waiter(self.conn, dom) as waiter:
            try:
                agent_call(dom, 'suspend %s to %s' % (dom.name(), target), dom.pMSuspendForDuration,
                           getattr(libvirt, SUSPEND_TARGETS[target]), 0, 0)
            except LibvirtFailure as failure:
                failure.hint = failure.hint or SUSPEND_HINT
                raise
            self.act('suspend to %s' % target)
            if not waiter.until_state(states, p['timeout']):
                raise LibvirtFailure('%s accepted the suspend to %s but did not get there within %d seconds'
                                     % (dom.name(), target, p['timeout']), hint=SUSPEND_HINT)
        return self.finish(**result)


def run_module(module):
    AgentRun.main(module, events=bool(module.params.get('suspend')))
