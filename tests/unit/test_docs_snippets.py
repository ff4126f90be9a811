# Copyright: sysvirt developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The YAML the user documentation shows is real: README.md, docs/**/*.md and roles/*/README.md.

Every fenced ```yaml block is parsed (a block that is not YAML fails) and checked by what it is:

- plays and task lists: every task that calls a module of this collection (``sysvirt.libvirt.<name>``, or the
  short name under ``collections: [sysvirt.libvirt]``), also inside blocks, pre/post tasks and handlers, is
  validated against that module's argument spec and constraints exactly as tests/unit/test_examples.py does
  (utils/argspec.py), with the play's and blocks' ``module_defaults`` merged in. Jinja2 expressions stand for
  values of the option's type. ``{{ registered.xxx }}`` and ``ansible_facts.libvirt.xxx`` must name return
  values the module documents (RETURN, followed through ``contains``);
- roles of this collection (``roles:``, ``include_role``/``import_role``) and variables files: the role
  variables must exist in the role's meta/argument_specs.yml and fit its types;
- rulebooks (Event-Driven Ansible): the options of this collection's event sources must be documented ones, of
  their types and choices, and ``run_module`` actions of this collection's modules fit the module's argument spec;
- inventory configurations (``plugin: sysvirt.libvirt.libvirt``): only options the plugin documents (its
  DOCUMENTATION with the constructed and inventory_cache fragments), of their types and choices; the
  ``<prefix>xxx`` variables that compose/groups/keyed_groups use must be among the configured ``host_vars``
  (those are the only ones they see).

A block that is deliberately not valid is marked in the Markdown with ``<!-- not-checked: reason -->`` on the
line before its fence; it is skipped with that reason, and only it.
"""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

from ansible.plugins.loader import fragment_loader
from ansible.utils.plugin_docs import get_docstring

from utils.argspec import BLOCK_SECTIONS, COLLECTION, MODULES, module_spec, task_actions, validate
from utils.reliability import strings_in
from utils.snippets import DOC_FILES, FENCE, NOT_CHECKED, snippets as _snippets
from utils import returns

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (REPO / 'roles').iterdir() if (p / 'meta' / 'argument_specs.yml').is_file())
INVENTORY = '%s.libvirt' % COLLECTION
GROUP = 'group/%s.libvirt' % COLLECTION
PLAY_TASK_LISTS = ('pre_tasks', 'tasks', 'post_tasks', 'handlers')
ROLE_ACTIONS = {'%s%s_role' % (ns, kind) for ns in ('', 'ansible.builtin.') for kind in ('include', 'import')}
ROLE_ENTRY_KEYWORDS = {'role', 'name', 'vars', 'tags', 'when', 'become', 'become_user', 'environment', 'delegate_to'}
# Keys of every task result, whatever the module (and `results` of a looped task).
COMMON_RESULT_KEYS = {'changed', 'failed', 'msg', 'skipped', 'diff', 'warnings', 'deprecations', 'invocation'}

JINJA = re.compile(r'{{(.*?)}}|{%(.*?)%}', re.S)
CHAIN = r'((?:\.[A-Za-z_]\w*|\[\d+\]|\[\'[^\']+\'\]|\["[^"]+"\])+)'


# ------------------------------------------------------------------------------------------- snippets

def _rel(path):
    return str(path.relative_to(REPO))


def snippet_cases():
    cases = []
    for path in DOC_FILES:
        for line, lang, text, reason, error in _snippets(path):
            if lang not in ('yaml', 'yml'):
                continue
            where = '%s:%d' % (_rel(path), line)
            marks = [pytest.mark.skip(reason='not-checked: %s' % reason)] if reason is not None else []
            cases.append(pytest.param(where, text, error, marks=marks, id=where))
    return cases


SNIPPETS = snippet_cases()


# --------------------------------------------------------------------------------- what modules return

def _returns(name):
    return returns.module_docs(name)[0]


def _chain_parts(chain):
    return [p.strip('.[]\'"') for p in re.findall(r'\.[A-Za-z_]\w*|\[\d+\]|\[\'[^\']+\'\]|\["[^"]+"\]', chain)]


def _walk_return(node, parts, what, shown_from=0):
    """Follow attribute names through a RETURN tree; a problem for the first name it does not document (named
    ``what`` followed by ``parts[shown_from:]``)."""
    for index, part in enumerate(parts):
        if part.isdigit():  # an element of a list
            continue
        if node is None:  # documented without `contains`: deeper names are not described
            return None
        if part not in node:
            return '%s%s: %s is not a documented return value (there: %s)' % (
                what, ''.join('.' + p for p in parts[shown_from:index + 1]), part, ', '.join(sorted(node)))
        node = node[part].get('contains')
    return None


def _expressions(data):
    """The Jinja2 expressions ({{ }} and {% %}) in the strings of a snippet."""
    for text in strings_in(data):
        for m in JINJA.finditer(text):
            yield m.group(1) or m.group(2)


def _return_problems(data, registered, aliases):
    """``registered`` maps a register name to (module, looped); ``aliases`` a variable to (module, parts)."""
    problems = []
    facts = _returns('host_facts').get('ansible_facts', {}).get('contains')
    for expr in _expressions(data):
        chains = [_chain_parts(m.group(1)) for m in re.finditer(
            r'(?<![\w\'"])ansible_facts(?:\.libvirt|\[\'libvirt\'\]|\["libvirt"\])' + CHAIN, expr)]
        # map('extract', hostvars, ['ansible_facts', 'libvirt', ...])
        chains += [re.findall(r"'(\w+)'", m.group(1)) for m in re.finditer(
            r"\[\s*'ansible_facts'\s*,\s*'libvirt'((?:\s*,\s*'\w+')*)\s*\]", expr)]
        for parts in chains:
            problem = _walk_return(facts.get('libvirt', {}).get('contains'), parts, 'ansible_facts.libvirt')
            if problem:
                problems.append('%s (host_facts RETURN)' % problem)
        for var, (module, looped) in registered.items():
            for m in re.finditer(r'(?<![\w.])%s%s' % (re.escape(var), CHAIN), expr):
                parts = _chain_parts(m.group(1))
                if looped and parts[0] == 'results':
                    parts = parts[2:] if len(parts) > 1 and parts[1].isdigit() else []
                if not parts or parts[0] in COMMON_RESULT_KEYS:
                    continue
                problem = _walk_return(_returns(module), parts, var)
                if problem:
                    problems.append('%s (%s RETURN)' % (problem, module))
        for var, (module, prefix) in aliases.items():
            for m in re.finditer(r'(?<![\w.])%s%s' % (re.escape(var), CHAIN), expr):
                tree = _returns(module)
                if module == 'host_facts':
                    tree = facts
                problem = _walk_return(tree, prefix + _chain_parts(m.group(1)), var, len(prefix))
                if problem:
                    problems.append('%s (%s RETURN)' % (problem, module))
    return problems


# ---------------------------------------------------------------------------------------------- roles

def role_spec(name):
    specs = yaml.safe_load((REPO / 'roles' / name / 'meta' / 'argument_specs.yml').read_text(encoding='utf-8'))
    return {'argument_spec': specs['argument_specs']['main'].get('options', {})}


def _role_problems(role, variables, where):
    if not role.startswith(COLLECTION + '.'):
        return []
    name = role[len(COLLECTION) + 1:]
    if name not in ROLES:
        return ['%s: role %s does not exist (roles: %s)' % (where, role, ', '.join(ROLES))]
    if not isinstance(variables, dict):
        return ['%s: the variables of role %s are not a mapping' % (where, role)]
    return ['%s: role %s: %s' % (where, role, m) for m in validate(variables, role_spec(name))]


def _role_prefixed(variables, roles):
    """The variables of a mapping that belong to one of ``roles`` by their name (``<role>_...``)."""
    out = {}
    for key, value in (variables or {}).items():
        for name in roles:
            if isinstance(key, str) and key.startswith(name + '_'):
                out.setdefault(name, {})[key] = value
    return out


# ------------------------------------------------------------------------------------- tasks and plays

class _Checker:
    def __init__(self):
        self.problems = []
        self.tasks = 0
        self.registered = {}
        self.aliases = {}

    def tasks_in(self, tasks, collections, defaults, where):
        if tasks is None:
            return
        if not isinstance(tasks, list):
            self.problems.append('%s: not a list of tasks: %r' % (where, tasks))
            return
        for task in tasks:
            if not isinstance(task, dict):
                self.problems.append('%s: a task is not a mapping: %r' % (where, task))
                continue
            inner = _merge_defaults(defaults, task.get('module_defaults'))
            if any(section in task for section in BLOCK_SECTIONS):
                for section in BLOCK_SECTIONS:
                    self.tasks_in(task.get(section), collections, inner, '%s, %s' % (where, section))
                continue
            self.task(task, collections, inner, where)

    def task(self, task, collections, defaults, where):
        label = '%s, task %r' % (where, task.get('name', '(no name)'))
        actions = task_actions(task)
        if len(actions) != 1:
            self.problems.append('%s has %d actions: %s' % (label, len(actions), actions))
            return
        for var, value in (task.get('vars') or {}).items():
            self._alias(var, value)
        action = actions[0]
        args = task[action] if task[action] is not None else {}
        if action in ROLE_ACTIONS:
            role = args.get('name', '') if isinstance(args, dict) else ''
            self.tasks += role.startswith(COLLECTION + '.')
            self.problems += _role_problems(role, task.get('vars', {}), label)
            return
        if action.startswith(COLLECTION + '.'):
            target = action[len(COLLECTION) + 1:]
        elif '.' not in action and COLLECTION in collections and action in MODULES:
            target = action
        elif '.' not in action and not collections:
            self.problems.append('%s uses %r without its collection' % (label, action))
            return
        else:
            return  # another collection's module: not ours to check
        self.tasks += 1
        if target not in MODULES:
            self.problems.append('%s calls %s, which is not a module of %s' % (label, action, COLLECTION))
            return
        if not isinstance(args, dict):
            self.problems.append('%s gives %s free-form arguments' % (label, action))
            return
        if isinstance(task.get('args'), dict):
            args = dict(task['args'], **args)
        given = dict(defaults.get(GROUP, {}), **defaults.get('%s.%s' % (COLLECTION, target), {}))
        given.update(args)
        self.problems += ['%s (%s): %s' % (label, action, m) for m in validate(given, module_spec(target))]
        if task.get('register'):
            self.registered[task['register']] = (target, bool(task.get('loop') or task.get('with_items')))

    def _alias(self, var, value):
        """A variable that is a return value (or a fact) of a module: its uses are checked as that value."""
        if not isinstance(value, str):
            return
        m = re.fullmatch(r'\s*{{\s*([A-Za-z_]\w*)' + CHAIN + r'\s*}}\s*', value)
        if not m:
            return
        base, parts = m.group(1), _chain_parts(m.group(2))
        if base == 'ansible_facts' and parts[:1] == ['libvirt']:
            self.aliases[var] = ('host_facts', parts)
        elif base in self.registered:
            self.aliases[var] = (self.registered[base][0], parts)

    def module_defaults(self, defaults, where):
        for key, options in (defaults or {}).items():
            if key == GROUP:
                for name in MODULES:
                    unknown = sorted(set(options) - set(module_spec(name)['argument_spec']))
                    if unknown:
                        self.problems.append('%s: module_defaults for %s: %s does not take %s'
                                             % (where, GROUP, name, ', '.join(unknown)))
            elif key.startswith('group/' + COLLECTION):
                self.problems.append('%s: module_defaults: %s is not an action group of %s (%s is)'
                                     % (where, key, COLLECTION, GROUP))

    def play(self, play, where):
        where = '%s, play %r' % (where, play.get('name', play.get('hosts')))
        collections = play.get('collections') or []
        defaults = _merge_defaults({}, play.get('module_defaults'))
        self.module_defaults(play.get('module_defaults'), where)
        roles = []
        for entry in play.get('roles') or []:
            entry = {'role': entry} if isinstance(entry, str) else entry
            role = entry.get('role', entry.get('name', ''))
            variables = dict({k: v for k, v in entry.items() if k not in ROLE_ENTRY_KEYWORDS}, **entry.get('vars', {}))
            self.tasks += role.startswith(COLLECTION + '.')
            self.problems += _role_problems(role, variables, where)
            if role.startswith(COLLECTION + '.'):
                roles.append(role[len(COLLECTION) + 1:])
        for name, variables in _role_prefixed(play.get('vars'), roles).items():
            self.problems += _role_problems('%s.%s' % (COLLECTION, name), variables, where + ', vars')
        for section in PLAY_TASK_LISTS:
            self.tasks_in(play.get(section), collections, defaults, '%s, %s' % (where, section))


def _merge_defaults(outer, inner):
    merged = {k: dict(v) for k, v in outer.items()}
    for key, options in (inner or {}).items():
        merged.setdefault(key, {}).update(options or {})
    return merged


# ---------------------------------------------------------------------------------- the inventory plugin

def inventory_spec():
    doc = get_docstring(str(REPO / 'plugins' / 'inventory' / 'libvirt.py'), fragment_loader,
                        collection_name=COLLECTION)[0]
    types = {'boolean': 'bool', 'integer': 'int', 'string': 'str', None: 'raw'}
    spec = {}
    for name, option in doc['options'].items():
        entry = {'type': types.get(option.get('type'), option.get('type'))}
        for key in ('elements', 'choices', 'required'):
            if key in option:
                entry[key] = option[key]
        spec[name] = entry
    return {'argument_spec': spec}, doc['options']


def _inventory_problems(config):
    spec, options = inventory_spec()
    problems = ['inventory %s: %s' % (INVENTORY, m) for m in validate(config, spec)]
    prefix = config.get('prefix', options['prefix']['default'])
    host_vars = set(config.get('host_vars', options['host_vars']['default']))
    if 'all' in host_vars:
        host_vars = set(options['host_vars']['choices'])
    expressions = list((config.get('compose') or {}).values()) + list((config.get('groups') or {}).values())
    expressions += [group.get('key', '') for group in config.get('keyed_groups') or [] if isinstance(group, dict)]
    for expr in expressions:
        for var in re.findall(r'(?<![\w.])%s(\w+)' % re.escape(prefix), str(expr)):
            if var not in host_vars:
                problems.append('inventory %s: %r uses %s%s, which host_vars (%s) does not set, so compose, groups '
                                'and keyed_groups do not see it'
                                % (INVENTORY, expr, prefix, var, ', '.join(sorted(host_vars))))
    return problems


# ------------------------------------------------------------------------- rulebooks (Event-Driven Ansible)

EVENT_SOURCES = REPO / 'extensions' / 'eda' / 'plugins' / 'event_source'


def event_source_spec(name):
    """The documented options of event source plugin ``name`` as an argument spec (its DOCUMENTATION)."""
    import ast
    tree = ast.parse((EVENT_SOURCES / ('%s.py' % name)).read_text())
    text = [n.value.value for n in tree.body if isinstance(n, ast.Assign)
            and getattr(n.targets[0], 'id', None) == 'DOCUMENTATION'][0]
    spec = {}
    for option, doc in yaml.safe_load(text)['options'].items():
        spec[option] = {k: doc[k] for k in ('type', 'elements', 'choices', 'required') if k in doc}
    return {'argument_spec': spec}


def is_rulebook(data):
    return isinstance(data, list) and bool(data) and all(isinstance(r, dict) and 'rules' in r for r in data)


def rulebook_problems(data):
    """Sources of this collection get only their documented options; run_module actions of this collection's
    modules are validated against the module's argument spec (Jinja2 standing for values, as for tasks)."""
    problems = []
    for rulebook in data:
        for source in rulebook.get('sources') or []:
            for key, args in source.items():
                if key.startswith(COLLECTION + '.'):
                    name = key[len(COLLECTION) + 1:]
                    if not (EVENT_SOURCES / ('%s.py' % name)).exists():
                        problems.append('no event source %s' % key)
                        continue
                    args = dict(args or {})
                    # A Jinja2 expression for a list option stands for a list (ansible-rulebook renders it).
                    problems += ['source %s: %s' % (key, m) for m in validate(args, event_source_spec(name))]
        for rule in rulebook.get('rules') or []:
            actions = rule.get('actions') or [rule.get('action') or {}]
            for action in actions:
                module = (action.get('run_module') or {}).get('name', '')
                if module.startswith(COLLECTION + '.'):
                    target = module[len(COLLECTION) + 1:]
                    problems += ['rule %r (%s): %s' % (rule.get('name'), module, m)
                                 for m in validate(action['run_module'].get('module_args') or {},
                                                   module_spec(target))]
    return problems


# ------------------------------------------------------------------------------------------------ tests

def check_snippet(data):
    """(problems, number of tasks and role uses of this collection checked, what the snippet is)."""
    checker = _Checker()
    if isinstance(data, dict) and 'plugin' in data:
        if data['plugin'] == INVENTORY:
            return _inventory_problems(data), 0, 'inventory'
        return ['an inventory configuration of plugin %r, not %s' % (data['plugin'], INVENTORY)], 0, 'inventory'
    if isinstance(data, dict):
        for name, variables in _role_prefixed(data, ROLES).items():
            checker.problems += _role_problems('%s.%s' % (COLLECTION, name), variables, 'variables')
        return checker.problems, 0, 'variables'
    if not isinstance(data, list) or not data:
        return ['neither plays, tasks, an inventory configuration nor variables: %r' % (data,)], 0, 'unknown'
    if is_rulebook(data):
        return rulebook_problems(data), 0, 'rulebook'
    plays = [isinstance(item, dict) and ('hosts' in item or 'import_playbook' in item) for item in data]
    if all(plays):
        for index, play in enumerate(data):
            checker.play(play, 'play %d' % (index + 1))
        kind = 'plays'
    elif not any(plays):
        checker.tasks_in(data, [], {}, 'tasks')
        kind = 'tasks'
    else:
        return ['a mix of plays and tasks'], 0, 'unknown'
    checker.problems += _return_problems(data, checker.registered, checker.aliases)
    return checker.problems, checker.tasks, kind


@pytest.mark.parametrize('where, text, error', SNIPPETS)
def test_snippet(where, text, error):
    assert error is None, '%s: %s' % (where, error)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        pytest.fail('%s: not valid YAML: %s' % (where, e))
    problems = check_snippet(data)[0]
    assert not problems, '%s:\n  %s' % (where, '\n  '.join(problems))


def test_snippets_are_found():
    """The collection is not documented by zero snippets: every kind of document has its yaml blocks."""
    files = {where.split(':')[0] for where in (case.values[0] for case in SNIPPETS)}
    assert 'README.md' in files
    assert any(f.startswith('docs/guides/') for f in files)
    assert {'roles/%s/README.md' % role for role in ROLES} <= files


@pytest.mark.parametrize('path', DOC_FILES, ids=_rel)
def test_not_checked_markers_precede_yaml(path):
    """A `not-checked` marker needs a reason and a yaml block right after it; a stray one hides nothing."""
    lines = path.read_text(encoding='utf-8').splitlines()
    for index, line in enumerate(lines):
        m = NOT_CHECKED.match(line)
        if not m:
            continue
        assert m.group('reason'), '%s:%d: not-checked without a reason' % (_rel(path), index + 1)
        following = next((l for l in lines[index + 1:] if l.strip()), '')
        fence = FENCE.match(following)
        assert fence and fence.group('lang') in ('yaml', 'yml'), \
            '%s:%d: not-checked marker not followed by a ```yaml block' % (_rel(path), index + 1)


