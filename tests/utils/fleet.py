# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The test fleet: N libvirt hypervisors in network namespaces, reached over qemu+tls:// and qemu+ssh://.

``scripts/fleet.sh up N`` makes it and ``down`` removes it (see that script for what a hypervisor is). The
session-scoped ``fleet`` fixture brings up a fleet of FLEET_SIZE (SYSVIRT_FLEET_SIZE, default 4) once per test
session and takes it down at the end of the session, also when tests failed. Each test still removes what it made
on the hypervisors. It fails, never skips, when the fleet cannot be made.

``Fleet.link_cut(i)`` takes hypervisor i's link down inside its namespace (the root side keeps its route, so
packets to it are dropped, never sent elsewhere) and brings it back on exit; ``Fleet.frozen(i)`` stops its
libvirtd (SIGSTOP) and continues it on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import time

import libvirt
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / 'scripts' / 'fleet.sh'
FLEET_SIZE = int(os.environ.get('SYSVIRT_FLEET_SIZE') or 4)


class Host(dict):
    """One hypervisor of the fleet: index, name, namespace, link, address, tls_uri, ssh_uri, libssh_uri."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key)


class Fleet:
    def __init__(self, description):
        self.description = description
        self.dir = description['dir']
        self.hosts = [Host(h) for h in description['hosts']]
        self.pkipath = description['pkipath']
        self.keyfile = description['keyfile']
        self.known_hosts = description['known_hosts']
        self.ssh_command = description['ssh_command']
        self.guest_dir = description['guest_dir']

    def __len__(self):
        return len(self.hosts)

    def uris(self, transport):
        """Every host's URI for ``transport``: tls, ssh or libssh."""
        return [h['%s_uri' % transport] for h in self.hosts]

    @contextlib.contextmanager
    def link_cut(self, host):
        """Hypervisor ``host``'s link down (inside its namespace) for the block; up again afterwards."""
        ns = host.namespace
        subprocess.run(['ip', '-n', ns, 'link', 'set', 'eth0', 'down'], check=True)
        try:
            yield host
        finally:
            subprocess.run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up'], check=True)
            self._reachable_again(host)

    @staticmethod
    def _reachable_again(host, timeout=30):
        """After a cut: the root side's neighbour entry for the host failed while the link was down, and a new
        connection gets "No route to host" until it is resolved again. Drop it, then wait (bounded) until the
        host's TLS port answers."""
        subprocess.run(['ip', 'neigh', 'flush', 'dev', host.link], check=False)
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection((host.address, 16514), timeout=1).close()
                return
            except OSError as e:
                if time.monotonic() > deadline:
                    raise AssertionError('hypervisor %s not reachable %ss after its link came back: %s'
                                         % (host.name, timeout, e))
                time.sleep(0.2)

    @contextlib.contextmanager
    def frozen(self, host):
        """Hypervisor ``host``'s libvirtd stopped (SIGSTOP, by the PID the fleet started it with) for the block:
        its kernel still accepts TCP connections, the daemon never answers. SIGCONT afterwards."""
        with open(os.path.join(self.dir, 'hv%d' % host.index, 'libvirtd.pid')) as handle:
            pid = int(handle.read().strip())
        os.kill(pid, signal.SIGSTOP)
        try:
            yield host
        finally:
            os.kill(pid, signal.SIGCONT)

    def inventory(self, path, transports=('tls', 'ssh'), hosts=None):
        """Write an Ansible inventory (YAML) of ``hosts`` (default all) to ``path``: group ``hypervisors``, each
        host named after its hypervisor with host variables ``libvirt_uri`` (the transports taken in turn),
        ``fleet_index`` and ``fleet_dir``; ``ansible_connection: local``."""
        hosts = self.hosts if hosts is None else hosts
        lines = ['hypervisors:', '  hosts:']
        for n, host in enumerate(hosts):
            lines += ['    %s:' % host.name,
                      '      libvirt_uri: %s' % json.dumps(host['%s_uri' % transports[n % len(transports)]]),
                      '      fleet_index: %d' % host.index]
        lines += ['  vars:', '    fleet_dir: %s' % json.dumps(self.dir), '    ansible_connection: local',
                  '    ansible_python_interpreter: "{{ ansible_playbook_python }}"']
        pathlib.Path(path).write_text('\n'.join(lines) + '\n')
        return path

    def remove_network(self, name):
        """Remove network ``name`` from every hypervisor that has it (a test's cleanup)."""
        for uri in self.uris('tls'):
            conn = libvirt.open(uri)
            try:
                net = conn.networkLookupByName(name)
                if net.isActive():
                    net.destroy()
                net.undefine()
            except libvirt.libvirtError:
                pass
            finally:
                conn.close()

    def unreachable(self, host):
        """Forget the root side's neighbour entry of ``host``, so new connections to it fail at once (no
        address resolution answers) instead of waiting for TCP's SYN retries."""
        subprocess.run(['ip', 'neigh', 'flush', 'dev', host.link], check=False)


def fleet_up(size=FLEET_SIZE):
    proc = subprocess.run(['bash', str(SCRIPT), 'up', str(size)], capture_output=True, text=True, timeout=180,
                          check=False)
    if proc.returncode != 0:
        pytest.fail('scripts/fleet.sh up %d failed (%d): %s' % (size, proc.returncode, proc.stderr), pytrace=False)
    return Fleet(json.loads(proc.stdout))


def fleet_down():
    proc = subprocess.run(['bash', str(SCRIPT), 'down'], capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope='session')
def fleet():
    """The test fleet, made once per session and removed at its end."""
    if os.geteuid() != 0:
        pytest.fail('the test fleet needs root (network namespaces, mounts)', pytrace=False)
    try:
        yield fleet_up()
    finally:
        fleet_down()
