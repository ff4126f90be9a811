# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A NUL character in any string option fails cleanly (libvirt-python raises ValueError on C strings with NUL).

Found by test_argument_fuzz: volume_info(pool='x\\0y') ended in a ValueError traceback.
"""

from __future__ import annotations

import pytest

from conftest import run_module
from utils.reliability import problems_with

CASES = [
    ('volume_info', dict(pool='sysvirt-test-\x00')),
    ('storage_pool_info', dict(name='sysvirt-test-\x00')),
    ('network_info', dict(name='sysvirt-test-\x00')),
    ('domain', dict(name='sysvirt-test-\x00', state='absent')),
    ('network', dict(name='sysvirt-test-\x00', state='absent')),
    ('volume', dict(pool='default-pool', name='sysvirt-test-\x00', state='absent')),
    ('domain_info', dict(name=['sysvirt-test-\x00'])),
    ('network', dict(name='sysvirt-test-x', state='absent', dhcp_hosts=[dict(mac='52:54:00:00:00:\x00')])),
]


@pytest.mark.parametrize('module,args', CASES, ids=['%s-%s' % (m, '-'.join(a)) for m, a in CASES])
def test_nul_fails_cleanly(module, args):
    args = dict(args, uri='test:///default')
    result = run_module(module, args)
    assert result.failed, result
    assert not problems_with(result, args, module)
    assert 'NUL character' in result['msg']
