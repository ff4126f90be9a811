# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults on a real daemon: a private libvirtd (tests/utils/private_libvirtd.py) stopped and started by the test,
a guest killed from outside while a module waits on it, a wait's timeout.

The private daemon runs as nobody with its own socket; the project's libvirtd is never touched.
"""

from __future__ import annotations

import glob
import os
import signal
import threading
import time

import libvirt
import pytest

from conftest import SHARED_TEST_URI, run_module, unique_name
from utils.guest import tiny_guest_xml
from utils.private_libvirtd import PrivateLibvirtd

DAEMON_HINT = 'Is the libvirt daemon'


@pytest.fixture(scope='module')
def daemon():
    private = PrivateLibvirtd()
    try:
        private.start()
        yield private
    finally:
        private.close()


def _guest(daemon, name, acpi=True):
    xml = tiny_guest_xml(name, memory_mib=64, serial_log=os.path.join(daemon.dir, 'log', name + '.log'))
    if not acpi:
        xml = xml.replace('    <acpi/>\n', '')
    return xml


def _qemu_pid(daemon, name):
    paths = glob.glob(os.path.join(daemon.dir, 'run', 'libvirt', 'qemu', '**', '%s.pid' % name), recursive=True)
    assert paths, 'no pid file for %s' % name
    with open(paths[0]) as handle:
        return int(handle.read().strip())


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def _inventory(tmp_path, uris):
    """Run the inventory plugin through ansible-inventory; return (hosts, stderr)."""
    import json
    import subprocess
    import sys

    from conftest import COLLECTIONS
    source = tmp_path / 'hosts.libvirt.yml'
    source.write_text('plugin: sysvirt.libvirt.libvirt\nuris:\n%s' % ''.join('  - "%s"\n' % u for u in uris))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_INVENTORY_ENABLED='sysvirt.libvirt.libvirt',
               ANSIBLE_NOCOLOR='1')
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-inventory'), '-i', str(source),
                           '--list'], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    return set(data.get('_meta', {}).get('hostvars', {})), proc.stderr


def test_daemon_restart_mid_play(daemon, shared_test_conn, tmp_path):
    name = unique_name('flt')
    uri = daemon.qemu_uri
    started = run_module('domain', dict(uri=uri, xml=_guest(daemon, name), state='running', timeout=60))
    assert not started.failed, started
    pid = _qemu_pid(daemon, name)
    # a guest on the shared test driver, so the inventory has a hypervisor that answers
    other = unique_name('inv')
    shared_test_conn.defineXML("<domain type='test'><name>%s</name><memory>65536</memory><os><type>hvm</type>"
                               "</os></domain>" % other)
    try:
        daemon.stop()
        for module, args in (('domain_info', dict(name=[name])), ('domain', dict(name=name, state='running')),
                             ('network_info', dict()), ('host_facts', dict())):
            result = run_module(module, dict(args, uri=uri))
            assert result.failed, (module, result)
            assert result.get('hint', '').startswith(DAEMON_HINT), (module, result)
            assert '\n' not in result['msg'] and DAEMON_HINT not in result['msg']
        hosts, stderr = _inventory(tmp_path, [uri, SHARED_TEST_URI])
        assert other in hosts, (hosts, stderr)
        assert name not in hosts
        assert 'session' in stderr or 'socket' in stderr, stderr  # the unreachable hypervisor is a warning
        assert _alive(pid), 'the guest died with its daemon'

        daemon.start()
        again = run_module('domain_info', dict(uri=uri, name=[name]))
        assert not again.failed, again
        assert [d['state'] for d in again['domains']] == ['running'], again['domains']
        assert _qemu_pid(daemon, name) == pid, 'the guest was restarted, not kept'
        hosts, _stderr = _inventory(tmp_path, [uri, SHARED_TEST_URI])
        assert {name, other} <= hosts
    finally:
        if daemon.proc is None:
            daemon.start()
        run_module('domain', dict(uri=uri, name=name, state='absent'))
        shared_test_conn.lookupByName(other).undefine()


def test_guest_killed_while_waiting(daemon):
    """A graceful shutdown the guest ignores (no ACPI) is waited on; the QEMU process is killed from outside."""
    name = unique_name('kil')
    uri = daemon.qemu_uri
    started = run_module('domain', dict(uri=uri, xml=_guest(daemon, name, acpi=False), state='running', timeout=60))
    assert not started.failed, started
    pid = _qemu_pid(daemon, name)
    killer = threading.Timer(2.0, os.kill, (pid, signal.SIGKILL))
    try:
        killer.start()
        t0 = time.monotonic()
        result = run_module('domain', dict(uri=uri, name=name, state='shutdown', timeout=60))
        elapsed = time.monotonic() - t0
        assert elapsed < 15, 'the wait went on %.1fs after the guest was killed' % elapsed
        # Either an accurate error, or the guest is off (which is what was asked), reported truthfully.
        if result.failed:
            assert '\n' not in result['msg'] and 'Traceback' not in result['msg'], result['msg']
            assert any(w in result['msg'].lower() for w in ('crash', 'killed', 'stopped', 'shut off', 'shutoff', 'destroyed', 'failed')), result['msg']
        else:
            assert result['domain']['state'] == 'shutoff', result
        dom = libvirt.open(uri).lookupByName(name)
        assert not dom.isActive()
    finally:
        killer.cancel()
        run_module('domain', dict(uri=uri, name=name, state='absent'))


@pytest.mark.parametrize('timeout', [2, 4])
def test_wait_timeout_is_honoured(daemon, timeout):
    """A shutdown the guest ignores (no ACPI) fails after `timeout` seconds, within a second."""
    name = unique_name('tmo')
    uri = daemon.qemu_uri
    started = run_module('domain', dict(uri=uri, xml=_guest(daemon, name, acpi=False), state='running', timeout=60))
    assert not started.failed, started
    try:
        t0 = time.monotonic()
        result = run_module('domain', dict(uri=uri, name=name, state='shutdown', timeout=timeout))
        elapsed = time.monotonic() - t0
        assert result.failed, result
        assert '\n' not in result['msg']
        assert timeout - 0.1 <= elapsed <= timeout + 1.0, 'timeout %ss took %.2fs' % (timeout, elapsed)
        assert libvirt.open(uri).lookupByName(name).isActive(), 'a timed-out graceful shutdown must not force'
    finally:
        run_module('domain', dict(uri=uri, name=name, state='absent'))
