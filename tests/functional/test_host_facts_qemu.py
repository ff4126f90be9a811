# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""host_facts' node details on qemu:///system, checked against virsh: the CPU map, per-CPU and per-cell statistics;
sysinfo and SEV are either there or named in not_supported, as virsh says."""

from __future__ import annotations

import re
import subprocess

from conftest import QEMU_URI, run_module


def _virsh(*args):
    return subprocess.run(['virsh', '-c', QEMU_URI] + list(args), capture_output=True, text=True, check=False)


def test_node_details_match_virsh():
    result = run_module('host_facts', dict(uri=QEMU_URI, readonly=True,
                                           gather=['sysinfo', 'cpu_map', 'cpu_stats', 'cell_stats', 'sev']))
    assert not result.failed, result
    facts = result['ansible_facts']['libvirt']

    cpumap = _virsh('nodecpumap').stdout
    assert facts['cpu_map']['cpus'] == int(re.search(r'CPUs present:\s*(\d+)', cpumap).group(1))
    letters = re.search(r'CPU map:\s*(\S+)', cpumap).group(1)
    assert facts['cpu_map']['online'] == [i for i, c in enumerate(letters) if c == 'y']

    assert [s['cpu'] for s in facts['cpu_stats']] == facts['cpu_map']['online']
    for stats in facts['cpu_stats']:
        later = _virsh('nodecpustats', '--cpu', str(stats['cpu'])).stdout
        idle = int(re.search(r'idle:\s*(\d+)', later).group(1))
        assert 0 < stats['idle_ns'] <= idle  # CPU time only grows
        assert set(stats) == {'cpu', 'kernel_ns', 'user_ns', 'idle_ns', 'iowait_ns'}

    for cell in facts['cell_stats']:
        memstats = _virsh('nodememstats', '--cell', str(cell['cell'])).stdout
        total_kib = int(re.search(r'total\s*:\s*(\d+) KiB', memstats).group(1))
        assert cell['total_bytes'] == total_kib * 1024 and 0 < cell['free_bytes'] <= cell['total_bytes']
    assert [c['cell'] for c in facts['cell_stats']] == [c['id'] for c in facts['capabilities']['host']['numa_cells']]

    assert facts['sev'] is None  # only for read-write connections
    if 'sev' not in facts['not_supported']:
        assert len(result['warnings']) == 1
        assert 'SEV information was not gathered: libvirt gives it only to a read-write connection' in str(
            result['warnings'])
    result = run_module('host_facts', dict(uri=QEMU_URI, gather=['sysinfo', 'sev']))
    assert not result.failed and not result.get('warnings'), result
    facts = result['ansible_facts']['libvirt']
    sysinfo = _virsh('sysinfo')
    if sysinfo.returncode == 0:
        assert facts['sysinfo']['type'] == 'smbios' and 'sysinfo' not in facts['not_supported']
    else:  # this host (a VM without SMBIOS tables) has none: named, not an error
        assert 'SMBIOS' in sysinfo.stderr
        assert facts['sysinfo'] is None and 'sysinfo' in facts['not_supported']
    domcaps = _virsh('domcapabilities').stdout
    if "<sev supported='yes'" in domcaps:
        assert facts['sev'] and 'cbitpos' in facts['sev']
    else:
        assert facts['sev'] is None and 'sev' in facts['not_supported']
