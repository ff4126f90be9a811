# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils._in_process: when a task may run in the worker, and the module run it makes there.

The whole path against the module process (ansible-playbook, check mode, diff, no_log, failures, delegation):
tests/functional/test_in_process.py."""

from __future__ import annotations

import importlib
import json
import os
import sys
import types

import pytest

from ansible_collections.sysvirt.libvirt.plugins.plugin_utils import _in_process


class _Templar:
    def template(self, value):
        return value.replace('{{ ansible_playbook_python }}', sys.executable) if isinstance(value, str) else value


def _action(transport='local', become=False, async_val=0, environment='', delegate_to=None, module=True):
    action = object.__new__(_in_process.action_for('domain_info'))
    if not module:
        action._module = None
    action._connection = types.SimpleNamespace(transport=transport)
    action._play_context = types.SimpleNamespace(become=become, remote_addr='localhost')
    action._task = types.SimpleNamespace(async_val=async_val, delegate_to=delegate_to, action='domain_info')
    action._templar = _Templar()
    action._compute_environment_string = lambda: environment
    return action


ACTIONS = os.path.join(os.path.dirname(_in_process.__file__), os.pardir, 'action')


@pytest.mark.parametrize('name', sorted(f[:-3] for f in os.listdir(ACTIONS) if f.endswith('.py')))
def test_each_action_plugin_runs_the_module_of_its_name(name):
    action = importlib.import_module('ansible_collections.sysvirt.libvirt.plugins.action.%s' % name).ActionModule
    assert issubclass(action, _in_process.InProcessAction)
    assert action._module is importlib.import_module('ansible_collections.sysvirt.libvirt.plugins.modules.%s' % name)


@pytest.fixture(autouse=True)
def _current_core(monkeypatch):
    """These tests run under every ansible-core of the matrix: the worker run's own version gate is tested below."""
    monkeypatch.setattr(_in_process, 'ansible_version', '2.21.5')


@pytest.mark.parametrize('version, expected', [
    ('2.21.5', (2, 21)), ('2.21.0rc1', (2, 21)), ('2.22.0.dev0', (2, 22)), ('2.19.14', (2, 19)), ('3', (3, 0)),
])
def test_core_version(version, expected):
    assert _in_process._core_version(version) == expected


@pytest.mark.parametrize('version, why', [
    ('2.19.14', 'ansible-core 2.19.14 is older than 2.21'),
    ('2.20.9', 'ansible-core 2.20.9 is older than 2.21'),
    ('2.21.0', None),
    ('2.22.1', None),
])
def test_older_ansible_core_runs_the_module_process(monkeypatch, version, why):
    """2.19 and 2.20 parse a module's result into a dict, not the result object the worker run reads."""
    monkeypatch.setattr(_in_process, 'ansible_version', version)
    assert _action()._why_not_here({}) == why


def test_a_plain_local_task_runs_here():
    assert _action()._why_not_here({}) is None


@pytest.mark.parametrize('kwargs, task_vars, why', [
    (dict(transport='ssh'), {}, 'the connection is not local'),
    (dict(transport='sysvirt.libvirt.libvirt_qemu'), {}, 'the connection is not local'),
    (dict(become=True), {}, 'become'),
    (dict(async_val=30), {}, 'async'),
    (dict(environment='LIBVIRT_DEFAULT_URI=test:///default'), {}, 'the task sets environment variables'),
    (dict(module=False), {}, 'the module could not be imported on the controller'),
    ({}, {'sysvirt_libvirt_in_process': False}, 'sysvirt_libvirt_in_process is false'),
    ({}, {'sysvirt_libvirt_in_process': 'no'}, 'sysvirt_libvirt_in_process is false'),
    ({}, {'ansible_python_interpreter': '/usr/bin/sysvirt-test-no-such-python'},
     'ansible_python_interpreter is not the controller Python'),
    (dict(delegate_to='kvm01'), {'ansible_delegated_vars': {'kvm01': {'sysvirt_libvirt_in_process': False}}},
     'sysvirt_libvirt_in_process is false'),
])
def test_what_sends_a_task_to_the_module_process(kwargs, task_vars, why):
    assert _action(**kwargs)._why_not_here(task_vars) == why


@pytest.mark.parametrize('task_vars', [
    {'sysvirt_libvirt_in_process': True},
    {'sysvirt_libvirt_in_process': 'yes'},
    {'ansible_python_interpreter': sys.executable},
    {'ansible_python_interpreter': '{{ ansible_playbook_python }}'},
    # delegated: the delegated host's variables count, not the inventory host's
    {'sysvirt_libvirt_in_process': False, 'ansible_delegated_vars': {'localhost': {}}},
])
def test_what_keeps_a_task_here(task_vars):
    delegate = 'localhost' if 'ansible_delegated_vars' in task_vars else None
    assert _action(delegate_to=delegate)._why_not_here(task_vars) is None


def _params(**args):
    return json.dumps(dict(ANSIBLE_MODULE_ARGS=dict(args, _ansible_check_mode=False))).encode()


def test_call_main_returns_what_the_module_printed_and_its_status():
    def main():
        print(json.dumps(dict(changed=False, seen=_in_process._basic._ANSIBLE_ARGS.decode())))
        sys.exit(0)
    before = _in_process._ansible_internal.is_controller
    out, rc = _in_process._call_main(main, _params(uri='test:///default'))
    assert rc == 0 and json.loads(out)['seen'] == _params(uri='test:///default').decode()
    assert _in_process._ansible_internal.is_controller == before and _in_process._basic._ANSIBLE_ARGS is None


def test_an_exception_becomes_a_failed_result():
    def main():
        raise ValueError('sysvirt-test-boom')
    out, rc = _in_process._call_main(main, _params())
    assert rc == 1 and json.loads(out)['failed'] is True and 'sysvirt-test-boom' in out


def test_a_main_that_returns_fails():
    out, rc = _in_process._call_main(lambda: None, _params())
    assert rc == 1 and 'did not handle its own exit' in out


def test_the_module_sees_no_controller_and_no_warnings_of_an_earlier_run():
    seen = {}

    def main():
        seen['controller'] = _in_process._ansible_internal.is_controller
        seen['warnings'] = dict(_in_process._warnings._global_warnings)
        sys.exit(0)
    _in_process._warnings.warn('sysvirt-test-left-over')
    _in_process._call_main(main, _params())
    assert seen == {'controller': False, 'warnings': {}}
