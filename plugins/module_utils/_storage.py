# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Storage pools and volumes: lookup, reconcile, info dicts. Shared by storage_pool(_info) and volume(_info).

Private to this collection: the names here may change without notice.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

try:
    import libvirt
except ImportError:
    libvirt = None

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml, _stream
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call, failure_from, lookup
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import (
    Kind, Step, assumed_parent, converge, missing, reconcile_definition)

POOL_STATES = {0: 'inactive', 1: 'building', 2: 'running', 3: 'degraded', 4: 'inaccessible'}
VOLUME_TYPES = {0: 'file', 1: 'block', 2: 'dir', 3: 'network', 4: 'netdir', 5: 'ploop'}
BUILD_FLAGS = {'new': 0, 'repair': 1, 'resize': 2, 'no_overwrite': 4, 'overwrite': 8}
#: Pool types whose target is a local directory that ``build`` creates.
DIRECTORY_POOLS = ('dir', 'fs', 'netfs')

# capacity/allocation/available are what libvirt measures, not what the user defines: never compared.
POOL_RULES = _xml.CompareRules(
    default_units={'capacity': 'b', 'allocation': 'b', 'available': 'b'},
    ignore=('capacity', 'allocation', 'available'),
    order={'': ('name', 'uuid', 'capacity', 'allocation', 'available', 'features', 'source', 'target')},
)

# Volumes cannot be redefined: only the capacity is reconciled (resize); what libvirt computes or only uses
# at creation (key, allocation, path, permissions, timestamps) is not compared.
VOLUME_RULES = _xml.CompareRules(
    default_units={'capacity': 'b', 'allocation': 'b', 'physical': 'b'},
    size_tolerance={'capacity': 512},
    ignore=('key', 'allocation', 'physical', 'source', 'target/path', 'target/permissions', 'target/timestamps',
            'target/permissions/mode', 'target/permissions/owner', 'target/permissions/group',
            'target/permissions/label', 'backingStore/permissions', 'backingStore/timestamps'),
)


def _collapse_path(text):
    if not text or not text.startswith('/'):
        return text
    path = re.sub('/+', '/', text)
    return path.rstrip('/') or '/'


# ---------------------------------------------------------------------------------------------------------
# Pools
# ---------------------------------------------------------------------------------------------------------

class PoolKind(Kind):
    noun = 'storage pool'
    rules = POOL_RULES
    lookups = (('uuid', 'storagePoolLookupByUUIDString'), ('name', 'storagePoolLookupByName'))
    define_call = ('storagePoolDefineXML', (0,))
    stored_flags = ('VIR_STORAGE_XML_INACTIVE',)

    def predict(self, desired, stored, rules):
        """libvirt derives the target path of a logical or zfs pool defined without one from its source name."""
        predicted = super(PoolKind, self).predict(desired, stored, rules)
        prefix = DERIVED_TARGETS.get(desired.get('type'))
        source = _xml.find_text(predicted, 'source/name')
        if prefix and source and _xml.find_text(desired, 'target/path') is None \
                and predicted.find('target/path') is not None:
            predicted.find('target/path').text = prefix + source
        return predicted


#: Pool types whose target path libvirt derives from the source name when the definition gives none.
DERIVED_TARGETS = {'logical': '/dev/', 'zfs': '/dev/zvol/'}

POOL_KIND = PoolKind()


class VolumeKind(Kind):
    """Volumes are made by their pool (createXML), not defined: the Kind serves their removal."""

    noun = 'volume'
    undefine_action = 'delete'

    def is_active(self, obj):
        return False

    def is_persistent(self, obj):
        return True

    def undefine(self, obj):
        return obj.delete(0)


VOLUME_KIND = VolumeKind()


def pool_inactive_xml(pool):
    """The persistent definition (the test driver knows no inactive flag: its only definition then)."""
    return POOL_KIND.stored_xml(pool)


