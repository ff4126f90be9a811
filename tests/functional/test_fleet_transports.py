# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fleet of hypervisors over real transports (scripts/fleet.sh, the ``fleet`` fixture): each one reached over
qemu+tls:// (X.509 certificates from the test CA), qemu+ssh:// (OpenSSH, a key, the fleet's known_hosts) and
qemu+libssh:// (libssh, ?known_hosts=); modules run against each, and wrong keys, certificates and host keys fail
with a clear message."""

from __future__ import annotations

import os
import shutil

import libvirt
import pytest

from conftest import run_module, unique_name
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtConnection, LibvirtFailure

TRANSPORTS = ('tls', 'ssh', 'libssh')


def _hostname(uri):
    with LibvirtConnection(uri) as conn:
        return conn.getHostname(), conn.getURI()


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_every_hypervisor_answers_over(fleet, transport):
    """Each URI reaches its own daemon: the host names (one UTS namespace each) tell them apart."""
    seen = [_hostname(uri) for uri in fleet.uris(transport)]
    assert [pair[0] for pair in seen] == [h.name for h in fleet.hosts]
    assert [pair[1] for pair in seen] == fleet.uris(transport)


def test_each_daemon_has_its_own_state(fleet):
    """Separate daemons, not one daemon behind several addresses: each has its own host UUID."""
    uuids = set()
    for uri in fleet.uris('tls'):
        with LibvirtConnection(uri) as conn:
            uuids.add(conn.getCapabilities().split('<uuid>')[1].split('</uuid>')[0])
    assert len(uuids) == len(fleet)


def test_tls_without_the_client_certificate_fails_with_a_hint(fleet, tmp_path):
    """A pkipath with only the CA certificate: the server refuses the client, and the hint says why."""
    shutil.copy(os.path.join(fleet.pkipath, 'cacert.pem'), tmp_path / 'cacert.pem')
    uri = 'qemu+tls://%s/system?pkipath=%s' % (fleet.hosts[0].address, tmp_path)
    with pytest.raises(LibvirtFailure) as failure:
        LibvirtConnection(uri).open()
    assert 'Failed to connect to %s' % uri in failure.value.msg
    assert 'TLS' in failure.value.msg
    assert "refused this client's certificate" in failure.value.hint
    assert 'pkipath' in failure.value.hint


@pytest.mark.parametrize('username', [None, 'root'])
def test_libssh_refuses_an_unknown_host_key(fleet, tmp_path, username):
    """qemu+libssh:// checks the host key against ?known_hosts=: with a file that lacks it, no connection, and the
    file stays empty (libssh asks whether to accept the key; with a username set, the username used to be the
    answer, and libvirt took it as yes and stored the key)."""
    empty = tmp_path / 'known_hosts'
    empty.write_text('')
    host = fleet.hosts[0]
    uri = host.libssh_uri.replace(fleet.known_hosts, str(empty))
    with pytest.raises(LibvirtFailure) as failure:
        LibvirtConnection(uri, username=username).open()
    assert 'Failed to connect to' in failure.value.msg
    assert 'host key' in failure.value.msg
    assert 'never accepted' in failure.value.hint and 'ssh-keyscan' in failure.value.hint
    assert empty.read_text() == ''


def test_ssh_refuses_an_unknown_host_key(fleet, tmp_path):
    """qemu+ssh:// runs OpenSSH: with strict host key checking and a known_hosts file that lacks the key, the
    connection fails (the fleet's ssh wrapper is the ?command= that passes those options)."""
    wrapper = tmp_path / 'ssh'
    with open(fleet.ssh_command) as handle:
        wrapper.write_text(handle.read().replace(fleet.known_hosts, str(tmp_path / 'known_hosts')))
    wrapper.chmod(0o755)
    (tmp_path / 'known_hosts').write_text('')
    uri = fleet.hosts[0].ssh_uri.replace(fleet.ssh_command, str(wrapper))
    with pytest.raises(LibvirtFailure) as failure:
        LibvirtConnection(uri).open()
    assert 'Failed to connect to' in failure.value.msg
    assert 'host key verification failed' in failure.value.msg.lower()


@pytest.mark.parametrize('transport', ('tls', 'ssh'))
def test_host_facts_on_every_hypervisor(fleet, transport):
    for host in fleet.hosts:
        result = run_module('host_facts', dict(uri=host['%s_uri' % transport]))
        assert not result.failed, result
        facts = result['ansible_facts']['libvirt']
        assert facts['hostname'] == host.name
        assert facts['uri'] == host['%s_uri' % transport]


@pytest.mark.parametrize('transport', ('tls', 'ssh'))
def test_network_defined_and_removed_on_every_hypervisor(fleet, transport):
    """An isolated network (no <forward>, no address) on each hypervisor, four runs each way, then removed; it
    exists only on the hypervisors it was made on so far (checked over TLS, one connection per hypervisor)."""
    name = unique_name('fleet-net')
    xml = '<network><name>%s</name><bridge name="svfleet0"/></network>' % name
    uris = [h['%s_uri' % transport] for h in fleet.hosts]
    checks = [libvirt.open(uri) for uri in fleet.uris('tls')]
    try:
        for index, uri in enumerate(uris):
            runs = [run_module('network', dict(uri=uri, xml=xml, state='active'), check_mode=check)
                    for check in (True, False, True, False)]
            assert [r.get('failed') for r in runs] == [None] * 4, runs
            assert [r['changed'] for r in runs] == [True, True, False, False]
            assert [name in conn.listNetworks() for conn in checks] == [i <= index for i in range(len(uris))]
        for uri in uris:
            runs = [run_module('network', dict(uri=uri, name=name, state='absent'), check_mode=check)
                    for check in (True, False, True, False)]
            assert [r['changed'] for r in runs] == [True, True, False, False], runs
        assert [name in conn.listNetworks() + conn.listDefinedNetworks() for conn in checks] == [False] * len(uris)
    finally:
        for conn in checks:
            conn.close()
        fleet.remove_network(name)


def test_a_fleet_cpu_baseline_from_every_hypervisors_facts(fleet):
    """host_facts of each hypervisor (over SSH) give its host CPU; cpu_baseline of them all (over TLS, on the first
    hypervisor) is a CPU that each hypervisor, asked over TLS, runs: cpu_compare says identical or superset."""
    cpus = []
    for uri in fleet.uris('ssh'):
        facts = run_module('host_facts', dict(uri=uri, gather=[]))
        assert not facts.failed, facts
        cpus.append(facts['ansible_facts']['libvirt']['capabilities']['host']['cpu'])
    assert len(cpus) == len(fleet)
    baseline = run_module('cpu_baseline', dict(uri=fleet.hosts[0].tls_uri, cpus=cpus, hypervisor_aware=False,
                                               migratable=True))
    assert not baseline.failed, baseline
    assert baseline['cpu']['model'] == cpus[0]['model']
    for uri in fleet.uris('tls'):
        back = run_module('cpu_compare', dict(uri=uri, xml=baseline['xml'], hypervisor_aware=False))
        assert not back.failed, back
        assert back['against'] == 'host'
        assert back['result'] in ('identical', 'superset'), (uri, back)
