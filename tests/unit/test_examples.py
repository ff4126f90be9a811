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

import pytest
import yaml

from utils.argspec import COLLECTION, MODULES, module_spec, task_actions as _action, validate, walk_tasks as _tasks


def _module(name):
    return importlib.import_module('ansible_collections.sysvirt.libvirt.plugins.modules.%s' % name)


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
    messages = validate(args, module_spec(target))
    assert not messages, '%s EXAMPLES, task %r (%s): %s' % (name, task['name'], action, '; '.join(messages))