def normalise_pool_xml(desired):
    """Spell the desired document as libvirt stores it where the comparison cannot (target paths)."""
    for path in desired.iterfind('target/path'):
        path.text = _collapse_path((path.text or '').strip())
    # a logical pool's target is always its volume group's device directory
    if desired.get('type') == 'logical':
        group = _xml.find_text(desired, 'source/name') or _xml.find_text(desired, 'name')
        if group and desired.find('target/path') is not None:
            desired.find('target/path').text = '/dev/' + group
    # owner/group -1 mean "whoever runs libvirt": libvirt stores nothing for them
    for perms in desired.iterfind('target/permissions'):
        for child in list(perms):
            if child.tag in ('owner', 'group') and (child.text or '').strip() == '-1':
                perms.remove(child)
    return desired


def find_pool(conn, name=None, uuid=None):
    return POOL_KIND.lookup(conn, name=name, uuid=uuid)


def pool_target_path(xml_text):
    root = _xml.parse(xml_text, 'storage pool XML')
    return _xml.find_text(root, 'target/path')


def pool_to_dict(pool, with_xml=False):
    with call('read storage pool %s' % pool.name()):
        state, capacity, allocation, available = pool.info()
        active = bool(pool.isActive())
        xml_text = pool.XMLDesc(0)
        inactive_xml = pool_inactive_xml(pool) if with_xml else None
        root = _xml.parse(xml_text, 'storage pool XML')
        result = dict(
            name=pool.name(), uuid=pool.UUIDString(), type=root.get('type'),
            state=POOL_STATES.get(state, 'unknown'), active=active,
            persistent=bool(pool.isPersistent()), autostart=bool(pool.autostart()),
            capacity=capacity, allocation=allocation, available=available,
            target_path=_xml.find_text(root, 'target/path'),
            volume_count=pool.numOfVolumes() if active else None,
        )
    if with_xml:
        result['xml'] = inactive_xml
    return result


def predicted_pool_dict(desired, state, autostart):
    """What check mode says a pool it would define looks like."""
    return dict(name=_xml.find_text(desired, 'name'), uuid=_xml.find_text(desired, 'uuid'),
                type=desired.get('type'), state='running' if state == 'active' else 'inactive',
                active=state == 'active', persistent=True, autostart=bool(autostart), capacity=None,
                allocation=None, available=None, target_path=_xml.find_text(desired, 'target/path'),
                volume_count=None)


def _is_local(conn):
    try:
        if conn.getType().lower() == 'test':
            return False
        uri = conn.getURI()
    except libvirt.libvirtError:
        return False
    match = re.match(r'^[a-z0-9+]+://([^/]*)/', uri)
    host = match.group(1) if match else ''
    return host in ('', 'localhost') and '+ssh' not in uri and '+tls' not in uri and '+tcp' not in uri


def build_flags(pool_xml, mode):
    """libvirt's build flags for a mode; a dir pool only knows the plain build (others mean mkfs)."""
    root = _xml.parse(pool_xml, 'storage pool XML')
    if root.get('type') == 'dir':
        return 0
    return BUILD_FLAGS[mode]


def needs_build(conn, pool_xml, newly_defined):
    """Whether a pool needs building: defined by this run, or a directory target that is missing here."""
    if newly_defined:
        return True
    root = _xml.parse(pool_xml, 'storage pool XML')
    if root.get('type') in DIRECTORY_POOLS and _is_local(conn):
        target = _xml.find_text(root, 'target/path')
        return bool(target) and not os.path.isdir(target)
    return False


def _pool_params(p):
    """(desired document or None, name, uuid) from the options."""
    desired = None
    name, uuid = p['name'], p['uuid']
    if p['xml']:
        desired = normalise_pool_xml(_xml.parse(p['xml'], 'storage pool XML', root='pool'))
        doc_name = _xml.find_text(desired, 'name')
        if name and doc_name and name != doc_name:
            raise LibvirtFailure('name %r differs from the <name> %r in xml' % (name, doc_name))
        if name and not doc_name:
            _xml.set_child_text(desired, 'name', name)
        name = name or doc_name
        uuid = uuid or _xml.find_text(desired, 'uuid')
    if not name and not uuid:
        raise LibvirtFailure('Give name, uuid or an xml document with a <name>')
    return desired, name, uuid


