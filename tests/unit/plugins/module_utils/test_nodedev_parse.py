# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_nodedev.device_to_dict on every node device document of the corpus (libvirt's own test data)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _nodedev, _xml
from conftest import corpus_manifest, corpus_params

ROWS = [r for r in corpus_manifest() if r['kind'] == 'nodedev']


def _load(corpus, name):
    with open(os.path.join(corpus, 'nodedev', name), encoding='utf-8') as handle:
        return _nodedev.device_to_dict(handle.read(), with_xml=True)


@pytest.mark.parametrize('row', corpus_params(ROWS), ids=lambda r: r['file'])
def test_every_document_parses(corpus, row):
    with open(row['path'], encoding='utf-8') as handle:
        text = handle.read()
    data = _nodedev.device_to_dict(text)
    root = _xml.parse(text)
    assert data['name'] == _xml.find_text(root, 'name')
    assert data['capability_types'] == [c.get('type') for c in root.findall('capability')]
    assert all(c['type'] for c in data['capabilities'])


def test_pci_with_iommu_group(corpus):
    data = _load(corpus, 'pci_8086_10c9_sriov_pf.xml')
    pci = data['capabilities'][0]
    assert pci['address'] == '0000:02:00.0'
    assert pci['vendor'] == dict(id='0x8086', name='Intel Corporation')
    assert pci['product'] == dict(id='0x10c9', name='82576 Gigabit Network Connection')
    assert pci['iommu_group'] == dict(number=12, addresses=['0000:02:00.0', '0000:02:00.1'])
    assert pci['numa_node'] == 0
    assert data['parent'] == 'pci_0000_00_04_0'


def test_usb_device(corpus):
    usb = _load(corpus, 'usb_device_1d6b_1_0000_00_1d_0.xml')['capabilities'][0]
    assert (usb['type'], usb['bus'], usb['device']) == ('usb_device', 2, 1)
    assert usb['vendor'] == dict(id='0x1d6b', name='Linux Foundation')


def test_mdev(corpus):
    mdev = _load(corpus, 'mdev_3627463d_b7f0_4fea_b468_f1da537d301b.xml')['capabilities'][0]
    assert (mdev['type'], mdev['mdev_type'], mdev['iommu_group']) == ('mdev', 'mtty-1', 12)


def test_net_and_storage(corpus):
    net = _load(corpus, 'net_00_13_02_b9_f9_d3.xml')['capabilities'][0]
    assert net['interface'] and net['address'] == '00:13:02:b9:f9:d3'
    storage = _load(corpus, 'storage_serial_SATA_HTS721010G9SA00_MPCZ12Y0GNGWSE.xml')['capabilities'][0]
    assert storage['type'] == 'storage' and storage['block'].startswith('/dev/')


def test_sriov_functions(corpus):
    data = _load(corpus, 'pci_0000_02_10_7_sriov.xml')
    # a virtual function: its physical function's PCI address, as the document gives it
    assert data['capabilities'][0]['functions'] == {'phys_function': ['0000:02:00.1']}


@pytest.mark.parametrize('cap', sorted(_nodedev.CAPABILITIES))
def test_capability_flags_exist(cap):
    assert _nodedev.capability_flags([cap]) > 0
