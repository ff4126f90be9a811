# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""volume on qemu:///system: a dir pool under a temporary folder, raw and qcow2 volumes made with qemu-img,
upload and download with SHA-256 verification, sparseness kept, clone, grow, shrink, copy-on-write.

The pool (sysvirt-test-*) and its folder are removed even when a test fails.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile

import libvirt
import pytest

from conftest import QEMU_URI, run_module, unique_name

MiB = 1024 * 1024
URI = QEMU_URI


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(MiB), b''):
            digest.update(chunk)
    return digest.hexdigest()


def allocated(path):
    return os.stat(path).st_blocks * 512


@pytest.fixture(scope='module')
def images():
    """A raw image (8 MiB: 2 MiB of data, a 4 MiB hole, 1 MiB of data, a hole) and its qcow2 conversion."""
    folder = tempfile.mkdtemp(prefix='sysvirt-test-img-')
    raw = os.path.join(folder, 'image.raw')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'raw', raw, '8M'], check=True)
    with open(raw, 'r+b') as handle:
        handle.write(os.urandom(2 * MiB))
        handle.seek(6 * MiB)
        handle.write(os.urandom(MiB))
    qcow2 = os.path.join(folder, 'image.qcow2')
    subprocess.run(['qemu-img', 'convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow2], check=True)
    yield dict(raw=raw, qcow2=qcow2, folder=folder)
    shutil.rmtree(folder)


@pytest.fixture
def pool(qemu_conn):
    folder = tempfile.mkdtemp(prefix='sysvirt-test-pool-')
    os.chmod(folder, 0o755)
    name = unique_name('pool')
    xml = "<pool type='dir'><name>%s</name><target><path>%s/pool</path></target></pool>" % (name, folder)
    result = run_module('storage_pool', dict(uri=URI, xml=xml, state='active', build='new'))
    assert not result.failed, result
    try:
        yield dict(name=name, folder=folder, path=os.path.join(folder, 'pool'))
    finally:
        try:
            obj = qemu_conn.storagePoolLookupByName(name)
            if obj.isActive():
                for vol in obj.listAllVolumes(0):
                    vol.delete(0)
                obj.destroy()
            obj.undefine()
        except libvirt.libvirtError:
            pass
        shutil.rmtree(folder, ignore_errors=True)


def four_runs(args, expect_actions):
    results = [run_module('volume', args, check_mode=check, diff=True) for check in (True, False)]
    for result in results:
        assert not result.failed, result
        assert result['changed'] is True and result['actions'] == expect_actions, result
    results += [run_module('volume', args, check_mode=check) for check in (True, False)]
    for result in results[2:]:
        assert not result.failed, result
        assert result['changed'] is False and result['actions'] == [], result
    return results


@pytest.mark.parametrize('fmt', ['raw', 'qcow2'])
def test_upload_then_download_round_trip(pool, images, fmt, tmp_path):
    image = images[fmt]
    digest = sha256(image)
    name = 'up.%s' % fmt
    runs = four_runs(dict(uri=URI, pool=pool['name'], name=name, format=fmt, upload=image, checksum=digest),
                     ['create', 'upload'])
    assert runs[2]['transfer']['identical'] is True
    stored = os.path.join(pool['path'], name)
    assert sha256(stored) == digest
    assert allocated(stored) < os.path.getsize(stored) or fmt == 'qcow2'

    out = str(tmp_path / ('down.' + fmt))
    runs = four_runs(dict(uri=URI, pool=pool['name'], name=name, download=out, checksum=digest), ['download'])
    assert runs[1]['transfer']['sha256'] == digest
    assert sha256(out) == digest
    if fmt == 'raw':
        assert allocated(out) <= 4 * MiB, 'holes were not kept'


@pytest.mark.parametrize('fmt', ['iso', 'raw'])
def test_iso_image_in_an_iso_or_raw_volume(pool, fmt, tmp_path):
    # What libvirt reads as an ISO 9660 image: the volume descriptor's 'CD001' at byte 32769 (as the guest role's
    # cloud-init seed). libvirt then names the volume's format 'iso', even one made as raw.
    image = str(tmp_path / 'seed.iso')
    with open(image, 'wb') as handle:
        handle.write(b'\0' * 32768 + b'\x01CD001\x01' + b'\0' * (65536 - 32768 - 7))
    runs = four_runs(dict(uri=URI, pool=pool['name'], name='seed.iso', format=fmt, upload=image), ['create', 'upload'])
    assert [r['volume']['format'] for r in runs] == [fmt, 'iso', 'iso', 'iso']  # libvirt read the upload
    # no "has format iso, not raw" on every run: raw and iso are the same bytes
    assert [r.get('warnings') for r in runs] == [None] * 4
    other = run_module('volume', dict(uri=URI, pool=pool['name'], name='seed.iso', format='qcow2'))
    assert other['changed'] is False and len(other['warnings']) == 1
    assert 'volume seed.iso has format iso, not qcow2;' in str(other['warnings'][0])


def test_changed_image_is_uploaded_again(pool, images, tmp_path):
    changed = str(tmp_path / 'changed.raw')
    shutil.copyfile(images['raw'], changed)
    run_module('volume', dict(uri=URI, pool=pool['name'], name='v.raw', format='raw', upload=images['raw']))
    with open(changed, 'r+b') as handle:
        handle.seek(7 * MiB + 3)
        handle.write(b'changed')
    runs = four_runs(dict(uri=URI, pool=pool['name'], name='v.raw', upload=changed), ['upload'])
    assert runs[0]['transfer']['identical'] is False
    assert sha256(os.path.join(pool['path'], 'v.raw')) == sha256(changed)


def test_upload_into_a_smaller_volume_grows_it_first(pool, images, qemu_conn):
    run_module('volume', dict(uri=URI, pool=pool['name'], name='small.raw', capacity='1M', format='raw'))
    runs = four_runs(dict(uri=URI, pool=pool['name'], name='small.raw', upload=images['raw']), ['grow', 'upload'])
    assert runs[1]['volume']['capacity'] == 8 * MiB
    assert sha256(os.path.join(pool['path'], 'small.raw')) == sha256(images['raw'])
    too_small = run_module('volume', dict(uri=URI, pool=pool['name'], name='other.raw', capacity='1M',
                                          upload=images['raw']))
    assert too_small.failed and 'smaller than' in too_small['msg']
    assert qemu_conn.storagePoolLookupByName(pool['name']).listVolumes() == ['small.raw']


def test_download_replaces_a_different_file_only(pool, images, tmp_path):
    run_module('volume', dict(uri=URI, pool=pool['name'], name='v.raw', format='raw', upload=images['raw']))
    out = str(tmp_path / 'out.raw')
    with open(out, 'wb') as handle:
        handle.write(b'old content')
    os.chmod(out, 0o600)
    four_runs(dict(uri=URI, pool=pool['name'], name='v.raw', download=out), ['download'])
    assert sha256(out) == sha256(images['raw'])
    assert os.stat(out).st_mode & 0o777 == 0o600


def test_wrong_checksum_changes_nothing(pool, images, tmp_path, qemu_conn):
    result = run_module('volume', dict(uri=URI, pool=pool['name'], name='v.raw', capacity='8M', format='raw',
                                       upload=images['raw'], checksum='0' * 64))
    assert result.failed and 'not the expected' in result['msg']
    assert qemu_conn.storagePoolLookupByName(pool['name']).listVolumes() == []


def test_grow_shrink_clone_and_copy_on_write(pool, images, qemu_conn):
    p = pool['name']
    four_runs(dict(uri=URI, pool=p, name='base.raw', format='raw', upload=images['raw']), ['create', 'upload'])
    runs = four_runs(dict(uri=URI, pool=p, name='base.raw', capacity='16MiB'), ['grow'])
    assert runs[0]['volume']['capacity'] == 16 * MiB
    vol = qemu_conn.storagePoolLookupByName(p).storageVolLookupByName('base.raw')
    assert vol.info()[1] == 16 * MiB

    warned = run_module('volume', dict(uri=URI, pool=p, name='base.raw', capacity='12MiB'))
    assert not warned['changed'] and 'shrink' in str(warned['warnings'])
    four_runs(dict(uri=URI, pool=p, name='base.raw', capacity='12MiB', shrink=True), ['shrink'])
    assert vol.info()[1] == 12 * MiB

    runs = four_runs(dict(uri=URI, pool=p, name='copy.raw', clone_from=dict(name='base.raw')), ['clone'])
    assert runs[1]['volume']['capacity'] == 12 * MiB
    base, copy = (os.path.join(pool['path'], n) for n in ('base.raw', 'copy.raw'))
    assert sha256(base) == sha256(copy)

    runs = four_runs(dict(uri=URI, pool=p, name='overlay.qcow2', format='qcow2', backing=dict(name='base.raw')),
                     ['create'])
    assert runs[1]['volume']['backing_store'] == dict(path=base, format='raw')
    info = subprocess.run(['qemu-img', 'info', '--output=json', '-U', os.path.join(pool['path'], 'overlay.qcow2')],
                          check=True, capture_output=True, text=True).stdout
    assert '"backing-filename": "%s"' % base in info

    four_runs(dict(uri=URI, pool=p, name='copy.raw', state='absent'), ['delete'])
    assert not os.path.exists(copy)


def test_pool_deleted_removes_its_directory(qemu_conn):
    folder = tempfile.mkdtemp(prefix='sysvirt-test-pool-')
    name = unique_name('pool')
    target = os.path.join(folder, 'pool')
    xml = "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>" % (name, target)
    try:
        results = [run_module('storage_pool', dict(uri=URI, xml=xml, state='active', build='no_overwrite'),
                              check_mode=c) for c in (True, False, True, False)]
        assert [r['changed'] for r in results] == [True, True, False, False], results
        assert os.path.isdir(target)
        # the directory disappears behind libvirt's back: stopped pool, rebuilt on the next run
        run_module('storage_pool', dict(uri=URI, name=name, state='inactive'))
        os.rmdir(target)
        results = [run_module('storage_pool', dict(uri=URI, name=name, state='active', build='new'),
                              check_mode=c) for c in (True, False, True, False)]
        assert [r['actions'] for r in results] == [['build', 'start'], ['build', 'start'], [], []]
        results = [run_module('storage_pool', dict(uri=URI, name=name, state='deleted'), check_mode=c)
                   for c in (True, False, True, False)]
        assert [r['actions'] for r in results] == [['stop', 'delete storage', 'undefine']] * 2 + [[], []]
        assert not os.path.exists(target)
        with pytest.raises(libvirt.libvirtError):
            qemu_conn.storagePoolLookupByName(name)
    finally:
        try:
            obj = qemu_conn.storagePoolLookupByName(name)
            if obj.isActive():
                obj.destroy()
            obj.undefine()
        except libvirt.libvirtError:
            pass
        shutil.rmtree(folder, ignore_errors=True)


def test_pool_absent_keeps_the_directory(qemu_conn, pool):
    results = [run_module('storage_pool', dict(uri=URI, name=pool['name'], state='absent'), check_mode=c)
               for c in (True, False, True, False)]
    assert [r['actions'] for r in results] == [['stop', 'undefine']] * 2 + [[], []]
    assert os.path.isdir(pool['path'])
