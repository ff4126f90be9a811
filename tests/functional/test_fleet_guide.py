# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet examples of docs/guides/remote-hypervisors.md (hosts.yml, fleet.yml, fleet.libvirt.yml: each ```yaml
block after a ``<!-- file: NAME -->`` line), run as written against the test fleet (scripts/fleet.sh), with the
fleet's addresses in place of kvmNN.example.com and its key and certificate paths in place of /etc/ansible/fleet.
The playbook runs with forks = the fleet's size."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import libvirt

from conftest import COLLECTIONS, unique_name

GUIDE = os.path.join(os.path.dirname(__file__), '..', '..', 'docs', 'guides', 'remote-hypervisors.md')
FILE_BLOCK = re.compile(r'<!-- file: (?P<name>[\w.-]+) -->\n```yaml\n(?P<text>.*?)\n```', re.S)


def guide_files(fleet):
    with open(GUIDE, encoding='utf-8') as handle:
        text = handle.read()
    replacements = [
        ('/etc/ansible/fleet/pki', fleet.pkipath),
        ('/etc/ansible/fleet/id_ed25519', fleet.keyfile),
        ('/etc/ansible/fleet/known_hosts', fleet.known_hosts),
        ('/etc/ansible/fleet/ssh', fleet.ssh_command),
    ]
    files = {}
    for match in FILE_BLOCK.finditer(text):
        body = match.group('text') + '\n'
        for old, new in replacements:
            body = body.replace(old, new)
        body = re.sub(r'kvm0(\d)\.example\.com', lambda m: fleet.hosts[int(m.group(1)) - 1].address, body)
        assert '/etc/ansible' not in body and 'example.com' not in body, body
        files[match.group('name')] = body
    return files


def _env():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_DEPRECATION_WARNINGS='False',
               ANSIBLE_INVENTORY_UNPARSED_FAILED='True', ANSIBLE_HOST_KEY_CHECKING='True')
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    return env


def test_the_fleet_playbook_runs_on_every_hypervisor(fleet, tmp_path):
    files = guide_files(fleet)
    for name in ('hosts.yml', 'fleet.yml'):
        (tmp_path / name).write_text(files[name])
    network = unique_name('fleet-doc')
    try:
        proc = subprocess.run(['ansible-playbook', '-i', 'hosts.yml', '-f', str(len(fleet)), 'fleet.yml',
                               '-e', 'fleet_network=%s' % network], cwd=tmp_path, env=_env(), capture_output=True,
                              text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        recap = proc.stdout[proc.stdout.index('PLAY RECAP'):]
        for host in fleet.hosts:
            assert re.search(r'%s\s+: ok=3\s+changed=1\s+unreachable=0\s+failed=0' % re.escape(host.address), recap), \
                recap
            assert '%s: libvirt ' % host.address in proc.stdout
        for uri in fleet.uris('tls'):
            conn = libvirt.open(uri)
            try:
                assert conn.networkLookupByName(network).isActive()
            finally:
                conn.close()
    finally:
        fleet.remove_network(network)


def test_the_fleet_inventory_loads_every_hypervisor(fleet, tmp_path):
    files = guide_files(fleet)
    path = tmp_path / 'fleet.libvirt.yml'
    path.write_text(files['fleet.libvirt.yml'])
    proc = subprocess.run(['ansible-inventory', '-i', str(path), '--list'], env=_env(), capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert sorted(data['libvirt_hypervisors']['hosts']) == sorted(h.name for h in fleet.hosts)
    assert 'skipping' not in proc.stderr, proc.stderr
