# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_domain_data.collect_domains(definition=...): domains described without their XML agree with the full
description on everything the bulk calls know, on the in-process test driver."""

from __future__ import annotations

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain_data as D

XML = """<domain type='test'><name>{name}</name><memory unit='MiB'>512</memory><currentMemory unit='MiB'>256</currentMemory>
<vcpu current='1'>3</vcpu><os><type arch='x86_64'>hvm</type></os>
<devices><interface type='network'><mac address='52:54:00:12:34:{n:02x}'/><source network='default'/></interface></devices>
</domain>"""
# What the listing and bulk statistics tell, compared between the two ways.
# (vcpus maximum: the test driver gives the current count for active guests whose XML says 3; compared for inactive
# ones, where the driver's missing vcpu statistics make summary_data ask vcpusFlags(MAXIMUM).)
SUMMARY_KEYS = ('name', 'uuid', 'id', 'state', 'state_reason', 'persistent', 'autostart', 'memory')


@pytest.fixture
def guests(test_conn):
    """test (running), sum-off (shutoff, autostart), sum-paused (paused), sum-trans (transient, running)."""
    test_conn.defineXML(XML.format(name='sum-off', n=1)).setAutostart(1)
    paused = test_conn.defineXML(XML.format(name='sum-paused', n=2))
    paused.create()
    paused.suspend()
    test_conn.createXML(XML.format(name='sum-trans', n=3), 0)
    return test_conn


def _by_name(domains):
    return dict((d['name'], d) for d in domains)


def test_no_definition_agrees_with_the_full_description(guests):
    full = _by_name(D.collect_domains(guests, address_sources=[])[0])
    summary = _by_name(D.collect_domains(guests, address_sources=[], definition='none')[0])
    assert sorted(summary) == sorted(full) == ['sum-off', 'sum-paused', 'sum-trans', 'test']
    for name, data in summary.items():
        assert data['definition'] is False
        assert dict((k, data[k]) for k in SUMMARY_KEYS) == dict((k, full[name][k]) for k in SUMMARY_KEYS), name
        assert data['vcpus']['current'] == full[name]['vcpus']['current']
        if data['state'] == 'shutoff':
            assert data['vcpus']['maximum'] == full[name]['vcpus']['maximum']
        assert data['interfaces'] == [] and data['os']['arch'] is None and data['metadata'] == {}
    assert summary['sum-off']['vcpus'] == dict(current=1, maximum=3)
    assert summary['sum-off']['memory']['maximum_bytes'] == 512 << 20


def test_running_reads_only_active_definitions(guests):
    domains = _by_name(D.collect_domains(guests, address_sources=[], definition='running')[0])
    assert domains['sum-off']['definition'] is False and domains['sum-off']['interfaces'] == []
    for name in ('test', 'sum-paused', 'sum-trans'):
        assert 'definition' not in domains[name]
        assert domains[name]['os']['type'] == 'hvm'
    assert domains['sum-trans']['interfaces'][0]['source']['network'] == 'default'


def test_no_definition_reads_no_xml(guests, monkeypatch):
    calls = []
    real = D.list_domains

    def spying(*args, **kwargs):
        entries = real(*args, **kwargs)
        for entry in entries:
            dom = entry['dom']
            entry['dom'] = _Spy(dom, calls)
        return entries
    monkeypatch.setattr(D, 'list_domains', spying)
    domains, dummy = D.collect_domains(guests, address_sources=[], definition='none')
    assert len(domains) == 4 and calls == []
    D.collect_domains(guests, address_sources=[], definition='running')
    assert len(calls) == 3  # test, sum-paused, sum-trans


class _Spy:
    def __init__(self, dom, calls):
        self._dom = dom
        self._calls = calls

    def XMLDesc(self, flags=0):
        self._calls.append(self._dom.name())
        return self._dom.XMLDesc(flags)

    def __getattr__(self, name):
        return getattr(self._dom, name)


def test_addresses_without_definition(test_conn):
    # test:///default's guest has a lease: its MAC and address come from the address call alone.
    domains, warnings = D.collect_domains(test_conn, address_sources=['lease'], definition='none')
    assert warnings == []
    iface = domains[0]['interfaces'][0]
    assert iface['mac'] and iface['addresses'] and iface['addresses'][0]['source'] == 'lease'


@pytest.mark.parametrize('filters', [dict(), dict(names=['sum-*']), dict(states=['paused']), dict(autostart=True)])
def test_all_stats_listing_agrees(guests, filters):
    # One getAllDomainStats call instead of the listing + statistics of the matches: the same domains and data.
    def strip(domains):
        for data in domains:
            data.pop('cpu_time_ns')
        return _by_name(domains)
    one = strip(D.collect_domains(guests, address_sources=[], all_stats=True, **filters)[0])
    two = strip(D.collect_domains(guests, address_sources=[], **filters)[0])
    assert one == two and one
