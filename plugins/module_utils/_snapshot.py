# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Domain snapshots as data, and the runs of domain_snapshot / domain_snapshot_info.

Private to this collection: the names here may change without notice.

A snapshot is found by name (that is what makes domain_snapshot idempotent). Its content cannot change
after creation; only the description can, through libvirt's redefine. Reverting always changes something
(libvirt cannot tell whether a guest already is "at" a snapshot), so it is reported as a change every time.
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
from ansible_collections.sysvirt.libvirt.plugins.module_utils._domain_child import SNAPSHOT, age_key as _age_key


# ---------------------------------------------------------------------------------------------- reading

def snapshot_data(snap, root=None, current_name=None, children=None, with_xml=False):
    """One snapshot as a dict (the keys of domain_snapshot_info's RV(snapshots))."""
    if root is None:
        with call('read snapshot %s' % snap.getName()):
            root = _xml.parse(snap.getXMLDesc(0), what='snapshot XML')
    name = root.findtext('name')
    memory = root.find('memory')
    disks = []
    for disk in root.findall('disks/disk'):
        source = disk.find('source')
        driver = disk.find('driver')
        disks.append(dict(
            name=disk.get('name'),
            snapshot=disk.get('snapshot'),
            file=None if source is None else (source.get('file') or source.get('dev') or source.get('name')),
            format=None if driver is None else driver.get('type'),
        ))
    memory_mode = None if memory is None else memory.get('snapshot')
    disk_modes = set(d['snapshot'] for d in disks if d['snapshot'] not in (None, 'no'))
    state = root.findtext('state')
    if state == 'disk-snapshot':
        location = 'external' if disk_modes <= {'external', 'manual'} else 'internal'
    elif memory_mode == 'external' or 'external' in disk_modes:
        location = 'external'
    else:
        location = 'internal'
    creation = root.findtext('creationTime')
    data = dict(
        name=name,
        description=root.findtext('description'),
        state=state,
        parent=root.findtext('parent/name'),
        children=sorted(children or []),
        current=(name == current_name) if current_name is not None else bool(snap.isCurrent()),
        creation_time=int(creation) if creation and creation.isdigit() else None,
        location=location,
        disk_only=state == 'disk-snapshot',
        memory=memory_mode,
        memory_file=None if memory is None else memory.get('file'),
        disks=disks,
    )
    if with_xml:
        data['xml'] = _xml.to_string(root)
    return data


def current_snapshot_name(dom):
    with call('read the current snapshot of %s' % dom.name()):
        if not dom.hasCurrentSnapshot():
            return None
        try:
            return dom.snapshotCurrent().getName()
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
                return None
            raise


def list_snapshots(dom, with_xml=False):
    """All snapshots of ``dom`` as dicts, oldest first, with parent, children and the current flag."""
    with call('list the snapshots of %s' % dom.name()):
        snaps = dom.listAllSnapshots(0)
    current = current_snapshot_name(dom)
    roots = {}
    for snap in snaps:
        with call('read snapshot %s' % snap.getName()):
            roots[snap.getName()] = _xml.parse(snap.getXMLDesc(0), what='snapshot XML')
    children = _domain_child.children_of(dict((name, root.findtext('parent/name')) for name, root in roots.items()))
    result = [snapshot_data(snap, roots[snap.getName()], current_name=current or '',
                            children=children[snap.getName()], with_xml=with_xml) for snap in snaps]
    result.sort(key=_age_key)
    return result


def tree(snapshots):
    """The snapshot tree as nested dicts: [{name, current, children: [...]}] from the roots down."""
    by_name = dict((s['name'], s) for s in snapshots)

    def node(name):
        snap = by_name[name]
        return dict(name=name, current=snap['current'],
                    children=[node(c) for c in sorted(snap['children'], key=lambda c: _age_key(by_name[c]))
                              if c in by_name])
    return [node(s['name']) for s in snapshots if s['parent'] not in by_name]


# ---------------------------------------------------------------------------------------------- writing

def _flag(name):
    return getattr(libvirt, name, 0)


