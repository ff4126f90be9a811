# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_tune: comparing and predicting tunables, each group's parsing of its option, reading and setting with a fake
domain that records the calls, and domain_tune's four runs on the daemon's test driver (the real hypervisor:
tests/functional/test_tune_qemu.py)."""

from __future__ import annotations

import types

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _tune
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure
from conftest import SHARED_TEST_URI, run_module, unique_name

LIVE = ('live', 0, libvirt.VIR_DOMAIN_AFFECT_LIVE)
CONFIG = ('config', libvirt.VIR_DOMAIN_XML_INACTIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG)


# ------------------------------------------------------------------------------------------ compare and predict

def test_compare_keeps_only_the_wanted_values_that_differ():
    assert _tune.compare(dict(a=1, b=2, c=None), dict(a=1, b=3, d=4)) == dict(b=2)
    assert _tune.compare(dict(a=1), dict(a=1)) == {}
    assert _tune.compare(dict(a=0), {}) == dict(a=0)  # a missing current value differs from every wanted one


def test_pick_and_predict():
    current = dict(a=1, b=2, host_cpus=4)
    assert _tune.pick(current, dict(a=9, z=1)) == dict(a=1, z=None)
    assert _tune.predict(current, dict(b=5, c=6)) == dict(a=1, b=5, c=6, host_cpus=4)
    assert current == dict(a=1, b=2, host_cpus=4)  # not changed in place


def test_describe_orders_by_the_key_text():
    assert _tune.describe(dict(b=2, a='x')) == 'a=x, b=2'
    assert _tune.describe({('vcpu', 1): '0', ('vcpu', 0): '1'}, lambda k: 'vcpu %d' % k[1]) == 'vcpu 0=1, vcpu 1=0'
    assert _tune.describe({}) == ''


# ----------------------------------------------------------------------------------------------------- values

@pytest.mark.parametrize('value,kib', [
    ('2 GiB', 2097152), ('512M', 524288), ('64KiB', 64), (1024, 1024), ('1024', 1024), ('1048576 B', 1024),
    ('1 kb', None), ('1000B', None), ('lots', None), ('1 parsec', None), ('-1', None),
])
def test_size_kib(value, kib):
    if kib is None:
        with pytest.raises(LibvirtFailure) as caught:
            _tune.size_kib(value, 'memory.hard_limit')
        assert caught.value.msg.startswith('memory.hard_limit: ')
    else:
        assert _tune.size_kib(value, 'x') == kib


def test_memory_limit_and_size_bytes():
    assert _tune.memory_limit(' Unlimited ', 'm') == 'unlimited'
    assert _tune.memory_limit('1G', 'm') == 1048576
    assert _tune.size_bytes('10M', 'b') == 10485760
    assert _tune.size_bytes(4096, 'b') == 4096
    with pytest.raises(LibvirtFailure, match='^b: '):
        _tune.size_bytes('fast', 'b')


@pytest.mark.parametrize('value,text', [
    ('0-3,^2', '0-1,3'), ('5', '5'), ('3,1,2', '1-3'), (' 0 - 1 ', '0-1'), (7, '7'), ('0,2,4-5', '0,2,4-5'),
])
def test_cpuset_is_written_as_libvirt_writes_it(value, text):
    assert _tune.cpuset(value, 'x') == text


@pytest.mark.parametrize('value', ['', 'a', '^1', '3-1', '1,,2'])
def test_cpuset_refuses_what_is_no_cpu_set(value):
    with pytest.raises(LibvirtFailure, match=r'^emulator_pin: .* is not a CPU set'):
        _tune.cpuset(value, 'emulator_pin')


@pytest.mark.parametrize('cpus,text', [
    ({0, 1, 2, 5}, '0-2,5'), ({1, 3}, '1,3'), ({0, 1}, '0-1'), ({4}, '4'), (set(), ''), ({0, 2, 3, 4, 8}, '0,2-4,8'),
])
def test_format_cpuset(cpus, text):
    assert _tune.format_cpuset(cpus) == text


def test_cpumaps():
    assert _tune.cpumap_set((True, False, True, True)) == '0,2-3'
    assert _tune.cpumap_set((False, False)) == ''
    assert _tune.cpumap('0-1', 4, 'x') == (True, True, False, False)
    assert _tune.cpumap('3', 4, 'x') == (False, False, False, True)
    with pytest.raises(LibvirtFailure) as caught:
        _tune.cpumap('2-5', 4, 'vcpu_pins')
    assert caught.value.msg == 'vcpu_pins: the host has CPUs 0-3, not 4-5' and caught.value.hint


# ------------------------------------------------------------------------------------------- a recording domain

class FakeDomain:
    """A domain whose tuning calls answer from ``answers`` ({method: value}) and are recorded in ``calls``."""

    def __init__(self, **answers):
        self.answers = answers
        self.calls = []

    def name(self):
        return 'web1'

    def connect(self):
        return types.SimpleNamespace(getType=lambda: 'QEMU', domainListGetStats=self._stats)

    def _stats(self, doms, what):
        self.calls.append(('domainListGetStats', doms, what))
        return [(self, self.answers['stats'])]

    def __getattr__(self, method):
        def called(*args):
            self.calls.append((method,) + args)
            return self.answers.get(method)
        return called


MEMORY = dict(hard_limit=_tune.UNLIMITED_KIB, soft_limit=524288, swap_hard_limit=_tune.UNLIMITED_KIB)


def test_memory_group():
    group = _tune.Memory()
    assert group.wanted(dict(hard_limit='1G', soft_limit=None, swap_hard_limit='unlimited')) == dict(
        hard_limit=1048576, swap_hard_limit='unlimited')
    dom = FakeDomain(memoryParameters=MEMORY)
    current = group.read(dom, LIVE, dict(hard_limit=1))
    assert current == dict(hard_limit='unlimited', soft_limit=524288, swap_hard_limit='unlimited')
    assert dom.calls == [('memoryParameters', libvirt.VIR_DOMAIN_AFFECT_LIVE)]
    # Setting one of hard_limit / swap_hard_limit gives libvirt the other as the scope holds it.
    group.apply(dom, CONFIG, dict(hard_limit='unlimited'), current)
    assert dom.calls[-1] == ('setMemoryParameters', dict(hard_limit=_tune.UNLIMITED_KIB,
                                                         swap_hard_limit=_tune.UNLIMITED_KIB),
                             libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    group.apply(dom, LIVE, dict(soft_limit=1024), current)
    assert dom.calls[-1] == ('setMemoryParameters', dict(soft_limit=1024), libvirt.VIR_DOMAIN_AFFECT_LIVE)
    group.apply(dom, LIVE, dict(swap_hard_limit=4096, hard_limit=2048), current)
    assert dom.calls[-1][1] == dict(hard_limit=2048, swap_hard_limit=4096)


def test_memory_just_below_unlimited_is_a_number():
    assert _tune.Memory().from_libvirt('hard_limit', _tune.UNLIMITED_KIB - 1) == _tune.UNLIMITED_KIB - 1
    assert _tune.Memory().from_libvirt('hard_limit', _tune.UNLIMITED_KIB + 1) == 'unlimited'
    assert _tune.Memory().to_libvirt('hard_limit', 5) == 5


def test_a_tunable_the_driver_lacks_fails_before_anything_is_set():
    dom = FakeDomain(memoryParameters=MEMORY)
    with pytest.raises(LibvirtFailure) as caught:
        _tune.Memory().read(dom, LIVE, dict(min_guarantee=1, hard_limit=2))
    assert caught.value.msg == ('The QEMU driver has no memory tunable min_guarantee (it has: hard_limit, '
                                'soft_limit, swap_hard_limit)')
    assert caught.value.hint == 'Leave min_guarantee out for this hypervisor.'
    with pytest.raises(LibvirtFailure, match=r'no perf event tunable bogus, nope \(it has: cpu_clock\)'):
        _tune.Perf().read(FakeDomain(perfEvents=dict(cpu_clock=False)), LIVE, dict(nope=True, bogus=False))
    with pytest.raises(LibvirtFailure, match=r'\(it has: none\)'):
        _tune.Perf().read(FakeDomain(perfEvents={}), LIVE, dict(cpu_clock=True))


def test_scheduler_group():
    group = _tune.Scheduler()
    assert group.wanted(dict(cpu_shares=512, vcpu_quota=None, vcpu_period=0)) == dict(cpu_shares=512, vcpu_period=0)
    dom = FakeDomain(schedulerParametersFlags=dict(cpu_shares=1024, vcpu_quota=-1, weight=3))
    assert group.read(dom, CONFIG, dict(cpu_shares=1)) == dict(cpu_shares=1024, vcpu_quota=-1)
    group.apply(dom, CONFIG, dict(cpu_shares=2), {})
    assert dom.calls[-1] == ('setSchedulerParametersFlags', dict(cpu_shares=2), libvirt.VIR_DOMAIN_AFFECT_CONFIG)


def test_numa_group():
    group = _tune.Numa()
    assert group.wanted(dict(mode='interleave', nodeset='1,0')) == dict(mode='interleave', nodeset='0-1')
    assert group.wanted(dict(mode=None, nodeset='0')) == dict(nodeset='0')
    assert group.wanted(dict(mode='strict', nodeset=None)) == dict(mode='strict')
    dom = FakeDomain(numaParameters=dict(numa_mode=3, numa_nodeset='0,1'))
    assert group.read(dom, LIVE, {}) == dict(mode='restrictive', nodeset='0-1')
    dom = FakeDomain(numaParameters=dict(numa_mode=0, numa_nodeset=''))
    assert group.read(dom, LIVE, {}) == dict(mode='strict', nodeset='')
    assert group.from_libvirt('mode', 1) == 'preferred' and group.from_libvirt('mode', 2) == 'interleave'
    assert group.from_libvirt('mode', 4) == '4' and group.from_libvirt('mode', -1) == '-1'
    group.apply(dom, LIVE, dict(mode='preferred', nodeset='1'), {})
    assert dom.calls[-1] == ('setNumaParameters', dict(numa_mode=1, numa_nodeset='1'), libvirt.VIR_DOMAIN_AFFECT_LIVE)


def test_perf_group():
    group = _tune.Perf()
    assert group.wanted(dict(cpu_clock='yes', task_clock=False, cmt='off')) == dict(cpu_clock=True, task_clock=False,
                                                                                    cmt=False)
    with pytest.raises(LibvirtFailure, match=r"^perf.cmt: 'maybe' is not true or false$"):
        group.wanted(dict(cmt='maybe'))
    dom = FakeDomain(perfEvents=dict(cmt=False, cpu_clock=True))
    assert group.read(dom, LIVE, dict(cmt=True)) == dict(cmt=False, cpu_clock=True)
    group.apply(dom, LIVE, dict(cmt=True), {})
    assert dom.calls[-1] == ('setPerfEvents', dict(cmt=True), libvirt.VIR_DOMAIN_AFFECT_LIVE)


def test_vcpus_and_stats_period_groups():
    group = _tune.Vcpus()
    assert group.wanted(1) == dict(vcpus=1)
    with pytest.raises(LibvirtFailure, match='0 is not a vCPU count'):
        group.wanted(0)
    dom = FakeDomain(vcpusFlags=2)
    assert group.read(dom, CONFIG, {}) == dict(vcpus=2) and group.present(dict(vcpus=2)) == 2
    group.apply(dom, CONFIG, dict(vcpus=3), {})
    assert dom.calls == [('vcpusFlags', libvirt.VIR_DOMAIN_AFFECT_CONFIG),
                         ('setVcpusFlags', 3, libvirt.VIR_DOMAIN_AFFECT_CONFIG)]
    period = _tune.MemoryStatsPeriod()
    assert period.wanted(0) == dict(period=0)
    with pytest.raises(LibvirtFailure, match='-1 is not a period'):
        period.wanted(-1)
    xml = "<domain><devices><memballoon model='virtio'><stats period='%s'/></memballoon></devices></domain>"
    dom = FakeDomain(XMLDesc=xml % '10')
    assert period.read(dom, CONFIG, {}) == dict(period=10)
    assert dom.calls == [('XMLDesc', libvirt.VIR_DOMAIN_XML_INACTIVE)]
    assert period.read(FakeDomain(XMLDesc='<domain><devices/></domain>'), LIVE, {}) == dict(period=0)
    period.apply(dom, LIVE, dict(period=5), {})
    assert dom.calls[-1] == ('setMemoryStatsPeriod', 5, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert period.present(dict(period=5)) == 5


def test_vcpu_pins_group():
    group = _tune.VcpuPins()
    wanted = group.wanted([dict(vcpu=1, cpuset='0'), dict(vcpu=0, cpuset='1,0')])
    assert wanted == {('vcpu', 1): '0', ('vcpu', 0): '0-1'}
    with pytest.raises(LibvirtFailure, match='vCPU 1 is given twice'):
        group.wanted([dict(vcpu=1, cpuset='0'), dict(vcpu=1, cpuset='1')])
    dom = FakeDomain(vcpuPinInfo=[(False, True, False), (True, True, True)], vcpusFlags=2)
    assert group.read(dom, LIVE, {('vcpu', 1): '0'}) == {('vcpu', 0): '1', ('vcpu', 1): '0-2', 'host_cpus': 3}
    assert dom.calls[1] == ('vcpusFlags', libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
    with pytest.raises(LibvirtFailure) as caught:
        group.read(dom, LIVE, {('vcpu', 2): '0', ('vcpu', 5): '0'})
    assert caught.value.msg == 'vcpu_pins: web1 has vCPUs 0-1, not 2,5'
    group.apply(dom, LIVE, {('vcpu', 1): '2', ('vcpu', 0): '0-1'}, dict(host_cpus=3))
    assert dom.calls[-2:] == [('pinVcpuFlags', 0, (True, True, False), libvirt.VIR_DOMAIN_AFFECT_LIVE),
                              ('pinVcpuFlags', 1, (False, False, True), libvirt.VIR_DOMAIN_AFFECT_LIVE)]
    assert group.present({('vcpu', 1): '2', ('vcpu', 0): '0-1'}) == [dict(vcpu=0, cpuset='0-1'),
                                                                     dict(vcpu=1, cpuset='2')]
    assert group.key_text(('vcpu', 3)) == 'vcpu 3'


def test_offline_vcpus_are_read_from_the_definition():
    xml = ("<domain><vcpu cpuset='%s' current='1'>4</vcpu><cputune><vcpupin vcpu='2' cpuset='0,1'/>"
           "</cputune></domain>")
    dom = FakeDomain(vcpuPinInfo=[(True, False)], vcpusFlags=4, XMLDesc=xml % '1')
    values = _tune.VcpuPins().read(dom, CONFIG, {('vcpu', 3): '0'})
    assert values == {('vcpu', 0): '0', ('vcpu', 1): '1', ('vcpu', 2): '0-1', ('vcpu', 3): '1', 'host_cpus': 2}
    assert ('XMLDesc', libvirt.VIR_DOMAIN_XML_INACTIVE) in dom.calls
    dom = FakeDomain(vcpuPinInfo=[(True, False)], vcpusFlags=2, XMLDesc="<domain><vcpu>2</vcpu></domain>")
    assert _tune.VcpuPins().read(dom, LIVE, {('vcpu', 1): '0'})[('vcpu', 1)] == '0-1'
    # Online vCPUs only: the definition is not read.
    dom = FakeDomain(vcpuPinInfo=[(True, False), (True, True)], vcpusFlags=2)
    _tune.VcpuPins().read(dom, LIVE, {('vcpu', 1): '0'})
    assert [c[0] for c in dom.calls] == ['vcpuPinInfo', 'vcpusFlags']


def test_emulator_pin_group():
    group = _tune.EmulatorPin()
    with pytest.raises(LibvirtFailure, match="^emulator_pin: '1-0' is not a CPU set"):
        group.wanted('1-0')
    assert group.wanted('0-1') == dict(emulator='0-1')
    dom = FakeDomain(emulatorPinInfo=(True, False, True))
    assert group.read(dom, CONFIG, {}) == dict(emulator='0,2', host_cpus=3)
    group.apply(dom, CONFIG, dict(emulator='1'), dict(host_cpus=3))
    assert dom.calls[-1] == ('pinEmulator', (False, True, False), libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    assert group.present(dict(emulator='1', host_cpus=3)) == '1'


BLKIO = dict(weight=500, device_weight='/dev/sda,300', device_read_iops_sec='', device_write_iops_sec='/dev/sda,10',
             device_read_bytes_sec='/dev/sda,1048576,/dev/sdb,4096', device_write_bytes_sec='')


def test_blkio_group():
    group = _tune.Blkio()
    wanted = group.wanted(dict(weight=None, devices=[dict(path='/dev/sdb', read_bytes_sec='8K', weight=None,
                                                          write_bytes_sec=None, read_iops_sec=5,
                                                          write_iops_sec=None)]))
    assert wanted == {('device', '/dev/sdb', 'read_bytes_sec'): 8192, ('device', '/dev/sdb', 'read_iops_sec'): 5}
    assert group.wanted(dict(weight=100, devices=None)) == dict(weight=100)
    dom = FakeDomain(blkioParameters=BLKIO)
    values = group.read(dom, LIVE, wanted)
    assert values == {'weight': 500, ('device', '/dev/sda', 'weight'): 300,
                      ('device', '/dev/sda', 'write_iops_sec'): 10, ('device', '/dev/sda', 'read_bytes_sec'): 1048576,
                      ('device', '/dev/sdb', 'read_bytes_sec'): 4096, ('device', '/dev/sdb', 'read_iops_sec'): 0}
    assert _tune.compare(wanted, values) == wanted
    group.apply(dom, LIVE, {'weight': 200, ('device', '/dev/sdb', 'read_bytes_sec'): 8192,
                            ('device', '/dev/sda', 'read_bytes_sec'): 0, ('device', '/dev/sdb', 'weight'): 7}, values)
    assert dom.calls[-1] == ('setBlkioParameters', dict(
        weight=200, device_read_bytes_sec='/dev/sda,0,/dev/sdb,8192', device_weight='/dev/sdb,7'),
        libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert group.present(values) == dict(weight=500, devices=[
        dict(path='/dev/sda', weight=300, write_iops_sec=10, read_bytes_sec=1048576),
        dict(path='/dev/sdb', read_bytes_sec=4096, read_iops_sec=0)])
    assert group.present({}) == {}
    assert group.key_text(('device', '/dev/sda', 'weight')) == '/dev/sda weight' and group.key_text('weight') == 'weight'


def test_iothreads_group_wanted():
    group = _tune.IOThreads()
    spec = [dict(id=2, state='present', cpuset='1', poll_max_ns=0, poll_grow=None, poll_shrink=None),
            dict(id=5, state='absent', cpuset=None, poll_max_ns=None, poll_grow=None, poll_shrink=None)]
    wanted = group.wanted(spec)
    assert wanted == {(2, 'state'): 'present', (2, 'cpuset'): '1', (2, 'poll_max_ns'): 0, (5, 'state'): 'absent'}
    assert group.for_scope(wanted, LIVE) == wanted
    assert group.for_scope(wanted, CONFIG) == {(2, 'state'): 'present', (2, 'cpuset'): '1', (5, 'state'): 'absent'}
    with pytest.raises(LibvirtFailure, match='IOThread 2 is given twice'):
        group.wanted(spec + spec[:1])
    with pytest.raises(LibvirtFailure, match=r'IOThread 5 is to be removed \(state=absent\), so cpuset, poll_grow'):
        group.wanted([dict(spec[1], cpuset='0', poll_grow=2)])


def test_iothreads_group_read_apply_present():
    group = _tune.IOThreads()
    dom = FakeDomain(ioThreadInfo=[(1, [True, False]), (3, [True, True])], emulatorPinInfo=(True, True),
                     stats={'iothread.1.poll-max-ns': 32768, 'iothread.1.poll-grow': 0})
    wanted = {(1, 'poll_max_ns'): 0, (4, 'state'): 'present', (4, 'cpuset'): '1'}
    values = group.read(dom, LIVE, wanted)
    assert values == {(1, 'state'): 'present', (1, 'cpuset'): '0', (3, 'state'): 'present', (3, 'cpuset'): '0-1',
                      (4, 'state'): 'absent', (1, 'poll_max_ns'): 32768}
    assert ('domainListGetStats', [dom], libvirt.VIR_DOMAIN_STATS_IOTHREAD) in dom.calls
    dom.calls[:] = []
    group.read(dom, CONFIG, {(4, 'state'): 'present'})
    assert dom.calls == [('ioThreadInfo', libvirt.VIR_DOMAIN_AFFECT_CONFIG)]  # no statistics without polling
    changes = {(3, 'state'): 'absent', (4, 'state'): 'present', (4, 'cpuset'): '1', (1, 'poll_max_ns'): 0,
               (1, 'poll_shrink'): 2}
    group.apply(dom, LIVE, changes, values)
    flags = libvirt.VIR_DOMAIN_AFFECT_LIVE
    assert dom.calls[1:] == [('delIOThread', 3, flags), ('addIOThread', 4, flags), ('emulatorPinInfo', flags),
                             ('pinIOThread', 4, (False, True), flags),
                             ('setIOThreadParams', 1, dict(poll_max_ns=0, poll_shrink=2), flags)]
    dom.calls[:] = []
    group.apply(dom, LIVE, {(1, 'state'): 'present'}, values)
    assert dom.calls == [('addIOThread', 1, flags)]  # no CPU map read without a pin
    assert group.present({(4, 'cpuset'): '1', (4, 'state'): 'present', (2, 'state'): 'absent'}) == [
        dict(id=2, state='absent'), dict(id=4, state='present', cpuset='1')]
    assert group.key_text((4, 'cpuset')) == 'iothread 4 cpuset'


def test_interfaces_group():
    group = _tune.Interfaces()
    inbound = dict(average='1 MiB', peak=None, burst=64, floor=None)
    wanted = group.wanted([dict(device='52:54:00:00:00:01', inbound=inbound, outbound=None),
                           dict(device='vnet3', inbound=None, outbound=dict(average=0))])
    assert wanted == {('52:54:00:00:00:01', 'inbound.average'): 1024, ('52:54:00:00:00:01', 'inbound.burst'): 64,
                      ('vnet3', 'outbound.average'): 0}
    with pytest.raises(LibvirtFailure, match=r'^interfaces\[vnet0\].outbound.peak: '):
        group.wanted([dict(device='vnet0', outbound=dict(peak='1000B'))])
    dom = FakeDomain(interfaceParameters={'inbound.average': 5, 'outbound.average': 0})
    values = group.read(dom, CONFIG, wanted)
    assert [c[1] for c in dom.calls] == ['52:54:00:00:00:01', 'vnet3']
    assert values[('vnet3', 'inbound.average')] == 5 and len(values) == 4
    group.apply(dom, CONFIG, {('b', 'inbound.peak'): 3, ('a', 'outbound.burst'): 2, ('b', 'inbound.floor'): 1}, {})
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    assert dom.calls[-2:] == [('setInterfaceParameters', 'a', {'outbound.burst': 2}, flags),
                              ('setInterfaceParameters', 'b', {'inbound.peak': 3, 'inbound.floor': 1}, flags)]
    assert group.present({('b', 'inbound.peak'): 3, ('a', 'outbound.burst'): 2, ('b', 'inbound.floor'): 1}) == [
        dict(device='a', outbound=dict(burst=2)), dict(device='b', inbound=dict(peak=3, floor=1))]
    assert group.key_text(('a', 'inbound.peak')) == 'a inbound.peak'


def test_the_groups_apply_in_their_order():
    assert [g.option for g in _tune.GROUPS] == ['vcpus', 'iothreads', 'memory', 'memory_stats_period', 'scheduler',
                                                'blkio', 'vcpu_pins', 'emulator_pin', 'numa', 'interfaces', 'perf']


# --------------------------------------------------------------------------------------------- one whole run

class FakeModule:
    def __init__(self, check=False, **params):
        self.check_mode = check
        self.params = dict(dict((g.option, None) for g in _tune.GROUPS), live=None, persistent=True, **params)


class Unkept(_tune.Group):
    """A group whose value libvirt accepts but does not keep."""
    option, noun, hint = 'memory', 'thing', 'a hint'

    def wanted(self, spec):
        return dict(value=spec)

    def read(self, dom, scope, wanted):
        return dict(value=1)

    def apply(self, dom, scope, changes, current):
        dom.setThing(changes['value'])


def test_tune_warns_when_libvirt_does_not_keep_a_value():
    run = _tune.TuneRun(FakeModule(), None)
    dom = FakeDomain()
    assert run.tune(dom, LIVE, Unkept(), dict(value=2)) == (dict(value=1), dict(value=1))
    assert run.actions == ['set thing (live): value=2'] and run.changed
    assert run.warnings == ['libvirt set the thing of web1 (live) but does not report value=2 as asked (now value=1)']
    assert dom.calls == [('setThing', 2)]


def test_tune_in_check_mode_predicts_and_calls_nothing():
    run = _tune.TuneRun(FakeModule(check=True), None)
    dom = FakeDomain()
    assert run.tune(dom, CONFIG, Unkept(), dict(value=2)) == (dict(value=1), dict(value=2))
    assert run.actions == ['set thing (config): value=2'] and dom.calls == [] and not run.warnings
    assert run.tune(dom, CONFIG, Unkept(), dict(value=1)) == (dict(value=1), dict(value=1))
    assert len(run.actions) == 1


class Refused(Unkept):
    def apply(self, dom, scope, changes, current):
        raise libvirt.libvirtError('refused')


def test_a_refusal_is_not_reported_as_done_and_carries_the_group_hint():
    run = _tune.TuneRun(FakeModule(), None)
    with pytest.raises(LibvirtFailure) as caught:
        run.tune(FakeDomain(), LIVE, Refused(), dict(value=2))
    assert caught.value.msg.startswith('Failed to set the thing of web1 (live): ')
    assert caught.value.hint == 'a hint' and run.actions == [] and not run.changed


# --------------------------------------------------------------------- the module on the daemon's test driver

TEST_GUEST = """<domain type='test'><name>%s</name><memory>131072</memory><vcpu current='1'>2</vcpu>
<os><type>hvm</type></os><devices/></domain>"""


@pytest.fixture
def test_guest(shared_test_conn):
    name = unique_name('tuneunit')
    dom = shared_test_conn.defineXML(TEST_GUEST % name)
    dom.create()
    yield name
    dom.destroy()
    dom.undefine()


def tune(name, check=False, **args):
    return run_module('domain_tune', dict(args, uri=SHARED_TEST_URI, domain=name), check_mode=check, diff=True)


@pytest.mark.parametrize('args,after', [
    (dict(memory=dict(hard_limit='1 GiB', soft_limit='unlimited')), dict(memory=dict(hard_limit=1048576,
                                                                                     soft_limit='unlimited'))),
    (dict(vcpus=2), dict(vcpus=2)),
    (dict(emulator_pin='1-2'), dict(emulator_pin='1-2')),
    (dict(iothreads=[dict(id=2, cpuset='1')]), dict(iothreads=[dict(id=2, state='present', cpuset='1')])),
    (dict(perf=dict(cpu_clock=True)), dict(perf=dict(cpu_clock=True))),
    (dict(numa=dict(nodeset='0')), dict(numa=dict(nodeset='0'))),
])
def test_four_runs_on_the_test_driver(test_guest, args, after):
    results = [tune(test_guest, check=c, **args) for c in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False]
    assert results[0]['actions'] == results[1]['actions'] and len(results[1]['actions']) == 2
    assert results[0]['diff'] == results[1]['diff'] and results[3]['diff']['before'] == results[3]['diff']['after']
    assert results[1]['tuned'] == results[3]['tuned'] == dict(live=after, config=after)
    assert results[1]['domain'] == test_guest


def test_scopes_on_the_test_driver(test_guest):
    result = tune(test_guest, persistent=False, vcpus=2)
    assert list(result['tuned']) == ['live'] and result['actions'] == ['set vCPU count (live): vcpus=2']
    result = tune(test_guest, live=False, vcpus=2)
    assert list(result['tuned']) == ['config'] and result['actions'] == ['set vCPU count (config): vcpus=2']
    result = tune(test_guest, live=False, persistent=False, vcpus=2)
    assert result.failed and 'both false' in result['msg']


def test_failures_on_the_test_driver(test_guest):
    result = tune(test_guest, scheduler=dict(cpu_shares=5))
    assert result.failed and result['msg'].startswith('Failed to read the CPU scheduler of %s (live)' % test_guest)
    assert result['error']['code_name'] == 'VIR_ERR_INVALID_ARG' and 'cpu cgroup' in result['hint']
    result = tune(test_guest, vcpus=1, memory=dict(min_guarantee='1G'))
    assert result.failed and 'no memory tunable min_guarantee' in result['msg'] and not result.get('changed')
    result = tune(test_guest, memory=dict(hard_limit='1G'), scheduler=dict(cpu_shares=5))
    assert result.failed and result['changed'] and result['actions'] == [
        'set memory (live): hard_limit=1048576'], result
    result = tune(test_guest, live=False, vcpu_pins=[dict(vcpu=0, cpuset='1')])  # (the test driver cannot pin)
    assert result.failed and 'Failed to set the vCPU pinning' in result['msg'] and 'online' in result['hint']
    assert not result.get('changed')
    result = tune('sysvirt-test-no-such-guest', vcpus=1)
    assert result.failed and 'does not exist' in result['msg']


# ------------------------------------------------------------------------- the exact words, and the edge cases

def test_describe_sorts_by_the_text_not_the_key():
    assert _tune.describe(dict(a=1, b=2), dict(a='2nd', b='1st').get) == '1st=2, 2nd=1'


@pytest.mark.parametrize('call,message', [
    (lambda: _tune.size_kib('1000B', 'memory.soft_limit'),
     'memory.soft_limit: 1000B is not a whole number of KiB, the unit libvirt takes'),
    (lambda: _tune.memory_limit('lots', 'memory.x'), "memory.x: 'lots' is not a size"),
    (lambda: _tune.Memory().wanted(dict(hard_limit='lots')), "memory.hard_limit: 'lots' is not a size"),
    (lambda: _tune.Numa().wanted(dict(nodeset='x')), "numa.nodeset: 'x' is not a CPU set"),
    (lambda: _tune.Vcpus().wanted(0), 'vcpus: 0 is not a vCPU count (1 or more)'),
    (lambda: _tune.MemoryStatsPeriod().wanted(-2), 'memory_stats_period: -2 is not a period (seconds, 0 for none)'),
    (lambda: _tune.VcpuPins().wanted([dict(vcpu=1, cpuset='0'), dict(vcpu=1, cpuset='0')]),
     'vcpu_pins: vCPU 1 is given twice'),
    (lambda: _tune.VcpuPins().wanted([dict(vcpu=3, cpuset='z')]), "vcpu_pins[vcpu=3].cpuset: 'z' is not a CPU set"),
    (lambda: _tune.Blkio().wanted(dict(devices=[dict(path='/dev/sda', read_bytes_sec='x')])),
     "blkio.devices[/dev/sda].read_bytes_sec: 'x' is not a size"),
    (lambda: _tune.IOThreads().wanted([dict(id=2, state='present'), dict(id=2, state='absent')]),
     'iothreads: IOThread 2 is given twice'),
    (lambda: _tune.IOThreads().wanted([dict(id=2, state='absent', cpuset='1')]),
     'iothreads: IOThread 2 is to be removed (state=absent), so cpuset cannot be set'),
    (lambda: _tune.IOThreads().wanted([dict(id=4, state='present', cpuset='-')]),
     "iothreads[id=4].cpuset: '-' is not a CPU set"),
    (lambda: _tune.VcpuPins().apply(FakeDomain(), LIVE, {('vcpu', 0): '4'}, dict(host_cpus=2)),
     'vcpu_pins: the host has CPUs 0-1, not 4'),
    (lambda: _tune.EmulatorPin().apply(FakeDomain(), LIVE, dict(emulator='2'), dict(host_cpus=2)),
     'emulator_pin: the host has CPUs 0-1, not 2'),
    (lambda: _tune.IOThreads().apply(FakeDomain(emulatorPinInfo=(True,)), LIVE, {(1, 'cpuset'): '1'}, {}),
     'iothreads: the host has CPUs 0-0, not 1'),
])
def test_messages_name_the_option(call, message):
    with pytest.raises(LibvirtFailure) as caught:
        call()
    assert caught.value.msg.startswith(message), caught.value.msg


def test_hints():
    with pytest.raises(LibvirtFailure) as caught:
        _tune.cpumap('9', 2, 'x')
    assert caught.value.hint == 'Pin to CPUs the host has (sysvirt.libvirt.host_facts lists them).'
    with pytest.raises(LibvirtFailure) as caught:
        _tune.Memory().read(FakeDomain(memoryParameters={}), LIVE, dict(min_guarantee=1, soft_limit=2))
    assert caught.value.hint == 'Leave min_guarantee, soft_limit out for this hypervisor.'
    with pytest.raises(LibvirtFailure) as caught:
        _tune.VcpuPins().read(FakeDomain(vcpuPinInfo=[(True,)], vcpusFlags=1), LIVE, {('vcpu', 1): '0'})
    assert caught.value.hint == 'Pin the vCPUs the guest has (its <vcpu> maximum).'


def test_each_read_asks_for_its_scope():
    live = libvirt.VIR_DOMAIN_AFFECT_LIVE
    dom = FakeDomain(XMLDesc='<domain><vcpu>3</vcpu></domain>', blkioParameters={}, interfaceParameters={},
                     vcpuPinInfo=[(True, True)], vcpusFlags=3)
    _tune.MemoryStatsPeriod().read(dom, LIVE, {})
    _tune.Blkio().read(dom, LIVE, {})
    _tune.Interfaces().read(dom, LIVE, {('vnet0', 'inbound.peak'): 1})
    _tune.VcpuPins().read(dom, LIVE, {('vcpu', 2): '0'})
    assert dom.calls == [('XMLDesc', 0), ('blkioParameters', live), ('interfaceParameters', 'vnet0', live),
                         ('vcpuPinInfo', live), ('vcpusFlags', live | libvirt.VIR_DOMAIN_VCPU_MAXIMUM), ('XMLDesc', 0)]


def test_host_cpus_and_offline_vcpus_without_a_vcpu_element():
    assert _tune._host_cpus([]) == 0 and _tune._host_cpus([(True, False, True)]) == 3
    dom = FakeDomain(XMLDesc='<domain/>')
    assert _tune.VcpuPins.offline(dom, CONFIG, 1, 3, 2) == {('vcpu', 1): '0-1', ('vcpu', 2): '0-1'}


def test_iothread_polling_of_several_threads_and_missing_statistics():
    group = _tune.IOThreads()
    dom = FakeDomain(ioThreadInfo=[(1, [True])], stats={'iothread.1.poll-grow': 4})
    values = group.read(dom, LIVE, {(1, 'poll_grow'): 2, (1, 'poll_shrink'): 2, (1, 'state'): 'present'})
    assert values == {(1, 'state'): 'present', (1, 'cpuset'): '0', (1, 'poll_grow'): 4}
    assert dom.calls[-1] == ('domainListGetStats', [dom], libvirt.VIR_DOMAIN_STATS_IOTHREAD)
    group.apply(dom, LIVE, {(1, 'poll_grow'): 2, (2, 'poll_max_ns'): 5, (2, 'state'): 'present'}, values)
    flags = libvirt.VIR_DOMAIN_AFFECT_LIVE
    assert dom.calls[-3:] == [('addIOThread', 2, flags), ('setIOThreadParams', 1, dict(poll_grow=2), flags),
                              ('setIOThreadParams', 2, dict(poll_max_ns=5), flags)]


class Named(Unkept):
    def key_text(self, key):
        return 'the value'


def test_actions_and_warnings_use_the_group_words():
    run = _tune.TuneRun(FakeModule(), None)
    run.tune(FakeDomain(), LIVE, Named(), dict(value=2))
    assert run.actions == ['set thing (live): the value=2']
    assert run.warnings == ['libvirt set the thing of web1 (live) but does not report the value=2 as asked '
                            '(now the value=1)']


class Unreadable(Unkept):
    def read(self, dom, scope, wanted):
        raise libvirt.libvirtError('unreadable')


def test_a_read_refusal_says_what_it_read_with_the_group_hint():
    run = _tune.TuneRun(FakeModule(), None)
    with pytest.raises(LibvirtFailure) as caught:
        run.tune(FakeDomain(), CONFIG, Unreadable(), dict(value=2))
    assert caught.value.msg.startswith('Failed to read the thing of web1 (config): ') and caught.value.hint == 'a hint'


class GoneAfterSetting(Unkept):
    def read(self, dom, scope, wanted):
        if dom.calls:
            raise libvirt.libvirtError('gone')
        return dict(value=1)


def test_a_failed_read_back_says_so_after_the_action_is_recorded():
    run = _tune.TuneRun(FakeModule(), None)
    with pytest.raises(LibvirtFailure) as caught:
        run.tune(FakeDomain(), LIVE, GoneAfterSetting(), dict(value=2))
    assert caught.value.msg.startswith('Failed to read the thing of web1 (live): ') and caught.value.hint == 'a hint'
    assert run.actions == ['set thing (live): value=2']


@pytest.mark.parametrize('read', [
    lambda dom: _tune.MemoryStatsPeriod().read(dom, LIVE, {}),
    lambda dom: _tune.VcpuPins.offline(dom, LIVE, 0, 1, 1),
])
def test_a_definition_libvirt_garbles_is_named(read):
    with pytest.raises(Exception, match='domain XML'):
        read(FakeDomain(XMLDesc='<domain>'))


def test_check_mode_assumes_a_guest_an_earlier_task_defines(shared_test_conn):
    name = unique_name('tunemissing')
    args = dict(memory=dict(hard_limit='1G'), iothreads=[dict(id=1, poll_max_ns=5)], vcpus=2)
    result = tune(name, check=True, **args)
    assert not result.failed and result['changed'], result
    assert result['actions'] == ['set vCPU count (config): vcpus=2', 'set IOThreads (config): iothread 1 state=present',
                                 'set memory (config): hard_limit=1048576']  # (polling is live only)
    assert [w['event']['msg'] for w in result['warnings']] == [
        'Domain %s does not exist yet; check mode predicts this task as if an earlier task of the play had created it'
        % name]
    assert result['tuned'] == dict(config=dict(vcpus=2, iothreads=[dict(id=1, state='present')],
                                               memory=dict(hard_limit=1048576)))
    assert result['diff']['before'] == dict(config=dict(vcpus=None, iothreads=[dict(id=1, state=None)],
                                                        memory=dict(hard_limit=None)))
    assert result['diff']['after'] == result['tuned'] and result['domain'] == name
    for failing in (dict(check=False), dict(check=True, live=True), dict(check=True, persistent=False)):
        result = tune(name, **dict(args, **failing))
        assert result.failed and not result.get('changed'), failing
        assert result['msg'] == 'The domain %s does not exist; define it first (sysvirt.libvirt.domain)' % name
