# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Backups of running guests (the domain_backup module): push to files, pull over NBD, retention.

Private to this collection: the names here may change without notice.

A push backup writes one image per disk into a directory of its own, and then a manifest (``backup.json``) that
says what the backup is (full or incremental since which checkpoint, the checkpoint created with it, the files,
bytes, duration). The manifest is written last, atomically: a directory without it holds no complete backup, and a
backup that fails or is aborted on its timeout removes its files and its checkpoint, so nothing half-written is
left that looks complete. An incremental image gets the previous backup's image (the backup made at the
checkpoint it starts from, found next to its directory) as its backing file, so every image is the whole disk at
its point in time: ``qemu-img convert`` of it restores that point.

A backup into a storage pool (``pool`` and ``name``) works the same way with volumes the module creates,
``<name>.<disk>.<format>``, and a manifest volume ``<name>.backup.json`` created and written last; the other
backups of the guest are those in the same pool.

A directory (or a name in a pool) that already holds a complete backup is what makes a push idempotent.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import tempfile
import time
import uuid

try:
    from lxml import etree
except ImportError:  # reported by _connection.require_libraries
    etree = None

try:
    import libvirt
except ImportError:
    libvirt = None

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils import _checkpoint
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call, lookup
from ansible_collections.sysvirt.libvirt.plugins.module_utils._device import require_domain
from ansible_collections.sysvirt.libvirt.plugins.module_utils._events import DomainEvents
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import ModuleRun
from ansible_collections.sysvirt.libvirt.plugins.module_utils._stream import finish_or_abort, upload

MANIFEST = 'backup.json'


def _flag(name):
    return getattr(libvirt, name, 0)


class BackupEvents(DomainEvents):
    """DomainEvents plus the job-completed event (its statistics) and block-job events of the backup."""

    def registrations(self):
        return super(BackupEvents, self).registrations() + [
            (libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, self._on_job_completed),
            (libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, self._on_block_job)]

    def _on_job_completed(self, conn, dom, params, opaque):
        self._record(('job-completed', None, dict(params)))

    def _on_block_job(self, conn, dom, disk, job_type, status, opaque):
        self._record(('block-job', disk, (job_type, status)))

    def completed(self):
        """The statistics of the job-completed event, or None before it came."""
        with self.cond:
            for event in self.events:
                if event[0] == 'job-completed':
                    return event[2]
        return None

    def finished(self, disks):
        """The statistics of the job once it completed and the block job of every disk in ``disks`` ended too;
        None before. libvirt sends job-completed before it closes the target images, and the block job's event
        after: a target is complete on disk only then."""
        stats = self.completed()
        if stats is None:
            return None
        with self.cond:
            ended = set(e[1] for e in self.events if e[0] == 'block-job')
        return stats if set(disks) <= ended else None


# ---------------------------------------------------------------------------------------------- pure parts

def backup_disks(domain_xml, wanted):
    """[{name, backup, format, file, scratch}] for the disks of a domain document: the disks listed in ``wanted``
    (with their options), or, when none are listed, every writable disk (CD-ROMs, floppies, read-only and
    non-file disks left out)."""
    root = _xml.parse(domain_xml, what='domain XML')
    known = []
    for disk in root.findall('devices/disk'):
        target = disk.find('target')
        if target is None or not target.get('dev'):
            continue
        skip = disk.get('device') in ('cdrom', 'floppy') or disk.find('readonly') is not None
        known.append((target.get('dev'), skip))
    options = dict((d['name'], d) for d in wanted or [])
    missing = sorted(set(options) - set(name for name, _skip in known))
    if missing:
        raise LibvirtFailure('The guest has no disk %s' % ', '.join(missing),
                             hint='Name disks by their target (vda, sdb, ...) as sysvirt.libvirt.domain_info shows.')
    out = []
    for name, skip in known:
        if options:
            opt = options.get(name)
            chosen = opt is not None and opt.get('backup', True)
        else:
            opt, chosen = {}, not skip
        out.append(dict(name=name, backup=bool(chosen), file=(opt or {}).get('file'),
                        format=(opt or {}).get('format'), scratch=(opt or {}).get('scratch')))
    if not any(d['backup'] for d in out):
        raise LibvirtFailure('No disk of the guest is chosen for the backup')
    return out


