# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The guest agent's maintenance calls for domain_guest_agent: fstrim, the guest clock, a user's authorized SSH
keys, the guest's online vCPUs, and suspend (guest power management). Each reads first where the guest can tell,
so a second run changes nothing: the keys, the vCPUs, the clock (within a tolerance), the suspended state.

Private to this collection: the names here may change without notice.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure

try:
    import libvirt
except ImportError:  # reported by _connection.require_libraries
    libvirt = None

SUSPEND_TARGETS = {'mem': 'VIR_NODE_SUSPEND_TARGET_MEM', 'disk': 'VIR_NODE_SUSPEND_TARGET_DISK',
                   'hybrid': 'VIR_NODE_SUSPEND_TARGET_HYBRID'}
SUSPEND_HINT = ("The guest must support it (its kernel and the agent: qemu-ga runs pm-is-supported or reads "
                "/sys/power/state; suspend to disk needs swap for the image), and the domain must not disable it "
                "(<pm><suspend-to-mem enabled='no'/></pm>).")


def normalise_key(key):
    """An authorized_keys line as compared: surrounding space gone, inner runs of space as one."""
    return ' '.join(str(key).split())


def plan_keys(current, keys, state):
    """(the keys after, sorted: the agent decides their order in the file; the call): state present adds the
    missing keys, absent removes the listed ones, exact makes the set exactly ``keys``. The call is None when nothing
    changes, else ('append'|'remove'|'set', keys)."""
    have = [normalise_key(k) for k in current if normalise_key(k)]
    wanted = []
    for key in keys:
        key = normalise_key(key)
        if key and key not in wanted:
            wanted.append(key)
    if state == 'present':
        missing = [k for k in wanted if k not in have]
        return sorted(set(have + missing)), ('append', missing) if missing else None
    if state == 'absent':
        present = [k for k in wanted if k in have]
        return sorted(set(k for k in have if k not in present)), ('remove', present) if present else None
    if set(wanted) == set(have):
        return sorted(set(wanted)), None
    # an empty list is a removal of them all: the agent's "set" wants at least one key
    return sorted(set(wanted)), ('set', wanted) if wanted else ('remove', have)


def cpus(text):
    """A CPU set string of the agent's answer ('0-1,3') as a sorted list ([] for none)."""
    parsed = _xml.parse_cpuset(text) if text else None
    return sorted(parsed) if parsed else []


def plan_vcpus(info, online, offline):
    """[(cpuset string, 1 online | 0 offline)] to make ``online`` (a set) online and ``offline`` offline, given the
    agent's answer ``info`` ({'vcpus', 'online', 'offlinable'}); a vCPU the guest does not have, or cannot take
    offline, fails."""
    have = set(cpus(info.get('vcpus')))
    now_online = set(cpus(info.get('online')))
    offlinable = set(cpus(info.get('offlinable')))
    both = online & offline
    if both:
        raise LibvirtFailure('vcpus: vCPU %s cannot be both online and offline' % _cpuset(both))
    unknown = (online | offline) - have
    if unknown:
        raise LibvirtFailure('vcpus: the guest has no vCPU %s (it has %s)' % (_cpuset(unknown), _cpuset(have)),
                             hint='The guest sees the vCPUs of its definition (sysvirt.libvirt.domain); '
                                  'this changes which of them are online.')
    steps = []
    up = online - now_online
    if up:
        steps.append((_cpuset(up), 1))
    down = offline & now_online
    if down - offlinable:
        raise LibvirtFailure('vcpus: the guest cannot take vCPU %s offline (offlinable: %s)' % (
            _cpuset(down - offlinable), _cpuset(offlinable) or 'none'),
            hint='The guest kernel keeps some CPUs (usually CPU 0) online.')
    if down:
        steps.append((_cpuset(down), 0))
    return steps


def _cpuset(numbers):
    return ','.join(str(n) for n in sorted(numbers))


def vcpus_data(info):
    return dict(vcpus=cpus(info.get('vcpus')), online=cpus(info.get('online')),
                offlinable=cpus(info.get('offlinable')))


def clock_offset(guest_time, now):
    """Seconds the guest's clock is ahead of ``now`` (negative: behind), from getTime()'s answer."""
    return guest_time['seconds'] + guest_time.get('nseconds', 0) / 1e9 - now


def _flag(name):
    return getattr(libvirt, name, 0)


