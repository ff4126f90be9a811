# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A private libvirtd for fault tests: stopped and started at will, never the project's daemon.

It runs as the unprivileged user ``nobody`` in session mode, with its own runtime, config and cache
directories under a temporary directory and its own unix socket (no TCP), so it shares nothing with the
system daemon (no /run/libvirt, no /etc/libvirt, no system guests). Root connects to it with
``qemu+unix:///session?socket=<dir>/run/libvirt/libvirt-sock`` (QEMU, guests run as ``nobody``) or
``test+unix:///default?socket=...`` (its test driver). ``stop()`` ends only the daemon this object started,
by its PID; guests keep running across a stop/start.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time

import libvirt


class PrivateLibvirtd:
    def __init__(self, user='nobody', group='nogroup'):
        self.user, self.group = user, group
        # /var/tmp, a name of its own: cleanups of /tmp/sysvirt-test-* elsewhere must not remove it mid-test
        self.dir = tempfile.mkdtemp(prefix='sysvirt-test-rld', dir='/var/tmp')
        for sub in ('run', 'config', 'cache', 'log'):
            os.makedirs(os.path.join(self.dir, sub))
        shutil.chown(self.dir, user)
        for sub in ('run', 'config', 'cache', 'log'):
            shutil.chown(os.path.join(self.dir, sub), user)
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, 'run', 'libvirt', 'libvirt-sock')
        self.qemu_uri = 'qemu+unix:///session?socket=%s' % self.socket
        self.test_uri = 'test+unix:///default?socket=%s' % self.socket
        self.proc = None
        self.starts = 0

    def start(self, timeout=30):
        assert self.proc is None, 'already running'
        env = dict(PATH='/usr/sbin:/usr/bin:/sbin:/bin', HOME=self.dir, XDG_RUNTIME_DIR=os.path.join(self.dir, 'run'),
                   XDG_CONFIG_HOME=os.path.join(self.dir, 'config'), XDG_CACHE_HOME=os.path.join(self.dir, 'cache'))
        self.starts += 1
        log = open(os.path.join(self.dir, 'log', 'libvirtd-%d.log' % self.starts), 'w')
        # setpriv execs libvirtd: the PID is the daemon's own.
        self.proc = subprocess.Popen(['setpriv', '--reuid=%s' % self.user, '--regid=%s' % self.group,
                                      '--clear-groups', 'libvirtd'], env=env, cwd=self.dir, stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('the private libvirtd exited with %s' % self.proc.returncode)
            try:
                libvirt.open(self.qemu_uri).close()
                return
            except libvirt.libvirtError:
                time.sleep(0.2)
        raise RuntimeError('the private libvirtd did not answer within %ss' % timeout)

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def qemu_pid(self, name):
        with open(os.path.join(self.dir, 'run', 'libvirt', 'qemu', 'run', '%s.pid' % name)) as handle:
            return int(handle.read().strip())

    def close(self):
        """Stop the daemon and every guest it runs, remove the directory."""
        if self.proc is None:
            try:
                self.start()
            except RuntimeError:
                pass
        if self.proc is not None:
            try:
                conn = libvirt.open(self.qemu_uri)
                for dom in conn.listAllDomains():
                    if dom.isActive():
                        dom.destroy()
                    if dom.isPersistent():
                        dom.undefine()
                conn.close()
            except libvirt.libvirtError:
                pass
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
