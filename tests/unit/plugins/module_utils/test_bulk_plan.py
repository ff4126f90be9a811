# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bulk module's own code: validation of items, their order and waves, and what the task reports."""

from __future__ import annotations

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _bulk, _domain, _network, _storage
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import Outcome

KIND = {kind.name: kind for kind in _bulk.KINDS}


def items(*specs):
    """Items from (kind, params) pairs, validated as the module validates them."""
    made = []
    for kind, params in specs:
        validated, errors, _secrets = _bulk.validate(KIND[kind], params)
        assert not errors, errors
        made.append(_bulk.Item(len(made), KIND[kind], validated))
    return made


def names(all_waves):
    return [['%s:%s' % (item.kind.name, item.name) for item in wave] for wave in all_waves]


def test_each_kind_validates_against_its_modules_own_spec():
    assert KIND['domain'].options is _domain.OPTIONS and KIND['domain'].constraints is _domain.CONSTRAINTS
    assert KIND['network'].options is _network.OPTIONS and KIND['network'].constraints is _network.CONSTRAINTS
    assert KIND['storage_pool'].options is _storage.POOL_OPTIONS
    assert KIND['storage_pool'].constraints is _storage.POOL_CONSTRAINTS
    assert KIND['volume'].options is _storage.VOLUME_OPTIONS
    assert KIND['volume'].constraints is _storage.VOLUME_CONSTRAINTS
    assert [k.option for k in _bulk.KINDS] == ['networks', 'storage_pools', 'volumes', 'domains']


def test_creation_order_is_networks_and_pools_then_volumes_then_domains():
    given = items(('domain', dict(name='d1')), ('volume', dict(pool='p', name='v1')),
                  ('network', dict(name='n1')), ('domain', dict(name='d2')), ('storage_pool', dict(name='p')),
                  ('network', dict(name='n2')))
    assert names(_bulk.waves(given)) == [['network:n1', 'storage_pool:p', 'network:n2'], ['volume:v1'],
                                         ['domain:d1', 'domain:d2']]


def test_removal_runs_first_and_in_reverse():
    given = items(('network', dict(name='n-new')), ('network', dict(name='n-old', state='absent')),
                  ('storage_pool', dict(name='p-old', state='deleted')), ('domain', dict(name='d-new')),
                  ('volume', dict(pool='p-old', name='v-old', state='absent')),
                  ('domain', dict(name='d-old', state='absent')))
    assert names(_bulk.waves(given)) == [['domain:d-old'], ['volume:v-old'], ['network:n-old', 'storage_pool:p-old'],
                                         ['network:n-new'], ['domain:d-new']]


@pytest.mark.parametrize('kind, state, removal', [
    ('domain', 'absent', True), ('domain', 'destroyed', False), ('domain', 'shutdown', False),
    ('network', 'absent', True), ('network', 'inactive', False),
    ('storage_pool', 'absent', True), ('storage_pool', 'deleted', True), ('storage_pool', 'inactive', False),
    ('volume', 'absent', True), ('volume', 'present', False),
])
def test_removal_states(kind, state, removal):
    params = dict(name='x', state=state, **(dict(pool='p') if kind == 'volume' else {}))
    item = items((kind, params))[0]
    assert item.removal is removal
    assert item.stage == ((0, -KIND[kind].rank) if removal else (1, KIND[kind].rank))


def test_items_naming_one_object_run_in_later_waves_in_their_order():
    given = items(('domain', dict(name='a', xml='<domain><name>a</name></domain>')), ('domain', dict(name='b')),
                  ('domain', dict(name='a', state='running')), ('domain', dict(name='a', state='destroyed')),
                  ('domain', dict(name='c')))
    all_waves = _bulk.waves(given)
    assert names(all_waves) == [['domain:a', 'domain:b', 'domain:c'], ['domain:a'], ['domain:a']]
    assert [wave[0].params['state'] for wave in all_waves] == ['present', 'running', 'destroyed']


