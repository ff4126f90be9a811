# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A NUL or another character XML cannot carry, in any string option, fails cleanly.

libvirt-python raises ValueError on C strings with NUL, lxml on control characters.

Found by test_argument_fuzz: volume_info(pool='x\\0y') and secret(uuid='\\x1f') ended in ValueError tracebacks.
"""

from __future__ import annotations

import pytest

from conftest import run_module
from utils.reliability import problems_with
from utils.returns import refused_by_ansible_core

CASES = [
    ('volume_info', dict(pool='sysvirt-test-\x00')),
    ('storage_pool_info', dict(name='sysvirt-test-\x00')),
    ('network_info', dict(name='sysvirt-test-\x00')),
    ('domain', dict(name='sysvirt-test-\x00', state='absent')),
    ('network', dict(name='sysvirt-test-\x00', state='absent')),
    ('volume', dict(pool='default-pool', name='sysvirt-test-\x00', state='absent')),
    ('domain_info', dict(name=['sysvirt-test-\x00'])),
    ('network', dict(name='sysvirt-test-x', state='absent', dhcp_hosts=[dict(mac='52:54:00:00:00:\x00')])),
    ('secret', dict(uuid='\x1f', uri='qemu:///system')),
    ('network', dict(xml='<network><name>sysvirt-test-\x0b</name></network>')),
    ('domain', dict(name='test', title='sysvirt-test-\uffff')),
]


@pytest.mark.parametrize('module,args', CASES, ids=['%s-%s' % (m, '-'.join(a)) for m, a in CASES])
def test_nul_fails_cleanly(module, args):
    args = dict(dict(uri='test:///default'), **args)
    result = run_module(module, args)
    assert result.failed, result
    assert not problems_with(result, args, module)
    if refused_by_ansible_core(result):
        # ansible-core 2.21 on Python 3.13 refuses to log a NUL to syslog before the module runs. With
        # no_target_syslog (ansible-core then passes _ansible_no_log) the module itself gets the argument.
        result = run_module(module, dict(args, _ansible_no_log=True))
        assert result.failed and not problems_with(result, args, module), result
    assert 'NUL character' in result['msg'] or 'the character U+' in result['msg'], result
