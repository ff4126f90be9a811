# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check mode's prediction of a host interface puts a new child where libvirt writes it."""

from __future__ import annotations

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _interface, _xml

STORED = ("<interface type='bond' name='bond0'><start mode='none'/><protocol family='ipv4'><dhcp/></protocol>"
          "<bond mode='active-backup'><interface type='ethernet' name='eth0'/></bond></interface>")


def test_new_mtu_goes_after_start_before_protocol():
    desired = STORED[:-len('</interface>')] + "<mtu size='1400'/></interface>"
    predicted = _xml.overlay(_xml.parse(desired), _xml.parse(STORED), _interface.RULES)
    assert [child.tag for child in predicted] == ['start', 'mtu', 'protocol', 'bond']
