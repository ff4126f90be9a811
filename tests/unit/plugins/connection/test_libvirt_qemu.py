# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The libvirt_qemu connection's requests to the agent, against a fake agent (no guest).

The real guest is in tests/functional/test_connection_libvirt_qemu.py; these check what cannot be provoked there
at will: how standard input is split between inline and a file, chunk sizes, exit codes of signalled commands,
and the hints of agent errors.
"""

from __future__ import annotations

import base64
import json

import libvirt
import pytest

from ansible import constants as C
from ansible.errors import AnsibleConnectionFailure
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import fragment_loader
from ansible.utils.plugin_docs import get_docstring

from ansible_collections.sysvirt.libvirt.plugins.connection import libvirt_qemu as plugin


class FakeAgent:
    """Answers guest-exec, guest-exec-status and guest-file-* like qemu-ga, and records every request."""

    def __init__(self):
        self.requests = []
        self.files = {}
        self.handles = {}
        self.status = {'exited': True, 'exitcode': 0, 'out-data': base64.b64encode(b'out').decode()}
        self.error = None
        self.info = {'version': '7.2.0', 'supported_commands': [
            {'name': name, 'enabled': True} for name in plugin.REQUIRED_COMMANDS]}

    def __call__(self, dom, text, timeout, flags):
        request = json.loads(text)
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        args = request.get('arguments', {})
        name = request['execute']
        if name == 'guest-info':
            return json.dumps({'return': self.info})
        if name == 'guest-exec':
            return json.dumps({'return': {'pid': 42}})
        if name == 'guest-exec-status':
            return json.dumps({'return': self.status})
        if name == 'guest-file-open':
            handle = len(self.handles) + 1
            self.handles[handle] = [args['path'], 0]
            if 'w' in args['mode']:
                self.files[args['path']] = b''
            return json.dumps({'return': handle})
        if name == 'guest-file-write':
            data = base64.b64decode(args['buf-b64'])
            self.files[self.handles[args['handle']][0]] += data
            return json.dumps({'return': {'count': len(data), 'eof': False}})
        if name == 'guest-file-read':
            path, offset = self.handles[args['handle']]
            data = self.files[path][offset:offset + args['count']]
            self.handles[args['handle']][1] += len(data)
            return json.dumps({'return': {'count': len(data), 'buf-b64': base64.b64encode(data).decode(),
                                          'eof': offset + len(data) >= len(self.files[path])}})
        if name == 'guest-file-close':
            return json.dumps({'return': {}})
        raise AssertionError('unexpected request %s' % name)

    def named(self, name):
        return [r for r in self.requests if r['execute'] == name]


@pytest.fixture
def agent(monkeypatch):
    fake = FakeAgent()
    monkeypatch.setattr(plugin.libvirt_qemu, 'qemuAgentCommand', fake)
    return fake


@pytest.fixture
def connection(agent):
    # The plugin as Ansible's loader makes it: its documented options known to the config manager.
    name = 'sysvirt.libvirt.libvirt_qemu'
    doc = get_docstring(plugin.__file__.replace('.pyc', '.py'), fragment_loader, plugin_type='connection')[0]
    C.config.initialize_plugin_configuration_definitions('connection', name, doc['options'])
    conn = plugin.Connection(PlayContext(), None)
    conn._load_name = name
    conn.set_options(direct={'remote_addr': 'guest1'})
    conn._domain = object()
    conn._name = 'guest1'
    conn._connected = True
    return conn


def test_small_standard_input_goes_inline(connection, agent):
    rc, out, err = connection.exec_command('cat', in_data=b'hello')
    assert (rc, out, err) == (0, b'out', b'')
    start = agent.named('guest-exec')[0]['arguments']
    assert start['path'] == '/bin/sh' and start['arg'] == ['-c', 'cat']
    assert base64.b64decode(start['input-data']) == b'hello'
    assert 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' in start['env']
    assert not agent.named('guest-file-open')


def test_large_standard_input_goes_through_a_file(connection, agent):
    data = bytes(range(256)) * 1000  # 256000 bytes: three chunks of the default 98304
    connection.exec_command('/usr/bin/python3', in_data=data)
    opened = agent.named('guest-file-open')[0]['arguments']
    assert opened['path'].startswith('/tmp/.sysvirt-libvirt-qemu-stdin-') and opened['mode'] == 'wb'
    assert agent.files[opened['path']] == data
    assert [len(base64.b64decode(w['arguments']['buf-b64'])) for w in agent.named('guest-file-write')] == \
        [98304, 98304, 256000 - 2 * 98304]
    start = agent.named('guest-exec')[0]['arguments']
    assert 'input-data' not in start
    assert start['arg'] == ['-c', plugin.STDIN_FROM_FILE, '/usr/bin/python3', opened['path']]


def test_put_chunk_size_is_capped(connection, agent, tmp_path):
    connection.set_options(direct={'remote_addr': 'guest1', 'put_chunk_size': 4 << 20})
    source = tmp_path / 'src'
    source.write_bytes(b'x' * 300000)
    connection.put_file(str(source), '/tmp/dest')
    sizes = [len(base64.b64decode(w['arguments']['buf-b64'])) for w in agent.named('guest-file-write')]
    assert sizes == [plugin.MAX_PUT_CHUNK, plugin.MAX_PUT_CHUNK, 300000 - 2 * plugin.MAX_PUT_CHUNK]
    assert agent.files['/tmp/dest'] == b'x' * 300000


def test_fetch_reads_in_fetch_chunks(connection, agent, tmp_path):
    agent.files['/etc/big'] = b'y' * (2 * 1048576 + 5)
    connection.fetch_file('/etc/big', str(tmp_path / 'big'))
    assert (tmp_path / 'big').read_bytes() == agent.files['/etc/big']
    assert {r['arguments']['count'] for r in agent.named('guest-file-read')} == {1048576}
    assert len(agent.named('guest-file-close')) == 1


def test_a_signalled_command_returns_128_plus_the_signal(connection, agent):
    agent.status = {'exited': True, 'signal': 9}
    assert connection.exec_command('sleep 100')[0] == 137


def test_connection_environment(connection, agent):
    connection.set_options(direct={'remote_addr': 'guest1', 'command_environment': {'HOME': '/srv', 'X': 1}})
    connection.exec_command('true')
    env = agent.named('guest-exec')[0]['arguments']['env']
    assert 'HOME=/srv' in env and 'X=1' in env and 'HOME=/root' not in env


def _error(code, message):
    error = libvirt.libvirtError(message)
    error.err = (code, libvirt.VIR_FROM_QEMU, message, 2, None, None, None, 0, 0)
    return error


@pytest.mark.parametrize('code, message, hint', [
    (libvirt.VIR_ERR_INTERNAL_ERROR, "unable to execute QEMU agent command 'guest-exec': Command guest-exec has "
     "been disabled", 'Hint: Allow guest-exec in the guest'),
    (libvirt.VIR_ERR_AGENT_UNRESPONSIVE, 'Guest agent is not responding: Guest agent not available for now',
     'Hint: The agent did not answer within agent_timeout (30s)'),
    (libvirt.VIR_ERR_AGENT_UNRESPONSIVE, 'Guest agent is not responding: QEMU guest agent is not connected',
     'Hint: Install and start qemu-guest-agent in the guest'),
])
def test_agent_errors_carry_a_hint(connection, agent, code, message, hint):
    agent.error = _error(code, message)
    with pytest.raises(AnsibleConnectionFailure) as caught:
        connection.exec_command('true')
    text = str(caught.value)
    assert text.startswith('Failed to start a command in guest1 (agent command guest-exec)')
    assert hint in text


def test_all_commands_allowed(connection, agent):
    connection._check_commands()
    assert [r['execute'] for r in agent.requests] == ['guest-info']


def test_blocked_commands_found_at_connect(connection, agent):
    for command in agent.info['supported_commands']:
        command['enabled'] = command['name'] not in ('guest-exec', 'guest-file-write')
    with pytest.raises(AnsibleConnectionFailure) as caught:
        connection._check_commands()
    assert 'The QEMU guest agent of guest1 blocks guest-exec, guest-file-write, which this connection needs' \
        in str(caught.value)
    assert '/etc/qemu/qemu-ga.conf (comma-separated)' in str(caught.value)


def test_an_old_agent_without_guest_exec(connection, agent):
    agent.info = {'version': '2.4.0', 'supported_commands': [{'name': 'guest-ping', 'enabled': True}]}
    with pytest.raises(AnsibleConnectionFailure, match=r'\(version 2.4.0\) does not know guest-exec, .*update'):
        connection._check_commands()


def test_command_timeout(connection, agent, monkeypatch):
    agent.status = {'exited': False}
    connection.set_options(direct={'remote_addr': 'guest1', 'command_timeout': 1})
    clock = iter(range(0, 100, 1))
    monkeypatch.setattr(plugin.time, 'monotonic', lambda: next(clock))
    monkeypatch.setattr(plugin.time, 'sleep', lambda seconds: None)
    with pytest.raises(AnsibleConnectionFailure, match=r'still runs after command_timeout \(1s\).*pid 42'):
        connection.exec_command('sleep 100')
