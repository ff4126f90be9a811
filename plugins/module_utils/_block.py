# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Block operations on a guest's disk: grow it live, set I/O limits, run copy / commit / pull jobs and wait.

Private to this collection: the names here may change without notice.

Each operation is idempotent on what it leaves behind: a disk at least as large as asked, the I/O limits
asked for, a copy whose destination already is the disk's image, a commit or pull on a disk without a backing
chain, are all "nothing to do". Job waits are driven by libvirt's block-job events (no fixed sleeps); progress
is sampled from the job's info while it runs.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

try:
    from lxml import etree
except ImportError:  # reported by _connection.require_libraries
    etree = None

try:
    import libvirt
except ImportError:
    libvirt = None

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call
from ansible_collections.sysvirt.libvirt.plugins.module_utils._device import require_domain
from ansible_collections.sysvirt.libvirt.plugins.module_utils._events import DomainEvents
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import ModuleRun

IOTUNE_KEYS = ('total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec', 'total_iops_sec', 'read_iops_sec',
               'write_iops_sec', 'total_bytes_sec_max', 'read_bytes_sec_max', 'write_bytes_sec_max',
               'total_iops_sec_max', 'read_iops_sec_max', 'write_iops_sec_max', 'size_iops_sec')


def _flag(name):
    return getattr(libvirt, name, 0)


_STATUS = {}


def job_status_name(status):
    if not _STATUS and libvirt is not None:
        for name in ('COMPLETED', 'FAILED', 'CANCELED', 'READY'):
            value = getattr(libvirt, 'VIR_DOMAIN_BLOCK_JOB_' + name, None)
            if value is not None:
                _STATUS[value] = name.lower()
    return _STATUS.get(status, str(status))


class BlockJobEvents(DomainEvents):
    """DomainEvents plus block-job events (BLOCK_JOB_2: the disk given by target name)."""

    def __enter__(self):
        super(BlockJobEvents, self).__enter__()
        self._ids.append(self.conn.domainEventRegisterAny(
            self.dom, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, self._on_block_job, None))
        return self

    def _on_block_job(self, conn, dom, disk, job_type, status, opaque):
        self._record(('block-job', disk, (job_type, status)))

    def statuses(self, disk, path=None):
        with self.cond:
            return [job_status_name(e[2][1]) for e in self.events
                    if e[0] == 'block-job' and e[1] in (disk, path)]


def disk_element(dom, target, inactive=False):
    flags = _flag('VIR_DOMAIN_XML_INACTIVE') if inactive else 0
    with call('read the definition of %s' % dom.name()):
        root = _xml.parse(dom.XMLDesc(flags), what='domain XML')
    for disk in root.findall('devices/disk'):
        t = disk.find('target')
        if t is not None and t.get('dev') == target:
            return disk
    return None


def _source_path(element):
    source = None if element is None else element.find('source')
    if source is None:
        return None
    return source.get('file') or source.get('dev') or source.get('name')


def backing_chain(disk):
    """The backing files below the disk's image, top first (from the live definition)."""
    chain = []
    node = disk.find('backingStore')
    while node is not None and node.find('source') is not None:
        chain.append(_source_path(node))
        node = node.find('backingStore')
    return chain


