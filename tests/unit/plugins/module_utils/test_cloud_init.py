# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_cloud_init: the seed's files, their hash, the record in <metadata>, when to upload, the ISO build."""

from __future__ import annotations

import json
import os
import subprocess
from unittest import mock

import libvirt
import pytest
from lxml import etree

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _cloud_init as ci
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure


def run(argv, environ_update=None, check_rc=False):
    """AnsibleModule.run_command's part that build_iso uses."""
    assert check_rc is False
    proc = subprocess.run(argv, env=dict(os.environ, **(environ_update or {})), capture_output=True, text=True,
                          check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize('value, header, expected', [
    (None, '#cloud-config', None),
    ('#!/bin/sh\necho hi\n', '#cloud-config', '#!/bin/sh\necho hi\n'),
    ({'b': 1, 'a': [True]}, '#cloud-config', '#cloud-config\n{\n  "a": [\n    true\n  ],\n  "b": 1\n}\n'),
    ({'b': 1, 'a': 'é'}, None, '{\n  "a": "\\u00e9",\n  "b": 1\n}\n'),
    ({}, None, '{}\n'),
])
def test_render_document(value, header, expected):
    assert ci.render_document(value, header) == expected


def test_render_document_refuses_other_types():
    with pytest.raises(LibvirtFailure, match='must be a string or a dict, not list'):
        ci.render_document(['x'])


def test_seed_files_defaults():
    files = ci.seed_files({}, 'g1')
    assert files == {'meta-data': '{\n  "instance-id": "g1",\n  "local-hostname": "g1"\n}\n',
                     'user-data': '#cloud-config\n'}


def test_seed_files_all_options():
    files = ci.seed_files(dict(user_data={'packages': ['htop']}, instance_id='i-2', hostname='web',
                               meta_data={'local-hostname': 'over', 'x': 1}, network_config={'version': 2},
                               vendor_data={'runcmd': ['true']}), 'g1')
    assert sorted(files) == ['meta-data', 'network-config', 'user-data', 'vendor-data']
    assert json.loads(files['meta-data']) == {'instance-id': 'i-2', 'local-hostname': 'over', 'x': 1}
    assert files['user-data'].startswith('#cloud-config\n{')
    assert json.loads(files['user-data'].split('\n', 1)[1]) == {'packages': ['htop']}
    assert files['network-config'] == '{\n  "version": 2\n}\n'
    assert files['vendor-data'].startswith('#cloud-config\n{') and 'runcmd' in files['vendor-data']


def test_seed_files_hostname_only():
    assert json.loads(ci.seed_files(dict(hostname='web'), 'g1')['meta-data']) == {
        'instance-id': 'g1', 'local-hostname': 'web'}


def test_seed_files_text_meta_data():
    files = ci.seed_files(dict(meta_data='instance-id: x\n', user_data='#cloud-config\n{}\n',
                               network_config='version: 2\n'), 'g1')
    assert files == {'meta-data': 'instance-id: x\n', 'user-data': '#cloud-config\n{}\n',
                     'network-config': 'version: 2\n'}


@pytest.mark.parametrize('option', ['instance_id', 'hostname'])
def test_seed_files_text_meta_data_with_identity_fails(option):
    with pytest.raises(LibvirtFailure, match='instance_id and hostname go into meta_data'):
        ci.seed_files({'meta_data': 'instance-id: x\n', option: 'y'}, 'g1')


def test_content_hash_is_of_the_files_and_version():
    files = {'meta-data': 'a', 'user-data': 'b'}
    expected = __import__('hashlib').sha256(
        json.dumps({'files': files, 'version': 1}, sort_keys=True).encode()).hexdigest()
    assert ci.content_hash(files) == expected
    assert ci.content_hash(dict(reversed(list(files.items())))) == expected
    assert ci.content_hash({'meta-data': 'a', 'user-data': 'c'}) != expected
    with mock.patch.object(ci, 'FORMAT_VERSION', 2):
        assert ci.content_hash(files) != expected


def test_record_round_trip():
    root = etree.Element('domain')
    etree.SubElement(root, 'metadata').append(ci.record_element('ab' * 32, 'p', 'v.iso'))
    text = etree.tostring(root).decode()
    assert 'xmlns:sysvirt-seed="%s"' % ci.NAMESPACE in text
    assert ci.stored_record(etree.fromstring(text)) == dict(sha256='ab' * 32, pool='p', volume='v.iso')


@pytest.mark.parametrize('xml', [None, '<domain/>', '<domain><metadata/></domain>',
                                 '<domain><metadata><seed xmlns="urn:other" sha256="x"/></metadata></domain>'])
def test_no_record(xml):
    assert ci.stored_record(etree.fromstring(xml) if xml else None) is None


RECORD = dict(sha256='h', pool='p', volume='v')


@pytest.mark.parametrize('record, sha256, pool, volume, exists, expected', [
    (RECORD, 'h', 'p', 'v', True, False),
    (RECORD, 'h', 'p', 'v', False, True),
    (None, 'h', 'p', 'v', True, True),
    (RECORD, 'other', 'p', 'v', True, True),
    (RECORD, 'h', 'other', 'v', True, True),
    (RECORD, 'h', 'p', 'other', True, True),
])
def test_needs_upload(record, sha256, pool, volume, exists, expected):
    assert ci.needs_upload(record, sha256, pool, volume, exists) is expected


@pytest.mark.parametrize('disks, expected', [
    (None, 'default'),
    ([dict(path='/x')], 'default'),
    ([dict(path='/x', pool=None), dict(pool='p2', volume='a'), dict(pool='p3', volume='b')], 'p2'),
])
def test_default_pool(disks, expected):
    assert ci.default_pool(dict(disks=disks)) == expected


def test_xorriso_command():
    assert ci.xorriso_command('/d', '/d/seed.iso', ['meta-data', 'user-data']) == [
        'xorriso', '-as', 'mkisofs', '-quiet', '-output', '/d/seed.iso', '-volid', 'cidata', '-joliet',
        '-rational-rock', '--set_all_file_dates', '=1', '/d/meta-data', '/d/user-data']


def test_build_iso_is_deterministic(tmp_path):
    files = {'meta-data': 'instance-id: a\n', 'user-data': '#cloud-config\n'}
    first, second = tmp_path / 'one', tmp_path / 'two'
    first.mkdir()
    second.mkdir()
    one = ci.build_iso(files, str(first), run)
    assert one == str(first / 'seed.iso')
    assert oct(os.stat(first / 'user-data').st_mode & 0o777) == '0o600'
    assert (first / 'meta-data').read_text() == 'instance-id: a\n'
    with open(one, 'rb') as handle:
        handle.seek(32768 + 40)
        assert handle.read(6) == b'cidata'
    two = ci.build_iso(files, str(second), run)
    with open(one, 'rb') as a, open(two, 'rb') as b:
        assert a.read() == b.read()


def test_build_iso_without_xorriso(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))
    with pytest.raises(LibvirtFailure, match='xorriso is not installed') as info:
        ci.build_iso({'user-data': ''}, str(tmp_path), run)
    assert 'apt-get install xorriso' in info.value.hint
    assert not (tmp_path / 'user-data').exists()


