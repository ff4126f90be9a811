# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of domain_backup and domain_checkpoint: which disks, the backup and checkpoint documents, the
retention rule, the manifest, the export description, the parent chain (applied on qemu:///system in
tests/functional/test_backup_qemu.py and test_checkpoint_qemu.py)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _backup, _checkpoint, _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure

DOMAIN = """<domain type='kvm'><name>g</name><devices>
  <disk type='file' device='disk'><source file='/i/a.qcow2'/><target dev='vda' bus='virtio'/></disk>
  <disk type='file' device='disk'><source file='/i/none.img'/></disk>
  <disk type='file' device='disk'><source file='/i/b.qcow2'/><target dev='vdb' bus='virtio'/></disk>
  <disk type='file' device='disk'><source file='/i/ro.img'/><target dev='vdc' bus='virtio'/><readonly/></disk>
  <disk type='file' device='cdrom'><target dev='sda' bus='sata'/></disk>
  <disk type='file' device='floppy'><source file='/i/f.img'/><target dev='fda'/></disk>
</devices></domain>"""


def names(disks):
    return [(d['name'], d['backup']) for d in disks]


def test_every_writable_disk_by_default():
    assert names(_backup.backup_disks(DOMAIN, [])) == [
        ('vda', True), ('vdb', True), ('vdc', False), ('sda', False), ('fda', False)]


def test_listed_disks_only_with_their_options():
    disks = _backup.backup_disks(DOMAIN, [dict(name='vdb', file='/b/x.qcow2', format='raw', scratch='/s'),
                                          dict(name='vda', backup=False)])
    assert names(disks) == [('vda', False), ('vdb', True), ('vdc', False), ('sda', False), ('fda', False)]
    assert disks[1]['file'] == '/b/x.qcow2' and disks[1]['format'] == 'raw' and disks[1]['scratch'] == '/s'
    assert disks[0]['file'] is None and disks[2]['format'] is None


def test_a_listed_readonly_disk_is_backed_up_when_asked():
    assert names(_backup.backup_disks(DOMAIN, [dict(name='vdc')]))[2] == ('vdc', True)


@pytest.mark.parametrize('wanted, message', [
    ([dict(name='vdz'), dict(name='vdy')], 'The guest has no disk vdy, vdz'),
    ([dict(name='vda', backup=False)], 'No disk of the guest is chosen for the backup'),
])
def test_disk_choice_errors(wanted, message):
    with pytest.raises(LibvirtFailure) as err:
        _backup.backup_disks(DOMAIN, wanted)
    assert err.value.msg == message
    if 'has no disk' in message:
        assert err.value.hint == ('Name disks by their target (vda, sdb, ...) as sysvirt.libvirt.domain_info '
                                  'shows.')


DISKS = [dict(name='vda', backup=True, file='/b/vda.qcow2', format='qcow2', scratch='/s/vda'),
         dict(name='vdb', backup=False, file=None, format=None, scratch=None)]


def test_push_document():
    assert _xml.to_string(_backup.push_xml(DISKS, 'c1'), pretty=False) == (
        "<domainbackup mode=\"push\"><incremental>c1</incremental><disks>"
        "<disk name=\"vda\" backup=\"yes\" type=\"file\"><target file=\"/b/vda.qcow2\"/><driver type=\"qcow2\"/></disk>"
        "<disk name=\"vdb\" backup=\"no\"/></disks></domainbackup>")
    assert _backup.push_xml(DISKS).find('incremental') is None


