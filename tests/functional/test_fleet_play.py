# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet play (tests/functional/fleet_play/site.yml) against the test fleet (scripts/fleet.sh), with forks = the
fleet's size: every hypervisor an inventory host whose libvirt_uri (TLS and SSH in turn) comes from host variables
through module_defaults of the action group. host_facts on each, the fleet's baseline CPU for TCG guests from them
(cpu_baseline), then a network, a pool and two guests with that CPU on every hypervisor. Four runs (check, real,
check, real), the result read back over libvirt, then the play's own removal (fleet_state=absent)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import libvirt
from lxml import etree

from conftest import COLLECTIONS, unique_name

PLAY = os.path.join(os.path.dirname(__file__), 'fleet_play', 'site.yml')
#: The tasks that change each hypervisor: the guests (one task, a loop over two), the network, the pool.
CHANGES = 3


def run_play(fleet, inventory, prefix, *extra, forks=None):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_DEPRECATION_WARNINGS='False',
               ANSIBLE_INVENTORY_UNPARSED_FAILED='True', ANSIBLE_RETRY_FILES_ENABLED='False')
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    cmd = ['ansible-playbook', '-i', str(inventory), '-f', str(forks or len(fleet)), PLAY,
           '-e', 'fleet_prefix=%s' % prefix] + list(extra)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)


def recap(proc, fleet):
    """{host name: (ok, changed, failed)} from the PLAY RECAP; the run must have succeeded."""
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    text = proc.stdout[proc.stdout.index('PLAY RECAP'):]
    counts = {}
    for host in fleet.hosts:
        match = re.search(r'%s\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)' % re.escape(host.name),
                          text)
        assert match, text
        counts[host.name] = tuple(int(g) for g in match.groups())
    return counts


def host_objects(uri, prefix):
    """What exists on the hypervisor with ``prefix``: {guest: (state, CPU model)}, networks, pools (name: active)."""
    conn = libvirt.open(uri)
    try:
        guests = {}
        for dom in conn.listAllDomains(0):
            if dom.name().startswith(prefix):
                model = etree.fromstring(dom.XMLDesc(0).encode()).findtext('cpu/model')
                guests[dom.name()] = (dom.state()[0], model)
        networks = dict((n.name(), bool(n.isActive())) for n in conn.listAllNetworks(0)
                        if n.name().startswith(prefix))
        pools = dict((p.name(), bool(p.isActive())) for p in conn.listAllStoragePools(0)
                     if p.name().startswith(prefix))
        return guests, networks, pools
    finally:
        conn.close()


def remove_everything(fleet, prefix):
    """The fallback cleanup: every object named ``prefix``* on every hypervisor (after a failed test)."""
    for uri in fleet.uris('tls'):
        conn = libvirt.open(uri)
        try:
            for dom in conn.listAllDomains(0):
                if dom.name().startswith(prefix):
                    if dom.isActive():
                        dom.destroy()
                    dom.undefine()
            for pool in conn.listAllStoragePools(0):
                if pool.name().startswith(prefix):
                    if pool.isActive():
                        pool.destroy()
                    pool.undefine()
        finally:
            conn.close()
        fleet.remove_network(prefix + '-net')


def test_the_fleet_play_four_runs_and_removal(fleet, tmp_path):
    prefix = unique_name('fleetplay')
    inventory = fleet.inventory(tmp_path / 'hosts.yml')
    try:
        runs = [recap(run_play(fleet, inventory, prefix, *check), fleet) for check in (['--check'], [], ['--check'], [])]
        # host_facts and cpu_baseline are ok and never changed; the rest changes in the first two runs only.
        for host in fleet.hosts:
            assert [r[host.name][1] for r in runs] == [CHANGES, CHANGES, 0, 0], (host.name, runs)
            assert all(r[host.name][2] == 0 for r in runs), runs
        baseline = None
        for host in fleet.hosts:
            guests, networks, pools = host_objects(host.tls_uri, prefix)
            assert sorted(guests) == [prefix + '-a', prefix + '-b'], (host.name, guests)
            assert set(state for state, dummy in guests.values()) == {libvirt.VIR_DOMAIN_RUNNING}, guests
            models = set(model for dummy, model in guests.values())
            assert len(models) == 1 and None not in models, models
            baseline = baseline or models
            assert models == baseline, (host.name, models, baseline)
            assert networks == {prefix + '-net': True} and pools == {prefix + '-pool': True}, (networks, pools)
            assert os.path.isdir(os.path.join(fleet.dir, 'hv%d' % host.index, prefix + '-pool'))
        removal = recap(run_play(fleet, inventory, prefix, '-e', 'fleet_state=absent'), fleet)
        for host in fleet.hosts:
            assert removal[host.name][1] == CHANGES, removal
            assert host_objects(host.tls_uri, prefix) == ({}, {}, {})
            assert not os.path.exists(os.path.join(fleet.dir, 'hv%d' % host.index, prefix + '-pool'))
    finally:
        remove_everything(fleet, prefix)
