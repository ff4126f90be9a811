# Copyright: sysvirt developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Without libvirt-python or lxml, every module fails with Ansible's missing_required_lib() message and the
inventory plugin raises AnsibleError saying what to install; nothing ends in a traceback.

Each missing package is simulated in a fresh interpreter where importing it raises ImportError (``None`` in
``sys.modules``), as on a host where it is not installed: the collection is imported there from scratch and
every module's main() runs with the arguments of its first example (check mode, on ``test:///default``, so
even a module that forgot the check could reach nothing).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible.module_utils.basic import missing_required_lib

from utils.argspec import COLLECTION, MODULES, detemplate, module_spec, task_actions, validate, walk_tasks

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
COLLECTIONS = os.path.join(REPO, '.build', 'collections')
LIBRARIES = {'libvirt-python': ('libvirt',), 'lxml': ('lxml', 'lxml.etree')}

# Runs in the fresh interpreter: argv[1] is a JSON list of modules to block, stdin {module: args}.
RUNNER = r'''
import contextlib, io, json, sys
for name in json.loads(sys.argv[1]):
    sys.modules[name] = None
import importlib
from ansible.module_utils.testing import patch_module_args
from ansible.errors import AnsibleError

results = {}
for module, args in json.load(sys.stdin).items():
    out = io.StringIO()
    try:
        code = importlib.import_module('ansible_collections.sysvirt.libvirt.plugins.modules.' + module)
        with patch_module_args(args), contextlib.redirect_stdout(out):
            code.main()
        results[module] = {'error': 'main() returned without exiting: %r' % out.getvalue()}
    except SystemExit:
        text = out.getvalue()
        results[module] = json.loads(text[text.index('{'):]) if '{' in text else {'error': 'no JSON: %r' % text}
    except Exception as e:
        results[module] = {'error': 'raised %r' % e}
try:
    from ansible_collections.sysvirt.libvirt.plugins.inventory.libvirt import InventoryModule
    InventoryModule().parse(None, None, '/nonexistent/sysvirt.libvirt.yml')
    results['inventory'] = {'error': 'parse() raised nothing'}
except AnsibleError as e:
    results['inventory'] = {'ansible_error': str(e)}
except Exception as e:
    results['inventory'] = {'error': 'raised %r' % e}
print('RESULTS ' + json.dumps(results))
'''


def example_args(name):
    """The arguments of the first EXAMPLES task that calls module ``name``, Jinja2 replaced, valid."""
    code = __import__('ansible_collections.sysvirt.libvirt.plugins.modules.%s' % name, fromlist=['EXAMPLES'])
    spec = module_spec(name)
    for task in walk_tasks(yaml.safe_load(code.EXAMPLES)):
        action = '%s.%s' % (COLLECTION, name)
        if isinstance(task, dict) and task_actions(task) == [action] and isinstance(task[action], dict):
            args = detemplate(task[action], spec['argument_spec'])
            assert not validate(args, spec), (name, args, validate(args, spec))
            args.update(uri='test:///default', _ansible_check_mode=True)
            return args
    raise AssertionError('%s: no example task with arguments to run it with' % name)


@pytest.fixture(scope='module')
def results_without():
    """{package: {module or 'inventory': result}} with each package's import blocked."""
    args = dict((name, example_args(name)) for name in MODULES)
    results = {}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (COLLECTIONS, os.environ.get('PYTHONPATH')) if p))
    for package, blocked in LIBRARIES.items():
        proc = subprocess.run([sys.executable, '-c', RUNNER, json.dumps(blocked)], input=json.dumps(args),
                              capture_output=True, text=True, env=env, timeout=300, check=False)
        line = next((l for l in proc.stdout.splitlines() if l.startswith('RESULTS ')), None)
        assert proc.returncode == 0 and line, 'runner without %s failed (%d): %s %s' % (
            package, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
        results[package] = json.loads(line[len('RESULTS '):])
    return results


@pytest.mark.parametrize('package', sorted(LIBRARIES))
@pytest.mark.parametrize('module', MODULES)
def test_module_fails_with_missing_required_lib(results_without, module, package):
    result = results_without[package][module]
    assert result.get('failed') is True, result
    assert result['msg'] == missing_required_lib(package), result
    assert result.get('changed', False) is False, result


@pytest.mark.parametrize('package', sorted(LIBRARIES))
def test_inventory_raises_ansible_error(results_without, package):
    result = results_without[package]['inventory']
    message = result.get('ansible_error')
    assert message, result
    assert 'sysvirt.libvirt.libvirt inventory plugin needs the Python package %s on the controller' % package \
        in message, message
    assert sys.executable in message and 'pip install %s' % package in message, message


def test_nothing_is_missing_here():
    """The same helpers say nothing is missing where both packages import (this test run's Python)."""
    from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import missing_library
    from ansible_collections.sysvirt.libvirt.plugins.plugin_utils._libvirt import require_libraries
    assert missing_library() is None
    require_libraries('This test')


@pytest.mark.parametrize('module', MODULES)
def test_main_checks_first(module):
    """main() calls require_libraries(module) right after creating its AnsibleModule, before anything else can
    fail for another reason (a module's own option checks would otherwise hide the missing package)."""
    path = os.path.join(REPO, 'plugins', 'modules', '%s.py' % module)
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    main = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == 'main')
    statements = [ast.unparse(statement) for statement in main.body]
    created = [i for i, text in enumerate(statements) if text.startswith('module = AnsibleModule(')]
    assert len(created) == 1, statements
    assert statements[created[0] + 1:created[0] + 2] == ['require_libraries(module)'], statements[created[0]:]