def run_pool(module, conn, outcome):
    """The storage_pool module's logic; returns its values (storage_pool, refreshed)."""
    p, check, state = module.params, module.check_mode, module.params['state']
    desired, name, uuid = _pool_params(p)
    pool = POOL_KIND.check_found(find_pool(conn, name, uuid), name, uuid)
    if state in ('absent', 'deleted'):
        storage = [Step('delete storage', lambda: _delete_pool_storage(pool),
                        lambda: 'delete the storage of pool %s' % pool.name(), counts=bool)] if state == 'deleted' else []
        converge(POOL_KIND, pool, 'absent', check, outcome, between=storage)
        return dict(storage_pool=None, refreshed=False)
    newly_defined = pool is None
    if desired is not None:
        reconcile_definition(conn, POOL_KIND, desired, check, outcome=outcome, obj=pool)
        pool = outcome.obj
        if not newly_defined and 'redefine' in outcome.actions and pool is not None and pool.isActive():
            outcome.warnings.append('storage pool %s is active: the new definition applies at its next start'
                                    % pool.name())
    elif pool is None:
        if state == 'inactive':
            return dict(storage_pool=None, refreshed=False)  # teardown re-runs: a missing pool is not running
        raise POOL_KIND.missing(name or uuid)
    else:
        outcome.before = outcome.after = POOL_KIND.stored_xml(pool)
    built = _build(conn, p, pool, newly_defined, check, outcome)
    converge(POOL_KIND, pool, state, check, outcome, autostart=p['autostart'],
             calls=dict(start=lambda obj: _start(obj, p, built, outcome)))
    refreshed = False
    if p['refresh'] and pool is not None and pool.isActive() and not check:
        with call('refresh storage pool %s' % pool.name()):
            pool.refresh(0)
        refreshed = True
    return dict(storage_pool=_pool_result(pool, desired, p, check), refreshed=refreshed)


def _build(conn, p, pool, newly_defined, check, outcome):
    """Build the pool's storage before a start when asked and needed; whether it was (or would be) built."""
    active = bool(pool.isActive()) if pool is not None else False
    if not p['build'] or active:
        return False
    pool_xml = outcome.after if pool is None else POOL_KIND.stored_xml(pool)
    if not needs_build(conn, pool_xml, newly_defined):
        return False
    outcome.perform('build', lambda: pool.build(build_flags(pool_xml, p['build'])), check,
                    lambda: 'build storage pool %s' % pool.name())
    return True


def _start(pool, p, built, outcome):
    """Start the pool; when that fails and build is set but did not run, build it and start again."""
    try:
        with call('start storage pool %s' % pool.name()):
            return pool.create(0)
    except LibvirtFailure:
        if not p['build'] or built:
            raise
    outcome.perform('build', lambda: pool.build(build_flags(POOL_KIND.stored_xml(pool), p['build'])), False,
                    'build storage pool %s' % pool.name())
    return pool.create(0)


def _pool_result(pool, desired, p, check):
    if pool is None:
        return predicted_pool_dict(desired, p['state'], p['autostart'])
    info = pool_to_dict(pool)
    if check:
        if p['state'] == 'active' and not info['active']:
            info.update(active=True, state='running')
        elif p['state'] == 'inactive' and info['active']:
            info.update(active=False, state='inactive', volume_count=None)
        if p['autostart'] is not None:
            info['autostart'] = p['autostart']
    return info


def discover_sources(conn, pool_type, source_xml=None):
    """conn.findStoragePoolSources as data."""
    if source_xml:
        source_xml = _xml.to_string(_xml.parse(source_xml, 'discover.source_xml'), pretty=False)
    with call('discover %s storage pool sources' % pool_type):
        text = conn.findStoragePoolSources(pool_type, source_xml, 0)
    root = _xml.parse(text, 'discovered sources XML')
    sources = []
    for source in root.iterfind('source'):
        item = dict(
            hosts=[h.get('name') for h in source.iterfind('host') if h.get('name')],
            devices=[d.get('path') for d in source.iterfind('device') if d.get('path')],
            dirs=[d.get('path') for d in source.iterfind('dir') if d.get('path')],
            name=_xml.find_text(source, 'name'),
            format=source.find('format').get('type') if source.find('format') is not None else None,
            adapter=dict(source.find('adapter').attrib) if source.find('adapter') is not None else None,
            xml=_xml.to_string(source),
        )
        sources.append(item)
    return dict(type=pool_type, sources=sources, xml=text)


