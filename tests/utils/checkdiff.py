# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check mode against the real run: a module's `--check --diff` must show what the real run's `--diff` shows.

`check_then_real` runs a module in check mode and then for real, both with --diff, and asserts that the two
diffs are equal (every entry of the diff: a definition as text, an object or a state as a dict). `SHARE` counts
the outcomes per group; tests/conftest.py prints them at the end of the run (`check --diff equals the real
diff: ...`).
"""

from __future__ import annotations

import collections
import difflib
import json

from conftest import run_module

#: (group, True | False | reason) -> how many comparisons of this run came out so.
SHARE = collections.Counter()


def _text(value):
    if value is None:
        return ''
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True) + '\n'


def diff_text(result):
    """The whole --diff of a result as unified diffs, one per entry (the domain module diffs its definition and
    its state); None when the result has no diff."""
    entries = result.get('diff')
    if entries is None:
        return None
    parts = []
    for entry in entries if isinstance(entries, list) else [entries]:
        before, after = _text(entry.get('before')), _text(entry.get('after'))
        parts.append(''.join(difflib.unified_diff(
            before.splitlines(True), after.splitlines(True),
            entry.get('before_header', 'before'), entry.get('after_header', 'after'))))
    return '\n'.join(parts)


def assert_same_diff(check, real, group):
    """Count and assert: the check run's diff (and actions) are the real run's."""
    assert not check.failed, check['msg']
    assert not real.failed, real['msg']
    predicted, done = diff_text(check), diff_text(real)
    SHARE[group, predicted == done and check['actions'] == real['actions']] += 1
    assert check['actions'] == real['actions'], (check['actions'], real['actions'])
    assert predicted is not None, 'the module returned no diff'
    assert predicted == done, 'check mode predicted:\n%s\nthe real run did:\n%s' % (predicted, done)


def check_then_real(module, args, group):
    """Run ``module`` with ``args`` in check mode, then for real, both with --diff; assert equal diffs; return the
    real run's result."""
    check = run_module(module, args, check_mode=True, diff=True)
    real = run_module(module, args, diff=True)
    assert_same_diff(check, real, group)
    return real


def not_predictable(group, reason):
    """Count a comparison that a named exception makes unequal (the test then xfails with that reason)."""
    SHARE[group, reason] += 1


def summary_lines():
    lines = []
    for group in sorted(set(key[0] for key in SHARE)):
        counts = {k: n for (g, k), n in SHARE.items() if g == group}
        equal, total = counts.get(True, 0), sum(counts.values())
        apart = ', '.join('%d %s' % (n, k) for k, n in sorted(counts.items(), key=str) if k not in (True, False))
        lines.append('check --diff equals the real diff: %s %d of %d%s'
                     % (group, equal, total, ' (named exceptions: %s)' % apart if apart else ''))
    return lines