# The checker itself: each kind of wrong fact it exists to find is found.
BAD = [
    ('- sysvirt.libvirt.domain:\n    name: x\n    stat: running\n', 'Supported parameters include'),
    ('- sysvirt.libvirt.nosuchmodule: {}\n', 'not a module'),
    ('- hosts: h\n  tasks:\n    - domain_info: {}\n', 'without its collection'),
    ('- hosts: h\n  collections: [sysvirt.libvirt]\n  tasks:\n    - domain_info:\n        state: nonsense\n',
     'state'),
    ('- sysvirt.libvirt.domain_info: {}\n  register: r\n- ansible.builtin.debug:\n    msg: "{{ r.guests }}"\n',
     'not a documented return value'),
    ('- ansible.builtin.debug:\n    msg: "{{ ansible_facts.libvirt.nodeinfo }}"\n', 'not a documented return value'),
    ('- hosts: h\n  roles:\n    - role: sysvirt.libvirt.guest\n      vars:\n        guest_size: 1\n',
     'Supported parameters include'),
    ('- hosts: h\n  module_defaults:\n    group/sysvirt.libvirt.libvirt:\n      url: x\n  tasks: []\n',
     'does not take url'),
    ('plugin: sysvirt.libvirt.libvirt\nuri: qemu:///system\n', 'Supported parameters include'),
    ('plugin: sysvirt.libvirt.libvirt\ngroups:\n  web: libvirt_title == "web"\n', 'does not set'),
    ('guest_disk: 10G\n', 'Supported parameters include'),
    ("- ansible.builtin.debug:\n    msg: \"{{ hostvars['h'].ansible_facts.libvirt.node.cpu }}\"\n", 'node.cpu'),
    ("- ansible.builtin.debug:\n    msg: \"{{ x | map('extract', hostvars, ['ansible_facts', 'libvirt', 'nodes']) }}\"\n",
     'libvirt.nodes'),
    ('- ansible.builtin.debug:\n    msg: "{{ caps.nothing }}"\n  vars:\n'
     '    caps: "{{ ansible_facts.libvirt.domain_capabilities[0] }}"\n', 'caps.nothing'),
    ('- name: r\n  hosts: all\n  sources:\n    - sysvirt.libvirt.libvirt_events:\n        uri: qemu:///system\n'
     '  rules: []\n', 'source sysvirt.libvirt.libvirt_events: uri. Supported parameters include'),
    ('- name: r\n  hosts: all\n  sources:\n    - sysvirt.libvirt.libvirt_events:\n        kinds: [domains]\n'
     '  rules: []\n', 'kinds'),
    ('- name: r\n  hosts: all\n  sources:\n    - sysvirt.libvirt.no_source: {}\n  rules: []\n',
     'no event source sysvirt.libvirt.no_source'),
    ('- name: r\n  hosts: all\n  sources: []\n  rules:\n    - name: x\n      condition: event.x == 1\n'
     '      action:\n        run_module:\n          name: sysvirt.libvirt.domain\n          module_args:\n'
     '            nam: "{{ event.name }}"\n', "rule 'x' (sysvirt.libvirt.domain)"),
]


@pytest.mark.parametrize('text, expected', BAD, ids=[str(i) for i in range(len(BAD))])
def test_checker_finds(text, expected):
    problems = check_snippet(yaml.safe_load(text))[0]
    assert any(expected in p for p in problems), problems


def test_checker_accepts_templates_and_defaults():
    text = ('- hosts: h\n  module_defaults:\n    group/sysvirt.libvirt.libvirt:\n      uri: "{{ u }}"\n'
            '  tasks:\n    - sysvirt.libvirt.domain_info:\n        state: [running]\n      register: r\n'
            '    - ansible.builtin.debug:\n        msg: "{{ r.domains[0].name }}"\n')
    assert check_snippet(yaml.safe_load(text)) == ([], 1, 'plays')
