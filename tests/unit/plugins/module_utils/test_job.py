# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_job: decoding libvirt's job statistics, block jobs and disk errors; domain_job's decisions (what it does, what
check mode predicts) on fake guests; domain_job_info and domain_job on the test driver. The jobs themselves run
on qemu:///system (tests/functional/test_job_qemu.py)."""

from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain, _job
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure
from conftest import SHARED_TEST_URI, run_module


def throw(exc):
    raise exc


def error(code, message='injected'):
    e = libvirt.libvirtError(message)
    e.err = (code, libvirt.VIR_FROM_QEMU, message, 2, None, None, None, 0, 0)
    return e


# ------------------------------------------------------------------ decoding

@pytest.mark.parametrize('table,value,name', [
    (_job.JOB_TYPES, 0, 'none'), (_job.JOB_TYPES, 1, 'bounded'), (_job.JOB_TYPES, 2, 'unbounded'),
    (_job.JOB_TYPES, 3, 'completed'), (_job.JOB_TYPES, 4, 'failed'), (_job.JOB_TYPES, 5, 'cancelled'),
    (_job.JOB_TYPES, 6, '6'), (_job.JOB_TYPES, -1, '-1'), (_job.JOB_TYPES, None, 'unknown'),
    (_job.OPERATIONS, 2, 'save'), (_job.OPERATIONS, 5, 'migration_out'), (_job.OPERATIONS, 8, 'dump'),
    (_job.OPERATIONS, 9, 'backup'), (_job.OPERATIONS, 10, 'snapshot_delete'), (_job.OPERATIONS, 11, '11'),
    (_job.BLOCK_JOB_TYPES, 2, 'copy'), (_job.BLOCK_JOB_TYPES, 4, 'active_commit'), (_job.BLOCK_JOB_TYPES, 5, 'backup'),
    (_job.DISK_ERRORS, 1, 'unspec'), (_job.DISK_ERRORS, 2, 'no_space'),
])
def test_enum_names(table, value, name):
    assert _job._name(table, value) == name


def test_enum_tables_follow_libvirt():
    for table, prefix in ((_job.JOB_TYPES, 'VIR_DOMAIN_JOB_'), (_job.OPERATIONS, 'VIR_DOMAIN_JOB_OPERATION_'),
                          (_job.DISK_ERRORS, 'VIR_DOMAIN_DISK_ERROR_')):
        for value, name in enumerate(table):
            assert getattr(libvirt, prefix + name.upper()) == value
    for value, name in enumerate(_job.BLOCK_JOB_TYPES[1:], 1):
        assert getattr(libvirt, 'VIR_DOMAIN_BLOCK_JOB_TYPE_' + name.upper()) == value


@pytest.mark.parametrize('done,total,percent', [
    (1, 3, 33.3), (2, 3, 66.7), (5, 5, 100.0), (0, 7, 0.0), (1, 0, None), (1, None, None), (None, 5, None),
])
def test_percent(done, total, percent):
    assert _job.percent(done, total) == percent


DUMP_STATS = {'type': 2, 'operation': 8, 'time_elapsed': 503, 'downtime': 300, 'setup_time': 1,
              'data_total': 400, 'data_processed': 100, 'data_remaining': 300, 'memory_total': 1000,
              'memory_processed': 900, 'memory_remaining': 100, 'memory_bps': 5221514}


def test_decode_a_running_dump():
    job = _job.decode_job(DUMP_STATS)
    assert (job['type'], job['active'], job['operation']) == ('unbounded', True, 'dump')
    assert (job['data_total'], job['data_processed'], job['data_remaining']) == (400, 100, 300)
    assert (job['memory_total'], job['memory_processed'], job['memory_remaining']) == (1000, 900, 100)
    assert (job['elapsed_ms'], job['downtime_ms'], job['setup_ms'], job['remaining_ms']) == (503, 300, 1, None)
    assert job['progress'] == 25.0  # data first, not memory
    assert job['disk_total'] is None and job['error'] is None
    assert job['stats'] == DUMP_STATS and job['stats'] is not DUMP_STATS


def test_decode_progress_from_memory_and_errors():
    job = _job.decode_job({'type': 1, 'memory_total': 200, 'memory_processed': 50, 'errmsg': 'boom',
                           'time_remaining': 9, 'disk_total': 7, 'disk_processed': 3, 'disk_remaining': 4})
    assert (job['type'], job['active'], job['operation']) == ('bounded', True, None)
    assert job['progress'] == 25.0 and job['error'] == 'boom' and job['remaining_ms'] == 9
    assert (job['disk_total'], job['disk_processed'], job['disk_remaining']) == (7, 3, 4)
    for kind in (0, 3, 4, 5):
        assert _job.decode_job({'type': kind})['active'] is False
    assert _job.decode_job({'type': 0})['progress'] is None
    assert _job.decode_job(None)['type'] == 'none' and _job.none_job() == _job.decode_job({'type': 0})


def test_decode_job_info_list():
    job = _job.decode_job([1, 10, 20, 100, 40, 60, 7, 8, 9, 0, 0, 0])
    assert (job['type'], job['elapsed_ms'], job['remaining_ms']) == ('bounded', 10, 20)
    assert (job['data_total'], job['data_processed'], job['data_remaining']) == (100, 40, 60)
    assert (job['memory_total'], job['memory_processed'], job['memory_remaining']) == (7, 8, 9)
    assert job['progress'] == 40.0


