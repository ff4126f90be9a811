# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reference pages of the collection's Event-Driven Ansible plugins, from their own documentation.

antsibull-docs (and ansible-doc) do not read extensions/eda/: this script does what they do for modules, for the
event source plugins in extensions/eda/plugins/event_source/. It reads each plugin's DOCUMENTATION and EXAMPLES
(from the file's syntax tree; nothing is imported or run), checks them (the fields Ansible's plugin documentation
requires, every option with a description and a type, defaults and choices of that type, examples that are YAML
rulebooks using only documented options), and writes one page per plugin into the Sphinx source tree, in
Ansible's markup converted by antsibull-docs-parser, as antsibull-docs does. scripts/docs.sh runs it; the pages
are generated, never committed.

Usage: python docs/site/eda_plugin_docs.py <collection root> <rst dir>     (exit status 1 on a documentation error)
"""

import ast
import os
import re
import sys

import yaml
from antsibull_docs_parser.parser import Context, parse
from antsibull_docs_parser.rst import to_rst_plain

COLLECTION = 'sysvirt.libvirt'
SOURCES = os.path.join('extensions', 'eda', 'plugins', 'event_source')
PAGE_DIR = os.path.join('collections', 'sysvirt', 'libvirt')
TYPES = {'str': str, 'bool': bool, 'int': int, 'float': (int, float), 'list': list, 'dict': dict}


def read_docs(path):
    """DOCUMENTATION and EXAMPLES of a plugin file, as YAML data."""
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), path)
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in ('DOCUMENTATION', 'EXAMPLES') and isinstance(node.value, ast.Constant):
            found[node.targets[0].id] = yaml.safe_load(node.value.value)
    return found.get('DOCUMENTATION'), found.get('EXAMPLES')


def check(name, doc, examples):
    """The problems of one plugin's documentation, as messages."""
    problems = []
    if not isinstance(doc, dict):
        return ['%s: no DOCUMENTATION' % name]
    for key in ('name', 'short_description', 'description', 'author', 'version_added', 'options'):
        if key not in doc:
            problems.append('%s: DOCUMENTATION has no %s' % (name, key))
    if doc.get('name') != name:
        problems.append('%s: DOCUMENTATION name is %r' % (name, doc.get('name')))
    for option, spec in (doc.get('options') or {}).items():
        where = '%s: option %s' % (name, option)
        if not spec.get('description'):
            problems.append('%s has no description' % where)
        kind = spec.get('type', 'str')
        if kind not in TYPES:
            problems.append('%s has an unknown type %r' % (where, kind))
            continue
        if 'default' in spec and spec['default'] is not None and not isinstance(spec['default'], TYPES[kind]):
            problems.append('%s: default %r is not a %s' % (where, spec['default'], kind))
        if kind == 'list' and 'elements' not in spec:
            problems.append('%s is a list without elements' % where)
        for key in spec:
            if key not in ('description', 'type', 'elements', 'default', 'choices', 'required', 'version_added'):
                problems.append('%s: unknown key %s' % (where, key))
    for text in _texts(doc):
        for paragraph in parse(text, Context(current_plugin=None), errors='exception'):
            pass
    if not isinstance(examples, list) or not examples:
        problems.append('%s: EXAMPLES is not a list of rulebooks' % name)
        return problems
    for rulebook in examples:
        for source in rulebook.get('sources') or []:
            args = source.get('%s.%s' % (COLLECTION, name))
            if args is None:
                continue
            for key in args:
                if key not in (doc.get('options') or {}):
                    problems.append('%s: EXAMPLES use an undocumented option %s' % (name, key))
    return problems


def _texts(doc):
    for key in ('description', 'notes', 'requirements'):
        yield from _as_list(doc.get(key))
    yield doc.get('short_description') or ''
    for spec in (doc.get('options') or {}).values():
        yield from _as_list(spec.get('description'))


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def rst(text):
    """Ansible markup (O(), V(), C(), M() ...) to reStructuredText, as antsibull-docs renders it. E(NAME) becomes
    a literal: the site's environment variable index lists only what antsibull-docs found (plugin options' env)."""
    return to_rst_plain(parse(re.sub(r'\bE\(', 'C(', text), Context(current_plugin=None)))


def _heading(text, char):
    return [text, char * len(text), '']


