# Copyright: sysvirt developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The changelog follows antsibull-changelog's rules, checked with antsibull-changelog itself.

- ``antsibull-changelog lint`` finds nothing in changelogs/;
- fragments never announce a new module, plugin or role in prose: new modules and plugins come into the changelog
  from their ``version_added``, new roles from an ``add object.role`` section (antsibull-changelog cannot find
  roles by itself), whose description is the role's short_description;
- fragments describe changes to released behaviour only: before the first release (no release in
  changelogs/changelog.yaml) there is no released behaviour, so a fragment may only hold the release summary,
  ``add object``/``add plugin`` sections and trivial notes;
- a release made now, in a copy of the collection (``antsibull-changelog release``), lists exactly the modules,
  plugins and roles that are new in galaxy.yml's version, and has a release summary.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import pytest
import yaml

from utils.argspec import MODULES

REPO = pathlib.Path(__file__).resolve().parents[2]
CHANGELOGS = REPO / 'changelogs'
FRAGMENTS = sorted(p for p in (CHANGELOGS / 'fragments').iterdir() if p.suffix in ('.yml', '.yaml'))
VERSION = yaml.safe_load((REPO / 'galaxy.yml').read_text(encoding='utf-8'))['version']
ROLES = sorted(p.parent.parent.name for p in REPO.glob('roles/*/meta/argument_specs.yml'))
INVENTORIES = sorted(p.stem for p in (REPO / 'plugins' / 'inventory').glob('*.py') if not p.name.startswith('_'))
# Announcing a new object in prose: "new module", "new role", "new ... plugin", "new inventory".
NEW_OBJECT = re.compile(r'\bnew\s+(module|role|inventory|(\w+\s+)?plugin)s?\b', re.I)
BEFORE_FIRST_RELEASE = re.compile(r'^(release_summary|trivial|add (object|plugin)\.\w+)$')