def test_waves_of_one_stage_come_before_the_next_stage():
    given = items(('network', dict(name='n')), ('network', dict(name='n', state='active')),
                  ('domain', dict(name='d')), ('domain', dict(name='d', state='running')))
    assert names(_bulk.waves(given)) == [['network:n'], ['network:n'], ['domain:d'], ['domain:d']]


def test_keys_tell_objects_apart():
    a, b, c, d, e = items(('volume', dict(pool='p1', name='v')), ('volume', dict(pool='p2', name='v')),
                          ('domain', dict(name='v')), ('network', dict(uuid='0f1e2d3c-0000-4000-8000-000000000001')),
                          ('network', dict(xml='<network><name>n</name></network>')))
    assert len({a.key, b.key, c.key, d.key, e.key}) == 5
    assert a.key == ('volume', 'p1', 'v') and c.key == ('domain', None, 'v')
    assert e.name == 'n' and d.name == '0f1e2d3c-0000-4000-8000-000000000001'
    nameless = items(('volume', dict(path='/a')), ('volume', dict(path='/a')))
    assert nameless[0].key == nameless[1].key == ('volume', None, '/a')


def test_an_item_without_any_name_is_its_own():
    item = _bulk.Item(3, KIND['network'], dict(state='present'))
    other = _bulk.Item(4, KIND['network'], dict(state='present'))
    assert item.name is None and item.key == ('network', None, 3) and item.key != other.key


@pytest.mark.parametrize('params, expected', [
    (dict(name='a', uuid='u', xml='<d><name>x</name></d>'), 'a'),
    (dict(uuid='u', path='/p'), 'u'),
    (dict(path='/p', key='k'), '/p'),
    (dict(key='k'), 'k'),
    (dict(xml='<domain><name>x</name></domain>'), 'x'),
    (dict(xml='<domain><name>x</name>'), None),
    (dict(xml='<domain/>'), None),
    (dict(), None),
])
def test_item_name(params, expected):
    assert _bulk.item_name(params) == expected


def test_collect_validates_every_item_and_names_the_bad_ones():
    options = dict(domains=['web01', dict(name='web02', state='running'), dict(name='x', state='flying'), 7],
                   networks=[dict(name='n', uri='qemu:///system')], volumes=[dict(capacity='1G')],
                   storage_pools=[])
    found, errors, _secrets = _bulk.collect(options, dict(domain=dict(state='destroyed')))
    assert [(i.kind.name, i.name, i.params['state']) for i in found] == [
        ('domain', 'web01', 'destroyed'), ('domain', 'web02', 'running')]
    assert [i.index for i in found] == [0, 1]
    assert len(errors) == 4, errors
    # (by kind, in the order of KINDS)
    assert errors[0].startswith('networks[0]: ') and 'uri' in errors[0]
    assert errors[1].startswith('volumes[0]: ') and 'name' in errors[1]
    assert errors[2].startswith('domains[2]: ') and 'flying' in errors[2]
    assert errors[3] == 'domains[3]: an item is a dict of options or a name, not int'


def test_collect_fills_each_modules_defaults():
    found, errors, _secrets = _bulk.collect(dict(domains=['a'], volumes=[dict(pool='p', name='v')]))
    assert not errors
    volume, domain = found
    assert domain.params['timeout'] == 120 and domain.params['persistent'] is True
    assert volume.params['state'] == 'present' and volume.params['shrink'] is False


def test_no_log_values_of_items_are_collected(monkeypatch):
    spec = dict(_domain.OPTIONS, secret=dict(type='str', no_log=True))
    monkeypatch.setattr(KIND['domain'], 'options', spec)
    _found, errors, secrets = _bulk.collect(dict(domains=[dict(name='a', secret='hunter2')]))
    assert not errors and 'hunter2' in secrets