class CareMixin:
    """The maintenance steps of AgentRun (domain_guest_agent); ``agent`` calls an agent method with the agent's
    hints on failure, ``self.check``/``self.perform`` come from ModuleRun."""

    def maintenance(self, dom, result, agent):
        p = self.params
        if p.get('vcpus'):
            result['guest_vcpus'] = self.guest_vcpus(dom, agent)
        if p.get('authorized_keys'):
            result['authorized_keys'] = self.authorized_keys(dom, agent)
        if p.get('clock'):
            result['clock'] = self.clock(dom, agent)
        if p.get('fstrim'):
            self.fstrim(dom, agent)

    def guest_vcpus(self, dom, agent):
        spec = self.params['vcpus']
        info = agent('read the guest vCPUs of %s' % dom.name(), dom.guestVcpus, 0)
        online = set(_parse_cpus(spec.get('online'), 'online'))
        offline = set(_parse_cpus(spec.get('offline'), 'offline'))
        steps = plan_vcpus(info, online, offline)
        for cpuset, state in steps:
            what = 'set guest vCPU %s %s' % (cpuset, 'online' if state else 'offline')
            self.perform(what, lambda c=cpuset, s=state: agent(what + ' in %s' % dom.name(), dom.setGuestVcpus,
                                                               c, s, 0), check=self.check, what=what)
        data = vcpus_data(info)
        if steps and self.check:
            data['online'] = sorted((set(data['online']) | online) - offline)
        elif steps:
            data = vcpus_data(agent('read the guest vCPUs of %s' % dom.name(), dom.guestVcpus, 0))
        return data

    def authorized_keys(self, dom, agent):
        spec = self.params['authorized_keys']
        user = spec['user']
        current = agent('read the authorized SSH keys of %s in %s' % (user, dom.name()),
                        dom.authorizedSSHKeysGet, user, 0) or []
        after, call_ = plan_keys(current, spec['public_keys'], spec['state'])
        if call_ is not None:
            how, keys = call_
            flags = {'append': _flag('VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_APPEND'),
                     'remove': _flag('VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_REMOVE'), 'set': 0}[how]
            action = {'append': 'add %d authorized SSH key(s) of user %s', 'remove':
                      'remove %d authorized SSH key(s) of user %s', 'set': 'set the %d authorized SSH key(s) of user %s'}
            self.perform(action[how] % (len(keys), user),
                         lambda: agent('set the authorized SSH keys of %s in %s' % (user, dom.name()),
                                       dom.authorizedSSHKeysSet, user, keys, flags), check=self.check)
        return dict(user=user, public_keys=after)

    def clock(self, dom, agent):
        spec = self.params['clock']
        if spec['source'] == 'rtc':
            self.perform('set the guest clock from its hardware clock',
                         lambda: agent('set the clock of %s' % dom.name(), dom.setTime, None,
                                       _flag('VIR_DOMAIN_TIME_SYNC')), check=self.check)
            guest = agent('read the clock of %s' % dom.name(), dom.getTime, 0)
            return dict(offset=round(clock_offset(guest, time.time()), 3))
        guest = agent('read the clock of %s' % dom.name(), dom.getTime, 0)
        offset = clock_offset(guest, time.time())
        if abs(offset) <= spec['tolerance']:
            return dict(offset=round(offset, 3))
        self.perform('set the guest clock (it was %.1f seconds %s)' % (abs(offset), 'ahead' if offset > 0 else
                                                                       'behind'),
                     lambda: agent('set the clock of %s' % dom.name(), dom.setTime, _now_time(), 0),
                     check=self.check)
        if self.check:
            return dict(offset=0.0)
        guest = agent('read the clock of %s' % dom.name(), dom.getTime, 0)
        return dict(offset=round(clock_offset(guest, time.time()), 3))

    def fstrim(self, dom, agent):
        spec = self.params['fstrim']
        minimum = 0
        if spec.get('minimum'):
            try:
                minimum = _xml.size_to_bytes(spec['minimum'])
            except ValueError as e:
                raise LibvirtFailure('fstrim: minimum %s' % e)
        self.perform('trim the filesystems',
                     lambda: agent('trim the filesystems of %s' % dom.name(), dom.fSTrim, None, minimum, 0),
                     check=self.check)


def _now_time():
    now = time.time()
    return dict(seconds=int(now), nseconds=int((now - int(now)) * 1e9))


def _parse_cpus(text, what):
    if text is None:
        return []
    parsed = _xml.parse_cpuset(str(text))
    if parsed is None:
        raise LibvirtFailure('vcpus: %s %r is not a CPU list (such as 1-3,5)' % (what, text))
    return parsed


def suspended_already(dom, target):
    """Whether the guest already is where ``target`` puts it: suspended to RAM (mem, hybrid) or, for disk, off."""
    state = dom.state()[0]
    if target == 'disk':
        return state == libvirt.VIR_DOMAIN_SHUTOFF
    return state == libvirt.VIR_DOMAIN_PMSUSPENDED
