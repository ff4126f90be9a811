# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sysvirt.libvirt.bulk on the daemon's test driver (test+unix:///default, state kept between module runs).

Every behaviour with the four-run pattern (check, real, check, real), the state read back over a connection of
the test's own, and each item's entry compared with what the single module returns for the same object.
"""

from __future__ import annotations

import libvirt
import pytest

from conftest import SHARED_TEST_URI, run_module, unique_name
from utils import leftovers

URI = SHARED_TEST_URI
DOMAIN = "<domain type='test'><name>{name}</name><memory>65536</memory><os><type>hvm</type></os></domain>"
NETWORK = "<network><name>{name}</name><bridge name='{bridge}'/><ip address='198.51.100.1' prefix='24'/></network>"
POOL = "<pool type='dir'><name>{name}</name><target><path>/{name}</path></target></pool>"


def _cleanup(conn, prefix):
    for kind, name, obj in leftovers.find(conn):  # domains first, then networks and pools
        if name.startswith(prefix):
            leftovers.remove(kind, obj)


@pytest.fixture
def prefix(shared_test_conn):
    value = unique_name('bulk') + '-'
    yield value
    _cleanup(shared_test_conn, value)


def four_runs(args, actions=None):
    """check (changed) -> real (changed) -> check (unchanged) -> real (unchanged); returns the four results."""
    args = dict(args, uri=URI)
    results = [run_module('bulk', args, check_mode=check, diff=True) for check in (True, False, True, False)]
    for result in results:
        assert not result.failed, result.get('msg')
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions']
    if actions is not None:
        assert results[1]['actions'] == actions
    assert results[2]['actions'] == results[3]['actions'] == []
    return results


def lab(prefix, count, state='running'):
    """A network, a pool, ``count`` volumes in it and ``count`` domains."""
    return dict(
        networks=[dict(xml=NETWORK.format(name=prefix + 'net', bridge='svb' + prefix[-9:-1]), state='active')],
        storage_pools=[dict(xml=POOL.format(name=prefix + 'pool'), state='active')],
        volumes=[prefix + 'v%d' % i for i in range(count)],
        domains=[dict(xml=DOMAIN.format(name=prefix + 'd%d' % i)) for i in range(count)],
        defaults=dict(volume=dict(pool=prefix + 'pool', capacity='1M'), domain=dict(state=state)),
    )


def test_create_and_remove_a_lab_four_runs(shared_test_conn, prefix):
    results = four_runs(lab(prefix, 5))
    # networks and pools, then volumes, then domains
    kinds = [entry['kind'] for entry in results[1]['objects']]
    assert kinds == ['network', 'storage_pool'] + ['volume'] * 5 + ['domain'] * 5
    assert results[1]['actions'][:4] == ['network %snet: define' % prefix, 'network %snet: start' % prefix,
                                         'storage_pool %spool: define' % prefix, 'storage_pool %spool: start' % prefix]
    assert 'domain %sd4: start' % prefix in results[1]['actions']
    for i in range(5):
        assert shared_test_conn.lookupByName(prefix + 'd%d' % i).isActive()
        pool = shared_test_conn.storagePoolLookupByName(prefix + 'pool')
        assert pool.storageVolLookupByName(prefix + 'v%d' % i).info()[1] == 1024 * 1024
    assert shared_test_conn.networkLookupByName(prefix + 'net').isActive()
    # every object reported with its module's own values
    entry = results[1]['objects'][-1]
    assert entry['domain']['state'] == 'running' and entry['failed'] is False and entry['name'] == prefix + 'd4'
    # the check run's diff of a new object is the document, shown as the real run's is
    assert [d.get('before_header') for d in results[0]['diff']][:2] == [
        'network %snet' % prefix, 'storage_pool %spool' % prefix]
    # removal: domains first, then volumes, then the pool and the network
    removal = dict(lab(prefix, 5), defaults=dict(volume=dict(pool=prefix + 'pool', state='absent'),
                                                 domain=dict(state='absent')))
    removal['networks'][0]['state'] = removal['storage_pools'][0]['state'] = 'absent'
    results = four_runs(removal)
    kinds = [entry['kind'] for entry in results[1]['objects']]
    assert kinds == ['domain'] * 5 + ['volume'] * 5 + ['network', 'storage_pool']
    assert not [d for d in shared_test_conn.listAllDomains() if d.name().startswith(prefix)]
    assert not [p for p in shared_test_conn.listAllStoragePools() if p.name().startswith(prefix)]


def test_each_entry_is_what_the_single_module_returns(shared_test_conn, prefix):
    names = [prefix + 'a', prefix + 'b']
    for name in names:
        shared_test_conn.defineXML(DOMAIN.format(name=name))
    wanted = DOMAIN.format(name=names[0]).replace('65536', '131072')
    single = dict(xml=wanted, state='running')
    bulk = run_module('bulk', dict(uri=URI, domains=[single]), check_mode=True, diff=True)
    module = run_module('domain', dict(single, uri=URI), check_mode=True, diff=True)
    entry = bulk['objects'][0]
    for key in ('changed', 'actions', 'differences', 'diff', 'domain', 'restart_needed'):
        assert entry[key] == module[key], key
    assert entry['actions'] == ['redefine', 'start']
    # and for real: both runs change the same way, leaving the same definition
    bulk = run_module('bulk', dict(uri=URI, domains=[single]), diff=True)
    assert bulk['objects'][0]['actions'] == ['redefine', 'start']
    again = run_module('domain', dict(single, uri=URI), diff=True)
    assert again['changed'] is False
    network = dict(xml=NETWORK.format(name=prefix + 'n', bridge='svc' + prefix[-9:-1]))
    bulk = run_module('bulk', dict(uri=URI, networks=[network]), check_mode=True, diff=True)
    module = run_module('network', dict(network, uri=URI), check_mode=True, diff=True)
    for key in ('changed', 'actions', 'differences', 'network', 'restart_needed'):
        assert bulk['objects'][0][key] == module[key], key
    assert bulk['diff'] == [dict(module['diff'], before_header='network %sn' % prefix,
                                 after_header='network %sn' % prefix)]


def test_a_failing_item_in_the_middle(shared_test_conn, prefix):
    good = [dict(xml=DOMAIN.format(name=prefix + 'd%d' % i)) for i in range(4)]
    bad = dict(xml="<domain type='nosuchtype'><name>%sbad</name><memory>65536</memory></domain>" % prefix)
    args = dict(uri=URI, domains=good[:2] + [bad] + good[2:], defaults=dict(domain=dict(state='running')))
    for check in (True, False):
        result = run_module('bulk', args, check_mode=check)
        if check:
            # check mode cannot know that libvirt refuses the document: the item is predicted as defined
            assert not result.failed and result['changed']
            continue
        assert result.failed
        assert result['msg'].startswith('1 of 5 items failed (4 changed something): domain %sbad: Failed to '
                                        'define the domain' % prefix), result['msg']
        assert result['changed'] is True
        entries = {e['name']: e for e in result['objects']}
        assert entries[prefix + 'bad']['failed'] is True and entries[prefix + 'bad']['actions'] == []
        assert 'error' in entries[prefix + 'bad']
        assert [e['name'] for e in result['objects'] if e['changed']] == [prefix + 'd%d' % i for i in range(4)]
        assert 'domain %sd3: start' % prefix in result['actions']
    for i in range(4):
        assert shared_test_conn.lookupByName(prefix + 'd%d' % i).isActive()


def test_an_item_that_changed_then_failed_says_what_it_changed(shared_test_conn, prefix):
    # started, then a paused -> saved transition the test driver refuses
    name = prefix + 'd'
    args = dict(uri=URI, domains=[dict(xml=DOMAIN.format(name=name), state='running')])
    assert run_module('bulk', args)['changed']
    shared_test_conn.lookupByName(name).destroy()
    missing = dict(uri=URI, domains=[dict(name=name, state='running'), dict(name=prefix + 'nosuch', state='running')])
    result = run_module('bulk', missing)
    assert result.failed and result['changed'] is True
    assert result['actions'] == ['domain %s: start' % name]
    entry = result['objects'][1]
    assert entry['failed'] and entry['msg'] == 'The domain %snosuch does not exist; give its definition (xml) to ' \
                                               'create it' % prefix


def test_bad_options_fail_before_anything_changes(shared_test_conn, prefix):
    args = dict(uri=URI, domains=[dict(xml=DOMAIN.format(name=prefix + 'a')), dict(name=prefix + 'b', state='up')])
    result = run_module('bulk', args)
    assert result.failed and result['changed'] is False
    assert result['msg'].startswith('Items with options their module does not accept (nothing was changed): '
                                    'domains[1]: ')
    assert 'state' in result['msg']
    assert not [d for d in shared_test_conn.listAllDomains() if d.name().startswith(prefix)]
    result = run_module('bulk', dict(uri=URI, domains=[], workers=0))
    assert result.failed and result['msg'] == 'workers must be 1 or more, not 0'


def test_nothing_to_do():
    result = run_module('bulk', dict(uri=URI), check_mode=True, diff=True)
    assert not result.failed and result['changed'] is False and result['objects'] == [] and result['actions'] == []


def test_without_diff_mode_no_diff_and_secrets_never_shown(shared_test_conn, prefix):
    xml = DOMAIN.format(name=prefix + 's').replace(
        '</os>', "</os><devices><graphics type='vnc' passwd='hunter2secret'/></devices>")
    result = run_module('bulk', dict(uri=URI, domains=[dict(xml=xml)]))
    assert not result.failed and result['changed']
    assert 'diff' not in result and 'diff' not in result['objects'][0]
    assert 'hunter2secret' not in repr(dict(result))
    result = run_module('bulk', dict(uri=URI, domains=[dict(xml=xml.replace('65536', '131072'))]), diff=True)
    assert 'hunter2secret' not in repr(dict(result)) and result['changed']


def test_warnings_carry_the_item(prefix):
    args = dict(uri=URI, volumes=[dict(pool=prefix + 'nopool', name='v', capacity='1M')])
    result = run_module('bulk', args, check_mode=True)
    assert not result.failed
    assert result['objects'][0]['warnings'] == ['Storage pool %snopool does not exist yet; check mode predicts this '
                                                'task as if an earlier task of the play had created it' % prefix]
    assert len(result['warnings']) == 1
    # the item's own warning, prefixed with its kind and name (the warning's shape differs across ansible-core)
    text = "'volume v: Storage pool %snopool does not exist yet; check mode predicts this task as if an earlier " \
           "task of the play had created it'" % prefix
    assert text in str(result['warnings'])


def test_a_failed_task_still_gives_the_warnings_of_its_items(shared_test_conn, prefix):
    name = prefix + 'd'
    shared_test_conn.defineXML(DOMAIN.format(name=name))
    result = run_module('bulk', dict(uri=URI, domains=[dict(name=name, state='saved'),
                                                       dict(name=prefix + 'nosuch', state='running')]))
    assert result.failed and result['changed'] is False
    assert "'domain %s: Domain %s is not running, so there is nothing to save'" % (name, name) in str(
        result['warnings'])


@pytest.mark.parametrize('workers', [1, 3])
def test_the_same_object_twice_runs_in_order(shared_test_conn, prefix, workers):
    name = prefix + 'd'
    args = dict(uri=URI, workers=workers, domains=[dict(xml=DOMAIN.format(name=name)), dict(name=name, state='running'),
                                                   dict(name=name, state='paused')])
    result = run_module('bulk', args)
    assert not result.failed, result.get('msg')
    assert result['actions'] == ['domain %s: define' % name, 'domain %s: start' % name, 'domain %s: pause' % name]
    assert shared_test_conn.lookupByName(name).state()[0] == libvirt.VIR_DOMAIN_PAUSED
