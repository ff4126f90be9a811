# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Volume upload and download over a remote transport.

``qemu+ext:///system?command=<helper>`` makes libvirt's client use its remote driver over the pipes of an external
command, exactly as ``qemu+ssh://`` does over ssh; the helper here runs ``virt-ssh-helper qemu:///system`` (what
the ssh transport runs on the far side) without ssh, so the streams cross the same RPC path a remote hypervisor's
would, and nothing leaves this machine. The pool is made on qemu:///system and removed even when a test fails.
"""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import run_module
from test_volume_transfer import allocated, four_runs, sha256
# The pool and images fixtures, used by name in the tests below.
from test_volume_transfer import images, pool  # noqa: F401 pylint: disable=unused-import

MiB = 1024 * 1024


@pytest.fixture
def remote_uri(tmp_path):
    helper = shutil.which('virt-ssh-helper')
    if helper is None:
        pytest.fail('virt-ssh-helper not found (package libvirt-daemon): run `bash scripts/testbed.sh`', pytrace=False)
    command = tmp_path / 'libvirt-pipe'
    command.write_text('#!/bin/sh\nexec %s qemu:///system\n' % helper)
    command.chmod(0o700)
    return 'qemu+ext:///system?command=%s' % command


def test_remote_uri_is_the_remote_driver(remote_uri):
    result = run_module('host_facts', dict(uri=remote_uri))
    assert not result.failed, result
    facts = result['ansible_facts']['libvirt']
    assert facts['uri'] == remote_uri and facts['driver'] == 'QEMU', facts


@pytest.mark.parametrize('fmt', ['raw', 'qcow2'])
def test_upload_and_download_over_the_remote_driver(pool, images, fmt, tmp_path, remote_uri):  # noqa: F811
    image = images[fmt]
    digest = sha256(image)
    args = dict(uri=remote_uri, pool=pool['name'], name='remote.' + fmt, format=fmt, upload=image)
    runs = four_runs(args, ['create', 'upload'])  # check, real, check, real
    assert runs[3]['transfer']['identical'] is True
    stored = os.path.join(pool['path'], 'remote.' + fmt)
    assert sha256(stored) == digest

    out = str(tmp_path / ('down.' + fmt))
    runs = four_runs(dict(uri=remote_uri, pool=pool['name'], name='remote.' + fmt, download=out, checksum=digest),
                     ['download'])
    assert runs[1]['transfer']['sha256'] == digest
    assert sha256(out) == digest
    if fmt == 'raw':
        assert allocated(stored) < os.path.getsize(stored), 'the upload did not keep the holes'
        assert allocated(out) <= 4 * MiB, 'the download did not keep the holes'
    info = run_module('volume_info', dict(uri=remote_uri, pool=pool['name'], name='remote.' + fmt))
    assert not info.failed and [v['name'] for v in info['volumes']] == ['remote.' + fmt], info
