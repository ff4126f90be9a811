# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A guest's jobs: read them (decoded to names), wait for them, abort them; block job speed; disk errors;
core dumps, saves to a file and the managed save image.

Private to this collection: the names here may change without notice.

Reading never changes anything: the last completed job's statistics are read with KEEP_COMPLETED, so another
reader still finds them. Waits listen to libvirt's events (job completed, block job, lifecycle) and re-read
the job at least every second, since a dump or a save ends without a job event of its own.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import threading
import time

try:
    import libvirt
except ImportError:  # reported by _connection.require_libraries
    libvirt = None

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain, _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    LibvirtFailure, call, exit_module, failure_from, module_connection)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._device import require_domain
from ansible_collections.sysvirt.libvirt.plugins.module_utils._events import DomainEvents
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import ModuleRun

# libvirt's enums (stable since they were added: values never change), as names.
JOB_TYPES = ('none', 'bounded', 'unbounded', 'completed', 'failed', 'cancelled')
OPERATIONS = ('unknown', 'start', 'save', 'restore', 'migration_in', 'migration_out', 'snapshot',
              'snapshot_revert', 'dump', 'backup', 'snapshot_delete')
BLOCK_JOB_TYPES = ('unknown', 'pull', 'copy', 'commit', 'active_commit', 'backup')
DISK_ERRORS = ('none', 'unspec', 'no_space')
DUMP_FORMATS = ('elf', 'kdump-zlib', 'kdump-lzo', 'kdump-snappy', 'win-dmp')
#: jobInfo()'s list, in libvirt's order (virDomainJobInfo), for drivers without jobStats.
JOB_INFO_FIELDS = ('type', 'time_elapsed', 'time_remaining', 'data_total', 'data_processed', 'data_remaining',
                   'memory_total', 'memory_processed', 'memory_remaining', 'file_total', 'file_processed',
                   'file_remaining')
#: Statistics returned under their own names (bytes and milliseconds, as libvirt gives them).
AMOUNTS = ('data_total', 'data_processed', 'data_remaining', 'memory_total', 'memory_processed',
           'memory_remaining', 'disk_total', 'disk_processed', 'disk_remaining')
TIMES = (('time_elapsed', 'elapsed_ms'), ('time_remaining', 'remaining_ms'), ('downtime', 'downtime_ms'),
         ('setup_time', 'setup_ms'))
ACTIVE_TYPES = ('bounded', 'unbounded')


def _flag(name):
    return getattr(libvirt, name, 0)


def _name(table, value):
    """The name of an enum value, or the number as text for a value this table does not know."""
    if isinstance(value, int) and 0 <= value < len(table):
        return table[value]
    return 'unknown' if value is None else str(value)


def percent(done, total):
    """Progress in percent (one decimal), or None when the total is unknown (0 or missing)."""
    if not total or done is None:
        return None
    return round(100.0 * done / total, 1)


def decode_job(stats):
    """A jobStats() dict (or jobInfo() list) as the job the modules return: names, amounts, times, progress."""
    if isinstance(stats, (list, tuple)):
        stats = dict(zip(JOB_INFO_FIELDS, stats))
    stats = dict(stats or {})
    kind = _name(JOB_TYPES, stats.get('type', 0))
    job = dict(type=kind, active=kind in ACTIVE_TYPES,
               operation=_name(OPERATIONS, stats['operation']) if 'operation' in stats else None)
    for key in AMOUNTS:
        job[key] = stats.get(key)
    for key, name in TIMES:
        job[name] = stats.get(key)
    if job['data_total']:
        job['progress'] = percent(job['data_processed'], job['data_total'])
    else:
        job['progress'] = percent(job['memory_processed'], job['memory_total'])
    job['error'] = stats.get('errmsg')
    job['stats'] = stats
    return job


def none_job():
    return decode_job({'type': 0})


def read_job(dom, completed=False):
    """The guest's current job (or, ``completed``, its last completed one, kept for other readers) decoded.

    An inactive guest has no job. A driver without jobStats falls back to jobInfo (no completed job there).
    """
    if not dom.isActive():
        return none_job()
    flags = (_flag('VIR_DOMAIN_JOB_STATS_COMPLETED') | _flag('VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED')) \
        if completed else 0
    try:
        return decode_job(dom.jobStats(flags))
    except libvirt.libvirtError as e:
        if e.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID and not dom.isActive():
            return none_job()  # it stopped meanwhile
        if e.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise failure_from(e, 'read the job of %s' % dom.name())
    if completed:
        return none_job()
    try:
        return decode_job(dom.jobInfo())
    except libvirt.libvirtError as e:
        if e.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise failure_from(e, 'read the job of %s' % dom.name())
    return decode_job({'type': None})  # a driver without jobs (the test driver): type 'unknown'


