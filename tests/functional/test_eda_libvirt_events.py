# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end with ansible-rulebook: the libvirt_events source in a real rulebook.

1. qemu:///system: a TCG guest started and destroyed; the rule fires and its action (a playbook) runs.
2. A private libvirtd of this test (never the shared one), watched at the same time through its test driver,
   is stopped and started mid-run: the source emits ``lost`` and ``reconnected``, and a guest started there
   afterwards still makes the rule fire.
"""

from __future__ import annotations

import json
import os
import shutil

import libvirt
import pytest
import yaml

from conftest import QEMU_URI, unique_name
from utils.guest import tiny_guest_xml
from utils.private_libvirtd import PrivateLibvirtd
from utils.rulebook import Rulebook

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'eda')
TEST_DOMAIN = """<domain type='test'><name>%s</name><memory>65536</memory><os><type>hvm</type></os></domain>"""


def start_rulebook(tmp_path, uris, patterns):
    """The test rulebook (tests/functional/eda/) with its variables; returns (Rulebook, marker directory)."""
    markers = tmp_path / 'markers'
    markers.mkdir()
    work = tmp_path / 'work'
    shutil.copytree(HERE, work)
    (work / 'vars.yml').write_text(yaml.safe_dump(dict(uris=uris, name_patterns=patterns, marker_dir=str(markers))))
    return Rulebook(work, 'libvirt_events.rulebook.yml'), markers


def wait_marker(rulebook, markers, name, event):
    """The event the rule's playbook wrote for guest ``name`` and ``event``."""
    path = markers / ('%s.%s.json' % (name, event))
    found = {}

    def written():
        try:
            found['event'] = json.loads(path.read_text())
            return True
        except (OSError, ValueError):
            return False
    rulebook.wait(written, 'the rule to write %s' % path)
    return found['event']


@pytest.fixture
def daemon():
    private = PrivateLibvirtd()
    private.start()
    yield private
    private.close()


def test_rule_fires_for_a_qemu_guest_and_after_a_daemon_restart(tmp_path, qemu_conn, daemon):
    guest = unique_name('events')
    other = unique_name('events')
    later = unique_name('events')
    rulebook, markers = start_rulebook(tmp_path, [QEMU_URI, daemon.test_uri], ['sysvirt-test-events-*'])
    dom = None
    keep = libvirt.open(daemon.test_uri)
    try:
        rulebook.wait_output('CONNECTION connected %s' % QEMU_URI)
        rulebook.wait_output('CONNECTION connected %s' % daemon.test_uri)

        # 1. A TCG guest on the shared daemon, started and destroyed.
        dom = qemu_conn.defineXML(tiny_guest_xml(guest))
        dom.create()
        started = wait_marker(rulebook, markers, guest, 'started')
        dom.destroy()
        stopped = wait_marker(rulebook, markers, guest, 'stopped')
        assert (started['uri'], started['detail']) == (QEMU_URI, 'booted')
        assert (stopped['uri'], stopped['detail'], stopped['uuid']) == (QEMU_URI, 'destroyed', dom.UUIDString())
        assert stopped['hostname'] == qemu_conn.getHostname()

        # 2. The private daemon: an event before, a restart, an event after.
        keep.createXML(TEST_DOMAIN % other)
        assert wait_marker(rulebook, markers, other, 'started')['uri'] == daemon.test_uri
        keep.close()
        keep = None
        daemon.stop()
        rulebook.wait_output('CONNECTION lost %s' % daemon.test_uri)
        daemon.start()
        rulebook.wait_output('CONNECTION reconnected %s' % daemon.test_uri)
        keep = libvirt.open(daemon.test_uri)
        keep.createXML(TEST_DOMAIN % later)
        assert wait_marker(rulebook, markers, later, 'started')['uri'] == daemon.test_uri
        # The shared daemon's connection was never lost.
        assert 'CONNECTION lost %s' % QEMU_URI not in rulebook.output()
    finally:
        rulebook.stop()
        if keep is not None:
            keep.close()
        if dom is not None:
            try:
                if dom.isActive():
                    dom.destroy()
                dom.undefine()
            except libvirt.libvirtError:
                pass