def test_pull_document_socket_and_tcp():
    root = _backup.pull_xml(DISKS, dict(socket='/run/s.sock'), 'c1')
    assert root.get('mode') == 'pull' and root.findtext('incremental') == 'c1'
    assert dict(root.find('server').attrib) == dict(transport='unix', socket='/run/s.sock')
    disk = root.find('disks/disk')
    assert dict(disk.attrib) == dict(name='vda', backup='yes', type='file', exportname='vda')
    assert disk.find('scratch').get('file') == '/s/vda'
    assert root.findall('disks/disk')[1].attrib == {'name': 'vdb', 'backup': 'no'}
    tcp = _backup.pull_xml(DISKS, dict(port=10900, host=None))
    assert dict(tcp.find('server').attrib) == dict(transport='tcp', name='localhost', port='10900')
    assert _backup.pull_xml(DISKS, {}).find('server').get('port') == '10809'
    assert tcp.find('incremental') is None


def test_export_data_reads_the_job():
    root = _backup.pull_xml(DISKS, dict(socket='/run/s.sock'), 'c1')
    root.find('disks/disk').set('exportbitmap', 'backup-vda')
    assert _backup.export_data(root) == dict(
        mode='pull', incremental='c1', transport='unix', socket='/run/s.sock', host=None, port=None,
        disks=[dict(name='vda', export='vda', bitmap='backup-vda', scratch='/s/vda')])
    tcp = _backup.export_data(_backup.pull_xml(DISKS, dict(port=10900)))
    assert (tcp['transport'], tcp['host'], tcp['port'], tcp['incremental']) == ('tcp', 'localhost', 10900, None)
    push = _backup.export_data(_xml.parse('<domainbackup><disks><disk name="vda"/></disks></domainbackup>'))
    assert push == dict(mode='push', incremental=None, transport=None, socket=None, host=None, port=None,
                        disks=[dict(name='vda', export='vda', bitmap=None, scratch=None)])


def test_checkpoint_document_follows_the_disks():
    root = _backup.checkpoint_xml('c2', 'nightly', DISKS)
    assert _xml.to_string(root, pretty=False) == (
        '<domaincheckpoint><name>c2</name><description>nightly</description><disks>'
        '<disk name="vda" checkpoint="bitmap"/><disk name="vdb" checkpoint="no"/></disks></domaincheckpoint>')
    assert _backup.checkpoint_xml('c2', None, DISKS).find('description') is None


def chain(*spec):
    """Manifests oldest first from (directory, checkpoint, since)."""
    return [dict(directory=d, checkpoint=c, since=s, completed=i) for i, (d, c, s) in enumerate(spec)]


@pytest.mark.parametrize('backups, keep, kept', [
    (chain(('f1', 'c1', None), ('i1', 'c2', 'c1'), ('i2', 'c3', 'c2')), 1, ['f1', 'i1', 'i2']),
    (chain(('f1', 'c1', None), ('i1', 'c2', 'c1'), ('f2', 'c3', None), ('i3', 'c4', 'c3')), 2, ['f2', 'i3']),
    (chain(('f1', 'c1', None), ('i1', 'c2', 'c1'), ('f2', 'c3', None), ('i3', 'c4', 'c3')), 3, ['i1', 'f2', 'i3', 'f1']),
    (chain(('f1', 'c1', None), ('f2', 'c2', None), ('f3', None, None)), 2, ['f2', 'f3']),
    (chain(('f1', 'c1', None), ('f2', 'c2', None)), 0, []),
    (chain(('f1', 'c1', None), ('f2', 'c2', None)), 5, ['f1', 'f2']),
    # an incremental whose base is gone (deleted by hand) keeps only itself
    (chain(('i1', 'c2', 'c1'), ('i2', 'c3', 'c2')), 1, ['i1', 'i2']),
    (chain(('i0', 'c2', 'gone'), ('f2', 'c3', None)), 1, ['f2']),
])
def test_retention_keeps_the_newest_and_what_they_need(backups, keep, kept):
    got_kept, doomed = _backup.retained(backups, keep)
    assert sorted(b['directory'] for b in got_kept) == sorted(kept)
    assert [b['directory'] for b in doomed] == [b['directory'] for b in backups if b['directory'] not in kept]


