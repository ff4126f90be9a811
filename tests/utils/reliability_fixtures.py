# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the reliability suite: traps for XML entities (a watched canary file, a loopback listener),
a run token that names everything this run makes, and the URI each module is exercised on.

Import them into a test module (``from utils.reliability_fixtures import canary, listener, traps``): a
conftest.py beside the tests would shadow tests/conftest.py for ``from conftest import ...``.
"""

from __future__ import annotations

import secrets

import pytest

from utils.reliability import FileCanary, LoopbackListener

__all__ = ["DAEMON_MODULES", "TEST_URI", "QEMU_URI", "uri_for", "run_token", "canary", "listener", "traps"]

#: Modules whose kind the test driver does not implement: exercised on the real daemon.
DAEMON_MODULES = {'secret', 'secret_info', 'nwfilter', 'nwfilter_info'}
TEST_URI = 'test:///default'
QEMU_URI = 'qemu:///system'


def uri_for(module):
    return QEMU_URI if module in DAEMON_MODULES else TEST_URI


@pytest.fixture(scope='session')
def run_token():
    """Part of every name this session makes: sysvirt-test-rel<hex>."""
    return 'sysvirt-test-rel' + secrets.token_hex(3)


@pytest.fixture(scope='session')
def canary(tmp_path_factory):
    directory = tmp_path_factory.mktemp('canary')
    directory.chmod(0o755)
    trap = FileCanary(str(directory))
    yield trap
    trap.close()


@pytest.fixture(scope='session')
def listener():
    trap = LoopbackListener()
    yield trap
    trap.close()


@pytest.fixture
def traps(canary, listener):
    """Checks, after the test body, that no XML entity read the canary or fetched from the listener."""
    canary.opened()  # drain anything before this test
    before = listener.connections
    yield canary, listener
    assert not canary.opened(), 'a process opened the canary file %s (events %r)' % (canary.path, canary.events)
    assert listener.connections == before, 'something connected to the loopback listener'