def decode_block_job(disk, info):
    """blockJobInfo()'s dict of one disk as a block job: type name, bandwidth (MiB/s), cur/end bytes, progress."""
    return dict(disk=disk, type=_name(BLOCK_JOB_TYPES, info.get('type')), bandwidth=info.get('bandwidth'),
                cur=info.get('cur'), end=info.get('end'), progress=percent(info.get('cur'), info.get('end')),
                ready=bool(info.get('end')) and info.get('cur') == info.get('end'))


def disk_targets(dom):
    with call('read the definition of %s' % dom.name()):
        root = _xml.parse(dom.XMLDesc(0), what='domain XML')
    return [t.get('dev') for t in root.findall('devices/disk/target') if t.get('dev')]


def block_job(dom, disk):
    """The block job on one disk of a running guest, or None (also on a driver without block jobs)."""
    try:
        info = dom.blockJobInfo(disk, 0)
    except libvirt.libvirtError as e:
        if e.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            return None
        raise failure_from(e, 'read the block job of disk %s of %s' % (disk, dom.name()))
    return decode_block_job(disk, info) if info else None


def block_jobs(dom):
    if not dom.isActive():
        return []
    return [job for job in (block_job(dom, disk) for disk in disk_targets(dom)) if job is not None]


def disk_errors(dom):
    """The disks with an I/O error libvirt recorded: {target: 'unspec' | 'no_space'} (running guests)."""
    if not dom.isActive():
        return {}
    try:
        errors = dom.diskErrors(0)
    except libvirt.libvirtError as e:
        if e.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            return {}
        raise failure_from(e, 'read the disk errors of %s' % dom.name())
    return dict((disk, _name(DISK_ERRORS, code)) for disk, code in errors.items()
                if code != _flag('VIR_DOMAIN_DISK_ERROR_NONE'))


def has_managed_save(dom):
    with call('check the managed save image of %s' % dom.name()):
        return bool(dom.hasManagedSaveImage(0))


def managed_save_xml(dom):
    """The domain definition inside the managed save image (secrets left out), or None without one."""
    if not has_managed_save(dom):
        return None
    with call('read the definition in the managed save image of %s' % dom.name()):
        return dom.managedSaveGetXMLDesc(0)


def job_data(dom, with_xml=False):
    """One guest's jobs as domain_job_info returns them (an entry of ``jobs``)."""
    data = dict(domain=dom.name(), uuid=dom.UUIDString(), active=bool(dom.isActive()), job=read_job(dom),
                last_completed=read_job(dom, completed=True), block_jobs=block_jobs(dom),
                disk_errors=disk_errors(dom), managed_save=has_managed_save(dom))
    if with_xml:
        data['managed_save_xml'] = managed_save_xml(dom)
    return data


class JobEvents(DomainEvents):
    """DomainEvents plus job-completed and block-job events: a wait wakes on any of them."""

    def registrations(self):
        return super(JobEvents, self).registrations() + [
            (libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, self._on_job_completed),
            (libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, self._on_block_job)]

    def _on_job_completed(self, conn, dom, params, opaque):
        self._record(('job-completed', None, params))

    def _on_block_job(self, conn, dom, disk, job_type, status, opaque):
        self._record(('block-job', disk, status))


def wait_until(events, done, timeout, poll=1.0):
    """Wait until ``done()`` (re-checked at every event and at least every ``poll`` seconds); False on timeout."""
    deadline = time.monotonic() + max(0, timeout)
    while not done():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        events.wait(done, min(poll, remaining))
    return True