def push_xml(disks, incremental=None):
    root = etree.Element('domainbackup', mode='push')
    if incremental:
        etree.SubElement(root, 'incremental').text = incremental
    disks_el = etree.SubElement(root, 'disks')
    for disk in disks:
        if not disk['backup']:
            etree.SubElement(disks_el, 'disk', name=disk['name'], backup='no')
            continue
        kind = disk.get('type') or 'file'
        el = etree.SubElement(disks_el, 'disk', name=disk['name'], backup='yes', type=kind)
        etree.SubElement(el, 'target', **{'dev' if kind == 'block' else 'file': disk['file']})
        etree.SubElement(el, 'driver', type=disk['format'])
    return root


def pull_xml(disks, nbd, incremental=None):
    root = etree.Element('domainbackup', mode='pull')
    if incremental:
        etree.SubElement(root, 'incremental').text = incremental
    if nbd.get('socket'):
        etree.SubElement(root, 'server', transport='unix', socket=nbd['socket'])
    else:
        etree.SubElement(root, 'server', transport='tcp', name=nbd.get('host') or 'localhost',
                         port=str(nbd.get('port') or 10809))
    disks_el = etree.SubElement(root, 'disks')
    for disk in disks:
        if not disk['backup']:
            etree.SubElement(disks_el, 'disk', name=disk['name'], backup='no')
            continue
        el = etree.SubElement(disks_el, 'disk', name=disk['name'], backup='yes', type='file',
                              exportname=disk['name'])
        etree.SubElement(el, 'scratch', file=disk['scratch'])
    return root


def checkpoint_xml(name, description, disks):
    root = etree.Element('domaincheckpoint')
    etree.SubElement(root, 'name').text = name
    if description:
        etree.SubElement(root, 'description').text = description
    disks_el = etree.SubElement(root, 'disks')
    for disk in disks:
        etree.SubElement(disks_el, 'disk', name=disk['name'], checkpoint='bitmap' if disk['backup'] else 'no')
    return root


