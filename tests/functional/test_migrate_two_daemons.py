# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_migrate between the main libvirtd (qemu:///system) and a second libvirtd started by the test in its own
mount namespace (second_daemon.py), with the running tiny guest. Migration data goes to tcp://127.0.0.1 (or through
the libvirt connection when tunnelled): loopback only. Four runs for each behaviour; verified with virsh on both
daemons. docs/guides/migration.md lists what this covers."""

from __future__ import annotations

import subprocess

import pytest

from conftest import QEMU_URI, run_module
from day2_guest import guest_with_disks
from second_daemon import second_daemon

LOOPBACK = 'tcp://127.0.0.1'


def virsh(uri, *args, check=True):
    return subprocess.run(['virsh', '-c', uri] + list(args), check=check, capture_output=True, text=True).stdout


def where(uri, name):
    """(state, persistent) of guest ``name`` as virsh dominfo shows it, or None when that daemon has no such guest."""
    proc = subprocess.run(['virsh', '-c', uri, 'dominfo', name], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        assert 'failed to get domain' in proc.stderr, proc.stderr
        return None
    fields = dict(line.split(':', 1) for line in proc.stdout.splitlines() if ':' in line)
    return fields['State'].strip(), fields['Persistent'].strip()


def migrate(check=False, **args):
    return run_module('domain_migrate', dict(args, uri=QEMU_URI), check_mode=check)


def four_runs(**args):
    results = [migrate(check=c, **args) for c in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions']
    return results


@pytest.fixture(scope='module')
def destination():
    with second_daemon() as uri:
        yield uri


def test_live_peer_to_peer_persistent(qemu_conn, destination):
    with guest_with_disks(qemu_conn, disks=(), kind='migp2p') as (name, dom, workdir, paths):
        results = four_runs(domain=name, destination=destination, migration_uri=LOOPBACK, bandwidth=100,
                            downtime=500)
        job = results[1]['job']
        assert job['live'] and job['seconds'] > 0
        assert results[1]['location'] == 'destination' and results[3]['location'] == 'destination'
        assert where(destination, name) == ('running', 'yes')
        # Not undefined on the source: still defined there, inactive.
        assert where(QEMU_URI, name) == ('shut off', 'yes')
        assert results[3]['on_source'] is True and results[3]['actions'] == []


def test_live_direct_undefine_source(qemu_conn, destination):
    with guest_with_disks(qemu_conn, disks=(), kind='migdirect') as (name, dom, workdir, paths):
        uuid = dom.UUIDString()
        results = four_runs(domain=uuid, destination=destination, peer_to_peer=False, migration_uri=LOOPBACK,
                            undefine_source=True)
        assert results[1]['on_source'] is False
        assert where(QEMU_URI, name) is None
        assert where(destination, name) == ('running', 'yes')


def test_tunnelled_transient_on_destination(qemu_conn, destination):
    with guest_with_disks(qemu_conn, disks=(), kind='migtunnel') as (name, dom, workdir, paths):
        results = four_runs(domain=name, destination=destination, tunnelled=True, persistent=False)
        assert results[1]['persistent_on_destination'] is False
        assert where(destination, name) == ('running', 'no')


def test_postcopy(qemu_conn, destination):
    """Post-copy needs userfaultfd on the destination, which this container's QEMU does not get: then the
    migration fails with QEMU's message, before anything moved, and the guest keeps running on the source."""
    with guest_with_disks(qemu_conn, disks=(), kind='migpost') as (name, dom, workdir, paths):
        result = migrate(domain=name, destination=destination, migration_uri=LOOPBACK, postcopy=True,
                         postcopy_after_iterations=1, poll_interval=0.2)
        if result.failed:
            assert 'Postcopy is not supported' in result['msg'], result
            assert where(QEMU_URI, name)[0] == 'running' and where(destination, name) is None
        else:
            assert where(destination, name)[0] == 'running'
            assert migrate(domain=name, destination=destination, migration_uri=LOOPBACK, postcopy=True)['changed'] \
                is False


def test_offline_undefine_source(qemu_conn, destination):
    with guest_with_disks(qemu_conn, disks=(), start=False, kind='migoff') as (name, dom, workdir, paths):
        results = four_runs(domain=name, destination=destination, undefine_source=True)
        assert results[1]['actions'] == ['migrate %s offline to %s' % (name, destination)]
        assert where(destination, name) == ('shut off', 'yes')
        assert where(QEMU_URI, name) is None


def test_cpu_preflight_compatible(qemu_conn, destination):
    cpu = "  <cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu>\n"
    with guest_with_disks(qemu_conn, disks=(), kind='migcpu', start=False) as (name, dom, workdir, paths):
        xml = dom.XMLDesc(0).replace('<devices>', cpu + '<devices>', 1)
        dom = qemu_conn.defineXML(xml)
        dom.create()
        result = migrate(domain=name, destination=destination, migration_uri=LOOPBACK, cpu_compare=True)
        assert not result.failed and result['changed'], result
        assert result['cpu_check']['result'] in ('identical', 'superset')
        assert result['cpu_check']['against'] == 'hypervisor'
        assert where(destination, name)[0] == 'running'


class _DefinitionOnly:
    """Stands in for a running domain whose migratable definition is a KVM guest with a qemu64 CPU."""

    def __init__(self, name):
        self._name = name

    def name(self):
        return self._name

    def XMLDesc(self, flags=0):
        return ("<domain type='kvm'><name>%s</name><os><type arch='x86_64' machine='pc'>hvm</type></os>"
                "<cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model>"
                "<feature policy='require' name='svm'/></cpu></domain>" % self._name)


def test_cpu_preflight_incompatible(qemu_conn):
    """The pre-flight against the real KVM hypervisor of this nested host, which does not offer svm: refused."""
    from ansible_collections.sysvirt.libvirt.plugins.module_utils import _migrate
    from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure

    class Module:
        params = dict(destination=QEMU_URI)
        check_mode = True

    run = _migrate.MigrateRun(Module(), qemu_conn)
    with pytest.raises(LibvirtFailure) as info:
        run.cpu_preflight(_DefinitionOnly('sysvirt-test-cpu'), qemu_conn)
    assert 'not compatible' in info.value.msg and 'svm' in info.value.msg
    assert run.cpu_check['result'] == 'incompatible' and 'svm' in run.cpu_check['missing_features']


def test_errors_change_nothing(qemu_conn, destination):
    with guest_with_disks(qemu_conn, disks=(), start=False, kind='migerr') as (name, dom, workdir, paths):
        result = migrate(domain=name, destination=destination, mode='live')
        assert result.failed and 'not running' in result['msg']
        result = migrate(domain='sysvirt-test-nosuchguest', destination=destination)
        assert result.failed and 'neither on the source nor' in result['msg']
        result = migrate(domain=name, destination='qemu+unix:///system?socket=/nonexistent/sock')
        assert result.failed and 'Failed to connect' in result['msg'] and result['hint']
        assert where(destination, name) is None and where(QEMU_URI, name) == ('shut off', 'yes')