@pytest.mark.parametrize('info,ready,progress', [
    ({'type': 2, 'bandwidth': 3, 'cur': 5, 'end': 10}, False, 50.0),
    ({'type': 2, 'bandwidth': 0, 'cur': 10, 'end': 10}, True, 100.0),
    ({'type': 1, 'bandwidth': 0, 'cur': 0, 'end': 0}, False, None),
])
def test_decode_block_job(info, ready, progress):
    job = _job.decode_block_job('vdb', info)
    assert job == dict(disk='vdb', type=_job.BLOCK_JOB_TYPES[info['type']], bandwidth=info['bandwidth'],
                       cur=info['cur'], end=info['end'], progress=progress, ready=ready)


@pytest.mark.parametrize('spec,problem', [
    (dict(format='kdump-zlib'), 'needs dump.memory_only=true'),
    (dict(format='win-dmp', memory_only=False), 'needs dump.memory_only=true'),
    (dict(format='kdump-zlib', memory_only=True), None),
    (dict(format='elf'), None),
    (dict(), None),
    (dict(crash=True, reset=True), 'exclude each other'),
    (dict(crash=True), None),
    (dict(reset=True), None),
])
def test_dump_problem(spec, problem):
    found = _job.dump_problem(spec)
    assert (found is None) if problem is None else (problem in found)


def test_dump_flags_and_formats():
    assert _job.dump_flags({}) == 0
    for option, flag in (('memory_only', libvirt.VIR_DUMP_MEMORY_ONLY), ('live', libvirt.VIR_DUMP_LIVE),
                         ('crash', libvirt.VIR_DUMP_CRASH), ('reset', libvirt.VIR_DUMP_RESET),
                         ('bypass_cache', libvirt.VIR_DUMP_BYPASS_CACHE)):
        assert _job.dump_flags({option: True}) == flag
        assert _job.dump_flags({option: False}) == 0
    assert _job.dump_flags(dict(memory_only=True, bypass_cache=True)) == \
        libvirt.VIR_DUMP_MEMORY_ONLY | libvirt.VIR_DUMP_BYPASS_CACHE
    assert _job.dump_format('elf') == libvirt.VIR_DOMAIN_CORE_DUMP_FORMAT_RAW
    assert _job.dump_format('kdump-zlib') == libvirt.VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_ZLIB
    assert _job.dump_format('kdump-snappy') == libvirt.VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_SNAPPY
    assert _job.dump_format('win-dmp') == libvirt.VIR_DOMAIN_CORE_DUMP_FORMAT_WIN_DMP
    assert _job._restore_flags({}) == 0
    assert _job._restore_flags({'restore_state': 'running'}) == libvirt.VIR_DOMAIN_SAVE_RUNNING
    assert _job._restore_flags({'restore_state': 'paused'}) == libvirt.VIR_DOMAIN_SAVE_PAUSED


# ------------------------------------------------------------------ reading a fake guest

class FakeDom:
    """A guest whose job, block jobs, disk errors and images the test sets; it records the calls made."""

    def __init__(self, active=True, stats=None, block=None, errors=None, managed=False):
        self.active = active
        self.stats = dict(stats) if stats is not None else {'type': 0}
        self.completed = {'type': 0}
        self.block = dict(block or {})
        self.errors = errors or {}
        self.managed = managed
        self.managed_xml = "<domain type='qemu'><name>g</name><uuid>%s</uuid></domain>" % UUID
        self.calls = []
        self.stats_error = None

    def name(self):
        return 'g'

    def UUIDString(self):
        return UUID

    def isActive(self):
        return self.active

    def jobStats(self, flags=0):
        self.calls.append(('jobStats', flags))
        if self.stats_error is not None:
            raise self.stats_error
        return dict(self.completed if flags else self.stats)

    def jobInfo(self):
        return [1, 5, 0, 10, 5, 5, 0, 0, 0, 0, 0, 0]

    def XMLDesc(self, flags=0):
        disks = ''.join("<disk><target dev='%s'/></disk>" % d for d in ('vda', 'vdb'))
        return '<domain><name>g</name><devices>%s<disk/></devices></domain>' % disks

    def blockJobInfo(self, disk, flags):
        return dict(self.block.get(disk) or {})

    def diskErrors(self, flags):
        return dict(self.errors)

    def hasManagedSaveImage(self, flags):
        return self.managed

    def managedSaveGetXMLDesc(self, flags):
        return self.managed_xml

    def __getattr__(self, name):  # abortJob, blockJobAbort, blockJobSetSpeed, managedSaveRemove, ...
        def record(*args):
            self.calls.append((name,) + args)
            handler = self.__dict__.get('on_' + name)
            return handler(*args) if handler else None
        return record


UUID = '0bd1c2b6-4a52-4c2c-9c7e-111122223333'


def test_read_job_of_a_stopped_and_a_running_guest():
    assert _job.read_job(FakeDom(active=False)) == _job.none_job()
    dom = FakeDom(stats=DUMP_STATS)
    assert _job.read_job(dom)['operation'] == 'dump' and dom.calls == [('jobStats', 0)]
    dom.completed = {'type': 3, 'operation': 2}
    assert _job.read_job(dom, completed=True)['operation'] == 'save'
    assert dom.calls[-1] == ('jobStats', libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED
                             | libvirt.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED)


def test_read_job_falls_back_and_fails_cleanly():
    dom = FakeDom()
    dom.stats_error = error(libvirt.VIR_ERR_NO_SUPPORT)
    assert _job.read_job(dom)['data_processed'] == 5
    assert _job.read_job(dom, completed=True) == _job.none_job()
    dom.stats_error = error(libvirt.VIR_ERR_INTERNAL_ERROR, 'monitor gone')
    with pytest.raises(LibvirtFailure, match='Failed to read the job of g: monitor gone'):
        _job.read_job(dom)
    dom.stats_error = error(libvirt.VIR_ERR_OPERATION_INVALID)
    with pytest.raises(LibvirtFailure):
        _job.read_job(dom)  # still running: a real error
    seen = []

    def stopping():
        seen.append(1)
        return len(seen) == 1  # active when asked first, stopped when the error comes
    dom.isActive = stopping
    assert _job.read_job(dom) == _job.none_job()


