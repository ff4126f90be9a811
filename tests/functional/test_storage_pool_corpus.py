# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every pool document of the corpus through sysvirt.libvirt.storage_pool on qemu:///system.

Accepted documents (accepted_qemu_system=yes): check mode predicts a define, the define succeeds, a check run and
a real re-run report no change. Rejected ones fail cleanly and leave no pool behind. Documents are renamed to a
unique sysvirt-test- name and lose their <uuid>; they are only defined, never built or started.
"""

from __future__ import annotations

import libvirt
import pytest
from lxml import etree

from conftest import QEMU_URI, corpus_manifest, corpus_params, run_module, unique_name

ROWS = [r for r in corpus_manifest() if r['kind'] == 'pool']


def _document(path, name):
    root = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    for uuid in root.findall('uuid'):
        root.remove(uuid)
    node = root.find('name')
    if node is None:
        node = etree.SubElement(root, 'name')
    node.text = name
    return etree.tostring(root, encoding='unicode')


def _remove(conn, name):
    try:
        pool = conn.storagePoolLookupByName(name)
    except libvirt.libvirtError:
        return False
    if pool.isActive():
        pool.destroy()
    pool.undefine()
    return True


@pytest.mark.parametrize('row', corpus_params(ROWS), ids=lambda r: r['file'])
def test_pool_document(row, corpus, qemu_conn):
    name = unique_name('pool')
    xml = _document(row['path'], name)
    args = dict(uri=QEMU_URI, xml=xml, state='present')
    try:
        if row['accepted_qemu_system'] == 'yes':
            predicted = run_module('storage_pool', args, check_mode=True)
            assert not predicted.failed, predicted
            assert predicted['changed'] and predicted['actions'] == ['define']
            first = run_module('storage_pool', args)
            assert not first.failed, first
            assert first['changed'] and first['actions'] == ['define']
            assert not qemu_conn.storagePoolLookupByName(name).isActive()
            check_again = run_module('storage_pool', args, check_mode=True)
            assert not check_again['changed'], check_again['differences']
            second = run_module('storage_pool', args)
            assert not second['changed'], second['differences']
            assert not second.get('warnings')
        else:
            result = run_module('storage_pool', args)
            assert result.failed
            assert 'Traceback' not in result['msg'] and '\n' not in result['msg']
            with pytest.raises(libvirt.libvirtError):
                qemu_conn.storagePoolLookupByName(name)
    finally:
        _remove(qemu_conn, name)
