# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""node_device reset: only for a device the host does not use (the refusal on a host driver is tested on
qemu:///system in tests/functional/test_nodedev_qemu.py; the test driver has no PCI devices)."""

from __future__ import annotations

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _nodedev
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure


@pytest.mark.parametrize('driver,state', [
    ('vfio-pci', 'detached'), ('pci-stub', 'detached'), ('e1000e', 'detached'), (None, 'detached'),
    (None, 'attached'),
])
def test_reset_allowed(driver, state):
    assert _nodedev._refuse_reset_of_host_device('pci_0000_03_00_0', dict(driver=driver), state) is None


@pytest.mark.parametrize('driver,message', [
    ('e1000e', 'the host uses it (bound to the host driver e1000e)'),
    ('virtio-pci', 'the host uses it (bound to the host driver virtio-pci)'),
    ('vfio-pci', 'state=attached gives it back to the host before the reset'),
])
def test_reset_refused(driver, message):
    with pytest.raises(LibvirtFailure) as failure:
        _nodedev._refuse_reset_of_host_device('pci_0000_03_00_0', dict(driver=driver), 'attached')
    assert message in failure.value.msg and 'force: true' in failure.value.hint
