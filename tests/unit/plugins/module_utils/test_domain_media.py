# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain live_changes: what counts as a media change in a cdrom/floppy drive (every kind of source, eject).

The test driver cannot change media (no virDomainUpdateDeviceFlags), so the plan is checked here against a
running test-driver guest, and tests/functional/test_domain_media_qemu.py applies it on qemu:///system.
"""

from __future__ import annotations

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain, _xml

CDROM = "<disk type='{type}' device='cdrom'>{source}<target dev='hdc' bus='ide'/><readonly/></disk>"
SOURCES = {
    'file a': ('file', "<source file='/srv/iso/a.iso'/>"),
    'file b': ('file', "<source file='/srv/iso/b.iso'/>"),
    'block': ('block', "<source dev='/dev/sr0'/>"),
    'block other': ('block', "<source dev='/dev/sr1'/>"),
    'volume': ('volume', "<source pool='isos' volume='a.iso'/>"),
    'volume other': ('volume', "<source pool='isos' volume='b.iso'/>"),
    'volume other pool': ('volume', "<source pool='media' volume='a.iso'/>"),
    'nbd': ('network', "<source protocol='nbd' name='a'><host name='127.0.0.1' port='10809'/></source>"),
    'nbd other export': ('network', "<source protocol='nbd' name='b'><host name='127.0.0.1' port='10809'/></source>"),
    'nbd other host': ('network', "<source protocol='nbd' name='a'><host name='127.0.0.2' port='10809'/></source>"),
    'empty': ('file', ''),
    'empty source element': ('file', '<source/>'),
}


def _disk(key):
    dtype, source = SOURCES[key]
    return _xml.parse(CDROM.format(type=dtype, source=source))


@pytest.mark.parametrize('a,b', [
    ('file a', 'file b'), ('block', 'block other'), ('volume', 'volume other'), ('volume', 'volume other pool'),
    ('nbd', 'nbd other export'), ('nbd', 'nbd other host'), ('file a', 'block'), ('file a', 'volume'),
    ('file a', 'empty'), ('block', 'empty'), ('volume', 'empty'), ('nbd', 'empty'),
])
def test_a_different_medium_is_a_change(a, b):
    assert _domain.media(_disk(a)) != _domain.media(_disk(b))


def test_the_same_medium_is_no_change_whatever_libvirt_adds():
    live = _xml.parse("<disk type='volume' device='cdrom'><driver name='qemu' type='raw'/>"
                      "<source pool='isos' volume='a.iso' index='3' startupPolicy='optional'/>"
                      "<backingStore/><target dev='hdc' bus='ide'/><readonly/><alias name='ide0-1-0'/></disk>")
    assert _domain.media(live) == _domain.media(_disk('volume'))
    assert _domain.media(_disk('empty')) is None and _domain.media(_disk('empty source element')) is None


@pytest.mark.parametrize('key,label', [
    ('file a', '/srv/iso/a.iso'), ('block', '/dev/sr0'), ('volume', 'isos/a.iso'), ('nbd', 'nbd:a'), ('empty', 'none'),
])
def test_labels(key, label):
    assert _domain.media_label(_domain.media(_disk(key))) == label


def _guest(conn, source_key):
    dtype, source = SOURCES[source_key]
    xml = ("<domain type='test'><name>sysvirt-test-media</name><memory>65536</memory><os><type>hvm</type></os>"
           "<devices>%s</devices></domain>" % CDROM.format(type=dtype, source=source))
    dom = conn.defineXML(xml)
    dom.create()
    return dom, xml


@pytest.mark.parametrize('start,wanted,action', [
    ('file a', 'file b', 'change media of hdc to /srv/iso/b.iso'),
    ('file a', 'empty', 'change media of hdc to none'),
    ('empty', 'file a', 'change media of hdc to /srv/iso/a.iso'),
    ('block', 'block other', 'change media of hdc to /dev/sr1'),
    ('block', 'file a', 'change media of hdc to /srv/iso/a.iso'),
    ('file a', 'file a', None),
    ('block', 'block', None),
    ('empty', 'empty', None),
])
def test_live_changes_plan_media_changes(test_conn, start, wanted, action):
    dom, xml = _guest(test_conn, start)
    dtype, source = SOURCES[wanted]
    desired = _xml.parse(xml.replace(CDROM.format(type=SOURCES[start][0], source=SOURCES[start][1]),
                                     CDROM.format(type=dtype, source=source)))
    planned = [change[0] for change in _domain.live_changes(dom, desired)]
    assert planned == ([action] if action else [])
