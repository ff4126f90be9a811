# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The items of sysvirt.libvirt.bulk's EXAMPLES and of docs/guides/bulk.md are valid options of their kinds' modules
(tests/unit/test_examples.py and test_docs_snippets.py check the task's own options; a bulk item is one level
deeper)."""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml

from ansible_collections.sysvirt.libvirt.plugins.module_utils._bulk import collect
from utils.snippets import REPO, snippets


def _bulk_tasks():
    """(where, task arguments) of every sysvirt.libvirt.bulk task in its EXAMPLES and in docs/guides/bulk.md."""
    module = importlib.import_module('ansible_collections.sysvirt.libvirt.plugins.modules.bulk')
    found = [('EXAMPLES', task) for task in yaml.safe_load(module.EXAMPLES)]
    for line, lang, text, _reason, _error in snippets(pathlib.Path(REPO, 'docs', 'guides', 'bulk.md')):
        if lang == 'yaml':
            found.extend(('bulk.md:%d' % line, task) for task in yaml.safe_load(text))
    return [(where, task['sysvirt.libvirt.bulk']) for where, task in found if 'sysvirt.libvirt.bulk' in task]


@pytest.mark.parametrize('where, args', _bulk_tasks())
def test_documented_items_are_valid_for_their_module(where, args):
    """The items of the examples and the guide are valid options of their kinds' modules (a list given as a
    Jinja expression stands for any list)."""
    lists = {key: value for key, value in args.items() if isinstance(value, list)}
    items, errors, _secrets = collect(lists, args.get('defaults'))
    assert not errors, '%s: %s' % (where, errors)
    assert items or any(isinstance(v, str) for v in args.values()), where
