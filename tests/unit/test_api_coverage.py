# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/api-coverage.md says what plugins/ (and extensions/, the event source) does with libvirt's API, and cannot
drift from it.

The table has a row for every public method of the installed libvirt-python (its classes, the module functions
of ``libvirt``, ``libvirt_qemu`` and ``libvirt_lxc``). A row is *exposed* unless its last cell starts with
"not exposed". Checked here:

- every row marked exposed names a method that plugins/ refers to;
- every libvirt-python method name plugins/ refers to has an exposed row, except the names listed in the
  document's "Same names, not libvirt calls" table, and those are listed with exactly the places they occur;
- the per-object counts in the document, its total and the README's "N of libvirt-python's M calls" match
  its rows.

plugins/ "refers to" a method when its name appears as an attribute (``conn.listAllDomains(...)``, or passed
on as ``lookup(conn.networkLookupByName, name)``), as the literal name in ``getattr``/``hasattr``, as the
literal first argument of a helper that looks its argument up with ``getattr`` (``self.op('resume')``), or as a
literal in the tuple a ``getattr`` loop iterates over, or as a method a Kind's call table names
(``lookups = (('uuid', 'networkLookupByUUIDString'), ...)``, ``define_call``). The match is by name: a call of
``XMLDesc`` counts for every class that has one, so which class a row belongs to is checked by reading the code,
not here.
"""

from __future__ import annotations

import ast
import inspect
import pathlib
import re

import libvirt
import libvirt_lxc
import libvirt_qemu
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
DOC = REPO / 'docs' / 'api-coverage.md'
PLUGINS = REPO / 'plugins'
#: Where the collection's code is: its plugins and its Event-Driven Ansible extensions (the event source).
CODE = (PLUGINS, REPO / 'extensions')

ROW = re.compile(r'^\| `(?P<name>[\w.]+)` \| (?P<perl>[^|]*) \| (?P<c>[^|]*) \| (?P<exposure>[^|]*) \|$')
SAME_NAME_ROW = re.compile(r'^\| `(?P<name>\w+)` \| (?P<places>[^|]*) \| (?P<what>[^|]*) \|$')
COUNT = re.compile(r'^(?P<total>\d+) calls, (?P<exposed>\d+) exposed\.$')
SAME_NAMES_HEADING = '## Same names, not libvirt calls'


# ---------------------------------------------------------------------------------------------- the document

def parse_document(text):
    """(rows, same_names, counts): rows {name: exposure text}; same_names {name: set of places};
    counts [(heading, total, exposed, rows under it)]."""
    rows, same_names, counts = {}, {}, []
    section, in_same_names, current = None, False, None
    for line in text.splitlines():
        if line.startswith('## '):
            in_same_names = line.strip() == SAME_NAMES_HEADING
            section = line[3:].strip()
            current = None
            continue
        count = COUNT.match(line.strip())
        if count and section and not in_same_names:
            current = [section, int(count.group('total')), int(count.group('exposed')), []]
            counts.append(current)
            continue
        if in_same_names:
            match = SAME_NAME_ROW.match(line.strip())
            if match and match.group('name') != 'name':
                same_names[match.group('name')] = set(re.findall(r'`([^`]+)`', match.group('places')))
            continue
        match = ROW.match(line.strip())
        if match:
            name = match.group('name')
            if name in rows:
                raise AssertionError('%s has two rows' % name)
            rows[name] = match.group('exposure').strip()
            if current is not None:
                current[3].append(name)
    return rows, same_names, counts


def is_exposed(exposure):
    return not exposure.startswith('not exposed')


def method_name(dotted):
    return dotted.split('.', 1)[1]


# ---------------------------------------------------------------------------------------------- libvirt-python

def libvirt_calls():
    """Every public method of libvirt-python as 'class.method' / 'module.function' (not c_pointer: the raw
    pointer for other Python bindings, no libvirt call)."""
    names = set()
    for cls_name, cls in inspect.getmembers(libvirt, inspect.isclass):
        if not cls_name.startswith('vir') or cls.__module__ != 'libvirt' or issubclass(cls, BaseException):
            continue
        if cls_name == 'virEventAsyncIOImpl':
            continue
        for name, member in vars(cls).items():
            if callable(member) and not name.startswith('_') and name != 'c_pointer':
                names.add('%s.%s' % (cls_name, name))
    for module in (libvirt, libvirt_qemu, libvirt_lxc):
        for name, member in vars(module).items():
            if inspect.isfunction(member) and member.__module__ == module.__name__ and not name.startswith('_'):
                names.add('%s.%s' % (module.__name__, name))
    return names


# ---------------------------------------------------------------------------------------------- plugins/

def _getattr_name(node):
    """The second argument of getattr()/hasattr(), or None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ('getattr', 'hasattr') \
            and len(node.args) >= 2:
        return node.args[1]
    return None


