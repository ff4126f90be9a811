# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory plugin over the test fleet (scripts/fleet.sh): every hypervisor loads over SSH and over TLS, and
one whose link is cut is reported and skipped, or fails the run with strict: true."""

from __future__ import annotations

import json
import time

import pytest

from test_inventory_libvirt import inventory


def _config(uris, strict=False):
    return 'plugin: sysvirt.libvirt.libvirt\nstrict: %s\nuris:\n%s' % (
        'true' if strict else 'false', ''.join('  - "%s"\n' % uri for uri in uris))


def _hypervisors(listed):
    data = json.loads(listed)
    names = sorted(data.get('libvirt_hypervisors', {}).get('hosts', []))
    return names, data['_meta']['hostvars']


@pytest.mark.parametrize('transport', ('ssh', 'tls'))
def test_every_hypervisor_loads(fleet, tmp_path, transport):
    uris = fleet.uris(transport)
    names, hostvars = _hypervisors(inventory(tmp_path, _config(uris, strict=True), '--list').stdout)
    assert names == sorted(h.name for h in fleet.hosts)
    assert sorted(hostvars[name]['libvirt_uri'] for name in names) == sorted(uris)


@pytest.mark.parametrize('transport', ('ssh', 'tls'))
def test_an_unreachable_hypervisor_is_skipped(fleet, tmp_path, transport):
    uris = fleet.uris(transport)
    lost = fleet.hosts[-1]
    with fleet.link_cut(lost):
        fleet.unreachable(lost)
        started = time.monotonic()
        proc = inventory(tmp_path, _config(uris), '--list')
        elapsed = time.monotonic() - started
    names = _hypervisors(proc.stdout)[0]
    assert names == sorted(h.name for h in fleet.hosts[:-1])
    warning = ' '.join(proc.stderr.split())
    assert 'skipping %s' % lost['%s_uri' % transport] in warning, proc.stderr
    assert elapsed < 30, elapsed


@pytest.mark.parametrize('transport', ('ssh', 'tls'))
def test_an_unreachable_hypervisor_fails_a_strict_inventory(fleet, tmp_path, transport):
    uris = fleet.uris(transport)
    lost = fleet.hosts[0]
    with fleet.link_cut(lost):
        fleet.unreachable(lost)
        proc = inventory(tmp_path, _config(uris, strict=True), '--list', expect_rc=1)
    message = ' '.join(proc.stderr.split())
    assert 'cannot read %s (strict: true)' % lost['%s_uri' % transport] in message, proc.stderr


@pytest.mark.parametrize('transport', ('ssh', 'tls'))
def test_a_hypervisor_that_never_answers_is_skipped_after_the_timeout(fleet, tmp_path, transport):
    """Its daemon frozen: the connection is accepted and never answered, so only the timeout option ends it."""
    uris = fleet.uris(transport)
    silent = fleet.hosts[1]
    with fleet.frozen(silent):
        started = time.monotonic()
        proc = inventory(tmp_path, _config(uris) + 'timeout: 3\n', '--list')
        elapsed = time.monotonic() - started
    names = _hypervisors(proc.stdout)[0]
    assert names == sorted(h.name for h in fleet.hosts if h is not silent)
    warning = ' '.join(proc.stderr.split())
    assert 'skipping %s: Failed to read %s: no answer within 3 seconds' % ((silent['%s_uri' % transport],) * 2) \
        in warning, proc.stderr
    assert elapsed < 20, elapsed
