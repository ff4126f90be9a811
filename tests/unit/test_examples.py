# Copyright: sysvirt developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's EXAMPLES are real: valid YAML, tasks of real modules, arguments the module accepts.

Each task of every module's EXAMPLES that calls a module of this collection is checked against that
module's own argument spec and constraints (mutually_exclusive, required_if, ...), captured by running the
module's main() with AnsibleModule replaced, and validated with ansible-core's ArgumentSpecValidator, the
validator AnsibleModule itself uses. Jinja2 expressions stand for values of the option's type.
"""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

COLLECTION = 'sysvirt.libvirt'
MODULES_DIR = pathlib.Path(__file__).resolve().parents[2] / 'plugins' / 'modules'
MODULES = sorted(p.stem for p in MODULES_DIR.glob('*.py') if not p.name.startswith('_'))

# Task keywords that are not the action (playbook keywords of a task).
TASK_KEYWORDS = {
    'name', 'register', 'when', 'loop', 'loop_control', 'with_items', 'with_dict', 'vars', 'delegate_to',
    'delegate_facts', 'become', 'become_user', 'check_mode', 'diff', 'tags', 'notify', 'ignore_errors',
    'changed_when', 'failed_when', 'until', 'retries', 'delay', 'no_log', 'environment', 'module_defaults',
    'run_once', 'async', 'poll', 'any_errors_fatal', 'throttle', 'timeout', 'connection', 'args', 'listen',
}
CONSTRAINTS = ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by')


class _Captured(Exception):
    pass


def _module(name):
    return importlib.import_module('ansible_collections.sysvirt.libvirt.plugins.modules.%s' % name)


_SPECS = {}


def module_spec(name):
    """The argument spec and constraints main() hands to AnsibleModule."""
    if name not in _SPECS:
        mod = _module(name)
        captured = {}

        def fake(*args, **kwargs):
            captured.update(kwargs)
            raise _Captured()

        original = mod.AnsibleModule
        mod.AnsibleModule = fake
        try:
            with pytest.raises(_Captured):
                mod.main()
        finally:
            mod.AnsibleModule = original
        _SPECS[name] = captured
    return _SPECS[name]


def _placeholder(spec):
    kind = spec.get('type', 'str')
    return {'int': 1, 'float': 1.0, 'bool': True, 'list': [], 'dict': {}}.get(kind, 'templated')


def _is_template(value):
    return isinstance(value, str) and ('{{' in value or '{%' in value)


def detemplate(args, argument_spec):
    """Replace Jinja2 expressions by a value of the option's type, recursively through suboptions."""
    by_name = {}
    for opt, spec in argument_spec.items():
        by_name[opt] = spec
        for alias in spec.get('aliases', []):
            by_name[alias] = spec
    out = {}
    for key, value in args.items():
        spec = by_name.get(key)
        if spec is None:  # unknown: left for the validator to report
            out[key] = value
        elif _is_template(value):
            out[key] = _placeholder(spec)
        elif spec.get('options') and isinstance(value, dict):
            out[key] = detemplate(value, spec['options'])
        elif isinstance(value, list):
            items = []
            for item in value:
                if _is_template(item):
                    items.append(_placeholder({'type': spec.get('elements', 'str')}))
                elif spec.get('options') and isinstance(item, dict):
                    items.append(detemplate(item, spec['options']))
                else:
                    items.append(item)
            out[key] = items
        else:
            out[key] = value
    return out


def _tasks(tasks):
    for task in tasks or []:
        yield task
        for section in ('block', 'rescue', 'always'):
            if isinstance(task, dict) and section in task:
                yield from _tasks(task[section])


def _action(task):
    actions = [k for k in task if k not in TASK_KEYWORDS and k not in ('block', 'rescue', 'always')]
    return actions


def example_cases():
    cases = []
    for name in MODULES:
        doc = _module(name).EXAMPLES
        try:
            tasks = yaml.safe_load(doc)
        except yaml.YAMLError as e:
            cases.append(pytest.param(name, None, e, id='%s-yaml' % name))
            continue
        if not isinstance(tasks, list) or not tasks:
            cases.append(pytest.param(name, None, ValueError('EXAMPLES is not a non-empty list of tasks'),
                                      id='%s-empty' % name))
            continue
        for index, task in enumerate(_tasks(tasks)):
            cases.append(pytest.param(name, task, None, id='%s-%d' % (name, index)))
    return cases


@pytest.mark.parametrize('name', MODULES)
def test_examples_use_the_module(name):
    """Every module shows itself, by its fully qualified name, in at least one example."""
    tasks = list(_tasks(yaml.safe_load(_module(name).EXAMPLES)))
    assert any('%s.%s' % (COLLECTION, name) in task for task in tasks if isinstance(task, dict)), \
        '%s: no example calls %s.%s' % (name, COLLECTION, name)


@pytest.mark.parametrize('name, task, error', example_cases())
def test_example_task(name, task, error):
    assert error is None, '%s EXAMPLES: %s' % (name, error)
    assert isinstance(task, dict), '%s EXAMPLES: a task is not a mapping: %r' % (name, task)
    if any(section in task for section in ('block', 'rescue', 'always')):
        return  # its tasks are cases of their own
    assert task.get('name'), '%s EXAMPLES: a task without a name: %r' % (name, task)
    actions = _action(task)
    assert len(actions) == 1, '%s EXAMPLES: task %r has %d actions: %s' % (name, task['name'], len(actions), actions)
    action = actions[0]
    if not action.startswith(COLLECTION + '.'):
        assert '.' in action, '%s EXAMPLES: task %r uses %r without its collection' % (name, task['name'], action)
        return  # another collection's module (ansible.builtin.debug, ...): not ours to check
    target = action[len(COLLECTION) + 1:]
    assert target in MODULES, '%s EXAMPLES: task %r calls %s, which does not exist' % (name, task['name'], action)
    args = task[action] if task[action] is not None else {}
    if isinstance(task.get('args'), dict):
        args = dict(task['args'], **args)
    assert isinstance(args, dict), '%s EXAMPLES: task %r gives free-form arguments' % (name, task['name'])
    spec = module_spec(target)
    validator = ArgumentSpecValidator(spec['argument_spec'], **{k: spec[k] for k in CONSTRAINTS if spec.get(k)})
    result = validator.validate(detemplate(args, spec['argument_spec']))
    messages = [str(e) for e in result.errors]
    assert not messages, '%s EXAMPLES, task %r (%s): %s' % (name, task['name'], action, '; '.join(messages))
