# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The cloud-init NoCloud seed of the domain module's ``spec.cloud_init``: rendered, compared, built, uploaded.

Private to this collection: the names here may change without notice.

How a re-run knows the seed is already there
--------------------------------------------
The seed's files (user-data, meta-data, network-config, vendor-data) are rendered in Python, and the SHA-256 of
their text (``content_hash``) is written into the domain's definition as a ``<metadata>`` element
(``record_element``), next to the pool and volume it went into. A run compares the hash of what it would build
with the one the stored definition records, and uploads only when they differ or the volume is missing:

* check mode predicts exactly what the real run does, without building an ISO or reading the volume;
* the record holds a hash, never the text, so the domain XML, ``--diff`` and ``differences`` show that the seed
  changed (two hashes), not what it says (user-data often holds passwords and keys);
* the hash is of the files' text, not of the ISO's bytes, so a different xorriso version on the host does not
  count as a change.

The ISO is built only when it is to be uploaded, with xorriso, deterministically (fixed dates), label ``cidata``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os
import shutil
import tempfile

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call, lookup

try:
    import libvirt
except ImportError:  # reported by _connection.require_libraries
    libvirt = None

try:
    from lxml import etree
except ImportError:  # reported by _connection.require_libraries
    etree = None

#: The namespace of the seed's record in the domain's <metadata>.
NAMESPACE = 'https://sysvirt.dev/xmlns/libvirt/cloud-init-seed/1'
PREFIX = 'sysvirt-seed'
#: Changes when the rendering changes, so that a new rendering is a new seed.
FORMAT_VERSION = 1
_ISO_DATE = '1'  # SOURCE_DATE_EPOCH: every file and volume date of the ISO, so the same files give the same bytes


