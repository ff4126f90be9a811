# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory plugin's import graph: ansible-core compiles collection module_utils from source on every run, so
the plugin imports only what its path needs; the rest (comparison, definition parsing, host facts) loads on use."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import (
    _domain_data, _domain_definition, _xml, _xml_compare,
)

PREFIX = 'ansible_collections.sysvirt.libvirt.plugins.'

# What a fresh Python has imported of ours after the given statements (a separate process: this one has more).
PROBE = '''
import json, sys
from ansible_collections.sysvirt.libvirt.plugins.inventory import libvirt as inv
%s
print(json.dumps(sorted(k[len(%r):] for k in sys.modules if k.startswith(%r) and not k.endswith('plugins'))))
'''


def _loaded(statements=''):
    out = subprocess.run([sys.executable, '-c', PROBE % (statements, PREFIX, PREFIX)], capture_output=True,
                         text=True, check=True, env=dict(os.environ))
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


PLUGIN_PATH = {'inventory', 'inventory.libvirt', 'module_utils', 'module_utils._capabilities',
               'module_utils._connection', 'module_utils._domain_data', 'module_utils._xml', 'plugin_utils',
               'plugin_utils._libvirt'}


def test_the_plugin_imports_only_its_path():
    assert _loaded() == PLUGIN_PATH


def test_a_fetch_without_definitions_loads_no_definition_parsing():
    loaded = _loaded("r = inv.fetch_one('test:///default', definition='none', keepalive_interval=5)\nassert r['error'] is None, r")
    assert loaded == PLUGIN_PATH | {'module_utils._events'}  # keepalive's event loop


def test_reading_definitions_loads_their_parser():
    loaded = _loaded("r = inv.fetch_one('test:///default', definition='all', keepalive_interval=5)\nassert r['domains'][0]['os'], r")
    assert loaded == PLUGIN_PATH | {'module_utils._events', 'module_utils._domain_definition'}


@pytest.mark.parametrize('name', ['CompareRules', 'DEFAULT_RULES', 'differences', 'overlay', 'as_stored'])
def test_xml_gives_the_comparison_names(name):
    assert getattr(_xml, name) is getattr(_xml_compare, name)


@pytest.mark.parametrize('name', ['definition_data', 'port_forwards', 'has_agent_channel', 'QEMU_NS'])
def test_domain_data_gives_the_definition_names(name):
    assert getattr(_domain_data, name) is getattr(_domain_definition, name)


@pytest.mark.parametrize('module', [_xml, _domain_data])
def test_other_names_are_still_missing(module):
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        getattr(module, 'no_such_name')
