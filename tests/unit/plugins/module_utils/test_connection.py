# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection layer against the real in-process test driver."""

from __future__ import annotations

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _connection as c

AUTH_NODE = '''<node>
  <auth><user password="s3cret-pw">alice</user></auth>
</node>'''


@pytest.fixture
def auth_uri(tmp_path):
    path = tmp_path / 'authnode.xml'
    path.write_text(AUTH_NODE)
    return 'test://%s' % path


def test_opens_and_closes():
    connection = c.LibvirtConnection('test:///default')
    with connection as conn:
        assert conn.getType() == 'TEST'
        assert conn.isAlive()
    assert connection.conn is None


def test_uri_falls_back_to_environment_then_system(monkeypatch):
    monkeypatch.setenv('LIBVIRT_DEFAULT_URI', 'test:///default')
    assert c.LibvirtConnection().uri == 'test:///default'
    monkeypatch.delenv('LIBVIRT_DEFAULT_URI')
    assert c.LibvirtConnection().uri == 'qemu:///system'


def test_credentials_answer_the_callback(auth_uri):
    with c.LibvirtConnection(auth_uri, username='alice', password='s3cret-pw') as conn:
        assert conn.getHostname()


@pytest.mark.parametrize('username,password', [(None, None), ('alice', 'wrong'), ('bob', 's3cret-pw')])
def test_bad_credentials_fail_with_auth_hint(auth_uri, username, password):
    with pytest.raises(c.LibvirtFailure) as info:
        c.LibvirtConnection(auth_uri, username=username, password=password).open()
    failure = info.value
    assert failure.code_name == 'VIR_ERR_AUTH_FAILED'
    assert 'LIBVIRT_USERNAME' in failure.hint
    assert 's3cret-pw' not in failure.full_message()


def test_unknown_scheme_gets_uri_hint():
    with pytest.raises(c.LibvirtFailure) as info:
        c.LibvirtConnection('bogus:///nowhere').open()
    assert info.value.code_name == 'VIR_ERR_NO_CONNECT'
    assert 'Unknown URI scheme' in info.value.hint
    # The message on one line, the hint on a line of its own (what plugins raise); modules keep it apart.
    message, hint = info.value.full_message().split('\n')
    assert message == info.value.one_line() and message.endswith('domain %s (VIR_FROM_%s)]' % (
        info.value.domain, info.value.domain_name[len('VIR_FROM_'):]))
    assert hint == 'Hint: ' + info.value.hint
    kwargs = info.value.fail_kwargs()
    assert kwargs['msg'] == message and kwargs['hint'] == info.value.hint


def test_message_without_hint_or_code_is_one_line():
    failure = c.LibvirtFailure('Domain x not found on qemu:///system')
    assert failure.full_message() == failure.one_line() == 'Domain x not found on qemu:///system'
    failure.hint = 'Check the domain name or UUID.'
    assert failure.full_message() == 'Domain x not found on qemu:///system\nHint: Check the domain name or UUID.'
    assert failure.fail_kwargs() == dict(msg='Domain x not found on qemu:///system',
                                         hint='Check the domain name or UUID.')


@pytest.mark.parametrize('uri', ['bogus://127.0.0.1:1/system', 'qemu+tls://127.0.0.1:1/system'])
def test_remote_uri_without_tls_certificates_gets_tls_hint(uri):
    # No certificates here: libvirt fails before connecting (a scheme it does not know, with a host, is TLS);
    # were there certificates, the only address tried is loopback's port 1.
    with pytest.raises(c.LibvirtFailure) as info:
        c.LibvirtConnection(uri).open()
    assert 'certificate' in info.value.msg.lower()
    assert 'TLS' in info.value.hint and 'daemon' not in info.value.hint


def test_missing_daemon_socket_gets_daemon_hint():
    with pytest.raises(c.LibvirtFailure) as info:
        c.LibvirtConnection('qemu+unix:///system?socket=/nonexistent/sysvirt.sock').open()
    assert info.value.code_name == 'VIR_ERR_SYSTEM_ERROR'
    assert info.value.domain_name == 'VIR_FROM_RPC'
    assert 'daemon' in info.value.hint


