# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property-based bad input over every module's argument spec (hypothesis).

Every module in plugins/modules is discovered, its argument spec captured from its main() (AnsibleModule
patched), and arguments drawn from the spec: names with unicode, quotes, slashes, XML metacharacters, NUL,
newlines and thousands of characters (always holding this run's token, so anything made is ours), sizes and
integers at and beyond every limit, enum values out of range, documents built from a template with those
names pasted in raw or escaped, hostile documents, and paths only inside a temporary directory.

Each run, in check mode or not, ends in a clean failure (one-line message, no traceback) or a correct result;
a failed run, any check-mode run and any run of an information module changes nothing (every object the
connection sees is listed before and after); no run opens the canary file or contacts the loopback listener.
Modules run on test:///default, except the kinds the test driver lacks (secrets, network filters), which
run on qemu:///system, where everything made is removed afterwards.
"""

from __future__ import annotations

import json
import os
import string
from xml.sax.saxutils import escape, quoteattr

import libvirt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_module
from utils.reliability import (CONNECTION_OPTIONS, TEST_URI, capture_spec, hostile_documents, module_names, problems_with,
                               snapshot, snapshot_changes, strings_in, uri_for)

MODULES = module_names()
MAX_EXAMPLES = int(os.environ.get('SYSVIRT_FUZZ_EXAMPLES', '40'))

#: Options that name an object: their values always hold the run token.
NAME_KEYS = {'name', 'domain', 'pool', 'usage_id', 'prefix', 'owner_name', 'port_dev', 'dev', 'service', 'pattern',
             'key'}
#: Root element and a template for the documents each module takes (name pasted in raw or escaped).
TEMPLATES = {
    'cpu_baseline': "<cpu><model>{name}</model></cpu>",
    'cpu_compare': "<cpu><model>{name}</model></cpu>",
    'domain': "<domain type='test'><name>{name}</name><memory>{size}</memory><os><type>hvm</type></os></domain>",
    'domain_snapshot': "<domainsnapshot><name>{name}</name><description>{text}</description></domainsnapshot>",
    'host_interface': "<interface type='ethernet' name={qname}><start mode='none'/></interface>",
    'network': "<network><name>{name}</name><bridge name={qshort}/></network>",
    'node_device': ("<device><name>{name}</name><parent>scsi_host1</parent><capability type='scsi_host'>"
                    "<capability type='fc_host'><wwnn>{text}</wwnn></capability></capability></device>"),
    'nwfilter': "<filter name={qname} chain='root'><rule action='drop' direction='in' priority='{size}'/></filter>",
    'secret': "<secret ephemeral='yes' private='no'><usage type='volume'><volume>/x/{name}</volume></usage></secret>",
    'storage_pool': "<pool type='dir'><name>{name}</name><target><path>/x/{name}</path></target></pool>",
    'storage_pool_info': "<source><host name={qname}/><dir path='/x/{text}'/></source>",
    'volume': "<volume><name>{name}</name><capacity>{size}</capacity></volume>",
}
ROOTS = {'cpu_baseline': 'cpu', 'cpu_compare': 'cpu', 'domain': 'domain', 'domain_snapshot': 'domainsnapshot',
         'host_interface': 'interface', 'network': 'network', 'node_device': 'device', 'nwfilter': 'filter',
         'secret': 'secret', 'storage_pool': 'pool', 'storage_pool_info': 'source', 'volume': 'volume'}
#: Modules that never change anything, whatever their arguments.
READ_ONLY_MODULES = {m for m in MODULES if m.endswith('_info')} | {'host_facts', 'cpu_baseline', 'cpu_compare'}
#: Kinds to list per daemon module (listing node devices on every example would be slow).
DAEMON_KINDS = {'secret': ('secret',), 'secret_info': ('secret',), 'nwfilter': ('nwfilter', 'binding'),
                'nwfilter_info': ('nwfilter', 'binding')}

PIECES = ['<', '>', '&', '&amp;', '&x;', '"', "'", '/', '\\', '..', '\x00', '\x1f', '\x0b', '\ufffe', '\n', '\t',
          ' ', '%', '%s', '{{ x }}', ']]>', '<!--', '-->', '<?xml?>', 'é', '日本', '\u202e', '\ufeff', '😀', '*', '?',
          '$(id)', ';', '|', 'default', 'test', '-1', '0x10', 'NaN', 'None', '']
SAFE_CHARS = st.characters(blacklist_categories=('Cs',))
TEXT = st.one_of(
    st.text(SAFE_CHARS, max_size=30),
    st.lists(st.sampled_from(PIECES), max_size=6).map(''.join),
    st.integers(200, 5000).map(lambda n: 'x' * n),
    st.text(string.ascii_letters + string.digits + '-_.:', min_size=1, max_size=20),
)
INTS = st.one_of(st.integers(-2 ** 70, 2 ** 70), st.sampled_from([0, -1, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 63, 2 ** 64]))
SIZES = st.one_of(
    TEXT,
    st.builds(lambda n, u: '%s%s' % (n, u), INTS,
              st.sampled_from(['', 'b', 'k', 'KiB', 'M', 'MiB', 'G', 'GB', 'TiB', 'PiB', 'EiB', 'ZiB', 'x', ' G'])),
    st.sampled_from(['1e99', '-0', '1.5G', ' 10 ', '0x1000', '1_000']),
)
UUIDS = st.one_of(TEXT, st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()),
                  st.sampled_from(['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff']))
SIZE_KEYS = {'capacity', 'allocation'}


def _named(token):
    return TEXT.map(lambda t: '%s-%s' % (token, t))


def _document(module, token, canary, listener):
    template = TEMPLATES.get(module)
    if template is None:
        return TEXT
    root = ROOTS[module]

    def render(name, text, size, raw):
        if raw:
            return template.format(name=name, qname="'%s'" % name, qshort="'%s'" % name[-14:], text=text, size=size)
        return template.format(name=escape(name), qname=quoteattr(name), qshort=quoteattr(name[-14:]),
                               text=escape(text), size=escape(str(size)))

    hostile = hostile_documents(root, '', canary, listener)
    small = sorted(k for k, v in hostile.items() if len(v) < 4096)
    return st.one_of(
        st.builds(render, _named(token), TEXT, st.one_of(INTS, SIZES), st.booleans()),
        st.sampled_from(small).map(lambda k: hostile[k]),
        TEXT,
    )


def _path(tmp):
    return st.one_of(
        st.just(os.path.join(tmp, 'missing')),
        TEXT.map(lambda t: os.path.join(tmp, t.replace('/', '_').replace('\x00', '')[:100] or 'empty')),
    )


def strategy_for(key, option, module, ctx):
    """Values for one option. ``ctx['tame']``: types and choices right (only the text is hostile), so runs
    get past Ansible's validation into the module; otherwise anything, out-of-range enums included."""
    kind = option.get('type', 'str')
    choices = option.get('choices')
    tame = ctx['tame']
    if choices and kind != 'list':
        return st.sampled_from(choices) if tame else st.one_of(st.sampled_from(choices), TEXT)
    if kind == 'bool':
        return st.booleans() if tame else st.one_of(st.booleans(), st.sampled_from(['yes', 'no', 'maybe', 2]))
    if kind == 'int':
        if tame:
            return st.integers(0, 3) if key == 'timeout' else INTS
        return st.one_of(INTS, st.sampled_from(['1', 'ten', '1.5']))
    if kind == 'path':
        return _path(ctx['tmp'])
    if kind == 'list':
        elements = option.get('elements', 'str')
        if elements == 'dict' and option.get('options'):
            inner = _dict_strategy(option['options'], module, ctx)
        elif elements == 'raw':
            inner = st.one_of(ctx['xml'], TEXT, st.dictionaries(TEXT, TEXT, max_size=3))
        elif choices:
            inner = st.sampled_from(choices) if tame else st.one_of(st.sampled_from(choices), TEXT)
        else:
            inner = strategy_for(key, dict(type=elements), module, ctx)
        return st.lists(inner, max_size=3)
    if kind == 'dict':
        if option.get('options'):
            return _dict_strategy(option['options'], module, ctx)
        return st.dictionaries(TEXT, st.one_of(TEXT, INTS), max_size=3)
    if kind == 'raw':
        return st.one_of(ctx['xml'], TEXT, INTS, st.dictionaries(TEXT, TEXT, max_size=3))
    if key in ('xml', 'source_xml', 'config'):
        return ctx['xml']
    if key in NAME_KEYS:
        if ctx['existing']:
            # Objects the test driver has: runs reach the paths for existing objects.
            return st.one_of(_named(ctx['token']), st.sampled_from(ctx['existing']))
        return _named(ctx['token'])
    if key == 'uuid' or key.endswith('_uuid'):
        return UUIDS
    if key in SIZE_KEYS:
        return SIZES
    return TEXT


def _dict_strategy(options, module, ctx):
    required, optional = {}, {}
    for key, option in options.items():
        if key in CONNECTION_OPTIONS:
            continue
        target = required if option.get('required') else optional
        target[key] = strategy_for(key, option, module, ctx)
    return st.fixed_dictionaries(required, optional=optional)


def _respect(args, captured):
    """Drop options so the top-level mutually_exclusive groups hold (tame examples)."""
    args = dict(args)
    for group in captured.get('mutually_exclusive') or ():
        present = [k for k in group if args.get(k) is not None]
        for extra in present[1:]:
            args.pop(extra)
    for group in captured.get('required_together') or ():
        if any(k in args for k in group) and not all(k in args for k in group):
            for k in group:
                args.pop(k, None)
    return args


def _loose(text):
    """Lower case without dashes: how a UUID argument and libvirt's spelling of it compare."""
    return text.lower().replace('-', '')


#: Names of objects the test driver starts with (never used on the shared daemon).
TEST_DRIVER_OBJECTS = ['test', 'default', 'default-pool', 'eth1', 'lo', 'default-vol', 'computer']


def _cleanup_daemon(conn, changes):
    for what, (kind, ident) in changes:
        if what != 'added':
            continue
        try:
            if kind == 'secret':
                conn.secretLookupByUUIDString(ident).undefine()
            elif kind == 'nwfilter':
                conn.nwfilterLookupByName(ident).undefine()
            elif kind == 'binding':
                conn.nwfilterBindingLookupByPortDev(ident).delete()
        except libvirt.libvirtError:
            pass


@pytest.mark.parametrize('module', MODULES)
def test_random_arguments(module, traps, run_token, tmp_path):
    canary, listener = traps
    captured = capture_spec(module)
    uri = uri_for(module)
    daemon = uri != TEST_URI
    xml = _document(module, run_token, canary, listener)
    strategies = []
    for tame in (False, True):
        ctx = dict(token=run_token, tmp=str(tmp_path), xml=xml, tame=tame,
                   existing=None if daemon else TEST_DRIVER_OBJECTS)
        strategies.append(_dict_strategy(captured['argument_spec'], module, ctx))
    args_strategy = st.one_of(strategies[0], strategies[1].map(lambda a: _respect(a, captured)))
    conn = libvirt.open(uri)
    kinds = DAEMON_KINDS.get(module) if daemon else None
    seen = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(args=args_strategy, check_mode=st.booleans())
    def run(args, check_mode):
        args = dict(args, uri=uri)
        mine = {m for m in map(_loose, strings_in(args)) if len(m) >= 8} | {_loose(run_token)}

        def relevant(key, text):
            # On the shared daemon, only objects this example could have touched. Compared loosely: libvirt
            # stores a UUID given as 'E3E7...' or without dashes as 'e3e7-...', and a secret made from such a
            # UUID alone must still be seen (and removed) as this example's.
            key, text = _loose(repr(key)), _loose(text)
            return any(m in key or m in text for m in mine)

        keep = relevant if daemon else None
        before = snapshot(conn, kinds=kinds, token=keep)
        result = run_module(module, args, check_mode=check_mode, diff=True)
        after = snapshot(conn, kinds=kinds, token=keep)
        changes = snapshot_changes(before, after)
        seen.append((bool(result.failed), str(result.get('msg', 'ok'))[:50]))
        try:
            problems = problems_with(result, args, module)
            assert not problems, problems
            text = json.dumps(result)
            assert canary.token not in text and 'SYSVIRT-FETCHED' not in text
            if result.failed:
                assert not changes, '%s failed (%s) yet changed %r' % (module, result.get('msg'), changes)
            elif check_mode or module in READ_ONLY_MODULES:
                assert not changes, '%s (check mode %s) changed %r' % (module, check_mode, changes)
                if module in READ_ONLY_MODULES:
                    assert result.get('changed') is False, result.get('changed')
        finally:
            if daemon:
                _cleanup_daemon(conn, changes)

    try:
        run()
    finally:
        conn.close()
    assert seen, 'no example ran'
    if os.environ.get('SYSVIRT_FUZZ_STATS'):
        import collections
        succeeded = sum(1 for failed, _message in seen if not failed)
        messages = collections.Counter(message for _failed, message in seen).most_common(6)
        print('\n%s: %d examples, %d succeeded; %r' % (module, len(seen), succeeded, messages))
