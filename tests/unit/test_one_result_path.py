# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module that changes things (its documentation extends _attributes.ACTIONABLE) returns its result through
the one path of _resource: its main() hands its logic to run_kind or to a run_module (which opens the connection
and builds the result from the Outcome), and never opens a connection or exits by itself."""

from __future__ import annotations

import ast
import pathlib

import pytest

MODULES = pathlib.Path(__file__).resolve().parents[2] / 'plugins' / 'modules'
CHANGING = sorted(p for p in MODULES.glob('*.py') if '_attributes.ACTIONABLE' in p.read_text(encoding='utf-8'))
ONE_PATH = {'run_kind', 'run_module'}
OWN_WAYS = {'exit_json', 'exit_module', 'module_connection'}


def called_names(function):
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, 'id', None))
    return names


def test_the_changing_modules_are_found():
    assert len(CHANGING) >= 13 and not any(p.stem.endswith('_info') for p in CHANGING)


@pytest.mark.parametrize('path', CHANGING, ids=lambda p: p.stem)
def test_main_goes_through_the_one_result_path(path):
    tree = ast.parse(path.read_text(encoding='utf-8'))
    main = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == 'main']
    assert len(main) == 1, '%s has no main()' % path.name
    names = called_names(main[0])
    assert names & ONE_PATH, '%s main() calls neither run_kind nor run_module' % path.name
    assert not names & OWN_WAYS, '%s main() exits or connects by itself: %s' % (path.name, sorted(names & OWN_WAYS))
