# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/_host.py: domain capabilities as data, targets, page sizes, free pages (test driver)."""

from __future__ import annotations

import libvirt
import pytest
from lxml import etree

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _host

# A small domain capabilities document in libvirt's format, written for this test.
DOMCAPS = """<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path>
  <domain>kvm</domain>
  <machine>pc-q35-7.2</machine>
  <arch>x86_64</arch>
  <vcpu max='288'/>
  <iothreads supported='yes'/>
  <os supported='yes'>
    <enum name='firmware'><value>bios</value><value>efi</value></enum>
    <loader supported='yes'>
      <value>/usr/share/OVMF/OVMF_CODE_4M.secboot.fd</value>
      <value>/usr/share/OVMF/OVMF_CODE_4M.fd</value>
      <enum name='type'><value>rom</value><value>pflash</value></enum>
      <enum name='readonly'><value>yes</value><value>no</value></enum>
      <enum name='secure'><value>yes</value><value>no</value></enum>
    </loader>
  </os>
  <cpu>
    <mode name='host-passthrough' supported='yes'/>
    <mode name='maximum' supported='no'/>
    <mode name='host-model' supported='yes'>
      <model fallback='forbid'>EPYC-Rome</model>
      <vendor>AMD</vendor>
      <feature policy='require' name='x2apic'/>
      <feature policy='disable' name='svm'/>
    </mode>
    <mode name='custom' supported='yes'>
      <model usable='yes' vendor='AMD'>EPYC</model>
      <model usable='no' vendor='Intel'>Haswell</model>
      <model usable='yes' vendor='unknown' deprecated='yes'>qemu64</model>
    </mode>
  </cpu>
  <devices>
    <disk supported='yes'>
      <enum name='diskDevice'><value>disk</value><value>cdrom</value></enum>
      <enum name='bus'><value>sata</value><value>virtio</value></enum>
    </disk>
    <graphics supported='no'/>
    <video supported='yes'><enum name='modelType'><value>virtio</value></enum></video>
  </devices>
  <features>
    <sev supported='no'/>
    <vmcoreinfo supported='yes'/>
  </features>
</domainCapabilities>"""


def test_domain_capabilities_as_data():
    data = _host.domain_capabilities_data(etree.fromstring(DOMCAPS))
    assert (data['emulator'], data['virt_type'], data['machine'], data['arch']) == (
        '/usr/bin/qemu-system-x86_64', 'kvm', 'pc-q35-7.2', 'x86_64')
    assert data['max_vcpus'] == 288 and data['iothreads'] is True
    firmware = data['firmware']
    assert firmware['firmware'] == ['bios', 'efi']
    assert firmware['loaders'] == ['/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', '/usr/share/OVMF/OVMF_CODE_4M.fd']
    assert firmware['loader_types'] == ['rom', 'pflash'] and firmware['secure_boot'] is True
    cpu = data['cpu']
    assert cpu['modes'] == ['custom', 'host-model', 'host-passthrough']
    assert cpu['usable_models'] == ['EPYC', 'qemu64']
    assert cpu['host_model']['model'] == 'EPYC-Rome'
    assert cpu['host_model']['features'] == ['x2apic'] and cpu['host_model']['disabled_features'] == ['svm']
    models = cpu['mode_details']['custom']['models']
    assert models[2] == dict(name='qemu64', usable='yes', vendor='unknown', deprecated=True)
    assert data['device_types'] == ['disk', 'video']
    assert data['disk_buses'] == ['sata', 'virtio'] and data['disk_devices'] == ['disk', 'cdrom']
    assert data['features'] == dict(sev=dict(supported=False, enums={}), vmcoreinfo=dict(supported=True, enums={}))


@pytest.mark.parametrize('secure, expected', [("<value>no</value>", False), ("", False)])
def test_secure_boot_only_when_offered(secure, expected):
    document = DOMCAPS.replace("<value>yes</value><value>no</value></enum>\n    </loader>",
                               "%s</enum>\n    </loader>" % secure)
    assert _host.domain_capabilities_data(etree.fromstring(document))['firmware']['secure_boot'] is expected


def test_targets_are_each_arch_and_virt_type(test_conn):
    caps = _host.capabilities_data(etree.fromstring(test_conn.getCapabilities().encode()))
    targets = _host.domain_capability_targets(caps)
    expected = [(g['arch'], d['type']) for g in caps['guests'] if g['os_type'] == 'hvm' for d in g['domains']]
    assert [(t['arch'], t['virt_type']) for t in targets] == list(dict.fromkeys(expected))
    assert all(t['machine'] is None for t in targets)


def test_page_sizes_from_capabilities():
    caps = etree.fromstring("<capabilities><host><cpu><pages unit='KiB' size='4'/><pages unit='KiB' size='2048'/>"
                            "</cpu><topology><cells num='1'><cell id='0'><pages unit='KiB' size='1048576'>0</pages>"
                            "</cell></cells></topology></host></capabilities>")
    assert _host.page_sizes(caps) == [4, 2048, 1048576]
    assert _host.page_sizes(etree.fromstring('<capabilities><host/></capabilities>')) == []


def test_free_pages_match_libvirt(test_conn):
    caps = etree.fromstring(test_conn.getCapabilities().encode())
    cells = [int(c.get('id')) for c in caps.findall('host/topology/cells/cell')]
    result = _host.free_pages(test_conn, caps, set(cells))
    sizes = _host.page_sizes(caps)
    assert sizes, 'the test driver describes page sizes'
    raw = test_conn.getFreePages(sizes, min(cells), max(cells) - min(cells) + 1, 0)
    assert result == [dict(cell=cell, pages=[dict(size_kib=s, free=n) for s, n in sorted(raw[cell].items())])
                      for cell in sorted(raw)]


def _error(code, domain):
    error = libvirt.libvirtError('Library function returned error but did not set virError')
    error.err = (code, domain, 'Library function returned error but did not set virError', 2, None, None, None, 0, 0)
    return error


class _FailingPages:
    """A connection whose getFreePages fails as given."""

    def __init__(self, error):
        self.error = error

    def getFreePages(self, *args):
        raise self.error


_CAPS = "<capabilities><host><cpu><pages unit='KiB' size='4'/></cpu></host></capabilities>"


@pytest.mark.parametrize('code,domain,driver,unsupported', [
    ('VIR_ERR_NO_SUPPORT', 'VIR_FROM_NONE', 'QEMU', True),
    ('VIR_ERR_OPERATION_UNSUPPORTED', 'VIR_FROM_QEMU', 'QEMU', True),
    # the remote test driver's answer (test+unix://): it has no free pages to give
    ('VIR_ERR_INTERNAL_ERROR', 'VIR_FROM_RPC', 'TEST', True),
    # the same answer from a real driver is a failure
    ('VIR_ERR_INTERNAL_ERROR', 'VIR_FROM_RPC', 'QEMU', False),
    ('VIR_ERR_INTERNAL_ERROR', 'VIR_FROM_TEST', 'TEST', False),
    ('VIR_ERR_SYSTEM_ERROR', 'VIR_FROM_RPC', 'TEST', False),
])
def test_free_pages_not_supported_or_failed(code, domain, driver, unsupported):
    conn = _FailingPages(_error(getattr(libvirt, code), getattr(libvirt, domain)))
    caps = etree.fromstring(_CAPS)
    if unsupported:
        assert _host.free_pages(conn, caps, set(), driver) is None
    else:
        with pytest.raises(_host.LibvirtFailure) as info:
            _host.free_pages(conn, caps, set(), driver)
        assert info.value.msg.startswith('Failed to read the free pages: ')