def test_manifest_roundtrip_and_incomplete(tmp_path):
    directory = str(tmp_path)
    assert _backup.read_manifest(directory) is None
    _backup.write_manifest(directory, dict(complete=True, uuid='u', checkpoint='c1'))
    assert _backup.read_manifest(directory) == dict(complete=True, uuid='u', checkpoint='c1')
    assert os.listdir(directory) == ['backup.json']
    _backup.write_manifest(directory, dict(complete=False))
    assert _backup.read_manifest(directory) is None
    (tmp_path / 'backup.json').write_text('[1]')
    assert _backup.read_manifest(directory) is None
    (tmp_path / 'backup.json').write_text('{not json')
    assert _backup.read_manifest(directory) is None


def test_siblings_of_one_guest_oldest_first_and_removal(tmp_path):
    for name, uuid, completed in (('b', 'u1', 2), ('a', 'u1', 3), ('c', 'u2', 1), ('d', 'u1', 1)):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'vda.qcow2').write_text('x')
        _backup.write_manifest(str(tmp_path / name), dict(complete=True, uuid=uuid, completed=completed,
                                                          disks=[dict(file=str(tmp_path / name / 'vda.qcow2'))]))
    (tmp_path / 'e').mkdir()
    (tmp_path / 'f').write_text('a file')
    found = _backup.sibling_backups(str(tmp_path), 'u1')
    assert [os.path.basename(b['directory']) for b in found] == ['d', 'b', 'a']
    assert _backup.sibling_backups(str(tmp_path / 'missing'), 'u1') == []
    (tmp_path / 'a' / 'other').write_text('kept')
    _backup.remove_backup(found[2])
    assert os.listdir(str(tmp_path / 'a')) == ['other']
    _backup.remove_backup(found[1])
    assert not (tmp_path / 'b').exists()


def test_remove_backup_leaves_files_outside_its_directory(tmp_path):
    (tmp_path / 'b').mkdir()
    outside = tmp_path / 'elsewhere.qcow2'
    outside.write_text('x')
    _backup.write_manifest(str(tmp_path / 'b'), dict(complete=True, disks=[dict(file=str(outside)), dict(file=None)]))
    _backup.remove_backup(dict(directory=str(tmp_path / 'b'), disks=[dict(file=str(outside)), dict(file=None)]))
    assert outside.exists() and not (tmp_path / 'b').exists()


@pytest.mark.parametrize('stats, numbers', [
    (dict(disk_processed=5, disk_total=9, time_elapsed=12), (5, 9, 12)),
    (dict(data_processed=4, data_total=8), (4, 8, None)),
    (None, (None, None, None)),
])
def test_job_numbers(stats, numbers):
    assert _backup.job_numbers(stats) == numbers


def test_checkpoints_from_orders_and_links():
    roots = dict((name, _xml.parse(text)) for name, text in (
        ('b', '<domaincheckpoint><name>b</name><parent><name>a</name></parent><creationTime>20</creationTime>'
              '<disks><disk name="vda" checkpoint="bitmap" bitmap="b"/><disk name="vdb" checkpoint="no"/></disks>'
              '</domaincheckpoint>'),
        ('a', '<domaincheckpoint><name>a</name><description>first</description><creationTime>10</creationTime>'
              '</domaincheckpoint>'),
        ('c', '<domaincheckpoint><name>c</name><parent><name>a</name></parent><creationTime>30</creationTime>'
              '</domaincheckpoint>')))
    every = _checkpoint.checkpoints_from(roots, with_xml=True)
    assert [c['name'] for c in every] == ['a', 'b', 'c']
    assert every[0]['children'] == ['b', 'c'] and every[0]['description'] == 'first' and every[0]['parent'] is None
    assert every[1]['chain'] == ['a'] and every[1]['creation_time'] == 20
    assert every[1]['disks'] == [dict(name='vda', checkpoint='bitmap', bitmap='b'),
                                 dict(name='vdb', checkpoint='no', bitmap=None)]
    assert every[2]['xml'].startswith('<domaincheckpoint>')
    assert 'xml' not in _checkpoint.checkpoints_from(roots)[0]


