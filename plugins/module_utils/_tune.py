# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A guest's tunables, live and in its definition: memory limits, CPU scheduler, block I/O, pinning, vCPU count,
IOThreads, NUMA memory, interface bandwidth and perf events.

Private to this collection: the names here may change without notice.

Each group of tunables (``GROUPS``, in the order they are applied) says how to turn the module's option into
*wanted* values, how to read the *current* values of one scope (``live`` or ``config``) and how to set some of them.
Values are kept flat (a key per tunable, a tuple for per-device ones), so comparing and predicting are the same
small functions for every group: only what the user asked for is compared, a check run predicts the current
values with the wanted ones laid over them, and the real run reads them back after setting.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

try:
    import libvirt
except ImportError:  # reported by _connection.require_libraries
    libvirt = None

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call
from ansible_collections.sysvirt.libvirt.plugins.module_utils._device import (
    affect_scopes, find_domain, require_domain)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import ModuleRun, assumed_parent

#: libvirt's "no limit" for memory tunables (VIR_DOMAIN_MEMORY_PARAM_UNLIMITED, in KiB).
UNLIMITED_KIB = 9007199254740991


# ------------------------------------------------------------------------------------------ compare and predict

def compare(wanted, current):
    """The wanted values that differ from the current ones: {key: wanted value}."""
    return dict((key, value) for key, value in wanted.items() if current.get(key) != value)


def pick(values, wanted):
    """The values of the keys the user asked for (what the result and the diff show)."""
    return dict((key, values.get(key)) for key in wanted)


def predict(current, changes):
    """The values a scope holds after ``changes`` are set (check mode's "after")."""
    predicted = dict(current)
    predicted.update(changes)
    return predicted


def describe(changes, key_text=str):
    """'a=1, b=2' for an action or a warning, keys as ``key_text`` names them, in a stable order."""
    return ', '.join('%s=%s' % (key_text(key), changes[key]) for key in sorted(changes, key=key_text))


# ----------------------------------------------------------------------------------------------------- values

def size_kib(value, option, default_unit='KiB'):
    """A size option ('2 GiB', '512M', a number in ``default_unit``) in KiB; fails on anything else."""
    try:
        size = _xml.size_to_bytes(value, default_unit)
    except (ValueError, KeyError) as exc:
        raise LibvirtFailure('%s: %s' % (option, exc))
    if size % 1024:
        raise LibvirtFailure('%s: %s is not a whole number of KiB, the unit libvirt takes' % (option, value))
    return size // 1024


def memory_limit(value, option):
    """A memory limit in KiB, or 'unlimited' (what libvirt reads as VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)."""
    if str(value).strip().lower() == 'unlimited':
        return 'unlimited'
    return size_kib(value, option)


def size_bytes(value, option):
    try:
        return _xml.size_to_bytes(value, 'b')
    except (ValueError, KeyError) as exc:
        raise LibvirtFailure('%s: %s' % (option, exc))


def cpuset(value, option):
    """A CPU set ('0-3,^2', '1') in the form libvirt writes ('0-1,3'); fails on anything else."""
    cpus = _xml.parse_cpuset(str(value))
    if not cpus:
        raise LibvirtFailure('%s: %r is not a CPU set (for example 0-3, 1,3 or 0-7,^4)' % (option, value))
    return format_cpuset(cpus)


def format_cpuset(cpus):
    """{0, 1, 2, 5} -> '0-2,5'; an empty set -> ''."""
    parts = []
    for cpu in sorted(cpus):
        if parts and parts[-1][1] == cpu - 1:
            parts[-1][1] = cpu
        else:
            parts.append([cpu, cpu])
    return ','.join(str(low) if low == high else '%d-%d' % (low, high) for low, high in parts)


def cpumap_set(cpumap):
    """libvirt's CPU map (a tuple of booleans, one per host CPU) as a CPU set string."""
    return format_cpuset(index for index, used in enumerate(cpumap) if used)


def cpumap(cpus, host_cpus, option):
    """A CPU set string as libvirt's CPU map for a host of ``host_cpus`` CPUs; fails for CPUs the host lacks."""
    wanted = _xml.parse_cpuset(cpus)
    beyond = sorted(cpu for cpu in wanted if cpu >= host_cpus)
    if beyond:
        raise LibvirtFailure('%s: the host has CPUs 0-%d, not %s' % (option, host_cpus - 1, format_cpuset(beyond)),
                             hint='Pin to CPUs the host has (sysvirt.libvirt.host_facts lists them).')
    return tuple(cpu in wanted for cpu in range(host_cpus))