def _indent(lines, prefix='   '):
    return [prefix + line if line else '' for line in lines]


def _option_cells(name, option, spec):
    """(first cell, second cell) of an option's row, as lines."""
    kind = spec.get('type', 'str')
    if kind == 'list':
        kind = 'list / elements=%s' % spec.get('elements', 'str')
    first = ['.. _ansible_collections.%s.%s_event_source__parameter-%s:' % (COLLECTION, name, option), '',
             '**%s**' % option, '', ':literal:`%s`' % kind]
    if spec.get('required'):
        first += ['', '**required**']
    second = []
    for text in _as_list(spec.get('description')):
        second += rst(text).split('\n') + ['']
    if 'choices' in spec:
        second += ['Choices: ' + ', '.join(':literal:`%s`' % c for c in spec['choices']), '']
    if 'default' in spec:
        default = spec['default']
        shown = ('true' if default else 'false') if isinstance(default, bool) else default
        second += ['Default: :literal:`%s`' % (shown,), '']
    return first, second


def _parameters(name, options):
    lines = ['.. list-table::', '   :widths: 25 75', '   :header-rows: 1', '', '   * - Parameter', '     - Comments']
    for option, spec in sorted(options.items()):
        first, second = _option_cells(name, option, spec)
        lines += ['   * - ' + first[0]] + _indent(first[1:], '       ')
        lines += ['     - ' + second[0]] + _indent(second[1:], '       ')
    return lines + ['']


def render(name, doc, examples_text):
    """The page of one plugin, as reStructuredText."""
    full = '%s.%s' % (COLLECTION, name)
    lines = ['.. Generated by docs/site/eda_plugin_docs.py from %s/%s.py; do not edit.' % (SOURCES, name), '',
             '.. _ansible_collections.%s.%s_event_source:' % (COLLECTION, name), '']
    lines += _heading('%s event source -- %s' % (full, rst(doc['short_description'])), '*')
    lines += ['This is an **Event-Driven Ansible event source plugin** of the sysvirt.libvirt collection '
              '(version_added %s). ansible-rulebook loads it as ``%s`` from the collection\'s '
              '``extensions/eda/plugins/event_source/`` directory.' % (doc['version_added'], full), '']
    lines += ['.. contents::', '   :local:', '   :depth: 1', '']
    lines += _heading('Synopsis', '-')
    for text in _as_list(doc['description']):
        lines += ['- ' + rst(text).replace('\n', '\n  '), '']
    if doc.get('requirements'):
        lines += _heading('Requirements', '-')
        for text in _as_list(doc['requirements']):
            lines += ['- ' + rst(text), '']
    lines += _heading('Parameters', '-')
    lines += _parameters(name, doc.get('options') or {})
    if doc.get('notes'):
        lines += _heading('Notes', '-')
        for text in _as_list(doc['notes']):
            lines += ['- ' + rst(text), '']
    lines += _heading('Examples', '-')
    lines += ['.. code-block:: yaml+jinja', ''] + _indent(examples_text.strip('\n').split('\n')) + ['']
    lines += _heading('Authors', '-')
    for author in _as_list(doc['author']):
        lines += ['- %s' % author]
    lines += ['']
    return '\n'.join(lines)


def _examples_text(path):
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) == 'EXAMPLES':
            return node.value.value
    return ''


def main(root, out):
    directory = os.path.join(root, SOURCES)
    plugins = sorted(f[:-3] for f in os.listdir(directory) if f.endswith('.py') and not f.startswith('_'))
    problems, written = [], []
    for name in plugins:
        path = os.path.join(directory, name + '.py')
        doc, examples = read_docs(path)
        problems += check(name, doc, examples)
        if problems:
            continue
        page = os.path.join(out, PAGE_DIR, '%s_event_source.rst' % name)
        os.makedirs(os.path.dirname(page), exist_ok=True)
        with open(page, 'w', encoding='utf-8') as handle:
            handle.write(render(name, doc, _examples_text(path)))
        written.append(page)
    for problem in problems:
        print('eda_plugin_docs: %s' % problem, file=sys.stderr)
    if not plugins:
        print('eda_plugin_docs: no event source plugins in %s' % directory, file=sys.stderr)
        return 1
    for page in written:
        print(page)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
