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
import signal
import subprocess
import sys
import time

import libvirt
import pytest
import yaml

from conftest import QEMU_URI, unique_name
from utils.guest import tiny_guest_xml
from utils.private_libvirtd import PrivateLibvirtd

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'eda')
TEST_DOMAIN = """<domain type='test'><name>%s</name><memory>65536</memory><os><type>hvm</type></os></domain>"""


def rulebook_command():
    exe = shutil.which('ansible-rulebook') or os.path.join(os.path.dirname(sys.executable), 'ansible-rulebook')
    if not os.path.exists(exe):
        pytest.fail('ansible-rulebook is missing: it comes with requirements-test.txt (bash scripts/venv.sh)',
                    pytrace=False)
    if not shutil.which('java'):
        pytest.fail('ansible-rulebook needs Java 17: scripts/testbed.sh installs openjdk-17-jre-headless',
                    pytrace=False)
    return exe


class Rulebook:
    """ansible-rulebook running the test rulebook; stdout to a file the test reads as it grows."""

    def __init__(self, tmp_path, uris, patterns):
        self.markers = tmp_path / 'markers'
        self.markers.mkdir()
        self.out = tmp_path / 'rulebook.out'
        work = tmp_path / 'work'
        shutil.copytree(HERE, work)
        (work / 'vars.yml').write_text(yaml.safe_dump(dict(uris=uris, name_patterns=patterns,
                                                           marker_dir=str(self.markers))))
        env = dict(os.environ, PYTHONUNBUFFERED='1', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-tmp'))
        self.proc = subprocess.Popen(
            [rulebook_command(), '--rulebook', 'libvirt_events.rulebook.yml', '--inventory', 'inventory.yml',
             '--vars', 'vars.yml', '--verbose'],
            cwd=str(work), env=env, stdout=open(self.out, 'w'), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)

    def output(self):
        return self.out.read_text(errors='replace')

    def wait_output(self, text, count=1, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.output().count(text) >= count:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.25)
        raise AssertionError('no %r (x%d) in ansible-rulebook output within %ss:\n%s'
                             % (text, count, timeout, self.output()[-4000:]))

    def wait_marker(self, name, event, timeout=90):
        path = self.markers / ('%s.%s.json' % (name, event))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists() and path.stat().st_size:
                try:
                    return json.loads(path.read_text())
                except ValueError:
                    pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.25)
        raise AssertionError('the rule did not write %s within %ss:\n%s' % (path, timeout, self.output()[-4000:]))

    def stop(self):
        """SIGINT, as a user's Ctrl-C: ansible-rulebook cancels the source, which closes its connections."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


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
    rulebook = Rulebook(tmp_path, [QEMU_URI, daemon.test_uri], ['sysvirt-test-events-*'])
    dom = None
    keep = libvirt.open(daemon.test_uri)
    try:
        rulebook.wait_output('CONNECTION connected %s' % QEMU_URI)
        rulebook.wait_output('CONNECTION connected %s' % daemon.test_uri)

        # 1. A TCG guest on the shared daemon, started and destroyed.
        dom = qemu_conn.defineXML(tiny_guest_xml(guest))
        dom.create()
        started = rulebook.wait_marker(guest, 'started')
        dom.destroy()
        stopped = rulebook.wait_marker(guest, 'stopped')
        assert (started['uri'], started['detail']) == (QEMU_URI, 'booted')
        assert (stopped['uri'], stopped['detail'], stopped['uuid']) == (QEMU_URI, 'destroyed', dom.UUIDString())
        assert stopped['hostname'] == qemu_conn.getHostname()

        # 2. The private daemon: an event before, a restart, an event after.
        keep.createXML(TEST_DOMAIN % other)
        assert rulebook.wait_marker(other, 'started')['uri'] == daemon.test_uri
        keep.close()
        keep = None
        daemon.stop()
        rulebook.wait_output('CONNECTION lost %s' % daemon.test_uri)
        daemon.start()
        rulebook.wait_output('CONNECTION reconnected %s' % daemon.test_uri)
        keep = libvirt.open(daemon.test_uri)
        keep.createXML(TEST_DOMAIN % later)
        assert rulebook.wait_marker(later, 'started')['uri'] == daemon.test_uri
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
    out = rulebook.output()
    assert 'Traceback' not in out, out[-4000:]
