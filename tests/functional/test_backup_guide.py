# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The playbooks of docs/guides/backup.md, run as written with ansible-playbook against qemu:///system.

The files are taken from the guide (each fenced block after a ``<!-- file: NAME -->`` line); only vars.yml is the
test's own (its guest, its directories, a TCG guest type). Known data is written into the guest's disk between
the runs (through QEMU, as in test_backup_qemu.py); every restored point is compared by checksum.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import libvirt
import pytest
import yaml

from conftest import QEMU_URI, unique_name
from day2_guest import cleanup_domain, guest_with_disks
from test_backup_qemu import MIB, restored_digest, write

GUIDE = os.path.join(os.path.dirname(__file__), '..', '..', 'docs', 'guides', 'backup.md')
IMAGES = '/var/lib/libvirt/images'
FILE_BLOCK = re.compile(r'<!-- file: (?P<name>[\w.-]+) -->\n```\w+\n(?P<text>.*?)\n```', re.S)


def guide_files():
    with open(GUIDE, encoding='utf-8') as handle:
        return dict((m.group('name'), m.group('text') + '\n') for m in FILE_BLOCK.finditer(handle.read()))


def playbook(work, name, *extra):
    argv = [shutil.which('ansible-playbook'), '-i', 'inventory.yml', name]
    for item in extra:
        argv += ['-e', item]
    proc = subprocess.run(argv, cwd=str(work), capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture
def setup(qemu_conn, tmp_path):
    files = guide_files()
    assert {'inventory.yml', 'vars.yml', 'weekly-full.yml', 'nightly-incremental.yml', 'restore.yml',
            'restore-guest.xml.j2'} <= set(files), sorted(files)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    root = os.path.join(IMAGES, unique_name('backup-guide'))
    os.mkdir(root, 0o755)
    restored_name = unique_name('backup-restored')
    with guest_with_disks(qemu_conn, disks=(('vda', 'qcow2', '16M'),), kind='backup-guide') as (name, dom, wd, paths):
        guide_vars = yaml.safe_load(files['vars.yml'])
        guide_vars.update(libvirt_uri=QEMU_URI, guest=name, backup_root=os.path.join(root, name),
                          restore_guest=restored_name, restore_disk=os.path.join(root, 'restored.qcow2'),
                          restore_domain_type='qemu', restore_memory_mib=64)
        (tmp_path / 'vars.yml').write_text(yaml.safe_dump(guide_vars))
        os.mkdir(guide_vars['backup_root'], 0o755)
        try:
            yield tmp_path, name, dom, paths, guide_vars
        finally:
            cleanup_domain(qemu_conn, restored_name)
            shutil.rmtree(root, ignore_errors=True)


def test_weekly_full_nightly_incrementals_and_restore(setup, qemu_conn):
    work, name, dom, paths, guide_vars = setup
    backup_root = guide_vars['backup_root']
    write(name, 0x11, 0, MIB)
    playbook(work, 'weekly-full.yml', 'stamp=w1')
    point0 = restored_digest(paths['vda'], str(work))
    write(name, 0x22, 4 * MIB, MIB)
    playbook(work, 'nightly-incremental.yml', 'stamp=n1')
    point1 = restored_digest(paths['vda'], str(work))
    write(name, 0x33, 0, 64 * 1024)
    out = playbook(work, 'nightly-incremental.yml', 'stamp=n2')
    assert 'incremental backup' in out
    # the same night again: nothing to do
    again = playbook(work, 'nightly-incremental.yml', 'stamp=n2')
    assert re.search(r'hypervisor\s*: ok=\d+\s+changed=0 ', again), again[-1500:]
    assert sorted(os.listdir(backup_root)) == ['n1', 'n2', 'w1-full']
    with open(os.path.join(backup_root, 'n2', 'backup.json')) as f:
        manifest = json.load(f)
    assert manifest['since'] == '%s-n1' % name and manifest['kind'] == 'incremental'
    assert len({point0, point1, restored_digest(paths['vda'], str(work))}) == 3
    # restore the first night's backup into a new guest
    playbook(work, 'restore.yml', 'restore_from=%s' % os.path.join(backup_root, 'n1'))
    assert restored_digest(guide_vars['restore_disk'], str(work)) == point1
    restored = qemu_conn.lookupByName(guide_vars['restore_guest'])
    assert restored.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert guide_vars['restore_disk'] in restored.XMLDesc(0)
    # the full backup restores too
    assert restored_digest(os.path.join(backup_root, 'w1-full', 'vda.qcow2'), str(work)) == point0
