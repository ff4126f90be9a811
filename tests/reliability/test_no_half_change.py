# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input found late must not leave a half-applied change.

Found by test_argument_fuzz: nwfilter with a new filter and a binding with an empty MAC defined the filter,
then failed on the binding.
"""

from __future__ import annotations

import libvirt
import pytest

from conftest import run_module, unique_name
from utils.reliability import problems_with

BAD_BINDINGS = {
    'mac': dict(mac='', owner_uuid='6a1e2a7c-5b1e-4e55-9f43-1c0f6b2b9a11'),
    'owner_uuid': dict(mac='52:54:00:00:00:07', owner_uuid='not-a-uuid'),
}


@pytest.mark.parametrize('bad', sorted(BAD_BINDINGS))
@pytest.mark.parametrize('check_mode', [False, True], ids=['real', 'check'])
def test_nwfilter_bad_binding_defines_nothing(qemu_conn, bad, check_mode):
    name = unique_name('flt')
    binding = dict(port_dev=unique_name('port')[:15], owner_name=name, **BAD_BINDINGS[bad])
    args = dict(uri='qemu:///system', xml="<filter name='%s' chain='root'/>" % name, bindings=[binding])
    try:
        result = run_module('nwfilter', args, check_mode=check_mode)
        assert result.failed, result
        assert not problems_with(result, args, 'nwfilter')
        assert bad in result['msg']
        with pytest.raises(libvirt.libvirtError):
            qemu_conn.nwfilterLookupByName(name)
    finally:
        try:
            qemu_conn.nwfilterLookupByName(name).undefine()
        except libvirt.libvirtError:
            pass
