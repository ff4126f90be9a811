# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Migration of a guest to another libvirt host: flags and parameters from options, the "already there" test,
an optional CPU pre-flight check, and a wait that samples the job statistics while the migration runs.

Private to this collection: the names here may change without notice.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
import time

try:
    import libvirt
except ImportError:
    libvirt = None

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    LibvirtConnection, LibvirtFailure, call, failure_from, lookup,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._device import find_domain
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import ModuleRun

#: Job statistics returned as progress (libvirt's typed-parameter names).
PROGRESS_KEYS = ('time_elapsed', 'data_total', 'data_processed', 'data_remaining', 'memory_total',
                 'memory_processed', 'memory_remaining', 'memory_dirty_rate', 'memory_iteration',
                 'memory_postcopy_requests', 'disk_total', 'disk_processed', 'disk_remaining', 'downtime',
                 'setup_time')


def _flag(name):
    return getattr(libvirt, name, 0)


def migration_flags(params, live):
    flags = 0
    if live:
        flags |= _flag('VIR_MIGRATE_LIVE')
    else:
        flags |= _flag('VIR_MIGRATE_OFFLINE')
    if params['peer_to_peer'] or params['tunnelled']:
        flags |= _flag('VIR_MIGRATE_PEER2PEER')
    if params['tunnelled']:
        flags |= _flag('VIR_MIGRATE_TUNNELLED')
    if params.get('tls'):
        flags |= _flag('VIR_MIGRATE_TLS')
    if params['persistent'] or not live:
        flags |= _flag('VIR_MIGRATE_PERSIST_DEST')
    if params['undefine_source']:
        flags |= _flag('VIR_MIGRATE_UNDEFINE_SOURCE')
    if params['copy_storage'] == 'all':
        flags |= _flag('VIR_MIGRATE_NON_SHARED_DISK')
    elif params['copy_storage'] == 'incremental':
        flags |= _flag('VIR_MIGRATE_NON_SHARED_INC')
    if params['postcopy']:
        flags |= _flag('VIR_MIGRATE_POSTCOPY')
    if params['auto_converge']:
        flags |= _flag('VIR_MIGRATE_AUTO_CONVERGE')
    if params['compressed']:
        flags |= _flag('VIR_MIGRATE_COMPRESSED')
    if params['unsafe']:
        flags |= _flag('VIR_MIGRATE_UNSAFE')
    if params['paused']:
        flags |= _flag('VIR_MIGRATE_PAUSED')
    return flags