def list_pools(conn, name=None, uuid=None, with_xml=False):
    if name or uuid:
        pool = find_pool(conn, name, uuid)
        pools = [pool] if pool is not None else []
    else:
        with call('list storage pools'):
            pools = conn.listAllStoragePools(0)
    return [pool_to_dict(p, with_xml) for p in sorted(pools, key=lambda x: x.name())]


# ---------------------------------------------------------------------------------------------------------
# Volumes
# ---------------------------------------------------------------------------------------------------------

def volume_to_dict(vol, with_xml=False):
    with call('read volume %s' % vol.name()):
        vtype, capacity, allocation = vol.info()
        xml_text = vol.XMLDesc(0)
        pool = vol.storagePoolLookupByVolume()
        pool_name = pool.name()
    root = _xml.parse(xml_text, 'volume XML')
    fmt = root.find('target/format')
    backing = root.find('backingStore')
    result = dict(
        name=vol.name(), key=vol.key(), path=vol.path(), pool=pool_name,
        type=VOLUME_TYPES.get(vtype, root.get('type') or 'unknown'),
        format=fmt.get('type') if fmt is not None else None,
        capacity=capacity, allocation=allocation,
        backing_store=None,
    )
    if backing is not None and _xml.find_text(backing, 'path'):
        bfmt = backing.find('format')
        result['backing_store'] = dict(path=_xml.find_text(backing, 'path'),
                                       format=bfmt.get('type') if bfmt is not None else None)
    if with_xml:
        result['xml'] = xml_text
    return result


def list_volumes(conn, pool=None, name=None, with_xml=False):
    if pool:
        pool_obj = find_pool(conn, pool)
        if pool_obj is None:
            raise POOL_KIND.missing(pool, 'create it first (sysvirt.libvirt.storage_pool)')
        pools = [pool_obj]
    else:
        with call('list storage pools'):
            pools = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
    volumes = []
    for pool_obj in sorted(pools, key=lambda x: x.name()):
        if not pool_obj.isActive():
            continue
        with call('list the volumes of storage pool %s' % pool_obj.name()):
            vols = pool_obj.listAllVolumes(0)
        for vol in sorted(vols, key=lambda v: v.name()):
            if name and vol.name() != name:
                continue
            volumes.append(volume_to_dict(vol, with_xml))
    return volumes


def _active_pool(conn, name):
    pool = find_pool(conn, name)
    if pool is None:
        raise POOL_KIND.missing(name, 'create it first (sysvirt.libvirt.storage_pool)')
    if not pool.isActive():
        raise LibvirtFailure('storage pool %s is not active; start it first (sysvirt.libvirt.storage_pool '
                             'state=active)' % name)
    return pool


def find_volume(conn, pool=None, name=None, path=None, key=None):
    """(volume or None, pool object or None)."""
    if key:
        vol = lookup(conn.storageVolLookupByKey, key)
    elif path:
        vol = lookup(conn.storageVolLookupByPath, path)
    else:
        if not name:
            raise LibvirtFailure('Give the volume: its name (option name, or <name> in the xml) with its pool, '
                                 'or its path or key')
        if not pool:
            raise LibvirtFailure('Give the pool of volume %s (a volume name is unique only within its pool), or '
                                 'find the volume by path or key' % name)
        pool_obj = _active_pool(conn, pool)
        vol = lookup(pool_obj.storageVolLookupByName, name)
        return vol, pool_obj
    pool_obj = None
    if vol is not None:
        with call('find the pool of volume %s' % vol.name()):
            pool_obj = vol.storagePoolLookupByVolume()
    elif pool:
        pool_obj = _active_pool(conn, pool)
    return vol, pool_obj


def _size(value, what):
    if value is None:
        return None
    try:
        return _xml.size_to_bytes(value)
    except ValueError as e:
        raise LibvirtFailure('%s: %s' % (what, e))


