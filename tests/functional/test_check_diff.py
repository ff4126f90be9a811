# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check mode tells the truth: `--check --diff` shows the same diff as the real run.

For the changes the functional tests make (tiny guest: memory, vCPUs, a title; network: a DNS domain; nwfilter:
a changed and an added rule, a rule left out; secret: a description) and for every corpus domain and network
document the manifest accepts (defined under a prefixed name, then changed: domains get 64 MiB more memory,
networks a DNS domain), the module runs in check mode and then for real, both with --diff, and the unified diffs
of their definitions must be equal. test_share_summary prints how many were.

A new object is not compared: its stored form holds what libvirt generates (UUID, MACs, default devices), which
check mode cannot know, so its check-mode "after" is the document as given (documented in _resource).
"""

from __future__ import annotations

import collections
import difflib

import libvirt
import pytest

from conftest import QEMU_URI, SHARED_TEST_URI, corpus_manifest, corpus_params, run_module, unique_name
from utils.guest import tiny_guest_xml

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml

#: (kind, outcome) counts over this run, printed by test_share_summary.
SHARE = collections.Counter()


def definition_diff(result):
    """The unified diff of the definition a result's --diff shows (the domain module also diffs its state)."""
    diff = result['diff'][0] if isinstance(result['diff'], list) else result['diff']
    return ''.join(difflib.unified_diff(diff['before'].splitlines(True), diff['after'].splitlines(True)))


def check_then_real(module, args, kind):
    check = run_module(module, args, check_mode=True, diff=True)
    assert not check.failed, check['msg']
    real = run_module(module, args, diff=True)
    assert not real.failed, real['msg']
    assert check['actions'] == real['actions']
    predicted, done = definition_diff(check), definition_diff(real)
    SHARE[kind, predicted == done] += 1
    assert predicted == done, 'check mode predicted:\n%s\nthe real run did:\n%s' % (predicted, done)
    return real


def _undefine(lookup, name, *undefine_args):
    try:
        obj = lookup(name)
    except libvirt.libvirtError:
        return
    if obj.isActive():
        obj.destroy()
    if obj.isPersistent():
        try:
            getattr(obj, 'undefineFlags' if undefine_args else 'undefine')(*undefine_args)
        except libvirt.libvirtError:  # (the test driver takes no undefine flags)
            obj.undefine()


# -- the changes of the functional tests ------------------------------------------------------------------------

@pytest.mark.parametrize('change', [dict(memory_mib=256), dict(vcpus=2), dict(title='web server')])
def test_tiny_guest_changes(qemu_conn, change):
    name = unique_name('chkdiff')
    try:
        assert not run_module('domain', dict(uri=QEMU_URI, xml=tiny_guest_xml(name))).failed
        result = check_then_real('domain', dict(uri=QEMU_URI, xml=tiny_guest_xml(name, **change)), 'functional')
        assert result['actions'] == ['redefine']
    finally:
        _undefine(qemu_conn.lookupByName, name, libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM)


def test_network_dns_domain(qemu_conn):
    name = unique_name('chkdiff')[:15]
    xml = "<network><name>%s</name></network>" % name
    try:
        assert not run_module('network', dict(uri=QEMU_URI, xml=xml)).failed
        changed = xml.replace('</network>', "<domain name='lab.test'/></network>")
        check_then_real('network', dict(uri=QEMU_URI, xml=changed), 'functional')
    finally:
        _undefine(qemu_conn.networkLookupByName, name)


def _filter_xml(name, port='22', extra=''):
    return ("<filter name='%s' chain='ipv4' priority='-650'><filterref filter='no-mac-spoofing'/>"
            "<rule action='accept' direction='in' priority='100'><tcp dstportstart='%s'/></rule>%s</filter>"
            % (name, port, extra))


def test_nwfilter_rules(qemu_conn):
    name = unique_name('chkdiff')
    args = dict(uri=QEMU_URI, name=name)
    try:
        assert not run_module('nwfilter', dict(args, xml=_filter_xml(name))).failed
        rule = "<rule action='drop' direction='inout' priority='900'><all/></rule>"
        check_then_real('nwfilter', dict(args, xml=_filter_xml(name, '2222', rule)), 'functional')
        check_then_real('nwfilter', dict(args, xml=_filter_xml(name)), 'functional')
    finally:
        try:
            qemu_conn.nwfilterLookupByName(name).undefine()
        except libvirt.libvirtError:
            pass


def test_secret_description(qemu_conn):
    usage = unique_name('chkdiff')
    args = dict(uri=QEMU_URI, usage_type='volume', usage_id='/var/lib/libvirt/images/%s.img' % usage)
    try:
        assert not run_module('secret', dict(args, description='first')).failed
        check_then_real('secret', dict(args, description='second'), 'functional')
    finally:
        run_module('secret', dict(args, state='absent'))


