# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check mode tells the truth: `--check --diff` shows the same diff as the real run.

For the changes the functional tests make (tiny guest: memory, vCPUs, a title; network: a DNS domain; nwfilter:
a changed and an added rule, a rule left out; secret: a description; the network tests' own four runs compare
every change they make, tests/functional/test_network_qemu.py) and for every corpus document the manifest accepts,
of every kind, on each connection that accepts it (defined under a prefixed name, then changed: a domain gets
64 MiB more memory, a network a DNS domain or a port group, a pool its target's permissions or its source, a secret
a description, a filter a reference, an interface an MTU, a snapshot a description; a volume, which the test
driver cannot change, is created), the module runs in check mode and then for real, both with --diff, and the two
whole diffs must be equal (tests/utils/checkdiff.py). The end of the pytest run prints the share.

The exceptions are named (NOT_PREDICTABLE, and KEPT per document) and xfail with their reason. A new object is not
compared: its stored form holds what libvirt generates (UUID, MACs, default devices), which check mode cannot know,
so its check-mode "after" is the document as given (documented in _resource).
"""

from __future__ import annotations

import copy

import libvirt
import pytest

from conftest import QEMU_URI, SHARED_TEST_URI, corpus_manifest, corpus_params, run_module, unique_name
from utils.checkdiff import assert_same_diff, check_then_real, diff_text, not_predictable
from utils.guest import tiny_guest_xml

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml


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
    'host': "this host's libvirt rejects the document (TPM 1.2 without swtpm)",
    'new volume': 'the only change the test driver makes to a volume is its creation (it cannot resize, wipe or '
                  'upload), and a new volume\'s key, path, type and allocation are what libvirt generates',
    'host network': 'a network of this host already has what the document claims (its bridge or address range)',
}


#: The documents libvirt does not keep as written, per connection, with what it does instead (measured on libvirt
#: 9.0 / QEMU 7.2). A document that starts or stops needing an entry here fails the test.
KEPT = {
    ('both', 'domain-test/chardev-unix.xml'): 'a unix channel source without a path is dropped',
    ('both', 'domain-test/cputune.xml'): 'overlapping vcpusched/iothreadsched sets are rewritten (0-1 -> 0)',
    ('both', 'domain-test/energytune.xml'): 'libvirt 9.0 does not know <energytune> and drops it',
    ('both', 'domain-test/iommufd.xml'): 'libvirt 9.0 does not know <iommufd> and drops it',
    ('both', 'domain-test/iothreadids.xml'): "libvirt 9.0 does not know an iothread's <poll> and drops it",
    ('both', 'domain-qemu/cpu-host-model-features.xml'): "a host-model CPU's <model fallback='allow'/> is dropped",
    ('both', 'domain-qemu/disk-network-iscsi.xml'): 'an iSCSI source name gains its LUN (.../0)',
    ('both', 'domain-qemu/disk-source-pool.xml'): "a disk of type 'volume' is stored as type 'file'",
    ('qemu', 'domain-qemu/channel-unix-source-path.xml'):
        "a unix channel's path under libvirt's own channel directory is dropped (libvirt makes it at start)",
    ('test', 'domain-test/cachetune-extra-tunes.xml'): 'cachetunes are clipped to the vCPUs the guest has',
    ('test', 'domain-qemu/aarch64-virt-virtio.xml'): "the test driver numbers the second console's port 1",
    ('test', 'domain-qemu/launch-security-sev.xml'): 'the test driver drops <launch-security>',
    ('test', 'pool/pool-rbd-ns-configopts.xml'): 'the test driver has no rbd namespace and drops <rbd:config_opts>',
}


def _kept(uri, row):
    key = '%s/%s' % (row['kind'], row['file'])
    return KEPT.get(('both', key)) or KEPT.get(('qemu' if uri == QEMU_URI else 'test', key))


def _exception(kind, reason, detail=None):
    not_predictable(kind, reason)
    pytest.xfail(NOT_PREDICTABLE[reason] + (': %s' % detail if detail else ''))


def _check_kept(module, uri, row, document, group):
    """A document whose unchanged check run already differs is a named exception (KEPT), and only such a one."""
    reason = _kept(uri, row)
    again = run_module(module, dict(uri=uri, xml=document), check_mode=True)
    assert not again.failed, again['msg']
    if again['changed']:
        assert reason, 'libvirt does not keep this document as written; name it in KEPT: %s' % again['differences']
        _exception(group, 'kept', reason)
    assert not reason, 'listed in KEPT, but libvirt keeps this document as written now: remove it from KEPT'


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
        _check_kept('domain', uri, row, _xml.to_string(root), 'domain corpus')
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
            _exception('network corpus', 'host network')
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


def _set_path(root, path, text):
    """Set the text of ``path`` (tag/tag/...) under ``root``, making the elements that are missing."""
    element = root
    for tag in path.split('/'):
        child = element.find(tag)
        element = child if child is not None else _xml.set_child_text(element, tag, None)
    element.text = text
    return root


def _stored_change(root, kind):
    """A change each kind's documents can take without building, starting or touching the host."""
    if kind == 'pool':
        if root.find('target') is not None or root.get('type') in ('dir', 'fs', 'netfs', 'logical', 'disk'):
            return _set_path(root, 'target/permissions/mode', '0711')
        host = root.find('source/host')
        if host is not None:
            host.set('port', '6800')
            return root
        return _set_path(root, 'source/name', (_xml.find_text(root, 'source/name') or 'sysvirt') + '-b')
    if kind == 'secret':
        return _set_path(root, 'description', 'sysvirt check-mode test')
    if kind == 'nwfilter':
        root.append(_xml.parse("<filterref filter='no-mac-spoofing'/>"))
        return root
    if kind == 'interface':
        for old in root.findall('mtu'):
            root.remove(old)
        root.append(_xml.parse("<mtu size='1400'/>"))
        return root
    raise AssertionError(kind)


