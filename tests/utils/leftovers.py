# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Find (and remove) what tests left behind on the libvirt daemon: objects named sysvirt-test-* / sysvirt-demo-*.

    python tests/utils/leftovers.py [--uri URI] [--remove] [--fail-if-any] [--save-baseline F | --baseline F]

Every test removes what it made; this is the safety net that makes a leak visible (``--fail-if-any`` exits 1
and lists them) and keeps one crashed run from breaking the next. NVRAM files are kept (a test never
deletes a path it did not create), and pools are stopped and undefined without deleting their storage.

Secrets and filter bindings have no name to carry the prefix (a secret made from a UUID alone has no usage).
``--save-baseline F`` before a run writes the ones there are; ``--baseline F`` after it reports every one that
is new as a leftover too. Those are reported, never removed: nothing proves they are a test's.
"""

from __future__ import annotations

import argparse
import json
import sys

import libvirt

PREFIXES = ('sysvirt-test-', 'sysvirt-demo-')


def _ours(name):
    return bool(name) and name.startswith(PREFIXES)


def _quiet(func, *args):
    try:
        func(*args)
    except libvirt.libvirtError:
        pass


def find(conn):
    found = []
    for dom in conn.listAllDomains():
        if _ours(dom.name()):
            found.append(('domain', dom.name(), dom))
    for net in conn.listAllNetworks():
        if _ours(net.name()):
            found.append(('network', net.name(), net))
    for pool in conn.listAllStoragePools():
        if _ours(pool.name()):
            found.append(('pool', pool.name(), pool))
    try:
        for flt in conn.listAllNWFilters():
            if _ours(flt.name()):
                found.append(('nwfilter', flt.name(), flt))
        for sec in conn.listAllSecrets():
            usage = sec.usageID() or ''
            if any(p in usage for p in PREFIXES):
                found.append(('secret', usage, sec))
    except libvirt.libvirtError:
        pass  # drivers without nwfilters or secrets
    return found


def unnamed(conn):
    """{identity: (kind, obj)} of the objects with no name to carry the prefix: secrets (by UUID) and network
    filter bindings (by port device)."""
    found = {}
    for kind, lister, ident in (('secret', 'listAllSecrets', 'UUIDString'),
                                ('binding', 'listAllNWFilterBindings', 'portDev')):
        try:
            objs = getattr(conn, lister)()
        except libvirt.libvirtError:
            continue  # drivers without them
        for obj in objs:
            found['%s %s' % (kind, getattr(obj, ident)())] = (kind, obj)
    return found


def new_since(conn, baseline_path):
    """The unnamed objects not in the baseline file, as (kind, identity) pairs, sorted."""
    with open(baseline_path) as handle:
        before = set(json.load(handle))
    return sorted((kind, key.split(' ', 1)[1]) for key, (kind, dummy) in unnamed(conn).items() if key not in before)


def remove(kind, obj):
    if kind == 'domain':
        if obj.isActive():
            _quiet(obj.destroy)
        if obj.isPersistent():
            flags = (libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                     | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM)
            _quiet(obj.undefineFlags, flags)
    elif kind in ('network', 'pool'):
        if obj.isActive():
            _quiet(obj.destroy)
        if obj.isPersistent():
            _quiet(obj.undefine)
    else:
        _quiet(obj.undefine)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--uri', default='qemu:///system')
    parser.add_argument('--remove', action='store_true', help='remove what is found')
    parser.add_argument('--fail-if-any', action='store_true', help='exit 1 when anything is found')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--save-baseline', metavar='FILE', help='write the secrets and filter bindings there are')
    group.add_argument('--baseline', metavar='FILE', help='also report the secrets and filter bindings that are '
                       'not in FILE (never removed)')
    args = parser.parse_args(argv)
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    conn = libvirt.open(args.uri)
    try:
        found = find(conn)
        for kind, name, obj in found:
            print('leftover on %s: %s %s%s' % (args.uri, kind, name, ' (removed)' if args.remove else ''))
            if args.remove:
                remove(kind, obj)
        named = set(obj.UUIDString() for kind, name, obj in found if kind == 'secret')
        new = []
        if args.baseline:
            new = [(kind, ident) for kind, ident in new_since(conn, args.baseline) if ident not in named]
            for kind, ident in new:
                print('leftover on %s: %s %s (new since the run began; not removed)' % (args.uri, kind, ident))
        if args.save_baseline:
            with open(args.save_baseline, 'w') as handle:
                json.dump(sorted(unnamed(conn)), handle)
        if not found and not new:
            print('no leftovers on %s' % args.uri)
    finally:
        conn.close()
    return 1 if ((found or new) and args.fail_if_any) else 0


if __name__ == '__main__':
    sys.exit(main())