def _source_volume(conn, spec, default_pool):
    vol, _pool = find_volume(conn, pool=spec.get('pool') or default_pool, name=spec.get('name'),
                             path=spec.get('path'), key=spec.get('key'))
    if vol is None:
        what = spec.get('name') or spec.get('path') or spec.get('key')
        raise missing('source volume', what, 'create or upload it first')
    return vol


# Plain files that libvirt names by their content when it reads a pool (an ISO 9660 image in a raw volume becomes
# format 'iso'); the bytes are the same, so there is nothing to convert between them.
_PLAIN_FORMATS = frozenset(['raw', 'iso'])


def same_format(wanted, stored):
    """Whether a volume stored with format ``stored`` is one of format ``wanted``."""
    return wanted == stored or (wanted in _PLAIN_FORMATS and stored in _PLAIN_FORMATS)


def volume_xml_from_options(conn, p, pool_name, clone_source):
    """The <volume> document from structured options (or the user's xml with the options applied)."""
    from lxml import etree
    if p['xml']:
        root = _xml.parse(p['xml'], 'volume XML')
        if p['name'] and _xml.find_text(root, 'name') is None:
            _xml.set_child_text(root, 'name', p['name'])
        return root
    root = etree.Element('volume')
    _xml.set_child_text(root, 'name', p['name'])
    capacity = _size(p['capacity'], 'capacity')
    backing_vol = None
    backing_path = None
    backing_format = None
    if p['backing']:
        b = p['backing']
        if b.get('path') and not (b.get('name') or b.get('key')):
            backing_path = b['path']
            backing_vol = lookup(conn.storageVolLookupByPath, backing_path)
        else:
            backing_vol = _source_volume(conn, b, pool_name)
            backing_path = backing_vol.path()
        backing_format = b.get('format')
        if backing_vol is not None and not backing_format:
            backing_format = volume_to_dict(backing_vol)['format']
    source_info = volume_to_dict(clone_source) if clone_source is not None else None
    if capacity is None:
        if source_info is not None:
            capacity = source_info['capacity']
        elif backing_vol is not None:
            capacity = backing_vol.info()[1]
        elif p['upload']:
            capacity = os.path.getsize(p['upload'])
        else:
            raise LibvirtFailure('capacity is required to create volume %s' % p['name'])
    cap = etree.SubElement(root, 'capacity', unit='bytes')
    cap.text = str(capacity)
    # libvirt allocates the whole capacity when <allocation> is left out; sparse is the useful default.
    allocation = _size(p['allocation'], 'allocation') or 0
    alloc = etree.SubElement(root, 'allocation', unit='bytes')
    alloc.text = str(allocation)
    fmt = p['format'] or (source_info['format'] if source_info else None)
    if fmt:
        target = etree.SubElement(root, 'target')
        etree.SubElement(target, 'format', type=fmt)
    if backing_path:
        store = etree.SubElement(root, 'backingStore')
        _xml.set_child_text(store, 'path', backing_path)
        if backing_format:
            etree.SubElement(store, 'format', type=backing_format)
    return root


def predicted_volume_dict(root, pool_name):
    fmt = root.find('target/format')
    capacity = root.find('capacity')
    backing = root.find('backingStore')
    cap = None
    if capacity is not None and capacity.text:
        cap = _xml.size_to_bytes(capacity.text.strip(), capacity.get('unit') or 'b')
    return dict(name=_xml.find_text(root, 'name'), key=None, path=None, pool=pool_name, type=None,
                format=fmt.get('type') if fmt is not None else None, capacity=cap, allocation=None,
                backing_store=dict(path=_xml.find_text(backing, 'path'), format=None)
                if backing is not None else None)


