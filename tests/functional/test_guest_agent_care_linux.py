# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_guest_agent's maintenance calls against the Linux test guest (tests/utils/linux_guest.py, one boot per
session): authorized SSH keys (a login with the added key), the guest clock, fstrim (the overlay image gives the
blocks back), the guest's vCPUs, and suspend to RAM (woken again afterwards). Each is verified from outside the
module: SSH, the image file on the host, virsh."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from conftest import QEMU_URI, run_module
from test_guest_agent_linux import in_guest, virsh


def agent(guest, check=False, **args):
    return run_module('domain_guest_agent', dict(args, domain=guest.name, uri=QEMU_URI, timeout=20),
                      check_mode=check)


def four_runs(guest, verify=None, repeat=False, **args):
    """check, real, check, real: changed, changed, unchanged, unchanged (``repeat``: a call that acts every run)."""
    results = []
    for check in (True, False, True, False):
        result = agent(guest, check=check, **args)
        assert not result.failed, result
        results.append(result)
        if verify is not None:
            verify(check, len(results))
    expected = [True] * 4 if repeat else [True, True, False, False]
    assert [r['changed'] for r in results] == expected, [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions']
    if not repeat:
        assert results[2]['actions'] == results[3]['actions'] == []
    return results


def _login_with(guest, key):
    argv = ['ssh', '-q', '-i', key, '-p', str(guest.port), '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes',
            '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10',
            '%s@127.0.0.1' % guest.user, 'id -un']
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_authorized_keys_added_log_in_and_removed(linux_guest, tmp_path):
    guest = linux_guest
    key = str(tmp_path / 'added')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'sysvirt-test-added', '-f', key],
                   check=True)
    with open(key + '.pub') as handle:
        public = handle.read().strip()
    before = agent(guest, authorized_keys=dict(user=guest.user, public_keys=[], state='present'))
    assert before['changed'] is False and public not in before['authorized_keys']['public_keys']
    assert _login_with(guest, key).returncode != 0
    try:
        def verify(check, run):
            assert (_login_with(guest, key).returncode == 0) is (run > 1)

        results = four_runs(guest, verify,
                            authorized_keys=dict(user=guest.user, public_keys=['  ' + public + ' ']))
        assert results[1]['actions'] == ['add 1 authorized SSH key(s) of user %s' % guest.user]
        assert results[0]['authorized_keys'] == results[1]['authorized_keys'] == results[3]['authorized_keys']
        assert results[3]['authorized_keys']['public_keys'] == sorted(
            before['authorized_keys']['public_keys'] + [public])
        assert _login_with(guest, key).stdout.strip() == guest.user
        assert public in in_guest(guest, 'cat ~/.ssh/authorized_keys')
    finally:
        gone = four_runs(guest, lambda check, run: None,
                         authorized_keys=dict(user=guest.user, public_keys=[public], state='absent'))
    assert gone[1]['actions'] == ['remove 1 authorized SSH key(s) of user %s' % guest.user]
    assert gone[3]['authorized_keys']['public_keys'] == before['authorized_keys']['public_keys']
    assert _login_with(guest, key).returncode != 0
    assert guest.ssh('true').returncode == 0  # the run's own key is still there


def test_authorized_keys_of_a_missing_user_fail_plainly(linux_guest):
    result = agent(linux_guest, authorized_keys=dict(user='sysvirt-nobody', public_keys=['ssh-ed25519 AAAA x']))
    assert result.failed and 'authorized SSH keys of sysvirt-nobody' in result['msg'], result
    assert not result.get('changed')


def _guest_offset(guest):
    return int(in_guest(guest, 'date +%s').strip()) - time.time()


def test_clock_set_from_the_host(linux_guest):
    guest = linux_guest
    in_guest(guest, 'sudo date -s @%d >/dev/null' % int(time.time() - 300))
    assert _guest_offset(guest) < -250

    def verify(check, run):
        offset = _guest_offset(guest)
        assert (offset < -250) if run == 1 else abs(offset) < 5, (run, offset)

    results = four_runs(guest, verify, clock=dict(source='host'))
    assert results[1]['actions'][0].startswith('set the guest clock (it was 3')
    assert results[1]['actions'][0].endswith('seconds behind)')
    assert abs(results[3]['clock']['offset']) < 2


