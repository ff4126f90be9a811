# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An ad-hoc command through the inventory reaches a real guest on qemu:///system.

The guest is the tiny test guest with its SSH overlay (scripts/build-test-guest.sh): dropbear, no Python. It sits
on a QEMU user-mode network started with ``restrict=on`` (it can reach nothing) whose only way in is a forward
from 127.0.0.1:<free port> to its port 22, written as a ``hostfwd=`` rule in ``<qemu:commandline>``. The
inventory's ``forward`` address source turns that rule into ``ansible_host``/``ansible_port``; ``ansible -m raw``
then runs a command in the guest over SSH with a key made for this test. No traffic leaves loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import COLLECTIONS, QEMU_URI, unique_name
from day2_guest import cleanup_domain
from utils.guest import (GUEST_KERNEL, GUEST_SSH_INITRD, MARKER_SSH, free_loopback_port, serial_log_path,
                         ssh_guest_xml, wait_for_console)


def _env(tmp_path, key):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_INVENTORY_UNPARSED_FAILED='True',
               ANSIBLE_DEPRECATION_WARNINGS='False', ANSIBLE_HOST_KEY_CHECKING='False',
               ANSIBLE_PRIVATE_KEY_FILE=str(key), ANSIBLE_REMOTE_USER='root',
               ANSIBLE_SSH_ARGS='-o UserKnownHostsFile=/dev/null -o ControlMaster=auto -o ControlPersist=30s',
               ANSIBLE_SSH_CONTROL_PATH_DIR=str(tmp_path / 'cp'), ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'),
               ANSIBLE_NOCOLOR='True')
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    return env


def _run(args, env):
    return subprocess.run(args, env=env, capture_output=True, check=False, text=True, timeout=180)


@pytest.fixture(scope='module')
def ssh_guest(qemu_conn, tmp_path_factory):
    for path in (GUEST_KERNEL, GUEST_SSH_INITRD):
        if not os.path.exists(path):
            pytest.fail('the test guest with SSH is not built: run `bash scripts/build-test-guest.sh`', pytrace=False)
    if shutil.which('ssh') is None or shutil.which('ssh-keygen') is None:
        pytest.fail('OpenSSH client not installed: run `bash scripts/testbed.sh`', pytrace=False)
    folder = tmp_path_factory.mktemp('sshguest')
    key = folder / 'id_ed25519'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'sysvirt-test', '-f', str(key)],
                   check=True)
    name = unique_name('ssh')
    port = free_loopback_port()
    log = serial_log_path(name)
    try:
        dom = qemu_conn.defineXML(ssh_guest_xml(name, (folder / 'id_ed25519.pub').read_text(), port))
        dom.create()
        wait_for_console(log, MARKER_SSH, timeout=60)
        yield dict(name=name, port=port, key=key, folder=folder, uuid=dom.UUIDString())
    finally:
        cleanup_domain(qemu_conn, name)
        if os.path.exists(log):
            os.unlink(log)


def _config(tmp_path, guest, extra=''):
    path = tmp_path / 'guests.libvirt.yml'
    path.write_text('plugin: sysvirt.libvirt.libvirt\nuris: [%s]\nnames: [%s]\naddress_sources: [forward]\n'
                    'host_vars: [uuid, state, port_forwards]\ngroup_by: [state]\n%s'
                    % (QEMU_URI, guest['name'], extra))
    return path


def test_inventory_sets_ansible_host_and_port_from_the_forward(tmp_path, ssh_guest):
    env = _env(tmp_path, ssh_guest['key'])
    proc = _run(['ansible-inventory', '-i', str(_config(tmp_path, ssh_guest)), '--list'], env)
    assert proc.returncode == 0, proc.stderr
    hostvars = json.loads(proc.stdout)['_meta']['hostvars'][ssh_guest['name']]

    def text(value):
        return value['__ansible_unsafe'] if isinstance(value, dict) else value

    assert text(hostvars['ansible_host']) == '127.0.0.1'
    assert hostvars['ansible_port'] == ssh_guest['port']
    assert text(hostvars['libvirt_uuid']) == ssh_guest['uuid']
    assert [(f['host_port'], f['guest_port'], text(f['source'])) for f in hostvars['libvirt_port_forwards']] == [
        (ssh_guest['port'], 22, 'qemu_commandline')]


def test_adhoc_raw_command_reaches_the_guest(tmp_path, ssh_guest):
    env = _env(tmp_path, ssh_guest['key'])
    inventory = str(_config(tmp_path, ssh_guest))
    graph = _run(['ansible-inventory', '-i', inventory, '--graph', 'libvirt_state_running'], env)
    assert graph.returncode == 0 and ssh_guest['name'] in graph.stdout, graph.stderr
    # A command only this guest can answer: its host name (set by its init) and its kernel command line, which
    # carries this test's public key.
    proc = _run(['ansible', '-i', inventory, 'libvirt_state_running', '-m', 'raw',
                 '-a', 'hostname; cat /proc/cmdline; id -u'], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    public = (ssh_guest['folder'] / 'id_ed25519.pub').read_text().split()[1]
    assert '%s | CHANGED | rc=0' % ssh_guest['name'] in proc.stdout, proc.stdout
    lines = proc.stdout.splitlines()
    assert 'sysvirt-test-guest' in lines, proc.stdout
    assert any(public in line for line in lines), proc.stdout
    assert '0' in lines, proc.stdout


def test_adhoc_fails_plainly_without_the_key(tmp_path, ssh_guest):
    """The check above can fail: with another key the guest refuses the login and ansible reports it."""
    folder = tmp_path / 'other'
    folder.mkdir()
    other = folder / 'id_ed25519'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(other)], check=True)
    env = _env(tmp_path, other)
    proc = _run(['ansible', '-i', str(_config(tmp_path, ssh_guest)), 'libvirt_guests', '-m', 'raw', '-a', 'true'],
                env)
    assert proc.returncode != 0
    assert 'UNREACHABLE' in proc.stdout and 'Permission denied' in proc.stdout + proc.stderr, proc.stdout
