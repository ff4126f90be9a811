# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_agent and domain_guest_agent on the test driver, whose built-in guest answers agent calls (freeze/thaw,
passwords, filesystems, hostname, interfaces); the no-agent errors are tested for real on QEMU
(tests/functional/test_agent_qemu.py)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _agent
from conftest import SHARED_TEST_URI, run_module


@pytest.mark.parametrize('flat,expected', [
    ({'os.id': 'debian', 'os.pretty-name': 'Debian 12', 'hostname': 'h'},
     {'os': {'id': 'debian', 'pretty_name': 'Debian 12'}, 'hostname': 'h'}),
    ({'user.count': 2, 'user.0.name': 'root', 'user.1.name': 'ann', 'user.1.login-time': 5},
     {'user': [{'name': 'root'}, {'name': 'ann', 'login_time': 5}]}),
    ({'user.count': 0}, {'user': []}),
    ({'fs.count': 1, 'fs.0.mountpoint': '/', 'fs.0.disk.count': 1, 'fs.0.disk.0.alias': 'vda'},
     {'fs': [{'mountpoint': '/', 'disk': [{'alias': 'vda'}]}]}),
])
def test_unflatten(flat, expected):
    assert _agent.unflatten(flat) == expected


def agent(check=False, **args):
    return run_module('domain_guest_agent', dict(args, domain='test', uri=SHARED_TEST_URI), check_mode=check)


def test_gather_on_test_driver(shared_test_conn):
    result = agent(check=True, gather=['hostname', 'filesystems', 'interfaces'])
    assert not result.failed and not result['changed'], result
    guest = result['guest']
    assert guest['hostname'] == shared_test_conn.lookupByName('test').hostname(0) == 'testhost'
    assert [f['mountpoint'] for f in guest['filesystems']] == ['/', '/boot']
    assert guest['interfaces'][0]['hwaddr'] == 'aa:bb:cc:dd:ee:ff'
    assert guest['interfaces'][0]['addresses'][0] == {'address': '192.168.122.3', 'prefix': 24, 'type': 'ipv4'}


def test_gather_what_the_driver_cannot_fails_clearly(shared_test_conn):
    result = agent(gather=['os'])
    assert result.failed and 'cannot' in result['msg']


@pytest.mark.parametrize('frozen,action', [(True, 'freeze filesystems'), (False, 'thaw filesystems')])
def test_freeze_thaw(shared_test_conn, frozen, action):
    check = agent(check=True, frozen=frozen)
    real = agent(frozen=frozen)
    assert check['changed'] and real['changed'] and check['actions'] == real['actions'] == [action]
    # The test driver's status cannot be read: the request is made each time, and said so.
    assert real['freeze_status'] is None and real['filesystems_changed'] == 2


def test_password_is_never_shown(shared_test_conn, capsys):
    secret = 'sysvirt-unit-S3cret!'
    result = agent(user_password=dict(user='root', password=secret))
    assert result['changed'] and result['actions'] == ['set the password of user root']
    assert secret not in json.dumps(result)


@pytest.mark.parametrize('timeout', [0, -1, -2])
def test_timeout_below_one_second_is_refused(shared_test_conn, timeout):
    result = agent(gather=['hostname'], timeout=timeout)
    assert result.failed and result['msg'] == 'timeout must be at least 1 second, not %d' % timeout
    assert 'guest' not in result


def test_stopped_guest_is_refused(shared_test_conn):
    from conftest import unique_name
    name = unique_name('agentoff')
    dom = shared_test_conn.defineXML("<domain type='test'><name>%s</name><memory>65536</memory><os><type>hvm</type>"
                                     "</os></domain>" % name)
    try:
        result = run_module('domain_guest_agent', dict(domain=name, uri=SHARED_TEST_URI, gather=['hostname']))
        assert result.failed and 'not running' in result['msg'] and result['hint']
    finally:
        dom.undefine()


@pytest.mark.parametrize('code,message,expected', [
    (1, "unable to execute QEMU agent command 'guest-get-osinfo': Command guest-get-osinfo has been disabled: "
        "the agent is in frozen state", _agent.FROZEN_HINT),
    (1, "unable to execute QEMU agent command 'guest-exec': Command guest-exec has been disabled", _agent.BLOCKED_HINT),
    (86, 'Guest agent is not responding: QEMU guest agent is not connected', _agent.AGENT_HINT),
    # The agent answered with an error of its own: telling the user to install it would mislead.
    (1, "unable to execute QEMU agent command 'guest-set-user-password': child process has failed to set user "
        "password", None),
])
def test_agent_hint(code, message, expected):
    assert _agent.agent_hint(code, message) == expected
