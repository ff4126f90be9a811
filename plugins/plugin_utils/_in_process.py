# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run a sysvirt.libvirt module inside the controller's worker process instead of a separate module process.

Private to this collection: the names here may change without notice.

A task on a host reached with the ``local`` connection would run the module on the controller anyway, as a new
Python process that unpacks the AnsiballZ payload and compiles ansible-core's and our module_utils from it, on
every call. ``action_for(name)`` makes the action plugin of module ``name``: when the task runs locally (local
connection, also after ``delegate_to``; no become, no async, no ``environment``, the controller's own Python),
it runs the module's own ``main()`` in the worker, with the same arguments ansible-core would send (the same
``_ansible_*`` keys, serialised and read back the same way) and reads its printed result with ansible-core's
own parser, so check mode, diff, no_log masking, warnings and failures are the module's. Otherwise, or with the
variable ``sysvirt_libvirt_in_process: false``, it runs the module the usual way (``_execute_module``).

The module (with its module_utils, libvirt-python and lxml) is imported when the action plugin is loaded: the
strategy loads action plugins in the main process before it forks the workers, so each worker starts with them
imported; nothing opens a connection or starts a thread before the fork.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import importlib
import io
import json
import os
import shutil
import sys

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.release import __version__ as ansible_version
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

try:  # ansible-core's own pieces of a module run; where one is missing, every task takes the module path
    from ansible.module_utils import _internal as _ansible_internal, basic as _basic
    from ansible.module_utils._internal._ansiballz import _loader
    from ansible.module_utils.common import warnings as _warnings
    from ansible.module_utils.common.json import Direction, get_module_encoder
except ImportError:  # pragma: no cover - older ansible-core
    _loader = None

display = Display()

#: The oldest ansible-core whose module-result parsing this run reuses (ActionBase._parse_returned_data returns a
#: result object there; 2.19 and 2.20 return a dict and run every task as a module process).
MINIMUM_CORE = (2, 21)


def _core_version(text):
    """(major, minor) of an ansible-core version string such as '2.21.0rc1'."""
    parts = (text.split('.') + ['0', '0'])[:2]
    return tuple(int(''.join(c for c in part if c.isdigit()) or 0) for part in parts)


#: The task variable that turns the in-process run off (true by default).
SWITCH = 'sysvirt_libvirt_in_process'
#: Modules without a METADATA block are serialised with ansible-core's 'legacy' profile.
PROFILE = 'legacy'


def _module(name):
    try:
        return importlib.import_module('ansible_collections.sysvirt.libvirt.plugins.modules.%s' % name)
    except ImportError:
        return None


def action_for(name):
    """The ActionModule class of sysvirt.libvirt module ``name`` (its module imported now, in the parent)."""
    module = _module(name) if _loader is not None else None
    return type('ActionModule', (InProcessAction,), {'_module': module})


def _same_python(interpreter):
    path = shutil.which(interpreter) if interpreter else None
    return bool(path) and os.path.realpath(path) == os.path.realpath(sys.executable)


class InProcessAction(ActionBase):
    """The action plugin of one module: in the worker when the task runs locally, else the module path."""

    _supports_check_mode = True
    _supports_async = True
    _module = None

    def run(self, tmp=None, task_vars=None):
        result = super(InProcessAction, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        why = self._why_not_here(task_vars)
        if why is None:
            display.vvv('%s: running in the controller worker (%s)' % (self._task.action, SWITCH),
                        host=self._play_context.remote_addr)
            return merge_hash(result, self._run_here(task_vars))
        display.vvv('%s: running the module process: %s' % (self._task.action, why),
                    host=self._play_context.remote_addr)
        wrap_async = self._task.async_val
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _var(self, task_vars, name):
        """A variable of the host the task runs on (the delegated host's, after delegate_to)."""
        if self._task.delegate_to:
            scope = (task_vars.get('ansible_delegated_vars') or {}).get(self._task.delegate_to) or {}
        else:
            scope = task_vars
        value = scope.get(name)
        return self._templar.template(value) if value is not None else None

    def _why_not_here(self, task_vars):
        """None when the module may run in this process, else the reason it runs as a module process."""
        if self._module is None:
            return 'the module could not be imported on the controller'
        if _core_version(ansible_version) < MINIMUM_CORE:
            return 'ansible-core %s is older than %d.%d' % ((ansible_version,) + MINIMUM_CORE)
        if getattr(self._connection, 'transport', None) != 'local':
            return 'the connection is not local'
        switch = self._var(task_vars, SWITCH)
        if switch is not None and not boolean(switch, strict=False):
            return '%s is false' % SWITCH
        if self._play_context.become:
            return 'become'
        if self._task.async_val:
            return 'async'
        if self._compute_environment_string():
            return 'the task sets environment variables'
        interpreter = self._var(task_vars, 'ansible_python_interpreter')
        if interpreter is not None and not _same_python(interpreter):
            return 'ansible_python_interpreter is not the controller Python'
        return None

    def _run_here(self, task_vars):
        """The module's result, as _execute_module returns it, from running its main() in this process."""
        args = dict(self._task.args)
        self._update_module_args(self._task.action, args, task_vars)
        encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
        params = json.dumps(dict(ANSIBLE_MODULE_ARGS=args), cls=encoder).encode('utf-8')
        stdout, rc = _call_main(self._module.main, params)
        parsed = self._parse_returned_data(dict(stdout=stdout, stderr='', rc=rc), PROFILE)
        parsed.remove_internal_keys()
        return parsed.as_result_dict(for_round_trip=True)


def _call_main(main, params):
    """(printed output, exit status) of a module's main() run as AnsiballZ runs it: arguments from
    basic._ANSIBLE_ARGS, not a controller (warnings go into the result), an exception printed as a failure."""
    saved = (_basic._ANSIBLE_ARGS, _basic._ANSIBLE_PROFILE, _ansible_internal.is_controller)
    _warnings._global_warnings.clear()
    _warnings._global_deprecations.clear()
    out = io.StringIO()
    rc = 0
    try:
        _basic._ANSIBLE_ARGS, _basic._ANSIBLE_PROFILE = params, PROFILE
        _ansible_internal.is_controller = False
        with contextlib.redirect_stdout(out):
            try:
                try:
                    main()
                    raise RuntimeError('New-style module did not handle its own exit.')
                except Exception as ex:  # what AnsiballZ does with a module's exception: a failed result
                    _loader._handle_exception(ex, PROFILE)
            except SystemExit as done:
                rc = done.code if isinstance(done.code, int) else 1
    finally:
        _basic._ANSIBLE_ARGS, _basic._ANSIBLE_PROFILE, _ansible_internal.is_controller = saved
        _warnings._global_warnings.clear()
        _warnings._global_deprecations.clear()
    return out.getvalue(), rc
