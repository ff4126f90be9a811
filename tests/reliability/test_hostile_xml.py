# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile XML through every module option that takes a document.

Entity declarations reading a canary file (watched with inotify, so a read by libvirtd counts too),
external DTDs, parameter entities and schema locations pointing at a loopback listener, billion laughs,
an 11 MiB document, 5000 levels of nesting, wrong root elements, truncated and empty documents. Each run
fails cleanly (one-line message, no traceback) and changes nothing, or (XInclude, schema location: both
inert to libvirt) gives a correct result; the canary is never opened, the listener never contacted, and
the canary's content never appears in a result.
"""

from __future__ import annotations

import json

import libvirt
import pytest

from conftest import run_module
from utils.reliability import MAY_SUCCEED, QEMU_URI, TEST_URI, hostile_documents, problems_with, snapshot, snapshot_changes

LABELS = sorted(hostile_documents('x', '', type('C', (), {'path': '/x'}), type('L', (), {'url': 'http://x'})))


def _name(token, kind):
    return '%s-%s' % (token, kind)


# (id, module, uri, root element, start-tag attributes, body(name), args(doc, name), may also succeed)
TARGETS = [
    ('cpu_baseline', 'cpu_baseline', TEST_URI, 'cpu', '', lambda n: '<model>qemu64</model>',
     lambda d, n: dict(cpus=[d]), ()),
    ('cpu_compare', 'cpu_compare', TEST_URI, 'cpu', '', lambda n: '<model>qemu64</model>',
     lambda d, n: dict(xml=d), ()),
    ('domain', 'domain', TEST_URI, 'domain', "type='test'",
     lambda n: '<name>%s</name><memory>65536</memory><os><type>hvm</type></os>' % n,
     lambda d, n: dict(xml=d), ()),
    ('domain-metadata', 'domain', TEST_URI, 'x', "xmlns='urn:sysvirt-test'", lambda n: '<owner>%s</owner>' % n,
     lambda d, n: dict(name='test', metadata=[dict(namespace='urn:sysvirt-test', key='st', xml=d)]),
     ('wrong-root', 'two-roots')),
    ('domain_snapshot', 'domain_snapshot', TEST_URI, 'domainsnapshot', '', lambda n: '<name>%s</name>' % n,
     lambda d, n: dict(domain='test', xml=d), ()),
    ('host_interface', 'host_interface', TEST_URI, 'interface', "type='ethernet' name='sv%s'",
     lambda n: "<start mode='none'/>", lambda d, n: dict(xml=d), ()),
    ('network', 'network', TEST_URI, 'network', '', lambda n: '<name>%s</name>' % n, lambda d, n: dict(xml=d), ()),
    ('node_device', 'node_device', TEST_URI, 'device', '',
     lambda n: "<name>%s</name><parent>scsi_host1</parent><capability type='scsi_host'><capability "
               "type='fc_host'/></capability>" % n,
     lambda d, n: dict(xml=d), ()),
    ('nwfilter', 'nwfilter', QEMU_URI, 'filter', "name='%s' chain='root'", lambda n: '', lambda d, n: dict(xml=d), ()),
    ('secret', 'secret', QEMU_URI, 'secret', "ephemeral='yes' private='no'",
     lambda n: "<usage type='volume'><volume>/var/lib/%s.img</volume></usage>" % n, lambda d, n: dict(xml=d), ()),
    ('storage_pool', 'storage_pool', TEST_URI, 'pool', "type='dir'",
     lambda n: '<name>%s</name><target><path>/var/lib/%s</path></target>' % (n, n), lambda d, n: dict(xml=d), ()),
    ('storage_pool_info-discover', 'storage_pool_info', TEST_URI, 'source', '',
     lambda n: "<host name='127.0.0.1'/>", lambda d, n: dict(discover=dict(type='netfs', source_xml=d)), ()),
    ('volume', 'volume', TEST_URI, 'volume', '', lambda n: '<name>%s</name><capacity>1024</capacity>' % n,
     lambda d, n: dict(pool='default-pool', xml=d), ()),
]


@pytest.fixture
def conn_for():
    """Hold a connection open during a run, so the test driver's state is shared with the module."""
    opened = []

    def get(uri):
        conn = libvirt.open(uri)
        opened.append(conn)
        return conn
    yield get
    for conn in opened:
        conn.close()


def _remove_added(conn, changes):
    for what, (kind, ident) in changes:
        if what != 'added':
            continue
        if kind == 'secret':
            conn.secretLookupByUUIDString(ident).undefine()
        elif kind == 'nwfilter':
            conn.nwfilterLookupByName(ident).undefine()


#: Known bugs, reported to the module's developer; strict, so a fix shows up as XPASS (a failure) here.
KNOWN = {
}


def _params():
    for target in TARGETS:
        for label in LABELS:
            marks = ()
            if (target[0], label) in KNOWN:
                marks = pytest.mark.xfail(reason=KNOWN[(target[0], label)], strict=True)
            yield pytest.param(target, label, id='%s-%s' % (target[0], label), marks=marks)


@pytest.mark.parametrize('target,label', list(_params()))
def test_hostile_document(target, label, traps, run_token, conn_for):
    canary, listener = traps
    ident, module, uri, root, attrs, body, make_args, also_ok = target
    name = _name(run_token, ident.replace('_', '-'))
    doc = hostile_documents(root, body(name), canary, listener, attrs=attrs.replace('%s', name))[label]
    args = dict(make_args(doc, name), uri=uri)
    conn = conn_for(uri)
    token = None if uri == TEST_URI else run_token
    before = snapshot(conn, token=token)
    result = run_module(module, args)
    after = snapshot(conn, token=token)
    changes = snapshot_changes(before, after)
    try:
        assert not problems_with(result, args, module), problems_with(result, args, module)
        assert canary.token not in json.dumps(result), 'the canary file content is in the result'
        assert 'SYSVIRT-FETCHED' not in json.dumps(result), 'the listener answer is in the result'
        if label in MAY_SUCCEED + also_ok and not result.failed:
            return
        assert result.failed, 'a hostile document (%s) was accepted: %r' % (label, {
            k: v for k, v in result.items() if k not in ('invocation',)})
        assert not changes, 'a failed run changed %r' % changes
    finally:
        if uri != TEST_URI:
            _remove_added(conn, changes)


def test_traps_detect_a_read_and_a_fetch(canary, listener):
    """The traps can fail: an unsafe parser (entities resolved, network on) trips both, another process too."""
    import subprocess
    import urllib.request

    from lxml import etree

    canary.opened()
    unsafe = etree.XMLParser(resolve_entities=True, no_network=False, load_dtd=True)
    doc = hostile_documents('network', '', canary, listener)['xxe-file']
    root = etree.fromstring(doc.encode(), unsafe)
    assert canary.token in etree.tostring(root).decode()
    assert canary.opened()
    subprocess.run(['cat', canary.path], check=True, stdout=subprocess.DEVNULL)
    assert canary.opened()
    before = listener.connections
    urllib.request.urlopen(listener.url, timeout=5).read()
    assert listener.connections == before + 1
