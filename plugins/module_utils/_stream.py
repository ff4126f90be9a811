# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Sparse-aware volume transfers through libvirt streams (work on remote URIs too).

Private to this collection: the names here may change without notice.

How a re-run knows the content is already there
-----------------------------------------------
A recorded checksum (kept on the controller or in a side file) is not correct: a guest or another tool can
change the volume behind our back, and the record would still say "identical". The volume itself is the
only truth, so we read it back through a sparse download stream and compare it with the local file,
byte for byte, as it arrives:

* a hole in the volume matched by a hole in the file costs nothing (no read, no hashing);
* the comparison stops at the first difference, so a changed image costs a partial read, not a full one;
* sizes are compared before any data moves.

This is equivalent to comparing SHA-256 digests of both sides, and cheaper: hashing must read to the end,
and must feed every byte of every hole through the hash. The SHA-256 of the content is still computed on
request (``checksum`` option): it is then verified against the expected value before anything changes.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import hashlib
import os
import tempfile

try:
    import libvirt
except ImportError:
    libvirt = None

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call
from ansible_collections.sysvirt.libvirt.plugins.module_utils._events import loop_paused

CHUNK = 4 * 1024 * 1024
_ZEROS = bytes(CHUNK)


def _sections(fd, size):
    """Yield (offset, length, is_data) sections of an open file, using SEEK_DATA/SEEK_HOLE when possible."""
    offset = 0
    while offset < size:
        try:
            data = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:  # only a hole up to the end
                yield offset, size - offset, False
                return
            yield offset, size - offset, True  # no hole support: all data
            return
        except AttributeError:
            yield offset, size - offset, True
            return
        if data > offset:
            yield offset, min(data, size) - offset, False
            offset = min(data, size)
            continue
        hole = os.lseek(fd, offset, os.SEEK_HOLE)
        hole = min(hole, size)
        yield offset, hole - offset, True
        offset = hole


def hash_zeros(digest, length):
    while length > 0:
        n = min(length, CHUNK)
        digest.update(_ZEROS[:n] if n < CHUNK else _ZEROS)
        length -= n


def file_sha256(path):
    """SHA-256 of a local file, reading only its data sections."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        fd = handle.fileno()
        size = os.fstat(fd).st_size
        for offset, length, is_data in _sections(fd, size):
            if not is_data:
                hash_zeros(digest, length)
                continue
            os.lseek(fd, offset, os.SEEK_SET)
            left = length
            while left > 0:
                chunk = os.read(fd, min(left, CHUNK))
                if not chunk:
                    raise LibvirtFailure('%s shrank while it was being read' % path)
                digest.update(chunk)
                left -= len(chunk)
    return digest.hexdigest()


def volume_physical_size(vol):
    """Bytes the volume occupies as a file or device (what a download returns)."""
    with call('read the size of volume %s' % vol.name()):
        try:
            return vol.infoFlags(libvirt.VIR_STORAGE_VOL_GET_PHYSICAL)[2]
        except libvirt.libvirtError:
            return vol.info()[1]


class _FileReader:
    """Reads a local file at increasing offsets; tells whether a range is all zeros cheaply."""

    def __init__(self, fd, size):
        self.fd = fd
        self.size = size

    def read(self, offset, length):
        out = []
        os.lseek(self.fd, offset, os.SEEK_SET)
        while length > 0:
            chunk = os.read(self.fd, min(length, CHUNK))
            if not chunk:
                break
            out.append(chunk)
            length -= len(chunk)
        return b''.join(out)

    def is_zero(self, offset, length):
        end = offset + length
        for sec_off, sec_len, is_data in _sections_between(self.fd, offset, end):
            if not is_data:
                continue
            pos, stop = sec_off, sec_off + sec_len
            while pos < stop:
                n = min(CHUNK, stop - pos)
                chunk = self.read(pos, n)
                if chunk != _ZEROS[:len(chunk)] or len(chunk) != n:
                    return False
                pos += n
        return True


def _sections_between(fd, start, end):
    offset = start
    while offset < end:
        try:
            data = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                return
            yield offset, end - offset, True
            return
        if data >= end:
            return
        if data > offset:
            offset = data
        hole = min(os.lseek(fd, offset, os.SEEK_HOLE), end)
        yield offset, hole - offset, True
        offset = hole


def volume_matches_file(conn, vol, path):
    """True when the volume's first bytes equal the local file (same length or longer volume)."""
    size = os.path.getsize(path)
    if volume_physical_size(vol) < size:
        return False
    if size == 0:
        return True
    with open(path, 'rb') as handle:
        reader = _FileReader(handle.fileno(), size)
        with call('read volume %s through a stream' % vol.name()):
            stream = conn.newStream(0)
            vol.download(stream, 0, size, libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM)
            finished = False
            try:
                with loop_paused():
                    offset = _compare(stream, reader, 0, vol.name())
                if offset is None:
                    return False
                stream.finish()
                finished = True
            finally:
                if not finished:
                    try:
                        stream.abort()
                    except libvirt.libvirtError:
                        pass
        return offset >= size


