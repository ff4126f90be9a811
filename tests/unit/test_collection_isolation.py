# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The test command tests the work tree and nothing else: with a different build of sysvirt.libvirt installed
where users install collections (~/.ansible/collections of a temporary HOME, and an ansible_collections directory
on the Python path, as site-packages would hold it), the tools run with the scripts' environment
(scripts/_common.sh sysvirt_env, from scripts/venv.sh) see only the work tree's copy: ansible-config,
ansible-galaxy, ansible-doc, a module run, and molecule with the scenarios' base config; and nothing writes to the
user's copy."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WORK_TREE = str(ROOT / '.build' / 'collections')
STALE = 'the stale copy of sysvirt.libvirt ran'

STALE_MODULE = '''#!/usr/bin/python
DOCUMENTATION = """
module: host_facts
short_description: A stale copy of sysvirt.libvirt
description: [Installed by the user; the tests must never load it.]
author: [sysvirt.libvirt tests]
options:
  uri: {type: str, description: [Ignored.]}
"""
from ansible.module_utils.basic import AnsibleModule

if __name__ == '__main__':
    AnsibleModule(argument_spec=dict(uri=dict())).fail_json(msg=%r)
''' % STALE


def _stale_collection(root):
    path = root / 'ansible_collections' / 'sysvirt' / 'libvirt'
    (path / 'plugins' / 'modules').mkdir(parents=True)
    (path / 'plugins' / 'modules' / 'host_facts.py').write_text(STALE_MODULE)
    (path / 'MANIFEST.json').write_text(json.dumps({'collection_info': {
        'namespace': 'sysvirt', 'name': 'libvirt', 'version': '0.0.1', 'dependencies': {}}}))
    return path


def _snapshot(path):
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob('*')) if p.is_file()}


@pytest.fixture(scope='module')
def stale(tmp_path_factory):
    """Stale copies in HOME and on PYTHONPATH, and run(argv) with the scripts' environment and that HOME."""
    if not os.path.isfile(os.path.join(sys.prefix, '.sysvirt-requirements.sha256')):
        pytest.fail('run the tests in the venv of scripts/venv.sh (%s was not made by it)' % sys.prefix, pytrace=False)
    tmp = tmp_path_factory.mktemp('isolation')
    home_copy = _stale_collection(tmp / 'home' / '.ansible' / 'collections')
    site_copy = _stale_collection(tmp / 'site')
    before = {home_copy: _snapshot(home_copy), site_copy: _snapshot(site_copy)}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('ANSIBLE_COLLECTIONS_', 'MOLECULE_')) and k not in ('ANSIBLE_CONFIG', 'VIRTUAL_ENV')}
    env.update(HOME=str(tmp / 'home'), PYTHONPATH=str(tmp / 'site'), SYSVIRT_VENV=sys.prefix,
               ANSIBLE_NOCOLOR='1', NO_COLOR='1', ANSIBLE_LOCALHOST_WARNING='False',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='False', PYTHONWARNINGS='ignore')

    def run(argv, cwd=ROOT, timeout=300):
        script = '. "$1/scripts/_common.sh" && sysvirt_env && shift && exec "$@"'
        proc = subprocess.run(['bash', '-c', script, 'sysvirt_env', str(ROOT)] + list(argv), cwd=str(cwd), env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)
        output = proc.stdout + proc.stderr
        assert STALE not in output and 'stale copy' not in output, output
        assert 'Another version' not in output, output
        return proc

    yield run, tmp
    for path, files in before.items():
        assert _snapshot(path) == files, 'the test command changed the copy in %s' % path


def test_ansible_is_configured_with_the_work_tree_only(stale):
    run = stale[0]
    proc = run(['ansible-config', 'dump', '-t', 'base', '--format', 'json'])
    settings = {s['name']: s['value'] for s in json.loads(proc.stdout) if 'name' in s}
    assert settings['COLLECTIONS_PATHS'] == [WORK_TREE]
    assert settings['COLLECTIONS_SCAN_SYS_PATH'] is False


def test_galaxy_lists_only_the_work_tree(stale):
    run = stale[0]
    proc = run(['ansible-galaxy', 'collection', 'list', 'sysvirt.libvirt', '--format', 'json'])
    assert proc.returncode == 0, proc.stderr
    found = {path: collections for path, collections in json.loads(proc.stdout).items()
             if 'sysvirt.libvirt' in collections}
    assert list(found) == [os.path.join(WORK_TREE, 'ansible_collections')]


def test_doc_and_module_come_from_the_work_tree(stale):
    run = stale[0]
    doc = run(['ansible-doc', '-t', 'module', 'sysvirt.libvirt.host_facts'])
    assert doc.returncode == 0 and os.path.join(WORK_TREE, 'ansible_collections', 'sysvirt', 'libvirt') in doc.stdout
    proc = run(['ansible', 'localhost', '-m', 'sysvirt.libvirt.host_facts', '-a', 'uri=test:///default'])
    assert proc.returncode == 0 and '"libvirt":' in proc.stdout, proc.stdout + proc.stderr


def test_molecule_uses_the_work_tree_and_leaves_home_alone(stale):
    run, tmp = stale
    scenario = tmp / 'project' / 'molecule' / 'default'
    scenario.mkdir(parents=True)
    (scenario / 'molecule.yml').write_text('''---
driver: {name: default, options: {managed: false}}
platforms: [{name: isolation-localhost}]
provisioner:
  name: ansible
  inventory:
    host_vars:
      isolation-localhost: {ansible_connection: local, ansible_python_interpreter: "{{ ansible_playbook_python }}"}
  playbooks: {converge: converge.yml}
''')
    (scenario / 'converge.yml').write_text('''---
- name: Converge
  hosts: all
  gather_facts: false
  tasks:
    - name: A module of the collection
      sysvirt.libvirt.host_facts:
        uri: test:///default
''')
    proc = run(['molecule', '--base-config', str(ROOT / '.config' / 'molecule' / 'config.yml'), 'converge'],
               cwd=tmp / 'project')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'ok=1' in proc.stdout + proc.stderr
    assert not (tmp / 'home' / '.ansible' / 'collections' / 'ansible_collections' / 'sysvirt' / 'libvirt'
                / 'FILES.json').exists(), 'molecule installed a build of the collection into HOME'
