# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-rulebook as the end-to-end tests of the libvirt_events source run it: in its own process group, its
output in a file the test reads while it grows, stopped with SIGINT (a user's Ctrl-C) by its PID."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest


def tool(name):
    """A command of the test virtualenv (ansible-rulebook, ansible-playbook); fails, never skips, when missing."""
    exe = shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(exe):
        pytest.fail('%s is missing: it comes with requirements-test.txt (bash scripts/venv.sh)' % name, pytrace=False)
    if name == 'ansible-rulebook' and not shutil.which('java'):
        pytest.fail('ansible-rulebook needs Java 17: scripts/testbed.sh installs openjdk-17-jre-headless',
                    pytrace=False)
    return exe


class Rulebook:
    """``Rulebook(work_dir, 'x.yml')`` runs ansible-rulebook on x.yml with inventory.yml and vars.yml of work_dir."""

    def __init__(self, work, rulebook, inventory='inventory.yml', variables='vars.yml'):
        self.out = work / ('%s.out' % rulebook)
        env = dict(os.environ, PYTHONUNBUFFERED='1', ANSIBLE_LOCAL_TEMP=str(work / 'ansible-tmp'))
        with open(self.out, 'w') as out:
            self.proc = subprocess.Popen(
                [tool('ansible-rulebook'), '--rulebook', rulebook, '--inventory', inventory, '--vars', variables,
                 '--verbose'], cwd=str(work), env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)

    def output(self):
        return self.out.read_text(errors='replace')

    def wait(self, predicate, what, timeout=120):
        """Until ``predicate()`` is true; AssertionError with the output's end after ``timeout`` or on exit."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.25)
        raise AssertionError('waited %ss for %s (ansible-rulebook %s):\n%s' % (
            timeout, what, 'exited' if self.proc.poll() is not None else 'runs', self.output()[-4000:]))

    def wait_output(self, text, count=1, timeout=120):
        self.wait(lambda: self.output().count(text) >= count, '%r x%d in its output' % (text, count), timeout)

    def stop(self):
        """SIGINT: ansible-rulebook cancels the source, which closes its connections. No traceback allowed."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        assert 'Traceback' not in self.output(), self.output()[-4000:]