def test_write_on_read_only_connection_gets_readonly_hint():
    with c.LibvirtConnection('test:///default', readonly=True) as conn:
        with pytest.raises(c.LibvirtFailure) as info:
            with c.call('define network x'):
                conn.networkDefineXML('<network><name>sysvirt-test-ro</name></network>')
    failure = info.value
    assert failure.code_name == 'VIR_ERR_OPERATION_DENIED'
    assert 'read-only' in failure.hint
    assert failure.msg.startswith('Failed to define network x: ')
    kwargs = failure.fail_kwargs()
    assert kwargs['error']['code'] == failure.code and kwargs['hint'] == failure.hint


def test_lookup_returns_none_for_missing_objects(test_conn):
    assert c.lookup(test_conn.lookupByName, 'sysvirt-test-does-not-exist') is None
    assert c.lookup(test_conn.networkLookupByName, 'sysvirt-test-does-not-exist') is None
    assert c.lookup(test_conn.lookupByName, 'test').name() == 'test'


def test_error_names():
    assert c.error_code_name(1) == 'VIR_ERR_INTERNAL_ERROR'
    assert c.error_code_name(0) == 'VIR_ERR_OK'
    assert c.error_domain_name(12) == 'VIR_FROM_TEST'


def test_argument_spec_marks_password_no_log():
    spec = c.connection_argument_spec(dict(name=dict(type='str')))
    assert spec['password']['no_log'] is True
    assert set(spec) == {'uri', 'readonly', 'username', 'password', 'keepalive_interval', 'keepalive_count', 'name'}


def test_missing_file_on_the_host_is_not_a_daemon_problem():
    import libvirt
    message = "cannot open directory '/var/tmp/x': No such file or directory"
    assert c.hint_for(libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_STORAGE, message) is None
    assert c.hint_for(libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_NONE, message) is None
    socket = "Failed to connect socket to '/run/libvirt/libvirt-sock': No such file or directory"
    assert 'daemon' in c.hint_for(libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_RPC, socket)


class _Exit(Exception):
    """What the stand-in module raises from exit_json/fail_json, carrying the result."""

    def __init__(self, failed, result):
        super(_Exit, self).__init__(result)
        self.failed = failed
        self.result = result


class _Module:
    """The parts of AnsibleModule that module_connection and exit_module use."""

    def __init__(self, diff=False, **params):
        self.params = dict(dict(uri='test:///default', readonly=False, username=None, password=None), **params)
        self.argument_spec = c.connection_argument_spec()
        self.no_log_values = set()
        self._diff = diff
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)

    def exit_json(self, **result):
        raise _Exit(False, result)

    def fail_json(self, **result):
        raise _Exit(True, result)


def test_module_connection_turns_xml_input_error_into_fail_json_and_closes():
    from ansible_collections.sysvirt.libvirt.plugins.module_utils._xml import XMLInputError, parse
    module = _Module()
    context = c.module_connection(module)
    with pytest.raises(_Exit) as info:
        with context as conn:
            assert conn.isAlive()
            parse('<network><name>x</name>')
    assert info.value.failed
    assert set(info.value.result) == {'msg'}
    assert '\n' not in info.value.result['msg'] and info.value.result['msg']
    assert context.connection.conn is None
    with pytest.raises(_Exit) as plain:
        with c.module_connection(module):
            raise XMLInputError('The name option (a) and the <name> of the XML (b) differ')
    assert plain.value.result == dict(msg='The name option (a) and the <name> of the XML (b) differ')


@pytest.mark.parametrize('diff', [False, True])
def test_exit_module_warns_and_keeps_diff_only_in_diff_mode(diff):
    module = _Module(diff=diff)
    payload = dict(before='<a/>\n', after='<b/>\n')
    with pytest.raises(_Exit) as info:
        c.exit_module(module, dict(changed=True, actions=['define'], diff=payload, warnings=['w1', 'w2']))
    expected = dict(changed=True, actions=['define'])
    if diff:
        expected['diff'] = payload
    assert not info.value.failed
    assert info.value.result == expected
    assert module.warnings == ['w1', 'w2']


def test_exit_module_without_diff_or_warnings_is_exit_json():
    module = _Module(diff=True)
    with pytest.raises(_Exit) as info:
        c.exit_module(module, dict(changed=False, warnings=[]))
    assert info.value.result == dict(changed=False)
    assert module.warnings == []


