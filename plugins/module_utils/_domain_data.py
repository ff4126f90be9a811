# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Domains as data: what domain, domain_info and the inventory plugin report about a guest.

Private to this collection: the names here may change without notice.

``describe_domain(dom, xml_root=None, ...)`` turns one domain into a dict. ``collect_domains(conn, ...)``
does the same for many domains with bulk calls: one ``listAllDomains``, one bulk statistics call for the
matching domains, two flag-filtered listings for persistence and autostart, and one ``XMLDesc`` per domain.

The dict (keys stable; values ``None`` where libvirt cannot tell):

- ``name``, ``uuid``, ``id`` (``None`` when not running), ``type`` (``kvm``, ``qemu``, ``test``, ...)
- ``state`` (one of ``STATE_NAMES`` values: ``running``, ``blocked``, ``paused``, ``shutting_down``,
  ``shutoff``, ``crashed``, ``pmsuspended``, ``nostate``) and ``state_reason`` (e.g. ``booted``, ``destroyed``)
- ``persistent``, ``autostart`` (bool)
- ``vcpus``: ``{current, maximum}``; ``memory``: ``{current_bytes, maximum_bytes}``; ``cpu_time_ns``
- ``os``: ``{type, arch, machine, loader, loader_type, nvram, kernel, initrd, boot}``; ``firmware``
  (``efi``, ``bios`` or ``None``)
- ``disks``: list of ``{target, bus, device, type, source: {file, dev, pool, volume, protocol, name}, format,
  readonly}``
- ``interfaces``: list of ``{mac, type, source: {network, bridge, dev, portgroup}, model, target,
  addresses: [{address, prefix, family, source}]}``
- ``graphics``: list of ``{type, port, tls_port, autoport, listen}`` (never passwords)
- ``title``, ``description``, ``metadata`` (``{namespace URI: element XML}``)
- ``xml`` and ``stats`` only when asked for.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fnmatch
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import call, failure_from, LibvirtFailure

try:
    import libvirt
except ImportError:
    libvirt = None


# libvirt's virDomainState values, as the strings we report.
STATE_NAMES = {
    0: 'nostate',
    1: 'running',
    2: 'blocked',
    3: 'paused',
    4: 'shutting_down',
    5: 'shutoff',
    6: 'crashed',
    7: 'pmsuspended',
}
STATE_VALUES = dict((v, k) for k, v in STATE_NAMES.items())

# The reason of each state (virDomainRunningReason, virDomainPausedReason, ...), by state value.
STATE_REASONS = {
    0: ['unknown'],
    1: ['unknown', 'booted', 'migrated', 'restored', 'from_snapshot', 'unpaused', 'migration_canceled',
        'save_canceled', 'wakeup', 'crashed', 'postcopy', 'postcopy_failed'],
    2: ['unknown'],
    3: ['unknown', 'user', 'migration', 'save', 'dump', 'ioerror', 'watchdog', 'from_snapshot', 'shutting_down',
        'snapshot', 'crashed', 'starting_up', 'postcopy', 'postcopy_failed', 'api_error'],
    4: ['unknown', 'user'],
    5: ['unknown', 'shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from_snapshot', 'daemon'],
    6: ['unknown', 'panicked'],
    7: ['unknown'],
}

# Address sources: our names -> virDomainInterfaceAddressesSource values.
ADDRESS_SOURCES = {'lease': 0, 'agent': 1, 'arp': 2}

# Bulk statistics groups always fetched (cheap) and the ones a user may ask for.
_BASE_STATS = ('state', 'cpu_total', 'balloon', 'vcpu')
STATS_GROUPS = {
    'state': 0x1, 'cpu_total': 0x2, 'balloon': 0x4, 'vcpu': 0x8, 'interface': 0x10, 'block': 0x20,
    'perf': 0x40, 'iothread': 0x80, 'memory': 0x100, 'dirtyrate': 0x200,
}


def state_name(state):
    return STATE_NAMES.get(state, 'unknown')


def reason_name(state, reason):
    reasons = STATE_REASONS.get(state, ['unknown'])
    if reason is not None and 0 <= reason < len(reasons):
        return reasons[reason]
    return 'unknown' if reason is None else str(reason)