def _dispatch_helpers(tree):
    """Names of functions that call getattr(obj, <one of their parameters>)."""
    helpers = set()
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        params = {a.arg for a in func.args.args + func.args.kwonlyargs}
        for node in ast.walk(func):
            arg = _getattr_name(node)
            if isinstance(arg, ast.Name) and arg.id in params:
                helpers.add(func.name)
    return helpers


def _loop_literals(scope):
    """{loop variable: string literals of the literal tuple/list it iterates over}, inside ``scope``."""
    found = {}
    for loop in ast.walk(scope):
        if isinstance(loop, ast.For) and isinstance(loop.iter, (ast.Tuple, ast.List)):
            targets = [t.id for t in ast.walk(loop.target) if isinstance(t, ast.Name)]
            strings = {c.value for c in ast.walk(loop.iter) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
            for target in targets:
                found.setdefault(target, set()).update(strings)
    return found


#: A Kind's call tables (_resource.Kind): class attributes that name connection methods as data, and where in each
#: entry the method's name stands: lookups = ((identifier, method), ...); define_call = (method, extra arguments).
CALL_TABLES = {'lookups': lambda value: [entry.elts[1] for entry in value.elts if isinstance(entry, ast.Tuple)],
               'define_call': lambda value: value.elts[:1]}


def _table_calls(node):
    """The method names a class-body assignment to one of CALL_TABLES names (none for any other statement)."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in CALL_TABLES and isinstance(node.value, ast.Tuple)):
        return []
    return [c.value for c in CALL_TABLES[node.targets[0].id](node.value)
            if isinstance(c, ast.Constant) and isinstance(c.value, str)]


def references(root=CODE):
    """{name: set of 'file.py:function'} for every name plugins/ (and extensions/) refers to as described in the
    docstring."""
    found = {}
    roots = root if isinstance(root, (tuple, list)) else (root,)
    for path in sorted(p for r in roots for p in r.rglob('*.py')):
        tree = ast.parse(path.read_text(encoding='utf-8'))
        helpers = _dispatch_helpers(tree)

        def add(name, where):
            found.setdefault(name, set()).add('%s:%s' % (path.name, where or '<module>'))

        def visit(node, where, loops):
            for child in ast.iter_child_nodes(node):
                inner, inner_loops = where, loops
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    inner = '%s.%s' % (where, child.name) if where else child.name
                    inner_loops = _loop_literals(child)
                if isinstance(child, ast.Attribute):
                    add(child.attr, where)
                if isinstance(node, ast.ClassDef):
                    for name in _table_calls(child):
                        add(name, where)
                arg = _getattr_name(child)
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    add(arg.value, where)
                elif isinstance(arg, ast.Name):
                    for literal in loops.get(arg.id, ()):
                        add(literal, where)
                if isinstance(child, ast.Call) and child.args and isinstance(child.args[0], ast.Constant) \
                        and isinstance(child.args[0].value, str):
                    callee = child.func.attr if isinstance(child.func, ast.Attribute) else getattr(child.func, 'id', None)
                    if callee in helpers:
                        add(child.args[0].value, where)
                visit(child, inner, inner_loops)
        visit(tree, '', {})
    return found


# ---------------------------------------------------------------------------------------------- the checks

def problems(rows, same_names, counts, calls, refs):
    """Every way the document and plugins/ disagree, as sentences (empty: they agree)."""
    out = []
    method_names = {method_name(c) for c in calls}
    for name in sorted(set(rows) - calls):
        out.append('%s has a row but libvirt-python has no such call' % name)
    for name in sorted(calls - set(rows)):
        out.append('%s (libvirt-python) has no row' % name)
    for name, exposure in sorted(rows.items()):
        if is_exposed(exposure) and method_name(name) not in refs:
            out.append('%s is marked exposed (%s) but plugins/ never calls %s' % (name, exposure, method_name(name)))
    exposed_names = {method_name(n) for n, e in rows.items() if is_exposed(e)}
    for name in sorted(method_names & set(refs)):
        if name in exposed_names:
            continue
        if name in same_names:
            if same_names[name] != refs[name]:
                out.append('%s: the same-name table lists %s, plugins/ has it at %s'
                           % (name, sorted(same_names[name]), sorted(refs[name])))
            continue
        out.append('plugins/ calls %s (%s) but no row marks it exposed' % (name, ', '.join(sorted(refs[name]))))
    for name in sorted(same_names):
        if name not in method_names:
            out.append('%s is in the same-name table but is no libvirt-python method' % name)
        elif name in exposed_names:
            out.append('%s is in the same-name table but a row marks it exposed' % name)
        elif name not in refs:
            out.append('%s is in the same-name table but plugins/ no longer has it' % name)
    for heading, total, exposed, names in counts:
        real = sum(1 for n in names if is_exposed(rows[n]))
        if (total, exposed) != (len(names), real):
            out.append('%s says %d calls, %d exposed; its rows are %d, %d exposed'
                       % (heading, total, exposed, len(names), real))
    return out


@pytest.fixture(scope='module')
def document():
    return parse_document(DOC.read_text(encoding='utf-8'))


@pytest.fixture(scope='module')
def refs():
    return references()


def test_the_document_parses(document):
    rows, same_names, counts = document
    assert len(rows) > 400 and same_names and len(counts) == 15
    assert sum(len(c[3]) for c in counts) == len(rows)


def test_the_document_matches_plugins(document, refs):
    rows, same_names, counts = document
    assert problems(rows, same_names, counts, libvirt_calls(), refs) == []


def test_the_totals_match(document):
    rows, same_names, counts = document
    exposed = sum(1 for e in rows.values() if is_exposed(e))
    text = DOC.read_text(encoding='utf-8')
    assert '**%d calls, %d exposed**' % (len(rows), exposed) in text
    readme = ' '.join((REPO / 'README.md').read_text(encoding='utf-8').split())
    assert "(%d of libvirt-python's %d calls;" % (exposed, len(rows)) in readme


# The checks fail when they should (on copies of the real data, each with one deliberate mistake).

def test_a_false_claim_is_caught(document, refs):
    rows, same_names, counts = document
    rows = dict(rows, **{'virConnect.suspendForDuration': '`host_facts` `suspend`'})
    found = problems(rows, same_names, [], libvirt_calls(), refs)
    assert found == ['virConnect.suspendForDuration is marked exposed (`host_facts` `suspend`) but plugins/ never '
                     'calls suspendForDuration']


def test_an_unlisted_call_is_caught(document, refs):
    rows, same_names, counts = document
    refs = dict(refs, suspendForDuration={'_host.py:suspend'})
    found = problems(rows, same_names, [], libvirt_calls(), refs)
    assert found == ['plugins/ calls suspendForDuration (_host.py:suspend) but no row marks it exposed']


def test_a_new_place_of_a_same_name_is_caught(document, refs):
    rows, same_names, counts = document
    name = sorted(same_names)[0]
    refs = dict(refs, **{name: refs[name] | {'_new.py:somewhere'}})
    found = problems(rows, same_names, [], libvirt_calls(), refs)
    assert len(found) == 1 and found[0].startswith('%s: the same-name table lists' % name)


def test_a_missing_row_and_a_wrong_count_are_caught(document, refs):
    rows, same_names, counts = document
    rows = dict(rows)
    del rows['virConnect.suspendForDuration']
    domain = [c for c in counts if c[0] == 'Connect and host'][0]
    found = problems(rows, same_names, [[domain[0], domain[1], domain[2] + 1, [n for n in domain[3] if n in rows]]],
                     libvirt_calls(), refs)
    assert 'virConnect.suspendForDuration (libvirt-python) has no row' in found
    assert any(f.startswith('Connect and host says %d calls, %d exposed' % (domain[1], domain[2] + 1)) for f in found)


def test_references_follow_helpers_and_loops(tmp_path):
    (tmp_path / 'x.py').write_text(
        'class Run:\n'
        '    def op(self, method):\n'
        '        return lambda: getattr(self.dom, method)()\n'
        '    def go(self, conn):\n'
        '        self.op("resume")\n'
        '        lookup(conn.networkLookupByName, "n")\n'
        '        if hasattr(conn, "getSysinfo"):\n'
        '            pass\n'
        'def state(device):\n'
        '    for key, method in (("active", "isActive"),):\n'
        '        getattr(device, method)\n')
    found = references(tmp_path)
    assert found['resume'] == {'x.py:Run.go'}
    assert found['networkLookupByName'] == {'x.py:Run.go'}
    assert found['getSysinfo'] == {'x.py:Run.go'}
    assert found['isActive'] == {'x.py:state'}
