# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Domain checkpoints as data, and the runs of domain_checkpoint / domain_checkpoint_info.

Private to this collection: the names here may change without notice.

A checkpoint is a point in time from which QEMU tracks which blocks of a disk change (a persistent dirty bitmap
per disk); an incremental backup copies only the blocks changed since a checkpoint. A checkpoint is found by name
(that is what makes domain_checkpoint idempotent); its content never changes after creation, only its record can
be redefined (libvirt's REDEFINE), which carries a chain over to a re-created or migrated guest.
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

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain_child, _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call
from ansible_collections.sysvirt.libvirt.plugins.module_utils._device import find_domain
from ansible_collections.sysvirt.libvirt.plugins.module_utils._domain_child import CHECKPOINT, parent_chain


def _flag(name):
    return getattr(libvirt, name, 0)


# ---------------------------------------------------------------------------------------------- reading

def read_xml(cp, full=False):
    """A checkpoint's stored document; without the embedded domain unless ``full`` (what REDEFINE needs)."""
    flags = 0 if full else _flag('VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN')
    with call('read checkpoint %s' % cp.getName()):
        return _xml.parse(cp.getXMLDesc(flags), what='checkpoint XML')


def checkpoint_data(root, children=None, chain=None, with_xml=False):
    """One checkpoint as a dict (the keys of domain_checkpoint_info's RV(checkpoints))."""
    creation = root.findtext('creationTime')
    data = dict(
        name=root.findtext('name'),
        description=root.findtext('description'),
        parent=root.findtext('parent/name'),
        chain=list(chain or []),
        children=sorted(children or []),
        creation_time=int(creation) if creation and creation.isdigit() else None,
        disks=[dict(name=d.get('name'), checkpoint=d.get('checkpoint'), bitmap=d.get('bitmap'))
               for d in root.findall('disks/disk')],
    )
    if with_xml:
        data['xml'] = _xml.to_string(root)
    return data


def list_checkpoints(dom, with_xml=False):
    """All checkpoints of ``dom`` as dicts, oldest first, each with parent, chain (ancestors) and children."""
    with call('list the checkpoints of %s' % dom.name()):
        cps = dom.listAllCheckpoints(0)
    roots = dict((cp.getName(), read_xml(cp)) for cp in cps)
    return checkpoints_from(roots, with_xml)


def checkpoints_from(roots, with_xml=False):
    """The dicts of checkpoint_data for {name: stored document}, oldest first, with chain and children."""
    parents = dict((name, root.findtext('parent/name')) for name, root in roots.items())
    children = _domain_child.children_of(parents)
    result = [checkpoint_data(root, children[name], parent_chain(name, parents), with_xml)
              for name, root in roots.items()]
    result.sort(key=_domain_child.age_key)
    return result


def find(dom, name):
    return CHECKPOINT.find(dom, name)


# ---------------------------------------------------------------------------------------------- writing

def desired_xml(params):
    """The <domaincheckpoint> document asked for by the module options (or the user's XML, named)."""
    root, from_xml = _domain_child.named_root(params, CHECKPOINT)
    if from_xml:
        return root
    disks = params.get('disks') or []
    if disks:
        disks_el = etree.SubElement(root, 'disks')
        for disk in disks:
            el = etree.SubElement(disks_el, 'disk', name=disk['name'], checkpoint=disk.get('checkpoint') or 'bitmap')
            if disk.get('bitmap') and el.get('checkpoint') == 'bitmap':
                el.set('bitmap', disk['bitmap'])
    return root


def predicted(root, parent):
    """What a checkpoint created from ``root`` would look like (check mode)."""
    data = checkpoint_data(root)
    if not root.findtext('parent/name'):
        data['parent'] = parent
    return data


def leaf_checkpoint(dom):
    """The newest checkpoint without children: the parent libvirt gives the next checkpoint. None when none."""
    cps = list_checkpoints(dom)
    leaves = [c for c in cps if not c['children']]
    return leaves[-1]['name'] if leaves else None


class CheckpointRun(_domain_child.ChildRun):
    """One run of domain_checkpoint: present (created or redefined) or absent."""

    kind = CHECKPOINT
    say_metadata_only = True
    sort_deleted = True

    def run(self):
        p = self.params
        dom = find_domain(self.conn, p['domain'])
        if dom is None:
            return self.without_domain()
        checkpoint = None
        if p['state'] == 'present':
            checkpoint = self.present(dom)
        else:
            self.absent(dom)
        return self._result(checkpoint, dom.name())

    def _result(self, checkpoint, domain):
        return self.finish(diff=dict(before=self.before, after=self.after), checkpoint=checkpoint,
                           deleted=self.deleted, domain=domain)

    # what ChildRun.without_domain asks
    def wanted_here(self):
        return True

    def creation_verb(self):
        return 'redefine' if self.params.get('redefine') else 'create'

    def desired(self):
        return desired_xml(self.params)

    def predicted(self, root):
        return predicted(root, None)

    def empty_result(self, domain):
        return self._result(None, domain)

    def child_result(self, child, domain):
        return self._result(child, domain)

    def summary(self, obj):
        return _xml.to_string(read_xml(obj))

    def _data(self, dom, name):
        every = list_checkpoints(dom)
        return next((c for c in every if c['name'] == name), None)

    def present(self, dom):
        root = desired_xml(self.params)
        name = root.findtext('name')
        existing = find(dom, name)
        if existing is not None:
            self._warn_differences(name, root, read_xml(existing))
            return self._data(dom, name)
        redefine = bool(self.params.get('redefine'))
        if redefine and not root.findtext('creationTime'):
            raise LibvirtFailure('Redefining checkpoint %s needs the document libvirt wrote for it (with '
                                 '<creationTime> and <disks>), not a new one' % name,
                                 hint='Pass the xml returned by sysvirt.libvirt.domain_checkpoint_info with '
                                      'xml: true (and full_xml: true) for the checkpoint.')
        self.after = _xml.to_string(root)
        action = '%s checkpoint %s' % ('redefine' if redefine else 'create', name)
        if self.check:
            self.act(action)
            return predicted(root, None if redefine else leaf_checkpoint(dom))
        self.perform(action, lambda: dom.checkpointCreateXML(_xml.to_string(root, pretty=False), self.create_flags()),
                     what='%s of %s' % (action, dom.name()))
        return self._data(dom, name)

    def create_flags(self):
        p = self.params
        flags = 0
        if p.get('redefine'):
            flags |= _flag('VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE')
            if p.get('validate'):
                flags |= _flag('VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE_VALIDATE')
        if p.get('quiesce'):
            flags |= _flag('VIR_DOMAIN_CHECKPOINT_CREATE_QUIESCE')
        return flags

    def _warn_differences(self, name, root, stored):
        out = []
        wanted_description = root.findtext('description')
        if wanted_description is not None and wanted_description != (stored.findtext('description') or ''):
            out.append('description is %r' % (stored.findtext('description') or ''))
        stored_disks = dict((d.get('name'), d.get('checkpoint')) for d in stored.findall('disks/disk'))
        for disk in root.findall('disks/disk'):
            have = stored_disks.get(disk.get('name'))
            if have is not None and have != disk.get('checkpoint'):
                out.append('disk %s is %s, asked for %s' % (disk.get('name'), have, disk.get('checkpoint')))
        if out:
            self.warnings.append('Checkpoint %s exists and is left as it is: %s. A checkpoint cannot be changed '
                                 'after creation; delete it (state=absent) to take it again.' % (name, '; '.join(out)))


def delete_checkpoint(dom, name, metadata_only=False):
    """Delete one checkpoint (its bitmaps merge into its parent's, so later incrementals stay whole)."""
    cp = find(dom, name)
    if cp is None:
        return False
    with call('delete checkpoint %s of %s' % (name, dom.name())):
        cp.delete(_flag('VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY') if metadata_only else 0)
    return True


def run_module(module):
    CheckpointRun.main(module)


def _read_info(dom, p):
    with call('list the checkpoints of %s' % dom.name()):
        cps = dom.listAllCheckpoints(0)
    roots = dict((cp.getName(), read_xml(cp, full=p['full_xml'])) for cp in cps)
    every = checkpoints_from(roots, with_xml=p['xml'] or p['full_xml'])
    leaves = [c['name'] for c in every if not c['children']]
    return every, dict(leaf=leaves[-1] if leaves else None)


def run_info(module):
    _domain_child.run_info(module, 'checkpoints', _read_info)