def test_block_jobs_and_disk_errors():
    dom = FakeDom(block={'vdb': {'type': 3, 'bandwidth': 1, 'cur': 1, 'end': 4}},
                  errors={'vda': libvirt.VIR_DOMAIN_DISK_ERROR_NONE, 'vdb': libvirt.VIR_DOMAIN_DISK_ERROR_NO_SPACE})
    assert _job.disk_targets(dom) == ['vda', 'vdb']
    assert [(j['disk'], j['type'], j['progress']) for j in _job.block_jobs(dom)] == [('vdb', 'commit', 25.0)]
    assert _job.block_job(dom, 'vda') is None
    assert _job.disk_errors(dom) == {'vdb': 'no_space'}
    dom.active = False
    assert _job.block_jobs(dom) == [] and _job.disk_errors(dom) == {}


def test_job_data_and_managed_save_xml():
    dom = FakeDom(stats=DUMP_STATS, managed=True)
    data = _job.job_data(dom, with_xml=True)
    assert data['domain'] == 'g' and data['uuid'] == UUID and data['active'] is True
    assert data['job']['operation'] == 'dump' and data['last_completed']['type'] == 'none'
    assert data['managed_save'] is True and '<name>g</name>' in data['managed_save_xml']
    assert 'managed_save_xml' not in _job.job_data(dom)
    dom.managed = False
    assert _job.managed_save_xml(dom) is None


def test_save_image_uuid(tmp_path):
    path = str(tmp_path / 'img')
    conn = SimpleNamespace(saveImageGetXMLDesc=lambda p, f: '<domain><name>g</name><uuid>%s</uuid></domain>' % UUID)
    missing = SimpleNamespace(saveImageGetXMLDesc=lambda p, f: throw(error(libvirt.VIR_ERR_SYSTEM_ERROR)))
    assert _job.save_image_uuid(missing, path) is None  # no file (libvirt says so)
    assert _job.save_image_uuid(conn, path) == UUID  # not here, but on the (remote) hypervisor
    fifo = str(tmp_path / 'fifo')
    os.mkfifo(fifo)
    assert _job.save_image_uuid(conn, fifo) is None and _job.save_image_uuid(conn, str(tmp_path)) is None
    open(path, 'w').close()
    assert _job.save_image_uuid(conn, path) == UUID

    def refuse(p, f):
        raise error(libvirt.VIR_ERR_OPERATION_FAILED)
    assert _job.save_image_uuid(SimpleNamespace(saveImageGetXMLDesc=refuse), path) is None


def test_remove_partial(tmp_path):
    path = str(tmp_path / 'partial')
    open(path, 'w').close()
    _job.remove_partial(path, existed=True)
    assert os.path.exists(path)
    _job.remove_partial(path, existed=False)
    assert not os.path.exists(path)
    _job.remove_partial(path, existed=False)  # nothing there: fine
    _job.remove_partial(str(tmp_path), existed=False)
    assert os.path.isdir(str(tmp_path))


# ------------------------------------------------------------------ waits and jobs in a thread

class FakeEvents:
    def __init__(self):
        self.waits = []
        self.recorded = []

    def wait(self, predicate, timeout):
        self.waits.append(timeout)
        time.sleep(min(timeout, 0.01))
        return predicate()

    def _record(self, event):
        self.recorded.append(event)


def test_wait_until():
    events = FakeEvents()
    assert _job.wait_until(events, lambda: True, 5) and events.waits == []
    answers = iter([False, False, True])
    assert _job.wait_until(events, lambda: next(answers), 5, poll=0.5) and events.waits == [0.5]
    assert not _job.wait_until(FakeEvents(), lambda: False, 0.05, poll=0.01)
    assert not _job.wait_until(FakeEvents(), lambda: False, -1)


def test_run_job_returns_fails_and_aborts():
    events = FakeEvents()
    dom = FakeDom(stats=DUMP_STATS)
    seconds, progress = _job.run_job(dom, events, lambda: time.sleep(0.05), 5, 'dump')
    assert 0 < seconds < 5 and events.recorded == [('call-returned', None, None)]
    assert all(p['progress'] == 25.0 and p['data_total'] == 400 for p in progress)

    def refused():
        raise error(libvirt.VIR_ERR_OPERATION_FAILED, 'no space')
    with pytest.raises(LibvirtFailure, match='Failed to save of g: no space'):
        _job.run_job(dom, FakeEvents(), refused, 5, 'save of g')
    stop = threading.Event()
    dom.on_abortJob = stop.set
    with pytest.raises(LibvirtFailure, match='did not finish within 0.2 seconds and was aborted'):
        _job.run_job(dom, FakeEvents(), lambda: stop.wait(10), 0.2, 'dump')
    assert ('abortJob',) in dom.calls


# ------------------------------------------------------------------ domain_job's decisions

def job_run(dom, check=False, timeout=5, **params):
    base = dict(state=None, disk=None, speed=None, timeout=timeout, dump=None, save=None, managed_save=None)
    base.update(params)
    module = SimpleNamespace(params=base, check_mode=check)
    run = _job.JobRun(module, SimpleNamespace(saveImageGetXMLDesc=lambda p, f: image_xml(p, UUID)))
    run.dom, run.name, run.report, run.events = dom, 'g', {}, FakeEvents()
    return run


@pytest.mark.parametrize('check', [True, False])
def test_abort_the_guest_job(check):
    dom = FakeDom(stats=DUMP_STATS)
    dom.on_abortJob = lambda: dom.stats.update(type=0)
    run = job_run(dom, check=check)
    run.abort(None)
    assert run.changed and run.actions == ['abort the dump job of g']
    assert run.report['aborted']['operation'] == 'dump'
    assert (('abortJob',) in dom.calls) is not check
    assert dom.stats['type'] == (2 if check else 0)