def test_a_refused_client_certificate_gets_the_tls_refused_hint():
    """libvirt's only words when a TLS server drops a client whose certificate it refuses (seen on the test fleet,
    tests/functional/test_fleet_transports.py)."""
    import libvirt
    message = 'Unable to read TLS confirmation: Input/output error'
    hint = c.hint_for(libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_RPC, message)
    assert hint == c._TLS_REFUSED_HINT
    assert "refused this client's certificate" in hint and 'pkipath' in hint


def test_keepalive_on_an_in_process_driver_is_ignored():
    """test:///default runs in this process and has no keepalive: the connection opens all the same."""
    connection = c.LibvirtConnection('test:///default', keepalive_interval=1, keepalive_count=2)
    assert connection.keepalive == (1, 2)
    with connection as conn:
        assert conn.getHostname()


@pytest.mark.parametrize('interval, count, expected', [(0, 5, None), (None, 5, None), (-1, 3, None),
                                                       (5, None, (5, 0)), (3, 4, (3, 4))])
def test_keepalive_settings(interval, count, expected):
    assert c.LibvirtConnection('test:///default', keepalive_interval=interval,
                               keepalive_count=count).keepalive == expected


def test_a_keepalive_failure_names_the_uri():
    uri = 'qemu+tls://kvm01.example.com/system'
    message = 'internal error: connection closed due to keepalive timeout'
    failure = c.keepalive_failure(c.LibvirtFailure('Failed to list domains: %s' % message, code=1, domain=7,
                                                   libvirt_message=message), uri)
    assert failure.msg == 'Lost the connection to %s: Failed to list domains: %s' % (uri, message)
    assert failure.hint == c._KEEPALIVE_HINT
    # Named once, however often it passes through; other failures are left as they are.
    assert c.keepalive_failure(failure, uri).msg == failure.msg
    other = c.LibvirtFailure('Failed to list domains: no', libvirt_message='no')
    assert c.keepalive_failure(other, uri).msg == 'Failed to list domains: no' and other.hint is None


HOST_KEY_PROMPT = "Accept SSH host key with hash 'ab:cd' for host '198.18.1.2:22' (y/n)?"


@pytest.mark.parametrize('username', [None, 'y', 'root'])
def test_an_unknown_host_key_is_never_accepted(username):
    """libssh asks through the credential callback (an echo prompt) whether to accept and store a host key that
    is not in known_hosts; the answer is no, whatever the username (which echo prompts otherwise get)."""
    import libvirt
    creds = c._Credentials(username, 'secret')
    cred = [libvirt.VIR_CRED_ECHOPROMPT, HOST_KEY_PROMPT, 'y/n', None, None]
    assert creds([cred], None) == -1
    assert cred[4] is None and creds.refused_host_key


def test_other_echo_prompts_get_the_username():
    import libvirt
    creds = c._Credentials('ops', 'secret')
    cred = [libvirt.VIR_CRED_ECHOPROMPT, 'Login:', 'Login:', None, None]
    assert creds([cred], None) == 0
    assert cred[4] == 'ops' and not creds.refused_host_key


@pytest.mark.parametrize('name, value', [('keepalive_interval', 2 ** 31), ('keepalive_count', 2 ** 31),
                                         ('keepalive_interval', -1), ('keepalive_count', -5)])
def test_keepalive_out_of_range_fails_before_connecting(name, value):
    module = _Module(**{name: value})
    context = c.module_connection(module)
    with pytest.raises(_Exit) as info:
        with context:
            pytest.fail('opened a connection')  # pragma: no cover
    assert info.value.failed
    assert info.value.result == dict(msg='Option %s must be between 0 and 2147483647, not %d.' % (name, value))
    assert context.connection.conn is None


@pytest.mark.parametrize('name, value', [('keepalive_interval', 0), ('keepalive_count', 2 ** 31 - 1)])
def test_keepalive_at_the_range_ends_connects(name, value):
    with c.module_connection(_Module(**dict(dict(keepalive_interval=5, keepalive_count=5), **{name: value}))) as conn:
        assert conn.getHostname()


def test_a_keepalive_call_that_raises_closes_the_connection(monkeypatch):
    connection = c.LibvirtConnection('test:///default', keepalive_interval=1, keepalive_count=2)

    def overflow(self, *args):
        raise OverflowError('signed integer is greater than maximum')
    monkeypatch.setattr(c.libvirt.virConnect, "setKeepAlive", overflow)
    with pytest.raises(OverflowError):
        connection.open()
    assert connection.conn is None
