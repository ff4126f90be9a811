# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A read-only connection never changes anything.

Every module in plugins/modules is run with readonly: true and arguments that would change something (for
the information modules: ordinary arguments). Each run either only reads (succeeds, reports no change, and
the objects are as before) or fails with the read-only hint; in both cases nothing changes (every object the
connection sees, listed before and after, held open by a read-write connection). A module missing from the
table below fails the test, so a new module cannot slip through.
"""

from __future__ import annotations

import libvirt
import pytest

from conftest import run_module
from utils.reliability import QEMU_URI, TEST_URI, module_names, problems_with, snapshot, snapshot_changes

READONLY_HINT = 'The connection is read-only (readonly: true)'


def _cases(n):
    """module -> [(label, uri, args)] that would change something on a read-write connection."""
    dom = ("<domain type='test'><name>%s-dom</name><memory>65536</memory><os><type>hvm</type></os></domain>" % n)
    return {
        'cpu_baseline': [('baseline', TEST_URI, dict(cpus=["<cpu><arch>x86_64</arch><model>qemu64</model></cpu>"]))],
        'cpu_compare': [('compare', TEST_URI, dict(xml="<cpu><arch>x86_64</arch><model>qemu64</model></cpu>"))],
        'domain': [('define', TEST_URI, dict(xml=dom)),
                   ('shutdown', TEST_URI, dict(name='test', state='destroyed')),
                   ('undefine', TEST_URI, dict(name='test', state='absent')),
                   ('title', TEST_URI, dict(name='test', title=n)),
                   ('metadata', TEST_URI, dict(name='test', metadata=[dict(namespace='urn:sysvirt-test', key='s', xml='<x>%s</x>' % n)]))],
        'domain_backup': [('push', TEST_URI, dict(domain='test', directory='/var/lib/%s' % n))],
        'domain_checkpoint': [('create', TEST_URI, dict(domain='test', name=n))],
        'domain_checkpoint_info': [('read', TEST_URI, dict(domain='test'))],
        'domain_console': [('nmi', TEST_URI, dict(domain='test', nmi=True)),
                           ('keys', TEST_URI, dict(domain='test', send_keys=['KEY_A']))],
        'bulk': [('mixed', TEST_URI, dict(networks=[dict(xml='<network><name>%s-bulk</name></network>' % n)],
                                          domains=[dict(name='test', state='paused')]))],
        'domain_block': [('resize', TEST_URI, dict(domain='test', disk='vda', size='2T'))],
        'domain_device': [('attach', TEST_URI, dict(domain='test', disk=dict(target='vdz', source='/var/lib/%s.img' % n)))],
        'domain_guest_agent': [('freeze', TEST_URI, dict(domain='test', frozen=True)),
                               ('password', TEST_URI, dict(domain='test', user_password=dict(user='root',
                                                                                             password=n)))],
        'domain_migrate': [('migrate', TEST_URI, dict(domain='test', destination='test+unix:///default', mode='live'))],
        'domain_info': [('read', TEST_URI, dict(name=['test'], xml=True))],
        'domain_job': [('dump', TEST_URI, dict(domain='test', dump=dict(path='/var/lib/%s.core' % n))),
                       ('save', TEST_URI, dict(domain='test', save=dict(path='/var/lib/%s.save' % n)))],
        'domain_job_info': [('read', TEST_URI, dict(domain='test', managed_save_xml=True))],
        'domain_event_wait': [('read', TEST_URI, dict(domain='test', event='lifecycle', timeout=1,
                                                      fail_on_timeout=False))],
        'domain_snapshot': [('create', TEST_URI, dict(domain='test', name=n))],
        'domain_snapshot_info': [('read', TEST_URI, dict(domain='test'))],
        'domain_tune': [('memory', TEST_URI, dict(domain='test', memory=dict(hard_limit='1 GiB')))],
        'host_facts': [('read', TEST_URI, dict(gather=['all']))],
        'host_memory': [('hugepages', TEST_URI, dict(hugepages=[dict(size='2M', count=8)])),
                        ('ksm', QEMU_URI, dict(ksm=dict(sleep_millisecs=17)))],
        'host_interface': [('define', TEST_URI, dict(xml="<interface type='ethernet' name='svrd%s'><start mode='none'/></interface>" % n[-6:])),
                           ('stop', TEST_URI, dict(name='eth1', state='inactive'))],
        'host_interface_info': [('read', TEST_URI, dict(xml=True))],
        'network': [('define', TEST_URI, dict(xml='<network><name>%s</name></network>' % n)),
                    ('stop', TEST_URI, dict(name='default', state='inactive')),
                    ('autostart', TEST_URI, dict(name='default', autostart=True)),
                    ('undefine', TEST_URI, dict(name='default', state='absent'))],
        'network_info': [('read', TEST_URI, dict(xml=True))],
        'node_device': [('create', TEST_URI, dict(xml="<device><name>%s</name><parent>scsi_host1</parent><capability "
                                                      "type='scsi_host'><capability type='fc_host'/></capability>"
                                                      "</device>" % n))],
        'node_device_info': [('read', TEST_URI, dict(xml=True))],
        'nwfilter': [('define', QEMU_URI, dict(xml="<filter name='%s' chain='root'/>" % n))],
        'nwfilter_info': [('read', QEMU_URI, dict(xml=True))],
        'secret': [('define', QEMU_URI, dict(usage_type='volume', usage_id='/var/lib/%s.img' % n, value='x'))],
        'secret_info': [('read', QEMU_URI, dict())],
        'storage_pool': [('define', TEST_URI, dict(xml="<pool type='dir'><name>%s</name><target><path>/var/lib/%s"
                                                       "</path></target></pool>" % (n, n))),
                         ('stop', TEST_URI, dict(name='default-pool', state='inactive')),
                         ('refresh', TEST_URI, dict(name='default-pool', refresh=True))],
        'storage_pool_info': [('read', TEST_URI, dict(xml=True))],
        'volume': [('create', TEST_URI, dict(pool='default-pool', name=n, capacity='1M')),
                   ('delete', TEST_URI, dict(pool='default-pool', name='%s-vol' % n, state='absent'))],
        'volume_info': [('read', TEST_URI, dict(pool='default-pool', xml=True))],
    }


LABELS = [(m, label) for m, cases in sorted(_cases('x').items()) for label, _uri, _args in cases]


def test_cases_would_change_something(run_token):
    """The cases are not vacuous: run read-write in check mode, each predicts a change."""
    for module, cases in sorted(_cases(run_token).items()):
        for label, uri, args in cases:
            if label in ('read', 'refresh') or module in ('cpu_baseline', 'cpu_compare') or uri != TEST_URI:
                continue
            conn = libvirt.open(uri)
            try:
                if module == 'volume' and label == 'delete':
                    conn.storagePoolLookupByName('default-pool').createXML(
                        '<volume><name>%s-vol</name><capacity>1024</capacity></volume>' % run_token, 0)
                result = run_module(module, dict(args, uri=uri), check_mode=True)
            finally:
                conn.close()
            assert result.failed or result['changed'], (module, label, result)


def test_every_module_has_a_readonly_case():
    missing = sorted(set(module_names()) - set(_cases('x')))
    assert not missing, 'modules without a read-only case in test_readonly.py: %s' % missing


@pytest.mark.parametrize('check_mode', [False, True], ids=['real', 'check'])
@pytest.mark.parametrize('module,label', LABELS, ids=['%s-%s' % ml for ml in LABELS])
def test_readonly_changes_nothing(module, label, check_mode, run_token):
    if module not in module_names():
        pytest.fail('%s is in the read-only table but not in plugins/modules' % module)
    uri, args = [(u, a) for lab, u, a in _cases(run_token)[module] if lab == label][0]
    args = dict(args, uri=uri, readonly=True)
    conn = libvirt.open(uri)
    token = None if uri == TEST_URI else run_token
    if module == 'volume' and label == 'delete':
        conn.storagePoolLookupByName('default-pool').createXML(
            '<volume><name>%s-vol</name><capacity>1024</capacity></volume>' % run_token, 0)
    try:
        before = snapshot(conn, token=token)
        result = run_module(module, args, check_mode=check_mode)
        after = snapshot(conn, token=token)
    finally:
        if module == 'volume' and label == 'delete':
            # Removed by this test, not left to the test driver's reset: the state lives while any connection
            # to test+unix:///default is open, and the next case creates the same volume.
            conn.storagePoolLookupByName('default-pool').storageVolLookupByName('%s-vol' % run_token).delete(0)
        conn.close()
    assert not problems_with(result, args, module), result
    assert not snapshot_changes(before, after), snapshot_changes(before, after)
    if result.failed:
        # In check mode a module may already know it would change something; it still only reads.
        assert result.get('hint', '').startswith(READONLY_HINT), result
    elif label == 'read' or module in ('cpu_baseline', 'cpu_compare') or not check_mode:
        # Only check mode may report a predicted change without making it.
        assert result['changed'] is False, result