def render_document(value, header=None):
    """A seed file's text: a string as given; a dict as JSON (which YAML, and so cloud-init, reads), sorted,
    after ``header`` (``#cloud-config``) when given. None stays None (no such file)."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dict):
        raise LibvirtFailure('cloud_init: a document must be a string or a dict, not %s' % type(value).__name__)
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True) + '\n'
    return '%s\n%s' % (header, text) if header else text


def seed_files(cloud_init, name):
    """{file name: text} of the seed: meta-data and user-data always, network-config and vendor-data when set."""
    meta = cloud_init.get('meta_data')
    identity = dict((key, cloud_init[option]) for key, option in (('instance-id', 'instance_id'),
                                                                  ('local-hostname', 'hostname'))
                    if cloud_init.get(option))
    if isinstance(meta, str):
        if identity:
            raise LibvirtFailure('cloud_init: instance_id and hostname go into meta_data; with meta_data given as '
                                 'text, write them in it')
    else:
        merged = {'instance-id': name, 'local-hostname': name}
        merged.update(identity)
        merged.update(meta or {})
        meta = merged
    files = {'meta-data': render_document(meta),
             'user-data': render_document(cloud_init.get('user_data'), '#cloud-config')}
    if files['user-data'] is None:
        files['user-data'] = '#cloud-config\n'
    for key, option in (('network-config', 'network_config'), ('vendor-data', 'vendor_data')):
        text = render_document(cloud_init.get(option), '#cloud-config' if option == 'vendor_data' else None)
        if text is not None:
            files[key] = text
    return files


def content_hash(files):
    """SHA-256 (hex) of the seed's files and the rendering's version."""
    canonical = json.dumps(dict(version=FORMAT_VERSION, files=files), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(canonical.encode('utf-8')).hexdigest()


def record_element(sha256, pool, volume):
    """The <metadata> child that records which seed the domain has."""
    return etree.Element('{%s}seed' % NAMESPACE, dict(sha256=sha256, pool=pool, volume=volume),
                         nsmap={PREFIX: NAMESPACE})


def stored_record(domain_root):
    """{sha256, pool, volume} the definition records, or None."""
    if domain_root is None:
        return None
    found = domain_root.find('metadata/{%s}seed' % NAMESPACE)
    if found is None:
        return None
    return dict(sha256=found.get('sha256'), pool=found.get('pool'), volume=found.get('volume'))


def seed_volume(conn, domain_root):
    """The volume of the seed the definition records (removed with the domain), or None."""
    record = stored_record(domain_root)
    if record is None or not (record['pool'] and record['volume']):
        return None
    pool = lookup(conn.storagePoolLookupByName, record['pool'])
    if pool is None or not pool.isActive():
        return None
    return lookup(pool.storageVolLookupByName, record['volume'])


def needs_upload(record, sha256, pool, volume, volume_exists):
    """Whether the seed must be (re)written: no volume, no record, or a record of other content or another
    volume."""
    if not volume_exists or record is None:
        return True
    return (record.get('sha256'), record.get('pool'), record.get('volume')) != (sha256, pool, volume)


def default_pool(spec):
    """The seed's pool when not given: the first disk's pool, else V(default)."""
    return next((d['pool'] for d in spec.get('disks') or () if d.get('pool')), None) or 'default'


# --- building ----------------------------------------------------------------------------------------------

def xorriso_command(directory, output, names):
    return ['xorriso', '-as', 'mkisofs', '-quiet', '-output', output, '-volid', 'cidata', '-joliet',
            '-rational-rock', '--set_all_file_dates', '=' + _ISO_DATE] + [os.path.join(directory, n) for n in names]


def build_iso(files, directory, run_command):
    """Write the files into ``directory`` (mode 0600) and build ``seed.iso`` there with ``run_command`` (the
    module's, ``AnsibleModule.run_command``); return its path."""
    if shutil.which('xorriso') is None:
        raise LibvirtFailure('cloud_init: xorriso is not installed on the host that runs the module; it builds '
                             'the NoCloud seed ISO',
                             hint='Install xorriso there (apt-get install xorriso, dnf install xorriso), '
                                  'for example with ansible.builtin.package before this task')
    names = sorted(files)
    for fname in names:  # in a directory of mode 0700 (mkdtemp); each file 0600 before it holds anything
        with open(os.path.join(directory, fname), 'x', encoding='utf-8') as handle:
            os.chmod(handle.name, 0o600)
            handle.write(files[fname])
    output = os.path.join(directory, 'seed.iso')
    rc, out, err = run_command(xorriso_command(directory, output, names),
                               environ_update=dict(SOURCE_DATE_EPOCH=_ISO_DATE), check_rc=False)
    if rc != 0:
        raise LibvirtFailure('cloud_init: xorriso failed to build the seed ISO (exit %d): %s'
                             % (rc, (err or out).strip()[-500:]))
    return output


def _volume_xml(name, size):
    root = etree.Element('volume')
    etree.SubElement(root, 'name').text = name
    etree.SubElement(root, 'capacity', unit='bytes').text = str(size)
    etree.SubElement(root, 'allocation', unit='bytes').text = '0'
    target = etree.SubElement(root, 'target')
    etree.SubElement(target, 'format', type='raw')
    return etree.tostring(root, encoding='unicode')


def write_volume(conn, pool, name, path):
    """The ISO at ``path`` into volume ``name`` of ``pool`` (created, or resized to the ISO's size), through the
    collection's one upload stream."""
    from ansible_collections.sysvirt.libvirt.plugins.module_utils import _stream
    size = os.path.getsize(path)
    vol = lookup(pool.storageVolLookupByName, name)
    if vol is None:
        with call('create volume %s for the cloud-init seed' % name):
            vol = pool.createXML(_volume_xml(name, size), 0)
    else:
        capacity = vol.info()[1]
        if capacity != size:
            flags = libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK if size < capacity else 0
            with call('resize volume %s to the new cloud-init seed' % name):
                vol.resize(size, flags)
    _stream.upload(conn, vol, path)
    with call('refresh the pool of volume %s' % name):
        pool.refresh(0)
    return vol


class SeedUpload:
    """The seed to build and write before the definition (one step of the domain module's run)."""

    def __init__(self, conn, files, pool_name, volume, run_command, pool=None):
        self.conn = conn
        self.run_command = run_command
        self.files = files
        self.pool_name = pool_name
        self.volume = volume
        self.pool = pool  # the pool the plan already looked up, or None to look it up here

    @property
    def action(self):
        return 'write cloud-init seed volume %s in pool %s' % (self.volume, self.pool_name)

    def create(self):
        pool = self.pool if self.pool is not None else lookup(self.conn.storagePoolLookupByName, self.pool_name)
        if pool is None:
            raise LibvirtFailure('cloud_init: storage pool %s does not exist' % self.pool_name)
        directory = tempfile.mkdtemp(prefix='sysvirt-seed-')
        try:
            return write_volume(self.conn, pool, self.volume, build_iso(self.files, directory, self.run_command))
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def plan(conn, spec, name, check, warnings, run_command):
    """(the seed's CD-ROM disk option, the record element, [SeedUpload] or []) for ``spec.cloud_init``.

    Reads the stored definition's record and whether the volume exists; builds nothing."""
    cloud_init = spec['cloud_init']
    files = seed_files(cloud_init, name)
    sha256 = content_hash(files)
    pool_name = cloud_init.get('pool') or default_pool(spec)
    volume = cloud_init.get('volume') or '%s-seed.iso' % name
    pool = lookup(conn.storagePoolLookupByName, pool_name)
    if pool is None:
        message = 'cloud_init: storage pool %s does not exist' % pool_name
        if not check:
            raise LibvirtFailure(message, hint='Create it first (sysvirt.libvirt.storage_pool), or set cloud_init.pool')
        warnings.append('%s; check mode predicts this task as if an earlier task of the play had created it' % message)
    exists = pool is not None and lookup(pool.storageVolLookupByName, volume) is not None
    dom = lookup(conn.lookupByName, name)
    record = None
    if dom is not None:  # a transient domain's record is in its live definition
        from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if dom.isPersistent() else 0
        with call('read the definition of domain %s' % name):
            record = stored_record(_xml.parse(dom.XMLDesc(flags), 'stored domain XML'))
    disk = dict(device='cdrom', pool=pool_name, volume=volume, format='raw', bus=cloud_init.get('bus'))
    upload = needs_upload(record, sha256, pool_name, volume, exists)
    steps = [SeedUpload(conn, files, pool_name, volume, run_command, pool=pool)] if upload else []
    return disk, record_element(sha256, pool_name, volume), steps