def test_clock_from_the_hardware_clock(linux_guest):
    guest = linux_guest
    in_guest(guest, 'sudo date -s @%d >/dev/null' % int(time.time() + 200))
    results = four_runs(guest, repeat=True, clock=dict(source='rtc'))
    assert results[1]['actions'] == ['set the guest clock from its hardware clock']
    assert abs(_guest_offset(guest)) < 5  # the RTC follows the host (clock offset='utc')


def _overlay(guest):
    xml = virsh('dumpxml', guest.name)
    start = xml.index("<source file='") + len("<source file='")
    return xml[start:xml.index("'", start)]


def test_fstrim_gives_blocks_back(linux_guest):
    guest = linux_guest
    path = _overlay(guest)
    in_guest(guest, 'dd if=/dev/urandom of=$HOME/sysvirt-trim bs=1M count=48 status=none && sync && '
                    'rm $HOME/sysvirt-trim && sync')
    before = os.stat(path).st_blocks * 512
    check = agent(guest, check=True, fstrim={})
    assert check['changed'] is True and check['actions'] == ['trim the filesystems']
    assert os.stat(path).st_blocks * 512 >= before - (8 << 20)
    result = agent(guest, fstrim=dict(minimum='4K'))
    assert not result.failed and result['changed'] is True, result
    assert os.stat(path).st_blocks * 512 < before - (32 << 20), (before, os.stat(path).st_blocks * 512)


def test_guest_vcpus(linux_guest):
    guest = linux_guest
    result = agent(guest, vcpus=dict(online='0'))
    assert not result.failed and result['changed'] is False, result
    assert result['guest_vcpus']['vcpus'] == result['guest_vcpus']['online'] == [
        int(c) for c in in_guest(guest, 'cat /sys/devices/system/cpu/online').strip().split('-')[:1]]
    result = agent(guest, vcpus=dict(offline='0'))
    assert result.failed and 'cannot take vCPU 0 offline' in result['msg'] and 'CPU 0' in result['hint']
    result = agent(guest, vcpus=dict(online='0-1'))
    assert result.failed and 'the guest has no vCPU 1' in result['msg']


@pytest.fixture
def awake(linux_guest):
    """The guest, woken again after the test whatever it did, and its agent answering (bounded)."""
    try:
        yield linux_guest
    finally:
        if virsh('domstate', linux_guest.name) == 'pmsuspended':
            virsh('dompmwakeup', linux_guest.name)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if subprocess.run(['virsh', '-c', QEMU_URI, 'qemu-agent-command', linux_guest.name,
                               '{"execute":"guest-ping"}'], capture_output=True, timeout=30,
                              check=False).returncode == 0:
                break
            time.sleep(1)
        else:
            pytest.fail('the guest agent does not answer after the wake-up')


def test_suspend_to_ram_and_wake(awake):
    guest = awake
    check = agent(guest, check=True, suspend='mem')
    assert check['changed'] is True and check['actions'] == ['suspend to mem']
    assert virsh('domstate', guest.name) == 'running'
    result = agent(guest, suspend='mem')
    if result.failed:  # a guest that cannot suspend says why, and nothing changed
        assert 'suspend' in result['msg'] and result['hint'], result
        assert virsh('domstate', guest.name) == 'running'
        pytest.fail('the Linux test guest did not suspend to RAM: %s' % result['msg'])
    assert result['changed'] is True and virsh('domstate', guest.name) == 'pmsuspended'
    again = agent(guest, suspend='mem')
    assert again['changed'] is False and again['actions'] == []
    woken = run_module('domain', dict(uri=QEMU_URI, name=guest.name, state='running'))
    assert woken['changed'] is True and woken['actions'] == ['wake up'], woken
    assert virsh('domstate', guest.name) == 'running'