# ----------------------------------------------------------------------------------------------------- groups

class Group:
    """One group of tunables: the option it comes from, how to read, compare and set it."""

    option = None
    noun = None
    #: What to try when libvirt refuses (a hint of the connection layer, when it has one, takes precedence).
    hint = None

    def wanted(self, spec):
        """The flat {key: value} the option asks for (validated and in libvirt's units)."""
        raise NotImplementedError

    def read(self, dom, scope, wanted):
        """The flat current values of ``scope``, at least for the wanted keys."""
        raise NotImplementedError

    def apply(self, dom, scope, changes, current):
        """Set ``changes`` in ``scope``."""
        raise NotImplementedError

    def present(self, values):
        """Flat values in the shape of the option (for the result and the diff)."""
        return values

    def for_scope(self, wanted, scope):
        """The wanted values that exist in ``scope`` (all, but for live-only tunables)."""
        return wanted

    def key_text(self, key):
        """How actions and warnings name a key, in the option's terms."""
        return str(key)


class ParamGroup(Group):
    """A group libvirt reads and sets as one dict of typed parameters (memory, scheduler, NUMA, perf)."""

    #: {option key: libvirt's parameter name}; None takes the keys as they are (perf events).
    names = None

    def name(self, key):
        return self.names[key] if self.names else key

    def from_libvirt(self, key, value):
        return value

    def to_libvirt(self, key, value):
        return value

    def get(self, dom, flags):
        """libvirt's parameters of the group."""
        raise NotImplementedError

    def set(self, dom, params, flags):
        """Set some of libvirt's parameters of the group."""
        raise NotImplementedError

    def read(self, dom, scope, wanted):
        raw = self.get(dom, scope[2])
        offered = self.names or dict((key, key) for key in raw)
        unknown = sorted(key for key in wanted if offered.get(key) not in raw)
        if unknown:
            known = sorted(key for key, name in offered.items() if name in raw)
            raise LibvirtFailure('The %s driver has no %s tunable %s (it has: %s)' % (
                dom.connect().getType(), self.noun, ', '.join(unknown), ', '.join(known) or 'none'),
                hint='Leave %s out for this hypervisor.' % ', '.join(unknown))
        return dict((key, self.from_libvirt(key, raw[name])) for key, name in offered.items() if name in raw)

    def apply(self, dom, scope, changes, current):
        params = dict((self.name(key), self.to_libvirt(key, value)) for key, value in changes.items())
        self.set(dom, params, scope[2])


class Memory(ParamGroup):
    option = 'memory'
    noun = 'memory'
    names = dict(hard_limit='hard_limit', soft_limit='soft_limit', swap_hard_limit='swap_hard_limit',
                 min_guarantee='min_guarantee')
    hint = ('Live limits need the memory cgroup controller on the host; hard_limit may not exceed swap_hard_limit '
            '(set both in one task). Set live=false to change only the definition.')

    def get(self, dom, flags):
        return dom.memoryParameters(flags)

    def set(self, dom, params, flags):
        dom.setMemoryParameters(params, flags)

    def wanted(self, spec):
        return dict((key, memory_limit(value, 'memory.%s' % key)) for key, value in spec.items() if value is not None)

    def from_libvirt(self, key, value):
        return 'unlimited' if value >= UNLIMITED_KIB else value

    def to_libvirt(self, key, value):
        return UNLIMITED_KIB if value == 'unlimited' else value

    def apply(self, dom, scope, changes, current):
        # libvirt checks hard_limit <= swap_hard_limit against the live values when only one of them is given,
        # also for the definition: give the other one as the scope holds it, so the scope's own pair is checked.
        pair = ('hard_limit', 'swap_hard_limit')
        if any(key in changes for key in pair):
            changes = dict(pick(current, [key for key in pair if key in current]), **changes)
        super(Memory, self).apply(dom, scope, changes, current)


class Scheduler(ParamGroup):
    option = 'scheduler'
    noun = 'CPU scheduler'
    names = dict((key, key) for key in (
        'cpu_shares', 'vcpu_period', 'vcpu_quota', 'emulator_period', 'emulator_quota', 'global_period',
        'global_quota', 'iothread_period', 'iothread_quota'))
    hint = ('Live values need the cpu cgroup controller; periods are 1000-1000000 microseconds, quotas 1000 and '
            'more (-1 for none). Set live=false to change only the definition.')

    def get(self, dom, flags):
        return dom.schedulerParametersFlags(flags)

    def set(self, dom, params, flags):
        dom.setSchedulerParametersFlags(params, flags)

    def wanted(self, spec):
        return dict((key, value) for key, value in spec.items() if value is not None)


