# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What domain snapshots and domain checkpoints share: objects of a guest, found by name, in a tree of parents
and children, created from options or a document, deleted with or without their descendants.

Private to this collection: the names here may change without notice.

A kind (``SNAPSHOT``, ``CHECKPOINT``) says how libvirt spells it; ``ChildRun`` is the part of a module run both
share (the guest that does not exist, deletion), ``run_info`` the frame of both ``_info`` modules.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

try:
    from lxml import etree
except ImportError:  # reported by _connection.require_libraries
    etree = None

try:
    import libvirt
except ImportError:
    libvirt = None

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import call, exit_module, lookup
from ansible_collections.sysvirt.libvirt.plugins.module_utils._device import require_domain
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import ModuleRun, assumed_parent


class ChildKind:
    """How libvirt spells one kind of a guest's child objects."""

    def __init__(self, word, root, flag_prefix, by_name):
        self.word = word
        self.root = root
        self.flag_prefix = flag_prefix
        self.by_name = by_name  # the guest's lookup by name, as a function of the guest

    def flag(self, suffix):
        return getattr(libvirt, '%s_%s' % (self.flag_prefix, suffix), 0)

    def find(self, dom, name):
        return lookup(self.by_name(dom), name, 0)


SNAPSHOT = ChildKind('snapshot', 'domainsnapshot', 'VIR_DOMAIN_SNAPSHOT', lambda dom: dom.snapshotLookupByName)
CHECKPOINT = ChildKind('checkpoint', 'domaincheckpoint', 'VIR_DOMAIN_CHECKPOINT',
                       lambda dom: dom.checkpointLookupByName)


# ---------------------------------------------------------------------------------------------- the tree

def age_key(data):
    """Oldest first: by creation time, then name."""
    return (data['creation_time'] or 0, data['name'])


def children_of(parents):
    """{name: [child names]} for {name: parent name} (a parent that is not among the names is left out)."""
    children = dict((name, []) for name in parents)
    for name, parent in parents.items():
        if parent in children:
            children[parent].append(name)
    return children


def parent_chain(name, parents):
    """The ancestors of ``name`` from its parent up to the root, given {name: parent name}; stops on a loop."""
    chain = []
    parent = parents.get(name)
    while parent is not None and parent not in chain and parent != name:
        chain.append(parent)
        parent = parents.get(parent)
    return chain


def named_root(params, kind):
    """The start of the document asked for: the user's XML (its name and description overridden by the options,
    a name required), or a new element with the name and description. Returns (root, from_xml)."""
    if params.get('xml') is not None:
        root = _xml.parse(params['xml'], what='%s XML' % kind.word, root=kind.root)
        if params.get('name'):
            _xml.set_child_text(root, 'name', params['name'])
        elif not root.findtext('name'):
            raise _xml.XMLInputError('The %s needs a name: set the name option or <name> in the XML' % kind.word)
        if params.get('description') is not None:
            _xml.set_child_text(root, 'description', params['description'])
        return root, True
    root = etree.Element(kind.root)
    etree.SubElement(root, 'name').text = params['name']
    if params.get('description') is not None:
        etree.SubElement(root, 'description').text = params['description']
    return root, False


# ---------------------------------------------------------------------------------------------- the run

class ChildRun(ModuleRun):
    """The part of a domain_snapshot / domain_checkpoint run both share. A subclass sets ``kind`` and supplies
    ``present``, ``desired`` (the document, for check mode without the guest), ``predicted``, ``wanted_here``
    (whether the options ask for an object at all) and ``empty_result`` / ``child_result``."""

    kind = None
    #: the checkpoint's delete action says "(metadata only)"; the snapshot's does not
    say_metadata_only = False
    #: the checkpoint's RV(deleted) lists names sorted; the snapshot's in libvirt's order
    sort_deleted = False

    def __init__(self, module, conn):
        super(ChildRun, self).__init__(module, conn)
        self.before = ''
        self.after = ''
        self.deleted = []

    def creation_verb(self):
        return 'create'

    def without_domain(self):
        """No such guest: absent succeeds unchanged (teardown re-runs), check mode predicts a creation as if an
        earlier task made the guest, anything else fails."""
        p = self.params
        if p['state'] == 'absent':
            return self.empty_result(p['domain'])
        if p['state'] == 'present' and self.check and self.wanted_here():
            root = self.desired()
            self.after = _xml.to_string(root)
            self.act('%s %s %s' % (self.creation_verb(), self.kind.word, root.findtext('name')))
            self.warnings.append(assumed_parent('Domain', p['domain']))
            return self.child_result(self.predicted(root), p['domain'])
        require_domain(self.conn, p['domain'])  # fails: the domain does not exist

    def delete_flags(self):
        flags = 0
        for option, suffix in (('children', 'DELETE_CHILDREN'), ('children_only', 'DELETE_CHILDREN_ONLY'),
                               ('metadata_only', 'DELETE_METADATA_ONLY')):
            if self.params.get(option):
                flags |= self.kind.flag(suffix)
        return flags

    def summary(self, obj):
        """The stored document shown as the diff's before when ``obj`` is deleted."""
        raise NotImplementedError

    def absent(self, dom):
        """Delete the object named by the name option (with its descendants, or only them), unless it is gone."""
        word, name = self.kind.word, self.params['name']
        obj = self.kind.find(dom, name)
        if obj is None:
            return
        with call('list the descendants of %s %s' % (word, name)):
            descendants = [c.getName() for c in obj.listAllChildren(self.kind.flag('LIST_DESCENDANTS'))]
        if self.params.get('children_only'):
            if not descendants:
                return
            gone = descendants
            action = 'delete the descendants of %s %s' % (word, name)
        else:
            gone = [name] + (descendants if self.params.get('children') else [])
            action = 'delete %s %s%s%s' % (word, name, ' and its descendants' if self.params.get('children') else '',
                                           ' (metadata only)' if self.say_metadata_only and
                                           self.params.get('metadata_only') else '')
        self.before = self.summary(obj)
        self.perform(action, lambda: obj.delete(self.delete_flags()), check=self.check,
                     what='delete %s %s of %s' % (word, name, dom.name()))
        self.deleted.extend(sorted(gone) if self.sort_deleted else gone)


def run_info(module, key, read):
    """The frame of domain_snapshot_info / domain_checkpoint_info: ``read(dom, params)`` gives (every object as a
    dict, the result's other keys); the objects chosen by the name and prefix options are the result's ``key``."""
    from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import module_connection
    p = module.params
    with module_connection(module) as conn:
        dom = require_domain(conn, p['domain'])
        every, extra = read(dom, p)
        chosen = every
        if p.get('name'):
            chosen = [c for c in chosen if c['name'] == p['name']]
        if p.get('prefix'):
            chosen = [c for c in chosen if c['name'].startswith(p['prefix'])]
        result = dict(changed=False, domain=dom.name(), **extra)
        result[key] = chosen
    exit_module(module, result)
