# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The domain module on the in-process test driver (test:///default, kept alive by the test_conn fixture).

Every behaviour runs the four-run pattern (check -> real -> check -> real) and verifies the result with
libvirt directly.
"""

from __future__ import annotations

import libvirt
import pytest

from conftest import run_module, unique_name

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml

URI = 'test:///default'


def domain_xml(name, vcpus=1, memory_mib=128, nics=1, extra=''):
    nic = "<interface type='network'><source network='default'/></interface>"
    return ("<domain type='test'><name>%s</name><memory unit='MiB'>%d</memory><vcpu>%d</vcpu>"
            "<os><type arch='i686'>hvm</type></os><devices>%s%s</devices></domain>"
            % (name, memory_mib, vcpus, nic * nics, extra))


@pytest.fixture
def name(test_conn):
    value = unique_name('dom')
    yield value
    try:
        dom = test_conn.lookupByName(value)
    except libvirt.libvirtError:
        return
    if dom.isActive():
        dom.destroy()
    if dom.isPersistent():
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)


def four_runs(args, expect_actions, changed_again=False):
    """check (changed) -> real (changed) -> check -> real (unchanged); returns the results."""
    args = dict(uri=URI, **args)
    results = []
    for check in (True, False, True, False):
        result = run_module('domain', args, check_mode=check, diff=True)
        assert not result.failed, result['msg']
        results.append(result)
    assert results[0]['changed'] is True and results[0]['actions'] == expect_actions
    assert results[1]['changed'] is True and results[1]['actions'] == expect_actions
    if not changed_again:
        assert results[2]['changed'] is False and results[2]['actions'] == []
        assert results[3]['changed'] is False and results[3]['actions'] == []
    return results


def state_of(conn, name):
    return conn.lookupByName(name).state()[0]


def test_define_is_idempotent_and_check_mode_defines_nothing(test_conn, name):
    result = run_module('domain', dict(uri=URI, xml=domain_xml(name)), check_mode=True)
    assert result['changed'] and result['actions'] == ['define'] and result['domain'] is None
    with pytest.raises(libvirt.libvirtError):
        test_conn.lookupByName(name)
    results = four_runs(dict(xml=domain_xml(name)), ['define'])
    dom = test_conn.lookupByName(name)
    assert results[1]['domain']['uuid'] == dom.UUIDString()
    assert results[3]['domain']['state'] == 'shutoff' and results[3]['domain']['persistent'] is True
    assert dom.isActive() == 0


def test_redefinition_reports_differences_and_diff_and_keeps_uuid_and_mac(test_conn, name):
    run_module('domain', dict(uri=URI, xml=domain_xml(name)))
    dom = test_conn.lookupByName(name)
    uuid = dom.UUIDString()
    mac = _xml.parse(dom.XMLDesc(0)).find('devices/interface/mac').get('address')
    results = four_runs(dict(xml=domain_xml(name, vcpus=2)), ['redefine'])
    assert [d['path'] for d in results[1]['differences']] == ['/domain/vcpu[1]']
    xml_diff = results[1]['diff'][0]
    assert "<vcpu placement='static'>1</vcpu>" in xml_diff['before']
    assert "<vcpu placement='static'>2</vcpu>" in xml_diff['after']
    dom = test_conn.lookupByName(name)
    assert dom.UUIDString() == uuid
    assert _xml.parse(dom.XMLDesc(0)).find('devices/interface/mac').get('address') == mac
    assert dom.info()[3] == 2


def test_device_left_out_is_removed(test_conn, name):
    run_module('domain', dict(uri=URI, xml=domain_xml(name, nics=2)))
    results = four_runs(dict(xml=domain_xml(name, nics=1)), ['redefine'])
    assert [d['reason'] for d in results[0]['differences']] == ['extra']
    assert len(_xml.parse(test_conn.lookupByName(name).XMLDesc(0)).findall('devices/interface')) == 1


@pytest.mark.parametrize('state,actions,libvirt_state', [
    ('running', ['define', 'start'], libvirt.VIR_DOMAIN_RUNNING),
    ('paused', ['define', 'start paused'], libvirt.VIR_DOMAIN_PAUSED),
    ('shutdown', ['define'], libvirt.VIR_DOMAIN_SHUTOFF),
])
def test_define_into_state(test_conn, name, state, actions, libvirt_state):
    # (shutdown: nothing runs yet, so defining is the only change)
    four_runs(dict(xml=domain_xml(name), state=state), actions)
    assert state_of(test_conn, name) == libvirt_state


@pytest.mark.parametrize('start,state,actions,final', [
    ('running', 'paused', ['pause'], libvirt.VIR_DOMAIN_PAUSED),
    ('paused', 'running', ['resume'], libvirt.VIR_DOMAIN_RUNNING),
    ('running', 'shutdown', ['shutdown'], libvirt.VIR_DOMAIN_SHUTOFF),
    ('paused', 'shutdown', ['resume', 'shutdown'], libvirt.VIR_DOMAIN_SHUTOFF),
    ('running', 'destroyed', ['destroy'], libvirt.VIR_DOMAIN_SHUTOFF),
    ('running', 'saved', ['managed save'], libvirt.VIR_DOMAIN_SHUTOFF),
])
def test_state_transitions(test_conn, name, start, state, actions, final):
    run_module('domain', dict(uri=URI, xml=domain_xml(name), state=start))
    results = four_runs(dict(name=name, state=state), actions)
    assert state_of(test_conn, name) == final
    if state == 'saved':
        assert test_conn.lookupByName(name).hasManagedSaveImage(0) == 1
        assert results[3]['domain']['managed_save'] is True
        back = run_module('domain', dict(uri=URI, name=name, state='running'))
        assert back['actions'] == ['start (restore the managed save)']
        assert state_of(test_conn, name) == libvirt.VIR_DOMAIN_RUNNING


def test_restarted_always_reboots(test_conn, name):
    run_module('domain', dict(uri=URI, xml=domain_xml(name), state='running'))
    for check in (True, False, True, False):
        result = run_module('domain', dict(uri=URI, name=name, state='restarted'), check_mode=check)
        assert not result.failed, result['msg']
        assert result['changed'] and result['actions'] == ['reboot']
    assert state_of(test_conn, name) == libvirt.VIR_DOMAIN_RUNNING


def test_absent_destroys_and_undefines_with_managed_save_and_snapshots(test_conn, name):
    run_module('domain', dict(uri=URI, xml=domain_xml(name), state='running'))
    dom = test_conn.lookupByName(name)
    dom.snapshotCreateXML('<domainsnapshot><name>s1</name></domainsnapshot>', 0)
    results = four_runs(dict(name=name, state='absent'), ['destroy', 'undefine'])
    assert results[1]['removed']['snapshots_metadata'] == 1
    assert results[1]['removed']['storage'] == []
    assert results[3]['domain'] is None
    with pytest.raises(libvirt.libvirtError):
        test_conn.lookupByName(name)


def test_absent_removes_only_named_storage_volumes(test_conn, name):
    pool = test_conn.storagePoolLookupByName('default-pool')
    vols = []
    for suffix in ('a', 'b'):
        vols.append(pool.createXML("<volume><name>%s-%s.img</name><capacity unit='MiB'>1</capacity></volume>"
                                   % (name, suffix), 0))
    disks = ''.join("<disk type='file' device='disk'><source file='%s'/><target dev='vd%s'/></disk>"
                    % (v.path(), t) for v, t in zip(vols, 'ab'))
    removed, kept = vols[0].path(), vols[1].path()
    try:
        run_module('domain', dict(uri=URI, xml=domain_xml(name, extra=disks)))
        results = four_runs(dict(name=name, state='absent', remove_storage=['vda']),
                            ['undefine', 'delete volume %s' % removed])
        assert results[0]['removed']['storage'] == [removed]
        assert results[1]['removed']['storage'] == [removed]
        assert [v.path() for v in pool.listAllVolumes(0) if v.name().startswith(name)] == [kept]
    finally:
        for vol in pool.listAllVolumes(0):
            if vol.name().startswith(name):
                vol.delete(0)


def test_autostart_title_description_metadata(test_conn, name):
    run_module('domain', dict(uri=URI, xml=domain_xml(name)))
    meta = [dict(namespace='https://example.com/ns/owner', key='owner', xml='<owner team="web">alice</owner>')]
    four_runs(dict(name=name, autostart=True, title='Web 01', description='first web server', metadata=meta),
              ['set title', 'set description', 'set metadata https://example.com/ns/owner', 'enable autostart'])
    dom = test_conn.lookupByName(name)
    assert dom.autostart() == 1
    assert dom.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0) == 'Web 01'
    assert 'alice' in dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, 'https://example.com/ns/owner', 0)
    # the xml option and the metadata options agree: no flip-flop
    four_runs(dict(xml=domain_xml(name, vcpus=2), title='Web 01', metadata=meta), ['redefine'])
    assert dom.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0) == 'Web 01'
    absent = [dict(namespace='https://example.com/ns/owner', state='absent')]
    four_runs(dict(name=name, metadata=absent, title=''), ['set title', 'remove metadata https://example.com/ns/owner'])
    with pytest.raises(libvirt.libvirtError):
        dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, 'https://example.com/ns/owner', 0)


def test_empty_title_and_description_in_the_document_mean_none(test_conn, name):
    # libvirt keeps no empty <title/> or <description/>: "none" is what such a document asks for, so a re-run
    # neither warns that it was not kept nor redefines, and a stored title is cleared.
    run_module('domain', dict(uri=URI, xml=domain_xml(name), title='Old title', description='old'))
    dom = test_conn.lookupByName(name)
    assert dom.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0) == 'Old title'
    xml = domain_xml(name).replace('</name>', '</name><title></title><description/>')
    results = four_runs(dict(xml=xml), ['set title', 'set description'])
    assert not any(r.get('warnings') for r in results), [r.get('warnings') for r in results]
    for mtype in (libvirt.VIR_DOMAIN_METADATA_TITLE, libvirt.VIR_DOMAIN_METADATA_DESCRIPTION):
        with pytest.raises(libvirt.libvirtError):
            dom.metadata(mtype, None, 0)


@pytest.mark.parametrize('clear', ['option', 'document'])
def test_check_mode_predicts_metadata_actions_with_a_redefinition(test_conn, name, clear):
    # A redefinition already stores the document's title and metadata: check mode must not predict a
    # 'set title' / 'set metadata' that the real run (reading the redefined domain) does not do.
    meta = [dict(namespace='https://example.com/ns/owner', key='owner', xml='<owner>alice</owner>')]
    run_module('domain', dict(uri=URI, xml=domain_xml(name), title='T', metadata=meta))
    xml = domain_xml(name, vcpus=2)
    args = dict(xml=xml, metadata=[dict(meta[0], xml='<owner>bob</owner>')])
    if clear == 'option':
        args['title'] = ''
    else:
        args['xml'] = xml.replace('</name>', '</name><title/>')
    check = run_module('domain', dict(uri=URI, **args), check_mode=True)
    real = run_module('domain', dict(uri=URI, **args))
    assert not check.failed and not real.failed, (check.get('msg'), real.get('msg'))
    assert check['actions'] == real['actions'] == ['redefine'], (check['actions'], real['actions'])
    dom = test_conn.lookupByName(name)
    with pytest.raises(libvirt.libvirtError):
        dom.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0)
    assert 'bob' in dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, 'https://example.com/ns/owner', 0)


def test_running_domain_with_changed_definition_needs_restart(test_conn, name):
    run_module('domain', dict(uri=URI, xml=domain_xml(name), state='running'))
    args = dict(uri=URI, xml=domain_xml(name, nics=2), state='running')
    predicted = run_module('domain', args, check_mode=True)
    assert predicted['actions'] == ['redefine'] and predicted['restart_needed'] is True
    result = run_module('domain', args)
    assert result['actions'] == ['redefine'] and result['restart_needed'] is True
    assert [d['path'] for d in result['restart_differences']] == ['/domain/devices[1]/interface[2]']
    again = run_module('domain', args)
    assert again['changed'] is False and again['restart_needed'] is True
    applied = run_module('domain', dict(args, restart_on_change=True))
    assert applied['actions'] == ['shutdown', 'start'] and applied['restart_needed'] is False
    assert len(_xml.parse(test_conn.lookupByName(name).XMLDesc(0)).findall('devices/interface')) == 2
    final = run_module('domain', dict(args, restart_on_change=True))
    assert final['changed'] is False and final['restart_needed'] is False


def test_live_changes_apply_vcpus_live(test_conn, name):
    run_module('domain', dict(uri=URI, xml=domain_xml(name, vcpus=2).replace('<vcpu>2</vcpu>',
                                                                             "<vcpu current='1'>2</vcpu>"),
                              state='running'))
    xml = domain_xml(name, vcpus=2)
    results = four_runs(dict(xml=xml, state='running', live_changes=True), ['redefine', 'set live vCPUs to 2'])
    assert results[3]['restart_needed'] is False
    assert test_conn.lookupByName(name).info()[3] == 2


def test_transient_domain(test_conn, name):
    results = four_runs(dict(xml=domain_xml(name), persistent=False, state='running'), ['create (transient)'])
    dom = test_conn.lookupByName(name)
    assert dom.isPersistent() == 0 and dom.isActive() == 1
    assert results[3]['domain']['persistent'] is False
    four_runs(dict(name=name, persistent=False, state='destroyed'), ['destroy'])
    with pytest.raises(libvirt.libvirtError):
        test_conn.lookupByName(name)


@pytest.mark.parametrize('args,message', [
    (dict(name='sysvirt-test-nosuch-domain'), 'does not exist; give its definition'),
    (dict(xml='<domain><name>x'), 'not well-formed'),
    (dict(xml='<network><name>x</name></network>'), 'must have a <domain> root element'),
    (dict(xml="<domain type='test'><memory>1</memory></domain>"), 'has no <name>'),
    (dict(name='a', xml="<domain type='test'><name>b</name></domain>"), 'differ'),
    (dict(xml="<domain type='test'><name>sysvirt-test-bad</name><memory>1024</memory><vcpu>1</vcpu>"
              "<os><type>nonsense</type></os></domain>"), 'Failed to define the domain'),
    (dict(name='test', to_native='qemu-argv'), 'Failed to convert domain test to the native qemu-argv format'),
])
def test_bad_input_fails_cleanly_and_changes_nothing(test_conn, args, message):
    before = sorted(d.name() for d in test_conn.listAllDomains(0))
    result = run_module('domain', dict(uri=URI, **args))
    assert result.failed
    assert message in result['msg'], result['msg']
    assert '\n' not in result['msg'] and 'Traceback' not in str(result)
    assert sorted(d.name() for d in test_conn.listAllDomains(0)) == before


def test_uuid_mismatch_fails(test_conn, name):
    run_module('domain', dict(uri=URI, xml=domain_xml(name)))
    xml = domain_xml(name).replace('</name>', '</name><uuid>11111111-2222-3333-4444-555555555555</uuid>')
    result = run_module('domain', dict(uri=URI, xml=xml))
    assert result.failed and 'exists with UUID' in result['msg']


def test_lookup_by_uuid_and_return_xml(test_conn, name):
    run_module('domain', dict(uri=URI, xml=domain_xml(name)))
    uuid = test_conn.lookupByName(name).UUIDString()
    result = run_module('domain', dict(uri=URI, uuid=uuid, return_xml=True))
    assert not result.failed and result['changed'] is False
    assert result['domain']['name'] == name and '<name>%s</name>' % name in result['domain']['xml']


def test_graphics_password_never_returned(test_conn, name):
    secret = 'planted-Secret-42'
    extra = "<graphics type='vnc' port='-1' passwd='%s'/>" % secret
    run_module('domain', dict(uri=URI, xml=domain_xml(name, extra=extra)))
    changed = run_module('domain', dict(uri=URI, xml=domain_xml(name, vcpus=2, extra=extra.replace(secret, 'other'))),
                         diff=True)
    assert not changed.failed and changed['changed']
    # the invocation echoes the module arguments (the user's own document); nothing else may hold it
    changed.pop('invocation', None)
    assert secret not in str(changed) and "'other'" not in str(changed)


def test_restore_from_a_save_file(test_conn, name, tmp_path):
    run_module('domain', dict(uri=URI, xml=domain_xml(name), state='running'))
    path = str(tmp_path / 'saved.img')
    test_conn.lookupByName(name).save(path)
    assert state_of(test_conn, name) == libvirt.VIR_DOMAIN_SHUTOFF
    # the name comes from the save file
    results = four_runs(dict(restore=path, state='running'), ['restore from %s' % path])
    assert results[3]['domain']['name'] == name
    assert state_of(test_conn, name) == libvirt.VIR_DOMAIN_RUNNING


def test_from_native_where_the_driver_cannot(test_conn):
    result = run_module('domain', dict(uri=URI, from_native=dict(format='qemu-argv', config='qemu-system-x86_64')))
    assert result.failed and result['msg'].startswith('Failed to convert the native qemu-argv configuration')
    assert result['error']['code_name'] == 'VIR_ERR_NO_SUPPORT'