def _volume_params(module):
    """(parameters with the name from the document, the document or None), checked before anything changes."""
    p = module.params
    name = p['name']
    desired_doc = _xml.parse(p['xml'], 'volume XML', root='volume') if p['xml'] else None
    if desired_doc is not None:
        doc_name = _xml.find_text(desired_doc, 'name')
        if name and doc_name and doc_name != name:
            raise LibvirtFailure('name %r differs from the <name> %r in xml' % (name, doc_name))
        p = dict(p, name=name or doc_name)
    if p['upload'] and not os.path.isfile(p['upload']):
        raise LibvirtFailure('upload: %s is not a readable file' % p['upload'])
    if p['upload'] and p['checksum'] and p['state'] == 'present':
        # checked before anything is created, so a wrong file changes nothing
        actual = _stream.file_sha256(p['upload'])
        if actual != p['checksum'].lower():
            raise LibvirtFailure('upload: %s has SHA-256 %s, not the expected %s; nothing was changed'
                                 % (p['upload'], actual, p['checksum']))
    if p['download'] and not os.path.isdir(os.path.dirname(os.path.abspath(p['download']))):
        raise LibvirtFailure('download: the directory of %s does not exist' % p['download'])
    if p['download'] and os.path.isdir(p['download']):
        raise LibvirtFailure('download: %s is a directory; give a file name' % p['download'])
    capacity = _size(p['capacity'], 'capacity')
    _size(p['allocation'], 'allocation')
    upload_size = os.path.getsize(p['upload']) if p['upload'] else None
    if upload_size is not None and capacity is not None and capacity < upload_size:
        raise LibvirtFailure('capacity %s is smaller than %s (%d bytes)' % (p['capacity'], p['upload'], upload_size))
    return p, desired_doc


def run_volume(module, conn, outcome):
    """The volume module's logic; returns its values (volume, transfer, and its diff: the volume as data)."""
    check = module.check_mode
    p, desired_doc = _volume_params(module)
    warnings = []
    vol = pool_obj = None
    if p['pool'] and not (p['path'] or p['key']) and (p['state'] == 'absent' or check) \
            and find_pool(conn, p['pool']) is None:
        # No pool: deleting succeeds unchanged (teardown re-runs); check mode assumes an earlier task defines it.
        if p['state'] == 'present':
            warnings.append(assumed_parent('Storage pool', p['pool']))
    else:
        vol, pool_obj = find_volume(conn, pool=p['pool'], name=p['name'], path=p['path'], key=p['key'])
    before = volume_to_dict(vol) if vol is not None else {}
    if p['state'] == 'absent':
        wipe = [Step('wipe', lambda: vol.wipe(0), lambda: 'wipe volume %s' % vol.name())] if p['wipe'] else []
        converge(VOLUME_KIND, vol, 'absent', check, outcome, between=wipe)
        return dict(diff=dict(before=before, after={}), volume=None)
    created = vol is None
    if created:
        if not p['name'] or (pool_obj is None and not warnings):
            raise missing('volume', p['path'] or p['key'] or p['name'], 'give pool and name to create it')
        pool_name = pool_obj.name() if pool_obj is not None else p['pool']
        vol, predicted = _create_volume(conn, p, pool_name, pool_obj, check, outcome)
    else:
        predicted = _reconcile_volume(vol, p, desired_doc, before, check, outcome, warnings)
    if p['wipe']:
        outcome.perform('wipe', vol.wipe if vol is not None else None, check, 'wipe volume %s' % p['name'])
    transfer = _transfer(module, conn, vol, created, outcome, check)
    info = predicted if predicted is not None else (volume_to_dict(vol) if vol is not None else {})
    outcome.warnings.extend(warnings)
    extra = dict(transfer=transfer) if transfer else {}
    return dict(diff=dict(before=before, after=info), volume=info, **extra)


def _create_volume(conn, p, pool_name, pool_obj, check, outcome):
    """Create (or clone) the volume; (the volume, None), or in check mode (None, the predicted volume)."""
    clone_source = _source_volume(conn, p['clone_from'], pool_name) if p['clone_from'] else None
    root = volume_xml_from_options(conn, p, pool_name, clone_source)
    xml_text = _xml.to_string(root, pretty=False)
    if clone_source is not None:
        vol = outcome.perform('clone', lambda: pool_obj.createXMLFrom(xml_text, clone_source, 0), check,
                              'clone volume %s into %s' % (clone_source.name(), p['name']))
    else:
        vol = outcome.perform('create', lambda: pool_obj.createXML(xml_text, 0), check,
                              'create volume %s in pool %s' % (p['name'], pool_name))
    if not check:
        return vol, None
    predicted = predicted_volume_dict(root, pool_name)
    if clone_source is not None:
        predicted['capacity'] = predicted['capacity'] or clone_source.info()[1]
    return None, predicted