class Numa(ParamGroup):
    option = 'numa'
    noun = 'NUMA memory'
    names = dict(mode='numa_mode', nodeset='numa_nodeset')
    modes = ('strict', 'preferred', 'interleave', 'restrictive')
    hint = ('A running guest can change only the nodeset, in mode strict or restrictive, and needs the cpuset '
            'cgroup controller; change the mode with live=false (it applies at the next start).')

    def get(self, dom, flags):
        return dom.numaParameters(flags)

    def set(self, dom, params, flags):
        dom.setNumaParameters(params, flags)

    def wanted(self, spec):
        wanted = {}
        if spec.get('mode') is not None:
            wanted['mode'] = spec['mode']
        if spec.get('nodeset') is not None:
            wanted['nodeset'] = cpuset(spec['nodeset'], 'numa.nodeset')
        return wanted

    def from_libvirt(self, key, value):
        if key == 'mode':
            return self.modes[value] if 0 <= value < len(self.modes) else str(value)
        return format_cpuset(_xml.parse_cpuset(value) or ()) if value else ''

    def to_libvirt(self, key, value):
        return self.modes.index(value) if key == 'mode' else value


class Perf(ParamGroup):
    option = 'perf'
    noun = 'perf event'
    hint = ('The host CPU and kernel must offer the event (cmt, mbmt and mbml need Intel RDT, the hardware events a '
            'PMU the host can use); enable it with live=false to have it at the next start where it is available.')

    def get(self, dom, flags):
        return dom.perfEvents(flags)

    def set(self, dom, params, flags):
        dom.setPerfEvents(params, flags)

    def wanted(self, spec):
        wanted = {}
        for key, value in spec.items():
            try:
                wanted[key] = boolean(value, strict=True)
            except TypeError:
                raise LibvirtFailure('perf.%s: %r is not true or false' % (key, value))
        return wanted


class Vcpus(Group):
    option = 'vcpus'
    noun = 'vCPU count'
    hint = ('The count can go up to the maximum of <vcpu>; taking vCPUs away from a running guest needs the guest '
            'OS to release them. Raise the maximum with sysvirt.libvirt.domain (at the next start).')

    def wanted(self, spec):
        if spec < 1:
            raise LibvirtFailure('vcpus: %d is not a vCPU count (1 or more)' % spec)
        return dict(vcpus=spec)

    def read(self, dom, scope, wanted):
        return dict(vcpus=dom.vcpusFlags(scope[2]))

    def apply(self, dom, scope, changes, current):
        dom.setVcpusFlags(changes['vcpus'], scope[2])

    def present(self, values):
        return values.get('vcpus')


class MemoryStatsPeriod(Group):
    option = 'memory_stats_period'
    noun = 'memory statistics period'
    hint = ('The guest needs a memory balloon device (<memballoon model="virtio">) whose driver reports '
            'statistics; 0 stops the collection.')

    def wanted(self, spec):
        if spec < 0:
            raise LibvirtFailure('memory_stats_period: %d is not a period (seconds, 0 for none)' % spec)
        return dict(period=spec)

    def read(self, dom, scope, wanted):
        root = _xml.parse(dom.XMLDesc(scope[1]), what='domain XML')
        stats = root.find('devices/memballoon/stats')
        return dict(period=_xml.parse_int(stats.get('period')) if stats is not None else 0)

    def apply(self, dom, scope, changes, current):
        dom.setMemoryStatsPeriod(changes['period'], scope[2])

    def present(self, values):
        return values.get('period')


def _host_cpus(cpumaps):
    return len(cpumaps[0]) if cpumaps else 0


