# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README promises Python 3.8+ where the modules run; this machine has only 3.11, so ansible-test's compile
check sees 3.11 alone. Every plugin file must at least parse with Python 3.8's grammar, and must not use the
3.9+ runtime features a 3.8 grammar still parses (annotations written as ``X | None``, ``list[int]`` ... are
evaluated at import time unless the file defers them)."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FILES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / 'plugins').rglob('*.py'))
BUILTIN_GENERICS = {'list', 'dict', 'tuple', 'set', 'frozenset', 'type'}


def _runtime_annotations(tree):
    """Annotations evaluated when the file is imported (no ``from __future__ import annotations``)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for arg in node.args.args + node.args.kwonlyargs + node.args.posonlyargs:
                if arg.annotation is not None:
                    yield arg.annotation
            if node.returns is not None:
                yield node.returns
        elif isinstance(node, ast.AnnAssign):
            yield node.annotation


def _too_new(annotation):
    for node in ast.walk(annotation):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return 'X | Y'
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in BUILTIN_GENERICS:
            return '%s[...]' % node.value.id
    return None


def test_there_are_files_to_check():
    assert len(FILES) > 40, FILES


@pytest.mark.parametrize('path', FILES)
def test_parses_as_python_3_8(path):
    source = (ROOT / path).read_text()
    tree = ast.parse(source, path, feature_version=(3, 8))
    deferred = any(isinstance(node, ast.ImportFrom) and node.module == '__future__'
                   and any(alias.name == 'annotations' for alias in node.names) for node in tree.body)
    if not deferred:
        found = [(a.lineno, _too_new(a)) for a in _runtime_annotations(tree) if _too_new(a)]
        assert not found, '%s: annotations that need Python 3.9/3.10 at import time: %r' % (path, found)


def test_the_checks_catch_what_they_look_for():
    with pytest.raises(SyntaxError):
        ast.parse('if (n := 1) and (match := 2):\n    pass\nmatch n:\n    case 1:\n        pass\n',
                  feature_version=(3, 8))
    tree = ast.parse('def f(a: int | None) -> list[int]:\n    pass\n')
    assert sorted(_too_new(a) for a in _runtime_annotations(tree)) == ['X | Y', 'list[...]']