@pytest.mark.parametrize('params, expected', [
    (dict(name='n', disks=[]), '<domaincheckpoint><name>n</name></domaincheckpoint>'),
    (dict(name='n', description='d', disks=[dict(name='vda', checkpoint='bitmap', bitmap='bm'),
                                            dict(name='vdb', checkpoint='no', bitmap='ignored')]),
     '<domaincheckpoint><name>n</name><description>d</description><disks>'
     '<disk name="vda" checkpoint="bitmap" bitmap="bm"/><disk name="vdb" checkpoint="no"/></disks></domaincheckpoint>'),
    (dict(name='n', disks=[dict(name='vda')]),
     '<domaincheckpoint><name>n</name><disks><disk name="vda" checkpoint="bitmap"/></disks></domaincheckpoint>'),
    (dict(name=None, xml='<domaincheckpoint><name>x</name></domaincheckpoint>', description='d'),
     '<domaincheckpoint><name>x</name><description>d</description></domaincheckpoint>'),
    (dict(name='y', xml='<domaincheckpoint><name>x</name></domaincheckpoint>'),
     '<domaincheckpoint><name>y</name></domaincheckpoint>'),
])
def test_checkpoint_desired_xml(params, expected):
    assert _xml.to_string(_checkpoint.desired_xml(params), pretty=False) == expected


def test_checkpoint_xml_needs_a_name():
    with pytest.raises(_xml.XMLInputError):
        _checkpoint.desired_xml(dict(name=None, xml='<domaincheckpoint/>'))


def test_predicted_parent():
    root = _checkpoint.desired_xml(dict(name='n', disks=[]))
    assert _checkpoint.predicted(root, 'leaf')['parent'] == 'leaf'
    given = _xml.parse('<domaincheckpoint><name>n</name><parent><name>p</name></parent></domaincheckpoint>')
    assert _checkpoint.predicted(given, 'leaf')['parent'] == 'p'


SKIPPED_FIRST = list(reversed(DISKS))


def test_documents_go_past_a_disk_left_out():
    push = _backup.push_xml(SKIPPED_FIRST)
    assert [d.get('backup') for d in push.findall('disks/disk')] == ['no', 'yes']
    pull = _backup.pull_xml(SKIPPED_FIRST, dict(port=1, host='127.0.0.1'))
    assert pull.tag == 'domainbackup' and pull.find('server').get('name') == '127.0.0.1'
    assert [d.get('backup') for d in pull.findall('disks/disk')] == ['no', 'yes']
    job = _xml.parse('<domainbackup mode="pull"><server name="h" port="3"/><disks><disk name="vdb" backup="no"/>'
                     '<disk name="vda" exportname="e" backup="yes"><scratch dev="/dev/s"/></disk></disks>'
                     '</domainbackup>')
    data = _backup.export_data(job)
    assert data['transport'] == 'tcp' and data['port'] == 3
    assert data['disks'] == [dict(name='vda', export='e', bitmap=None, scratch='/dev/s')]


def test_manifest_is_written_for_people_too(tmp_path):
    _backup.write_manifest(str(tmp_path), dict(complete=True, b=1, a=[1]))
    assert (tmp_path / 'backup.json').read_text() == '{\n  "a": [\n    1\n  ],\n  "b": 1,\n  "complete": true\n}'


def test_checkpoint_xml_must_be_a_checkpoint():
    with pytest.raises(_xml.XMLInputError):
        _checkpoint.desired_xml(dict(name='n', xml='<domainsnapshot><name>x</name></domainsnapshot>'))
    with pytest.raises(_xml.XMLInputError) as err:
        _checkpoint.desired_xml(dict(name=None, xml='<domaincheckpoint/>'))
    assert str(err.value) == 'The checkpoint needs a name: set the name option or <name> in the XML'


