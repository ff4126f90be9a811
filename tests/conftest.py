# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pytest fixtures: the collection on sys.path, libvirt connections, an in-process module runner.

Tests that need the libvirt daemon never skip: they fail when it does not answer (run `bash scripts/testbed.sh`).
Tests that read ../shared/corpus skip with a reason when it is absent, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import uuid as uuidlib
from unittest import mock

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, '.build', 'collections')


def _expose_collection():
    link = os.path.join(COLLECTIONS, 'ansible_collections', 'sysvirt', 'libvirt')
    if not os.path.lexists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)
    # Ansible processes the tests start see the work tree only, as under scripts/venv.sh's settings: not
    # ~/.ansible/collections, /usr/share/ansible/collections or an ansible_collections directory on sys.path.
    os.environ['ANSIBLE_COLLECTIONS_PATH'] = COLLECTIONS
    os.environ['ANSIBLE_COLLECTIONS_SCAN_SYS_PATH'] = 'False'


_expose_collection()

import libvirt  # noqa: E402

from ansible.module_utils import _internal as _ansible_internal  # noqa: E402
from ansible.module_utils.common import warnings as _warnings  # noqa: E402
from ansible.module_utils.testing import patch_module_args  # noqa: E402

from utils.returns import check_result as _check_documented  # noqa: E402

libvirt.registerErrorHandler(lambda ctx, err: None, None)

#: Every object a test creates is named with this prefix, so a cleanup can find leftovers.
PREFIX = 'sysvirt-test-'
QEMU_URI = 'qemu:///system'
SHARED_TEST_URI = 'test+unix:///default'


def unique_name(kind='obj'):
    return '%s%s-%s' % (PREFIX, kind, uuidlib.uuid4().hex[:8])


def _open_or_fail(uri):
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as e:
        pytest.fail('libvirt at %s does not answer (%s); start it with `bash scripts/testbed.sh`' % (uri, e),
                    pytrace=False)


@pytest.fixture
def test_conn():
    """A fresh in-process test driver connection; its state dies with it."""
    conn = libvirt.open('test:///default')
    yield conn
    conn.close()


@pytest.fixture(scope='session')
def qemu_conn():
    """A connection to the real daemon (qemu:///system). Fails, never skips, when it is missing."""
    conn = _open_or_fail(QEMU_URI)
    yield conn
    conn.close()


@pytest.fixture(scope='session')
def shared_test_conn():
    """The daemon's test driver (test+unix:///default), held open so its state survives between module runs."""
    conn = _open_or_fail(SHARED_TEST_URI)
    yield conn
    conn.close()


def corpus_path():
    path = os.environ.get('SYSVIRT_CORPUS') or os.path.join(os.path.dirname(REPO), 'shared', 'corpus')
    return path if os.path.isfile(os.path.join(path, 'MANIFEST.tsv')) else None


def in_ci():
    """True when CI says so (CI=true, 1, yes, ...); CI unset, empty, 0, false or no means a user's machine."""
    return os.environ.get('CI', '').strip().lower() not in ('', '0', 'false', 'no', 'off')


@pytest.fixture(scope='session')
def corpus():
    """The libvirt XML corpus directory (../shared/corpus or $SYSVIRT_CORPUS)."""
    path = corpus_path()
    if path is None:
        if in_ci():
            pytest.fail('the XML corpus is missing (../shared/corpus or SYSVIRT_CORPUS); CI always has it')
        pytest.skip('the XML corpus (../shared/corpus or SYSVIRT_CORPUS) is not present in this checkout')
    return path


def corpus_manifest(path=None):
    """Rows of MANIFEST.tsv (and invalid/MANIFEST.tsv) as dicts, with 'path' set to the file."""
    path = path or corpus_path()
    rows = []
    if not path:
        return rows
    for manifest, base in ((os.path.join(path, 'MANIFEST.tsv'), path),
                           (os.path.join(path, 'invalid', 'MANIFEST.tsv'), os.path.join(path, 'invalid'))):
        if not os.path.isfile(manifest):
            continue
        with open(manifest, encoding='utf-8') as handle:
            header = handle.readline().rstrip('\n').split('\t')
            for line in handle:
                values = line.rstrip('\n').split('\t')
                row = dict(zip(header, values + [''] * (len(header) - len(values))))
                row['invalid'] = base != path
                row['path'] = os.path.join(base, row['kind'], row['file'])
                rows.append(row)
    return rows