def test_abort_nothing_and_a_job_that_ended_meanwhile():
    run = job_run(FakeDom())
    run.abort(None)
    run.abort('vda')
    assert not run.changed and run.report == {} and run.actions == []
    dom = FakeDom(stats=dict(DUMP_STATS))

    def ended():
        dom.stats = {'type': 0}
        raise error(libvirt.VIR_ERR_OPERATION_INVALID, 'no job is active on the domain')
    dom.on_abortJob = ended
    run = job_run(dom)
    run.abort(None)
    assert not run.changed and 'ended by itself' in run.warnings[0] and 'aborted' not in run.report
    dom = FakeDom(stats=dict(DUMP_STATS))

    def refused():
        raise error(libvirt.VIR_ERR_OPERATION_INVALID, 'cannot abort memory-only dump')
    dom.on_abortJob = refused
    with pytest.raises(LibvirtFailure, match='Failed to abort the dump job of g: cannot abort memory-only dump'):
        job_run(dom).abort(None)


def test_abort_that_does_not_end_fails():
    with pytest.raises(LibvirtFailure, match='still runs after 0 seconds'):
        job_run(FakeDom(stats=DUMP_STATS), timeout=0).abort(None)


@pytest.mark.parametrize('check', [True, False])
def test_abort_a_block_job(check):
    dom = FakeDom(block={'vda': {'type': 2, 'bandwidth': 1, 'cur': 1, 'end': 2}})
    dom.on_blockJobAbort = lambda disk, flags: dom.block.pop(disk)
    run = job_run(dom, check=check)
    run.abort('vda')
    assert run.actions == ['abort the block copy job on disk vda of g'] and run.report['aborted']['disk'] == 'vda'
    assert (('blockJobAbort', 'vda', 0) in dom.calls) is not check


def test_wait_for_the_job_and_a_block_job():
    dom = FakeDom(stats=dict(DUMP_STATS, type=3))  # completed: its last step, not over yet
    run = job_run(dom, timeout=0.05)
    with pytest.raises(LibvirtFailure, match='The job of g still runs after 0.05 seconds'):
        run.wait_finished(None)
    dom.stats = {'type': 0}
    dom.completed = {'type': 3, 'operation': 8}
    run.wait_finished(None)
    assert not run.changed and run.report['completed']['operation'] == 'dump' and run.report['waited'] >= 0
    dom.block = {'vda': {'type': 2, 'cur': 1, 'end': 2}}
    with pytest.raises(LibvirtFailure, match='The block job on disk vda of g still runs'):
        job_run(dom, timeout=0.05).wait_finished('vda')
    dom.block = {'vda': {'type': 2, 'cur': 2, 'end': 2}}  # in sync: done
    job_run(dom).wait_finished('vda')
    dom.active = False
    job_run(dom).wait_finished('vda')


@pytest.mark.parametrize('check', [True, False])
def test_block_job_speed(check):
    dom = FakeDom(block={'vdb': {'type': 1, 'bandwidth': 1, 'cur': 1, 'end': 2}})
    run = job_run(dom, check=check)
    run.set_speed('vdb', 1)
    assert not run.changed
    run.set_speed('vdb', 7)
    assert run.actions == ['set the speed of the block pull job on disk vdb of g from 1 to 7 MiB/s']
    assert (('blockJobSetSpeed', 'vdb', 7, 0) in dom.calls) is not check
    with pytest.raises(LibvirtFailure, match='Disk vda of g has no block job running'):
        run.set_speed('vda', 7)
    dom.active = False
    with pytest.raises(LibvirtFailure, match='no block job running'):
        job_run(dom).set_speed('vdb', 7)


def dump_spec(path, **extra):
    spec = dict(path=path, format='elf', memory_only=False, live=False, crash=False, reset=False,
                bypass_cache=False, force=False)
    spec.update(extra)
    return spec


def test_dump_decisions(tmp_path):
    path = str(tmp_path / 'core')
    run = job_run(FakeDom(), check=True)
    run.dump(dump_spec(path, memory_only=True, format='kdump-zlib'))
    assert run.actions == ['dump the memory as kdump-zlib of g to %s' % path]
    assert run.report['dump'] == dict(path=path, seconds=None, progress=[], size=None, completed=None)
    run = job_run(FakeDom(), check=True)
    run.dump(dump_spec(path))
    assert run.actions == ['dump the state (QEMU save stream) of g to %s' % path]
    open(path, 'w').close()
    run = job_run(FakeDom(), check=True)
    run.dump(dump_spec(path))
    assert not run.changed and 'dump' not in run.report
    run.dump(dump_spec(path, force=True))
    assert run.changed
    with pytest.raises(LibvirtFailure, match='needs dump.memory_only'):
        job_run(FakeDom()).dump(dump_spec(str(tmp_path / 'x'), format='kdump-lzo'))
    with pytest.raises(LibvirtFailure, match='Domain g is not running; a core dump needs a running guest'):
        job_run(FakeDom(active=False), check=True).dump(dump_spec(str(tmp_path / 'x')))


