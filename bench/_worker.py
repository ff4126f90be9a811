# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmarks' "worker" way: a module run as Ansible runs a local task on ansible-core 2.21
(plugins/plugin_utils/_in_process.py), outside a playbook.

``Worker(name)`` imports the module in this process, as the strategy imports the action plugin (and with it
ansible-core's module code, libvirt-python, lxml and our module_utils) before it forks its workers. Each ``run(args)``
forks a child that calls the module's ``main()`` through ``_in_process._call_main`` with the arguments serialised as
the action plugin serialises them, parses the printed result with ansible-core's parser and sends it back; it returns
(wall seconds from the fork to the result, CPU seconds of the child, the result).
"""

from __future__ import annotations

import json
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, '.build', 'collections')


class Worker:
    def __init__(self, name):
        if COLLECTIONS not in sys.path:
            sys.path.insert(0, COLLECTIONS)
        from ansible_collections.sysvirt.libvirt.plugins.plugin_utils import _in_process
        self.in_process = _in_process
        self.module = _in_process.action_for(name)._module

    def _child(self, params, write_end):
        """In the forked child: main() run and its result parsed as InProcessAction._run_here does."""
        ip = self.in_process
        status = 1
        try:
            stdout, rc = ip._call_main(self.module.main, params)
            action = object.__new__(ip.InProcessAction)
            action._used_interpreter = None
            parsed = action._parse_returned_data(dict(stdout=stdout, stderr='', rc=rc), ip.PROFILE)
            parsed.remove_internal_keys()
            with os.fdopen(write_end, 'w') as pipe:
                json.dump(parsed.as_result_dict(for_round_trip=True), pipe, default=str)
            status = 0
        finally:
            os._exit(status)

    def run(self, args):
        """(wall seconds, CPU seconds, result) of the module's run with ``args`` in a forked child."""
        ip = self.in_process
        encoder = ip.get_module_encoder(ip.PROFILE, ip.Direction.CONTROLLER_TO_MODULE)
        params = json.dumps(dict(ANSIBLE_MODULE_ARGS=args), cls=encoder).encode('utf-8')
        sys.stdout.flush()
        read_end, write_end = os.pipe()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            self._child(params, write_end)
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            text = pipe.read()
        elapsed = time.monotonic() - start
        status, usage = os.wait4(pid, 0)[1:]
        if status != 0 or not text:
            raise SystemExit('worker: the child ended with status %s and no result' % status)
        return elapsed, usage.ru_utime + usage.ru_stime, json.loads(text)