class VcpuPins(Group):
    option = 'vcpu_pins'
    noun = 'vCPU pinning'
    hint = 'Pin to host CPUs that are online; a running guest needs the cpuset cgroup controller.'

    def wanted(self, spec):
        wanted = {}
        for item in spec:
            key = ('vcpu', item['vcpu'])
            if key in wanted:
                raise LibvirtFailure('vcpu_pins: vCPU %d is given twice' % item['vcpu'])
            wanted[key] = cpuset(item['cpuset'], 'vcpu_pins[vcpu=%d].cpuset' % item['vcpu'])
        return wanted

    def read(self, dom, scope, wanted):
        maps = dom.vcpuPinInfo(scope[2])  # (the vCPUs online in the scope; an offline one's pinning is in the XML)
        most = dom.vcpusFlags(scope[2] | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
        beyond = sorted(key[1] for key in wanted if key[1] >= most)
        if beyond:
            raise LibvirtFailure('vcpu_pins: %s has vCPUs 0-%d, not %s' % (
                dom.name(), most - 1, format_cpuset(beyond)),
                hint='Pin the vCPUs the guest has (its <vcpu> maximum).')
        values = dict(host_cpus=_host_cpus(maps))
        if any(key[1] >= len(maps) for key in wanted):
            values.update(self.offline(dom, scope, len(maps), most, values['host_cpus']))
        values.update((('vcpu', index), cpumap_set(used)) for index, used in enumerate(maps))
        return values

    @staticmethod
    def offline(dom, scope, first, most, host_cpus):
        """The pinning of the vCPUs ``first`` to ``most - 1`` from the definition: its <vcpupin>, else <vcpu cpuset>,
        else every host CPU."""
        root = _xml.parse(dom.XMLDesc(scope[1]), what='domain XML')
        vcpu = root.find('vcpu')
        default = _xml.parse_cpuset(vcpu.get('cpuset') if vcpu is not None else None) or range(host_cpus)
        values = dict((('vcpu', index), format_cpuset(default)) for index in range(first, most))
        for pin in root.findall('cputune/vcpupin'):
            values[('vcpu', int(pin.get('vcpu')))] = format_cpuset(_xml.parse_cpuset(pin.get('cpuset')) or ())
        return values

    def apply(self, dom, scope, changes, current):
        for key in sorted(changes):
            dom.pinVcpuFlags(key[1], cpumap(changes[key], current['host_cpus'], 'vcpu_pins'), scope[2])

    def present(self, values):
        return [dict(vcpu=key[1], cpuset=values[key]) for key in sorted(values)]

    def key_text(self, key):
        return 'vcpu %d' % key[1]


class EmulatorPin(Group):
    option = 'emulator_pin'
    noun = 'emulator pinning'
    hint = VcpuPins.hint

    def wanted(self, spec):
        return dict(emulator=cpuset(spec, 'emulator_pin'))

    def read(self, dom, scope, wanted):
        used = dom.emulatorPinInfo(scope[2])
        return dict(emulator=cpumap_set(used), host_cpus=len(used))

    def apply(self, dom, scope, changes, current):
        dom.pinEmulator(cpumap(changes['emulator'], current['host_cpus'], 'emulator_pin'), scope[2])

    def present(self, values):
        return values.get('emulator')


BLKIO_FIELDS = ('weight', 'read_bytes_sec', 'write_bytes_sec', 'read_iops_sec', 'write_iops_sec')


class Blkio(Group):
    option = 'blkio'
    noun = 'block I/O'
    hint = ('Live weights need the bfq (or cfq) I/O scheduler on the host disks, live limits the blkio cgroup '
            'controller; a device is a host block device (/dev/...). Set live=false to change only the definition.')

    def wanted(self, spec):
        wanted = {}
        if spec.get('weight') is not None:
            wanted['weight'] = spec['weight']
        for device in spec.get('devices') or ():
            for field in BLKIO_FIELDS:
                value = device.get(field)
                if value is None:
                    continue
                option = 'blkio.devices[%s].%s' % (device['path'], field)
                wanted[('device', device['path'], field)] = size_bytes(value, option) if 'bytes' in field else value
        return wanted

    def read(self, dom, scope, wanted):
        raw = dom.blkioParameters(scope[2])
        values = dict(weight=raw.get('weight'))
        for field in BLKIO_FIELDS:
            items = (raw.get('device_' + field) or '').split(',')
            for path, value in zip(items[0::2], items[1::2]):
                values[('device', path, field)] = int(value)
        for key in wanted:
            values.setdefault(key, 0)  # a device libvirt does not list has no weight or limit
        return values

    def apply(self, dom, scope, changes, current):
        params = {}
        if 'weight' in changes:
            params['weight'] = changes['weight']
        for key in sorted(k for k in changes if isinstance(k, tuple)):
            entry = '%s,%d' % (key[1], changes[key])
            name = 'device_' + key[2]
            params[name] = '%s,%s' % (params[name], entry) if name in params else entry
        dom.setBlkioParameters(params, scope[2])

    def present(self, values):
        out = {}
        if 'weight' in values:
            out['weight'] = values['weight']
        devices = {}
        for key in sorted(k for k in values if isinstance(k, tuple)):
            devices.setdefault(key[1], dict(path=key[1]))[key[2]] = values[key]
        if devices:
            out['devices'] = [devices[path] for path in sorted(devices)]
        return out

    def key_text(self, key):
        return '%s %s' % (key[1], key[2]) if isinstance(key, tuple) else key


POLL_FIELDS = ('poll_max_ns', 'poll_grow', 'poll_shrink')


class IOThreads(Group):
    option = 'iothreads'
    noun = 'IOThreads'
    hint = ('An IOThread a disk or controller uses cannot be removed; IDs start at 1; polling values exist only in '
            'a running guest.')

    def wanted(self, spec):
        wanted = {}
        for item in spec:
            number, present = item['id'], item['state'] == 'present'
            if (number, 'state') in wanted:
                raise LibvirtFailure('iothreads: IOThread %d is given twice' % number)
            wanted[(number, 'state')] = item['state']
            given = [f for f in ('cpuset',) + POLL_FIELDS if item.get(f) is not None]
            if given and not present:
                raise LibvirtFailure('iothreads: IOThread %d is to be removed (state=absent), so %s cannot be set'
                                     % (number, ', '.join(given)))
            if item.get('cpuset') is not None:
                wanted[(number, 'cpuset')] = cpuset(item['cpuset'], 'iothreads[id=%d].cpuset' % number)
            for field in POLL_FIELDS:
                if item.get(field) is not None:
                    wanted[(number, field)] = item[field]
        return wanted

    def for_scope(self, wanted, scope):
        if scope[0] == 'live':
            return wanted
        return dict((key, value) for key, value in wanted.items() if key[1] not in POLL_FIELDS)

    def read(self, dom, scope, wanted):
        values = {}
        for number, used in dom.ioThreadInfo(scope[2]):
            values[(number, 'state')] = 'present'
            values[(number, 'cpuset')] = cpumap_set(used)
        for key in wanted:
            if key[1] == 'state':
                values.setdefault(key, 'absent')
        if any(key[1] in POLL_FIELDS for key in wanted):
            stats = dom.connect().domainListGetStats([dom], libvirt.VIR_DOMAIN_STATS_IOTHREAD)[0][1]
            for key in wanted:
                name = 'iothread.%d.%s' % (key[0], key[1].replace('_', '-'))
                if key[1] in POLL_FIELDS and name in stats:
                    values[key] = stats[name]
        return values

    def apply(self, dom, scope, changes, current):
        flags = scope[2]
        for key in sorted(k for k in changes if k[1] == 'state'):
            if changes[key] == 'present':
                dom.addIOThread(key[0], flags)
            else:
                dom.delIOThread(key[0], flags)
        pins = sorted(k for k in changes if k[1] == 'cpuset')
        host_cpus = len(dom.emulatorPinInfo(flags)) if pins else 0
        for key in pins:
            dom.pinIOThread(key[0], cpumap(changes[key], host_cpus, 'iothreads'), flags)
        for number in sorted(set(k[0] for k in changes if k[1] in POLL_FIELDS)):
            params = dict((k[1], v) for k, v in changes.items() if k[0] == number and k[1] in POLL_FIELDS)
            dom.setIOThreadParams(number, params, flags)

    def present(self, values):
        threads = {}
        for key in sorted(values):
            threads.setdefault(key[0], dict(id=key[0]))[key[1]] = values[key]
        return [threads[number] for number in sorted(threads)]

    def key_text(self, key):
        return 'iothread %d %s' % key


BANDWIDTH_FIELDS = ('inbound.average', 'inbound.peak', 'inbound.burst', 'inbound.floor', 'outbound.average',
                    'outbound.peak', 'outbound.burst')


class Interfaces(Group):
    option = 'interfaces'
    noun = 'interface bandwidth'
    hint = ('Live bandwidth is set with tc on the host end of the NIC (htb and sfq queues, ingress policing), '
            'which the host kernel must have; inbound.floor needs a NIC on a network with bandwidth. Set live=false '
            'to change only the definition.')

    def wanted(self, spec):
        wanted = {}
        for item in spec:
            device = item['device']
            for direction in ('inbound', 'outbound'):
                for field, value in (item.get(direction) or {}).items():
                    if value is not None:
                        option = 'interfaces[%s].%s.%s' % (device, direction, field)
                        wanted[(device, '%s.%s' % (direction, field))] = size_kib(value, option)
        return wanted

    def read(self, dom, scope, wanted):
        values = {}
        for device in sorted(set(key[0] for key in wanted)):
            for name, value in dom.interfaceParameters(device, scope[2]).items():
                values[(device, name)] = value
        return values

    def apply(self, dom, scope, changes, current):
        for device in sorted(set(key[0] for key in changes)):
            params = dict((key[1], value) for key, value in changes.items() if key[0] == device)
            dom.setInterfaceParameters(device, params, scope[2])

    def present(self, values):
        devices = {}
        for key in sorted(values):
            direction, field = key[1].split('.', 1)
            devices.setdefault(key[0], dict(device=key[0])).setdefault(direction, {})[field] = values[key]
        return [devices[device] for device in sorted(devices)]

    def key_text(self, key):
        return '%s %s' % key


#: The groups, in the order a run applies them: the vCPU count and IOThreads first (pinning and the scheduler's
#: IOThread values need them), the perf events last.
GROUPS = (Vcpus(), IOThreads(), Memory(), MemoryStatsPeriod(), Scheduler(), Blkio(), VcpuPins(), EmulatorPin(),
          Numa(), Interfaces(), Perf())


class calling(call):
    """call(), with the group's hint when the connection layer has none for libvirt's refusal."""

    def __init__(self, what, hint):
        super(calling, self).__init__(what)
        self.hint = hint

    def __exit__(self, exc_type, exc, tb):
        try:
            return super(calling, self).__exit__(exc_type, exc, tb)
        except LibvirtFailure as failure:
            failure.hint = failure.hint or self.hint
            raise failure


class TuneRun(ModuleRun):
    """One run of domain_tune: every group the user gave, in every scope, compared and set where it differs."""

    def run(self):
        p = self.params
        groups = [(group, group.wanted(p[group.option])) for group in GROUPS if p.get(group.option) is not None]
        dom = find_domain(self.conn, p['domain'])
        if dom is None and self.check and p.get('persistent') and not p.get('live'):
            return self.without_domain(groups)
        dom = dom or require_domain(self.conn, p['domain'])  # (fails: the guest does not exist)
        before, after = {}, {}
        for scope in affect_scopes(dom, p.get('live'), p.get('persistent')):
            before[scope[0]], after[scope[0]] = {}, {}
            for group, wanted in groups:
                was, now = self.tune(dom, scope, group, group.for_scope(wanted, scope))
                before[scope[0]][group.option] = group.present(was)
                after[scope[0]][group.option] = group.present(now)
        return self.finish(diff=dict(before=before, after=after), domain=dom.name(), tuned=after)

    def without_domain(self, groups):
        """Check mode, for a guest an earlier task of the play would define: every wanted value is predicted as set
        in the definition, from nothing known."""
        name = self.params['domain']
        self.warnings.append(assumed_parent('Domain', name))
        before, after = {}, {}
        for group, wanted in groups:
            wanted = group.for_scope(wanted, ('config',))
            if wanted:
                self.act('set %s (config): %s' % (group.noun, describe(wanted, group.key_text)))
            before[group.option] = group.present(dict.fromkeys(wanted))
            after[group.option] = group.present(wanted)
        return self.finish(diff=dict(before=dict(config=before), after=dict(config=after)), domain=name,
                           tuned=dict(config=after))

    def tune(self, dom, scope, group, wanted):
        """(before, after) of the wanted keys of one group in one scope, setting what differs."""
        where = '%s of %s (%s)' % (group.noun, dom.name(), scope[0])
        with calling('read the %s' % where, group.hint):
            current = group.read(dom, scope, wanted)
        changes = compare(wanted, current)
        if not changes:
            return pick(current, wanted), pick(current, wanted)
        action = 'set %s (%s): %s' % (group.noun, scope[0], describe(changes, group.key_text))
        if self.check:
            self.act(action)
            return pick(current, wanted), pick(predict(current, changes), wanted)
        with calling('set the %s' % where, group.hint):
            group.apply(dom, scope, changes, current)
        self.act(action)
        with calling('read the %s' % where, group.hint):
            now = group.read(dom, scope, wanted)
        missed = compare(wanted, now)
        if missed:
            self.warnings.append('libvirt set the %s but does not report %s as asked (now %s)' % (
                where, describe(missed, group.key_text), describe(pick(now, missed), group.key_text)))
        return pick(current, wanted), pick(now, wanted)


def run_module(module):
    TuneRun.main(module)