def migration_params(params):
    out = {}
    if params.get('bandwidth'):
        out[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = params['bandwidth']
    if params.get('migration_uri'):
        out[libvirt.VIR_MIGRATE_PARAM_URI] = params['migration_uri']
    if params.get('listen_address'):
        out[libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS] = params['listen_address']
    if params.get('disks'):
        out[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = list(params['disks'])
    if params.get('postcopy_bandwidth') and hasattr(libvirt, 'VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY'):
        out[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY] = params['postcopy_bandwidth']
    return out


def progress_sample(stats, started):
    sample = dict((k, stats[k]) for k in PROGRESS_KEYS if k in stats)
    sample['seconds'] = round(time.monotonic() - started, 3)
    return sample


class MigrateRun(ModuleRun):
    """One run of domain_migrate."""

    def __init__(self, module, conn):
        super(MigrateRun, self).__init__(module, conn)
        self.cpu_check = None

    def run(self):
        p = self.params
        dest_conn = LibvirtConnection(p['destination'], username=p.get('destination_username'),
                                      password=p.get('destination_password'),
                                      keepalive_interval=p.get('keepalive_interval'),
                                      keepalive_count=p.get('keepalive_count'))
        try:
            dconn = dest_conn.open()
        except LibvirtFailure as failure:
            # Say which of the two connections failed: the source's failure reads the same otherwise.
            failure.msg = failure.msg.replace('Failed to connect to ', 'Failed to connect to the destination ', 1)
            raise
        try:
            return self._run(dconn)
        finally:
            dest_conn.close()

    def _run(self, dconn):
        p = self.params
        with call('read the host UUIDs'):
            same_host = _host_uuid(self.conn) == _host_uuid(dconn) and self.conn.getURI() == dconn.getURI()
        if same_host:
            raise LibvirtFailure('The destination %s is the source connection itself' % p['destination'])
        src = find_domain(self.conn, p['domain'])
        dst = find_domain(dconn, p['domain'])
        if src is not None and dst is not None and src.UUIDString() != dst.UUIDString():
            raise LibvirtFailure('%s exists on both hosts with different UUIDs (%s here, %s there)'
                                 % (p['domain'], src.UUIDString(), dst.UUIDString()),
                                 hint='Rename or remove one of them; they are different guests.')
        result = dict(domain=p['domain'], destination=p['destination'])
        if src is None and dst is None:
            raise LibvirtFailure('Domain %s is neither on the source nor on %s' % (p['domain'], p['destination']),
                                 hint='Check the domain name or UUID.')
        if self._already_there(src, dst):
            result.update(location='destination', state=_state_name(dst),
                          persistent_on_destination=bool(dst.isPersistent()),
                          on_source=src is not None and bool(src.isPersistent()))
            return self.finish(**result)
        live = bool(src.isActive())
        if p['mode'] == 'offline' and live:
            raise LibvirtFailure('mode=offline, but %s is running' % src.name(),
                                 hint='Stop the guest, or use mode=live.')
        if p['mode'] == 'live' and not live:
            raise LibvirtFailure('mode=live, but %s is not running' % src.name(),
                                 hint='Start the guest, or use mode=offline to move only its definition.')
        if not live and not src.isPersistent():
            raise LibvirtFailure('%s is neither running nor defined; nothing to migrate' % src.name())
        if p.get('cpu_compare') and live:
            self.cpu_preflight(src, dconn)
        self.act('migrate %s %s to %s%s' % (src.name(), 'live' if live else 'offline', p['destination'],
                                            ' (post-copy)' if p['postcopy'] else ''))
        if self.check:
            result.update(location='source', state=_state_name(src), persistent_on_destination=None, on_source=None,
                          cpu_check=self.cpu_check)
            return self.finish(**result)
        job = self.migrate(src, dconn, live)
        dst = find_domain(dconn, p['domain'])
        src_after = find_domain(self.conn, p['domain'])
        result.update(location='destination', state=_state_name(dst) if dst else None,
                      persistent_on_destination=bool(dst.isPersistent()) if dst else None,
                      on_source=src_after is not None, job=job, cpu_check=self.cpu_check)
        return self.finish(**result)

    def _already_there(self, src, dst):
        """The guest is where the options want it: running on the destination (live), or defined there."""
        if dst is None or (src is not None and src.isActive()):
            return False
        source_left = self.params['undefine_source'] and src is not None and bool(src.isPersistent())
        if dst.isActive():
            return not source_left
        if self.params['mode'] == 'live':
            return False
        return bool(dst.isPersistent()) and not source_left

    def cpu_preflight(self, src, dconn):
        try:
            from ansible_collections.sysvirt.libvirt.plugins.module_utils import _cpu
        except ImportError:
            self.warnings.append('cpu_compare skipped: the CPU comparison support is not installed')
            return
        with call('read the definition of %s' % src.name()):
            root = _xml.parse(src.XMLDesc(_flag('VIR_DOMAIN_XML_MIGRATABLE')), what='domain XML')
        cpu = root.find('cpu')
        if cpu is None or cpu.find('model') is None:
            self.warnings.append('cpu_compare: %s has no CPU model in its migratable definition (%s); nothing to '
                                 'compare' % (src.name(), 'no <cpu>' if cpu is None else 'mode %s' % cpu.get('mode')))
            return
        os_type = root.find('os/type')
        hypervisor = dict(virt_type=root.get('type'),
                          arch=os_type.get('arch') if os_type is not None else None,
                          machine=os_type.get('machine') if os_type is not None else None)
        # Compare with what the destination's hypervisor offers guests of this virt type (KVM and TCG differ).
        answer = _cpu.compare(dconn, _xml.to_string(cpu, pretty=False), hypervisor=hypervisor)
        verdict = answer.get('result')
        self.cpu_check = dict(result=verdict, against=answer.get('against'),
                              missing_features=answer.get('missing_features') or [])
        if verdict in ('incompatible', 'error'):
            raise LibvirtFailure('The CPU of %s is not compatible with the destination %s%s' % (
                src.name(), self.params['destination'],
                (': ' + answer.get('reason')) if isinstance(answer, dict) and answer.get('reason') else ''),
                hint='Use a CPU model both hosts provide (sysvirt.libvirt.cpu_baseline), or set cpu_compare=false.')

    def migrate(self, src, dconn, live):
        p = self.params
        flags = migration_flags(p, live)
        params = migration_params(p)
        if p.get('downtime') and live:
            try:
                src.migrateSetMaxDowntime(p['downtime'], 0)
            except libvirt.libvirtError as e:
                self.warnings.append('Could not set the maximum downtime before the migration: %s'
                                     % e.get_error_message())
        outcome = {}
        p2p = bool(flags & _flag('VIR_MIGRATE_PEER2PEER'))

        def worker():
            try:
                if p2p:
                    src.migrateToURI3(p['destination'], params, flags)
                else:
                    src.migrate3(dconn, params, flags)
            except libvirt.libvirtError as e:
                outcome['error'] = e
            except Exception as e:  # pragma: no cover - reported, never swallowed
                outcome['exception'] = e

        started = time.monotonic()
        progress = []
        thread = threading.Thread(target=worker, name='sysvirt-migrate')
        thread.daemon = True
        thread.start()
        postcopy_started = False
        deadline = started + p['timeout']
        while thread.is_alive():
            thread.join(p['poll_interval'])
            if not thread.is_alive():
                break
            if live:
                try:
                    stats = src.jobStats(0)
                except libvirt.libvirtError:
                    stats = {}
                if stats.get('type', 0) != _flag('VIR_DOMAIN_JOB_NONE'):
                    progress.append(progress_sample(stats, started))
                if p['postcopy'] and not postcopy_started and stats.get('memory_iteration', 0) >= \
                        p['postcopy_after_iterations']:
                    try:
                        src.migrateStartPostCopy(0)
                        postcopy_started = True
                    except libvirt.libvirtError as e:
                        self.warnings.append('Could not switch to post-copy: %s' % e.get_error_message())
                        postcopy_started = True
            if time.monotonic() > deadline:
                try:
                    src.abortJob()
                except libvirt.libvirtError:
                    pass
                thread.join(30)
                raise LibvirtFailure('The migration of %s to %s did not finish within %s seconds and was aborted'
                                     % (src.name(), p['destination'], p['timeout']),
                                     hint='Raise timeout, allow more bandwidth, a longer downtime, auto_converge or '
                                          'postcopy.')
        if 'error' in outcome:
            raise failure_from(outcome['error'], 'migrate %s to %s' % (p['domain'], p['destination']))
        if 'exception' in outcome:
            raise outcome['exception']
        completed = {}
        for dom in (lookup(dconn.lookupByUUIDString, src.UUIDString()),):
            if dom is not None:
                try:
                    completed = dom.jobStats(_flag('VIR_DOMAIN_JOB_STATS_COMPLETED'))
                except libvirt.libvirtError:
                    completed = {}
        return dict(seconds=round(time.monotonic() - started, 3), live=live, postcopy=postcopy_started,
                    progress=progress, completed=dict((k, completed[k]) for k in PROGRESS_KEYS if k in completed))


def _host_uuid(conn):
    try:
        caps = _xml.parse(conn.getCapabilities(), what='capabilities')
    except libvirt.libvirtError:
        return None
    return caps.findtext('host/uuid')


def _state_name(dom):
    if dom is None:
        return None
    state = dom.state()[0]
    names = {libvirt.VIR_DOMAIN_RUNNING: 'running', libvirt.VIR_DOMAIN_PAUSED: 'paused',
             libvirt.VIR_DOMAIN_SHUTOFF: 'shutoff', libvirt.VIR_DOMAIN_SHUTDOWN: 'shutdown',
             libvirt.VIR_DOMAIN_CRASHED: 'crashed', libvirt.VIR_DOMAIN_PMSUSPENDED: 'pmsuspended',
             libvirt.VIR_DOMAIN_BLOCKED: 'blocked'}
    return names.get(state, 'nostate')


def run_module(module):
    MigrateRun.main(module)
