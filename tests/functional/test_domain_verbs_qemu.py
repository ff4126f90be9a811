# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The remaining domain verbs on qemu:///system with the tiny TCG guest: domain_console (keys, NMI, screenshot) and
the domain module's hard reset, rename, and starts with force_boot and reset_nvram. What each did is read back
independently: the guest's serial console (its kernel answers an NMI and a SysRq key), virsh, the image file."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import zlib

import libvirt
import pytest

from conftest import QEMU_URI, run_module, unique_name
from day2_guest import cleanup_domain
from utils.guest import GUEST_KERNEL, MARKER_UP, count_in_console, tiny_guest_xml, wait_for_console

VIDEO = "    <video><model type='vga'/></video>\n"
# The VGA text cursor blinks, and a screenshot shows it or not: hidden, the same screen gives the same image.
CMDLINE = 'console=ttyS0 vt.global_cursor_default=0'


def _virsh(*args):
    return subprocess.run(['virsh', '-c', QEMU_URI] + list(args), check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix='sysvirt-test-hostops-')
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def guest(qemu_conn, workdir):
    """A running tiny guest with a VGA display: (name, dom, serial log)."""
    if not os.path.exists(GUEST_KERNEL):
        pytest.fail('the tiny test guest is not built: run `bash scripts/build-test-guest.sh`', pytrace=False)
    name = unique_name('hostops-verbs')
    log = os.path.join(workdir, 'serial.log')
    try:
        xml = tiny_guest_xml(name, serial_log=log, cmdline=CMDLINE).replace('  </devices>', VIDEO + '  </devices>')
        dom = qemu_conn.defineXML(xml)
        dom.create()
        wait_for_console(log, MARKER_UP, timeout=60)
        yield name, dom, log
    finally:
        cleanup_domain(qemu_conn, name)