def read_manifest(directory):
    """The manifest of the backup in ``directory``, or None when it holds no complete backup."""
    path = os.path.join(directory, MANIFEST)
    try:
        with open(path) as f:
            data = json.load(f)
    except (IOError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get('complete') else None


def write_manifest(directory, data):
    path = os.path.join(directory, MANIFEST)
    tmp = '%s.%s.tmp' % (path, uuid.uuid4().hex[:8])
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def sibling_backups(root_dir, domain_uuid):
    """The manifests of the complete backups of one guest in the directories under ``root_dir``, oldest first;
    each with its ``directory``."""
    found = []
    try:
        names = sorted(os.listdir(root_dir))
    except OSError:
        return found
    for name in names:
        directory = os.path.join(root_dir, name)
        data = read_manifest(directory)
        if data is not None and data.get('uuid') == domain_uuid:
            data = dict(data, directory=directory)
            found.append(data)
    found.sort(key=lambda d: (d.get('completed') or 0, d['directory']))
    return found


def retained(backups, keep):
    """(kept, doomed) of a list of manifests, oldest first: the newest ``keep`` backups and every backup a kept
    one needs (following ``since`` to the backup made at that checkpoint, down to a full backup)."""
    by_checkpoint = dict((b['checkpoint'], b) for b in backups if b.get('checkpoint'))
    kept = set()
    for backup in backups[max(0, len(backups) - keep):]:
        seen = backup
        while seen is not None and backup_key(seen) not in kept:
            kept.add(backup_key(seen))
            seen = by_checkpoint.get(seen.get('since'))
    return ([b for b in backups if backup_key(b) in kept], [b for b in backups if backup_key(b) not in kept])


def backup_key(data):
    """What names a backup: its directory, or ``<pool>/<name>`` for a backup into volumes of a pool."""
    return data.get('directory') or '%s/%s' % (data.get('pool'), data.get('name'))


def manifest_disks(chosen):
    """The manifest's ``disks``: name, file, format, backing and (pool targets) volume of each disk backed up."""
    return [dict(name=d['name'], file=d['file'], format=d['format'], backing=d['backing'], volume=d.get('volume'))
            for d in chosen]


def job_numbers(stats):
    """(bytes transferred, bytes in total, libvirt's elapsed milliseconds) from job statistics."""
    stats = stats or {}
    processed = stats.get('disk_processed', stats.get('data_processed'))
    total = stats.get('disk_total', stats.get('data_total'))
    return processed, total, stats.get('time_elapsed')


# ---------------------------------------------------------------------------------------------- the run

class BackupRun(ModuleRun):
    """One run of domain_backup."""

    def __init__(self, module, conn):
        super(BackupRun, self).__init__(module, conn)
        self.deleted = []
        self.deleted_checkpoints = []
        self.target = None

    def run(self):
        p = self.params
        dom = require_domain(self.conn, p['domain'])
        backup = export = None
        if p['state'] == 'absent':
            export = self.end_export(dom)
        elif p['mode'] == 'pull':
            export = self.start_export(dom)
        else:
            backup = self.push(dom)
        if p.get('retention') and p['state'] == 'present':
            if p['mode'] == 'push':
                self.retain(dom, backup)
            else:
                self.retain_checkpoints(dom, export)
        return self.finish(backup=backup, export=export, deleted=self.deleted,
                           deleted_checkpoints=self.deleted_checkpoints, domain=dom.name())

    # ------------------------------------------------------------------ checks before anything changes
    def _require_running(self, dom):
        if not dom.isActive():
            raise LibvirtFailure('%s is not running: libvirt backs up running guests only' % dom.name(),
                                 hint='Start the guest first, or copy the stopped guest\'s images with qemu-img.')

    def _require_checkpoints(self, dom):
        p = self.params
        if p.get('incremental') and _checkpoint.find(dom, p['incremental']) is None:
            raise LibvirtFailure('Checkpoint %s of %s not found: an incremental backup starts from an existing '
                                 'checkpoint' % (p['incremental'], dom.name()),
                                 hint='List them with sysvirt.libvirt.domain_checkpoint_info; take a full backup '
                                      'with a checkpoint first.')
        if p.get('checkpoint') and _checkpoint.find(dom, p['checkpoint']) is not None:
            raise LibvirtFailure('Checkpoint %s of %s exists already, and no complete backup made with it is in %s'
                                 % (p['checkpoint'], dom.name(), p.get('directory')),
                                 hint='Name the checkpoint of each backup differently (for example after the date), '
                                      'or delete the old one with sysvirt.libvirt.domain_checkpoint.')

    # ------------------------------------------------------------------ push
    def _target(self):
        p = self.params
        if p.get('pool'):
            return PoolTarget(self, p['pool'], p['name'])
        return DirectoryTarget(self, p['directory'])

    def push(self, dom):
        p = self.params
        target = self.target = self._target()
        done = target.done()
        if done is not None:
            if done.get('uuid') != dom.UUIDString():
                raise LibvirtFailure('%s holds a backup of another guest (%s)' % (target.label, done.get('domain')))
            return done
        self._require_running(dom)
        self._require_checkpoints(dom)
        with call('read the disks of %s' % dom.name()):
            disks = backup_disks(dom.XMLDesc(0), p['disks'])
        base = self._base(target, dom.UUIDString())
        for disk in disks:
            disk['format'] = disk['format'] or p['format']
            disk['backing'] = None
            if disk['backup'] and base is not None:
                disk['backing'] = next((d['file'] for d in base['disks'] if d['name'] == disk['name']), None)
            if disk['backup']:
                target.place(disk)
        chosen = [d for d in disks if d['backup']]
        if p.get('incremental') and any(d['format'] != 'qcow2' for d in chosen):
            raise LibvirtFailure('An incremental backup is written to qcow2 images only (format=qcow2)')
        existing = target.existing(chosen)
        if existing:
            raise LibvirtFailure('%s exists, but no complete backup is in %s (an earlier backup that did not finish?)'
                                 % (', '.join(existing), target.label),
                                 hint='Remove %s, or back up into another %s.' % (
                                     'them' if len(existing) > 1 else 'it', target.kind))
        try:
            target.prepare()
        except LibvirtFailure:
            self._undo(dom)  # the directory, when this run made it
            raise
        self.act('back up %s of %s (%s) to %s' % (', '.join(d['name'] for d in chosen), dom.name(),
                                                  'incremental since %s' % p['incremental'] if p.get('incremental')
                                                  else 'full', target.label))
        if p.get('checkpoint'):
            self.act('create checkpoint %s' % p['checkpoint'])
        manifest = dict(target.where(), domain=dom.name(), uuid=dom.UUIDString(), mode='push', complete=True,
                        kind='incremental' if p.get('incremental') else 'full', since=p.get('incremental'),
                        checkpoint=p.get('checkpoint'), disks=manifest_disks(chosen),
                        bytes=None, total_bytes=None, seconds=None, libvirt_ms=None, started=None, completed=None)
        if self.check:
            return manifest
        return self._push(dom, disks, manifest)

    def _base(self, target, domain_uuid):
        """The manifest of the backup made at the incremental's checkpoint, next to the target; None for a full
        backup, or (with a warning) when it is not found."""
        since = self.params.get('incremental')
        if not since:
            return None
        for data in target.siblings(domain_uuid):
            if data.get('checkpoint') == since:
                return data
        self.warnings.append('No backup made at checkpoint %s was found next to %s: the incremental images get no '
                             'backing file; set it (qemu-img rebase -u -b <image of that backup> -F qcow2) before '
                             'restoring from them' % (since, target.label))
        return None

    def _push(self, dom, disks, manifest):
        p = self.params
        started = time.time()
        clock = time.monotonic()
        try:
            flags = self.target.make(dom, [d for d in disks if d['backup']])
            cp_xml = None
            if p.get('checkpoint'):
                cp_xml = _xml.to_string(checkpoint_xml(p['checkpoint'], p.get('checkpoint_description'), disks),
                                        pretty=False)
            with BackupEvents(self.conn, dom) as events:
                with call('start the backup of %s' % dom.name()):
                    dom.backupBegin(_xml.to_string(push_xml(disks, p.get('incremental')), pretty=False), cp_xml,
                                    flags)
                chosen = [d['name'] for d in disks if d['backup']]
                events.wait(lambda: events.finished(chosen) is not None, p['timeout'])
                stats = events.finished(chosen)
                if stats is None:
                    self._abort(dom, events, chosen)
                    raise LibvirtFailure('The backup of %s did not finish within %s seconds: aborted, its %s and '
                                         'checkpoint removed' % (dom.name(), p['timeout'], self.target.what),
                                         hint='Raise timeout, or limit the disks backed up.')
            if not stats.get('success', True):
                raise LibvirtFailure('The backup of %s failed: %s' % (dom.name(), stats.get('errmsg') or 'no reason given'),
                                     hint='See the guest\'s QEMU log (/var/log/libvirt/qemu/) for the reason.')
            stats = self._completed_stats(dom, stats)
            processed, total, elapsed = job_numbers(stats)
            manifest.update(disks=manifest_disks(d for d in disks if d['backup']), bytes=processed, total_bytes=total,
                            seconds=round(time.monotonic() - clock, 3), libvirt_ms=elapsed, started=started,
                            completed=time.time())
            self.target.commit(manifest)
        except Exception:
            self._undo(dom)
            raise
        return manifest

    def _completed_stats(self, dom, stats):
        if stats.get('disk_processed'):
            return stats
        try:
            return dict(dom.jobStats(_flag('VIR_DOMAIN_JOB_STATS_COMPLETED')), **stats)
        except libvirt.libvirtError:
            return stats

    def _abort(self, dom, events, disks):
        try:
            dom.abortJob()
        except libvirt.libvirtError:
            pass
        events.wait(lambda: events.finished(disks) is not None, 60)

    def _undo(self, dom):
        """After a failed or aborted backup: delete its checkpoint and the files, directory or volumes it made."""
        name = self.params.get('checkpoint')
        if name:
            try:
                _checkpoint.delete_checkpoint(dom, name)
            except LibvirtFailure:
                pass
        if self.target is not None:
            self.target.undo()
        self.actions = []
        self.changed = False

    # ------------------------------------------------------------------ pull
    def _current_job(self, dom):
        try:
            return _xml.parse(dom.backupGetXMLDesc(0), what='backup XML')
        except libvirt.libvirtError as e:
            if e.get_error_code() == getattr(libvirt, 'VIR_ERR_NO_DOMAIN_BACKUP', -1):
                return None
            if e.get_error_code() == getattr(libvirt, 'VIR_ERR_OPERATION_INVALID', -1) and not dom.isActive():
                return None
            raise

    def start_export(self, dom):
        p = self.params
        if p.get('pool'):
            raise LibvirtFailure('pool is where a push backup writes; a pull export writes nothing but scratch files',
                                 hint='Leave pool and name out with mode=pull (scratch files go to scratch_directory).')
        running = self._current_job(dom) if dom.isActive() else None
        if running is not None:
            return export_data(running)
        self._require_running(dom)
        self._require_checkpoints(dom)
        nbd = p.get('nbd') or {}
        if not nbd.get('socket') and not nbd.get('port'):
            raise LibvirtFailure('mode=pull needs nbd.socket (a UNIX socket) or nbd.port (a loopback address)')
        with call('read the disks of %s' % dom.name()):
            disks = backup_disks(dom.XMLDesc(0), p['disks'])
        scratch_dir = os.path.abspath(p.get('scratch_directory') or p.get('directory') or '/var/lib/libvirt/images')
        for disk in disks:
            disk['scratch'] = disk['scratch'] or os.path.join(scratch_dir, '%s.%s.scratch' % (dom.name(), disk['name']))
        root = pull_xml(disks, nbd, p.get('incremental'))
        actions = ['export %s of %s over NBD' % (', '.join(d['name'] for d in disks if d['backup']), dom.name())]
        cp_xml = None
        if p.get('checkpoint'):
            actions.append('create checkpoint %s' % p['checkpoint'])
            cp_xml = _xml.to_string(checkpoint_xml(p['checkpoint'], p.get('checkpoint_description'), disks),
                                    pretty=False)
        if not self.check:
            with call('start the NBD export of %s' % dom.name()):
                dom.backupBegin(_xml.to_string(root, pretty=False), cp_xml, 0)
        for action in actions:
            self.act(action)
        return export_data(root if self.check else self._current_job(dom))

    def end_export(self, dom):
        running = self._current_job(dom) if dom.isActive() else None
        if running is None:
            return None
        data = export_data(running)
        if not self.check:
            with BackupEvents(self.conn, dom) as events:
                with call('end the backup job of %s' % dom.name()):
                    dom.abortJob()
                events.wait(lambda: events.completed() is not None or self._current_job(dom) is None,
                            self.params['timeout'])
        self.act('end the backup job of %s (%s mode)' % (dom.name(), data['mode']))
        return data

    # ------------------------------------------------------------------ retention
    def retain(self, dom, backup):
        keep = self.params['retention']['keep']
        if keep < 1:
            raise LibvirtFailure('retention.keep must be 1 or more, not %d' % keep)
        backups = self.target.siblings(dom.UUIDString())
        if self.check and backup is not None and not any(backup_key(b) == backup_key(backup) for b in backups):
            backups.append(dict(backup, completed=float('inf')))
        kept, doomed = retained(backups, keep)
        keep_checkpoints = set(b.get('checkpoint') for b in kept)
        for data in doomed:
            self.act('delete backup %s (retention: keep the newest %d and what they need)' % (backup_key(data), keep))
            self.deleted.append(backup_key(data))
            name = data.get('checkpoint')
            if name and name not in keep_checkpoints and _checkpoint.find(dom, name) is not None:
                self.act('delete checkpoint %s (its backup is deleted)' % name)
                self.deleted_checkpoints.append(name)
                if not self.check:
                    _checkpoint.delete_checkpoint(dom, name)
            if not self.check:
                self.target.remove(data)

    def retain_checkpoints(self, dom, export):
        """Pull mode: keep the newest ``retention.keep`` checkpoints whose names start with ``retention.prefix`` and
        the one the running export starts from; delete the others, oldest first."""
        keep, prefix = self.params['retention']['keep'], self.params['retention'].get('prefix') or ''
        if keep < 1:
            raise LibvirtFailure('retention.keep must be 1 or more, not %d' % keep)
        cps = [c for c in _checkpoint.list_checkpoints(dom) if c['name'].startswith(prefix)]
        new = self.params.get('checkpoint')
        if self.check and new and new.startswith(prefix) and not any(c['name'] == new for c in cps):
            cps.append(dict(name=new, creation_time=float('inf'), chain=[c['name'] for c in cps]))
        for name in doomed_checkpoints(cps, keep, (export or {}).get('incremental')):
            self.act('delete checkpoint %s (retention: keep the newest %d%s)'
                     % (name, keep, ' matching %r' % prefix if prefix else ''))
            self.deleted_checkpoints.append(name)
            if not self.check:
                _checkpoint.delete_checkpoint(dom, name)


def doomed_checkpoints(cps, keep, needed=None):
    """The names of the checkpoints (dicts of domain_checkpoint_info) that retention deletes, oldest first: all but
    the newest ``keep`` and ``needed`` (the checkpoint a running export starts from). Oldest means created first,
    and among checkpoints of the same second, fewer ancestors. Deleting a checkpoint merges its bitmap into its
    parent's (libvirt), so every kept checkpoint still starts a whole incremental backup."""
    ordered = sorted(cps, key=lambda c: (c.get('creation_time') or 0, len(c.get('chain') or []), c['name']))
    return [c['name'] for c in ordered[:max(0, len(ordered) - keep)] if c['name'] != needed]


def remove_backup(data):
    """Delete a backup's manifest first (so it never looks complete without its files), then its files and the
    directory when it is empty."""
    directory = data['directory']
    os.unlink(os.path.join(directory, MANIFEST))
    for disk in data.get('disks') or []:
        path = disk.get('file')
        if path and os.path.dirname(os.path.abspath(path)) == directory and os.path.exists(path):
            os.unlink(path)
    if not os.listdir(directory):
        shutil.rmtree(directory)


# ---------------------------------------------------------------------------------------------- targets

class DirectoryTarget:
    """A push backup into image files in a directory of its own; its manifest is a file written last."""

    kind = 'directory'
    what = 'files'

    def __init__(self, run, directory):
        self.run = run
        self.directory = os.path.abspath(directory)
        self.label = self.directory
        self.created = []

    def where(self):
        return dict(directory=self.directory, pool=None, name=None)

    def done(self):
        """The manifest of the complete backup in the directory, or None."""
        data = read_manifest(self.directory)
        return None if data is None else dict(data, directory=self.directory)

    def siblings(self, domain_uuid):
        return sibling_backups(os.path.dirname(self.directory), domain_uuid)

    def place(self, disk):
        disk['file'] = disk['file'] or os.path.join(self.directory, '%s.%s' % (disk['name'], disk['format']))

    def existing(self, chosen):
        return [d['file'] for d in chosen if os.path.exists(d['file'])]

    def prepare(self):
        """Make the directory when it is missing (recorded, so a failure removes it) and prove it takes files."""
        directory, run = self.directory, self.run
        if not os.path.isdir(directory):
            parent = os.path.dirname(directory)
            if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
                raise LibvirtFailure('Cannot make the backup directory %s: %s is not a writable directory'
                                     % (directory, parent))
            if run.check:
                run.act('make directory %s' % directory)
                return
            try:
                os.mkdir(directory, 0o711)
            except OSError as e:
                raise LibvirtFailure('Cannot make the backup directory %s: %s' % (directory, e.strerror))
            self.created.append(directory)
            run.act('make directory %s' % directory)
        probe = os.path.join(directory, '.sysvirt-write-test-%s' % uuid.uuid4().hex[:8])
        try:
            with open(probe, 'w'):
                pass
            os.unlink(probe)
        except (IOError, OSError) as e:
            raise LibvirtFailure('The backup directory %s is not writable: %s' % (directory, e.strerror),
                                 hint='Give it to a directory root can write (not read-only, not immutable).')

    def make(self, dom, chosen):
        """An incremental backup's images are made here, with the previous backup's images as backing files (libvirt
        would make them on the guest's own images), and begun with REUSE_EXTERNAL; a full backup's images libvirt
        makes. Returns the flags of backupBegin."""
        self.created.extend(d['file'] for d in chosen)
        if not self.run.params.get('incremental'):
            return 0
        for disk in chosen:
            cmd = ['qemu-img', 'create', '-q', '-f', disk['format']]
            if disk['backing']:
                cmd += ['-b', disk['backing'], '-F', 'qcow2']
            cmd += [disk['file'], str(disk_capacity(dom, disk['name']))]
            rc, out, err = self.run.module.run_command(cmd)
            if rc != 0:
                raise LibvirtFailure('Cannot create %s: %s' % (disk['file'], (err or out).strip()))
        return _flag('VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL')

    def commit(self, manifest):
        write_manifest(self.directory, manifest)

    def undo(self):
        for path in reversed(self.created):
            try:
                if os.path.isdir(path):
                    os.rmdir(path)
                elif os.path.exists(path):
                    os.unlink(path)
            except OSError:
                pass

    @staticmethod
    def remove(data):
        remove_backup(data)


def disk_capacity(dom, disk):
    with call('read the size of disk %s of %s' % (disk, dom.name())):
        return dom.blockInfo(disk, 0)[0]


def volume_xml(name, capacity, fmt, backing=None):
    """A new volume's document: sparse (allocation 0), of ``fmt``, on ``backing`` (a qcow2 image) when given."""
    root = etree.Element('volume')
    etree.SubElement(root, 'name').text = name
    etree.SubElement(root, 'capacity', unit='bytes').text = str(capacity)
    etree.SubElement(root, 'allocation', unit='bytes').text = '0'
    etree.SubElement(etree.SubElement(root, 'target'), 'format', type=fmt)
    if backing:
        store = etree.SubElement(root, 'backingStore')
        etree.SubElement(store, 'path').text = backing
        etree.SubElement(store, 'format', type='qcow2')
    return _xml.to_string(root, pretty=False)


def volume_bytes(conn, vol):
    """The content of a (small) volume, read through libvirt."""
    chunks = []

    def take(stream, buf, opaque):
        chunks.append(buf)
        return len(buf)
    with call('read volume %s' % vol.name()):
        stream = conn.newStream(0)
        vol.download(stream, 0, 0, 0)
        finish_or_abort(stream, lambda: stream.recvAll(take, None))
    return b''.join(chunks)


def write_volume(conn, vol, data):
    """Write ``data`` into a volume from offset 0, through libvirt (from a temporary file: _stream.upload)."""
    fd, path = tempfile.mkstemp(prefix='.sysvirt-manifest-')
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        upload(conn, vol, path)
    finally:
        os.unlink(path)


def parse_manifest(raw):
    """A manifest's dict from the bytes of a manifest volume (padded with zeros to its size), or None when it holds
    no complete backup."""
    try:
        data = json.loads(raw.rstrip(b'\0').decode('utf-8'))
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get('complete') else None


class PoolTarget:
    """A push backup into volumes of a storage pool, C(<name>.<disk>.<format>), that the module creates (sized from
    the disk); its manifest is a volume C(<name>.backup.json), created and written last."""

    kind = 'name'
    what = 'volumes'

    def __init__(self, run, pool_name, name):
        self.run, self.conn = run, run.conn
        self.pool_name, self.name = pool_name, name
        self.label = 'pool %s as %s' % (pool_name, name)
        self.created = []
        self.pool = lookup(self.conn.storagePoolLookupByName, pool_name)
        if self.pool is None:
            raise LibvirtFailure('Storage pool %s not found: a backup into a pool needs the pool' % pool_name,
                                 hint='Create and start it first (sysvirt.libvirt.storage_pool), or name another.')
        with call('read the state of storage pool %s' % pool_name):
            active = self.pool.isActive()
        if not active:
            raise LibvirtFailure('Storage pool %s is not active: its volumes cannot be made' % pool_name,
                                 hint='Start it first (sysvirt.libvirt.storage_pool with state: active).')
        with call('refresh storage pool %s' % pool_name):
            self.pool.refresh(0)
            self.path = _xml.parse(self.pool.XMLDesc(0), what='storage pool XML').findtext('target/path') or ''

    def where(self):
        return dict(directory=None, pool=self.pool_name, name=self.name)

    def _volume(self, name):
        return lookup(self.pool.storageVolLookupByName, name)

    def _manifest(self, vol):
        data = parse_manifest(volume_bytes(self.conn, vol))
        return data if data is not None and data.get('pool') == self.pool_name else None

    def done(self):
        vol = self._volume(self.name + '.' + MANIFEST)
        return None if vol is None else self._manifest(vol)

    def siblings(self, domain_uuid):
        """The complete backups of one guest in the pool, oldest first."""
        with call('list the volumes of storage pool %s' % self.pool_name):
            vols = [v for v in self.pool.listAllVolumes(0) if v.name().endswith('.' + MANIFEST)]
        found = [d for d in (self._manifest(v) for v in vols) if d is not None and d.get('uuid') == domain_uuid]
        found.sort(key=lambda d: (d.get('completed') or 0, backup_key(d)))
        return found

    def place(self, disk):
        if disk['file']:
            raise LibvirtFailure('disks[].file names an image file of a backup into a directory; a backup into pool '
                                 '%s makes volumes %s.<disk>.<format>' % (self.pool_name, self.name))
        disk['volume'] = '%s.%s.%s' % (self.name, disk['name'], disk['format'])
        disk['file'] = os.path.join(self.path, disk['volume'])  # the prediction; the volume's path once made

    def existing(self, chosen):
        return [d['volume'] for d in chosen if self._volume(d['volume']) is not None]

    def prepare(self):
        """The pool was checked when this target was made."""

    def make(self, dom, chosen):
        """Create the volumes (an incremental's on the previous backup's volumes); backupBegin reuses them."""
        for disk in chosen:
            doc = volume_xml(disk['volume'], disk_capacity(dom, disk['name']), disk['format'], disk['backing'])
            with call('create volume %s in storage pool %s' % (disk['volume'], self.pool_name)):
                vol = self.pool.createXML(doc, 0)
            self.created.append(vol)
            with call('read volume %s' % disk['volume']):
                disk['file'] = vol.path()
                disk['type'] = 'block' if vol.info()[0] == libvirt.VIR_STORAGE_VOL_BLOCK else 'file'
        return _flag('VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL')

    def commit(self, manifest):
        data = json.dumps(manifest, indent=2, sort_keys=True).encode('utf-8')
        name = self.name + '.' + MANIFEST
        with call('create volume %s in storage pool %s' % (name, self.pool_name)):
            vol = self.pool.createXML(volume_xml(name, len(data), 'raw'), 0)
        self.created.append(vol)
        write_volume(self.conn, vol, data)

    def undo(self):
        for vol in reversed(self.created):
            try:
                vol.delete(0)
            except libvirt.libvirtError:
                pass

    def remove(self, data):
        """Delete the manifest volume first (so the backup never looks complete without its images), then the
        images."""
        names = [data['name'] + '.' + MANIFEST] + [d.get('volume') for d in data.get('disks') or [] if d.get('volume')]
        for name in names:
            vol = self._volume(name)
            if vol is not None:
                with call('delete volume %s of storage pool %s' % (name, self.pool_name)):
                    vol.delete(0)


def export_data(root):
    """A pull-mode (or running push) backup job's description as a dict (RV(export))."""
    server = root.find('server')
    disks = []
    for disk in root.findall('disks/disk'):
        if disk.get('backup') == 'no':
            continue
        scratch = disk.find('scratch')
        disks.append(dict(name=disk.get('name'), export=disk.get('exportname') or disk.get('name'),
                          bitmap=disk.get('exportbitmap'),
                          scratch=None if scratch is None else (scratch.get('file') or scratch.get('dev'))))
    return dict(mode=root.get('mode') or 'push', incremental=root.findtext('incremental'),
                transport=None if server is None else server.get('transport') or 'tcp',
                socket=None if server is None else server.get('socket'),
                host=None if server is None else server.get('name'),
                port=None if server is None or not server.get('port') else int(server.get('port')),
                disks=disks)


def run_module(module):
    BackupRun.main(module, events=True)
