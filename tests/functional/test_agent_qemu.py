# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_guest_agent on qemu:///system with the tiny guest, which has no guest agent: every operation fails with
one clear message (no channel; channel but agent not connected), within the timeout, and changes nothing."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from conftest import QEMU_URI, run_module
from day2_guest import guest_with_disks

CHANNEL = ("    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>\n"
           "    <controller type='virtio-serial'/>\n")

OPERATIONS = [
    dict(gather=['os', 'hostname']),
    dict(gather=['interfaces']),
    dict(frozen=True),
    dict(user_password=dict(user='root', password='sysvirt-agent-S3cret')),
]


@pytest.fixture(scope='module')
def bare_guest(qemu_conn):
    with guest_with_disks(qemu_conn, disks=(), kind='agentless') as g:
        yield g


@pytest.fixture(scope='module')
def channel_guest(qemu_conn):
    with guest_with_disks(qemu_conn, disks=(), kind='agentchan', extra_devices=CHANNEL) as g:
        yield g


@pytest.mark.parametrize('args', OPERATIONS, ids=['os', 'interfaces', 'freeze', 'password'])
@pytest.mark.parametrize('check', [True, False], ids=['check', 'real'])
def test_no_channel(bare_guest, args, check):
    name = bare_guest[0]
    result = run_module('domain_guest_agent', dict(args, domain=name, uri=QEMU_URI, timeout=3), check_mode=check)
    assert result.failed and 'has no QEMU guest agent channel' in result['msg'], result
    assert 'org.qemu.guest_agent.0' in result['hint']
    assert 'S3cret' not in json.dumps(result)


@pytest.mark.parametrize('args', OPERATIONS, ids=['os', 'interfaces', 'freeze', 'password'])
def test_channel_without_agent(channel_guest, args):
    name = channel_guest[0]
    xml = subprocess.run(['virsh', '-c', QEMU_URI, 'dumpxml', name], check=True, capture_output=True,
                         text=True).stdout
    assert "state='disconnected'" in xml  # libvirt's own view: nothing listens in the guest
    start = time.monotonic()
    result = run_module('domain_guest_agent', dict(args, domain=name, uri=QEMU_URI, timeout=3))
    assert result.failed and 'guest agent' in result['msg'] and 'not connected' in result['msg'], result
    assert 'qemu-guest-agent' in result['hint']
    assert time.monotonic() - start < 10
    assert 'S3cret' not in json.dumps(result)


def test_stopped_guest(qemu_conn):
    with guest_with_disks(qemu_conn, disks=(), start=False, kind='agentoff') as (name, dom, workdir, paths):
        result = run_module('domain_guest_agent', dict(domain=name, uri=QEMU_URI, gather=['os']))
        assert result.failed and 'not running' in result['msg']
