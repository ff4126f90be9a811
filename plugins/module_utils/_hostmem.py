# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The host's memory: hugepage pools per page size and NUMA cell (virNodeAllocPages), and the kernel's
same-page merging parameters (KSM, virNodeGetMemoryParameters / virNodeSetMemoryParameters).

Private to this collection: the names here may change without notice.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call, failure_from
from ansible_collections.sysvirt.libvirt.plugins.module_utils._host import _is_no_support, read_capabilities
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import ModuleRun

try:
    import libvirt
except ImportError:  # reported by _connection.require_libraries
    libvirt = None

#: KSM option -> libvirt's node memory parameter, and how the value is sent.
KSM_PARAMETERS = (
    ('pages_to_scan', 'shm_pages_to_scan', int),
    ('sleep_millisecs', 'shm_sleep_millisecs', int),
    ('merge_across_nodes', 'shm_merge_across_nodes', lambda value: 1 if value else 0),
)
KSM_HINT = ('KSM is tuned through libvirt on Linux hosts whose kernel has /sys/kernel/mm/ksm; this connection\'s '
            'driver or host does not offer it.')
RELEASE_HINT = ('Stop or move the guests that use them first, or set release_in_use=true to shrink the pool '
                'anyway (the kernel frees the pages when the guests let go of them).')


def page_size_kib(value):
    """A page size option (a bare number is KiB; '2M', '2 MiB', '1G' as elsewhere in the collection) in KiB."""
    try:
        size = _xml.size_to_bytes(value, 'KiB')
    except ValueError as e:
        raise LibvirtFailure('hugepages: size %s' % e)
    if size <= 0 or size % 1024:
        raise LibvirtFailure('hugepages: size %r is not a whole number of KiB' % (value,))
    return size // 1024


def system_page_kib(caps):
    """The size of the host's ordinary pages (the smallest size the capabilities list), or None."""
    sizes = [_xml.parse_int(p.get('size')) for p in caps.findall('host/cpu/pages')]
    sizes = [s for s in sizes if s]
    return min(sizes) if sizes else None


def page_pools(caps, free):
    """The host's hugepage pools: [{cell, size_kib, count, free, in_use}] from the capabilities (the count per
    cell) and virNodeGetFreePages' answer ``free`` ({cell: {size_kib: free}}); ordinary pages left out."""
    system = system_page_kib(caps)
    pools = []
    for cell in caps.findall('host/topology/cells/cell'):
        cell_id = _xml.parse_int(cell.get('id'))
        for pages in cell.findall('pages'):
            size = _xml.parse_int(pages.get('size'))
            if not size or size == system:
                continue
            count = _xml.parse_int(pages.text) or 0
            unused = (free.get(cell_id) or {}).get(size, count)
            pools.append(dict(cell=cell_id, size_kib=size, count=count, free=unused, in_use=max(count - unused, 0)))
    return sorted(pools, key=lambda p: (p['size_kib'], p['cell']))


def _pool_now(pools, size, cell):
    """(count, in_use) of one size on one cell, or summed over the cells (cell None: the whole host); None when
    the host has no such pool."""
    found = [p for p in pools if p['size_kib'] == size and (cell is None or p['cell'] == cell)]
    if not found:
        return None
    return sum(p['count'] for p in found), sum(p['in_use'] for p in found)


def plan_hugepages(wanted, pools, release_in_use=False):
    """What to change: ([{cell, size_kib, before, after, in_use}], warnings), for the entries of ``wanted``
    ([{size_kib, count, cell}]) whose pool holds another count. A pool shrunk below the pages guests use fails,
    unless ``release_in_use`` (then a warning says so)."""
    changes, warnings, seen = [], [], {}
    for entry in wanted:
        size, cell, count = entry['size_kib'], entry.get('cell'), entry['count']
        where = 'the whole host' if cell is None else 'NUMA cell %d' % cell
        if count < 0:
            raise LibvirtFailure('hugepages: count %d for %d KiB pages on %s is negative' % (count, size, where))
        if size in seen and (seen[size] is None or cell is None or seen[size] == cell):
            raise LibvirtFailure('hugepages: %d KiB pages are given twice for %s' % (size, where),
                                 hint='Give each page size once for the whole host, or once per NUMA cell.')
        seen[size] = cell
        now = _pool_now(pools, size, cell)
        if now is None:
            sizes = sorted(set(p['size_kib'] for p in pools))
            cells = sorted(set(p['cell'] for p in pools))
            raise LibvirtFailure('hugepages: this host has no pool of %d KiB pages on %s' % (size, where),
                                 hint='Page sizes it offers: %s KiB; NUMA cells: %s.' % (
                                     ', '.join(str(s) for s in sizes) or 'none',
                                     ', '.join(str(c) for c in cells) or 'none'))
        before, in_use = now
        if before == count:
            continue
        if count < in_use:
            message = ('%d of the %d KiB pages on %s are in use by guests; a pool of %d releases %d of them'
                       % (in_use, size, where, count, in_use - count))
            if not release_in_use:
                raise LibvirtFailure('hugepages: ' + message, hint=RELEASE_HINT)
            warnings.append(message + ' (release_in_use=true): the kernel frees them when the guests let go')
        changes.append(dict(cell=cell, size_kib=size, before=before, after=count, in_use=in_use))
    return changes, warnings