def test_dump_for_real(tmp_path):
    path = str(tmp_path / 'core')
    dom = FakeDom()
    dom.completed = {'type': 3, 'operation': 8}
    dom.on_coreDumpWithFormat = lambda p, fmt, flags: open(p, 'w').write('core')
    run = job_run(dom)
    run.dump(dump_spec(path, memory_only=True, live=True))
    assert ('coreDumpWithFormat', path, libvirt.VIR_DOMAIN_CORE_DUMP_FORMAT_RAW,
            libvirt.VIR_DUMP_MEMORY_ONLY | libvirt.VIR_DUMP_LIVE) in dom.calls
    report = run.report['dump']
    assert report['size'] == 4 and report['completed']['operation'] == 'dump' and report['seconds'] >= 0
    assert run.changed

    def half_written(p, fmt, flags):
        open(p, 'w').write('par')
        raise error(libvirt.VIR_ERR_OPERATION_FAILED, 'disk full')
    dom.on_coreDumpWithFormat = half_written
    other = str(tmp_path / 'other')
    run = job_run(dom)
    with pytest.raises(LibvirtFailure, match='disk full'):
        run.dump(dump_spec(other))
    assert not os.path.exists(other) and not run.changed


def save_spec(path, **extra):
    spec = dict(path=path, xml=None, restore_state=None, bypass_cache=False, force=False)
    spec.update(extra)
    return spec


def saving_run(dom, tmp_path, image_uuid, check=False):
    run = job_run(dom, check=check)
    run.conn = SimpleNamespace(saveImageGetXMLDesc=lambda p, f: image_xml(p, image_uuid))
    return run


def image_xml(path, uuid):
    """What libvirt says of ``path``: the definition in the image, or an error when there is no such file."""
    if not os.path.exists(path):
        raise error(libvirt.VIR_ERR_SYSTEM_ERROR, 'No such file or directory')
    return "<domain><name>g</name><uuid>%s</uuid></domain>" % uuid


def test_save_decisions(tmp_path):
    path = str(tmp_path / 'g.save')
    run = saving_run(FakeDom(), tmp_path, UUID, check=True)
    run.save_to_file(save_spec(path))
    assert run.actions == ['save g to %s (it stops)' % path]
    open(path, 'w').close()
    run = saving_run(FakeDom(), tmp_path, UUID, check=True)
    run.save_to_file(save_spec(path))  # over its own older image
    assert run.changed
    run = saving_run(FakeDom(active=False), tmp_path, UUID)
    run.save_to_file(save_spec(path))
    assert not run.changed and run.report['save']['path'] == path and run.report['save']['size'] == 0
    with pytest.raises(LibvirtFailure, match='is no save image of g; not overwritten'):
        saving_run(FakeDom(), tmp_path, 'aaaaaaaa-4a52-4c2c-9c7e-111122223333').save_to_file(save_spec(path))
    run = saving_run(FakeDom(), tmp_path, 'aaaaaaaa-4a52-4c2c-9c7e-111122223333', check=True)
    run.save_to_file(save_spec(path, force=True))
    assert run.changed
    with pytest.raises(LibvirtFailure, match='holds no save image of it, so there is nothing to save'):
        saving_run(FakeDom(active=False), tmp_path, 'aaaaaaaa-4a52-4c2c-9c7e-111122223333').save_to_file(
            save_spec(path))
    with pytest.raises(LibvirtFailure, match='nothing to save'):
        saving_run(FakeDom(active=False), tmp_path, UUID).save_to_file(save_spec(str(tmp_path / 'none')))


def test_save_for_real(tmp_path):
    path = str(tmp_path / 'g.save')
    dom = FakeDom()
    dom.on_saveFlags = lambda p, xml, flags: open(p, 'w').write('image')
    run = saving_run(dom, tmp_path, UUID)
    run.save_to_file(save_spec(path, restore_state='paused', bypass_cache=True, xml='<domain/>'))
    assert ('saveFlags', path, '<domain/>', libvirt.VIR_DOMAIN_SAVE_PAUSED | libvirt.VIR_DOMAIN_SAVE_BYPASS_CACHE) \
        in dom.calls
    assert run.changed and run.report['save']['size'] == 5


@pytest.mark.parametrize('check', [True, False])
def test_managed_save_removal(check):
    dom = FakeDom(managed=True)
    run = job_run(dom, check=check)
    run.managed_save(dict(state='absent', xml=None, restore_state=None))
    assert run.actions == ['remove the managed save image of g']
    assert (('managedSaveRemove', 0) in dom.calls) is not check
    run = job_run(FakeDom(managed=False))
    run.managed_save(dict(state='absent', xml=None, restore_state=None))
    assert not run.changed
    with pytest.raises(LibvirtFailure, match='Domain g has no managed save image'):
        run.managed_save(dict(state='present', xml=None, restore_state=None))
    run = job_run(FakeDom(managed=True))
    run.managed_save(dict(state='present', xml=None, restore_state=None))
    assert not run.changed


@pytest.fixture
def plain_rules(monkeypatch):
    monkeypatch.setattr(_domain, 'domain_rules', lambda conn: None)


def test_managed_save_redefinition(plain_rules):
    dom = FakeDom(managed=True)
    same = "<domain type='qemu'><name>g</name></domain>"
    run = job_run(dom)
    run.managed_save(dict(state='present', xml=same, restore_state=None))
    assert not run.changed and run.differences == []
    titled = "<domain type='qemu'><name>g</name><title>t</title></domain>"
    run = job_run(dom, check=True)
    run.managed_save(dict(state='present', xml=titled, restore_state='running'))
    assert run.changed and [d.path for d in run.differences] == ['/domain/title[1]']
    assert not any(c[0] == 'managedSaveDefineXML' for c in dom.calls)
    # for real: libvirt keeps it
    dom.on_managedSaveDefineXML = lambda xml, flags: setattr(dom, 'managed_xml', xml)
    run = job_run(dom)
    run.managed_save(dict(state='present', xml=titled, restore_state='running'))
    assert run.actions == ['redefine the domain definition in the managed save image of g']
    assert ('managedSaveDefineXML', titled, libvirt.VIR_DOMAIN_SAVE_RUNNING) in dom.calls
    # libvirt keeps the old definition: no change, a warning
    dom.on_managedSaveDefineXML = lambda xml, flags: None
    run = job_run(dom)
    run.managed_save(dict(state='present', xml=titled.replace('>t<', '>u<'), restore_state=None))
    assert not run.changed and 'kept the definition in the managed save image of g as it was' in run.warnings[0]