# How a definition (XML) becomes data is in _domain_definition, loaded when one is read (describe_domain) or one of
# its names is used here (PEP 562 module __getattr__): a run that reads no XML never compiles it.
_DEFINITION_NAMES = frozenset([
    'QEMU_NS', '_HOSTFWD_RE', '_bytes', '_disk', '_firmware', '_forward', '_graphics', '_hostfwd_forwards', '_int',
    '_interface', '_metadata', '_passt_forwards', '_text', '_yes', 'definition_data', 'has_agent_channel',
    'port_forwards'
])


def __getattr__(name):
    if name in _DEFINITION_NAMES:
        from ansible_collections.sysvirt.libvirt.plugins.module_utils import _domain_definition
        return getattr(_domain_definition, name)
    raise AttributeError('module %r has no attribute %r' % (__name__, name))


def read_xml(dom, flags=0):
    """The domain's XML (text, parsed root). Never with the secure flag: no secrets."""
    with call('read the XML of domain %s' % _dom_name(dom)):
        text = dom.XMLDesc(flags)
    return text, _xml.parse(text, 'domain XML')


def _dom_name(dom):
    try:
        return dom.name()
    except Exception:  # pragma: no cover - name() is local in libvirt-python
        return '?'


def describe_domain(dom, xml_root=None, stats=None, persistent=None, autostart=None, addresses=None,
                    xml_text=None, include_xml=False, include_stats=False, xml_flags=0):
    """One domain as a dict (see the module docstring for the keys).

    Everything not passed in is fetched from ``dom``: ``xml_root`` (parsed ``XMLDesc(xml_flags)``), ``stats``
    (one entry of the bulk statistics; without it ``dom.state()`` and, when running, ``dom.info()``),
    ``persistent``, ``autostart``. ``addresses`` maps lower-case MAC -> list of address dicts (see
    ``interface_addresses``). ``include_xml`` adds ``xml``; ``include_stats`` adds ``stats`` (the raw bulk
    statistics, dots in keys kept).
    """
    if xml_root is None:
        xml_text, xml_root = read_xml(dom, xml_flags)
    from ansible_collections.sysvirt.libvirt.plugins.module_utils._domain_definition import definition_data

    data = definition_data(xml_root)
    name = data['name'] or _dom_name(dom)
    if stats is not None and 'state.state' in stats:
        state, reason = stats['state.state'], stats.get('state.reason')
    else:
        with call('read the state of domain %s' % name):
            state, reason = dom.state()[:2]
    running = state not in (0, 5)  # nostate, shutoff
    if not running:
        data['id'] = None
    elif data['id'] is None:
        with call('read the id of domain %s' % name):
            dom_id = dom.ID()
        data['id'] = dom_id if dom_id >= 0 else None
    data['state'] = state_name(state)
    data['state_reason'] = reason_name(state, reason)
    if persistent is None:
        with call('read whether domain %s is persistent' % name):
            persistent = bool(dom.isPersistent())
    if autostart is None:
        with call('read the autostart flag of domain %s' % name):
            autostart = bool(dom.autostart())
    data['persistent'] = bool(persistent)
    data['autostart'] = bool(autostart)
    stats = stats or {}
    cpu_time = stats.get('cpu.time') if running else None  # inactive domains can report stale values
    if running:
        if 'balloon.current' in stats:
            data['memory']['current_bytes'] = stats['balloon.current'] * 1024
        if 'vcpu.current' in stats:
            data['vcpus']['current'] = stats['vcpu.current']
        if cpu_time is None:
            with call('read the information of domain %s' % name):
                cpu_time = dom.info()[4]
    data['cpu_time_ns'] = cpu_time if cpu_time is not None else 0
    if addresses:
        attach_addresses(data, addresses)
    if include_xml:
        data['xml'] = xml_text if xml_text is not None else _xml.to_string(xml_root)
    if include_stats:
        data['stats'] = dict(stats)
    return data


