# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/_host.py, the node details host_facts gathers on request: SMBIOS sysinfo parsed, CPU map, per-CPU
and per-cell statistics, SEV; what a host does not have is named in not_supported, other failures fail."""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _host, _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure

# A sysinfo document in libvirt's format (virConnectGetSysinfo), written for this test.
SYSINFO = """<sysinfo type='smbios'>
  <bios><entry name='vendor'>SeaBIOS</entry><entry name='version'> 1.16 </entry></bios>
  <system><entry name='manufacturer'>QEMU</entry><entry name='serial'>S-42</entry><entry>nameless</entry></system>
  <baseBoard><entry name='product'>B1</entry></baseBoard>
  <baseBoard><entry name='product'>B2</entry></baseBoard>
  <processor><entry name='socket_destination'>CPU 0</entry></processor>
  <memory_device><entry name='size'>16 GB</entry><entry name='locator'>DIMM 0</entry></memory_device>
  <memory_device><entry name='size'>16 GB</entry><entry name='locator'>DIMM 1</entry></memory_device>
  <oemStrings><entry>first</entry><entry>second</entry></oemStrings>
</sysinfo>"""


def test_sysinfo_parsed():
    assert _host.sysinfo_data(_xml.parse(SYSINFO)) == dict(
        type='smbios',
        bios=dict(vendor='SeaBIOS', version='1.16'),
        system=dict(manufacturer='QEMU', serial='S-42'),
        chassis={},
        base_boards=[dict(product='B1'), dict(product='B2')],
        processors=[{'socket_destination': 'CPU 0'}],
        memory_devices=[dict(size='16 GB', locator='DIMM 0'), dict(size='16 GB', locator='DIMM 1')],
        oem_strings=['first', 'second'],
    )


def test_sysinfo_empty_document():
    assert _host.sysinfo_data(_xml.parse('<sysinfo/>')) == dict(
        type=None, bios={}, system={}, chassis={}, base_boards=[], processors=[], memory_devices=[], oem_strings=[])


class Fake:
    """A connection whose node calls answer from a table, or raise the libvirtError given there."""

    def __init__(self, **answers):
        self.answers = answers

    def _answer(self, name, *args):
        value = self.answers[name]
        if isinstance(value, libvirt.libvirtError):
            raise value
        return value(*args) if callable(value) else value

    def getSysinfo(self, flags):
        return self._answer('sysinfo')

    def getCPUMap(self, flags):
        return self._answer('cpu_map')

    def getCPUStats(self, cpu, flags):
        return self._answer('cpu_stats', cpu)

    def getMemoryStats(self, cell, flags):
        return self._answer('cell_stats', cell)

    def getSEVInfo(self, flags):
        return self._answer('sev')


def _error(code, message='refused'):
    error = libvirt.libvirtError(message)
    error.err = (code, libvirt.VIR_FROM_QEMU, message, 2, None, None, None, 0, 0)
    return error


FACTS = dict(node=dict(cpus=4))


def _gather(conn, gather, cells=(0,)):
    facts = dict(FACTS, not_supported=[])
    _host.gather_node_details(conn, set(gather), set(cells), 'QEMU', facts)
    return facts


def test_every_part_when_the_host_has_them():
    conn = Fake(sysinfo=SYSINFO, cpu_map=(4, [True, False, True, True], 3),
                cpu_stats=lambda cpu: dict(kernel=cpu, user=10 + cpu), cell_stats=lambda cell: dict(total=2, free=1),
                sev={'cbitpos': 47, 'reduced-phys-bits': 1, 'pdh': 'abc'})
    facts = _gather(conn, ['sysinfo', 'cpu_map', 'cpu_stats', 'cell_stats', 'sev'], cells=(1, 0))
    assert facts['sysinfo']['bios']['vendor'] == 'SeaBIOS'
    assert facts['cpu_map'] == dict(cpus=4, online=[0, 2, 3])
    assert facts['cpu_stats'] == [dict(cpu=0, kernel_ns=0, user_ns=10), dict(cpu=2, kernel_ns=2, user_ns=12),
                                  dict(cpu=3, kernel_ns=3, user_ns=13)]
    assert facts['cell_stats'] == [dict(cell=0, total_bytes=2048, free_bytes=1024),
                                   dict(cell=1, total_bytes=2048, free_bytes=1024)]
    assert facts['sev'] == dict(cbitpos=47, reduced_phys_bits=1, pdh='abc')
    assert facts['not_supported'] == []


def test_only_what_is_asked_for():
    conn = Fake(cpu_map=(2, [True, True], 2), cpu_stats=lambda cpu: dict(idle=cpu))
    facts = _gather(conn, ['cpu_stats'])
    assert 'cpu_map' not in facts and facts['cpu_stats'] == [dict(cpu=0, idle_ns=0), dict(cpu=1, idle_ns=1)]
    assert _gather(conn, []) == dict(FACTS, not_supported=[])


@pytest.mark.parametrize('code', [libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_OPERATION_UNSUPPORTED,
                                  libvirt.VIR_ERR_CONFIG_UNSUPPORTED])
def test_absent_parts_are_named_not_errors(code):
    missing = _error(code)
    conn = Fake(sysinfo=missing, cpu_map=missing, cpu_stats=missing, cell_stats=missing, sev=missing)
    facts = _gather(conn, ['sysinfo', 'cpu_map', 'cpu_stats', 'cell_stats', 'sev'])
    assert facts['not_supported'] == ['sysinfo', 'cpu_map', 'cpu_stats', 'cell_stats', 'sev']
    assert [facts[k] for k in ('sysinfo', 'cpu_map', 'cpu_stats', 'cell_stats', 'sev')] == [None] * 5


def test_cpu_stats_without_a_cpu_map_use_the_node_count():
    conn = Fake(cpu_map=_error(libvirt.VIR_ERR_NO_SUPPORT), cpu_stats=lambda cpu: dict(user=cpu))
    facts = _gather(conn, ['cpu_stats'])
    assert [s['cpu'] for s in facts['cpu_stats']] == [0, 1, 2, 3]
    assert facts['not_supported'] == []  # the map was not asked for


@pytest.mark.parametrize('part, words', [('sysinfo', 'Failed to read the host sysinfo'),
                                         ('cpu_map', 'Failed to read the host CPU map'),
                                         ('cpu_stats', 'Failed to read the statistics of CPU 0'),
                                         ('cell_stats', 'Failed to read the memory statistics of NUMA cell 0'),
                                         ('sev', 'Failed to read the SEV information')])
def test_a_real_failure_fails(part, words):
    answers = dict(sysinfo=SYSINFO, cpu_map=(1, [True], 1), cpu_stats=lambda cpu: {}, cell_stats=lambda cell: {},
                   sev={})
    answers[part] = _error(libvirt.VIR_ERR_INTERNAL_ERROR, 'broken')
    with pytest.raises(LibvirtFailure) as caught:
        _gather(Fake(**answers), [part])
    assert caught.value.msg.startswith(words)


def test_test_driver(test_conn):
    facts = _host.host_facts(test_conn, gather=['all'])
    assert facts['sysinfo']['type'] == 'smbios' and facts['sysinfo']['bios']
    count, online, _n = test_conn.getCPUMap(0)
    assert facts['cpu_map'] == dict(cpus=count, online=[i for i, up in enumerate(online) if up])
    assert [s['cpu'] for s in facts['cpu_stats']] == facts['cpu_map']['online']
    assert {'cell_stats', 'sev'} <= set(facts['not_supported'])


def test_sev_on_a_read_only_connection_warns():
    warnings = []
    facts = dict(FACTS, not_supported=[])
    conn = Fake(sev=_error(libvirt.VIR_ERR_OPERATION_DENIED, 'read only access prevents virNodeGetSEVInfo'))
    _host.gather_node_details(conn, {'sev'}, {0}, 'QEMU', facts, warnings)
    assert facts['sev'] is None and facts['not_supported'] == []
    assert warnings == ['SEV information was not gathered: libvirt gives it only to a read-write connection '
                        '(readonly=false)']
