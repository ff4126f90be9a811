# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sysvirt.libvirt.bulk on qemu:///system: 50 guests with a network, a pool and a volume each, in one task.

The guests are tiny no-OS TCG guests (type='qemu', 32 MiB, no firmware to boot: SeaBIOS finds no bootable disk
and waits), each with its volume as a disk and a NIC on the test's isolated network (no <forward>), so a guest
starts only once the network runs and its volume exists: the order of the bulk task is tested for real. Every
step runs check -> real -> check -> real and is verified over the test's own connection. Everything is named
sysvirt-test-bulk-* and removed in the fixture, also on failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from conftest import QEMU_URI, run_module, unique_name
from utils import leftovers

COUNT = 50
GUEST = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='raw'/>
      <source pool='{pool}' volume='{volume}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'><source network='{network}'/><model type='virtio'/></interface>
    <memballoon model='none'/>
  </devices>
</domain>"""


def _remove_all(conn, prefix, folder):
    for kind, name, obj in leftovers.find(conn):  # domains first, then networks and pools
        if name.startswith(prefix):
            leftovers.remove(kind, obj)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def lab(qemu_conn):
    prefix = unique_name('bulk') + '-'
    folder = tempfile.mkdtemp(prefix='sysvirt-test-bulk-')
    os.chmod(folder, 0o755)
    try:
        yield dict(prefix=prefix, network=prefix + 'net', pool=prefix + 'pool', path=os.path.join(folder, 'pool'),
                   bridge='svbk' + prefix[-9:-1])
    finally:
        _remove_all(qemu_conn, prefix, folder)


def four_runs(args, count_changed):
    """check (changed) -> real (changed) -> check (unchanged) -> real (unchanged); the real first run."""
    args = dict(args, uri=QEMU_URI)
    results = [run_module('bulk', args, check_mode=check, diff=check) for check in (True, False, True, False)]
    for result in results:
        assert not result.failed, result.get('msg')
    assert [r['changed'] for r in results] == [True, True, False, False]
    assert results[0]['actions'] == results[1]['actions']
    assert [sum(1 for e in r['objects'] if e['changed']) for r in results] == [count_changed] * 2 + [0, 0]
    return results[1]


def items(lab, state, volume_state='present', pool_state='active', network_state='active'):
    guests = ['%sg%02d' % (lab['prefix'], i) for i in range(COUNT)]
    return dict(
        networks=[dict(xml="<network><name>%s</name><bridge name='%s'/><ip address='198.51.100.1' prefix='24'/>"
                           "</network>" % (lab['network'], lab['bridge']), state=network_state)],
        storage_pools=[dict(xml="<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
                                % (lab['pool'], lab['path']), build='new', state=pool_state)],
        volumes=[dict(name=name + '.img', state=volume_state) for name in guests],
        domains=[dict(xml=GUEST.format(name=name, pool=lab['pool'], volume=name + '.img', network=lab['network']))
                 for name in guests],
        defaults=dict(volume=dict(pool=lab['pool'], capacity='1M', format='raw'), domain=dict(state=state)),
        workers=8,
    )


def _domains(conn, prefix):
    return [d for d in conn.listAllDomains() if d.name().startswith(prefix)]


def test_fifty_guests_with_their_network_pool_and_volumes(qemu_conn, lab):
    prefix = lab['prefix']
    result = four_runs(items(lab, 'running'), 2 + 2 * COUNT)
    kinds = [entry['kind'] for entry in result['objects']]
    assert kinds == ['network', 'storage_pool'] + ['volume'] * COUNT + ['domain'] * COUNT
    assert result['actions'][:2] == ['network %s: define' % lab['network'], 'network %s: start' % lab['network']]
    assert 'storage_pool %s: build' % lab['pool'] in result['actions']
    running = _domains(qemu_conn, prefix)
    assert len(running) == COUNT and all(d.isActive() for d in running)
    assert qemu_conn.networkLookupByName(lab['network']).isActive()
    assert len(qemu_conn.storagePoolLookupByName(lab['pool']).listAllVolumes()) == COUNT

    result = four_runs(dict(domains=[d.name() for d in running], defaults=dict(domain=dict(state='destroyed'))),
                       COUNT)
    assert all(e['actions'] == ['destroy'] for e in result['objects'])
    assert not any(d.isActive() for d in _domains(qemu_conn, prefix))

    # everything removed in one task: guests, then volumes, then the pool (its directory) and the network
    result = four_runs(items(lab, 'absent', volume_state='absent', pool_state='deleted', network_state='absent'),
                       2 + 2 * COUNT)
    kinds = [entry['kind'] for entry in result['objects']]
    assert kinds == ['domain'] * COUNT + ['volume'] * COUNT + ['network', 'storage_pool']
    assert not _domains(qemu_conn, prefix)
    assert not [p for p in qemu_conn.listAllStoragePools() if p.name().startswith(prefix)]
    assert not [n for n in qemu_conn.listAllNetworks() if n.name().startswith(prefix)]
    assert not os.path.exists(lab['path'])


def test_a_guest_that_fails_in_the_middle(qemu_conn, lab):
    prefix = lab['prefix']
    args = items(lab, 'running')
    args['domains'] = args['domains'][:5]
    args['volumes'] = args['volumes'][:5]
    # the third guest's NIC names a network that does not exist: it is defined, then its start fails
    missing = prefix + 'nonet'
    args['domains'][2]['xml'] = args['domains'][2]['xml'].replace(lab['network'], missing)
    result = run_module('bulk', dict(args, uri=QEMU_URI))
    assert result.failed
    bad = result['objects'][2 + 5 + 2]
    assert bad['name'] == prefix + 'g02' and bad['failed'] is True
    assert bad['changed'] is True and bad['actions'] == ['define'], bad
    assert missing in bad['msg'] and bad['error']['code_name'] == 'VIR_ERR_NO_NETWORK'
    assert result['msg'].startswith('1 of 12 items failed (12 changed something): domain %sg02: ' % prefix)
    assert 'domain %sg02: define' % prefix in result['actions']
    assert 'domain %sg02: start' % prefix not in result['actions']
    states = {d.name(): bool(d.isActive()) for d in _domains(qemu_conn, prefix)}
    assert states == {'%sg%02d' % (prefix, i): i != 2 for i in range(5)}
    # a re-run changes nothing on the others and fails the same way on the third
    again = run_module('bulk', dict(args, uri=QEMU_URI))
    assert again.failed and [e['name'] for e in again['objects'] if e['changed']] == []