def every_disk(domain_xml):
    """[{name, snapshot}] for every disk of a domain document, for location=external without disks: writable
    disks external; read-only ones (CD-ROMs, floppies, <readonly/>) and those the domain marks snapshot='no'
    left out ('no'), as libvirt would leave them out."""
    root = _xml.parse(domain_xml, what='domain XML')
    disks = []
    for disk in root.findall('devices/disk'):
        target = disk.find('target')
        if target is None or not target.get('dev'):
            continue
        skip = disk.get('device') in ('cdrom', 'floppy') or disk.find('readonly') is not None \
            or disk.get('snapshot') == 'no'
        disks.append(dict(name=target.get('dev'), snapshot='no' if skip else 'external'))
    return disks


def desired_xml(params, domain_xml=None):
    """The <domainsnapshot> document asked for by the module options (or the user's XML, named).

    With location=external and no disks, every disk of ``domain_xml`` (the guest's current definition) is
    listed: libvirt would otherwise take an internal snapshot of the disks nobody listed."""
    root, from_xml = _domain_child.named_root(params, SNAPSHOT)
    if from_xml:
        return root
    location = params.get('location') or 'internal'
    memory = params.get('memory')
    if params.get('disk_only'):
        memory = False
    if memory is False:
        etree.SubElement(root, 'memory', snapshot='no')
    elif location == 'external' and memory:
        etree.SubElement(root, 'memory', snapshot='external', file=params['memory_file'])
    disks = params.get('disks') or []
    if not disks and location == 'external' and domain_xml is not None:
        disks = every_disk(domain_xml)
    if disks:
        disks_el = etree.SubElement(root, 'disks')
        for disk in disks:
            mode = disk.get('snapshot') or location
            el = etree.SubElement(disks_el, 'disk', name=disk['name'], snapshot=mode)
            if mode == 'external':
                if disk.get('format'):
                    etree.SubElement(el, 'driver', type=disk['format'])
                if disk.get('file'):
                    el.set('type', 'file')
                    etree.SubElement(el, 'source', file=disk['file'])
    return root


def create_flags(params, root):
    flags = _flag('VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC')
    if params.get('disk_only'):
        flags |= _flag('VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY')
    if params.get('quiesce'):
        flags |= _flag('VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE')
    if params.get('halt'):
        flags |= _flag('VIR_DOMAIN_SNAPSHOT_CREATE_HALT')
    if params.get('live'):
        flags |= _flag('VIR_DOMAIN_SNAPSHOT_CREATE_LIVE')
    if params.get('reuse_external'):
        flags |= _flag('VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT')
    return flags


def _validate(params):
    if params.get('xml') is None:
        if params.get('location') == 'external' and params.get('memory') and not params.get('memory_file'):
            raise LibvirtFailure('memory=true with location=external needs memory_file (where libvirt saves '
                                 'the guest memory)')
        if params.get('location') == 'external' and not params.get('disk_only') and not params.get('memory'):
            # libvirt takes an external snapshot of the disks only with DISK_ONLY, or together with the memory
            # saved to a file; anything else it refuses ("must use snapshot mode 'internal'").
            raise LibvirtFailure('location=external takes either the disks only (disk_only=true) or the disks and the '
                                 'memory state (memory=true with memory_file); say which',
                                 hint='Set disk_only: true for overlays of the disks, or memory: true and '
                                      'memory_file: <path> to save the memory too.')
        if params.get('quiesce') and not params.get('disk_only'):
            raise LibvirtFailure('quiesce=true needs disk_only=true (libvirt only quiesces disk-only snapshots)')


def _find(dom, name):
    return SNAPSHOT.find(dom, name)


def _predicted(params, root, current):
    """What a snapshot created from ``root`` would look like (check mode: what the options say)."""
    disk_only = bool(params.get('disk_only'))
    memory = root.find('memory')
    return dict(name=root.findtext('name'), description=root.findtext('description'),
                state='disk-snapshot' if disk_only else None, parent=current, children=[], current=True,
                creation_time=None, location=params.get('location') if not params.get('xml') else None,
                disk_only=disk_only, memory=None if memory is None else memory.get('snapshot'),
                memory_file=None if memory is None else memory.get('file'),
                disks=[dict(name=d.get('name'), snapshot=d.get('snapshot'), file=_attr(d, 'source', 'file'),
                            format=_attr(d, 'driver', 'type')) for d in root.findall('disks/disk')])