def attach_addresses(data, addresses):
    """Addresses to the interfaces of the definition, by MAC. A NIC the guest reports that the definition has no
    <interface> for (a PCI NIC given as <hostdev>, a NIC in <qemu:commandline>) is added with ``type`` None."""
    for iface in data['interfaces']:
        iface['addresses'] = list(addresses.get(iface['mac'], [])) if iface['mac'] else []
    known = set(iface['mac'] for iface in data['interfaces'] if iface['mac'])
    for mac, found in addresses.items():
        if mac not in known:
            data['interfaces'].append(undefined_interface(mac, found))


def undefined_interface(mac, addresses):
    """An interface entry for a NIC known only by its addresses (no <interface> in the definition)."""
    return dict(mac=mac, type=None, source=dict(network=None, bridge=None, dev=None, portgroup=None), model=None,
                target=None, addresses=list(addresses))


def interface_addresses(dom, sources, agent_timeout=None):
    """Addresses by lower-case MAC from the sources in order: ({mac: [address dicts]}, [errors]).

    Each address dict: ``{address, prefix, family ('ipv4'|'ipv6'), source}``. A source that fails (no guest
    agent, driver without lease support) adds a message to the errors and the others still count.
    """
    result = {}
    errors = []
    for source in sources:
        flag = ADDRESS_SOURCES.get(source)
        if flag is None:  # not one libvirt asks the guest for (the inventory's 'forward' reads the definition)
            continue
        try:
            if source == 'agent' and agent_timeout is not None and hasattr(dom, 'agentSetResponseTimeout'):
                try:
                    dom.agentSetResponseTimeout(int(agent_timeout), 0)
                except libvirt.libvirtError:
                    pass  # read-only connection or old driver: keep libvirt's default
            found = dom.interfaceAddresses(flag, 0) or {}
        except libvirt.libvirtError as e:
            errors.append(failure_from(e, 'read %s addresses of domain %s' % (source, _dom_name(dom))).full_message())
            continue
        for ifname, info in found.items():
            mac = (info.get('hwaddr') or '').lower()
            if not mac or mac == '00:00:00:00:00:00':
                continue
            for addr in info.get('addrs') or []:
                entry = dict(address=addr.get('addr'), prefix=addr.get('prefix'),
                             family='ipv6' if addr.get('type') == 1 else 'ipv4', source=source)
                known = result.setdefault(mac, [])
                if not any(a['address'] == entry['address'] for a in known):
                    known.append(entry)
    return result, errors


def _stats_flags(extra_groups=()):
    flags = 0
    for group in tuple(_BASE_STATS) + tuple(extra_groups or ()):
        flags |= STATS_GROUPS[group]
    return flags


def matches(name, patterns):
    """True when ``name`` equals one of ``patterns`` or matches one as a shell glob."""
    if not patterns:
        return True
    for pattern in patterns:
        if name == pattern or (any(c in pattern for c in '*?[') and fnmatch.fnmatchcase(name, pattern)):
            return True
    return False


def _all_domain_stats(conn, stats_groups):
    """Every domain with its statistics in one call ({uuid: (dom, stats)}), or None when the driver has no
    getAllDomainStats."""
    try:
        pairs = conn.getAllDomainStats(_stats_flags(stats_groups), 0)
    except libvirt.libvirtError as e:
        if e.get_error_code() in (libvirt.VIR_ERR_NO_SUPPORT, getattr(libvirt, 'VIR_ERR_ARGUMENT_UNSUPPORTED', -1)):
            return None
        raise failure_from(e, 'read the statistics of every domain')
    return pairs


