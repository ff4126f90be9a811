# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every volume document of the corpus through sysvirt.libvirt.volume on the test driver's default-pool.

The corpus has no qemu:///system column for volumes (na); the daemon's test driver (test+unix:///default, held
open so state persists between module runs) is the connection under test. Accepted documents: check mode
predicts a create, the create succeeds, check and real re-runs report no change and no warning. Rejected ones
fail cleanly and leave no volume behind. Documents are renamed to a unique sysvirt-test- name.
"""

from __future__ import annotations

import libvirt
import pytest
from lxml import etree

from conftest import SHARED_TEST_URI, corpus_manifest, corpus_params, run_module, unique_name

ROWS = [r for r in corpus_manifest() if r['kind'] == 'volume']
POOL = 'default-pool'


def _document(path, name):
    root = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    node = root.find('name')
    if node is None:
        node = etree.SubElement(root, 'name')
    node.text = name
    return etree.tostring(root, encoding='unicode')


@pytest.mark.parametrize('row', corpus_params(ROWS), ids=lambda r: r['file'])
def test_volume_document(row, corpus, shared_test_conn):
    name = unique_name('vol')
    args = dict(uri=SHARED_TEST_URI, pool=POOL, xml=_document(row['path'], name))
    pool = shared_test_conn.storagePoolLookupByName(POOL)
    try:
        if row['accepted_test_driver'] == 'yes':
            predicted = run_module('volume', args, check_mode=True)
            assert not predicted.failed, predicted
            assert predicted['changed'] and predicted['actions'] == ['create']
            first = run_module('volume', args)
            assert not first.failed, first
            assert first['changed'] and first['actions'] == ['create']
            assert pool.storageVolLookupByName(name).name() == name
            again = run_module('volume', args, check_mode=True)
            assert not again['changed'] and not again.get('warnings'), again
            second = run_module('volume', args)
            assert not second['changed'] and not second.get('warnings'), second
        else:
            result = run_module('volume', args)
            assert result.failed
            assert 'Traceback' not in result['msg'] and '\n' not in result['msg']
            with pytest.raises(libvirt.libvirtError):
                pool.storageVolLookupByName(name)
    finally:
        try:
            pool.storageVolLookupByName(name).delete(0)
        except libvirt.libvirtError:
            pass
