# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain spec.cloud_init on qemu:///system: the module builds the NoCloud seed, uploads it into a volume, attaches
it as a CD-ROM and records its hash; re-runs change nothing, new content is re-uploaded (and its text never shows),
check mode predicts, state=absent removes the seed volume, and a host without xorriso gets a clean error."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import libvirt
import pytest
from lxml import etree

from conftest import QEMU_URI, run_module, unique_name
from day2_guest import cleanup_domain, dir_pool

SECRET = 'sysvirt-S3cret-pa55word'
NS = 'https://sysvirt.dev/xmlns/libvirt/cloud-init-seed/1'


@pytest.fixture(scope='module')
def pool(qemu_conn):
    with dir_pool(qemu_conn, 'seedpool') as (name, directory, _pool):
        yield name, directory


def iso_file(path, name):
    """A file of the ISO at ``path`` (xorriso extracts it), as text."""
    with tempfile.TemporaryDirectory() as out:
        target = os.path.join(out, name)
        subprocess.run(['xorriso', '-osirrox', 'on', '-indev', path, '-extract', '/' + name, target],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(target, encoding='utf-8') as handle:
            return handle.read()


def iso_label(path):
    with open(path, 'rb') as handle:
        handle.seek(32768 + 40)
        return handle.read(32).decode('ascii').strip()


def args_for(name, pool_name, user_data, **extra):
    spec = dict(virt_type='qemu', machine='pc', memory=64, cloud_init=dict(user_data=user_data, pool=pool_name))
    return dict(uri=QEMU_URI, name=name, spec=spec, state='present', **extra)


def stored(conn, name):
    return etree.fromstring(conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode())


def test_seed_is_built_uploaded_compared_and_removed(qemu_conn, pool):
    name = unique_name('seed')
    volume = name + '-seed.iso'
    path = os.path.join(pool[1], volume)
    first = {'users': [{'name': 'ops', 'plain_text_passwd': SECRET, 'lock_passwd': False}]}
    args = args_for(name, pool[0], first)
    write = 'write cloud-init seed volume %s in pool %s' % (volume, pool[0])
    try:
        check = run_module('domain', args, check_mode=True, diff=True)
        assert not check.failed, check
        assert check['actions'] == [write, 'define'] and not os.path.exists(path), check
        real = run_module('domain', args, diff=True)
        assert real['actions'] == [write, 'define'], real
        # the seed: label cidata, the files as rendered, attached as a CD-ROM, its hash recorded
        assert iso_label(path) == 'cidata'
        user_data = iso_file(path, 'user-data')
        assert user_data.startswith('#cloud-config\n') and json.loads(user_data.split('\n', 1)[1]) == first
        assert json.loads(iso_file(path, 'meta-data')) == {'instance-id': name, 'local-hostname': name}
        root = stored(qemu_conn, name)
        assert root.xpath("devices/disk[@device='cdrom']/source/@volume") == [volume]
        record = root.find('metadata/{%s}seed' % NS)
        assert record is not None and len(record.get('sha256')) == 64 and record.get('volume') == volume
        mtime = os.stat(path).st_mtime_ns
        # the same content again: nothing to do, nothing read or written
        again_check = run_module('domain', args, check_mode=True, diff=True)
        again = run_module('domain', args, diff=True)
        assert (again_check['changed'], again['changed']) == (False, False), (again_check, again)
        assert again['actions'] == [] and os.stat(path).st_mtime_ns == mtime
        # new content: predicted, re-uploaded, and the text never shows (only the hashes differ)
        second = dict(first, packages=['htop'])
        changed_args = args_for(name, pool[0], second)
        predict = run_module('domain', changed_args, check_mode=True, diff=True)
        assert predict['actions'] == [write, 'redefine'] and os.stat(path).st_mtime_ns == mtime, predict
        changed = run_module('domain', changed_args, diff=True)
        assert changed['changed'] and changed['actions'] == [write, 'redefine'], changed
        assert [d['path'] for d in changed['differences']] == [d['path'] for d in predict['differences']]
        assert any(d['path'].endswith('@sha256') for d in changed['differences']), changed['differences']
        for result in (check, real, predict, changed):
            assert SECRET not in json.dumps(result)
        assert 'htop' in iso_file(path, 'user-data')
        assert stored(qemu_conn, name).find('metadata/{%s}seed' % NS).get('sha256') != record.get('sha256')
        assert not run_module('domain', changed_args)['changed']
        # a deleted seed volume is written again
        qemu_conn.storagePoolLookupByName(pool[0]).storageVolLookupByName(volume).delete(0)
        assert run_module('domain', changed_args, check_mode=True)['actions'] == [write]
        assert run_module('domain', changed_args)['actions'] == [write] and os.path.exists(path)
        # state=absent removes the seed volume with the domain
        remove = dict(uri=QEMU_URI, name=name, state='absent')
        predicted = run_module('domain', remove, check_mode=True)
        assert predicted['removed']['storage'] == [path] and os.path.exists(path), predicted
        removed = run_module('domain', remove)
        assert removed['removed']['storage'] == [path] and not os.path.exists(path), removed
    finally:
        cleanup_domain(qemu_conn, name)


def test_without_xorriso_a_clean_error(qemu_conn, pool, monkeypatch):
    name = unique_name('seed-noxorriso')
    monkeypatch.setenv('PATH', tempfile.gettempdir())
    try:
        result = run_module('domain', args_for(name, pool[0], 'ab'))
        assert result.failed and 'xorriso is not installed' in result['msg'], result
        assert 'apt-get install xorriso' in result['hint'], result
        with pytest.raises(libvirt.libvirtError):
            qemu_conn.lookupByName(name)
        check = run_module('domain', args_for(name, pool[0], 'ab'), check_mode=True)
        assert not check.failed and check['changed'], check
    finally:
        cleanup_domain(qemu_conn, name)
    with pytest.raises(libvirt.libvirtError):
        qemu_conn.storagePoolLookupByName(pool[0]).storageVolLookupByName(name + '-seed.iso')
