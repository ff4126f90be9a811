# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every network document of the corpus through sysvirt.libvirt.network, on qemu:///system and on the daemon's
test driver (test+unix:///default).

Accepted documents (accepted_<connection>=yes): check mode predicts a define, the define succeeds, a check run and a
real re-run report no change. Rejected ones fail cleanly and leave no network behind. Documents are renamed to a
unique sysvirt-test- name and lose their <uuid>; their bridge names stay as written (the manifest's rejections on
qemu:///system are clashes with virbr0 of the host's default network). They are only defined, never started.
"""

from __future__ import annotations

import libvirt
import pytest
from lxml import etree

from conftest import QEMU_URI, SHARED_TEST_URI, corpus_manifest, corpus_params, run_module, unique_name

ROWS = [r for r in corpus_manifest() if r['kind'] == 'network']
CASES = corpus_params([pytest.param(uri, column, r, id='%s-%s' % (label, r['file']))
                       for uri, column, label in ((QEMU_URI, 'accepted_qemu_system', 'qemu'),
                                                  (SHARED_TEST_URI, 'accepted_test_driver', 'test'))
                       for r in ROWS], 3)


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
        net = conn.networkLookupByName(name)
    except libvirt.libvirtError:
        return False
    if net.isActive():
        net.destroy()
    if net.isPersistent():
        net.undefine()
    return True


@pytest.mark.parametrize('uri,column,row', CASES)
def test_network_document(uri, column, row, corpus, request):
    conn = request.getfixturevalue('qemu_conn' if uri == QEMU_URI else 'shared_test_conn')
    name = unique_name('net')
    args = dict(uri=uri, xml=_document(row['path'], name), state='present')
    try:
        if row[column] == 'yes':
            predicted = run_module('network', args, check_mode=True, diff=True)
            assert not predicted.failed, predicted
            assert predicted['changed'] and predicted['actions'] == ['define']
            assert predicted['network']['name'] == name
            first = run_module('network', args, diff=True)
            assert not first.failed, first
            assert first['changed'] and first['actions'] == ['define']
            net = conn.networkLookupByName(name)
            assert net.isPersistent()
            if uri == QEMU_URI:
                assert not net.isActive()
            check_again = run_module('network', args, check_mode=True)
            assert not check_again['changed'], check_again['differences']
            again = run_module('network', args)
            assert not again.failed, again
            assert not again['changed'], again['differences']
            gone = run_module('network', dict(uri=uri, name=name, state='absent'))
            assert gone['changed'] and gone['actions'] == ['undefine'], gone
        else:
            result = run_module('network', args)
            assert result.failed
            assert 'Traceback' not in str(result)
            assert '\n' not in result['msg'] and result['msg'].startswith('Failed to define the network:')
            assert not _remove(conn, name), 'a rejected document left network %s behind' % name
    finally:
        _remove(conn, name)
