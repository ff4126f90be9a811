# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The domain module's power states on qemu:///system with the real tiny guest (tests/utils/guest.py).

Each transition runs check -> real -> check -> real and is verified with virsh and the guest's serial
console (it prints a marker when up and when it powers off on an ACPI request). The guest has no disk and
no NIC; every domain is named sysvirt-test-* and removed in a finaliser.
"""

from __future__ import annotations

import os
import subprocess

import libvirt
import pytest

from conftest import QEMU_URI, run_module, unique_name
from utils.guest import (GUEST_KERNEL, MARKER_POWEROFF, MARKER_UP, count_in_console, serial_log_path,
                         tiny_guest_xml, wait_for_console)


def virsh(*args):
    return subprocess.run(['virsh', '-c', QEMU_URI] + list(args), check=True, capture_output=True,
                          text=True).stdout.strip()


def domstate(name):
    return virsh('domstate', name)


@pytest.fixture
def guest(qemu_conn):
    if not os.path.exists(GUEST_KERNEL):
        pytest.fail('the tiny test guest is not built: run `bash scripts/build-test-guest.sh`', pytrace=False)
    name = unique_name('guest')
    log = serial_log_path(name)
    yield name, log
    try:
        dom = qemu_conn.lookupByName(name)
    except libvirt.libvirtError:
        dom = None
    if dom is not None:
        persistent = dom.isPersistent()
        if dom.isActive():
            dom.destroy()  # a transient guest is gone after this
        if persistent:
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM)
    if os.path.exists(log):
        os.unlink(log)


def four_runs(args, actions, repeat_changes=False):
    args = dict(uri=QEMU_URI, **args)
    results = []
    for check in (True, False, True, False):
        result = run_module('domain', args, check_mode=check)
        assert not result.failed, result['msg']
        results.append(result)
    assert [r['changed'] for r in results[:2]] == [True, True]
    assert results[0]['actions'] == actions and results[1]['actions'] == actions
    if not repeat_changes:
        assert [r['changed'] for r in results[2:]] == [False, False], results[2:]
    return results


def test_full_lifecycle(guest, qemu_conn):
    name, log = guest
    xml = tiny_guest_xml(name)
    four_runs(dict(xml=xml, state='running'), ['define', 'start'])
    assert domstate(name) == 'running'
    wait_for_console(log, MARKER_UP, 60)

    results = four_runs(dict(name=name, state='paused'), ['pause'])
    assert domstate(name) == 'paused'
    four_runs(dict(name=name, state='running'), ['resume'])
    assert domstate(name) == 'running'

    # graceful shutdown through ACPI, measured: the guest powers off by itself
    results = four_runs(dict(name=name, state='shutdown', shutdown_mode=['acpi'], timeout=60), ['shutdown'])
    assert domstate(name) == 'shut off'
    assert count_in_console(log, MARKER_POWEROFF) == 1
    print('graceful ACPI shutdown took %.2f s' % results[1]['wait_seconds'])
    assert results[1]['wait_seconds'] < 60

    four_runs(dict(name=name, state='running'), ['start'])
    # a new QEMU process starts the serial log afresh
    wait_for_console(log, MARKER_UP, 60)

    # restarted: a graceful reboot every time (never "unchanged"), the guest comes back in the same process
    ups = count_in_console(log, MARKER_UP)
    for check in (True, False):
        result = run_module('domain', dict(uri=QEMU_URI, name=name, state='restarted', timeout=60), check_mode=check)
        assert not result.failed, result['msg']
        assert result['changed'] and result['actions'] == ['reboot']
    wait_for_console(log, MARKER_UP, 60, count=ups + 1)
    assert domstate(name) == 'running'

    results = four_runs(dict(name=name, state='saved'), ['managed save'])
    assert domstate(name) == 'shut off'
    assert qemu_conn.lookupByName(name).hasManagedSaveImage(0) == 1
    four_runs(dict(name=name, state='running'), ['start (restore the managed save)'])
    assert domstate(name) == 'running'
    assert qemu_conn.lookupByName(name).hasManagedSaveImage(0) == 0

    four_runs(dict(name=name, state='destroyed'), ['destroy'])
    assert domstate(name) == 'shut off'

    four_runs(dict(name=name, state='running'), ['start'])
    results = four_runs(dict(name=name, state='absent'), ['destroy', 'undefine'])
    assert results[1]['removed']['storage'] == []
    assert name not in virsh('list', '--all', '--name').split()


@pytest.mark.parametrize('force', [False, True])
def test_shutdown_that_the_guest_ignores(guest, force):
    name, log = guest
    # without the ACPI feature the guest never sees the power button
    xml = tiny_guest_xml(name).replace('<acpi/>', '')
    result = run_module('domain', dict(uri=QEMU_URI, xml=xml, state='running'))
    assert not result.failed, result['msg']
    wait_for_console(log, MARKER_UP, 60)
    result = run_module('domain', dict(uri=QEMU_URI, name=name, state='shutdown', shutdown_mode=['acpi'],
                                       timeout=3, force=force))
    if force:
        assert not result.failed, result['msg']
        assert result['actions'] == ['shutdown', 'destroy (graceful shutdown timed out)']
        assert any('powered off' in str(w) for w in result['warnings'])
        assert domstate(name) == 'shut off'
    else:
        assert result.failed
        assert 'did not shut down within 3 seconds' in result['msg'] and 'force=true' in result['hint']
        assert domstate(name) == 'running'


def test_restart_on_change_applies_a_new_definition(guest, qemu_conn):
    name, log = guest
    run_module('domain', dict(uri=QEMU_URI, xml=tiny_guest_xml(name), state='running'))
    wait_for_console(log, MARKER_UP, 60)
    changed = tiny_guest_xml(name, memory_mib=256)
    result = run_module('domain', dict(uri=QEMU_URI, xml=changed, state='running'))
    assert result['actions'] == ['redefine'] and result['restart_needed'] is True
    assert qemu_conn.lookupByName(name).info()[1] == 192 * 1024
    results = four_runs(dict(xml=changed, state='running', restart_on_change=True, timeout=60),
                        ['shutdown', 'start'])
    assert results[1]['restart_needed'] is False and results[3]['restart_needed'] is False
    assert qemu_conn.lookupByName(name).info()[1] == 256 * 1024
    assert domstate(name) == 'running'


@pytest.mark.parametrize('inside', [True, False])
def test_absent_removes_nvram_only_inside_libvirts_directory(qemu_conn, tmp_path, inside):
    # The guest is only defined and removed, never started: libvirt reads neither file, so the test makes both
    # (no firmware package needed). The NVRAM directory is the qemu driver's, made when libvirtd starts.
    name = unique_name('nvram')
    directory = '/var/lib/libvirt/qemu/nvram' if inside else str(tmp_path)
    nvram = os.path.join(directory, '%s_VARS.fd' % name)
    loader = tmp_path / ('%s_CODE.fd' % name)
    loader.write_bytes(b'\0' * 65536)
    with open(nvram, 'wb') as dst:
        dst.write(b'\0' * 65536)
    xml = tiny_guest_xml(name).replace(
        '<kernel>', "<loader readonly='yes' type='pflash'>%s</loader><nvram>%s</nvram><kernel>" % (loader, nvram))
    try:
        result = run_module('domain', dict(uri=QEMU_URI, xml=xml))
        assert not result.failed, result['msg']
        results = four_runs(dict(name=name, state='absent'), ['undefine'])
        if inside:
            assert results[1]['removed']['nvram'] == nvram and not os.path.exists(nvram)
        else:
            assert results[1]['removed']['nvram_kept'] == nvram and os.path.exists(nvram)
    finally:
        try:
            qemu_conn.lookupByName(name).undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM)
        except libvirt.libvirtError:
            pass
        if os.path.exists(nvram):
            os.unlink(nvram)


def test_transient_guest_and_native_export(guest, qemu_conn):
    name, log = guest
    results = four_runs(dict(xml=tiny_guest_xml(name), persistent=False, state='running'),
                        ['create (transient)'])
    assert qemu_conn.lookupByName(name).isPersistent() == 0
    native = run_module('domain', dict(uri=QEMU_URI, name=name, persistent=False, state='running',
                                       to_native='qemu-argv'))
    assert not native.failed, native['msg']
    assert 'qemu-system-x86_64' in native['native_config'] and native['changed'] is False
    wait_for_console(log, MARKER_UP, 60)
    four_runs(dict(name=name, persistent=False, state='shutdown', timeout=60), ['shutdown'])
    assert name not in virsh('list', '--all', '--name').split()
