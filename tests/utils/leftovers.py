# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Find (and remove) what tests left behind on the libvirt daemon: objects named sysvirt-test-* / sysvirt-demo-*.

    python tests/utils/leftovers.py [--uri URI] [--remove] [--fail-if-any]

Every test removes what it made; this is the safety net that makes a leak visible (``--fail-if-any`` exits 1
and lists them) and keeps one crashed run from breaking the next. NVRAM files are kept (a test never
deletes a path it did not create), and pools are stopped and undefined without deleting their storage.
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args(argv)
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    conn = libvirt.open(args.uri)
    try:
        found = find(conn)
        for kind, name, obj in found:
            print('leftover on %s: %s %s%s' % (args.uri, kind, name, ' (removed)' if args.remove else ''))
            if args.remove:
                remove(kind, obj)
        if not found:
            print('no leftovers on %s' % args.uri)
    finally:
        conn.close()
    return 1 if (found and args.fail_if_any) else 0


if __name__ == '__main__':
    sys.exit(main())