# ------------------------------------------------------------------ the modules on the test driver

def test_modules_on_the_test_driver():
    listed = run_module('domain_job_info', dict(uri=SHARED_TEST_URI))
    assert not listed.failed and 'test' in [entry['domain'] for entry in listed['jobs']], listed
    entry = run_module('domain_job_info', dict(uri=SHARED_TEST_URI, domain='test'))['jobs'][0]
    assert entry['job']['type'] == 'unknown' and entry['job']['active'] is False  # the test driver has no jobs
    # the test driver reports a canned error on each disk (unspec, no_space, ...)
    assert entry['block_jobs'] == [] and entry['disk_errors'] == {'vda': 'unspec'}
    for check in (True, False):
        result = run_module('domain_job', dict(uri=SHARED_TEST_URI, domain='test', state='aborted'), check_mode=check)
        assert not result.failed and not result['changed'], result
    missing = run_module('domain_job_info', dict(uri=SHARED_TEST_URI, domain='sysvirt-test-no-such-guest'))
    assert missing.failed and 'does not exist' in missing['msg']
    result = run_module('domain_job', dict(uri=SHARED_TEST_URI, domain='test', state='finished', timeout=1))
    assert result.failed and result['msg'] == 'The driver of this connection reports no jobs of test, so there is ' \
        'none to wait for'
    bad = run_module('domain_job', dict(uri=SHARED_TEST_URI, domain='test', speed=3))
    assert bad.failed and 'disk' in bad['msg']


# ------------------------------------------------------------------ exact words, flags and the run's wiring

def test_run_job_samples_progress_in_its_shape():
    dom = FakeDom(stats=DUMP_STATS)
    seconds, progress = _job.run_job(dom, FakeEvents(), lambda: time.sleep(0.2), 5, 'dump')
    assert progress, 'a job of 0.2 s sampled every 10 ms has samples'
    assert all(sorted(p) == ['data_processed', 'data_total', 'progress', 'seconds'] for p in progress)
    assert all(p['data_processed'] == 100 and p['data_total'] == 400 and p['progress'] == 25.0 for p in progress)
    assert all(0 <= p['seconds'] <= seconds for p in progress) and 0.2 <= seconds < 2
    assert [p['seconds'] for p in progress] == sorted(p['seconds'] for p in progress)
    idle = FakeDom()  # no active job: nothing sampled
    assert _job.run_job(idle, FakeEvents(), lambda: time.sleep(0.05), 5, 'dump')[1] == []
    stop = threading.Event()
    dom.on_abortJob = stop.set
    with pytest.raises(LibvirtFailure) as failure:
        _job.run_job(dom, FakeEvents(), lambda: stop.wait(10), 0.1, 'dump of g')
    assert failure.value.msg == 'The dump of g did not finish within 0.1 seconds and was aborted'
    assert failure.value.hint == 'Raise timeout; nothing half-written is left at the target.'

    def broken():
        raise KeyError('not libvirt')
    with pytest.raises(KeyError):
        _job.run_job(FakeDom(), FakeEvents(), broken, 5, 'dump')


def test_wait_until_bounds():
    started = time.monotonic()
    assert not _job.wait_until(FakeEvents(), lambda: False, -5)
    assert time.monotonic() - started < 0.5
    flips = time.monotonic() + 0.2
    assert _job.wait_until(FakeEvents(), lambda: time.monotonic() > flips, 0.8, poll=0.05)


def test_read_errors_keep_libvirt_words():
    dom = FakeDom()

    def refuse(*args):
        raise error(libvirt.VIR_ERR_INTERNAL_ERROR, 'monitor gone')
    dom.blockJobInfo = refuse
    dom.diskErrors = refuse
    with pytest.raises(LibvirtFailure) as failure:
        _job.block_job(dom, 'vda')
    assert failure.value.msg == 'Failed to read the block job of disk vda of g: monitor gone'
    assert failure.value.code == libvirt.VIR_ERR_INTERNAL_ERROR
    with pytest.raises(LibvirtFailure) as failure:
        _job.disk_errors(dom)
    assert failure.value.msg == 'Failed to read the disk errors of g: monitor gone'
    assert failure.value.code == libvirt.VIR_ERR_INTERNAL_ERROR

    def unsupported(*args):
        raise error(libvirt.VIR_ERR_NO_SUPPORT)
    dom.blockJobInfo = unsupported
    dom.diskErrors = unsupported
    assert _job.block_job(dom, 'vda') is None and _job.disk_errors(dom) == {}
    dom = FakeDom()
    dom.stats_error = error(libvirt.VIR_ERR_INTERNAL_ERROR, 'monitor gone')
    with pytest.raises(LibvirtFailure) as failure:
        _job.read_job(dom)
    assert failure.value.code == libvirt.VIR_ERR_INTERNAL_ERROR
    dom.stats_error = error(libvirt.VIR_ERR_NO_SUPPORT)
    dom.jobInfo = refuse
    with pytest.raises(LibvirtFailure, match='^Failed to read the job of g: monitor gone$'):
        _job.read_job(dom)