def test_build_iso_xorriso_fails(tmp_path, monkeypatch):
    fake = tmp_path / 'bin'
    fake.mkdir()
    (fake / 'xorriso').write_text('#!/bin/sh\necho broken >&2\nexit 3\n')
    (fake / 'xorriso').chmod(0o755)
    monkeypatch.setenv('PATH', str(fake))
    work = tmp_path / 'work'
    work.mkdir()
    with pytest.raises(LibvirtFailure, match=r'xorriso failed to build the seed ISO \(exit 3\): broken'):
        ci.build_iso({'user-data': ''}, str(work), run)


def test_volume_xml():
    root = etree.fromstring(ci._volume_xml('s.iso', 1234))
    assert root.findtext('name') == 's.iso' and root.findtext('capacity') == '1234'
    assert root.find('capacity').get('unit') == 'bytes' and root.findtext('allocation') == '0'
    assert root.find('target/format').get('type') == 'raw'


def _pool_with(vol):
    pool = mock.Mock()
    pool.storageVolLookupByName.side_effect = (lambda name: vol) if vol else libvirt.libvirtError('x')
    return pool


@pytest.mark.parametrize('capacity, resize', [(100, None), (50, 0), (400, libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK)])
def test_write_volume_resizes_an_existing_volume(tmp_path, capacity, resize):
    iso = tmp_path / 'seed.iso'
    iso.write_bytes(b'x' * 100)
    vol = mock.Mock()
    vol.info.return_value = [0, capacity, 0]
    pool = _pool_with(vol)
    with mock.patch('ansible_collections.sysvirt.libvirt.plugins.module_utils._stream.upload') as upload:
        assert ci.write_volume('conn', pool, 's.iso', str(iso)) is vol
    upload.assert_called_once_with('conn', vol, str(iso))
    if resize is None:
        vol.resize.assert_not_called()
    else:
        vol.resize.assert_called_once_with(100, resize)
    pool.createXML.assert_not_called()
    pool.refresh.assert_called_once_with(0)