def _reconcile_volume(vol, p, desired_doc, before, check, outcome, warnings):
    """Bring an existing volume's capacity in line (a volume cannot be redefined; other differences are
    warnings); returns the predicted volume in check mode when the capacity would change, else None."""
    wanted = _size(p['capacity'], 'capacity')
    if desired_doc is not None:
        stored = _xml.parse(vol.XMLDesc(0), 'stored volume XML')
        for diff in _xml.differences(desired_doc, stored, VOLUME_RULES):
            if diff.path.startswith('/volume/capacity'):
                cap = desired_doc.find('capacity')
                wanted = _xml.size_to_bytes(cap.text.strip(), cap.get('unit') or 'b')
            else:
                warnings.append('volume %s: %s; a volume cannot be redefined, so this is left as it is'
                                % (vol.name(), diff))
    if p['format'] and before['format'] and not same_format(p['format'], before['format']):
        warnings.append('volume %s has format %s, not %s; the format of an existing volume is not '
                        'converted' % (vol.name(), before['format'], p['format']))
    current = before['capacity']
    if wanted is None or wanted == current or 0 <= current - wanted < 512:
        return None
    if wanted > current:
        outcome.perform('grow', lambda: vol.resize(wanted, 0), check, lambda: 'grow volume %s' % vol.name())
    elif p['shrink']:
        outcome.perform('shrink', lambda: vol.resize(wanted, libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK), check,
                        'shrink volume %s' % vol.name())
    else:
        warnings.append('volume %s has %d bytes, more than the %d asked for; set shrink: true to '
                        'shrink it (data beyond the new end is lost)' % (vol.name(), current, wanted))
    if check:
        return dict(before, capacity=wanted if (wanted > current or p['shrink']) else current)
    return None


def _transfer(module, conn, vol, created, outcome, check):
    p = module.params
    try:
        if p['upload']:
            return _upload(module, conn, vol, created, outcome, check)
        if p['download']:
            return _download(module, conn, vol, outcome, check)
    except (OSError, IOError) as e:
        raise LibvirtFailure('Failed to transfer %s: %s' % (p['upload'] or p['download'], e))
    return {}


def _upload(module, conn, vol, created, outcome, check):
    import hashlib
    p = module.params
    path = p['upload']
    size = os.path.getsize(path)
    expected = (p['checksum'] or '').lower() or None  # already verified against the file by run_volume
    # A volume made by this run holds nothing of the file yet: no need to read it back.
    same = False if created or vol is None else _stream.volume_matches_file(conn, vol, path)
    info = dict(direction='upload', path=path, bytes=size, sha256=expected, identical=same)
    if same:
        return info
    # (a capacity option was applied just before, or would be in check mode)
    current = max(volume_to_dict(vol)['capacity'], _size(p['capacity'], 'capacity') or 0) if vol is not None else 0
    grow = not created and vol is not None and current < size
    if grow:
        outcome.act('grow')
    outcome.act('upload')
    if not check:
        if grow:
            with call('grow volume %s' % vol.name()):
                vol.resize(size, 0)
        digest = hashlib.sha256() if p['checksum'] else None
        _stream.upload(conn, vol, path, digest)
        if digest is not None and digest.hexdigest() != expected:
            raise LibvirtFailure('upload: %s changed while it was uploaded (SHA-256 %s, expected %s)'
                                 % (path, digest.hexdigest(), expected))
        with call('refresh the pool of volume %s' % vol.name()):
            vol.storagePoolLookupByVolume().refresh(0)
    return info