def _define_then_change(module, uri, row, document, changed, group):
    """Define ``document``, then compare check mode and the real run of ``changed``; a document libvirt does not
    keep as written (a check run of it, unchanged, already differs) is a named exception."""
    first = run_module(module, dict(uri=uri, xml=_xml.to_string(document)))
    assert not first.failed, first['msg']
    _check_kept(module, uri, row, _xml.to_string(document), group)
    return first, check_then_real(module, dict(uri=uri, xml=_xml.to_string(changed)), group)


def _quietly(func):
    """Clean up: ``func()``, unless what it removes is already gone."""
    try:
        func()
    except libvirt.libvirtError:
        pass


def _undefine_any(lookup, key):
    try:
        obj = lookup(key)
    except libvirt.libvirtError:
        return
    if getattr(obj, 'isActive', bool)():
        obj.destroy()
    obj.undefine()


@pytest.mark.parametrize('uri, row', _rows(('pool',)))
def test_corpus_pool_permissions(corpus, uri, row):
    name = unique_name('chkdiff')
    root = _renamed(row['path'], name)
    conn = libvirt.open(uri)
    try:
        _define_then_change('storage_pool', uri, row, root, _stored_change(copy.deepcopy(root), 'pool'),
                            'pool corpus')
    finally:
        _undefine_any(conn.storagePoolLookupByName, name)
        conn.close()


def _secret_document(path):
    """The corpus secret without its UUID, its usage made unique to this run."""
    with open(path, 'rb') as handle:
        root = _xml.parse(handle.read(), path)
    for uuid in root.findall('uuid'):
        root.remove(uuid)
    unique = unique_name('chkdiff')
    for element in root.iterfind('usage/*'):
        value = element.text or ''
        element.text = value.rsplit('/', 1)[0] + '/' + unique if value.startswith('/') else unique
    return root, unique


@pytest.mark.parametrize('uri, row', _rows(('secret',)))
def test_corpus_secret_description(corpus, uri, row):
    root, unique = _secret_document(row['path'])
    conn = libvirt.open(uri)
    try:
        _define_then_change('secret', uri, row, root, _stored_change(copy.deepcopy(root), 'secret'),
                            'secret corpus')
    finally:
        for secret in conn.listAllSecrets(0):
            if unique in (secret.usageID() or ''):
                secret.undefine()
        conn.close()


#: Kinds whose name is an attribute of the root: (module, prefix of the name, the connection's lookup by name).
NAMED_BY_ATTRIBUTE = {'nwfilter': ('nwfilter', 'chkdiff', 'nwfilterLookupByName'),
                      'interface': ('host_interface', 'c', 'interfaceLookupByName')}


@pytest.mark.parametrize('uri, row', _rows(tuple(NAMED_BY_ATTRIBUTE)))
def test_corpus_filter_reference_and_interface_mtu(corpus, uri, row):
    module, prefix, lookup = NAMED_BY_ATTRIBUTE[row['kind']]
    name = unique_name(prefix)
    with open(row['path'], 'rb') as handle:
        root = _xml.parse(handle.read(), row['path'])
    root.set('name', name)
    for uuid in root.findall('uuid'):
        root.remove(uuid)
    conn = libvirt.open(uri)
    try:
        _define_then_change(module, uri, row, root, _stored_change(copy.deepcopy(root), row['kind']),
                            '%s corpus' % row['kind'])
    finally:
        _undefine_any(getattr(conn, lookup), name)
        conn.close()


@pytest.mark.parametrize('uri, row', _rows(('volume',)))
def test_corpus_volume_create(corpus, uri, row):
    """The test driver cannot resize, wipe or upload, and a volume is never redefined: its one change is its
    creation, whose diff is the volume as a dict (predicted from the document in check mode)."""
    name = unique_name('vol')
    root = _renamed(row['path'], name)
    conn = libvirt.open(uri)
    try:
        check = run_module('volume', dict(uri=uri, pool='default-pool', xml=_xml.to_string(root)), check_mode=True,
                           diff=True)
        real = run_module('volume', dict(uri=uri, pool='default-pool', xml=_xml.to_string(root)), diff=True)
        assert not real.failed and real['actions'] == check['actions'] == ['create'], (check, real)
        if diff_text(check) != diff_text(real):
            _exception('volume corpus', 'new volume')
        assert_same_diff(check, real, 'volume corpus')
    finally:
        _quietly(lambda: conn.storagePoolLookupByName('default-pool').storageVolLookupByName(name).delete(0))
        conn.close()


@pytest.mark.parametrize('uri, row', _rows(('snapshot',)))
def test_corpus_snapshot_description(corpus, uri, row):
    """On the built-in `test` domain, as the manifest was made; the description is the change a snapshot takes."""
    with open(row['path'], encoding='utf-8') as handle:
        text = handle.read()
    name = unique_name('snap')
    args = dict(uri=uri, domain='test', name=name)
    conn = libvirt.open(uri)
    try:
        assert not run_module('domain_snapshot', dict(args, xml=text)).failed
        check_then_real('domain_snapshot', dict(args, description='sysvirt check-mode test'), 'snapshot corpus')
    finally:
        _quietly(lambda: conn.lookupByName('test').snapshotLookupByName(name).delete(0))
        conn.close()