def test_write_volume_creates_a_missing_volume(tmp_path):
    iso = tmp_path / 'seed.iso'
    iso.write_bytes(b'x' * 10)
    pool = mock.Mock()
    pool.storageVolLookupByName.side_effect = libvirt.libvirtError('no')
    with mock.patch.object(ci, 'lookup', return_value=None), \
            mock.patch('ansible_collections.sysvirt.libvirt.plugins.module_utils._stream.upload') as upload:
        vol = ci.write_volume('conn', pool, 's.iso', str(iso))
    assert vol is pool.createXML.return_value
    assert etree.fromstring(pool.createXML.call_args[0][0]).findtext('capacity') == '10'
    upload.assert_called_once_with('conn', vol, str(iso))


def test_seed_upload_action_and_missing_pool():
    conn = mock.Mock()
    step = ci.SeedUpload(conn, {}, 'p', 'v.iso', run)
    assert step.action == 'write cloud-init seed volume v.iso in pool p'
    with mock.patch.object(ci, 'lookup', return_value=None):
        with pytest.raises(LibvirtFailure, match='storage pool p does not exist'):
            step.create()


def test_seed_upload_builds_writes_and_cleans_up(tmp_path):
    conn = mock.Mock()
    made = []

    def fake_write(c, pool, name, path):
        made.append((c, pool, name, os.path.basename(path), open(path, 'rb').read(6)))
        return 'vol'

    with mock.patch.object(ci, 'lookup', return_value='pool'), mock.patch.object(ci, 'write_volume', fake_write), \
            mock.patch.object(ci.tempfile, 'mkdtemp', return_value=str(tmp_path / 'w')):
        (tmp_path / 'w').mkdir()
        assert ci.SeedUpload(conn, {'user-data': '#cloud-config\n'}, 'p', 'v.iso', run).create() == 'vol'
    assert made == [(conn, 'pool', 'v.iso', 'seed.iso', bytes(6))]
    assert not (tmp_path / 'w').exists()


def test_plan_on_the_test_driver(test_conn):
    """The test driver's pool default-pool; no domain yet: the seed is to be written."""
    warnings = []
    spec = dict(cloud_init=dict(user_data='#cloud-config\n'), disks=[dict(pool='default-pool', volume='d')])
    disk, record, steps = ci.plan(test_conn, spec, 'new1', False, warnings, run)
    assert disk == dict(device='cdrom', pool='default-pool', volume='new1-seed.iso', format='raw', bus=None)
    assert record.get('sha256') == ci.content_hash(ci.seed_files(spec['cloud_init'], 'new1'))
    assert [s.action for s in steps] == ['write cloud-init seed volume new1-seed.iso in pool default-pool']
    assert warnings == []


