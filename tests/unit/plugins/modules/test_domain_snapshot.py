# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_snapshot and domain_snapshot_info on the daemon's test driver (test+unix:///default).

Each test defines and starts its own guest (a copy of the driver's built-in one, renamed), so parallel runs
never share snapshots; the corpus test uses the built-in `test` domain, as the corpus manifest was made with it.
"""

from __future__ import annotations

import libvirt
import pytest

from conftest import SHARED_TEST_URI, corpus_manifest, corpus_params, run_module, unique_name

GUEST = """<domain type='test'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='i686'>hvm</type></os><devices><disk type='file' device='disk'>
<source file='/guest/{name}.img'/><target dev='vda' bus='virtio'/></disk></devices></domain>"""


@pytest.fixture
def guest(shared_test_conn):
    name = unique_name('snapdom')
    dom = shared_test_conn.defineXML(GUEST.format(name=name))
    dom.create()
    yield name
    try:
        dom = shared_test_conn.lookupByName(name)
    except libvirt.libvirtError:
        return
    if dom.isActive():
        dom.destroy()
    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)


def snap(guest, check=False, **args):
    return run_module('domain_snapshot', dict(args, domain=guest, uri=SHARED_TEST_URI), check_mode=check, diff=True)


def info(guest, **args):
    result = run_module('domain_snapshot_info', dict(args, domain=guest, uri=SHARED_TEST_URI), check_mode=True)
    assert not result.failed, result
    return result


def four_runs(guest, **args):
    results = [snap(guest, check=c, **args) for c in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions']
    return results


def names(shared_test_conn, guest):
    return sorted(s.getName() for s in shared_test_conn.lookupByName(guest).listAllSnapshots(0))


def test_create_is_idempotent_by_name(shared_test_conn, guest):
    results = four_runs(guest, name='one', description='first')
    assert results[1]['actions'] == ['create snapshot one']
    assert results[1]['snapshot']['name'] == 'one' and results[1]['snapshot']['current'] is True
    assert results[0]['snapshot']['description'] == results[1]['snapshot']['description'] == 'first'
    assert names(shared_test_conn, guest) == ['one']
    got = info(guest)
    assert got['current'] == 'one'
    assert got['snapshots'][0]['state'] == 'running' and got['snapshots'][0]['location'] == 'internal'


def test_description_update_keeps_current(shared_test_conn, guest):
    assert snap(guest, name='a', description='old')['changed']
    assert snap(guest, name='b')['changed']
    results = four_runs(guest, name='a', description='new')
    assert results[1]['actions'] == ['update the description of snapshot a']
    assert 'old' in results[1]['diff']['before'] and 'new' in results[1]['diff']['after']
    got = info(guest)
    assert [(s['name'], s['description'], s['current']) for s in got['snapshots']] == [
        ('a', 'new', False), ('b', None, True)]


def test_tree_parent_children(shared_test_conn, guest):
    for n in ('root', 'left'):
        assert snap(guest, name=n)['changed']
    assert snap(guest, name='root', state='reverted')['changed']
    assert snap(guest, name='right')['changed']
    got = info(guest)
    by = dict((s['name'], s) for s in got['snapshots'])
    assert by['root']['children'] == ['left', 'right'] and by['root']['parent'] is None
    assert by['left']['parent'] == by['right']['parent'] == 'root'
    assert got['current'] == 'right'
    assert got['tree'][0]['name'] == 'root'
    assert sorted(n['name'] for n in got['tree'][0]['children']) == ['left', 'right']
    only = info(guest, name='left')
    assert [s['name'] for s in only['snapshots']] == ['left'] and only['current'] == 'right'


@pytest.mark.parametrize('after,expected', [
    (None, libvirt.VIR_DOMAIN_RUNNING),
    ('paused', libvirt.VIR_DOMAIN_PAUSED),
    ('running', libvirt.VIR_DOMAIN_RUNNING),
    ('shutoff', libvirt.VIR_DOMAIN_SHUTOFF),
])
def test_revert_power_state(shared_test_conn, guest, after, expected):
    assert snap(guest, name='s1')['changed']
    assert snap(guest, name='s2')['changed']
    args = dict(state='reverted', name='s1')
    if after:
        args['after'] = after
    check = snap(guest, check=True, **args)
    assert check['changed'] and check['actions'] == snap(guest, **args)['actions']
    dom = shared_test_conn.lookupByName(guest)
    assert dom.state()[0] == expected
    assert dom.snapshotCurrent().getName() == 's1'


def test_revert_to_current(shared_test_conn, guest):
    assert snap(guest, name='s1')['changed']
    dom = shared_test_conn.lookupByName(guest)
    dom.suspend()
    result = snap(guest, state='reverted')
    assert result['changed'] and result['snapshot']['name'] == 's1'
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING


def test_revert_errors(shared_test_conn, guest):
    result = snap(guest, state='reverted')
    assert result.failed and 'no current snapshot' in result['msg']
    result = snap(guest, state='reverted', name='nope')
    assert result.failed and 'not found' in result['msg']


@pytest.mark.parametrize('options,left,action,deleted', [
    (dict(), ['child', 'grandchild'], 'delete snapshot top', ['top']),
    (dict(children=True), [], 'delete snapshot top and its descendants', ['child', 'grandchild', 'top']),
    (dict(children_only=True), ['top'], 'delete the descendants of snapshot top', ['child', 'grandchild']),
])
def test_delete(shared_test_conn, guest, options, left, action, deleted):
    for n in ('top', 'child', 'grandchild'):
        assert snap(guest, name=n)['changed']
    results = four_runs(guest, name='top', state='absent', **options)
    assert results[1]['snapshot'] is None
    assert names(shared_test_conn, guest) == sorted(left)
    assert results[0]['actions'] == [action] and results[3]['actions'] == []
    assert sorted(results[0]['deleted']) == sorted(results[1]['deleted']) == deleted
    assert results[2]['deleted'] == results[3]['deleted'] == []
    assert '<name>top</name>' in results[1]['diff']['before'] and results[3]['diff']['before'] == ''
    if options.get('children_only'):  # no descendants left: nothing to do
        assert snap(guest, name='top', state='absent', children_only=True)['changed'] is False


def test_metadata_only_unsupported_fails_cleanly(shared_test_conn, guest):
    # The test driver has no metadata-only delete (the functional tests cover it on QEMU).
    assert snap(guest, name='top')['changed']
    result = snap(guest, name='top', state='absent', metadata_only=True)
    assert result.failed and result['msg'].startswith('Failed to delete snapshot top') and result['error']['code']
    assert names(shared_test_conn, guest) == ['top']


def test_retention(shared_test_conn, guest):
    dom = shared_test_conn.lookupByName(guest)
    # Creation times a second apart, oldest first, through redefine (the test driver keeps what it is given).
    for i, n in enumerate(['nightly-1', 'nightly-2', 'other', 'nightly-3']):
        dom.snapshotCreateXML("<domainsnapshot><name>%s</name><creationTime>%d</creationTime>"
                              "<state>running</state></domainsnapshot>" % (n, 1700000000 + i), 0)
    results = four_runs(guest, name='nightly-4', retention=dict(prefix='nightly-', keep=2))
    assert results[0]['deleted'] == results[1]['deleted'] == ['nightly-1', 'nightly-2']
    assert names(shared_test_conn, guest) == ['nightly-3', 'nightly-4', 'other']
    # Retention alone, with state=absent and no name.
    results = four_runs(guest, state='absent', retention=dict(prefix='nightly-', keep=1))
    assert results[1]['deleted'] == ['nightly-3']
    assert names(shared_test_conn, guest) == ['nightly-4', 'other']


@pytest.mark.parametrize('args,message', [
    (dict(name='x', xml='<domain/>'), 'root'),
    (dict(xml='<domainsnapshot/>'), 'needs a name'),
    (dict(name='x', xml='<domainsnapshot'), 'XML'),
    (dict(name='x', location='external', memory=True), 'memory_file'),
    (dict(name='x', location='external'), 'location=external takes either the disks only'),
    (dict(name='x', location='external', memory=False), 'location=external takes either the disks only'),
    (dict(name='x', quiesce=True), 'disk_only'),
])
@pytest.mark.parametrize('check', [True, False])
def test_bad_input_changes_nothing(shared_test_conn, guest, args, message, check):
    result = snap(guest, check=check, **args)
    assert result.failed and message in result['msg'], result
    assert names(shared_test_conn, guest) == []


def test_missing_domain():
    name = unique_name('nodom')
    result = snap(name, name='x')
    assert result.failed and 'does not exist' in result['msg'] and result['hint']
    # absent: nothing to do, in both modes
    for check in (True, False):
        result = snap(name, check=check, name='x', state='absent')
        assert not result.failed and result['changed'] is False and result['actions'] == [], result
        assert result['snapshot'] is None and result['deleted'] == [] and result['domain'] == name
    # check mode predicts the creation, as if an earlier task created the guest
    result = snap(name, check=True, name='x', description='d')
    assert not result.failed and result['changed'] is True and result['actions'] == ['create snapshot x'], result
    assert result['snapshot']['name'] == 'x' and result['snapshot']['description'] == 'd'
    assert result['domain'] == name and result['current'] is None
    assert ('Domain %s does not exist yet' % name) in str(result['warnings']), result['warnings']
    assert '<name>x</name>' in result['diff']['after']
    # check mode still refuses bad input; with no snapshot asked for (retention alone) there is nothing to predict
    result = snap(name, check=True, name='x', location='external')
    assert result.failed and 'location=external' in result['msg']
    result = snap(name, check=True, retention=dict(prefix='x', keep=1))
    assert result.failed and 'does not exist' in result['msg'], result


def test_info_changes_nothing_and_chooses(shared_test_conn, guest):
    for n in ('a-1', 'a-2', 'b-1'):
        assert snap(guest, name=n)['changed']
    got = info(guest, prefix='a-')
    assert got['changed'] is False and got['domain'] == guest
    assert [s['name'] for s in got['snapshots']] == ['a-1', 'a-2'] and got['current'] == 'b-1'
    assert [s['name'] for s in info(guest, name='b-1', prefix='b')['snapshots']] == ['b-1']
    assert info(guest, name='b-1', prefix='a')['snapshots'] == []
    assert len(info(guest)['snapshots']) == 3


def _corpus_rows():
    return [r for r in corpus_manifest() if r['kind'] == 'snapshot']


@pytest.mark.parametrize('row', corpus_params(_corpus_rows()),
                         ids=lambda r: ('invalid/' if r['invalid'] else '') + r['file'])
def test_corpus_on_builtin_test_domain(corpus, shared_test_conn, row):
    """Each accepted document: created through the module, second run unchanged, check mode predicts."""
    with open(row['path'], encoding='utf-8') as handle:
        text = handle.read()
    name = unique_name('snap')
    dom = shared_test_conn.lookupByName('test')
    before = set(s.getName() for s in dom.listAllSnapshots(0))
    try:
        args = dict(domain='test', uri=SHARED_TEST_URI, name=name, xml=text)
        if row['accepted_test_driver'] == 'yes':
            results = [run_module('domain_snapshot', args, check_mode=c) for c in (True, False, True, False)]
            assert [r.get('changed') for r in results] == [True, True, False, False], results
            assert dom.snapshotLookupByName(name).getName() == name
        else:
            result = run_module('domain_snapshot', args)
            assert result.failed and result['msg'].startswith('Failed to create snapshot'), result
            assert set(s.getName() for s in dom.listAllSnapshots(0)) == before
    finally:
        for s in dom.listAllSnapshots(0):
            if s.getName() == name:
                s.delete(0)
