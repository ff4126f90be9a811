# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A second libvirt daemon on this machine, as a migration destination for tests.

It runs in its own mount namespace (unshare --mount) where /run/libvirt, /etc/libvirt, /var/lib/libvirt/qemu and
/var/cache/libvirt are private, so its domains, state and pid files never meet the main daemon's. Its sockets
live in a temporary directory of the test (qemu+unix:///system?socket=...), its host UUID differs from the main
daemon's (libvirt refuses to migrate to the "same host" otherwise), QEMU logs go to files (no virtlogd), and
migration traffic is pinned to 127.0.0.1. ``second_daemon()`` yields the URI and stops the daemon by the PID it
started, after destroying and undefining every domain left on it; the directory is removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import libvirt

LIBVIRTD_CONF = """unix_sock_dir = "{sock}"
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
host_uuid = "{host_uuid}"
log_outputs = "3:file:{log}"
"""

QEMU_CONF = """stdio_handler = "file"
migration_port_min = 49300
migration_port_max = 49399
"""

MOUNTS = """set -e
mount --make-rprivate /
mount -t tmpfs sysvirt-run /run/libvirt
mount --bind {etc} /etc/libvirt
mount -t tmpfs sysvirt-lib /var/lib/libvirt/qemu
mount -t tmpfs sysvirt-cache /var/cache/libvirt
exec libvirtd --config {etc}/libvirtd.conf --pid-file {workdir}/libvirtd.pid
"""


def _stop_domains(uri):
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return
    try:
        for dom in conn.listAllDomains(0):
            try:
                if dom.isActive():
                    dom.destroy()
            except libvirt.libvirtError:
                pass
            try:
                if dom.isPersistent():
                    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
            except libvirt.libvirtError:
                pass
    finally:
        conn.close()


@contextlib.contextmanager
def second_daemon(timeout=30):
    workdir = tempfile.mkdtemp(prefix='sysvirt-test-libvirtd-')
    etc = os.path.join(workdir, 'etc')
    sock = os.path.join(workdir, 'sock')
    os.makedirs(os.path.join(etc, 'qemu'))
    os.makedirs(sock)
    with open(os.path.join(etc, 'libvirtd.conf'), 'w') as handle:
        handle.write(LIBVIRTD_CONF.format(sock=sock, host_uuid=str(uuid.uuid4()),
                                          log=os.path.join(workdir, 'libvirtd.log')))
    with open(os.path.join(etc, 'qemu.conf'), 'w') as handle:
        handle.write(QEMU_CONF)
    uri = 'qemu+unix:///system?socket=%s/libvirt-sock' % sock
    proc = subprocess.Popen(['unshare', '--mount', 'sh', '-c', MOUNTS.format(etc=etc, workdir=workdir)],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, 'stderr'), 'w'))
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError('the second libvirtd exited (%s): %s' % (
                    proc.returncode, open(os.path.join(workdir, 'stderr')).read()))
            try:
                conn = libvirt.open(uri)
                conn.close()
                break
            except libvirt.libvirtError:
                if time.monotonic() > deadline:
                    raise RuntimeError('the second libvirtd did not answer within %ss' % timeout)
                time.sleep(0.2)
        yield uri
    finally:
        if proc.poll() is None:
            _stop_domains(uri)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if not os.environ.get('SYSVIRT_KEEP_DAEMON_DIR'):
            shutil.rmtree(workdir, ignore_errors=True)
