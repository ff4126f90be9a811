# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_domain_child: what snapshots and checkpoints share (the tree, the named document, the delete flags)."""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain_child, _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._domain_child import CHECKPOINT, SNAPSHOT


@pytest.mark.parametrize('name, parents, expected', [
    ('c', dict(a=None, b='a', c='b'), ['b', 'a']),
    ('a', dict(a=None), []),
    ('x', dict(x='y', y='x'), ['y']),
    ('s', dict(s='s'), []),
    ('m', dict(m='gone'), ['gone']),
])
def test_parent_chain(name, parents, expected):
    assert _domain_child.parent_chain(name, parents) == expected


def test_children_of_and_age_key():
    assert _domain_child.children_of(dict(a=None, b='a', c='a', d='gone')) == dict(a=['b', 'c'], b=[], c=[], d=[])
    assert _domain_child.children_of({}) == {}
    items = [dict(name='b', creation_time=5), dict(name='a', creation_time=5), dict(name='z', creation_time=None)]
    assert [i['name'] for i in sorted(items, key=_domain_child.age_key)] == ['z', 'a', 'b']


@pytest.mark.parametrize('kind', [SNAPSHOT, CHECKPOINT])
def test_named_root(kind):
    root, from_xml = _domain_child.named_root(dict(name='n', description='d', xml=None), kind)
    assert not from_xml and root.tag == kind.root and root.findtext('name') == 'n'
    assert root.findtext('description') == 'd'
    root = _domain_child.named_root(dict(name='n', description=None, xml=None), kind)[0]
    assert root.find('description') is None and [c.tag for c in root] == ['name']
    xml = '<%s><name>x</name><description>old</description></%s>' % (kind.root, kind.root)
    root, from_xml = _domain_child.named_root(dict(name=None, description=None, xml=xml), kind)
    assert from_xml and root.findtext('name') == 'x' and root.findtext('description') == 'old'
    root = _domain_child.named_root(dict(name='y', description='new', xml=xml), kind)[0]
    assert root.findtext('name') == 'y' and root.findtext('description') == 'new'
    with pytest.raises(_xml.XMLInputError, match='The %s needs a name' % kind.word):
        _domain_child.named_root(dict(name=None, xml='<%s/>' % kind.root), kind)
    with pytest.raises(_xml.XMLInputError):
        _domain_child.named_root(dict(name='n', xml='<other/>'), kind)


class _Run(_domain_child.ChildRun):
    def __init__(self, kind, **params):  # pylint: disable=super-init-not-called
        self.kind = kind
        self.params = params


@pytest.mark.parametrize('kind, prefix', [(SNAPSHOT, 'VIR_DOMAIN_SNAPSHOT_'), (CHECKPOINT, 'VIR_DOMAIN_CHECKPOINT_')])
@pytest.mark.parametrize('options', [(), ('children',), ('children_only',), ('metadata_only',),
                                     ('children', 'metadata_only')])
def test_delete_flags(kind, prefix, options):
    names = dict(children='DELETE_CHILDREN', children_only='DELETE_CHILDREN_ONLY', metadata_only='DELETE_METADATA_ONLY')
    expected = 0
    for option in options:
        expected |= getattr(libvirt, prefix + names[option])
    run = _Run(kind, **dict((o, o in options) for o in names))
    assert run.delete_flags() == expected
    assert kind.flag('LIST_DESCENDANTS') == getattr(libvirt, prefix + 'LIST_DESCENDANTS') != 0
    assert kind.flag('NO_SUCH_FLAG') == 0