# -- the corpus ----------------------------------------------------------------------------------------------------

CONNECTIONS = {QEMU_URI: 'accepted_qemu_system', SHARED_TEST_URI: 'accepted_test_driver'}


def _rows(kinds):
    rows = []
    for row in corpus_manifest():
        if row['invalid'] or row['kind'] not in kinds:
            continue
        for uri, column in CONNECTIONS.items():
            if row[column] == 'yes':
                rows.append(pytest.param(uri, row, id='%s:%s/%s' % (
                    'qemu' if uri == QEMU_URI else 'test', row['kind'], row['file'])))
    return corpus_params(rows, 2)


def _renamed(path, name):
    with open(path, 'rb') as handle:
        root = _xml.parse(handle.read(), path)
    element = root.find('name')
    if element is None:
        element = _xml.set_child_text(root, 'name', '')
    element.text = name
    for uuid in root.findall('uuid'):
        root.remove(uuid)
    return root


def _more_memory(root):
    memory = root.find('memory')
    size = _xml.size_to_bytes(memory.text.strip(), memory.get('unit') or 'KiB')
    memory.text = str(size // 1024 + 65536)
    memory.set('unit', 'KiB')
    return _xml.to_string(root)


#: Where check mode cannot know what libvirt stores, with the reason (counted apart in the summary).
NOT_PREDICTABLE = {
    'kept': 'libvirt does not keep parts of this document as written (a check run of the unchanged document '
            'already reports differences), and check mode predicts them as written',
    'memory': 'libvirt derives <memory> from the NUMA cells or memory devices, so the change is not kept',
    'host': "this host's libvirt rejects the document (TPM 1.2 without swtpm)",
}


def _exception(kind, reason):
    SHARE[kind, reason] += 1
    pytest.xfail(NOT_PREDICTABLE[reason])


@pytest.mark.parametrize('uri, row', _rows(('domain-qemu', 'domain-test')))
def test_corpus_domain_memory(corpus, uri, row):
    name = unique_name('chkdiff')
    root = _renamed(row['path'], name)
    conn = libvirt.open(uri)
    try:
        first = run_module('domain', dict(uri=uri, xml=_xml.to_string(root)))
        if first.failed and 'TPM version' in first['msg']:
            _exception('domain corpus', 'host')
        assert not first.failed, first['msg']
        if run_module('domain', dict(uri=uri, xml=_xml.to_string(root)), check_mode=True)['changed']:
            _exception('domain corpus', 'kept')
        if root.find('cpu/numa') is not None or root.find('maxMemory') is not None:
            _exception('domain corpus', 'memory')
        check_then_real('domain', dict(uri=uri, xml=_more_memory(root)), 'domain corpus')
    finally:
        flags = libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        _undefine(conn.lookupByName, name, flags)
        conn.close()


@pytest.mark.parametrize('uri, row', _rows(('network',)))
def test_corpus_network_dns_domain(corpus, uri, row):
    name = unique_name('chkdiff')[:15]
    root = _renamed(row['path'], name)
    conn = libvirt.open(uri)
    try:
        first = run_module('network', dict(uri=uri, xml=_xml.to_string(root)))
        if first.failed and 'already' in first['msg']:
            pytest.skip('this host already has what the document claims (%s)' % first['msg'])
        assert not first.failed, first['msg']
        forward = root.find('forward')
        if forward is None or forward.get('mode', 'nat') in ('nat', 'route', 'open'):
            for old in root.findall('domain'):
                root.remove(old)
            _xml.set_child_text(root, 'domain', None).set('name', 'sysvirt.test')
        else:  # (no DNS of its own: a port group instead)
            root.append(_xml.parse("<portgroup name='sysvirt-test-extra'/>"))
        check_then_real('network', dict(uri=uri, xml=_xml.to_string(root)), 'network corpus')
    finally:
        _undefine(conn.networkLookupByName, name)
        conn.close()


def test_share_summary(capsys):
    """Print the share of equal check/real diffs of this run (run after the tests above)."""
    with capsys.disabled():
        for kind in sorted(set(k for k, _ in SHARE)):
            equal, total = SHARE[kind, True], sum(n for (k, _), n in SHARE.items() if k == kind)
            apart = ', '.join('%d %s' % (SHARE[kind, r], r) for r in NOT_PREDICTABLE if SHARE[kind, r])
            print('\ncheck --diff equals the real diff: %s %d of %d%s' % (kind, equal, total,
                                                                       ' (not predictable: %s)' % apart if apart else ''))