def read_png(path):
    """(width, height) of a PNG file, read back in full: every chunk's CRC checked and the pixel data inflated to
    the size its header promises."""
    with open(path, 'rb') as handle:
        data = handle.read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', data[:8]
    position, header, pixels = 8, None, b''
    while position < len(data):
        length, kind = struct.unpack('>I4s', data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        crc, = struct.unpack('>I', data[position + 8 + length:position + 12 + length])
        assert zlib.crc32(kind + body) & 0xffffffff == crc, kind
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            pixels += body
        position += 12 + length
    width, height, depth, colour = header[:4]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    assert len(zlib.decompress(pixels)) == height * (1 + width * channels * depth // 8)
    return width, height


def test_nmi_reaches_the_guest_kernel(guest):
    name, _dom, log = guest
    check = run_module('domain_console', dict(uri=QEMU_URI, domain=name, nmi=True), check_mode=True)
    assert check['changed'] is True and check['actions'] == ['inject an NMI']
    assert count_in_console(log, 'NMI received') == 0
    real = run_module('domain_console', dict(uri=QEMU_URI, domain=name, nmi=True))
    assert real['changed'] is True and real['actions'] == ['inject an NMI'] and real['domain'] == name
    wait_for_console(log, 'NMI received', timeout=20)


def test_keys_reach_the_guest_kernel(guest):
    name, _dom, log = guest
    args = dict(uri=QEMU_URI, domain=name, send_keys=['alt+KEY_SYSRQ+h'])
    check = run_module('domain_console', args, check_mode=True)
    assert check['changed'] is True and check['actions'] == ['send keys alt+KEY_SYSRQ+h']
    assert count_in_console(log, 'sysrq: HELP') == 0
    real = run_module('domain_console', dict(args, send_keys=['56+99+35'], hold_time=50))  # the same keys as codes
    assert real['changed'] is True
    wait_for_console(log, 'sysrq: HELP', timeout=20)


def test_screenshot_four_runs(guest, workdir):
    name = guest[0]
    dest = os.path.join(workdir, 'screen.png')
    args = dict(uri=QEMU_URI, domain=name, screenshot=dict(dest=dest))
    results = []
    for check, changed in ((True, True), (False, True), (True, False), (False, False)):
        result = run_module('domain_console', args, check_mode=check)
        assert not result.failed, result
        assert result['changed'] is changed, (check, result)
        assert os.path.exists(dest) is not (check and changed)
        results.append(result)
    shot = results[1]['screenshot']
    # VGA text mode: 80 x 25 characters of 9 x 16 pixels
    assert read_png(dest) == (720, 400) == (shot['width'], shot['height'])
    assert shot['mime_type'] == 'image/png' and shot['bytes'] == os.path.getsize(dest)
    assert results[0]['screenshot']['sha256'] == shot['sha256'] == results[3]['screenshot']['sha256']
    assert results[1]['actions'] == ['save a screenshot of screen 0 to %s' % dest]


def test_console_mistakes(guest, qemu_conn, workdir):
    name = guest[0]
    for args, words in ((dict(send_keys=['ctrl+nosuchkey']), 'unknown key nosuchkey'),
                        (dict(send_keys=['ctrl++a']), 'has an empty key'),
                        (dict(send_keys=['ctrl'], keycode_set='usb'), 'give the key codes as numbers'),
                        (dict(send_keys=['+'.join(['a'] * 17)]), 'libvirt takes at most 16'),
                        (dict(screenshot=dict(dest=os.path.join(workdir, 'no', 'such.png'))), 'does not exist')):
        result = run_module('domain_console', dict(args, uri=QEMU_URI, domain=name))
        assert result.failed and words in result['msg'], (args, result)
        assert not result.get('changed')
    qemu_conn.lookupByName(name).destroy()
    result = run_module('domain_console', dict(uri=QEMU_URI, domain=name, nmi=True))
    assert result.failed and 'is not running' in result['msg'] and 'Start the guest' in result['hint']


def test_hard_reset(guest):
    name, _dom, log = guest
    domain_id = _virsh('domid', name)  # a new QEMU process would get a new ID
    check = run_module('domain', dict(uri=QEMU_URI, name=name, state='reset'), check_mode=True, diff=True)
    assert check['changed'] is True and check['actions'] == ['hard reset']
    assert count_in_console(log, MARKER_UP) == 1
    real = run_module('domain', dict(uri=QEMU_URI, name=name, state='reset'), diff=True)
    assert real['changed'] is True and real['actions'] == ['hard reset']
    assert real['domain']['state'] == 'running'
    assert check['diff'] == real['diff']
    wait_for_console(log, MARKER_UP, timeout=60, count=2)  # booted again, in the same QEMU process
    assert _virsh('domstate', name) == 'running' and _virsh('domid', name) == domain_id


def test_reset_of_a_guest_that_is_off_starts_it(guest):
    name, dom, log = guest
    dom.destroy()
    result = run_module('domain', dict(uri=QEMU_URI, name=name, state='reset'))
    assert result['changed'] is True and result['actions'] == ['start']
    assert _virsh('domstate', name) == 'running'


def test_rename_four_runs(qemu_conn, workdir):
    old, new = unique_name('hostops-old'), unique_name('hostops-new')
    try:
        qemu_conn.defineXML(tiny_guest_xml(old, serial_log=os.path.join(workdir, 'serial.log')))
        uuid = qemu_conn.lookupByName(old).UUIDString()
        args = dict(uri=QEMU_URI, name=new, rename_from=old)
        for check, changed in ((True, True), (False, True), (True, False), (False, False)):
            result = run_module('domain', args, check_mode=check)
            assert not result.failed, result
            assert result['changed'] is changed, (check, result)
            assert result['actions'] == (['rename %s to %s' % (old, new)] if changed else [])
            names = _virsh('list', '--all', '--name').split()
            assert (old in names, new in names) == ((True, False) if check and changed else (False, True))
        assert qemu_conn.lookupByName(new).UUIDString() == uuid
        assert result['domain']['name'] == new
    finally:
        cleanup_domain(qemu_conn, old)
        cleanup_domain(qemu_conn, new)


def test_rename_refuses_a_running_guest_and_warns_when_both_exist(guest, qemu_conn, workdir):
    name = guest[0]
    new = unique_name('hostops-new')
    result = run_module('domain', dict(uri=QEMU_URI, name=new, rename_from=name))
    assert result.failed and 'libvirt renames only a domain that is shut off' in result['msg'], result
    assert 'Shut it down first' in result['hint']
    other = unique_name('hostops-other')
    try:
        qemu_conn.defineXML(tiny_guest_xml(other, serial_log=os.path.join(workdir, 'other.log')))
        both = run_module('domain', dict(uri=QEMU_URI, name=other, rename_from=name))
        assert not both.failed and both['changed'] is False
        assert 'Both domain %s and domain %s exist' % (name, other) in str(both['warnings'])
    finally:
        cleanup_domain(qemu_conn, other)


def test_force_boot_discards_the_managed_save(guest):
    name, dom, log = guest
    dom.managedSave(0)
    assert dom.hasManagedSaveImage(0)
    with open(log, 'w', encoding='utf-8'):
        pass  # emptied: a restored guest prints nothing more, a fresh boot its marker
    args = dict(uri=QEMU_URI, name=name, state='running', force_boot=True, timeout=60)
    check = run_module('domain', args, check_mode=True)
    assert check['actions'] == ['start (discard the managed save, boot afresh)']
    assert dom.hasManagedSaveImage(0)
    real = run_module('domain', args)
    assert real['changed'] is True and real['actions'] == check['actions']
    assert not dom.hasManagedSaveImage(0)
    wait_for_console(log, MARKER_UP, timeout=60)  # a fresh boot, not the restored memory
    again = run_module('domain', args)
    assert again['changed'] is False and again['actions'] == []


def test_reset_nvram_starts_from_the_template(qemu_conn, workdir):
    name = unique_name('hostops-nvram')
    loader = os.path.join(workdir, 'CODE.fd')
    template = os.path.join(workdir, 'VARS-template.fd')
    nvram = os.path.join(workdir, 'VARS.fd')
    with open(loader, 'wb') as handle:
        handle.write(b'\0' * 65536)
    with open(template, 'wb') as handle:
        handle.write(b'T' * 65536)
    with open(nvram, 'wb') as handle:
        handle.write(b'changed by the guest'.ljust(65536, b'x'))
    xml = tiny_guest_xml(name, serial_log=os.path.join(workdir, 'serial.log')).replace(
        '<kernel>', "<loader readonly='yes' type='pflash'>%s</loader><nvram template='%s'>%s</nvram><kernel>"
        % (loader, template, nvram))
    try:
        qemu_conn.defineXML(xml)
        args = dict(uri=QEMU_URI, name=name, state='running', reset_nvram=True)
        check = run_module('domain', args, check_mode=True)
        assert check['changed'] is True and check['actions'] == ['start (reset the NVRAM)']
        with open(nvram, 'rb') as handle:
            assert handle.read(20) == b'changed by the guest'
        real = run_module('domain', args)
        assert not real.failed, real
        assert real['changed'] is True and real['actions'] == ['start (reset the NVRAM)']
        with open(nvram, 'rb') as handle:
            assert handle.read() == b'T' * 65536
        assert _virsh('domstate', name) == 'running'
    finally:
        try:
            dom = qemu_conn.lookupByName(name)
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        except libvirt.libvirtError:
            pass
        cleanup_domain(qemu_conn, name)
        if os.path.exists(nvram):
            os.unlink(nvram)