def run_job(dom, events, work, timeout, what):
    """Run the blocking libvirt call ``work`` in a thread, sampling the job's progress each second; on timeout
    abort the job and fail. Returns (seconds, progress samples)."""
    outcome = {}

    def worker():
        try:
            work()
        except libvirt.libvirtError as e:
            outcome['error'] = e
        except Exception as e:  # pragma: no cover - reported, never swallowed
            outcome['exception'] = e
        events._record(('call-returned', None, None))  # wakes the wait below at once

    started = time.monotonic()
    progress = []
    thread = threading.Thread(target=worker, name='sysvirt-job')
    thread.daemon = True
    thread.start()
    deadline = started + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        events.wait(lambda: not thread.is_alive(), min(1.0, max(0, deadline - time.monotonic())))
        sample = read_job(dom) if thread.is_alive() else None
        if sample is not None and sample['active']:
            progress.append(dict(seconds=round(time.monotonic() - started, 3), progress=sample['progress'],
                                 data_processed=sample['data_processed'], data_total=sample['data_total']))
    if thread.is_alive():
        try:
            dom.abortJob()
        except libvirt.libvirtError:
            pass
        thread.join(60)
        raise LibvirtFailure('The %s did not finish within %s seconds and was aborted' % (what, timeout),
                             hint='Raise timeout; nothing half-written is left at the target.')
    if 'error' in outcome:
        raise failure_from(outcome['error'], what)
    if 'exception' in outcome:
        raise outcome['exception']
    return round(time.monotonic() - started, 3), progress


def dump_flags(spec):
    flags = 0
    for option, name in (('memory_only', 'VIR_DUMP_MEMORY_ONLY'), ('live', 'VIR_DUMP_LIVE'),
                         ('crash', 'VIR_DUMP_CRASH'), ('reset', 'VIR_DUMP_RESET'),
                         ('bypass_cache', 'VIR_DUMP_BYPASS_CACHE')):
        if spec.get(option):
            flags |= _flag(name)
    return flags


def dump_format(name):
    """The libvirt constant of a dump format (virsh's names: elf is libvirt's RAW)."""
    suffix = 'RAW' if name == 'elf' else name.upper().replace('-', '_')
    return getattr(libvirt, 'VIR_DOMAIN_CORE_DUMP_FORMAT_' + suffix)


def dump_problem(spec):
    """Why a dump spec cannot run (before anything is done), or None."""
    if spec.get('format', 'elf') != 'elf' and not spec.get('memory_only'):
        return 'dump.format %s needs dump.memory_only=true (libvirt writes it from the guest memory only)' \
            % spec['format']
    if spec.get('crash') and spec.get('reset'):
        return 'dump.crash and dump.reset exclude each other'
    return None


def save_image_uuid(conn, path):
    """The UUID of the guest saved in ``path``, or None when it is no save image (missing, or another file).

    Asked through libvirt (so on a remote hypervisor too), except for what exists here and is no regular file: a
    FIFO or a device is never a save image, and libvirt would wait on a FIFO for a writer for ever.
    """
    if os.path.exists(path) and not os.path.isfile(path):
        return None
    try:
        text = conn.saveImageGetXMLDesc(path, 0)
    except libvirt.libvirtError:
        return None
    return _xml.find_text(_xml.parse(text, 'saved domain XML'), 'uuid')


def remove_partial(path, existed):
    """Remove what a failed dump or save left at ``path`` (never a file that was there before)."""
    if not existed and os.path.lexists(path) and not os.path.isdir(path):
        try:
            os.unlink(path)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------------------
# domain_job_info and domain_job
# ---------------------------------------------------------------------------------------------------------

def run_info(module):
    """domain_job_info: one guest's jobs, or every guest's (optionally only those with a job running)."""
    p = module.params
    with module_connection(module) as conn:
        if p['domain']:
            doms = [require_domain(conn, p['domain'])]
        else:
            with call('list the domains'):
                doms = conn.listAllDomains(0)
        jobs = []
        for dom in doms:
            try:
                entry = job_data(dom, with_xml=p['managed_save_xml'])
            except LibvirtFailure as failure:
                if p['domain'] or failure.code != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
                continue  # undefined while we listed
            if not p['running_only'] or entry['job']['active'] or entry['block_jobs']:
                jobs.append(entry)
        jobs.sort(key=lambda entry: entry['domain'])
    exit_module(module, dict(changed=False, jobs=jobs))


def _same_uuid(a, b):
    return a is not None and b is not None and _xml.same_uuid(a, b)


def _restore_flags(spec):
    return {'running': _flag('VIR_DOMAIN_SAVE_RUNNING'), 'paused': _flag('VIR_DOMAIN_SAVE_PAUSED')}.get(
        spec.get('restore_state'), 0)