def test_plan_recorded_and_present_means_nothing_to_do(test_conn):
    spec = dict(cloud_init=dict(pool='default-pool', volume='seed.iso', bus='sata'))
    pool = test_conn.storagePoolLookupByName('default-pool')
    pool.createXML(ci._volume_xml('seed.iso', 2048), 0)
    dom = test_conn.lookupByName('test')
    root = etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode())
    sha256 = ci.content_hash(ci.seed_files(spec['cloud_init'], 'test'))
    metadata = root.find('metadata')
    if metadata is None:
        metadata = etree.SubElement(root, 'metadata')
    metadata.append(ci.record_element(sha256, 'default-pool', 'seed.iso'))
    test_conn.defineXML(etree.tostring(root).decode())
    disk, record, steps = ci.plan(test_conn, spec, 'test', False, [], run)
    assert steps == [] and disk['bus'] == 'sata' and disk['volume'] == 'seed.iso'
    assert ci.seed_volume(test_conn, etree.fromstring(
        test_conn.lookupByName('test').XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode())).name() == 'seed.iso'
    changed = dict(cloud_init=dict(spec['cloud_init'], hostname='other'))
    assert len(ci.plan(test_conn, changed, 'test', False, [], run)[2]) == 1


def test_plan_missing_pool(test_conn):
    spec = dict(cloud_init=dict(pool='nope'))
    with pytest.raises(LibvirtFailure, match='storage pool nope does not exist') as info:
        ci.plan(test_conn, spec, 'g', False, [], run)
    assert 'cloud_init.pool' in info.value.hint
    warnings = []
    _disk, _record, steps = ci.plan(test_conn, spec, 'g', True, warnings, run)
    assert len(steps) == 1 and 'check mode predicts' in warnings[0]


def test_seed_volume_without_record_or_pool(test_conn):
    assert ci.seed_volume(test_conn, etree.fromstring('<domain/>')) is None
    root = etree.fromstring('<domain><metadata/></domain>')
    root.find('metadata').append(ci.record_element('h', 'nope', 'v'))
    assert ci.seed_volume(test_conn, root) is None
    root.find('metadata')[0].set('pool', '')
    assert ci.seed_volume(test_conn, root) is None


def test_messages_word_for_word(tmp_path, monkeypatch, test_conn):
    monkeypatch.setenv('PATH', str(tmp_path))
    with pytest.raises(LibvirtFailure) as info:
        ci.build_iso({}, str(tmp_path), run)
    assert (info.value.msg, info.value.hint) == (
        'cloud_init: xorriso is not installed on the host that runs the module; it builds the NoCloud seed ISO',
        'Install xorriso there (apt-get install xorriso, dnf install xorriso), for example with '
        'ansible.builtin.package before this task')
    with pytest.raises(LibvirtFailure) as info:
        ci.plan(test_conn, dict(cloud_init={}), 'g', False, [], run)
    assert (info.value.msg, info.value.hint) == (
        'cloud_init: storage pool default does not exist',
        'Create it first (sysvirt.libvirt.storage_pool), or set cloud_init.pool')
    warnings = []
    ci.plan(test_conn, dict(cloud_init={}), 'g', True, warnings, run)
    assert warnings == ['cloud_init: storage pool default does not exist; check mode predicts this task as if an '
                        'earlier task of the play had created it']
    with pytest.raises(LibvirtFailure) as info:
        ci.render_document(1)
    assert info.value.msg == 'cloud_init: a document must be a string or a dict, not int'
    with pytest.raises(LibvirtFailure) as info:
        ci.seed_files(dict(meta_data='', hostname='h'), 'g')
    assert info.value.msg == ('cloud_init: instance_id and hostname go into meta_data; with meta_data given as text, '
                              'write them in it')


def test_build_iso_runs_xorriso_with_fixed_dates(tmp_path):
    runner = mock.Mock(return_value=(0, '', ''))
    with mock.patch.object(ci.shutil, 'which', return_value='/usr/bin/xorriso'):
        assert ci.build_iso({'user-data': 'é\n', 'meta-data': ''}, str(tmp_path), runner) == str(tmp_path / 'seed.iso')
    runner.assert_called_once_with(
        ci.xorriso_command(str(tmp_path), str(tmp_path / 'seed.iso'), ['meta-data', 'user-data']),
        environ_update=dict(SOURCE_DATE_EPOCH='1'), check_rc=False)
    assert (tmp_path / 'user-data').read_bytes() == 'é\n'.encode('utf-8')


