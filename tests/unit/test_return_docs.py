# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The check that every returned value is documented (tests/utils/returns.py), which run_module() makes on every
result: it passes documented results, names each undocumented key path, and run_module really makes it."""

from __future__ import annotations

import glob
import os

import pytest

from conftest import REPO, run_module
from utils import returns

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure

DOCS = returns._yaml('''
thing:
  description: A thing.
  returned: always
  type: dict
  contains:
    name:
      description: Name.
      type: str
    parts:
      description: Its parts.
      type: list
      elements: dict
      contains:
        size:
          description: Size.
          type: int
    labels:
      description: Free-form labels.
      type: dict
items:
  description: Some items.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Id.
      type: int
same_shape:
  description: A network, keys as in RV(sysvirt.libvirt.network_info#module:networks).
  returned: always
  type: dict
more_items:
  description: When RV(thing) is set, more items, each as in RV(items).
  returned: always
  type: list
  elements: dict
free:
  description: Free-form, see RV(items) for the ids.
  returned: always
  type: dict
''')

GOOD = dict(changed=False, failed=False, msg='ok', warnings=['w'], invocation=dict(module_args={}),
            thing=dict(name='a', parts=[dict(size=1), dict(size=2)], labels=dict(anything='goes')),
            items=[dict(id=1)], same_shape=dict(name='net', uuid='u', active=True), more_items=[dict(id=2)],
            free=dict(anything='goes'))


def test_a_documented_result_passes():
    assert returns.undocumented(GOOD, DOCS) == []


def test_a_null_or_empty_documented_value_passes():
    result = dict(GOOD, thing=None, items=[], same_shape=None, more_items=None)
    assert returns.undocumented(result, DOCS) == []


@pytest.mark.parametrize('change, path', [
    (dict(extra=1), 'extra'),
    (dict(hint='on success, hint is not documented'), 'hint'),
    (dict(ansible_facts=dict(x=1)), 'ansible_facts'),
    (dict(thing=dict(name='a', secret='s')), 'thing.secret'),
    (dict(thing=dict(name='a', parts=[dict(size=1), dict(size=2, colour='red')])), 'thing.parts[].colour'),
    (dict(items=[dict(id=1), dict(id=2, label='x')]), 'items[].label'),
    (dict(same_shape=dict(name='net', leaked='x')), 'same_shape.leaked'),
    (dict(more_items=[dict(id=3, leaked='x')]), 'more_items[].leaked'),
])
def test_an_undocumented_key_is_named_by_its_path(change, path):
    assert returns.undocumented(dict(GOOD, **change), DOCS) == [path]


def test_each_undocumented_path_is_named_once():
    result = dict(GOOD, items=[dict(id=1, label='x'), dict(id=2, label='y')], other=1)
    assert returns.undocumented(result, DOCS) == ['items[].label', 'other']


def test_check_result_names_module_and_key_path(monkeypatch):
    documentation = returns.module_docs('secret_info')[1]
    monkeypatch.setitem(returns._DOCS, 'secret_info', (DOCS, documentation))
    with pytest.raises(AssertionError) as caught:
        returns.check_result('secret_info', dict(GOOD, thing=dict(name='a', bogus=1), stray=2))
    message = str(caught.value)
    assert 'sysvirt.libvirt.secret_info' in message and 'thing.bogus, stray' in message, message


def test_check_result_reads_the_real_return_docs():
    returns.check_result('network_info', dict(changed=False, networks=[dict(name='n', uuid='u', active=True)]))
    with pytest.raises(AssertionError, match=r'networks\[\]\.undocumented_key'):
        returns.check_result('network_info', dict(changed=False, networks=[dict(name='n', undocumented_key=1)]))


def test_a_value_returned_always_must_be_there(monkeypatch):
    documentation = returns.module_docs('secret_info')[1]
    monkeypatch.setitem(returns._DOCS, 'secret_info', (DOCS, documentation))
    assert returns.not_returned(GOOD, DOCS) == []
    partial = dict((k, v) for k, v in GOOD.items() if k not in ('items', 'free'))
    assert returns.not_returned(partial, DOCS) == ['items', 'free']
    with pytest.raises(AssertionError, match=r'sysvirt\.libvirt\.secret_info did not return items, free, which'):
        returns.check_result('secret_info', partial)
    returns.check_result('secret_info', dict(partial, failed=True, msg='a failure returns what it can'))


def _failure_kwargs():
    failure = LibvirtFailure('Failed to look up domain x', code=42, domain=10, hint='Check the name.',
                             libvirt_message='Domain not found')
    return dict(failure.fail_kwargs(), uri='test:///default', failed=True)


def test_the_failure_keys_a_libvirt_failure_returns_are_documented_in_the_fragment():
    kwargs = _failure_kwargs()
    assert set(kwargs['error']) and 'hint' in kwargs  # the failure carries what the notes document
    assert returns.undocumented(kwargs, {}, returns.failure_docs()) == []
    returns.check_result('network', kwargs)


def test_failure_keys_count_only_on_failure_and_only_as_documented():
    failure = returns.failure_docs()
    kwargs = _failure_kwargs()
    assert returns.undocumented(dict(kwargs, failed=False), {}, failure) == ['error', 'hint', 'uri']
    kwargs['error']['extra'] = 1
    assert returns.undocumented(kwargs, {}, failure) == ['error.extra']


def test_failure_docs_read_only_the_failure_note():
    text = '''
options: {}
notes:
  - Something else about C(other).
  - When the module fails, its result holds C(a) and C(b.c), C(b.d).
'''
    assert returns.failure_docs(text) == {'a': {}, 'b': {'contains': {'c': {}, 'd': {}}}}


def test_a_reference_to_an_undocumented_return_value_fails():
    docs = returns._yaml('''
x:
  description: keys as in RV(sysvirt.libvirt.network_info#module:no_such_key).
  type: dict
''')
    with pytest.raises(AssertionError, match=r'^the documentation of x refers to .*no_such_key.*network_info'):
        returns.undocumented(dict(x=dict(a=1)), docs)


@pytest.mark.parametrize('path', sorted(glob.glob(os.path.join(REPO, 'plugins', 'modules', '*.py'))),
                         ids=os.path.basename)
def test_every_module_has_return_docs_and_the_failure_notes(path):
    name = os.path.basename(path)[:-3]
    return_docs, documentation = returns.module_docs(name)
    assert return_docs, '%s has no RETURN' % name
    assert returns.FAILURE_FRAGMENT in returns._fragments(documentation), name


def test_run_module_makes_the_check(monkeypatch):
    result = run_module('host_facts', dict(uri='test:///default'))
    assert not result.failed and 'ansible_facts' in result, result
    documentation = returns.module_docs('host_facts')[1]
    monkeypatch.setitem(returns._DOCS, 'host_facts', ({}, documentation))
    with pytest.raises(AssertionError, match=r'sysvirt\.libvirt\.host_facts .*: ansible_facts \('):
        run_module('host_facts', dict(uri='test:///default'))


def test_a_reference_with_contains_of_its_own_adds_them_to_the_shared_ones():
    """A module shares its _info twin's keys by reference and documents only what it adds (domain: managed_save)."""
    docs = returns._yaml('''
x:
  description: keys as in RV(sysvirt.libvirt.network_info#module:networks), plus C(extra).
  type: dict
  contains:
    extra:
      description: Only here.
      type: bool
''')
    assert returns.undocumented(dict(x=dict(name='n', active=True, extra=False)), docs) == []
    assert returns.undocumented(dict(x=dict(name='n', other=1)), docs) == ['x.other']
