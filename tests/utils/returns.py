# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every value a module returns is documented: the check tests/conftest.py's run_module() makes on each result.

A successful result may hold Ansible's standard keys (STANDARD_KEYS) and the keys of the module's RETURN, nothing
else, and holds each top-level key RETURN says is ``returned: always``. A failed result may also hold the failure
keys the connection doc fragment documents in its notes (as ``C(key)`` and ``C(key.subkey)``) when the module
extends that fragment. Below the top level, every documented value with ``contains`` is followed down: each key
of a returned dict, or of each dict in a returned list, is one of its ``contains`` (to any depth). A value
documented without ``contains`` whose description gives its shape as another return value ("as in
RV(differences)", "keys as in RV(sysvirt.libvirt.<module>#module:<key>)", "in the shape of one RV(...) item") is
held to that value's ``contains``; any other dict documented without ``contains`` is free-form and not looked
into.

``check_result(module, result)`` raises AssertionError naming the module and each undocumented key path
(``domain.title``, ``domains[].disks[].bus``).
"""

from __future__ import annotations

import collections
import importlib
import re

import yaml

MODULES = 'ansible_collections.sysvirt.libvirt.plugins.modules.'
FAILURE_FRAGMENT = 'sysvirt.libvirt._connection'
_FRAGMENT_MODULE = 'ansible_collections.sysvirt.libvirt.plugins.doc_fragments._connection'

#: Keys with one meaning in every module, from Ansible's "Return Values" page (common_return_values): the common
#: keys and those Ansible uses internally. Left out on purpose: ansible_facts, backup_file, rc, stdout(_lines) and
#: stderr(_lines), whose content is the module's own, so a module returning them documents them (host_facts does).
STANDARD_KEYS = frozenset((
    'changed', 'failed', 'msg', 'diff', 'invocation', 'skipped', 'results',
    'warnings', 'deprecations', 'exception',
))

#: How many results were checked, by (module, 'ok' or 'failed').
SEEN = collections.Counter()

_DOCS = {}
#: A description that gives the shape of another return value: "as in RV(...)", "in the shape of one RV(...)".
_REFERENCE = re.compile(r"(?:as in|shape of one)\s+(?:M\([\w.]+\)'s\s+)?"
                        r"(?P<ref>RV\((?:sysvirt\.libvirt\.(?P<module>\w+)#module:)?(?P<key>[\w.]+)\))")


def _yaml(text):
    return yaml.safe_load(text) or {}


def module_docs(name):
    """(RETURN as a dict, DOCUMENTATION as a dict) of sysvirt.libvirt.<name>."""
    if name not in _DOCS:
        module = importlib.import_module(MODULES + name)
        _DOCS[name] = (_yaml(getattr(module, 'RETURN', '')), _yaml(getattr(module, 'DOCUMENTATION', '')))
    return _DOCS[name]


def failure_docs(fragment_text=None):
    """The failure keys the connection fragment's notes document, as a RETURN-like dict ({'error': {'contains'...

    A note documents the result on failure when it says so ("When the module fails"); the keys are the ``C(...)``
    names in it, a dotted name being a key of a dict.
    """
    if fragment_text is None:
        fragment_text = importlib.import_module(_FRAGMENT_MODULE).ModuleDocFragment.DOCUMENTATION
    docs = {}
    for note in _yaml(fragment_text).get('notes') or []:
        if 'When the module fails' not in note:
            continue
        for path in re.findall(r'C\(([a-z_][a-z0-9_.]*)\)', note):
            spec = docs
            for part in path.split('.'):
                spec = spec.setdefault(part, {}).setdefault('contains', {})
    for spec in _leaves(docs):
        spec.pop('contains')
    return docs


def _leaves(docs):
    for spec in docs.values():
        if spec['contains']:
            yield from _leaves(spec['contains'])
        else:
            yield spec


def _fragments(documentation):
    names = documentation.get('extends_documentation_fragment') or []
    if isinstance(names, str):
        names = names.split(',')
    return [n.strip() for n in names]


def undocumented(result, return_docs, failure=None):
    """The key paths of ``result`` that ``return_docs`` (and, for a failed result, ``failure``) leave undocumented."""
    found = []
    docs = dict(return_docs)
    if result.get('failed') and failure:
        for key, spec in failure.items():
            docs.setdefault(key, spec)
    for key, value in result.items():
        if key in docs:
            _nested(value, docs[key], key, found, return_docs)
        elif key not in STANDARD_KEYS and not key.startswith('_ansible_'):
            found.append(key)
    return found


def not_returned(result, return_docs):
    """The top-level keys ``return_docs`` says are returned always that a successful ``result`` lacks."""
    return [key for key, spec in return_docs.items()
            if str((spec or {}).get('returned', '')).strip() == 'always' and key not in result]


def _contains(spec, path, return_docs, hops=0):
    """What a documented dict (or list of dicts) contains: its ``contains``, else the ``contains`` of the return
    value its description gives the shape of (``as in RV(key)``, ``as in RV(sysvirt.libvirt.<module>#module:key)``).
    """
    spec = spec or {}
    if spec.get('contains'):
        return spec['contains']
    description = spec.get('description') or ''
    if isinstance(description, list):
        description = ' '.join(description)
    match = _REFERENCE.search(description)
    if not match:
        return None
    if hops > 5:
        raise AssertionError('the documentation of %s refers in a circle (%s)' % (path, match.group('ref')))
    module, key = match.group('module'), match.group('key')
    target, contains = None, module_docs(module)[0] if module else return_docs
    for part in key.split('.'):
        target = (contains or {}).get(part)
        if target is None:
            raise AssertionError('the documentation of %s refers to %s, which %s does not document' % (
                path, match.group('ref'), 'sysvirt.libvirt.' + module if module else 'its module'))
        contains = target.get('contains')
    return _contains(target, path, module_docs(module)[0] if module else return_docs, hops + 1)


def _nested(value, spec, path, found, return_docs):
    contains = _contains(spec, path, return_docs)
    if not contains or value is None:
        return
    if isinstance(value, dict):
        items, prefix = [value], path + '.'
    elif isinstance(value, list):
        items, prefix = [v for v in value if isinstance(v, dict)], path + '[].'
    else:
        return
    for item in items:
        for key, sub in item.items():
            if key in contains:
                _nested(sub, contains[key], prefix + key, found, return_docs)
            elif prefix + key not in found:
                found.append(prefix + key)


#: The message of ansible-core's own failure when it cannot log a module's invocation (a NUL character in an
#: argument on Python 3.13's syslog), before the module's code runs; its result adds msg_to_log, which is
#: ansible-core's key, not the module's. With no_target_syslog (or no_log) the module gets the argument.
SYSLOG_REFUSAL = 'Failed to log to syslog ('


def refused_by_ansible_core(result):
    """Whether ``result`` is ansible-core's refusal to log the invocation, before the module's own code ran."""
    return bool(result.get('failed')) and str(result.get('msg', '')).startswith(SYSLOG_REFUSAL) \
        and 'msg_to_log' in result


def check_result(name, result):
    """Raise AssertionError when the result of sysvirt.libvirt.<name> holds a key its documentation leaves out."""
    return_docs, documentation = module_docs(name)
    failed = bool(result.get('failed'))
    if refused_by_ansible_core(result):
        result = dict((k, v) for k, v in result.items() if k != 'msg_to_log')
    SEEN[(name, 'failed' if failed else 'ok')] += 1
    failure = failure_docs() if failed and FAILURE_FRAGMENT in _fragments(documentation) else None
    missing = undocumented(result, return_docs, failure)
    absent = [] if failed else not_returned(result, return_docs)
    if absent:
        raise AssertionError('sysvirt.libvirt.%s did not return %s, which its RETURN says is returned always '
                             '(result: %s)' % (name, ', '.join(absent), _short(result)))
    if missing:
        raise AssertionError(
            'sysvirt.libvirt.%s returned %s not documented in its RETURN%s: %s (document each in '
            'plugins/modules/%s.py; result: %r)' % (
                name, 'a value' if len(missing) == 1 else 'values',
                ' or the failure notes of %s' % FAILURE_FRAGMENT if failure is not None else '',
                ', '.join(missing), name, _short(result)))


def _short(result, limit=3000):
    text = repr(result)
    return text if len(text) <= limit else text[:limit] + '... (%d characters)' % len(text)