def _tool(name):
    """A tool installed next to this Python (the venv's bin/), else on PATH; fails when it is missing."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    path = path if os.path.exists(path) else shutil.which(name)
    assert path, '%s is not installed (it is in requirements-test.txt; run scripts/venv.sh)' % name
    return path


def _load(path):
    return yaml.safe_load(path.read_text(encoding='utf-8')) or {}


def _releases():
    path = CHANGELOGS / 'changelog.yaml'
    return (_load(path).get('releases') or {}) if path.exists() else {}


def _version_added(kind, name):
    code = importlib.import_module('ansible_collections.sysvirt.libvirt.plugins.%s.%s' % (kind, name))
    return str(yaml.safe_load(code.DOCUMENTATION).get('version_added', ''))


def _short_description(role):
    specs = _load(REPO / 'roles' / role / 'meta' / 'argument_specs.yml')['argument_specs']
    return specs['main']['short_description']


def test_antsibull_changelog_lint():
    proc = subprocess.run([_tool('antsibull-changelog'), 'lint'], cwd=str(REPO), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_fragments_exist():
    assert FRAGMENTS, 'changelogs/fragments/ holds no fragment'


@pytest.mark.parametrize('path', FRAGMENTS, ids=lambda p: p.name)
def test_fragment_announces_nothing_new_in_prose(path):
    for section, entries in _load(path).items():
        if section.startswith('add '):
            continue
        for entry in entries if isinstance(entries, list) else [entries]:
            assert not NEW_OBJECT.search(str(entry)), (
                '%s, %s: %r announces a new module, plugin or role; modules and plugins come from version_added, '
                'roles from an "add object.role" section' % (path.name, section, entry))


@pytest.mark.parametrize('path', FRAGMENTS, ids=lambda p: p.name)
def test_fragment_changes_released_behaviour_only(path):
    sections = set(_load(path))
    if _releases():
        config = _load(CHANGELOGS / 'config.yaml')
        known = {name for name, _title in config['sections']} | {config['prelude_section_name'], 'trivial'}
        unknown = {s for s in sections if s not in known and not s.startswith('add ')}
        assert not unknown, '%s: sections %s are not in changelogs/config.yaml' % (path.name, sorted(unknown))
    else:
        changes = sorted(s for s in sections if not BEFORE_FIRST_RELEASE.match(s))
        assert not changes, (
            '%s: %s describe changes, but nothing has been released yet (no release in changelogs/changelog.yaml): '
            'there is no released behaviour to change before %s' % (path.name, changes, VERSION))


def test_every_role_is_announced_with_its_short_description():
    announced = {}
    for path in FRAGMENTS:
        for entry in _load(path).get('add object.role') or []:
            announced[entry['name']] = entry['description']
    for release in _releases().values():
        for entry in (release.get('objects') or {}).get('role') or []:
            announced[entry['name']] = entry['description']
    assert sorted(announced) == ROLES, 'roles announced %s, roles in roles/ %s' % (sorted(announced), ROLES)
    for role in ROLES:
        assert announced[role].rstrip('.') == _short_description(role).rstrip('.'), role


@pytest.mark.parametrize('kind, name', [('modules', m) for m in MODULES] + [('inventory', i) for i in INVENTORIES])
def test_version_added(kind, name):
    added = _version_added(kind, name)
    assert re.match(r'^\d+\.\d+\.\d+$', added), '%s %s: version_added %r' % (kind, name, added)
    assert tuple(map(int, added.split('.'))) <= tuple(map(int, VERSION.split('.'))), \
        '%s %s: version_added %s is after galaxy.yml version %s' % (kind, name, added, VERSION)


@pytest.fixture(scope='module')
def release():
    """changelogs/changelog.yaml's entry for galaxy.yml's version: the real one if released, else the one that
    ``antsibull-changelog release`` writes in a copy of the collection (with CHANGELOG.rst's text)."""
    if VERSION in _releases():
        return _releases()[VERSION], None
    root = pathlib.Path(tempfile.mkdtemp(prefix='sysvirt-changelog-'))
    try:
        copy = root / 'ansible_collections' / 'sysvirt' / 'libvirt'
        copy.mkdir(parents=True)
        shutil.copy2(REPO / 'galaxy.yml', copy)
        for name in ('meta', 'plugins', 'roles', 'changelogs'):
            shutil.copytree(REPO / name, copy / name, ignore=shutil.ignore_patterns('__pycache__', 'molecule'))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(root), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='False')
        env.pop('PYTHONPATH', None)
        proc = subprocess.run([_tool('antsibull-changelog'), 'release', '--date', '2000-01-01',
                               '--ansible-doc-bin', _tool('ansible-doc')],
                              cwd=str(copy), env=env, capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        # ansible-core 2.21 warns that its own internal collection (ansible/_internal/.../_protomatter) has no
        # version: not about this collection, so not a finding.
        warnings = [line for line in (proc.stdout + proc.stderr).splitlines()
                    if 'WARNING' in line and '/ansible/_internal/ansible_collections/' not in line]
        assert not warnings, proc.stdout + proc.stderr
        return (_load(copy / 'changelogs' / 'changelog.yaml')['releases'][VERSION],
                (copy / 'CHANGELOG.rst').read_text(encoding='utf-8'))
    finally:
        shutil.rmtree(str(root), ignore_errors=True)


def _names(entries):
    return sorted(entry['name'] for entry in entries or [])


def test_release_lists_the_new_modules_and_plugins(release):
    entry, _text = release
    assert _names(entry.get('modules')) == [m for m in MODULES if _version_added('modules', m) == VERSION]
    assert _names((entry.get('plugins') or {}).get('inventory')) == \
        [i for i in INVENTORIES if _version_added('inventory', i) == VERSION]


def test_release_lists_the_new_roles_and_a_first_release_only_a_summary(release):
    entry, text = release
    earlier = dict((v, r) for v, r in _releases().items() if v != VERSION)
    old_roles = {role['name'] for r in earlier.values() for role in (r.get('objects') or {}).get('role') or []}
    assert _names((entry.get('objects') or {}).get('role')) == [r for r in ROLES if r not in old_roles]
    if not earlier:
        assert set(entry.get('changes') or {}) == {'release_summary'}, entry.get('changes')
    if text is not None:
        for title in ('v%s' % VERSION, 'New Modules', 'New Plugins') + (('New Roles',) if not old_roles else ()):
            assert title in text, title