def test_checkpoints_oldest_first_by_creation_time_not_name():
    roots = dict((name, _xml.parse('<domaincheckpoint><name>%s</name><creationTime>%s</creationTime>'
                                   '</domaincheckpoint>' % (name, t))) for name, t in (('a', 30), ('b', 10), ('c', 20)))
    assert [c['name'] for c in _checkpoint.checkpoints_from(roots)] == ['b', 'c', 'a']


@pytest.mark.parametrize('cps, keep, needed, doomed', [
    ([], 1, None, []),
    ([('a', 1, 0), ('b', 2, 1), ('c', 3, 2)], 1, None, ['a', 'b']),
    ([('a', 1, 0), ('b', 2, 1), ('c', 3, 2)], 2, None, ['a']),
    ([('a', 1, 0), ('b', 2, 1), ('c', 3, 2)], 3, None, []),
    ([('a', 1, 0), ('b', 2, 1), ('c', 3, 2)], 5, None, []),
    ([('a', 1, 0), ('b', 2, 1), ('c', 3, 2)], 1, 'b', ['a']),
    ([('a', 1, 0), ('b', 2, 1), ('c', 3, 2)], 1, 'c', ['a', 'b']),
    # the same second: fewer ancestors is older, whatever the names say
    ([('z', 5, 0), ('y', 5, 1), ('x', 5, 2)], 1, None, ['z', 'y']),
    # creation time first, then ancestors, then the name
    ([('b', 9, 0), ('a', 4, 3)], 1, None, ['a']),
    ([('b', 4, 1), ('a', 4, 1)], 1, None, ['a']),
    ([('c', None, 0), ('d', 1, 0)], 1, None, ['c']),
])
def test_doomed_checkpoints(cps, keep, needed, doomed):
    data = [dict(name=n, creation_time=t, chain=['p'] * depth) for n, t, depth in cps]
    assert _backup.doomed_checkpoints(data, keep, needed) == doomed


def test_backup_key_and_manifest_volume_bytes():
    assert _backup.backup_key(dict(directory='/b/1', pool='p', name='n')) == '/b/1'
    assert _backup.backup_key(dict(directory=None, pool='p', name='n')) == 'p/n'
    assert _backup.parse_manifest(b'{"complete": true, "pool": "p"}\0\0\0') == dict(complete=True, pool='p')
    assert _backup.parse_manifest(b'{"complete": false}') is None
    assert _backup.parse_manifest(b'{"complete": tr') is None
    assert _backup.parse_manifest(b'[1]') is None
    assert _backup.parse_manifest(b'\0' * 8) is None


def test_volume_xml():
    root = _xml.parse(_backup.volume_xml('n.vda.qcow2', 1048576, 'qcow2', '/p/n0.vda.qcow2'))
    assert root.findtext('name') == 'n.vda.qcow2' and root.findtext('capacity') == '1048576'
    assert root.find('capacity').get('unit') == 'bytes' and root.findtext('allocation') == '0'
    assert root.find('target/format').get('type') == 'qcow2'
    assert root.findtext('backingStore/path') == '/p/n0.vda.qcow2'
    assert root.find('backingStore/format').get('type') == 'qcow2'
    assert _xml.parse(_backup.volume_xml('m', 5, 'raw')).find('backingStore') is None


def test_push_xml_block_target():
    disks = [dict(name='vda', backup=True, file='/dev/vg/b.vda', format='raw', type='block'),
             dict(name='vdb', backup=True, file='/b/vdb.qcow2', format='qcow2')]
    root = _backup.push_xml(disks)
    first, second = root.findall('disks/disk')
    assert first.get('type') == 'block' and first.find('target').get('dev') == '/dev/vg/b.vda'
    assert first.find('target').get('file') is None
    assert second.get('type') == 'file' and second.find('target').get('file') == '/b/vdb.qcow2'
