# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_migrate between two hypervisors of the test fleet (scripts/fleet.sh), each in its own network namespace:
the hosts reach each other through the fleet's switch namespace, never through this machine's root namespace.

The guest is the busybox test guest (TCG) with the fleet's baseline CPU: cpu_baseline over the host-model CPUs that
host_facts reports for TCG guests on each hypervisor. It moves live
- over native TLS migration (tls: true, VIR_MIGRATE_TLS; QEMU's certificates are in each host's
  migrate_tls_x509_cert_dir), peer to peer over the qemu+tls:// connection; without the destination's certificate
  the same migration fails and the guest stays, which shows the option reaches QEMU;
- peer to peer, tunnelled through a qemu+ssh:// connection that the source daemon opens to the destination.
Four runs each (check, real, check, real), the result read back over libvirt, the guest still up (one boot marker
on its console)."""

from __future__ import annotations

import os
import time

import libvirt
import pytest
from lxml import etree

from conftest import run_module, unique_name
from utils.guest import MARKER_UP, tiny_guest_xml

TCG = dict(virt_type='qemu', arch='x86_64', machine='pc')


@pytest.fixture(scope='module')
def baseline(fleet):
    """The baseline CPU (XML) of the fleet's TCG host-model CPUs, from host_facts of every hypervisor."""
    cpus = []
    for host in fleet.hosts:
        facts = run_module('host_facts', dict(uri=host.tls_uri, gather=[], domain_capabilities=[TCG]))
        assert not facts.failed, facts
        cpus.append(facts['ansible_facts']['libvirt']['domain_capabilities'][0]['cpu']['mode_details']['host-model'])
    result = run_module('cpu_baseline', dict(uri=fleet.hosts[0].tls_uri, cpus=cpus, migratable=True, hypervisor=TCG))
    assert not result.failed and result['cpu']['model'], result
    return result['xml']


def where(host, name):
    """(state, persistent, CPU model) of guest ``name`` on ``host``, or None."""
    conn = libvirt.open(host.tls_uri)
    try:
        dom = conn.lookupByName(name)
        model = etree.fromstring(dom.XMLDesc(0).encode()).findtext('cpu/model')
        return dom.state()[0], bool(dom.isPersistent()), model
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN, e
        return None
    finally:
        conn.close()


def remove(fleet, name):
    for host in fleet.hosts:
        conn = libvirt.open(host.tls_uri)
        try:
            dom = conn.lookupByName(name)
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        except libvirt.libvirtError:
            pass
        finally:
            conn.close()


@pytest.fixture
def guest(fleet, baseline):
    """A running guest with the baseline CPU on the fleet's first hypervisor: (name, serial log, CPU model)."""
    name = unique_name('fleetmig')
    log = os.path.join(fleet.dir, '%s.log' % name)
    xml = tiny_guest_xml(name, memory_mib=160, serial_log=log, kernel=os.path.join(fleet.guest_dir, 'vmlinuz'),
                         initrd=os.path.join(fleet.guest_dir, 'initrd.img'))
    xml = xml.replace('  <devices>', baseline + '  <devices>', 1)
    # Both hosts' QEMU write the console to the same file: appended to (the destination's QEMU does not truncate
    # what the source's wrote) and never relabelled (the source holds it while the destination would relabel it).
    source = '<source path="%s"/>' % log
    assert source in xml, xml
    xml = xml.replace(source, "<source path='%s' append='on'><seclabel model='dac' relabel='no'/></source>" % log)
    try:
        result = run_module('domain', dict(uri=fleet.hosts[0].tls_uri, xml=xml, state='running'))
        assert not result.failed, result
        deadline = time.monotonic() + 120
        while not (os.path.exists(log) and MARKER_UP in open(log, errors='replace').read()):
            assert time.monotonic() < deadline, 'no %s on the console of %s within 120 s' % (MARKER_UP, name)
            time.sleep(0.5)
        yield name, log, etree.fromstring(baseline.encode()).findtext('model')
    finally:
        remove(fleet, name)
        if os.path.exists(log):
            os.unlink(log)


def four_runs(source, **args):
    results = [run_module('domain_migrate', dict(args, uri=source.tls_uri, undefine_source=True), check_mode=check)
               for check in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False], results
    assert results[1]['location'] == 'destination' and results[1]['job']['live'] is True, results[1]
    return results


def assert_moved(fleet, source, destination, guest):
    name, log, model = guest
    assert where(source, name) is None
    assert where(destination, name) == (libvirt.VIR_DOMAIN_RUNNING, True, model)
    with open(log, errors='replace') as handle:
        assert handle.read().count(MARKER_UP) == 1, 'the guest booted again: it was not migrated live'


def test_live_migration_over_native_tls(fleet, guest):
    source, destination = fleet.hosts[0], fleet.hosts[1]
    four_runs(source, domain=guest[0], destination=destination.tls_uri, tls=True)
    assert_moved(fleet, source, destination, guest)


def test_tls_migration_needs_the_destinations_certificate(fleet, guest):
    source, destination = fleet.hosts[0], fleet.hosts[1]
    cert = os.path.join(fleet.dir, 'hv%d' % destination.index, 'qemu-pki', 'server-cert.pem')
    os.rename(cert, cert + '.away')
    try:
        result = run_module('domain_migrate', dict(uri=source.tls_uri, domain=guest[0], destination=destination.tls_uri,
                                                   tls=True))
    finally:
        os.rename(cert + '.away', cert)
    assert result.failed and 'server-cert.pem' in result['msg'], result
    assert where(source, guest[0])[0] == libvirt.VIR_DOMAIN_RUNNING
    assert where(destination, guest[0]) is None


def test_peer_to_peer_tunnelled_over_ssh(fleet, guest):
    source, destination = fleet.hosts[0], fleet.hosts[2 % len(fleet)]
    results = four_runs(source, domain=guest[0], destination=destination.ssh_uri, tunnelled=True)
    assert results[1]['destination'].startswith('qemu+ssh://')
    assert_moved(fleet, source, destination, guest)