def test_action_lines_and_failure_message():
    entries = [dict(kind='network', name='n', actions=['define', 'start'], changed=True),
               dict(kind='domain', name='a', actions=[], changed=False),
               dict(kind='domain', name='b', actions=['define'], changed=True, failed=True, msg='Failed to start'),
               dict(kind='domain', name='c', actions=[], changed=False, failed=True, msg='boom')]
    assert _bulk.action_lines(entries) == ['network n: define', 'network n: start', 'domain b: define']
    assert _bulk.failure_message(entries) == ('2 of 4 items failed (2 changed something): domain b: Failed to '
                                              'start; domain c: boom')


def test_failure_hint_gathers_the_failed_items_hints_once():
    entries = [dict(kind='network', name='n', failed=False, hint='not failed: not shown'),
               dict(kind='domain', name='a', failed=True, msg='m', hint='Use a read-write connection.'),
               dict(kind='domain', name='b', failed=True, msg='m'),
               dict(kind='domain', name='c', failed=True, msg='m', hint='Define the network first.'),
               dict(kind='domain', name='d', failed=True, msg='m', hint='Use a read-write connection.')]
    assert _bulk.failure_hint(entries) == 'Use a read-write connection.\nDefine the network first.'
    assert _bulk.failure_hint(entries[:1] + entries[2:3]) is None
    assert _bulk.failure_hint([]) is None


def test_diff_list_keeps_changed_items_with_headers():
    domain_diff = [dict(before_header='domain XML (a)', after_header='domain XML (a)', before='', after='<x/>'),
                   dict(before_header='domain state', after_header='domain state', before='s', after='t')]
    entries = [dict(kind='network', name='n', changed=True, diff=dict(before='', after='<network/>')),
               dict(kind='network', name='same', changed=False, diff=dict(before='<n/>', after='<n/>')),
               dict(kind='domain', name='a', changed=True, diff=domain_diff),
               dict(kind='volume', name='v', changed=True)]
    assert _bulk.diff_list(entries) == [
        dict(before='', after='<network/>', before_header='network n', after_header='network n')] + domain_diff


class Boom(Exception):
    pass


def test_run_waves_runs_every_wave_and_keeps_order_even_when_a_bug_raises():
    given = items(('network', dict(name='n1')), ('network', dict(name='n2')), ('domain', dict(name='d')))
    ran = []

    def run_item(conn, item, check_mode, uri):
        ran.append(item.name)
        if item.name == 'n1':
            raise Boom()
        return dict(kind=item.kind.name, name=item.name, actions=['x'], changed=True)
    entries = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_bulk, 'run_item', run_item)
        with pytest.raises(Boom):
            _bulk.run_waves(None, _bulk.waves(given), False, 4, 'test:///default', entries)
    # the wave with the bug finished; the next wave did not start
    assert sorted(ran) == ['n1', 'n2'] and [e['name'] for e in entries] == ['n2']


def test_run_waves_with_one_worker_runs_in_order():
    given = items(*[('domain', dict(name='d%d' % i)) for i in range(6)])
    ran = []

    def run_item(conn, item, check_mode, uri):
        ran.append(item.name)
        return dict(kind='domain', name=item.name)
    entries = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_bulk, 'run_item', run_item)
        _bulk.run_waves(None, _bulk.waves(given), True, 1, None, entries)
    assert ran == [e['name'] for e in entries] == ['d%d' % i for i in range(6)]


def test_needs_events():
    assert not _bulk.needs_events(items(('domain', dict(name='a')), ('network', dict(name='n', state='active'))))
    assert _bulk.needs_events(items(('domain', dict(name='a')), ('domain', dict(name='b', state='running'))))
    assert _bulk.needs_events(items(('domain', dict(name='a', restart_on_change=True))))
    assert not _bulk.needs_events([])


def test_item_module_carries_params_and_check_mode():
    module = _bulk.ItemModule(dict(a=1), True)
    assert module.params == dict(a=1) and module.check_mode is True


