# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_info on the daemon's test driver (test+unix:///default), its state checked through libvirt directly."""

from __future__ import annotations

import pytest

from conftest import SHARED_TEST_URI, unique_name

XML = """<domain type='test'><name>{name}</name><title>{{{{ danger }}}}</title><memory unit='MiB'>64</memory>
<vcpu>2</vcpu><os><type>hvm</type></os><devices>
<interface type='network'><mac address='52:54:00:00:00:{mac}'/><source network='default'/></interface>
<graphics type='vnc' port='5999' autoport='no' passwd='planted-Secret-42'/></devices></domain>"""


@pytest.fixture
def guests(shared_test_conn):
    """Three prefixed domains: <base>-run (running), <base>-off (shutoff, autostart), <base>-tr (transient)."""
    base = unique_name('dinfo')
    made = []
    try:
        run = shared_test_conn.defineXML(XML.format(name=base + '-run', mac='01'))
        made.append(run)
        run.create()
        off = shared_test_conn.defineXML(XML.format(name=base + '-off', mac='02'))
        made.append(off)
        off.setAutostart(1)
        made.append(shared_test_conn.createXML(XML.format(name=base + '-tr', mac='03'), 0))
        yield base
    finally:
        for dom in made:
            try:
                if dom.isActive():
                    dom.destroy()
            except Exception:
                pass
            try:
                dom.undefine()
            except Exception:
                pass


def _names(result):
    return sorted(d['name'] for d in result['domains'])


@pytest.mark.parametrize('args,suffixes', [
    (dict(), ['-off', '-run', '-tr']),
    (dict(state=['running']), ['-run', '-tr']),
    (dict(state=['shutoff']), ['-off']),
    (dict(persistent=False), ['-tr']),
    (dict(persistent=True), ['-off', '-run']),
    (dict(autostart=True), ['-off']),
])
def test_filters(module_runner, guests, args, suffixes):
    result = module_runner('domain_info', dict(uri=SHARED_TEST_URI, name=[guests + '-*'], **args))
    assert not result.failed, result
    assert result['changed'] is False
    assert _names(result) == [guests + s for s in suffixes]


def test_exact_names_and_uuid(module_runner, guests, shared_test_conn):
    result = module_runner('domain_info', dict(uri=SHARED_TEST_URI, name=[guests + '-run', guests]))
    assert _names(result) == [guests + '-run']
    uuid = shared_test_conn.lookupByName(guests + '-off').UUIDString()
    result = module_runner('domain_info', dict(uri=SHARED_TEST_URI, uuid=[uuid.upper()]))
    assert _names(result) == [guests + '-off']


def test_data_of_a_running_domain(module_runner, guests, shared_test_conn):
    result = module_runner('domain_info', dict(uri=SHARED_TEST_URI, name=[guests + '-run']))
    (data,) = result['domains']
    dom = shared_test_conn.lookupByName(guests + '-run')
    assert data['uuid'] == dom.UUIDString() and data['id'] == dom.ID()
    assert (data['state'], data['state_reason']) == ('running', 'booted')
    assert data['persistent'] is True and data['autostart'] is False
    assert data['vcpus'] == dict(current=2, maximum=2)
    assert data['memory']['maximum_bytes'] == 64 * 1024 * 1024
    assert data['title'] == '{{ danger }}'
    assert data['interfaces'][0]['mac'] == '52:54:00:00:00:01'
    assert data['interfaces'][0]['source']['network'] == 'default'
    assert 'xml' not in data and 'stats' not in data


@pytest.mark.parametrize('check_mode', [False, True])
def test_read_only_check_mode_xml_and_stats(module_runner, guests, check_mode):
    result = module_runner('domain_info', dict(uri=SHARED_TEST_URI, readonly=True, name=[guests + '-*'],
                                               xml=True, stats=True), check_mode=check_mode)
    assert not result.failed, result
    assert len(result['domains']) == 3
    for data in result['domains']:
        assert data['xml'].lstrip().startswith("<domain type='test'")
        assert data['stats']['state.state'] in (1, 5)
    assert 'planted-Secret-42' not in str(result)


def test_inactive_xml_of_running_domain(module_runner, guests, shared_test_conn):
    dom = shared_test_conn.lookupByName(guests + '-run')
    dom.setMemoryFlags(32 * 1024, 1)  # live only: the persistent definition keeps 64 MiB
    live = module_runner('domain_info', dict(uri=SHARED_TEST_URI, name=[guests + '-run']))
    stored = module_runner('domain_info', dict(uri=SHARED_TEST_URI, name=[guests + '-run'], inactive=True))
    assert live['domains'][0]['memory']['current_bytes'] == 32 * 1024 * 1024
    assert stored['domains'][0]['memory']['current_bytes'] == 64 * 1024 * 1024


def test_bad_state_choice_fails_cleanly(module_runner):
    result = module_runner('domain_info', dict(uri=SHARED_TEST_URI, state=['on']))
    assert result.failed and 'value of state must be one or more of' in result['msg']


def test_unreachable_uri_fails_cleanly(module_runner):
    result = module_runner('domain_info', dict(uri='test+unix:///default?socket=/nonexistent/sock'))
    assert result.failed
    assert 'Traceback' not in str(result) and 'daemon' in result['hint'] and 'Hint' not in result['msg']
