# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_stream's local-file half: hole/data sections, SHA-256 of sparse files, byte comparison with holes."""

from __future__ import annotations

import hashlib
import os

import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _stream

MiB = 1024 * 1024


def _sparse(path, size, writes):
    with open(path, 'wb') as handle:
        handle.truncate(size)
        for offset, data in writes:
            handle.seek(offset)
            handle.write(data)
    return path


LAYOUTS = {
    'empty': (0, []),
    'all-hole': (8 * MiB, []),
    'data-at-start': (8 * MiB, [(0, os.urandom(MiB))]),
    'data-in-middle': (8 * MiB, [(3 * MiB, os.urandom(MiB + 17))]),
    'data-at-end': (8 * MiB, [(8 * MiB - 100, b'x' * 100)]),
    'dense': (3 * MiB + 5, [(0, os.urandom(3 * MiB + 5))]),
}


@pytest.mark.parametrize('layout', sorted(LAYOUTS))
def test_sha256_of_sparse_file_equals_plain_hash(tmp_path, layout):
    size, writes = LAYOUTS[layout]
    path = _sparse(str(tmp_path / 'f'), size, writes)
    with open(path, 'rb') as handle:
        assert _stream.file_sha256(path) == hashlib.sha256(handle.read()).hexdigest()


@pytest.mark.parametrize('layout', sorted(LAYOUTS))
def test_sections_cover_the_file_and_data_holds_all_bytes(tmp_path, layout):
    size, writes = LAYOUTS[layout]
    path = _sparse(str(tmp_path / 'f'), size, writes)
    with open(path, 'rb') as handle:
        sections = list(_stream._sections(handle.fileno(), size))
        handle.seek(0)
        content = handle.read()
    assert sum(length for _o, length, _d in sections) == size
    offset = 0
    for start, length, is_data in sections:
        assert start == offset
        if not is_data:
            assert content[start:start + length] == bytes(length)
        offset += length


@pytest.mark.parametrize('change, equal', [
    (None, True),
    ((5 * MiB, b'\x01'), False),          # a byte set inside the other's hole
    ((3 * MiB + 10, b'\x00'), None),        # same bytes? depends on data: decided below
    ('truncate', False),
])
def test_files_equal(tmp_path, change, equal):
    size, writes = LAYOUTS['data-in-middle']
    a = _sparse(str(tmp_path / 'a'), size, writes)
    b = _sparse(str(tmp_path / 'b'), size, writes)
    if change == 'truncate':
        os.truncate(b, size - 1)
    elif change is not None:
        with open(b, 'r+b') as handle:
            handle.seek(change[0])
            handle.write(change[1])
    with open(a, 'rb') as fa, open(b, 'rb') as fb:
        truth = fa.read() == fb.read()
    if equal is not None:
        assert truth == equal
    assert _stream.files_equal(a, b) == truth


def test_dense_zeros_equal_a_hole(tmp_path):
    a = _sparse(str(tmp_path / 'a'), 4 * MiB, [])
    b = _sparse(str(tmp_path / 'b'), 4 * MiB, [(0, bytes(4 * MiB))])
    assert _stream.files_equal(a, b) and _stream.files_equal(b, a)
