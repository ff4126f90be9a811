# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The house rule "no function over about 80 lines", measured on the syntax tree of every file in plugins/: a
function's length runs from its ``def`` line to its last line (docstring, comments and nested functions included).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLUGINS = ROOT / 'plugins'
LIMIT = 80


def function_lengths(path):
    """(length, name, first line) of every function and method of one file."""
    tree = ast.parse(path.read_text(encoding='utf-8'), filename=str(path))
    return [(node.end_lineno - node.lineno + 1, node.name, node.lineno) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_the_measure_counts_every_line():
    sample = ROOT / 'tests' / 'unit' / 'test_function_length.py'
    lengths = {name: length for length, name, _line in function_lengths(sample)}
    assert lengths['function_lengths'] == 5


def test_plugins_are_there():
    assert len(list(PLUGINS.rglob('*.py'))) > 40


@pytest.mark.parametrize('path', sorted(PLUGINS.rglob('*.py')), ids=lambda p: str(p.relative_to(PLUGINS)))
def test_no_function_reaches_the_limit(path):
    too_long = ['%s (line %d): %d lines' % (name, line, length)
                for length, name, line in function_lengths(path) if length >= LIMIT]
    assert not too_long, 'functions of %d lines or more in %s: %s' % (LIMIT, path, '; '.join(too_long))
