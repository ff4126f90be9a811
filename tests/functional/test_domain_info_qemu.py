# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain_info against the real daemon (qemu:///system): a running tiny guest and a defined, never started one."""

from __future__ import annotations

import libvirt
import pytest

from conftest import QEMU_URI, unique_name
from utils.guest import tiny_guest_xml

OFF_XML = """<domain type='qemu'>
  <name>{name}</name>
  <title>{{{{ not templated }}}}</title>
  <description>defined only</description>
  <metadata><app:owner xmlns:app='https://example.com/sysvirt-test'>qa</app:owner></metadata>
  <memory unit='MiB'>64</memory>
  <vcpu current='1'>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>
    <interface type='network'><mac address='52:54:00:5e:00:01'/><source network='{name}-absent'/>
      <model type='virtio'/></interface>
    <graphics type='vnc' autoport='yes' passwd='pl4nt3d!' listen='127.0.0.1'/>
  </devices>
</domain>"""


@pytest.fixture(scope='module')
def guests(qemu_conn):
    base = unique_name('dinfo')
    made = []
    try:
        run = qemu_conn.defineXML(tiny_guest_xml(base + '-run'))
        made.append(run)
        run.create()
        made.append(qemu_conn.defineXML(OFF_XML.format(name=base + '-off')))
        yield base
    finally:
        for dom in made:
            try:
                if dom.isActive():
                    dom.destroy()
            except libvirt.libvirtError:
                pass
            try:
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM)
            except libvirt.libvirtError:
                pass


def _by_name(result):
    return dict((d['name'], d) for d in result['domains'])


def test_both_domains_as_libvirt_sees_them(module_runner, guests, qemu_conn):
    result = module_runner('domain_info', dict(uri=QEMU_URI, name=[guests + '-*']))
    assert not result.failed, result
    found = _by_name(result)
    assert sorted(found) == [guests + '-off', guests + '-run']
    run, off = found[guests + '-run'], found[guests + '-off']
    dom = qemu_conn.lookupByName(guests + '-run')
    assert (run['state'], run['state_reason']) == ('running', 'booted')
    assert run['id'] == dom.ID() and run['cpu_time_ns'] > 0
    assert run['os']['kernel'].endswith('vmlinuz') and run['os']['machine'].startswith('pc-i440fx')
    assert run['type'] == 'qemu' and run['firmware'] == 'bios'
    assert run['memory']['maximum_bytes'] == dom.maxMemory() * 1024
    assert (off['state'], off['id'], off['cpu_time_ns']) == ('shutoff', None, 0)
    assert off['persistent'] is True and off['autostart'] is False
    assert off['vcpus'] == dict(current=1, maximum=2)
    assert off['title'] == '{{ not templated }}' and off['description'] == 'defined only'
    assert '>qa<' in off['metadata']['https://example.com/sysvirt-test']
    assert off['disks'][0]['device'] == 'cdrom' and off['disks'][0]['readonly'] is True
    assert off['interfaces'][0]['mac'] == '52:54:00:5e:00:01'
    assert off['interfaces'][0]['source']['network'] == guests + '-off-absent'
    assert off['graphics'][0]['type'] == 'vnc' and off['graphics'][0]['listen'] == '127.0.0.1'
    assert 'pl4nt3d!' not in str(result)


@pytest.mark.parametrize('check_mode', [False, True])
def test_read_only_stats_and_xml(module_runner, guests, check_mode):
    result = module_runner('domain_info', dict(uri=QEMU_URI, readonly=True, name=[guests + '-run'], xml=True,
                                               stats_groups=['block']), check_mode=check_mode)
    assert not result.failed, result
    (run,) = result['domains']
    assert run['stats']['state.state'] == 1 and run['stats']['cpu.time'] > 0
    assert run['xml'].lstrip().startswith("<domain type='qemu'")


@pytest.mark.parametrize('args,suffixes', [
    (dict(state=['running']), ['-run']),
    (dict(state=['shutoff', 'paused']), ['-off']),
    (dict(autostart=True), []),
    (dict(persistent=True), ['-off', '-run']),
])
def test_filters(module_runner, guests, args, suffixes):
    result = module_runner('domain_info', dict(uri=QEMU_URI, name=[guests + '-*'], **args))
    assert sorted(_by_name(result)) == [guests + s for s in suffixes]


def test_missing_agent_is_a_warning_per_domain(module_runner, guests, monkeypatch):
    from ansible.module_utils.basic import AnsibleModule
    warned = []
    original = AnsibleModule.warn
    monkeypatch.setattr(AnsibleModule, 'warn', lambda self, msg: (warned.append(msg), original(self, msg)))
    result = module_runner('domain_info', dict(uri=QEMU_URI, name=[guests + '-run'],
                                               address_sources=['agent', 'lease'], agent_timeout=1))
    assert not result.failed, result
    (run,) = result['domains']
    assert len(run['address_errors']) == 1 and 'agent' in run['address_errors'][0]
    assert [w for w in warned if w.startswith('Failed to read agent addresses of domain %s-run' % guests)]