@pytest.mark.parametrize('out, err, shown', [('x' * 600 + 'END', '', 'x' * 497 + 'END'), ('out', ' err\n', 'err')])
def test_build_iso_failure_message_keeps_the_end(tmp_path, out, err, shown):
    with mock.patch.object(ci.shutil, 'which', return_value='/usr/bin/xorriso'):
        with pytest.raises(LibvirtFailure) as info:
            ci.build_iso({}, str(tmp_path), mock.Mock(return_value=(5, out, err)))
    assert info.value.msg == 'cloud_init: xorriso failed to build the seed ISO (exit 5): ' + shown


def test_write_volume_creates_with_its_name_and_no_flags(tmp_path):
    iso = tmp_path / 'seed.iso'
    iso.write_bytes(b'x' * 10)
    pool = mock.Mock()
    with mock.patch.object(ci, 'lookup', return_value=None) as look, \
            mock.patch('ansible_collections.sysvirt.libvirt.plugins.module_utils._stream.upload'):
        ci.write_volume('conn', pool, 's.iso', str(iso))
    look.assert_called_once_with(pool.storageVolLookupByName, 's.iso')
    text, flags = pool.createXML.call_args[0]
    assert flags == 0 and etree.fromstring(text).findtext('name') == 's.iso'


def test_seed_upload_looks_up_its_pool_and_cleans_up(tmp_path):
    conn = mock.Mock()
    work = tmp_path / 'w'
    with mock.patch.object(ci, 'lookup', return_value='pool') as look, \
            mock.patch.object(ci, 'write_volume', side_effect=LibvirtFailure('boom')), \
            mock.patch.object(ci.tempfile, 'mkdtemp', side_effect=lambda prefix: work.mkdir() or str(work)) as mk:
        with pytest.raises(LibvirtFailure, match='boom'):
            ci.SeedUpload(conn, {'user-data': ''}, 'p', 'v.iso', run).create()
    look.assert_called_once_with(conn.storagePoolLookupByName, 'p')
    assert mk.call_args[1] == dict(prefix='sysvirt-seed-') and not work.exists()


def test_plan_steps_carry_the_connection_and_files(test_conn):
    spec = dict(cloud_init=dict(pool='default-pool', user_data={'a': 1}))
    _disk, _record, steps = ci.plan(test_conn, spec, 'g9', False, [], run)
    assert steps[0].run_command is run and steps[0].conn is test_conn and steps[0].files == ci.seed_files(spec['cloud_init'], 'g9')
    assert (steps[0].pool_name, steps[0].volume) == ('default-pool', 'g9-seed.iso')
    assert steps[0].pool.name() == 'default-pool'


def test_seed_upload_uses_the_pool_the_plan_read(tmp_path):
    """The pool is read once: create() writes into the plan's pool object and does not look it up again."""
    conn = mock.Mock()
    with mock.patch.object(ci, 'lookup') as look, mock.patch.object(ci, 'write_volume', return_value='vol') as write, \
            mock.patch.object(ci.tempfile, 'mkdtemp', return_value=str(tmp_path)):
        assert ci.SeedUpload(conn, {'user-data': ''}, 'p', 'v.iso', run, pool='planned').create() == 'vol'
    look.assert_not_called()
    assert write.call_args[0][:3] == (conn, 'planned', 'v.iso')


def test_plan_reads_a_transient_domains_record(test_conn):
    spec = dict(cloud_init=dict(pool='default-pool', volume='t.iso'))
    test_conn.storagePoolLookupByName('default-pool').createXML(ci._volume_xml('t.iso', 2048), 0)
    record = ci.record_element(ci.content_hash(ci.seed_files(spec['cloud_init'], 'tr1')), 'default-pool', 't.iso')
    root = etree.fromstring("<domain type='test'><name>tr1</name><memory>65536</memory><os><type>hvm</type></os>"
                            "<metadata/></domain>")
    root.find('metadata').append(record)
    test_conn.createXML(etree.tostring(root).decode(), 0)
    assert ci.plan(test_conn, spec, 'tr1', False, [], run)[2] == []
