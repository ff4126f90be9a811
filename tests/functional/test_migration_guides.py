# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The playbooks of docs/guides/from-virt-install.md and from-community-libvirt.md, run as written on qemu:///system.

Each ```yaml block after a ``<!-- file: NAME -->`` line is written to a directory and run with ansible-playbook;
only the play variables (``lab_*``, ``demo_*``: a prefixed guest name, a pool of the test's own, the tiny test
guest's kernel) come from ``-e``. Each playbook runs twice: the first run changes something, the second nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import libvirt
import pytest

from conftest import unique_name
from day2_guest import cleanup_domain, dir_pool
from utils.guest import GUEST_INITRD, GUEST_KERNEL
from utils.rulebook import tool

GUIDES = os.path.join(os.path.dirname(__file__), '..', '..', 'docs', 'guides')
FILE_BLOCK = re.compile(r'<!-- file: (?P<name>[\w.-]+) -->\n```yaml\n(?P<text>.*?)\n```', re.S)
RECAP = re.compile(r'^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


def guide_files(guide):
    with open(os.path.join(GUIDES, guide), encoding='utf-8') as handle:
        return dict((m.group('name'), m.group('text') + '\n') for m in FILE_BLOCK.finditer(handle.read()))


@pytest.fixture
def pool(qemu_conn):
    with dir_pool(qemu_conn, 'guidepool', (('base.qcow2', 'qcow2', '16M'), ('tools.iso', 'raw', '1M'))) as made:
        yield made[:2]


def play(folder, playbook, variables):
    """Run the playbook; (changed count, output). Fails the test when the play fails."""
    proc = subprocess.run([tool('ansible-playbook'), '-i', 'localhost,', '-c', 'local', playbook,
                           '-e', json.dumps(variables)], cwd=folder, capture_output=True, text=True, timeout=300,
                          check=False, env=dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=shutil.which('python')
                                                or 'python3'))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    recap = RECAP.search(proc.stdout)
    assert recap and recap.group(4) == '0', output
    return int(recap.group(2)), output


def run_guide(tmp_path, guide, create, remove, variables, conn, volumes):
    files = guide_files(guide)
    assert {create, remove} <= set(files), sorted(files)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    name = next(v for k, v in variables.items() if k.endswith('_name'))
    try:
        changed, output = play(str(tmp_path), create, variables)
        assert changed >= 1, output
        assert conn.lookupByName(name).isActive()
        for path in volumes:
            assert conn.storageVolLookupByPath(path) is not None
        changed, output = play(str(tmp_path), create, variables)
        assert changed == 0, output
        changed, output = play(str(tmp_path), remove, variables)
        assert changed >= 1, output
        with pytest.raises(libvirt.libvirtError):
            conn.lookupByName(name)
        for path in volumes:
            with pytest.raises(libvirt.libvirtError):
                conn.storageVolLookupByPath(path)
        changed, output = play(str(tmp_path), remove, variables)
        assert changed == 0, output
    finally:
        cleanup_domain(conn, name)


def test_from_virt_install_guide(tmp_path, qemu_conn, pool):
    name = unique_name('guide-vi')
    variables = dict(lab_name=name, lab_pool=pool[0], lab_iso=os.path.join(pool[1], 'tools.iso'),
                     lab_kernel=GUEST_KERNEL, lab_initrd=GUEST_INITRD)
    run_guide(tmp_path, 'from-virt-install.md', 'lab.yml', 'lab-remove.yml', variables, qemu_conn,
              [os.path.join(pool[1], name + '.qcow2')])


def test_from_community_libvirt_guide(tmp_path, qemu_conn, pool):
    name = unique_name('guide-cl')
    variables = dict(demo_name=name, demo_pool=pool[0], demo_base='base.qcow2', demo_kernel=GUEST_KERNEL,
                     demo_initrd=GUEST_INITRD)
    run_guide(tmp_path, 'from-community-libvirt.md', 'create.yml', 'remove.yml', variables, qemu_conn,
              [os.path.join(pool[1], name + '.qcow2'), os.path.join(pool[1], name + '-seed.iso')])