def predict_pools(pools, changes):
    """The pools after ``changes`` (check mode's answer). A whole-host count on a host with several cells of that
    size is spread evenly over them, as the kernel roughly does; exact for one cell."""
    after = [dict(p) for p in pools]
    for change in changes:
        found = [p for p in after if p['size_kib'] == change['size_kib']
                 and (change['cell'] is None or p['cell'] == change['cell'])]
        share, extra = divmod(change['after'], len(found))
        for index, pool in enumerate(found):
            count = share + (1 if index < extra else 0)
            pool['free'] = max(pool['free'] + count - pool['count'], 0)
            pool['count'] = count
            pool['in_use'] = count - pool['free']
    return after


def ksm_now(conn, needed):
    """The KSM parameters as {name without shm_: value}; None when the host does not offer them (a failure when
    ``needed``)."""
    try:
        values = conn.getMemoryParameters(0)
    except libvirt.libvirtError as error:
        if _is_no_support(error) or error.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED:
            if needed:
                raise LibvirtFailure('This host offers no memory parameters (KSM) through libvirt: %s'
                                     % error.get_error_message(), code=error.get_error_code(),
                                     domain=error.get_error_domain(), hint=KSM_HINT)
            return None
        raise failure_from(error, 'read the host memory parameters')
    data = {}
    for key, value in sorted(values.items()):
        name = key[len('shm_'):] if key.startswith('shm_') else key
        data[name] = bool(value) if name == 'merge_across_nodes' else value
    return data


def plan_ksm(wanted, current):
    """{libvirt parameter: value} of the options set in ``wanted`` that differ from ``current``; a parameter the
    host does not have fails."""
    params = {}
    for option, key, convert in KSM_PARAMETERS:
        value = wanted.get(option)
        if value is None:
            continue
        if option not in current:
            raise LibvirtFailure('This host has no KSM parameter %s (it has: %s)' % (
                option, ', '.join(sorted(current)) or 'none'), hint=KSM_HINT)
        if convert(value) != convert(current[option]):
            params[key] = convert(value)
    return params


class HostMemoryRun(ModuleRun):
    """One run of host_memory."""

    def run(self):
        p = self.params
        result = dict(hugepages=self.read_pools())
        diff = dict(before={}, after={})
        if p.get('hugepages'):
            result['hugepages'] = self.hugepages(result['hugepages'], diff)
        result['ksm'] = ksm_now(self.conn, p.get('ksm') is not None)
        if p.get('ksm') is not None:
            result['ksm'] = self.ksm(result['ksm'], diff)
        return self.finish(diff=diff, **result)

    def read_pools(self):
        _text, caps = read_capabilities(self.conn)
        self.caps = caps
        sizes = sorted(set(_xml.parse_int(p.get('size')) for p in caps.findall('host/topology/cells/cell/pages')))
        cells = sorted(set(_xml.parse_int(c.get('id')) for c in caps.findall('host/topology/cells/cell')))
        free = {}
        if sizes and cells:
            with call('read the free pages'):
                free = self.conn.getFreePages(sizes, cells[0], cells[-1] - cells[0] + 1, 0) or {}
        return page_pools(caps, free)

    def hugepages(self, pools, diff):
        wanted = [dict(size_kib=page_size_kib(e['size']), count=e['count'], cell=e.get('cell'))
                  for e in self.params['hugepages']]
        changes, warnings = plan_hugepages(wanted, pools, self.params['release_in_use'])
        self.warnings.extend(warnings)
        for change in changes:
            where = 'host' if change['cell'] is None else 'cell %d' % change['cell']
            key = '%d KiB pages (%s)' % (change['size_kib'], where)
            diff['before'][key] = change['before']
            diff['after'][key] = change['after']
            self.perform('reserve %d pages of %d KiB on %s (was %d)' % (
                change['after'], change['size_kib'], 'the whole host' if change['cell'] is None else
                'NUMA cell %d' % change['cell'], change['before']),
                lambda c=change: self.conn.allocPages(
                    {c['size_kib']: c['after']}, -1 if c['cell'] is None else c['cell'], 1,
                    libvirt.VIR_NODE_ALLOC_PAGES_SET),
                check=self.check, what='reserve %d KiB pages on the %s' % (change['size_kib'], where))
        if self.check or not changes:
            return predict_pools(pools, changes)
        after = self.read_pools()
        for change in changes:
            got = _pool_now(after, change['size_kib'], change['cell'])[0]
            if got != change['after']:
                self.warnings.append(
                    'The kernel reserved %d of the %d pages of %d KiB asked for on %s: not enough free contiguous '
                    'memory. Reserve hugepages early after boot (or on the kernel command line) to get them all'
                    % (got, change['after'], change['size_kib'],
                       'the whole host' if change['cell'] is None else 'NUMA cell %d' % change['cell']))
        return after

    def ksm(self, current, diff):
        wanted = self.params['ksm']
        params = plan_ksm(wanted, current)
        if not params:
            return current
        names = dict((key, option) for option, key, _convert in KSM_PARAMETERS)
        for key in sorted(params):
            diff['before']['ksm.' + names[key]] = current[names[key]]
            diff['after']['ksm.' + names[key]] = wanted[names[key]]
        self.perform('set KSM ' + ', '.join('%s=%s' % (names[k], wanted[names[k]]) for k in sorted(params)),
                     lambda: self.conn.setMemoryParameters(params, 0), check=self.check,
                     what='set the host memory parameters (KSM)')
        if self.check:
            predicted = dict(current)
            predicted.update((names[k], wanted[names[k]]) for k in params)
            return predicted
        return ksm_now(self.conn, True)


def run_module(module):
    HostMemoryRun.main(module)