def _compare(stream, reader, offset, name):
    """The offset where the volume's stream ended with every byte equal to the file's, or None at a difference."""
    while True:
        got = stream.recvFlags(CHUNK, libvirt.VIR_STREAM_RECV_STOP_AT_HOLE)
        if got == -3:
            length = stream.recvHole(0)
            if not reader.is_zero(offset, length):
                return None
            offset += length
            continue
        if isinstance(got, int):
            raise LibvirtFailure('Failed to read volume %s: unexpected stream state %d' % (name, got))
        if not got:
            return offset
        if reader.read(offset, len(got)) != got:
            return None
        offset += len(got)


def upload(conn, vol, path, digest=None):
    """Send a local file into the volume from offset 0, holes as holes."""
    size = os.path.getsize(path)
    with open(path, 'rb') as handle:
        fd = handle.fileno()

        def hole_handler(stream, opaque):
            cur = os.lseek(fd, 0, os.SEEK_CUR)
            if cur >= size:
                return [True, 0]
            try:
                data = os.lseek(fd, cur, os.SEEK_DATA)
            except OSError as e:
                if e.errno != errno.ENXIO:
                    os.lseek(fd, cur, os.SEEK_SET)
                    return [True, size - cur]
                data = size
            if data > cur:
                os.lseek(fd, cur, os.SEEK_SET)
                return [False, min(data, size) - cur]
            hole = min(os.lseek(fd, cur, os.SEEK_HOLE), size)
            os.lseek(fd, cur, os.SEEK_SET)
            return [True, hole - cur]

        def skip_handler(stream, length, opaque):
            if digest is not None:
                hash_zeros(digest, length)
            return os.lseek(fd, length, os.SEEK_CUR)

        def data_handler(stream, nbytes, opaque):
            chunk = os.read(fd, nbytes)
            if digest is not None:
                digest.update(chunk)
            return chunk

        with call('upload %s into volume %s' % (path, vol.name())):
            stream = conn.newStream(0)
            vol.upload(stream, 0, size, libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM)
            finish_or_abort(stream, lambda: stream.sparseSendAll(data_handler, hole_handler, skip_handler, None))
    return size


def download_to_temp(conn, vol, path, digest=None):
    """Receive the whole volume into a temporary file next to ``path`` (holes kept); return its name."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        def data_handler(stream, buf, opaque):
            if digest is not None:
                digest.update(buf)
            view = memoryview(buf)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            return len(buf)

        def hole_handler(stream, length, opaque):
            if digest is not None:
                hash_zeros(digest, length)
            cur = os.lseek(fd, length, os.SEEK_CUR)
            os.ftruncate(fd, cur)
            return 0

        with call('download volume %s' % vol.name()):
            stream = conn.newStream(0)
            vol.download(stream, 0, 0, libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM)
            finish_or_abort(stream, lambda: stream.sparseRecvAll(data_handler, hole_handler, None))
        os.close(fd)
        fd = None
        return temp
    except BaseException:
        if fd is not None:
            os.close(fd)
        os.unlink(temp)
        raise


def finish_or_abort(stream, transfer):
    """``transfer()`` over ``stream``, then finish it; abort it when the transfer fails (the failure is raised)."""
    try:
        with loop_paused():
            transfer()
        stream.finish()
    except Exception:
        try:
            stream.abort()
        except libvirt.libvirtError:
            pass
        raise


def files_equal(first, second):
    """Byte comparison of two local files, holes against holes for free."""
    if os.path.getsize(first) != os.path.getsize(second):
        return False
    size = os.path.getsize(first)
    with open(first, 'rb') as a, open(second, 'rb') as b:
        ra, rb = _FileReader(a.fileno(), size), _FileReader(b.fileno(), size)
        for offset, length, is_data in _sections(a.fileno(), size):
            if not is_data:
                if not rb.is_zero(offset, length):
                    return False
                continue
            pos, stop = offset, offset + length
            while pos < stop:
                n = min(CHUNK, stop - pos)
                if ra.read(pos, n) != rb.read(pos, n):
                    return False
                pos += n
    return True
