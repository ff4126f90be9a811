# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The corpus's invalid/ documents through every module they belong to, on each connection they apply to.

A document the manifest marks `no` for a connection fails cleanly (one-line message, no traceback) and leaves
nothing behind; one marked `yes` (libvirt accepts two "invalid" documents) is defined, and removed again.
Names are rewritten to sysvirt-test-<random> and UUIDs dropped, so parallel runs never collide.
"""

from __future__ import annotations

import libvirt
import pytest
from lxml import etree

from conftest import QEMU_URI, corpus_manifest, corpus_params, run_module, unique_name
from utils.reliability import problems_with, snapshot, snapshot_changes

TEST_URI = 'test:///default'
MODULE_FOR = {'domain-qemu': 'domain', 'domain-test': 'domain', 'nwfilter': 'nwfilter', 'nodedev': 'node_device',
              'snapshot': 'domain_snapshot'}


def _cases():
    for row in corpus_manifest():
        if not row['invalid']:
            continue
        for uri, column in ((TEST_URI, 'accepted_test_driver'), (QEMU_URI, 'accepted_qemu_system')):
            verdict = row[column]
            if verdict == 'na' and not (row['kind'] == 'nodedev' and uri == TEST_URI):
                continue
            yield pytest.param(row, uri, verdict, id='%s/%s@%s' % (row['kind'], row['file'], uri.split(':', maxsplit=1)[0]))


def _prepare(row, name):
    root = etree.parse(row['path']).getroot()
    for uuid in root.findall('uuid'):
        root.remove(uuid)
    if root.tag == 'filter':
        root.set('name', name)
    else:
        node = root.find('name')
        if node is None:
            node = etree.SubElement(root, 'name')
        elif '/' in (node.text or ''):
            # the name is what is invalid (generic-name-slash-fail.xml): keep its slash
            name = name + '/' + node.text.split('/', 1)[1]
        node.text = name
    return etree.tostring(root, encoding='unicode')


def _remove(conn, kind, name):
    try:
        if kind.startswith('domain'):
            dom = conn.lookupByName(name)
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM)
        elif kind == 'nwfilter':
            conn.nwfilterLookupByName(name).undefine()
    except libvirt.libvirtError:
        pass


@pytest.mark.parametrize('row,uri,verdict', corpus_params(_cases(), 3))
def test_invalid_document(corpus, row, uri, verdict):
    name = unique_name('inv')
    module = MODULE_FOR[row['kind']]
    args = dict(uri=uri, xml=_prepare(row, name))
    if module == 'domain_snapshot':
        args['domain'] = 'test'
    conn = libvirt.open(uri)
    token = None if uri == TEST_URI else name
    try:
        before = snapshot(conn, token=token)
        result = run_module(module, args)
        after = snapshot(conn, token=token)
        assert not problems_with(result, args, module), result
        if verdict == 'yes':
            assert not result.failed, result
            added = [key for what, key in snapshot_changes(before, after) if what == 'added']
            assert any(name in repr(key) for key in added), 'accepted, yet nothing named %s appeared: %r' % (
                name, added)
        else:
            assert result.failed, 'libvirt rejects %s, but the module reported %r' % (row['file'], result)
            assert not snapshot_changes(before, after), snapshot_changes(before, after)
    finally:
        _remove(conn, row['kind'], name)
        conn.close()