def test_calls_use_libvirts_flags():
    seen = []

    class Strict(FakeDom):
        def XMLDesc(self, flags=0):
            seen.append(('XMLDesc', flags))
            return FakeDom.XMLDesc(self, flags)

        def blockJobInfo(self, disk, flags):
            seen.append(('blockJobInfo', flags))
            return {}

        def diskErrors(self, flags):
            seen.append(('diskErrors', flags))
            return {'vda': libvirt.VIR_DOMAIN_DISK_ERROR_NONE}

        def managedSaveGetXMLDesc(self, flags):
            seen.append(('managedSaveGetXMLDesc', flags))
            return '<domain/>'

        def hasManagedSaveImage(self, flags):
            seen.append(('hasManagedSaveImage', flags))
            return True
    dom = Strict()
    _job.block_jobs(dom)
    assert _job.disk_errors(dom) == {}
    _job.managed_save_xml(dom)
    assert seen == [('XMLDesc', 0), ('blockJobInfo', 0), ('blockJobInfo', 0), ('diskErrors', 0),
                    ('hasManagedSaveImage', 0), ('managedSaveGetXMLDesc', 0)]
    calls = []
    conn = SimpleNamespace(saveImageGetXMLDesc=lambda p, f: calls.append((p, f)) or '<domain><uuid>u</uuid></domain>')
    assert _job.save_image_uuid(conn, __file__) == 'u' and calls == [(__file__, 0)]


def test_failures_say_what_to_do(tmp_path):
    cases = [
        (lambda: job_run(FakeDom()).set_speed('vda', 1), 'Disk vda of g has no block job running, so it has no '
         'speed to set', 'A block job starts with its bandwidth in sysvirt.libvirt.domain_block (job.bandwidth).'),
        (lambda: job_run(FakeDom(active=False)).dump(dump_spec(str(tmp_path / 'c'))),
         'Domain g is not running; a core dump needs a running guest',
         'Start it first (sysvirt.libvirt.domain state=running).'),
        (lambda: job_run(FakeDom()).managed_save(dict(state='present', xml=None, restore_state=None)),
         'Domain g has no managed save image', 'Make one with sysvirt.libvirt.domain state=saved.'),
        (lambda: job_run(FakeDom(stats=DUMP_STATS), timeout=0).abort(None),
         'the dump job of g was asked to abort but still runs after 0 seconds',
         'Some jobs end only at a safe point; run the task again with a longer timeout.'),
        (lambda: job_run(FakeDom(stats=DUMP_STATS), timeout=0).wait_finished(None),
         'The job of g still runs after 0 seconds', 'Raise timeout, or end it with state=aborted.'),
    ]
    open(str(tmp_path / 'other'), 'w').close()
    cases.append((lambda: saving_run(FakeDom(), tmp_path, 'a' * 8 + UUID[8:]).save_to_file(
        save_spec(str(tmp_path / 'other'))),
        '%s exists and is no save image of g; not overwritten' % (tmp_path / 'other'),
        'Choose another path, or set save.force=true to overwrite it.'))
    cases.append((lambda: saving_run(FakeDom(active=False), tmp_path, UUID).save_to_file(
        save_spec(str(tmp_path / 'none'))),
        'Domain g is not running and %s holds no save image of it, so there is nothing to save' % (tmp_path / 'none'),
        'Start it first; a running guest is saved (and stopped) by this task.'))
    for action, msg, hint in cases:
        with pytest.raises(LibvirtFailure) as failure:
            action()
        assert (failure.value.msg, failure.value.hint) == (msg, hint)
    with pytest.raises(LibvirtFailure) as failure:
        job_run(FakeDom()).dump(dump_spec(str(tmp_path / 'c'), format='win-dmp'))
    assert failure.value.msg == ('dump.format win-dmp needs dump.memory_only=true (libvirt writes it from the guest '
                                 'memory only)')
    assert _job.dump_problem(dict(crash=True, reset=True)) == 'dump.crash and dump.reset exclude each other'


def test_redefine_a_saved_image(tmp_path, plain_rules):
    path = str(tmp_path / 'g.save')
    open(path, 'w').write('image')
    stored = {'xml': "<domain><name>g</name><uuid>%s</uuid></domain>" % UUID}
    calls = []
    conn = SimpleNamespace(saveImageGetXMLDesc=lambda p, f: calls.append(('get', p, f)) or stored['xml'],
                           saveImageDefineXML=lambda p, x, f: calls.append(('define', p, x, f))
                           or stored.update(xml=x))
    wanted = "<domain><name>g</name><uuid>%s</uuid><title>t</title></domain>" % UUID
    for check in (True, False):
        run = job_run(FakeDom(active=False), check=check)
        run.conn = conn
        run.save_to_file(save_spec(path, xml=wanted, restore_state='paused'))
        assert run.actions == ['redefine the domain definition in the save image %s' % path]
        assert [d.path for d in run.differences] == ['/domain/title[1]']
        assert run.report['save'] == dict(path=path, seconds=None, progress=[], completed=None, size=5)
    assert ('define', path, wanted, libvirt.VIR_DOMAIN_SAVE_PAUSED) in calls
    assert [c for c in calls if c[0] == 'define'] == [('define', path, wanted, libvirt.VIR_DOMAIN_SAVE_PAUSED)]
    assert all(c[1:] == (path, 0) for c in calls if c[0] == 'get')
    run = job_run(FakeDom(active=False))
    run.conn = conn
    run.save_to_file(save_spec(path, xml=wanted))
    assert not run.changed and run.differences == []