def _download(module, conn, vol, outcome, check):
    import hashlib
    p = module.params
    path = p['download']
    if vol is None:  # check mode, volume not created yet
        outcome.act('download')
        return dict(direction='download', path=path, bytes=None, sha256=None, identical=False)
    size = _stream.volume_physical_size(vol)
    exists = os.path.isfile(path)
    same = exists and os.path.getsize(path) == size and _stream.volume_matches_file(conn, vol, path)
    info = dict(direction='download', path=path, bytes=size, sha256=None, identical=same)
    if same:
        if p['checksum']:
            info['sha256'] = _stream.file_sha256(path)
            if info['sha256'] != p['checksum'].lower():
                raise LibvirtFailure('download: volume %s has SHA-256 %s, not the expected %s'
                                     % (vol.name(), info['sha256'], p['checksum']))
        return info
    outcome.act('download')
    if check:
        return info
    digest = hashlib.sha256() if p['checksum'] else None
    temp = _stream.download_to_temp(conn, vol, path, digest)
    try:
        if digest is not None:
            info['sha256'] = digest.hexdigest()
            if info['sha256'] != p['checksum'].lower():
                raise LibvirtFailure('download: volume %s has SHA-256 %s, not the expected %s; %s was left '
                                     'unchanged' % (vol.name(), info['sha256'], p['checksum'], path))
        if exists:
            st = os.stat(path)
            os.chmod(temp, st.st_mode & 0o7777)
        else:
            os.chmod(temp, 0o644 & ~_umask())
        os.rename(temp, path)
        temp = None
    finally:
        if temp is not None and os.path.exists(temp):
            os.unlink(temp)
    info['bytes'] = os.path.getsize(path)
    return info


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _delete_pool_storage(pool):
    """Delete a pool's underlying storage; False when it was already gone (nothing to delete)."""
    try:
        pool.delete(libvirt.VIR_STORAGE_POOL_DELETE_NORMAL)
    except libvirt.libvirtError as error:
        if error.get_error_code() == libvirt.VIR_ERR_SYSTEM_ERROR and \
                'no such file' in (error.get_error_message() or '').lower():
            return False
        raise failure_from(error, 'delete the storage of pool %s' % pool.name())
    return True


# The storage_pool module's options (connection_argument_spec adds the connection options); the bulk module
# validates each storage_pool item against them.
POOL_OPTIONS = dict(
    name=dict(type='str'),
    uuid=dict(type='str'),
    xml=dict(type='str'),
    state=dict(type='str', default='present',
               choices=['present', 'active', 'inactive', 'absent', 'deleted']),
    build=dict(type='str', choices=['new', 'no_overwrite', 'overwrite', 'repair', 'resize']),
    autostart=dict(type='bool'),
    refresh=dict(type='bool', default=False),
)

#: Its constraints between options, as AnsibleModule takes them.
POOL_CONSTRAINTS = dict(
    required_one_of=[('name', 'uuid', 'xml')],
)


# The volume module's options (connection_argument_spec adds the connection options); the bulk module
# validates each volume item against them.
_VOLUME_REF = dict(name=dict(type='str'), pool=dict(type='str'), path=dict(type='path'),
                   key=dict(type='str', no_log=False))

VOLUME_OPTIONS = dict(
    pool=dict(type='str'),
    name=dict(type='str'),
    path=dict(type='path'),
    key=dict(type='str', no_log=False),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    capacity=dict(type='str'),
    allocation=dict(type='str'),
    format=dict(type='str'),
    backing=dict(type='dict', options=dict(_VOLUME_REF, format=dict(type='str')),
                 mutually_exclusive=[('name', 'path', 'key')],
                 required_one_of=[('name', 'path', 'key')]),
    xml=dict(type='str'),
    clone_from=dict(type='dict', options=_VOLUME_REF, mutually_exclusive=[('name', 'path', 'key')],
                    required_one_of=[('name', 'path', 'key')]),
    shrink=dict(type='bool', default=False),
    wipe=dict(type='bool', default=False),
    upload=dict(type='path'),
    download=dict(type='path'),
    checksum=dict(type='str'),
)

#: Its constraints between options, as AnsibleModule takes them.
VOLUME_CONSTRAINTS = dict(
    mutually_exclusive=[('path', 'key'), ('upload', 'download'), ('xml', 'capacity'), ('xml', 'format'),
                        ('xml', 'backing'), ('xml', 'allocation'), ('backing', 'clone_from')],
    required_one_of=[('name', 'path', 'key', 'xml')],
)
