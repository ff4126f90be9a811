# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_block: backing chains read from a live definition, job status names, and domain_block's errors on the test
driver (the jobs themselves run on qemu:///system, tests/functional/test_block_qemu.py)."""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _block, _xml
from conftest import SHARED_TEST_URI, run_module, unique_name

LIVE_DISK = """<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
  <source file='/i/top.qcow2' index='3'/>
  <backingStore type='file' index='2'><format type='qcow2'/><source file='/i/mid.qcow2'/>
    <backingStore type='file' index='1'><format type='qcow2'/><source file='/i/base.qcow2'/><backingStore/>
    </backingStore></backingStore>
  <target dev='vda' bus='virtio'/></disk>"""


@pytest.mark.parametrize('xml,chain', [
    (LIVE_DISK, ['/i/mid.qcow2', '/i/base.qcow2']),
    ("<disk><source file='/a'/><backingStore/><target dev='vda'/></disk>", []),
    ("<disk><source file='/a'/><target dev='vda'/></disk>", []),
])
def test_backing_chain(xml, chain):
    assert _block.backing_chain(_xml.parse(xml)) == chain


@pytest.mark.parametrize('status,name', [
    (libvirt.VIR_DOMAIN_BLOCK_JOB_COMPLETED, 'completed'),
    (libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED, 'failed'),
    (libvirt.VIR_DOMAIN_BLOCK_JOB_CANCELED, 'canceled'),
    (libvirt.VIR_DOMAIN_BLOCK_JOB_READY, 'ready'),
])
def test_job_status_names(status, name):
    assert _block.job_status_name(status) == name


@pytest.mark.parametrize('args,message', [
    (dict(disk='vdq', size='1G'), 'no disk with target vdq'),
    (dict(disk='vda', size='lots'), 'not a size'),
])
def test_errors_on_test_driver(shared_test_conn, args, message):
    result = run_module('domain_block', dict(args, uri=SHARED_TEST_URI, domain='test'))
    assert result.failed and message in result['msg'], result


def test_stopped_guest_cannot_grow(shared_test_conn):
    name = unique_name('blkunit')
    dom = shared_test_conn.defineXML("<domain type='test'><name>%s</name><memory>65536</memory><os><type>hvm</type>"
                                     "</os><devices><disk type='file' device='disk'><source file='/g/x.img'/>"
                                     "<target dev='vda'/></disk></devices></domain>" % name)
    try:
        result = run_module('domain_block', dict(uri=SHARED_TEST_URI, domain=name, disk='vda', size='1G'))
        assert result.failed and 'needs' in result['msg'] and 'running' in result['msg'] and result['hint']
        result = run_module('domain_block', dict(uri=SHARED_TEST_URI, domain=name, disk='vda',
                                                 job=dict(type='pull')))
        assert result.failed and 'running' in result['msg']
    finally:
        dom.undefine()
