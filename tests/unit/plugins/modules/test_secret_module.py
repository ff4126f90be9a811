# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""secret / secret_info on the test driver, which has no secrets: clean failures, never the value."""

from __future__ import annotations

import json

import pytest

VALUE = 'unit-planted-value-5b1e'


@pytest.mark.parametrize('check_mode', [False, True])
def test_define_on_a_driver_without_secrets_fails_cleanly(module_runner, check_mode):
    result = module_runner('secret', dict(uri='test:///default', usage_type='tls', usage_id='sysvirt-test-x',
                                          value=VALUE), check_mode=check_mode)
    assert result.failed
    assert 'not supported' in result['msg'] and 'Traceback' not in result['msg']
    assert VALUE not in json.dumps(result)


@pytest.mark.parametrize('args,message', [
    (dict(), 'one of the following is required'),
    (dict(usage_type='tls'), 'parameters are required together'),
    (dict(xml='<secret/>', description='d'), 'mutually exclusive'),
])
def test_argument_constraints(module_runner, args, message):
    args = dict(args, uri='test:///default')
    result = module_runner('secret', args)
    assert result.failed and message in result['msg'], result


def test_info_on_a_driver_without_secrets_fails_cleanly(module_runner):
    result = module_runner('secret_info', dict(uri='test:///default'))
    assert result.failed and 'not supported' in result['msg'], result
