# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The execution environment definition of docs/guides/execution-environment.md, as written, becomes a build context.

The definition is the guide's ```yaml block after ``<!-- file: execution-environment.yml -->``. Next to it goes the
tarball ``ansible-galaxy collection build`` makes of this work tree, and ``ansible-builder create`` (PyPI
ansible-builder, from requirements-test.txt) writes the build context. The tests check the Containerfile and the
context's ``_build`` files, then do what the image build's galaxy and builder stages would: install the collection
from the context's requirements.yml (offline) and run the context's own introspect.py on it, which must list the
collection's requirements.txt and bindep.txt entries.

The image is not built: there is no container runtime (podman or docker) on the test machines, so the base image's
packages and the compile of libvirt-python inside it are not tested (the guide says so).
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
from importlib.util import find_spec

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
GUIDE = REPO / 'docs' / 'guides' / 'execution-environment.md'
FILE_BLOCK = re.compile(r'<!-- file: (?P<name>[\w.-]+) -->\n```yaml\n(?P<text>.*?)\n```', re.S)
VERSION = yaml.safe_load((REPO / 'galaxy.yml').read_text(encoding='utf-8'))['version']
TARBALL = 'sysvirt-libvirt-%s.tar.gz' % VERSION
# What the collection hands to ansible-builder (meta/execution-environment.yml names these two files)
COLLECTION_FILES = ('requirements.txt', 'bindep.txt', 'meta/execution-environment.yml')