def test_the_run_wires_every_option(monkeypatch):
    dom = FakeDom(stats=DUMP_STATS, managed=True, block={'vda': {'type': 2, 'bandwidth': 1, 'cur': 1, 'end': 2}})
    monkeypatch.setattr(_job, 'require_domain', lambda conn, ref: dom if ref == 'g' else None)

    class Events(FakeEvents):
        def __init__(self, conn, d):
            super().__init__()
            assert d is dom

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False
    monkeypatch.setattr(_job, 'JobEvents', Events)

    def result(**params):
        run = job_run(dom, check=True, **params)
        return run, run.run()
    run, out = result(domain='g', disk='vda', speed=3)
    assert run.name == 'g' and out['actions'] == [
        'set the speed of the block copy job on disk vda of g from 1 to 3 MiB/s']
    assert out['changed'] and out['job']['domain'] == 'g' and 'differences' not in out
    run, out = result(domain='g', state='aborted')
    assert out['actions'] == ['abort the dump job of g'] and out['aborted']['operation'] == 'dump'
    run, out = result(domain='g', state='aborted', disk='vda')
    assert out['actions'] == ['abort the block copy job on disk vda of g']
    run, out = result(domain='g', managed_save=dict(state='absent', xml=None, restore_state=None))
    assert out['actions'] == ['remove the managed save image of g']
    run, out = result(domain='g', dump=dict(dump_spec('/nonexistent-sysvirt/c')))
    assert out['actions'] == ['dump the state (QEMU save stream) of g to /nonexistent-sysvirt/c'] and 'dump' in out
    dom.stats = {'type': 0}
    run, out = result(domain='g', state='finished')
    assert not out['changed'] and 'waited' in out and 'completed' in out
    run, out = result(domain='g', save=dict(save_spec('/nonexistent-sysvirt/s')))
    assert out['actions'] == ['save g to /nonexistent-sysvirt/s (it stops)'] and 'save' in out


def test_info_lists_sorts_filters_and_skips_vanished(monkeypatch):
    busy = FakeDom(stats=DUMP_STATS)
    busy.name = lambda: 'b-busy'
    copying = FakeDom(block={'vda': {'type': 2, 'cur': 1, 'end': 2}})
    copying.name = lambda: 'c-copying'
    idle = FakeDom()
    idle.name = lambda: 'a-idle'
    gone = FakeDom()
    gone.name = lambda: 'd-gone'
    gone.isActive = lambda: throw(error(libvirt.VIR_ERR_NO_DOMAIN, 'gone'))
    listed = []
    conn = SimpleNamespace(listAllDomains=lambda flags: listed.append(flags) or [copying, gone, busy, idle])

    class Connection:
        def __init__(self, module):
            pass

        def __enter__(self):
            return conn

        def __exit__(self, *exc):
            return False
    monkeypatch.setattr(_job, 'module_connection', Connection)
    exits = []
    monkeypatch.setattr(_job, 'exit_module', lambda module, result: exits.append(result))
    gone.isActive = lambda: throw(LibvirtFailure('gone', code=libvirt.VIR_ERR_NO_DOMAIN))
    for running_only, names in ((False, ['a-idle', 'b-busy', 'c-copying']), (True, ['b-busy', 'c-copying'])):
        module = SimpleNamespace(params=dict(domain=None, running_only=running_only, managed_save_xml=True))
        _job.run_info(module)
        assert exits[-1]['changed'] is False and [j['domain'] for j in exits[-1]['jobs']] == names
        assert all('managed_save_xml' in j for j in exits[-1]['jobs'])
    assert listed == [0, 0]
    monkeypatch.setattr(_job, 'require_domain', lambda conn, ref: gone)
    with pytest.raises(LibvirtFailure):
        _job.run_info(SimpleNamespace(params=dict(domain='d-gone', running_only=False, managed_save_xml=False)))
    other = FakeDom()
    other.isActive = lambda: throw(LibvirtFailure('broken', code=libvirt.VIR_ERR_INTERNAL_ERROR))
    conn.listAllDomains = lambda flags: [other]
    with pytest.raises(LibvirtFailure, match='broken'):
        _job.run_info(SimpleNamespace(params=dict(domain=None, running_only=False, managed_save_xml=False)))


def test_job_events_listen_to_jobs_block_jobs_and_the_lifecycle():
    events = _job.JobEvents(None, None)
    ids = [event_id for event_id, callback in events.registrations()]
    assert ids == [libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                   libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2]
    events._on_job_completed(None, None, {'operation': 9}, None)
    events._on_block_job(None, None, 'vda', 2, 0, None)
    assert events.events == [('job-completed', None, {'operation': 9}), ('block-job', 'vda', 0)]
    assert events.count == 2


def test_exact_warnings_flags_and_a_file_that_was_there(tmp_path, plain_rules):
    dom = FakeDom(stats=dict(DUMP_STATS))

    def ended():
        dom.stats = {'type': 0}
        raise error(libvirt.VIR_ERR_OPERATION_INVALID, 'no job is active on the domain')
    dom.on_abortJob = ended
    run = job_run(dom)
    run.abort(None)
    assert run.warnings == ['The dump job of g ended by itself before it could be aborted']
    managed = FakeDom(managed=True)
    run = job_run(managed)
    run.managed_save(dict(state='present', xml="<domain type='qemu'><name>g</name><title>t</title></domain>",
                          restore_state=None))
    assert run.warnings == ['libvirt kept the definition in the managed save image of g as it was; not kept: '
                            '/domain/title[1]: wanted %s, not present' % run.differences[0].desired]
    saver = FakeDom()
    saver.on_saveFlags = lambda p, xml, flags: open(p, 'w').write('image')
    run = saving_run(saver, tmp_path, UUID)
    run.save_to_file(save_spec(str(tmp_path / 'plain.save')))
    assert ('saveFlags', str(tmp_path / 'plain.save'), None, 0) in saver.calls
    # a dump that fails over a file that was there (force) leaves that file alone
    kept = str(tmp_path / 'kept.core')
    open(kept, 'w').write('older dump')
    failing = FakeDom()
    failing.on_coreDumpWithFormat = lambda p, fmt, flags: throw(error(libvirt.VIR_ERR_OPERATION_FAILED, 'no'))
    with pytest.raises(LibvirtFailure):
        job_run(failing).dump(dump_spec(kept, force=True))
    assert open(kept).read() == 'older dump'