class BlockRun(ModuleRun):
    """One run of domain_block."""

    def __init__(self, module, conn):
        super(BlockRun, self).__init__(module, conn)
        self.job = None

    def run(self):
        p = self.params
        dom = require_domain(self.conn, p['domain'])
        self.dom = dom
        target = p['disk']
        live_disk = disk_element(dom, target) if dom.isActive() else None
        config_disk = disk_element(dom, target, inactive=True) if dom.isPersistent() else None
        if live_disk is None and config_disk is None:
            raise LibvirtFailure('%s has no disk with target %s' % (dom.name(), target),
                                 hint='Give the target device name as in <target dev=...> (e.g. vda).')
        if p.get('size') is not None:
            self.resize(dom, target, live_disk)
        if p.get('iotune'):
            self.iotune(dom, target)
        if p.get('job'):
            self.block_job(dom, target, live_disk)
        result = dict(domain=dom.name(), disk=self.describe(dom, target))
        if self.job is not None:
            result['job'] = self.job
        return self.finish(**result)

    def describe(self, dom, target):
        data = dict(target=target, source=None, backing_chain=[], capacity=None, allocation=None, physical=None,
                    iotune=None)
        if not dom.isActive():
            disk = disk_element(dom, target, inactive=True)
            data['source'] = _source_path(disk)
            return data
        disk = disk_element(dom, target)
        data['source'] = _source_path(disk)
        data['backing_chain'] = backing_chain(disk) if disk is not None else []
        with call('read the size of disk %s of %s' % (target, dom.name())):
            data['capacity'], data['allocation'], data['physical'] = dom.blockInfo(target, 0)
        data['iotune'] = self._iotune_now(dom, target, _flag('VIR_DOMAIN_AFFECT_LIVE'))
        return data

    # ------------------------------------------------------------------ resize
    def resize(self, dom, target, live_disk):
        try:
            wanted = _xml.size_to_bytes(str(self.params['size']), 'b')
        except ValueError:
            raise LibvirtFailure('size %r is not a size (bytes, or a number with a unit such as 20GiB)'
                                 % self.params['size'])
        if not dom.isActive():
            raise LibvirtFailure('Growing disk %s needs %s running (libvirt resizes through QEMU)'
                                 % (target, dom.name()),
                                 hint='For a stopped guest, grow the volume with sysvirt.libvirt.volume or '
                                      'qemu-img resize.')
        with call('read the size of disk %s of %s' % (target, dom.name())):
            capacity = dom.blockInfo(target, 0)[0]
        if capacity == wanted:
            return
        if capacity > wanted:
            if not self.params.get('allow_shrink'):
                self.warnings.append('Disk %s is %d bytes, larger than the %d asked for; not shrunk (set '
                                     'allow_shrink=true to shrink, which destroys data at the end)'
                                     % (target, capacity, wanted))
                return
        self.act('resize disk %s from %d to %d bytes' % (target, capacity, wanted))
        if self.check:
            return
        with call('resize disk %s of %s' % (target, dom.name())):
            dom.blockResize(target, wanted, _flag('VIR_DOMAIN_BLOCK_RESIZE_BYTES'))

    # ------------------------------------------------------------------ I/O limits
    def _iotune_now(self, dom, target, flags):
        with call('read the I/O limits of disk %s of %s' % (target, dom.name())):
            values = dom.blockIoTune(target, flags)
        return dict((k, v) for k, v in values.items() if k in IOTUNE_KEYS or k == 'group_name')

    def iotune(self, dom, target):
        wanted = dict((k, v) for k, v in self.params['iotune'].items() if v is not None)
        live = self.params.get('live')
        if live is None:
            live = bool(dom.isActive())
        scopes = []
        if live:
            scopes.append(('live', _flag('VIR_DOMAIN_AFFECT_LIVE')))
        if self.params.get('persistent') and dom.isPersistent():
            scopes.append(('config', _flag('VIR_DOMAIN_AFFECT_CONFIG')))
        for scope, flags in scopes:
            current = self._iotune_now(dom, target, flags)
            differ = dict((k, v) for k, v in wanted.items() if current.get(k) != v)
            if not differ:
                continue
            self.act('set I/O limits of disk %s (%s): %s' % (
                target, scope, ', '.join('%s=%s' % (k, differ[k]) for k in sorted(differ))))
            if self.check:
                continue
            params = dict((k, v) for k, v in differ.items())
            with call('set the I/O limits of disk %s of %s (%s)' % (target, dom.name(), scope)):
                dom.setBlockIoTune(target, params, flags)

    # ------------------------------------------------------------------ jobs
    def block_job(self, dom, target, live_disk):
        spec = self.params['job']
        kind = spec['type']
        if not dom.isActive():
            raise LibvirtFailure('A block %s job needs %s running' % (kind, dom.name()),
                                 hint='Start the guest, or work on the image with qemu-img while it is stopped.')
        with call('read the block jobs of %s' % dom.name()):
            running = dom.blockJobInfo(target, 0)
        if running:
            raise LibvirtFailure('Disk %s of %s already has a block job running (%s)' % (target, dom.name(), running),
                                 hint='Wait for it to finish, or abort it with virsh blockjob --abort.')
        source = _source_path(live_disk)
        chain = backing_chain(live_disk)
        if kind == 'copy':
            if source == spec['destination']:
                return
            switch = ' and switch to it' if spec['pivot'] else ''
            self.act('copy disk %s to %s%s' % (target, spec['destination'], switch))
        elif kind == 'pull':
            if not chain or (spec.get('base') and chain[0] == spec['base']):
                return
            self.act('pull the backing chain of disk %s into %s%s' % (
                target, source, ' down to %s' % spec['base'] if spec.get('base') else ''))
        elif kind == 'commit':
            if not chain:
                return
            if spec.get('top') and spec['top'] not in chain and spec['top'] != source:
                return  # the top image is no longer in the chain: committed already
            active = not spec.get('top') or spec['top'] == source
            self.act('commit %s of disk %s into %s%s' % (
                'the active image' if active else spec['top'], target, spec.get('base') or chain[0],
                ' and switch to it' if active and spec['pivot'] else ''))
        if self.check:
            return
        self.job = self._run_job(dom, target, kind, spec, source, chain)

    def _run_job(self, dom, target, kind, spec, source, chain):
        bandwidth = spec.get('bandwidth') or 0
        timeout = spec['timeout']
        pivot_wanted = spec['pivot']
        started = time.monotonic()
        progress = []
        needs_pivot = False
        with BlockJobEvents(self.conn, dom) as events:
            if kind == 'copy':
                dest = etree.Element('disk', type='block' if spec['destination'].startswith('/dev/') else 'file')
                source_attribute = 'dev' if dest.get('type') == 'block' else 'file'
                etree.SubElement(dest, 'source', **{source_attribute: spec['destination']})
                if spec.get('format'):
                    etree.SubElement(dest, 'driver', type=spec['format'])
                flags = 0
                if spec.get('shallow'):
                    flags |= _flag('VIR_DOMAIN_BLOCK_COPY_SHALLOW')
                if spec.get('reuse_external'):
                    flags |= _flag('VIR_DOMAIN_BLOCK_COPY_REUSE_EXT')
                if dom.isPersistent():
                    flags |= _flag('VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB')
                params = {}
                if bandwidth:
                    params['bandwidth'] = bandwidth * 1024 * 1024
                with call('start copying disk %s of %s' % (target, dom.name())):
                    dom.blockCopy(target, _xml.to_string(dest, pretty=False), params, flags)
                needs_pivot = True
            elif kind == 'pull':
                with call('start pulling into disk %s of %s' % (target, dom.name())):
                    if spec.get('base'):
                        dom.blockRebase(target, spec['base'], bandwidth, 0)
                    else:
                        dom.blockPull(target, bandwidth, 0)
            else:
                active = not spec.get('top') or spec['top'] == source
                flags = 0
                if active:
                    flags |= _flag('VIR_DOMAIN_BLOCK_COMMIT_ACTIVE')
                    needs_pivot = True
                if not spec.get('base'):
                    flags |= _flag('VIR_DOMAIN_BLOCK_COMMIT_SHALLOW')
                with call('start committing disk %s of %s' % (target, dom.name())):
                    dom.blockCommit(target, spec.get('base'), None if active else spec['top'], bandwidth, flags)
            final = self._wait(dom, target, events, progress, started, timeout,
                               ('ready', 'completed', 'failed', 'canceled') if needs_pivot
                               else ('completed', 'failed', 'canceled'))
            if final in ('failed', 'canceled'):
                raise LibvirtFailure('The block %s job on disk %s of %s %s' % (kind, target, dom.name(), final),
                                     hint='See the libvirt/QEMU log of the guest for the reason.')
            if final is None:
                raise LibvirtFailure('The block %s job on disk %s of %s did not finish within %s seconds; it keeps '
                                     'running' % (kind, target, dom.name(), timeout),
                                     hint='Raise job.timeout, or follow it with virsh blockjob --info.')
            if needs_pivot:
                if pivot_wanted:
                    with call('switch disk %s of %s to the new image' % (target, dom.name())):
                        dom.blockJobAbort(target, _flag('VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT'))
                    final = self._wait(dom, target, events, progress, started, timeout,
                                       ('completed', 'failed', 'canceled'), after_ready=True)
                    if final != 'completed':
                        raise LibvirtFailure('Switching disk %s of %s to the new image %s'
                                             % (target, dom.name(), final or 'timed out'))
                    if kind == 'copy' and dom.isPersistent():
                        self.warnings.append('The copy is live only: the persistent definition of %s still uses %s '
                                             '(update it with sysvirt.libvirt.domain_device, live=false)'
                                             % (dom.name(), source))
                else:
                    final = 'ready'
        return dict(type=kind, status=final, seconds=round(time.monotonic() - started, 3), progress=progress)

    def _wait(self, dom, target, events, progress, started, timeout, finals, after_ready=False):
        deadline = started + timeout
        skip = events.statuses(target).count('ready') if after_ready else 0

        def final_status():
            seen = events.statuses(target)
            if after_ready:
                seen = [s for s in seen if s != 'ready'] if skip else seen
            for status in seen:
                if status in finals:
                    return status
            return None

        while True:
            status = final_status()
            if status is not None:
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                info = dom.blockJobInfo(target, 0)
            except libvirt.libvirtError:
                info = {}
            if info:
                progress.append(dict(seconds=round(time.monotonic() - started, 3), cur=info.get('cur'),
                                     end=info.get('end')))
            events.wait(lambda: final_status() is not None, min(1.0, remaining))


def run_module(module):
    BlockRun.main(module, events=True)
