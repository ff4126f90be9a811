# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: libvirt
short_description: Guests and hypervisors of one or more libvirt connections as inventory
version_added: 0.1.0
description:
  - Makes every domain (guest) of the libvirt hypervisors named in O(uris) a host, and the hypervisors
    themselves hosts in their own group.
  - The hypervisors are queried at the same time, one thread and one connection each. For each hypervisor the
    plugin makes one call for every domain with its statistics and two small listings (transient and autostart
    domains), plus one address query per running domain and address source.
  - A guest's definition (XML) is read, one round trip per guest (read four at a time), only when something asks
    for what only the definition holds, see O(host_vars), O(group_by), O(metadata), O(address_network) and
    O(address_interface). With the defaults no XML is read; with 1,000 guests on a local hypervisor the XML
    reads add about 0.1-0.3 s.
  - A hypervisor that cannot be reached is a warning and the others still load, unless O(strict=true).
  - Host variables are those named in O(host_vars), under O(prefix) (C(libvirt_) by default), null or empty ones
    left out.
  - Hypervisor hosts get C(uri), C(hostname), C(driver), C(library_version), C(hypervisor_version), C(node)
    (node information), C(cpu) (host CPU arch, model, vendor, features, topology), C(cpu_model), C(cpu_xml) (the
    host CPU element, for a CPU baseline), C(numa_cells), C(iommu) and C(guest_types).
  - A string read from a guest's definition, from the guest or from the hypervisor (names, titles, descriptions,
    metadata, addresses, ...) that could be a template (it holds C({) or C(}), or starts with C(#jinja2:)) is marked
    unsafe, so it is never templated, and C(ansible-inventory --list) shows it under the key C(__ansible_unsafe).
    Every other string cannot be templated anyway and is shown as it is.
  - Every guest is in C(<group_prefix>guests) and the hypervisors in C(<group_prefix>hypervisors); O(group_by)
    adds groups by state (C(<group_prefix>state_<state>)), by hypervisor (C(<group_prefix>hypervisor_<name>))
    and by libvirt network or bridge (C(<group_prefix>network_<name>)); plus O(compose), O(groups) and
    O(keyed_groups), which see the host variables of O(host_vars).
  - The configuration file name must end with C(libvirt.yml) or C(libvirt.yaml).
author:
  - sysvirt developers (@sysvirt)
requirements:
  - libvirt-python and lxml on the controller (in the Python that runs Ansible)
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin; marks the file as this plugin's configuration.
    type: str
    required: true
    choices: [sysvirt.libvirt.libvirt]
  uris:
    description:
      - The libvirt connection URIs of the hypervisors, local or remote (V(qemu:///system),
        V(qemu+ssh://root@kvm01.example.com/system), V(qemu+tls://kvm02.example.com/system), V(test:///default)).
    type: list
    elements: str
    default: [qemu:///system]
  readonly:
    description:
      - Open read-only connections. The inventory only reads, but the guest agent address source needs
        read-write connections (set V(false) to use V(agent) in O(address_sources)).
    type: bool
    default: true
  username:
    description:
      - User name given to libvirt when a connection asks for one (SASL and similar authentication).
    type: str
    env:
      - name: LIBVIRT_USERNAME
  password:
    description:
      - Password given to libvirt when a connection asks for one. Never shown in output or errors.
    type: str
    env:
      - name: LIBVIRT_PASSWORD
  max_workers:
    description:
      - How many hypervisors are queried at the same time.
    type: int
    default: 20
  timeout:
    description:
      - Seconds to wait for each hypervisor, from the start of its connection to the end of its reads. A
        hypervisor that has not answered by then is reported as unreachable (a warning, or a failure with
        O(strict=true)) and the others load; its connection is left to end on its own.
      - Guards against what keepalive cannot see, such as a daemon that accepts connections and never answers,
        or a host that silently drops them (TCP then retries for about two minutes).
      - V(0) waits as long as it takes.
    type: int
    default: 0
  keepalive_interval:
    description:
      - Seconds of silence on a connection after which libvirt sends a keepalive message; when
        O(keepalive_count) of them in a row go unanswered, the connection is closed and that hypervisor is
        reported as unreachable, after about O(keepalive_interval) * (O(keepalive_count) + 1) seconds.
      - V(0) turns keepalive off.
    type: int
    default: 5
  keepalive_count:
    description:
      - How many keepalive messages in a row may go unanswered, see O(keepalive_interval).
    type: int
    default: 5
  strict:
    description:
      - Fail the inventory when a hypervisor cannot be reached or read, instead of warning and loading the others.
      - Also makes templating errors in O(compose), O(groups) and O(keyed_groups) fatal, as in every
        constructed inventory.
    type: bool
    default: false
  hostname_format:
    description:
      - How a guest's inventory host name is made, with Python C(str.format) fields C({name}), C({uuid}),
        C({hypervisor}) (the hypervisor's inventory name) and C({uri}).
      - Host names must be unique across hypervisors. When two guests get the same name, the second is named
        C(<name>@<hypervisor>) (and, if that is taken too, by its UUID) with a warning.
    type: str
    default: '{name}'
  host_vars:
    description:
      - The guest host variables to set (each under O(prefix)). V(all) sets every one.
      - V(name); V(uuid); V(state) (V(running), V(shutoff), ...); V(hypervisor) (the hypervisor's inventory name);
        V(uri) (its connection URI, for the modules); V(vcpus) and V(vcpus_max); V(memory_bytes) and
        V(memory_max_bytes); V(autostart); V(persistent); V(addresses) (every address found for the guest, see
        O(address_sources)).
      - Read from the guest's definition, so naming one makes the plugin read every guest's XML
        V(os_type); V(arch); V(machine); V(disks) (list of C(target), C(device), C(bus), C(source) path or
        C(pool/volume), C(format)); V(interfaces) (list of C(mac), C(type), C(network), C(bridge), C(model),
        C(target), C(addresses)); V(port_forwards) (ports forwarded into the guest on user-mode networks, list of
        C(proto), C(address), C(host_port), C(host_port_end), C(guest_port), C(source), see O(address_sources));
        V(title); V(description); V(metadata) (namespace URI to element XML).
      - O(compose), O(groups) and O(keyed_groups) see only these variables (with O(prefix)).
    type: list
    elements: str
    choices: [all, name, uuid, state, hypervisor, uri, vcpus, vcpus_max, memory_bytes, memory_max_bytes, autostart,
              persistent, addresses, os_type, arch, machine, disks, interfaces, port_forwards, title, description,
              metadata]
    default: [uuid, state, uri, vcpus, memory_bytes, autostart, persistent, addresses]
  group_by:
    description:
      - Which groups to make, besides C(<group_prefix>guests) and C(<group_prefix>hypervisors). V(state) and
        V(hypervisor) come from the bulk calls; V(network) reads every guest's definition (XML).
    type: list
    elements: str
    choices: [state, hypervisor, network]
    default: [state, hypervisor]
  prefix:
    description:
      - Prefix of every host variable this plugin sets (other than C(ansible_host), C(ansible_port) and
        C(ansible_connection)).
    type: str
    default: libvirt_
  group_prefix:
    description: Prefix of the groups this plugin makes.
    type: str
    default: libvirt_
  address_sources:
    description:
      - Where to look for guest addresses, in order of preference for C(ansible_host). V(lease) reads the DHCP
        leases of libvirt's networks, V(agent) asks the QEMU guest agent (needs O(readonly=false)), V(arp) reads
        the hypervisor's ARP table. An empty list reads no addresses.
      - V(forward) is for guests on user-mode networks, which have no address of their own that the controller
        can reach. It takes the TCP port the hypervisor forwards to the guest's O(forward_port) (libvirt's
        C(<portForward>) of a user-mode interface, or a C(hostfwd=) rule of a QEMU user-mode network given in
        C(<qemu:commandline>)) and sets C(ansible_host) to the address the forward listens on and
        C(ansible_port) to its port. A forward that listens on every address gives the hypervisor's host name
        from its URI, or V(127.0.0.1) for a local URI. It reads the definition (XML) of every running guest;
        O(address_network), O(address_interface) and O(address_family) do not apply to it.
      - A source that fails for a guest (no agent, for example) only leaves that source out for that guest.
    type: list
    elements: str
    choices: [lease, agent, arp, forward]
    default: [lease]
  forward_port:
    description:
      - The guest port (TCP) whose forward gives C(ansible_host) and C(ansible_port), see V(forward) in
        O(address_sources).
    type: int
    default: 22
  agent_timeout:
    description: Seconds to wait for each guest's agent when O(address_sources) has V(agent).
    type: int
    default: 5
  address_network:
    description:
      - Only take C(ansible_host) from interfaces on this libvirt network or host bridge.
      - Makes the plugin read the definition (XML) of every running guest.
    type: str
  address_interface:
    description:
      - Only take C(ansible_host) from this interface, given by MAC address or by host-side device name.
      - Makes the plugin read the definition (XML) of every running guest.
    type: str
  address_family:
    description: Which address family C(ansible_host) is taken from.
    type: str
    choices: [ipv4, ipv6, any]
    default: ipv4
  set_ansible_host:
    description: Set C(ansible_host) of each guest from its addresses (when one is found).
    type: bool
    default: true
  ansible_connection:
    description:
      - When set, the C(ansible_connection) of every guest (for example V(ssh)). Left alone when not set.
      - For guests reached through their guest agent, see O(agent_connection).
    type: str
  agent_connection:
    description:
      - Reach running guests that have a QEMU guest agent channel through the agent, with the
        P(sysvirt.libvirt.libvirt_qemu#connection) connection plugin. Their C(ansible_connection) is
        V(sysvirt.libvirt.libvirt_qemu), C(ansible_libvirt_uri) their hypervisor's URI and
        C(ansible_libvirt_domain) their UUID. For these guests it takes precedence over
        O(ansible_connection).
      - Whether the agent runs in the guest is not checked; a guest without one fails when a task runs.
      - Makes the plugin read the definitions of running guests (for the channel).
    type: bool
    default: false
  hypervisors:
    description: Also add the hypervisors as hosts, with node information, a capabilities summary and the host CPU.
    type: bool
    default: true
  hypervisor_name:
    description:
      - How a hypervisor host is named, by the host name libvirt reports (V(hostname)) or by its URI (V(uri)).
        A host name already taken by another hypervisor falls back to the URI.
    type: str
    choices: [hostname, uri]
    default: hostname
  states:
    description: Only guests in one of these states.
    type: list
    elements: str
    choices: [nostate, running, blocked, paused, shutting_down, shutoff, crashed, pmsuspended]
  names:
    description: Only guests with one of these names; entries with C(*), C(?) or C([) are shell-style patterns.
    type: list
    elements: str
  metadata:
    description:
      - Only guests with custom metadata in each of these namespaces (keys are namespace URIs) whose element
        text matches the value (a shell-style pattern; V('*') for any).
      - Makes the plugin read every guest's definition (XML).
    type: dict
'''

EXAMPLES = r'''
# qemu.libvirt.yml: the local hypervisor, ansible_host from DHCP leases (no guest XML is read)
plugin: sysvirt.libvirt.libvirt
uris:
  - qemu:///system

# lab.libvirt.yml: ansible_host only from the 'default' network, every host variable, groups by network too
plugin: sysvirt.libvirt.libvirt
uris:
  - qemu:///system
address_network: default
host_vars: [all]
group_by: [state, hypervisor, network]

# farm.libvirt.yml: three hypervisors over SSH, running guests only, cached for an hour, grouped by OS arch
# and by a metadata tag, with the guest agent as fallback address source
plugin: sysvirt.libvirt.libvirt
uris:
  - qemu+ssh://root@kvm01.example.com/system
  - qemu+ssh://root@kvm02.example.com/system
  - qemu+ssh://root@kvm03.example.com/system
readonly: false
states: [running]
address_sources: [lease, agent]
hostname_format: '{name}.{hypervisor}'
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-libvirt
cache_timeout: 3600
host_vars: [uuid, state, uri, vcpus, memory_bytes, addresses, arch, metadata]
keyed_groups:
  - key: libvirt_arch
    prefix: arch

# fleet.libvirt.yml: hypervisors over TLS (a client certificate set in one directory) and libssh (the fleet's own
# known_hosts); a hypervisor that has not answered in 30 seconds, or whose link dies mid-read (keepalive 5 s x 3),
# is reported and skipped
plugin: sysvirt.libvirt.libvirt
uris:
  - qemu+tls://kvm01.example.com/system?pkipath=/etc/ansible/fleet/pki
  - qemu+libssh://root@kvm02.example.com/system?keyfile=/etc/ansible/fleet/id_ed25519&known_hosts=/etc/ansible/fleet/known_hosts
timeout: 30
keepalive_interval: 5
keepalive_count: 3

# usernet.libvirt.yml: guests on QEMU user-mode networks, reached through the ports the hypervisor forwards to
# their SSH port (libvirt <portForward>, or hostfwd= in <qemu:commandline>): ansible_host and ansible_port
plugin: sysvirt.libvirt.libvirt
uris:
  - qemu:///system
states: [running]
address_sources: [forward, lease]
forward_port: 22
compose:
  owner: libvirt_metadata['https://example.com/app'] | default('')
groups:
  big: libvirt_vcpus >= 8

# agent.libvirt.yml: running guests with a guest agent channel are reached through the agent (no network needed),
# the others over SSH
plugin: sysvirt.libvirt.libvirt
uris:
  - qemu:///system
states: [running]
agent_connection: true
ansible_connection: ssh
'''

import fnmatch
import re
import threading
import time
from urllib.parse import urlsplit

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _capabilities, _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call
from ansible_collections.sysvirt.libvirt.plugins.module_utils._domain_data import collect_domains, matches
from ansible_collections.sysvirt.libvirt.plugins.plugin_utils._libvirt import (
    PluginConnection, require_libraries, unsafe,
)

try:
    import libvirt  # noqa: F401 pylint: disable=unused-import
except ImportError:
    libvirt = None


def hypervisor_data(conn):
    """What the inventory tells about a hypervisor: node info, capabilities summary, host CPU (plain data)."""
    caps_text, caps = _capabilities.read_capabilities(conn)
    caps_data = _capabilities.capabilities_data(caps)
    with call('read the connection details'):
        hostname = conn.getHostname()
        uri = conn.getURI()
        driver = conn.getType()
        lib_version = conn.getLibVersion()
        try:
            hv_version = conn.getVersion()
        except libvirt.libvirtError:
            hv_version = 0
    cpu_el = caps.find('host/cpu')
    host = caps_data.get('host', {})
    return dict(
        hostname=hostname,
        uri=uri,
        driver=driver,
        library_version=_capabilities.split_version(lib_version)['full'],
        hypervisor_version=_capabilities.split_version(hv_version)['full'],
        node=_capabilities.node_info(conn),
        cpu=host.get('cpu', {}),
        cpu_xml=_xml.to_string(cpu_el) if cpu_el is not None else None,
        numa_cells=len(host.get('numa_cells', [])),
        iommu=host.get('iommu'),
        guest_types=[dict(os_type=g['os_type'], arch=g['arch'], domain_types=g['domain_types'])
                     for g in caps_data.get('guests', [])],
    )


# Host vars that only the guest's definition (XML) holds; all others come from the listings and bulk statistics.
DEFINITION_VARS = frozenset(['os_type', 'arch', 'machine', 'disks', 'interfaces', 'port_forwards', 'title',
                             'description', 'metadata'])
ALL_VARS = ('name', 'uuid', 'state', 'hypervisor', 'uri', 'vcpus', 'vcpus_max', 'memory_bytes', 'memory_max_bytes',
            'autostart', 'persistent', 'os_type', 'arch', 'machine', 'disks', 'interfaces', 'port_forwards',
            'addresses', 'title', 'description', 'metadata')
AGENT_CONNECTION = 'sysvirt.libvirt.libvirt_qemu'
# A forward listening on one of these listens on every address of the hypervisor.
_ANY_ADDRESS = (None, '', '0.0.0.0', '::', '[::]')
# How much of the definitions a fetch read, in increasing order (collect_domains' ``definition``).
DEFINITION_LEVELS = ('none', 'running', 'all')


def fetch_one(uri, readonly=True, username=None, password=None, names=None, states=None,
              address_sources=('lease',), agent_timeout=None, workers=4, definition='all',
              keepalive_interval=None, keepalive_count=None):
    """Everything the inventory needs from one URI, as plain (cacheable) data; errors as a message.

    ``definition``: whose XML to read, ``all``, ``running`` or ``none`` (see collect_domains).
    """
    result = dict(uri=uri, error=None, hypervisor=None, domains=[], warnings=[], definition=definition)
    try:
        with PluginConnection(uri, readonly, username, password, keepalive_interval=keepalive_interval,
                              keepalive_count=keepalive_count) as conn:
            result['hypervisor'] = hypervisor_data(conn)
            result['domains'], result['warnings'] = collect_domains(
                conn, names=names, states=states, address_sources=address_sources, agent_timeout=agent_timeout,
                workers=workers, definition=definition, all_stats=True)
    except (AnsibleError, LibvirtFailure) as e:
        result['error'] = e.full_message() if isinstance(e, LibvirtFailure) else str(e)
    return result


def fetch_all(uris, workers, timeout=0, **kwargs):
    """fetch_one for every URI, ``workers`` at a time, each in a daemon thread; results in the order of ``uris``.

    With ``timeout`` (seconds, > 0) a URI whose fetch has run that long gets an error result and its slot goes to
    the next URI; its thread is left to end on its own (a daemon thread: it never keeps the process alive).
    Returns as soon as the last result is in: each fetch wakes the waiting thread when it ends (no polling).
    """
    count = len(uris)
    results = [None] * count
    started = {}
    freed = set()
    slots = threading.Semaphore(max(1, workers))
    changed = threading.Condition()

    def free(index):  # with ``changed`` held
        if index not in freed:
            freed.add(index)
            slots.release()

    def work(index, uri):
        slots.acquire()
        with changed:
            started[index] = time.monotonic()
            changed.notify_all()  # a new deadline to watch
        try:
            result = fetch_one(uri, **kwargs)
        except Exception as e:  # pragma: no cover - fetch_one reports its errors as data; anything else too
            result = dict(uri=uri, error='%s: %s' % (type(e).__name__, e), hypervisor=None, domains=[],
                          warnings=[], definition=kwargs.get('definition', 'all'))
        with changed:
            if results[index] is None:
                results[index] = result
            free(index)
            changed.notify_all()

    threads = [threading.Thread(target=work, args=(i, uri), name='libvirt-inventory-%d' % i) for i, uri in
               enumerate(uris)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    with changed:
        while True:
            wait = _expire(uris, results, started, timeout, free, kwargs.get('definition', 'all'))
            if all(r is not None for r in results):
                return results
            changed.wait(wait)


def _expire(uris, results, started, timeout, free, definition):
    """Give every fetch that has run for ``timeout`` seconds its error result (and free its slot); the seconds
    until the next running fetch reaches its timeout, or None (no timeout, or nothing running)."""
    if not timeout:
        return None
    now = time.monotonic()
    wait = None
    for index, uri in enumerate(uris):
        if results[index] is not None or index not in started:
            continue
        left = started[index] + timeout - now
        if left <= 0:
            results[index] = dict(uri=uri, hypervisor=None, domains=[], warnings=[], definition=definition,
                                  error='Failed to read %s: no answer within %s seconds (the timeout option)'
                                        % (uri, timeout))
            free(index)
        elif wait is None or left < wait:
            wait = left
    return wait


def forward_host(domain, guest_port, uri):
    """(address, port) of the hypervisor's TCP forward to the guest's ``guest_port``; (None, None) if none."""
    for fwd in domain.get('port_forwards') or []:
        if fwd.get('proto') != 'tcp':
            continue
        first, last = fwd.get('host_port'), fwd.get('host_port_end') or fwd.get('host_port')
        offset = guest_port - fwd.get('guest_port', 0)
        if first is None or offset < 0 or first + offset > last:
            continue
        address = fwd.get('address')
        if address in _ANY_ADDRESS:
            address = urlsplit(uri or '').hostname or '127.0.0.1'
        return address, first + offset
    return None, None


def choose_address(domain, sources, network=None, interface=None, family='ipv4', uri=None, forward_port=22):
    """The guest's (address, port) for ansible_host and ansible_port: by source preference, then interface order;
    the port is None unless the address is a forward's. (None, None) if none."""
    interfaces = []
    for iface in domain.get('interfaces', []):
        source = iface.get('source') or {}
        if network and network not in (source.get('network'), source.get('bridge')):
            continue
        if interface and interface.lower() not in ((iface.get('mac') or ''), (iface.get('target') or '').lower()):
            continue
        interfaces.append(iface)
    for wanted in sources:
        if wanted == 'forward':
            address, port = forward_host(domain, forward_port, uri)
            if address:
                return address, port
            continue
        for iface in interfaces:
            for address in iface.get('addresses', []):
                if address.get('source') == wanted and (family == 'any' or address.get('family') == family):
                    return address.get('address'), None
    return None, None


def _metadata_matches(domain, wanted):
    if not wanted:
        return True
    metadata = domain.get('metadata') or {}
    for namespace, pattern in wanted.items():
        if namespace not in metadata:
            return False
        if pattern in (None, '*'):
            continue
        root = _xml.parse(metadata[namespace], 'metadata')
        text = ''.join(root.itertext()).strip()
        if not fnmatch.fnmatchcase(text, str(pattern)):
            return False
    return True


def _compact(value):
    """Drop null and empty values from dicts (smaller inventories serialize and merge faster)."""
    return dict((k, v) for k, v in value.items() if v not in (None, [], {}))


def _interfaces(domain):
    interfaces = []
    for iface in domain.get('interfaces') or []:
        source = iface.get('source') or {}
        interfaces.append(_compact(dict(mac=iface.get('mac'), type=iface.get('type'), network=source.get('network'),
                                        bridge=source.get('bridge'), model=iface.get('model'),
                                        target=iface.get('target'),
                                        addresses=[a.get('address') for a in iface.get('addresses') or []])))
    return interfaces


def _addresses(domain):
    addresses = []
    for iface in domain.get('interfaces') or []:
        for address in iface.get('addresses') or []:
            if address.get('address') not in addresses:
                addresses.append(address.get('address'))
    return addresses


def _disks(domain):
    disks = []
    for disk in domain.get('disks') or []:
        source = disk.get('source') or {}
        path = source.get('file') or source.get('dev') or source.get('dir') or source.get('name')
        if source.get('pool'):
            path = '%s/%s' % (source.get('pool'), source.get('volume'))
        disks.append(_compact(dict(target=disk.get('target'), device=disk.get('device'), bus=disk.get('bus'),
                                   source=path, format=disk.get('format'))))
    return disks


# How each host var is read from a domain dict (collect_domains), its hypervisor's inventory name and URI.
_VAR_GETTERS = dict(
    name=lambda d, hv, uri: d.get('name'),
    uuid=lambda d, hv, uri: d.get('uuid'),
    state=lambda d, hv, uri: d.get('state'),
    hypervisor=lambda d, hv, uri: hv,
    uri=lambda d, hv, uri: uri,
    vcpus=lambda d, hv, uri: (d.get('vcpus') or {}).get('current'),
    vcpus_max=lambda d, hv, uri: (d.get('vcpus') or {}).get('maximum'),
    memory_bytes=lambda d, hv, uri: (d.get('memory') or {}).get('current_bytes'),
    memory_max_bytes=lambda d, hv, uri: (d.get('memory') or {}).get('maximum_bytes'),
    autostart=lambda d, hv, uri: d.get('autostart'),
    persistent=lambda d, hv, uri: d.get('persistent'),
    os_type=lambda d, hv, uri: (d.get('os') or {}).get('type'),
    arch=lambda d, hv, uri: (d.get('os') or {}).get('arch'),
    machine=lambda d, hv, uri: (d.get('os') or {}).get('machine'),
    disks=lambda d, hv, uri: _disks(d),
    interfaces=lambda d, hv, uri: _interfaces(d),
    port_forwards=lambda d, hv, uri: [_compact(f) for f in d.get('port_forwards') or []],
    addresses=lambda d, hv, uri: _addresses(d),
    title=lambda d, hv, uri: d.get('title'),
    description=lambda d, hv, uri: d.get('description'),
    metadata=lambda d, hv, uri: d.get('metadata'),
)


def guest_vars(domain, hypervisor_name, uri, wanted=ALL_VARS):
    """The host vars of a guest named in ``wanted`` (all by default), without prefix, as plain data. Null and
    empty values are left out."""
    result = {}
    for key in wanted:
        value = _VAR_GETTERS[key](domain, hypervisor_name, uri)
        if value is not None and value != [] and value != {}:
            result[key] = value
    return result


def wanted_vars(host_vars):
    """The host_vars option as an ordered tuple of var names (``all`` expanded)."""
    host_vars = host_vars or []
    if 'all' in host_vars:
        return ALL_VARS
    return tuple(key for key in ALL_VARS if key in host_vars)


def definition_level(host_vars, group_by, metadata=None, set_ansible_host=True, address_sources=(),
                     address_network=None, address_interface=None, agent_connection=False):
    """Whose definition (XML) the options need: ``all``, ``running`` (to map running guests' addresses to their
    networks or interfaces) or ``none``."""
    if DEFINITION_VARS.intersection(wanted_vars(host_vars)) or 'network' in (group_by or []) or metadata:
        return 'all'
    if set_ansible_host and address_sources and (address_network or address_interface or 'forward' in address_sources):
        return 'running'
    if agent_connection:
        return 'running'
    return 'none'


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = 'sysvirt.libvirt.libvirt'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and re.search(r'libvirt\.ya?ml$', path) is not None

    def parse(self, inventory, loader, path, cache=True):
        require_libraries('The %s inventory plugin' % self.NAME)
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache')
        attempt_to_read_cache = use_cache and cache
        cache_needs_update = use_cache and not cache
        results = None
        if attempt_to_read_cache:
            try:
                results = self._cache[cache_key]
            except KeyError:
                cache_needs_update = True
            else:
                if not self._cache_is_enough(results):  # cached with less of the definitions than now needed
                    results = None
                    cache_needs_update = True
        if results is None:
            results = self._fetch()
        if cache_needs_update:
            self._cache[cache_key] = results
        self._populate(results)

    def _definition_level(self):
        return definition_level(self.get_option('host_vars'), self.get_option('group_by'),
                                self.get_option('metadata'), self.get_option('set_ansible_host'),
                                self.get_option('address_sources'), self.get_option('address_network'),
                                self.get_option('address_interface'), self.get_option('agent_connection'))

    def _cache_is_enough(self, results):
        needed = DEFINITION_LEVELS.index(self._definition_level())
        for result in results or []:
            level = result.get('definition', 'all')
            if level not in DEFINITION_LEVELS or DEFINITION_LEVELS.index(level) < needed:
                return False
        return True

    def _fetch(self):
        """One thread and one connection per URI, all at once; results in the order of ``uris``."""
        uris = self.get_option('uris') or []
        kwargs = dict(
            readonly=self.get_option('readonly'), username=self.get_option('username'),
            password=self.get_option('password'), names=self.get_option('names'),
            states=self.get_option('states'), address_sources=self.get_option('address_sources') or [],
            agent_timeout=self.get_option('agent_timeout'), definition=self._definition_level(),
            keepalive_interval=self.get_option('keepalive_interval'),
            keepalive_count=self.get_option('keepalive_count'),
        )
        if not uris:
            return []
        workers = max(1, min(len(uris), self.get_option('max_workers') or 1))
        return fetch_all(uris, workers, timeout=self.get_option('timeout') or 0, **kwargs)

    def _populate(self, results):
        """Hosts, groups and vars from fetched (or cached) results. Pure: no libvirt calls."""
        prefix = self.get_option('prefix')
        group_prefix = self.get_option('group_prefix')
        strict = self.get_option('strict')
        # Options read once, not per guest (thousands of guests).
        self._wanted_vars = wanted_vars(self.get_option('host_vars'))
        self._group_by = frozenset(self.get_option('group_by') or [])
        self._constructed = any(self.get_option(o) for o in ('compose', 'groups', 'keyed_groups'))
        self._address_args = (self.get_option('address_sources') or [], self.get_option('address_network'),
                              self.get_option('address_interface'), self.get_option('address_family'))
        self._forward_port = self.get_option('forward_port')
        self._set_ansible_host = self.get_option('set_ansible_host')
        self._ansible_connection = self.get_option('ansible_connection')
        self._agent_connection = self.get_option('agent_connection')
        self._hostname_format = self.get_option('hostname_format')
        self._states = self.get_option('states')
        self._names = self.get_option('names')
        self._metadata = self.get_option('metadata')
        self._group_cache = {}
        self._safe_strings = {}
        guests_group = self.inventory.add_group(self._sanitize_group_name(group_prefix + 'guests'))
        hv_group = None
        if self.get_option('hypervisors'):
            hv_group = self.inventory.add_group(self._sanitize_group_name(group_prefix + 'hypervisors'))
        hv_names = set()
        for result in results:
            if result.get('error'):
                if strict:
                    raise AnsibleError('sysvirt.libvirt.libvirt: cannot read %s (strict: true): %s'
                                       % (result['uri'], result['error']))
                self.display.warning('sysvirt.libvirt.libvirt: skipping %s: %s' % (result['uri'], result['error']))
                continue
            for warning in result.get('warnings') or []:
                self.display.vvv('sysvirt.libvirt.libvirt: %s: %s' % (result['uri'], warning))
            hypervisor = result.get('hypervisor') or {}
            hv_name = self._hypervisor_name(hypervisor, result['uri'], hv_names)
            hv_names.add(hv_name)
            if hv_group is not None:
                self._add_hypervisor(hv_name, hv_group, hypervisor, result['uri'], prefix)
            by_hv = None
            if 'hypervisor' in self._group_by:
                by_hv = self._group(group_prefix + 'hypervisor_' + hv_name)
            for domain in result.get('domains') or []:
                if not self._wanted(domain):
                    continue
                self._add_guest(domain, hv_name, result['uri'], prefix, group_prefix, guests_group, by_hv, strict)

    def _safe(self, value):
        """unsafe(value), once per distinct plain string of a populate run: the state and URI of a thousand guests
        are a few strings, and marking each copy costs more than the rest of the variable."""
        # Only plain str: a tagged one (a str subclass) has tags of its own.
        if type(value) is not str:  # pylint: disable=unidiomatic-typecheck
            return unsafe(value)
        safe = self._safe_strings.get(value)
        if safe is None:
            safe = self._safe_strings[value] = unsafe(value)
        return safe

    def _hypervisor_name(self, hypervisor, uri, taken):
        name = hypervisor.get('hostname') if self.get_option('hypervisor_name') == 'hostname' else None
        if not name or name in taken:
            name = uri
        return name

    def _group(self, name):
        """The (sanitized, added) group of that name; remembered, as the same few groups come up per guest."""
        group = self._group_cache.get(name)
        if group is None:
            group = self._group_cache[name] = self.inventory.add_group(self._sanitize_group_name(name))
        return group

    def _wanted(self, domain):
        if self._states and domain.get('state') not in self._states:
            return False
        if self._names and not matches(domain.get('name') or '', self._names):
            return False
        return _metadata_matches(domain, self._metadata)

    def _add_hypervisor(self, name, group, hypervisor, uri, prefix):
        self.inventory.add_host(name, group=group)
        data = dict(uri=uri, hostname=hypervisor.get('hostname'), driver=hypervisor.get('driver'),
                    library_version=hypervisor.get('library_version'),
                    hypervisor_version=hypervisor.get('hypervisor_version'), node=hypervisor.get('node'),
                    cpu=hypervisor.get('cpu'), cpu_model=(hypervisor.get('cpu') or {}).get('model'),
                    cpu_xml=hypervisor.get('cpu_xml'), numa_cells=hypervisor.get('numa_cells'),
                    iommu=hypervisor.get('iommu'), guest_types=hypervisor.get('guest_types'))
        for key, value in data.items():
            self.inventory.set_variable(name, prefix + key, unsafe(value))

    def _unique_host(self, wanted, domain, hv_name):
        if wanted not in self.inventory.hosts:
            return wanted
        alternative = '%s@%s' % (wanted, hv_name)
        if alternative in self.inventory.hosts:
            alternative = domain.get('uuid')
        self.display.warning('sysvirt.libvirt.libvirt: host name %s is taken, guest %s on %s is named %s'
                             % (wanted, domain.get('name'), hv_name, alternative))
        return alternative

    def _add_guest(self, domain, hv_name, uri, prefix, group_prefix, guests_group, by_hv, strict):
        fmt = self._hostname_format
        try:
            wanted = fmt.format(name=domain.get('name'), uuid=domain.get('uuid'), hypervisor=hv_name, uri=uri)
        except (KeyError, IndexError, ValueError) as e:
            raise AnsibleError('hostname_format %r is not valid: %s' % (fmt, e))
        host = self._unique_host(wanted, domain, hv_name)
        self.inventory.add_host(host, group=guests_group)
        if by_hv is not None:
            self.inventory.add_child(by_hv, host)
        for key, value in guest_vars(domain, hv_name, uri, self._wanted_vars).items():
            self.inventory.set_variable(host, prefix + key, self._safe(value))
        if self._set_ansible_host:
            address, port = choose_address(domain, *self._address_args, uri=uri, forward_port=self._forward_port)
            if address:
                self.inventory.set_variable(host, 'ansible_host', unsafe(address))
            if port:
                self.inventory.set_variable(host, 'ansible_port', port)
        if self._agent_connection and domain.get('agent_channel') and domain.get('state') == 'running':
            self.inventory.set_variable(host, 'ansible_connection', AGENT_CONNECTION)
            self.inventory.set_variable(host, 'ansible_libvirt_uri', uri)
            self.inventory.set_variable(host, 'ansible_libvirt_domain', domain.get('uuid'))
        elif self._ansible_connection:
            self.inventory.set_variable(host, 'ansible_connection', self._ansible_connection)
        if 'state' in self._group_by:
            self.inventory.add_child(self._group(group_prefix + 'state_' + domain['state']), host)
        if 'network' in self._group_by:
            for iface in domain.get('interfaces') or []:
                source = iface.get('source') or {}
                network = source.get('network') or source.get('bridge')
                if network:
                    self.inventory.add_child(self._group(group_prefix + 'network_' + network), host)
        if not self._constructed:
            return
        hostvars = self.inventory.get_host(host).get_vars()
        self._set_composite_vars(self.get_option('compose'), hostvars, host, strict=strict)
        self._add_host_to_composed_groups(self.get_option('groups'), hostvars, host, strict=strict)
        self._add_host_to_keyed_groups(self.get_option('keyed_groups'), hostvars, host, strict=strict)