class _NoCorpusRow(dict):
    """Stands in for the corpus rows of a test when there are none; reading it fails the test."""

    def __getitem__(self, key):
        pytest.fail('the corpus manifest gives this test no row at all (%s)' % (corpus_path() or 'no corpus'),
                    pytrace=False)

    get = __getitem__


def corpus_params(params, argcount=1):
    """The parameter sets of a test over corpus rows, never an empty list.

    pytest skips a test whose parameter set is empty, even in CI, and the test's `corpus` fixture never runs.
    When there is no row (no corpus in this checkout, or a manifest without this kind), one placeholder case
    takes their place: its `corpus` fixture skips it without the corpus and fails it in CI; with the corpus
    present the placeholder itself fails, as soon as the test reads its row.
    """
    params = list(params)
    if params:
        return params
    return [pytest.param(*[_NoCorpusRow()] * argcount, id='no-corpus-rows')]


class ModuleResult(dict):
    @property
    def failed(self):
        return bool(self.get('failed'))


def run_module(name, args, check_mode=False, diff=False):
    """Run sysvirt.libvirt.<name> in-process as Ansible would; return its result dict (failures included)."""
    args = dict(args)
    args['_ansible_check_mode'] = check_mode
    args['_ansible_diff'] = diff
    module = importlib.import_module('ansible_collections.sysvirt.libvirt.plugins.modules.%s' % name)
    # Ansible keeps a module's warnings and deprecations in process-wide dicts: start each run clean,
    # so one run's warnings never show up in the next run's result.
    _warnings._global_warnings.clear()
    _warnings._global_deprecations.clear()
    out = io.StringIO()
    # Importing controller code (the inventory plugin's tests do) flips ansible into controller mode, where
    # warnings go to the display instead of the module's result. A module always runs as a module.
    with patch_module_args(args), contextlib.redirect_stdout(out), \
            mock.patch.object(_ansible_internal, 'is_controller', False):
        with pytest.raises(SystemExit):
            module.main()
    text = out.getvalue()
    try:
        result = ModuleResult(json.loads(text[text.index('{'):]))
    except ValueError:
        raise AssertionError('module %s printed no JSON result: %r' % (name, text))
    # Every key of every result is documented (tests/utils/returns.py): an undocumented one fails the test.
    _check_documented(name, result)
    return result


@pytest.fixture
def module_runner():
    return run_module


# The Linux test guest (agent, Python, SSH, cloud-init), booted once per session when a test asks for it.
from utils.linux_guest import linux_guest  # noqa: E402,F401 pylint: disable=unused-import
# The test fleet (scripts/fleet.sh), made once per session when a test asks for it.
from utils.fleet import fleet  # noqa: E402,F401 pylint: disable=unused-import


def pytest_terminal_summary(terminalreporter):
    """The share of check runs whose --diff equalled the real run's (tests/utils/checkdiff.py), when any ran."""
    checkdiff = sys.modules.get('utils.checkdiff')
    for line in checkdiff.summary_lines() if checkdiff is not None else ():
        terminalreporter.write_line(line)


# Modules run in this process (run_module) start libvirt's event loop thread for keepalive and events
# (_events.ensure_event_loop). An interpreter shutting down while that thread, or a connection still referenced,
# is inside libvirt has hung or crashed after every result was written (a functional session hung 40 minutes
# after its summary). So the process ends here, after pytest has written its summary and JUnit XML, with pytest's
# own exit status. Only when pytest is the program (`pytest`, `python -m pytest`), not when another program runs
# pytest inside its own process (mutmut does).
_EXIT = {}


def _pytest_is_the_program():
    program = sys.argv[0] if sys.argv else ''
    return os.path.basename(program) in ('pytest', 'py.test') or \
        program.endswith(os.path.join('pytest', '__main__.py'))


def pytest_sessionfinish(session, exitstatus):
    _EXIT['status'] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if 'status' not in _EXIT or not _pytest_is_the_program():
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_EXIT['status'])