def test_kind_run_returns_the_module_result_shape():
    outcome = Outcome()
    outcome.act('define')
    result = _bulk._kind_run(lambda module, conn, o: dict(network=None))(None, None, outcome)
    assert result['changed'] is True and result['actions'] == ['define'] and result['network'] is None
    assert set(result) == {'changed', 'actions', 'differences', 'diff', 'warnings', 'network'}


class FakeKind:
    """A kind whose run does what the test says."""
    name = 'network'

    def __init__(self, run):
        self.run = run


def _entry(run, uri='qemu+tcp://kvm01/system'):
    item = _bulk.Item(0, KIND['network'], dict(name='n', state='present'))
    item.kind = FakeKind(run)
    return _bulk.run_item('conn', item, True, uri)


def test_run_item_success_is_the_module_result_with_kind_name_failed():
    seen = {}

    def run(module, conn, outcome):
        seen.update(params=module.params, check=module.check_mode, conn=conn)
        return dict(changed=False, actions=[], network=None)
    assert _entry(run) == dict(kind='network', name='n', changed=False, actions=[], network=None, failed=False)
    assert seen == dict(params=dict(name='n', state='present'), check=True, conn='conn')


def test_run_item_failure_after_a_change_keeps_actions_warnings_and_the_hint():
    def run(module, conn, outcome):
        outcome.act('define')
        outcome.warnings.append('careful')
        raise _bulk.LibvirtFailure('Failed to start network n', hint='look')
    assert _entry(run) == dict(kind='network', name='n', failed=True, changed=True, actions=['define'],
                               warnings=['careful'], msg='Failed to start network n', hint='look')


def test_run_item_turns_a_bare_libvirt_error_into_the_modules_failure():
    import libvirt

    def run(module, conn, outcome):
        raise libvirt.libvirtError('boom')
    entry = _entry(run)
    assert entry['failed'] is True and entry['changed'] is False and entry['actions'] == []
    assert entry['msg'].startswith('Failed to complete the libvirt call: boom')


def test_run_item_xml_errors_and_lost_connections():
    def bad_xml(module, conn, outcome):
        raise _bulk._xml.XMLInputError('network XML is not well-formed')
    entry = _entry(bad_xml)
    assert entry['msg'] == 'network XML is not well-formed' and entry['failed'] and 'error' not in entry

    def lost(module, conn, outcome):
        raise _bulk.LibvirtFailure('Failed to start network n: connection closed due to keepalive timeout')
    entry = _entry(lost, uri='qemu+tcp://kvm01/system')
    assert entry['msg'].startswith('Lost the connection to qemu+tcp://kvm01/system: Failed to start network n')


def test_run_item_bugs_are_not_swallowed():
    def run(module, conn, outcome):
        raise Boom()
    with pytest.raises(Boom):
        _entry(run)


def test_collect_goes_on_after_a_bad_item():
    found, errors, _secrets = _bulk.collect(dict(domains=[7, 'a', None, 'b']))
    assert [i.name for i in found] == ['a', 'b'] and len(errors) == 2


def test_run_waves_gives_each_item_the_uri():
    given = items(('domain', dict(name='a')), ('network', dict(name='n')))
    seen = []

    def run_item(conn, item, check_mode, uri):
        seen.append((conn, check_mode, uri))
        return dict(kind=item.kind.name, name=item.name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_bulk, 'run_item', run_item)
        _bulk.run_waves('conn', _bulk.waves(given), False, 2, 'test:///default', [])
    assert seen == [('conn', False, 'test:///default')] * 2


def test_cloud_init_user_data_of_a_domain_item_is_no_log():
    user_data = '#cloud-config\npassword: s3cret-for-test\n'
    _found, errors, secrets = _bulk.collect(dict(domains=[dict(name='a', spec=dict(
        memory='64MiB', cloud_init=dict(user_data=user_data)))]))
    assert not errors and user_data in secrets
