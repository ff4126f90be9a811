# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark helper, not part of the collection: replays a saved `ansible-inventory --list` output.

The same hosts, groups and host variables as the plugin that produced it, added through the same inventory calls
(add_group, add_host, add_child, set_variable: untrusted values, like any inventory plugin's), with no libvirt at
all. `ansible-inventory --list` on it minus the empty-source floor is what ansible-core itself costs for that
inventory: the floor of any plugin that returns it.
"""

from __future__ import annotations

DOCUMENTATION = r'''
name: bench_replay
short_description: Replays a saved ansible-inventory --list output (benchmark floor)
description: Replays a saved C(ansible-inventory --list) JSON through the inventory calls.
options:
  plugin:
    description: Marks the file as this plugin's.
    required: true
    choices: [bench_replay]
  data:
    description: Path of the saved JSON.
    required: true
'''

import json

from ansible.plugins.inventory import BaseInventoryPlugin


def _plain(value):
    if isinstance(value, dict):
        if len(value) == 1 and '__ansible_unsafe' in value:
            return value['__ansible_unsafe']
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class InventoryModule(BaseInventoryPlugin):

    NAME = 'bench_replay'

    def verify_file(self, path):
        return path.endswith('.replay.yml')

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        with open(self.get_option('data')) as handle:
            data = json.load(handle)
        hostvars = data.get('_meta', {}).get('hostvars', {})
        for name, group in data.items():
            if name in ('_meta', 'all', 'ungrouped'):
                continue
            self.inventory.add_group(name)
        for name, group in data.items():
            if name == '_meta':
                continue
            for child in group.get('children', []):
                if name not in ('all',) and child != 'ungrouped':
                    self.inventory.add_group(child)
                    self.inventory.add_child(name, child)
            for host in group.get('hosts', []):
                self.inventory.add_host(host, group=None if name in ('all', 'ungrouped') else name)
        for host, variables in hostvars.items():
            self.inventory.add_host(host)
            for key, value in variables.items():
                self.inventory.set_variable(host, key, _plain(value))