def _attr(element, path, name):
    found = element.find(path)
    return None if found is None else found.get(name)


class SnapshotRun(_domain_child.ChildRun):
    """One run of domain_snapshot: present, absent or reverted, then retention."""

    kind = SNAPSHOT

    def run(self):
        p = self.params
        dom = find_domain(self.conn, p['domain'])
        if dom is None:
            return self.without_domain()
        self.dom = dom
        snapshot = None
        if p['state'] == 'present' and (p.get('name') or p.get('xml') is not None):
            snapshot = self.present(dom)
        elif p['state'] == 'absent' and p.get('name'):
            self.absent(dom)
        elif p['state'] == 'reverted':
            snapshot = self.revert(dom)
        if p.get('retention'):
            self.retain(dom, p['retention']['prefix'], p['retention']['keep'],
                        protect=snapshot['name'] if snapshot else None)
        if snapshot is not None and not self.check:
            found = _find(dom, snapshot['name'])
            if found is not None:
                snapshot = self._data(found)
        current = current_snapshot_name(dom) if not self.check or not self.changed else None
        return self._result(snapshot, dom.name(), current)

    def _result(self, snapshot, domain, current):
        return self.finish(diff=dict(before=self.before, after=self.after), snapshot=snapshot, deleted=self.deleted,
                           domain=domain, current=current)

    # what ChildRun.without_domain asks
    def wanted_here(self):
        return bool(self.params.get('name') or self.params.get('xml') is not None)

    def desired(self):
        _validate(self.params)
        return desired_xml(self.params)

    def predicted(self, root):
        return _predicted(self.params, root, None)

    def empty_result(self, domain):
        return self._result(None, domain, None)

    def child_result(self, child, domain):
        return self._result(child, domain, None)

    def summary(self, obj):
        with call('read snapshot %s' % obj.getName()):
            return _xml.to_string(_summary(_xml.parse(obj.getXMLDesc(0), what='snapshot XML')))

    def _data(self, snap):
        kids = []
        with call('list the children of snapshot %s' % snap.getName()):
            kids = [c.getName() for c in snap.listAllChildren(0)]
        return snapshot_data(snap, children=kids)

    # ------------------------------------------------------------------ present
    def present(self, dom):
        _validate(self.params)
        domain_xml = None
        if self.params.get('xml') is None and self.params.get('location') == 'external' and not self.params.get('disks'):
            with call('read the disks of %s' % dom.name()):
                domain_xml = dom.XMLDesc(0)
        root = desired_xml(self.params, domain_xml)
        name = root.findtext('name')
        existing = _find(dom, name)
        if existing is None:
            current = current_snapshot_name(dom)
            self.after = _xml.to_string(root)
            self.act('create snapshot %s' % name)
            if self.check:
                return _predicted(self.params, root, current)
            flags = create_flags(self.params, root)
            with call('create snapshot %s of %s' % (name, dom.name())):
                snap = dom.snapshotCreateXML(_xml.to_string(root, pretty=False), flags)
            return self._data(snap)
        # It exists: only the description can be brought in line.
        with call('read snapshot %s' % name):
            stored = _xml.parse(existing.getXMLDesc(0), what='snapshot XML')
        data = self._data(existing)
        wanted_description = root.findtext('description')
        if self.params.get('description') is not None or (self.params.get('xml') and wanted_description is not None):
            if (stored.findtext('description') or '') != (wanted_description or ''):
                self.before = _xml.to_string(_summary(stored))
                _xml.set_child_text(stored, 'description', wanted_description)
                self.after = _xml.to_string(_summary(stored))
                self.act('update the description of snapshot %s' % name)
                if self.check:
                    data['description'] = wanted_description
                    return data
                flags = _flag('VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE')
                if data['current']:
                    flags |= _flag('VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT')
                with call('update the description of snapshot %s' % name):
                    existing = dom.snapshotCreateXML(_xml.to_string(stored, pretty=False), flags)
                return self._data(existing)
        differs = self._content_differs(root, stored)
        if differs:
            self.warnings.append('Snapshot %s exists and is left as it is: %s. A snapshot cannot be changed '
                                 'after creation; delete it (state=absent) to take it again.'
                                 % (name, '; '.join(differs)))
        return data

    def _content_differs(self, root, stored):
        out = []
        wanted_memory = root.find('memory')
        stored_memory = stored.find('memory')
        if wanted_memory is not None and stored_memory is not None and \
                wanted_memory.get('snapshot') != stored_memory.get('snapshot'):
            out.append('memory is %s, asked for %s' % (stored_memory.get('snapshot'), wanted_memory.get('snapshot')))
        stored_disks = dict((d.get('name'), d.get('snapshot')) for d in stored.findall('disks/disk'))
        for disk in root.findall('disks/disk'):
            have = stored_disks.get(disk.get('name'))
            if have is not None and disk.get('snapshot') and have != disk.get('snapshot'):
                out.append('disk %s is %s, asked for %s' % (disk.get('name'), have, disk.get('snapshot')))
        if self.params.get('disk_only') is not None and self.params.get('xml') is None:
            if bool(self.params['disk_only']) != (stored.findtext('state') == 'disk-snapshot'):
                out.append('disk_only is %s' % (stored.findtext('state') == 'disk-snapshot'))
        return out

    # ------------------------------------------------------------------ reverted
    def revert(self, dom):
        name = self.params.get('name')
        if name:
            snap = _find(dom, name)
            if snap is None:
                raise LibvirtFailure('Snapshot %s of %s not found; nothing to revert to' % (name, dom.name()),
                                     hint='List the snapshots with sysvirt.libvirt.domain_snapshot_info.')
        else:
            current = current_snapshot_name(dom)
            if current is None:
                raise LibvirtFailure('%s has no current snapshot to revert to' % dom.name(),
                                     hint='Name the snapshot to revert to with the name option.')
            snap = _find(dom, current)
        flags = 0
        after = self.params.get('after')
        if after == 'running':
            flags |= _flag('VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING')
        elif after == 'paused':
            flags |= _flag('VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED')
        if self.params.get('force'):
            flags |= _flag('VIR_DOMAIN_SNAPSHOT_REVERT_FORCE')
        self.act('revert %s to snapshot %s%s' % (dom.name(), snap.getName(), ' (%s after)' % after if after else ''))
        if not self.check:
            with call('revert %s to snapshot %s' % (dom.name(), snap.getName())):
                dom.revertToSnapshot(snap, flags)
            if after == 'shutoff' and dom.isActive():
                with call('stop %s after reverting' % dom.name()):
                    dom.destroy()
        data = self._data(snap)
        if self.check:
            data['current'] = True
        return data

    # ------------------------------------------------------------------ retention
    def retain(self, dom, prefix, keep, protect=None):
        if keep < 0:
            raise LibvirtFailure('retention.keep must be 0 or more, not %d' % keep)
        snaps = [s for s in list_snapshots(dom) if s['name'].startswith(prefix)]
        if self.check and protect and protect.startswith(prefix) and not any(s['name'] == protect for s in snaps):
            # The snapshot this run would create is the newest.
            snaps.append(dict(name=protect, creation_time=float('inf')))
        snaps.sort(key=lambda s: (s['creation_time'] if s['creation_time'] is not None else 0, s['name']))
        doomed = snaps[:max(0, len(snaps) - keep)]
        for data in doomed:
            name = data['name']
            if name in self.deleted:
                continue
            self.act('delete snapshot %s (retention: keep the newest %d matching %r)' % (name, keep, prefix))
            self.deleted.append(name)
            if self.check:
                continue
            snap = _find(dom, name)
            if snap is None:
                continue
            with call('delete snapshot %s of %s' % (name, dom.name())):
                snap.delete(_flag('VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY') if self.params.get('metadata_only') else 0)


def _summary(root):
    """The snapshot document without the embedded domain definition (for --diff)."""
    copy = _xml.parse(_xml.to_string(root, pretty=False))
    for tag in ('domain', 'inactiveDomain', 'cookie'):
        for el in copy.findall(tag):
            copy.remove(el)
    return copy


def run_module(module):
    SnapshotRun.main(module)


def _read_info(dom, p):
    every = list_snapshots(dom, with_xml=p['xml'])
    current = next((s['name'] for s in every if s['current']), None)
    return every, dict(current=current, tree=tree(every))


def run_info(module):
    _domain_child.run_info(module, 'snapshots', _read_info)