def list_domains(conn, names=None, states=None, persistent=None, autostart=None, stats_groups=(),
                 uuids=None, all_stats=False):
    """Domains matching the filters with their bulk data: list of dicts {dom, stats, persistent, autostart}.

    One ``listAllDomains(0)``, two flag-filtered listings (transient, autostart: cheap, no per-domain
    round trip), and one bulk statistics call for the domains left after the name filter. ``states`` are
    names from ``STATE_NAMES``; ``names`` are exact names or glob patterns. ``all_stats``: list the domains
    with one ``getAllDomainStats`` call instead of the listing and the statistics of the matching ones (one
    round trip less; the better choice when most domains match, as for an inventory).
    """
    pairs = _all_domain_stats(conn, stats_groups) if all_stats else None
    with call('list domains'):
        doms = [dom for dom, dummy in pairs] if pairs is not None else conn.listAllDomains(0)
        # Transient and autostart domains are usually few: listing those (not the persistent ones, usually all)
        # keeps these two listings small.
        transient_uuids = set(d.UUIDString() for d in
                              conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT))
        autostart_uuids = set(d.UUIDString() for d in
                              conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART))
    entries = []
    for dom in doms:
        name = dom.name()
        uuid = dom.UUIDString()
        if names and not matches(name, names):
            continue
        if uuids and uuid not in uuids:
            continue
        is_persistent = uuid not in transient_uuids
        is_autostart = uuid in autostart_uuids
        if persistent is not None and is_persistent != persistent:
            continue
        if autostart is not None and is_autostart != autostart:
            continue
        entries.append(dict(dom=dom, name=name, uuid=uuid, stats=None, persistent=is_persistent,
                            autostart=is_autostart))
    if pairs is not None:
        stats_of = dict((id(dom), stats) for dom, stats in pairs)  # the very objects listed above
        for entry in entries:
            entry['stats'] = stats_of.get(id(entry['dom']))
    elif entries:
        by_uuid = dict((e['uuid'], e) for e in entries)
        for dom, stats in bulk_stats(conn, [e['dom'] for e in entries], stats_groups):
            entry = by_uuid.get(dom.UUIDString())
            if entry is not None:
                entry['stats'] = stats
    if states:
        wanted = set(STATE_VALUES[s] for s in states)
        kept = []
        for entry in entries:
            if entry['stats'] is not None and 'state.state' in entry['stats']:
                state = entry['stats']['state.state']
            else:
                with call('read the state of domain %s' % entry['name']):
                    state = entry['dom'].state()[0]
                entry['stats'] = dict(entry['stats'] or {}, **{'state.state': state})
                entry['stats'].pop('state.reason', None)
            if state in wanted:
                kept.append(entry)
        entries = kept
    return entries


def bulk_stats(conn, doms, stats_groups=()):
    """One domainListGetStats call; [] when the driver has no bulk statistics (per-domain calls then)."""
    flags = _stats_flags(stats_groups)
    try:
        return conn.domainListGetStats(doms, flags, 0)
    except libvirt.libvirtError as e:
        if e.get_error_code() in (libvirt.VIR_ERR_NO_SUPPORT, getattr(libvirt, 'VIR_ERR_ARGUMENT_UNSUPPORTED', -1)):
            return []
        raise failure_from(e, 'read the statistics of %d domains' % len(doms))


def _empty_definition(name, uuid):
    """The keys definition_data() gives, for a domain whose XML was not read: nothing known but the identity."""
    return dict(name=name, uuid=uuid, id=None, type=None, vcpus=dict(current=None, maximum=None),
                memory=dict(current_bytes=None, maximum_bytes=None),
                os=dict(type=None, arch=None, machine=None, loader=None, loader_type=None, nvram=None, kernel=None,
                        initrd=None, boot=[]),
                firmware=None, disks=[], interfaces=[], graphics=[], port_forwards=[], agent_channel=None, title=None,
                description=None, metadata={})


def summary_data(entry):
    """A domain described from its listing entry and bulk statistics alone (no XML, no per-domain call when the
    driver has bulk statistics): the describe_domain() keys, with the definition-only ones (os, disks,
    interfaces, graphics, title, description, metadata, firmware, type) empty. ``definition`` is False.
    """
    dom = entry['dom']
    stats = entry['stats']
    data = _empty_definition(entry['name'], entry['uuid'])
    if stats is not None and 'state.state' in stats and 'vcpu.maximum' in stats and 'balloon.maximum' in stats:
        state, reason = stats['state.state'], stats.get('state.reason')
        data['vcpus'] = dict(current=stats.get('vcpu.current', stats['vcpu.maximum']), maximum=stats['vcpu.maximum'])
        maximum = stats['balloon.maximum'] * 1024
        current = stats.get('balloon.current')
        data['memory'] = dict(current_bytes=current * 1024 if current is not None else maximum, maximum_bytes=maximum)
        cpu_time = stats.get('cpu.time')
    else:  # drivers without (complete) bulk statistics: one info call
        with call('read the information of domain %s' % entry['name']):
            state, max_kib, cur_kib, vcpus, cpu_time = dom.info()
            reason = dom.state()[1] if stats is None or 'state.reason' not in stats else stats['state.reason']
        try:
            maximum = dom.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
        except libvirt.libvirtError:
            maximum = vcpus
        data['vcpus'] = dict(current=vcpus, maximum=maximum)
        data['memory'] = dict(current_bytes=cur_kib * 1024, maximum_bytes=max_kib * 1024)
    running = state not in (0, 5)
    if running:
        with call('read the id of domain %s' % entry['name']):
            dom_id = dom.ID()
        data['id'] = dom_id if dom_id >= 0 else None
    data['state'] = state_name(state)
    data['state_reason'] = reason_name(state, reason)
    data['persistent'] = bool(entry['persistent'])
    data['autostart'] = bool(entry['autostart'])
    data['cpu_time_ns'] = (cpu_time or 0) if running else 0
    data['definition'] = False
    return data


