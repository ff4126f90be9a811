# Copyright: sysvirt developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checking task arguments against the argument specs of this collection's modules.

Shared by tests/unit/test_examples.py (the modules' EXAMPLES) and tests/unit/test_docs_snippets.py (the YAML
of README.md, docs/ and the roles' READMEs):

- ``module_spec(name)``: the argument spec and constraints a module's main() hands to AnsibleModule (captured
  with ``utils.reliability.capture_spec``, cached).
- ``detemplate(args, argument_spec)``: Jinja2 expressions replaced by a value of the option's type.
- ``walk_tasks(tasks)`` / ``task_actions(task)``: the tasks of a list, blocks included, and a task's actions.
- ``validate(args, spec)``: the messages of ansible-core's ArgumentSpecValidator, the validator AnsibleModule
  itself uses (and the ``validate_argument_spec`` of roles), for arguments against a spec with constraints.
"""

from __future__ import annotations

import pathlib

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from utils.reliability import capture_spec

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
BLOCK_SECTIONS = ('block', 'rescue', 'always')
CONSTRAINTS = ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by')

_SPECS = {}


def module_spec(name):
    """The argument spec and constraints main() of module ``name`` hands to AnsibleModule."""
    if name not in _SPECS:
        _SPECS[name] = capture_spec(name)
    return _SPECS[name]


def _placeholder(spec):
    kind = spec.get('type', 'str')
    return {'int': 1, 'float': 1.0, 'bool': True, 'list': [], 'dict': {}}.get(kind, 'templated')


def is_template(value):
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
        elif is_template(value):
            out[key] = _placeholder(spec)
        elif spec.get('options') and isinstance(value, dict):
            out[key] = detemplate(value, spec['options'])
        elif isinstance(value, list):
            items = []
            for item in value:
                if is_template(item):
                    items.append(_placeholder({'type': spec.get('elements', 'str')}))
                elif spec.get('options') and isinstance(item, dict):
                    items.append(detemplate(item, spec['options']))
                else:
                    items.append(item)
            out[key] = items
        else:
            out[key] = value
    return out


def walk_tasks(tasks):
    """Every task of a task list, and the tasks inside its blocks (the block itself too)."""
    for task in tasks or []:
        yield task
        for section in BLOCK_SECTIONS:
            if isinstance(task, dict) and section in task:
                yield from walk_tasks(task[section])


def task_actions(task):
    """The keys of a task that are not task keywords: the action, when there is exactly one."""
    return [k for k in task if k not in TASK_KEYWORDS and k not in BLOCK_SECTIONS]


def validate(args, spec):
    """Error messages for ``args`` (Jinja2 expressions standing for values) against an AnsibleModule-style spec:
    a dict with ``argument_spec`` and optionally the constraints."""
    validator = ArgumentSpecValidator(spec['argument_spec'], **{k: spec[k] for k in CONSTRAINTS if spec.get(k)})
    result = validator.validate(detemplate(args, spec['argument_spec']))
    return [str(e) for e in result.errors]
