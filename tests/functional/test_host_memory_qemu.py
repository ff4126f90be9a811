# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""host_memory on qemu:///system: hugepages reserved on this host and KSM tuned, each in four runs (check, real,
check, real) and verified with virsh; the host's original counts and parameters are put back even when a test
fails."""

from __future__ import annotations

import re
import subprocess

import libvirt
import pytest

from conftest import QEMU_URI, run_module

SIZE_KIB = 2048


def _virsh(*args):
    return subprocess.run(['virsh', '-c', QEMU_URI] + list(args), check=True, capture_output=True, text=True).stdout


def _virsh_pool_counts():
    """{(cell, size_kib): count} of the hugepage pools, as `virsh capabilities` shows them."""
    counts = {}
    for cell_id, body in re.findall(r"<cell id='(\d+)'>(.*?)</cell>", _virsh('capabilities'), re.S):
        for size, count in re.findall(r"<pages unit='KiB' size='(\d+)'>(\d+)</pages>", body):
            counts[(int(cell_id), int(size))] = int(count)
    return counts


def _virsh_ksm():
    return dict((k, int(v)) for k, v in re.findall(r'^\s*(shm_\w+)\s*:?\s*(\d+)', _virsh('node-memory-tune'), re.M))


@pytest.fixture
def restored_pools(qemu_conn):
    """The hugepage pools of every size and cell as they were, set back after the test whatever happens."""
    before = dict((key, count) for key, count in _virsh_pool_counts().items() if key[1] != 4)
    try:
        yield before
    finally:
        for (cell, size), count in before.items():
            qemu_conn.allocPages({size: count}, cell, 1, libvirt.VIR_NODE_ALLOC_PAGES_SET)
        assert dict((k, c) for k, c in _virsh_pool_counts().items() if k[1] != 4) == before


@pytest.fixture
def restored_ksm(qemu_conn):
    before = qemu_conn.getMemoryParameters(0)
    try:
        yield before
    finally:
        qemu_conn.setMemoryParameters(dict((k, before[k]) for k in ('shm_pages_to_scan', 'shm_sleep_millisecs')), 0)


def _four_runs(args, verify, expect_actions):
    results = []
    for check, changed in ((True, True), (False, True), (True, False), (False, False)):
        result = run_module('host_memory', dict(args, uri=QEMU_URI), check_mode=check, diff=True)
        assert not result.failed, result
        assert result['changed'] is changed, (check, result)
        assert len(result['actions']) == (expect_actions if changed else 0), result
        results.append(result)
        verify(check, changed)
    # the check run predicted what the real run did, in its diff and its returned pools
    assert results[0]['diff'] == results[1]['diff']
    assert results[0]['hugepages'] == results[1]['hugepages']
    assert results[2]['diff'] == results[3]['diff'] == dict(before={}, after={})
    return results


def test_reserve_and_release_hugepages_whole_host(restored_pools):
    start = restored_pools[(0, SIZE_KIB)]
    wanted = start + 3

    def verify(check, changed):
        assert _virsh_pool_counts()[(0, SIZE_KIB)] == (start if check and changed else wanted)

    results = _four_runs(dict(hugepages=[dict(size='2M', count=wanted)]), verify, 1)
    pool = [p for p in results[1]['hugepages'] if p['size_kib'] == SIZE_KIB][0]
    assert pool['count'] == wanted and pool['free'] == pool['count'] - pool['in_use']
    assert results[1]['diff'] == dict(before={'2048 KiB pages (host)': start}, after={'2048 KiB pages (host)': wanted})

    # back to the original count, per cell this time (bare KiB size)
    def verify_back(check, changed):
        assert _virsh_pool_counts()[(0, SIZE_KIB)] == (wanted if check and changed else start)

    _four_runs(dict(hugepages=[dict(size='2048', count=start, cell=0)]), verify_back, 1)


def test_hugepage_mistakes_change_nothing(restored_pools):
    for args, words in (
            (dict(hugepages=[dict(size='4K', count=1)]), 'no pool of 4 KiB pages'),
            (dict(hugepages=[dict(size='2M', count=1, cell=7)]), 'no pool of 2048 KiB pages on NUMA cell 7'),
            (dict(hugepages=[dict(size='2M', count=1), dict(size='2 MiB', count=2, cell=0)]), 'given twice'),
            (dict(hugepages=[dict(size='two', count=1)]), 'is not a size'),
            (dict(hugepages=[dict(size='2M', count=-1)]), 'is negative')):
        result = run_module('host_memory', dict(args, uri=QEMU_URI))
        assert result.failed and words in result['msg'], result
        assert not result.get('changed')
    assert dict((k, c) for k, c in _virsh_pool_counts().items() if k[1] != 4) == restored_pools


def test_ksm_parameters(restored_ksm):
    wanted = dict(pages_to_scan=restored_ksm['shm_pages_to_scan'] + 7,
                  sleep_millisecs=restored_ksm['shm_sleep_millisecs'] + 3,
                  merge_across_nodes=bool(restored_ksm['shm_merge_across_nodes']))

    def verify(check, changed):
        now = _virsh_ksm()
        expected = restored_ksm if check and changed else dict(
            shm_pages_to_scan=wanted['pages_to_scan'], shm_sleep_millisecs=wanted['sleep_millisecs'])
        assert now['shm_pages_to_scan'] == expected['shm_pages_to_scan']
        assert now['shm_sleep_millisecs'] == expected['shm_sleep_millisecs']

    results = _four_runs(dict(ksm=wanted), verify, 1)
    assert results[1]['ksm']['pages_to_scan'] == wanted['pages_to_scan']
    assert results[0]['ksm']['sleep_millisecs'] == wanted['sleep_millisecs']  # the check run's prediction
    assert results[1]['diff']['after'] == {'ksm.pages_to_scan': wanted['pages_to_scan'],
                                           'ksm.sleep_millisecs': wanted['sleep_millisecs']}


def test_read_only_run_reports_pools_and_ksm(qemu_conn):
    result = run_module('host_memory', dict(uri=QEMU_URI, readonly=True))
    assert not result.failed and result['changed'] is False and result['actions'] == []
    assert SIZE_KIB in [p['size_kib'] for p in result['hugepages']]
    assert 4 not in [p['size_kib'] for p in result['hugepages']]
    assert result['ksm']['pages_to_scan'] == _virsh_ksm()['shm_pages_to_scan']


def test_driver_without_ksm_says_so():
    result = run_module('host_memory', dict(uri='test:///default', ksm=dict(pages_to_scan=10)))
    assert result.failed and 'offers no memory parameters (KSM)' in result['msg'], result
    assert 'KSM' in result['hint']
    quiet = run_module('host_memory', dict(uri='test:///default'))
    assert not quiet.failed and quiet['ksm'] is None
