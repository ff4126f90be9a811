# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The guest role's options (roles/guest/vars/main.yml, _guest_spec) against the XML template of 0.1.0.

A guest defined from the role's old template (kept in files/guest-role-0.1.0-domain.xml.j2) must be left
unchanged by the options the role now gives the domain module, but for the cloud-init seed the module now writes and
records in <metadata> (check mode and the real run both write the seed and change only <metadata>; a second run
changes nothing), for the role's kinds of guest (the defaults on KVM, UEFI on q35, a direct kernel boot with the seed on
SCSI and a user-mode NIC with a forward, a CPU mode and a network).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import libvirt
import pytest

from conftest import unique_name
from day2_guest import dir_pool, make_image
from utils.guest import GUEST_INITRD, GUEST_KERNEL
from utils.rulebook import tool

HERE = os.path.dirname(os.path.abspath(__file__))
ROLE_VARS = os.path.join(HERE, '..', '..', 'roles', 'guest', 'vars', 'main.yml')
OLD_TEMPLATE = os.path.join(HERE, 'files', 'guest-role-0.1.0-domain.xml.j2')

PLAYBOOK = """
- name: The role's old template, then its options
  hosts: localhost
  gather_facts: false
  vars_files: [%(vars)s]
  tasks:
    - name: Define the guest from the 0.1.0 template
      sysvirt.libvirt.domain:
        uri: qemu:///system
        xml: "{{ lookup('ansible.builtin.template', '%(template)s') }}"
      register: old

    - name: The role's options, in check mode
      sysvirt.libvirt.domain:
        uri: qemu:///system
        name: "{{ guest.name }}"
        spec: "{{ _guest_spec }}"
      check_mode: true
      register: predicted

    - name: The role's options
      sysvirt.libvirt.domain:
        uri: qemu:///system
        name: "{{ guest.name }}"
        spec: "{{ _guest_spec }}"
      register: new

    - name: The role's options again
      sysvirt.libvirt.domain:
        uri: qemu:///system
        name: "{{ guest.name }}"
        spec: "{{ _guest_spec }}"
      register: again

    - name: Only the seed and its record changed, once
      vars:
        seed_actions: ['write cloud-init seed volume {{ guest.name }}-seed.iso in pool {{ guest.pool }}', redefine]
      ansible.builtin.assert:
        that:
          - old.changed
          - predicted.actions == seed_actions
          - new.actions == seed_actions
          - predicted.differences | map(attribute='path') | reject('search', '^/domain/metadata') | list == []
          - new.differences | map(attribute='path') | reject('search', '^/domain/metadata') | list == []
          - not again.changed
        fail_msg: "{{ predicted.actions }} {{ predicted.differences }} {{ new.differences }}"
"""

BASE = dict(domain_type='qemu', arch='x86_64', machine='', memory_mib=128, vcpus=1, uefi=False, kernel='',
            initrd='', cmdline='', cpu_mode='', seed_bus='sata', networks=[], user_network={}, hostname='',
            user_data={}, meta_data={}, network_config={}, ssh_authorized_keys=[])

CASES = [
    ('defaults-kvm', dict(domain_type='kvm', vcpus=2, memory_mib=512)),
    ('uefi-q35', dict(uefi=True, machine='q35')),
    ('kernel-scsi-user-nic', dict(machine='pc', kernel=GUEST_KERNEL, initrd=GUEST_INITRD, cmdline='console=ttyS0',
                                  seed_bus='scsi', user_network=dict(forwards=[dict(host_port=22022, guest_port=22)]))),
    ('cpu-mode-network', dict(cpu_mode='host-model', networks=['{net}'])),
]


@pytest.fixture(scope='module')
def pool(qemu_conn):
    with dir_pool(qemu_conn, 'rolepool') as made:
        yield made


@pytest.fixture(scope='module')
def network(qemu_conn):
    name = unique_name('rolenet')
    net = qemu_conn.networkDefineXML('<network><name>%s</name></network>' % name)
    yield name
    net.undefine()


@pytest.mark.parametrize('case', CASES, ids=[c[0] for c in CASES])
def test_role_options_keep_a_guest_of_the_old_template(tmp_path, qemu_conn, pool, network, case):
    label, settings = case
    name = unique_name('role-' + label)
    make_image(os.path.join(pool[1], name + '.qcow2'), 'qcow2', '16M')
    make_image(os.path.join(pool[1], name + '-seed.iso'), 'raw', '1M')
    pool[2].refresh()
    guest = dict(BASE, name=name, pool=pool[0], **settings)
    guest['networks'] = [n.format(net=network) for n in guest['networks']]
    (tmp_path / 'play.yml').write_text(PLAYBOOK % dict(vars=ROLE_VARS, template=OLD_TEMPLATE))
    try:
        proc = subprocess.run([tool('ansible-playbook'), '-i', 'localhost,', '-c', 'local', 'play.yml', '-e',
                               json.dumps(dict(guest=guest))], cwd=str(tmp_path), capture_output=True, text=True,
                              timeout=300, check=False,
                              env=dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=shutil.which('python') or 'python3'))
        assert proc.returncode == 0, proc.stdout + proc.stderr
    finally:
        try:
            dom = qemu_conn.lookupByName(name)
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        except libvirt.libvirtError:
            pass
