# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the reliability suite: traps for XML entities (a watched canary file, a loopback listener) and
a run token that names everything this run makes.

tests/reliability is a package (it has an __init__.py), so pytest imports this file as
``reliability.conftest`` and ``from conftest import ...`` in the tests still means tests/conftest.py.
"""

from __future__ import annotations

import secrets

import pytest

from utils.reliability import FileCanary, LoopbackListener, remove_by_prefix


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


@pytest.fixture
def owned_prefix(qemu_conn):
    """A factory of name prefixes, ``owned_prefix('load')`` -> 'sysvirt-test-load-<hex>'.

    Every domain and network on qemu:///system whose name starts with a prefix it gave is destroyed and
    undefined after the test, whether it passed or failed (and only those).
    """
    made = []

    def make(kind):
        prefix = 'sysvirt-test-%s-%s' % (kind, secrets.token_hex(3))
        made.append(prefix)
        return prefix

    yield make
    if made:
        remove_by_prefix(qemu_conn, made)