class JobRun(ModuleRun):
    """One run of domain_job: set a block job's speed, dump, save, the managed save image, then abort or wait."""

    def run(self):
        p = self.params
        self.dom = require_domain(self.conn, p['domain'])
        self.name = self.dom.name()
        self.report = {}
        with JobEvents(self.conn, self.dom) as events:
            self.events = events
            if p['speed'] is not None:
                self.set_speed(p['disk'], p['speed'])
            if p['dump']:
                self.dump(p['dump'])
            if p['save']:
                self.save_to_file(p['save'])
            if p['managed_save']:
                self.managed_save(p['managed_save'])
            if p['state'] == 'aborted':
                self.abort(p['disk'])
            elif p['state'] == 'finished':
                self.wait_finished(p['disk'])
        return self.finish(compared=bool(self.differences), job=job_data(self.dom), **self.report)

    def fail(self, msg, hint=None):
        raise LibvirtFailure(msg, hint=hint)

    # ------------------------------------------------------------------ current job
    def _abort_target(self, disk):
        """(the running job or None, its words, "is it gone?", "abort it") for the guest's job or a disk's."""
        dom = self.dom
        if disk:
            job = block_job(dom, disk) if dom.isActive() else None

            def gone():
                return block_job(dom, disk) is None

            def stop():
                dom.blockJobAbort(disk, 0)
            return job, 'the block %s job on disk %s of %s' % (job and job['type'], disk, self.name), gone, stop
        job = read_job(dom)
        job = job if job['active'] else None

        def gone():
            return not read_job(dom)['active']
        return job, 'the %s job of %s' % (job and job['operation'] or 'current', self.name), gone, dom.abortJob

    def abort(self, disk):
        job, what, gone, stop = self._abort_target(disk)
        if job is None:
            return
        if not self.check:
            try:
                stop()
            except libvirt.libvirtError as e:
                if e.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID and gone():
                    self.warnings.append('%s%s ended by itself before it could be aborted' % (what[0].upper(), what[1:]))
                    return
                raise failure_from(e, 'abort %s' % what)
        self.act('abort %s' % what)
        self.report['aborted'] = job
        if not self.check and not wait_until(self.events, gone, self.params['timeout']):
            self.fail('%s was asked to abort but still runs after %s seconds' % (what, self.params['timeout']),
                      hint='Some jobs end only at a safe point; run the task again with a longer timeout.')

    def wait_finished(self, disk):
        dom = self.dom
        if disk:
            def done():
                job = block_job(dom, disk) if dom.isActive() else None
                return job is None or job['ready']
        else:
            if read_job(dom)['type'] == 'unknown':
                self.fail('The driver of this connection reports no jobs of %s, so there is none to wait for'
                          % self.name)

            def done():
                # 'completed' is the job's last step (libvirt still writes its statistics): not over yet
                return read_job(dom)['type'] == 'none'
        started = time.monotonic()
        if not wait_until(self.events, done, self.params['timeout']):
            self.fail('The %s of %s still runs after %s seconds'
                      % ('block job on disk %s' % disk if disk else 'job', self.name, self.params['timeout']),
                      hint='Raise timeout, or end it with state=aborted.')
        self.report['waited'] = round(time.monotonic() - started, 3)
        self.report['completed'] = read_job(dom, completed=True)

    def set_speed(self, disk, speed):
        job = block_job(self.dom, disk) if self.dom.isActive() else None
        if job is None:
            self.fail('Disk %s of %s has no block job running, so it has no speed to set' % (disk, self.name),
                      hint='A block job starts with its bandwidth in sysvirt.libvirt.domain_block (job.bandwidth).')
        if job['bandwidth'] == speed:
            return
        self.perform('set the speed of the block %s job on disk %s of %s from %s to %s MiB/s'
                     % (job['type'], disk, self.name, job['bandwidth'], speed),
                     lambda: self.dom.blockJobSetSpeed(disk, speed, 0), self.check)

    # ------------------------------------------------------------------ core dump
    def dump(self, spec):
        problem = dump_problem(spec)
        if problem:
            self.fail(problem)
        path = spec['path']
        existed = os.path.lexists(path)
        if existed and not spec['force']:
            return  # a dump is a picture of one moment: a file there is taken for it unless force=true
        if not self.dom.isActive():
            self.fail('Domain %s is not running; a core dump needs a running guest' % self.name,
                      hint='Start it first (sysvirt.libvirt.domain state=running).')
        fmt = spec['format']
        kind = 'memory as %s' % fmt if spec['memory_only'] else 'state (QEMU save stream)'
        dom, flags = self.dom, dump_flags(spec)

        def work():
            return run_job(dom, self.events, lambda: dom.coreDumpWithFormat(path, dump_format(fmt), flags),
                           self.params['timeout'], 'core dump of %s to %s' % (self.name, path))
        self.report['dump'] = self._job_to_file('dump the %s of %s to %s' % (kind, self.name, path), work,
                                                path, existed)

    def _job_to_file(self, action, work, path, existed):
        """Run a dump or save (``work``), or predict it in check mode; what a failure left at ``path`` goes."""
        report = dict(path=path, seconds=None, progress=[], size=None, completed=None)
        if self.check:
            self.act(action)
            return report
        try:
            report['seconds'], report['progress'] = work()
        except Exception:
            remove_partial(path, existed)
            raise
        self.act(action)
        report['completed'] = read_job(self.dom, completed=True)
        if os.path.exists(path):
            report['size'] = os.path.getsize(path)
        return report

    # ------------------------------------------------------------------ save to a file
    def save_to_file(self, spec):
        path, dom = spec['path'], self.dom
        in_file = save_image_uuid(self.conn, path)
        ours = _same_uuid(in_file, dom.UUIDString())
        if not dom.isActive():
            if not ours:
                self.fail('Domain %s is not running and %s holds no save image of it, so there is nothing to save'
                          % (self.name, path),
                          hint='Start it first; a running guest is saved (and stopped) by this task.')
            if spec['xml']:
                self._redefine_image(spec['xml'], lambda: self.conn.saveImageGetXMLDesc(path, 0),
                                     lambda xml: self.conn.saveImageDefineXML(path, xml, _restore_flags(spec)),
                                     'the save image %s' % path)
            self.report['save'] = dict(path=path, seconds=None, progress=[], completed=None,
                                       size=os.path.getsize(path) if os.path.exists(path) else None)
            return
        existed = os.path.lexists(path)
        if existed and not ours and not spec['force']:
            self.fail('%s exists and is no save image of %s; not overwritten' % (path, self.name),
                      hint='Choose another path, or set save.force=true to overwrite it.')
        flags = _restore_flags(spec) | (_flag('VIR_DOMAIN_SAVE_BYPASS_CACHE') if spec['bypass_cache'] else 0)

        def work():
            return run_job(dom, self.events, lambda: dom.saveFlags(path, spec['xml'], flags),
                           self.params['timeout'], 'save of %s to %s' % (self.name, path))
        self.report['save'] = self._job_to_file('save %s to %s (it stops)' % (self.name, path), work, path,
                                                existed)

    # ------------------------------------------------------------------ managed save image
    def managed_save(self, spec):
        dom = self.dom
        present = has_managed_save(dom)
        if spec['state'] == 'absent':
            if present:
                self.perform('remove the managed save image of %s' % self.name,
                             lambda: dom.managedSaveRemove(0), self.check)
            return
        if not present:
            self.fail('Domain %s has no managed save image' % self.name,
                      hint='Make one with sysvirt.libvirt.domain state=saved.')
        if spec['xml']:
            self._redefine_image(spec['xml'], lambda: dom.managedSaveGetXMLDesc(0),
                                 lambda xml: dom.managedSaveDefineXML(xml, _restore_flags(spec)),
                                 'the managed save image of %s' % self.name)

    def _redefine_image(self, xml, read, define, what):
        """Redefine the definition inside a save image when it does not already satisfy ``xml``."""
        desired = _domain.normalise_desired(_xml.parse(xml, 'domain XML', root='domain'))
        rules = _domain.domain_rules(self.conn)
        with call('read the definition in %s' % what):
            before = read()
        differences = _xml.differences(desired, before, rules)
        if not differences:
            return
        self.differences.extend(differences)
        action = 'redefine the domain definition in %s' % what
        if self.check:
            self.act(action)
            return
        with call(action):
            define(xml)
        with call('read the definition in %s' % what):
            after = read()
        if after == before:
            self.warnings.append('libvirt kept the definition in %s as it was; not kept: %s'
                                 % (what, '; '.join(str(d) for d in differences)))
            return
        self.act(action)


def run_module(module):
    JobRun.main(module, events=True)
