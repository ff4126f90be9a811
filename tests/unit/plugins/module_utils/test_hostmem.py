# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_hostmem: the hugepage pools read from the capabilities, what a run changes (plan), what check mode predicts,
and the KSM comparison."""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _hostmem, _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure

CAPS = """<capabilities><host>
  <cpu><arch>x86_64</arch><pages unit='KiB' size='4'/><pages unit='KiB' size='2048'/><pages unit='KiB' size='1048576'/></cpu>
  <topology><cells num='2'>
    <cell id='0'><pages unit='KiB' size='4'>1000</pages><pages unit='KiB' size='2048'>10</pages>
      <pages unit='KiB' size='1048576'>0</pages></cell>
    <cell id='1'><pages unit='KiB' size='4'>2000</pages><pages unit='KiB' size='2048'>6</pages></cell>
  </cells></topology>
</host></capabilities>"""

FREE = {0: {4: 900, 2048: 4, 1048576: 0}, 1: {4: 1900, 2048: 6}}


def pools():
    return _hostmem.page_pools(_xml.parse(CAPS), FREE)


def test_page_pools_leave_out_ordinary_pages_and_count_what_guests_use():
    assert pools() == [
        dict(cell=0, size_kib=2048, count=10, free=4, in_use=6),
        dict(cell=1, size_kib=2048, count=6, free=6, in_use=0),
        dict(cell=0, size_kib=1048576, count=0, free=0, in_use=0),
    ]


def test_page_pools_without_free_pages_count_all_free_and_no_cells():
    assert _hostmem.page_pools(_xml.parse(CAPS), {})[0] == dict(cell=0, size_kib=2048, count=10, free=10, in_use=0)
    assert _hostmem.page_pools(_xml.parse('<capabilities><host/></capabilities>'), {}) == []
    assert _hostmem.system_page_kib(_xml.parse('<capabilities><host/></capabilities>')) is None
    assert _hostmem.system_page_kib(_xml.parse(CAPS)) == 4


def test_page_size_is_a_whole_number():
    assert isinstance(_hostmem.page_size_kib('2M'), int)


@pytest.mark.parametrize('value, kib', [('2M', 2048), ('2 MiB', 2048), ('1G', 1048576), ('2048', 2048),
                                        ('4K', 4), ('2097152B', 2048)])
def test_page_size(value, kib):
    assert _hostmem.page_size_kib(value) == kib


def test_page_size_messages():
    with pytest.raises(LibvirtFailure) as caught:
        _hostmem.page_size_kib('1000B')
    assert caught.value.msg == "hugepages: size '1000B' is not a whole number of KiB"
    with pytest.raises(LibvirtFailure) as caught:
        _hostmem.page_size_kib('two')
    assert caught.value.msg.startswith("hugepages: size 'two' is not a size")


@pytest.mark.parametrize('value, words', [('two', 'is not a size'), ('1000B', 'whole number of KiB'),
                                          ('0', 'whole number of KiB'), ('2X', 'unknown unit')])
def test_page_size_refused(value, words):
    with pytest.raises(LibvirtFailure, match=words):
        _hostmem.page_size_kib(value)


def test_plan_nothing_when_counts_match():
    assert _hostmem.plan_hugepages([dict(size_kib=2048, count=16, cell=None),
                                    dict(size_kib=1048576, count=0, cell=0)], pools()) == ([], [])
    assert _hostmem.plan_hugepages([dict(size_kib=2048, count=6, cell=1)], pools()) == ([], [])


def test_plan_whole_host_sums_the_cells():
    changes, warnings = _hostmem.plan_hugepages([dict(size_kib=2048, count=20, cell=None)], pools())
    assert changes == [dict(cell=None, size_kib=2048, before=16, after=20, in_use=6)] and warnings == []


def test_plan_one_cell():
    changes, _w = _hostmem.plan_hugepages([dict(size_kib=2048, count=6, cell=0)], pools())
    assert changes == [dict(cell=0, size_kib=2048, before=10, after=6, in_use=6)]


def test_plan_refuses_to_release_pages_in_use():
    with pytest.raises(LibvirtFailure) as caught:
        _hostmem.plan_hugepages([dict(size_kib=2048, count=5, cell=0)], pools())
    assert caught.value.msg == ('hugepages: 6 of the 2048 KiB pages on NUMA cell 0 are in use by guests; a pool of 5 '
                                'releases 1 of them')
    assert caught.value.hint == _hostmem.RELEASE_HINT
    changes, warnings = _hostmem.plan_hugepages([dict(size_kib=2048, count=5, cell=0)], pools(), True)
    assert changes[0]['after'] == 5
    assert warnings == ['6 of the 2048 KiB pages on NUMA cell 0 are in use by guests; a pool of 5 releases 1 of them '
                        '(release_in_use=true): the kernel frees them when the guests let go']


def test_plan_whole_host_release_counts_every_cell():
    with pytest.raises(LibvirtFailure, match='6 of the 2048 KiB pages on the whole host'):
        _hostmem.plan_hugepages([dict(size_kib=2048, count=0, cell=None)], pools())


@pytest.mark.parametrize('wanted, words', [
    ([dict(size_kib=4, count=1, cell=None)], 'no pool of 4 KiB pages on the whole host'),
    ([dict(size_kib=2048, count=1, cell=3)], 'no pool of 2048 KiB pages on NUMA cell 3'),
    ([dict(size_kib=1048576, count=1, cell=1)], 'no pool of 1048576 KiB pages on NUMA cell 1'),
    ([dict(size_kib=2048, count=-1, cell=0)], 'count -1 for 2048 KiB pages on NUMA cell 0 is negative'),
    ([dict(size_kib=2048, count=16, cell=None), dict(size_kib=2048, count=1, cell=0)], 'given twice'),
    ([dict(size_kib=2048, count=10, cell=0), dict(size_kib=2048, count=1, cell=None)], 'given twice'),
    ([dict(size_kib=2048, count=10, cell=0), dict(size_kib=2048, count=1, cell=0)], 'given twice for NUMA cell 0'),
])
def test_plan_mistakes(wanted, words):
    with pytest.raises(LibvirtFailure, match=words):
        _hostmem.plan_hugepages(wanted, pools())


@pytest.mark.parametrize('wanted, message', [
    ([dict(size_kib=2048, count=-1, cell=0)], 'hugepages: count -1 for 2048 KiB pages on NUMA cell 0 is negative'),
    ([dict(size_kib=2048, count=10, cell=0), dict(size_kib=2048, count=1, cell=None)],
     'hugepages: 2048 KiB pages are given twice for the whole host'),
    ([dict(size_kib=64, count=1, cell=None)], 'hugepages: this host has no pool of 64 KiB pages on the whole host'),
])
def test_plan_messages(wanted, message):
    with pytest.raises(LibvirtFailure) as caught:
        _hostmem.plan_hugepages(wanted, pools())
    assert caught.value.msg == message
    if 'twice' in message:
        assert caught.value.hint == 'Give each page size once for the whole host, or once per NUMA cell.'


def test_plan_same_size_on_two_cells_is_fine():
    changes, _w = _hostmem.plan_hugepages([dict(size_kib=2048, count=12, cell=0),
                                           dict(size_kib=2048, count=7, cell=1)], pools())
    assert [(c['cell'], c['before'], c['after']) for c in changes] == [(0, 10, 12), (1, 6, 7)]


def test_plan_unknown_size_hint_lists_what_the_host_has():
    with pytest.raises(LibvirtFailure) as caught:
        _hostmem.plan_hugepages([dict(size_kib=64, count=1, cell=None)], pools())
    assert caught.value.hint == 'Page sizes it offers: 2048, 1048576 KiB; NUMA cells: 0, 1.'
    with pytest.raises(LibvirtFailure) as caught:
        _hostmem.plan_hugepages([dict(size_kib=64, count=1, cell=None)], [])
    assert caught.value.hint == 'Page sizes it offers: none KiB; NUMA cells: none.'


def test_predict_one_cell():
    after = _hostmem.predict_pools(pools(), [dict(cell=1, size_kib=2048, before=6, after=9, in_use=0)])
    assert after[1] == dict(cell=1, size_kib=2048, count=9, free=9, in_use=0)
    assert after[0] == pools()[0] and after[2] == pools()[2]


def test_predict_whole_host_spreads_evenly():
    after = _hostmem.predict_pools(pools(), [dict(cell=None, size_kib=2048, before=16, after=21, in_use=6)])
    assert [(p['count'], p['free'], p['in_use']) for p in after[:2]] == [(11, 5, 6), (10, 10, 0)]


def test_predict_shrink_below_use_keeps_no_negative_free():
    after = _hostmem.predict_pools(pools(), [dict(cell=0, size_kib=2048, before=10, after=2, in_use=6)])
    assert after[0] == dict(cell=0, size_kib=2048, count=2, free=0, in_use=2)
    assert pools()[0]['count'] == 10  # the input is not changed


KSM_NOW = dict(pages_to_scan=100, sleep_millisecs=20, merge_across_nodes=True, pages_shared=0)


def test_plan_ksm_only_what_differs():
    assert _hostmem.plan_ksm(dict(pages_to_scan=100, sleep_millisecs=None, merge_across_nodes=True), KSM_NOW) == {}
    assert _hostmem.plan_ksm(dict(pages_to_scan=200, sleep_millisecs=20, merge_across_nodes=False), KSM_NOW) == dict(
        shm_pages_to_scan=200, shm_merge_across_nodes=0)
    assert _hostmem.plan_ksm(dict(merge_across_nodes=True), dict(merge_across_nodes=False)) == dict(
        shm_merge_across_nodes=1)


def test_plan_ksm_on_a_host_without_parameters():
    with pytest.raises(LibvirtFailure) as caught:
        _hostmem.plan_ksm(dict(pages_to_scan=1), {})
    assert caught.value.msg == 'This host has no KSM parameter pages_to_scan (it has: none)'


def test_plan_ksm_parameter_the_host_lacks():
    with pytest.raises(LibvirtFailure) as caught:
        _hostmem.plan_ksm(dict(merge_across_nodes=True), dict(pages_to_scan=1, sleep_millisecs=2))
    assert caught.value.msg == 'This host has no KSM parameter merge_across_nodes (it has: pages_to_scan, sleep_millisecs)'
    assert caught.value.hint == _hostmem.KSM_HINT


class FakeConn:
    def __init__(self, error=None, values=None):
        self.error, self.values = error, values

    def getMemoryParameters(self, flags):
        assert flags == 0 and isinstance(flags, int)
        if self.error is not None:
            raise self.error
        return self.values


def _error(code):
    error = libvirt.libvirtError('refused')
    error.err = (code, libvirt.VIR_FROM_NONE, 'refused here', 2, None, None, None, 0, 0)
    return error


def test_ksm_now_names_and_types():
    conn = FakeConn(values=dict(shm_pages_to_scan=100, shm_merge_across_nodes=0, other=3))
    assert _hostmem.ksm_now(conn, False) == dict(pages_to_scan=100, merge_across_nodes=False, other=3)
    values = _hostmem.ksm_now(FakeConn(values=dict(shm_merge_across_nodes=1, shm_pages_shared=1)), False)
    assert values['merge_across_nodes'] is True and values['pages_shared'] == 1 and values['pages_shared'] is not True


@pytest.mark.parametrize('code', [libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_CONFIG_UNSUPPORTED])
def test_ksm_absent(code):
    assert _hostmem.ksm_now(FakeConn(_error(code)), False) is None
    with pytest.raises(LibvirtFailure) as caught:
        _hostmem.ksm_now(FakeConn(_error(code)), True)
    assert caught.value.msg == 'This host offers no memory parameters (KSM) through libvirt: refused here'
    assert caught.value.code == code and caught.value.hint == _hostmem.KSM_HINT
    assert caught.value.domain == libvirt.VIR_FROM_NONE


def test_ksm_other_failure_fails_even_when_not_needed():
    with pytest.raises(LibvirtFailure) as caught:
        _hostmem.ksm_now(FakeConn(_error(libvirt.VIR_ERR_INTERNAL_ERROR)), False)
    assert caught.value.msg.startswith('Failed to read the host memory parameters: ')