def _is_running(stats):
    return stats is None or stats.get('state.state') in (1, 2, 3, 4, 6, 7)


def collect_domains(conn, names=None, states=None, persistent=None, autostart=None, address_sources=('lease',),
                    agent_timeout=None, include_xml=False, stats_groups=None, xml_flags=0, uuids=None, workers=1,
                    definition='all', all_stats=False):
    """Describe every matching domain: (list of dicts, warnings).

    ``stats_groups``: None for no raw statistics in the result, or a list of extra groups (may be empty) to
    fetch and return under ``stats``. Address failures (no agent, ...) become warnings and the domain's
    ``address_errors`` list, never failures.
    A domain that disappears between the listing and its XML is left out. ``workers`` > 1 reads the XML
    documents with that many threads over the same connection (libvirt serves them in parallel).
    ``definition``: whose XML is read (one ``XMLDesc`` round trip each): ``'all'`` (default), ``'running'``
    (only active guests, e.g. to map addresses to networks; the others as in ``'none'``) or ``'none'`` (no XML:
    ``summary_data()`` from the listing and bulk statistics; ``include_xml`` is then ignored for those).
    The dicts of domains whose XML was not read have ``definition: False``. ``all_stats``: see list_domains.
    """
    entries = list_domains(conn, names=names, states=states, persistent=persistent, autostart=autostart,
                           stats_groups=stats_groups or (), uuids=uuids, all_stats=all_stats)
    results = []
    warnings = []
    no_domain = getattr(libvirt, 'VIR_ERR_NO_DOMAIN', None)

    def wants_xml(entry):
        if definition == 'none':
            return False
        return definition != 'running' or _is_running(entry['stats'])

    def read(entry):
        if not wants_xml(entry):
            return None, None
        try:
            return entry['dom'].XMLDesc(xml_flags), None
        except libvirt.libvirtError as e:
            return None, e

    readers = sum(1 for entry in entries if wants_xml(entry))
    if workers and workers > 1 and readers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            texts = list(pool.map(read, entries))
    else:
        texts = [read(entry) for entry in entries]
    for entry, (text, error) in zip(entries, texts):
        dom = entry['dom']
        if error is not None:
            if error.get_error_code() == no_domain:
                continue
            raise failure_from(error, 'read the XML of domain %s' % entry['name'])
        addresses = None
        errors = []
        stats = entry['stats']
        if address_sources and _is_running(stats):
            addresses, errors = interface_addresses(dom, address_sources, agent_timeout)
            warnings.extend(errors)
        try:
            if text is None:
                data = summary_data(entry)
                if addresses:
                    data['interfaces'] = [undefined_interface(mac, found) for mac, found in addresses.items()]
                if stats_groups is not None:
                    data['stats'] = dict(stats or {})
            else:
                data = describe_domain(dom, xml_root=_xml.parse(text, 'domain XML'), stats=stats,
                                       persistent=entry['persistent'], autostart=entry['autostart'],
                                       addresses=addresses, xml_text=text, include_xml=include_xml,
                                       include_stats=stats_groups is not None)
        except LibvirtFailure as failure:
            if failure.code == no_domain:
                continue
            raise
        data['address_errors'] = errors
        results.append(data)
    return results, warnings