def _tool(name):
    """A tool installed next to this Python (the venv's bin/), else on PATH; fails when it is missing."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    path = path if os.path.exists(path) else shutil.which(name)
    assert path, '%s is not installed (it is in requirements-test.txt; run scripts/venv.sh)' % name
    return path


def _entries(path):
    """The non-comment, non-empty lines of a requirements or bindep file."""
    lines = (line.split('#', 1)[0].strip() for line in path.read_text(encoding='utf-8').splitlines())
    return [line for line in lines if line]


def _run(args, cwd, env=None):
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
    command = ' '.join(map(str, args))
    assert proc.returncode == 0, '%s failed (%d):\n%s%s' % (command, proc.returncode, proc.stdout, proc.stderr)
    return proc


def guide_definition():
    files = dict((m.group('name'), m.group('text') + '\n') for m in FILE_BLOCK.finditer(GUIDE.read_text('utf-8')))
    assert 'execution-environment.yml' in files, 'no <!-- file: execution-environment.yml --> block in %s' % GUIDE
    return files['execution-environment.yml']


@pytest.fixture(scope='module')
def context(tmp_path_factory):
    """The build context ``ansible-builder create`` makes from the guide's definition and this tree's tarball."""
    top = tmp_path_factory.mktemp('ee')
    ee = top / 'ee'
    ee.mkdir()
    (ee / 'execution-environment.yml').write_text(guide_definition(), encoding='utf-8')
    _run([_tool('ansible-galaxy'), 'collection', 'build', '--output-path', str(ee), str(REPO)], cwd=top)
    assert (ee / TARBALL).is_file(), sorted(p.name for p in ee.iterdir())
    assert find_spec('ansible_builder'), 'ansible-builder is not installed (requirements-test.txt; run scripts/venv.sh)'
    _run([sys.executable, '-m', 'ansible_builder', 'create', '--file', 'execution-environment.yml',
          '--context', str(top / 'context'), '--output-filename', 'Containerfile'], cwd=ee)
    return top / 'context'


def test_definition_is_version_3_and_names_this_build():
    definition = yaml.safe_load(guide_definition())
    assert definition['version'] == 3
    deps = definition['dependencies']
    assert deps['galaxy']['collections'] == [{'name': 'collections/' + TARBALL, 'type': 'file'}], \
        'the guide must name the tarball of galaxy.yml version %s' % VERSION
    runtime = yaml.safe_load((REPO / 'meta' / 'runtime.yml').read_text(encoding='utf-8'))
    assert deps['ansible_core']['package_pip'] == 'ansible-core' + runtime['requires_ansible']


def test_containerfile_installs_core_collection_and_dependencies(context):
    text = (context / 'Containerfile').read_text(encoding='utf-8')
    definition = yaml.safe_load(guide_definition())
    refs = '%s %s' % (definition['dependencies']['ansible_core']['package_pip'],
                      definition['dependencies']['ansible_runner']['package_pip'])
    assert 'ARG ANSIBLE_INSTALL_REFS="%s"' % refs in text
    assert 'ARG EE_BASE_IMAGE="%s"' % definition['images']['base_image']['name'] in text
    assert 'RUN $PKGMGR install $PYPKG -y' in text and 'ARG PYPKG="python3"' in text
    assert 'RUN $PYCMD -m pip install --no-cache-dir $ANSIBLE_INSTALL_REFS' in text
    # galaxy stage: the whole _build directory (with the tarball), then the collection from requirements.yml
    assert 'COPY _build /build' in text
    assert re.search(r'^RUN .*ansible-galaxy collection install .*-r requirements\.yml ', text, re.M), text
    # builder stage: the collection's and the definition's requirements, then the wheels; final stage: bindep
    assert re.search(r'^RUN \$PYCMD /output/scripts/introspect\.py introspect .*--user-bindep=bindep\.txt', text, re.M)
    assert 'RUN /output/scripts/assemble' in text
    assert 'RUN /output/scripts/install-from-bindep' in text
    assert 'RUN /output/scripts/check_ansible $PYCMD' in text


def test_build_files_carry_the_collection_and_its_requirements(context):
    build = context / '_build'
    assert yaml.safe_load((build / 'requirements.yml').read_text(encoding='utf-8')) == {
        'collections': [{'name': 'collections/' + TARBALL, 'type': 'file'}]}
    assert _entries(build / 'bindep.txt') == ['openssh-clients [platform:rpm]']
    for script in ('introspect.py', 'assemble', 'install-from-bindep', 'check_galaxy', 'check_ansible'):
        assert (build / 'scripts' / script).is_file(), script
    with tarfile.open(build / 'collections' / TARBALL) as tar:
        members = set(tar.getnames())
        assert 'MANIFEST.json' in members, sorted(members)[:20]
        for name in COLLECTION_FILES:
            assert name in members, name
            assert tar.extractfile(name).read() == (REPO / name).read_bytes(), name
    meta = yaml.safe_load((REPO / 'meta' / 'execution-environment.yml').read_text(encoding='utf-8'))
    assert meta['dependencies'] == {'python': 'requirements.txt', 'system': 'bindep.txt'}


def test_galaxy_and_builder_stages_find_every_requirement(context, tmp_path):
    """The galaxy stage's install and the builder stage's introspection, run here on the context's own files."""
    build = context / '_build'
    collections = tmp_path / 'collections'
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='False',
               ANSIBLE_GALAXY_DISABLE_GPG_VERIFY='1')
    _run([_tool('ansible-galaxy'), 'collection', 'install', '--offline', '-r', 'requirements.yml',
          '--collections-path', str(collections)], cwd=build, env=env)
    installed = collections / 'ansible_collections' / 'sysvirt' / 'libvirt'
    assert yaml.safe_load((installed / 'MANIFEST.json').read_text())['collection_info']['version'] == VERSION
    pip_out, bindep_out = tmp_path / 'requirements.txt', tmp_path / 'bindep.txt'
    _run([sys.executable, str(build / 'scripts' / 'introspect.py'), 'introspect', str(collections),
          '--user-bindep=bindep.txt', '--write-pip=%s' % pip_out, '--write-bindep=%s' % bindep_out], cwd=build)
    python = _entries(pip_out)
    system = _entries(bindep_out)
    assert python == _entries(REPO / 'requirements.txt')
    assert {p.split('>')[0] for p in python} == {'libvirt-python', 'lxml'}
    assert system == _entries(REPO / 'bindep.txt') + ['openssh-clients [platform:rpm]']
    for needed in ('libvirt-devel [compile platform:rpm]', 'libvirt-libs [platform:rpm]',
                   'gcc [compile platform:dpkg platform:rpm]', 'python3-devel [compile platform:rpm]'):
        assert needed in system
