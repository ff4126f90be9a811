# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A guest's console as an operator uses it: key presses (virDomainSendKey), a non-maskable interrupt
(virDomainInjectNMI) and a screenshot of its display (virDomainScreenshot) saved where the module runs.

Private to this collection: the names here may change without notice.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import shutil
import struct
import tempfile

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, call
from ansible_collections.sysvirt.libvirt.plugins.module_utils._device import require_domain
from ansible_collections.sysvirt.libvirt.plugins.module_utils._resource import ModuleRun
from ansible_collections.sysvirt.libvirt.plugins.module_utils._stream import finish_or_abort

try:
    import libvirt
except ImportError:  # reported by _connection.require_libraries
    libvirt = None

CODESETS = ('linux', 'xt', 'atset1', 'atset2', 'atset3', 'os_x', 'xt_kbd', 'usb', 'win32', 'qnum')
#: libvirt's limit on keys pressed together (VIR_DOMAIN_SEND_KEY_MAX_KEYS).
MAX_KEYS = 16


def _linux_keys():
    """Linux input key names (as in linux/input-event-codes.h, without KEY_) -> codes: the keys of a PC keyboard."""
    keys = {}
    rows = (('1234567890', 2), ('qwertyuiop', 16), ('asdfghjkl', 30), ('zxcvbnm', 44))
    for letters, first in rows:
        for offset, letter in enumerate(letters):
            keys[letter] = first + offset
    for number in range(1, 11):
        keys['f%d' % number] = 58 + number
    keys.update(f11=87, f12=88, esc=1, minus=12, equal=13, backspace=14, tab=15, leftbrace=26, rightbrace=27,
                enter=28, leftctrl=29, semicolon=39, apostrophe=40, grave=41, leftshift=42, backslash=43, comma=51,
                dot=52, slash=53, rightshift=54, kpasterisk=55, leftalt=56, space=57, capslock=58, numlock=69,
                scrolllock=70, kpenter=96, rightctrl=97, sysrq=99, rightalt=100, home=102, up=103, pageup=104,
                left=105, right=106, end=107, down=108, pagedown=109, insert=110, delete=111, pause=119,
                leftmeta=125, rightmeta=126)
    keys.update(ctrl=keys['leftctrl'], alt=keys['leftalt'], shift=keys['leftshift'], meta=keys['leftmeta'])
    keys['del'] = keys['delete']
    return keys


LINUX_KEYS = _linux_keys()


def parse_combo(text, codeset):
    """One key combination ('ctrl+alt+delete', 'KEY_LEFTALT+KEY_SYSRQ+KEY_H', '29+56+111') as key codes, pressed
    together. Names are Linux key names (KEY_ optional, any case) and need the linux codeset; numbers are codes of
    ``codeset``."""
    codes = []
    for part in str(text).split('+'):
        name = part.strip()
        if not name:
            raise LibvirtFailure('send_keys: %r has an empty key' % (text,),
                                 hint="Join the keys pressed together with '+', e.g. ctrl+alt+delete.")
        if name.isdigit():
            codes.append(int(name))
            continue
        key = name.lower()
        key = key[4:] if key.startswith('key_') else key
        if codeset != 'linux':
            raise LibvirtFailure('send_keys: key names such as %s are Linux key names; with keycode_set %s give '
                                 'the key codes as numbers' % (name, codeset))
        if key not in LINUX_KEYS:
            raise LibvirtFailure('send_keys: unknown key %s in %r' % (name, text),
                                 hint='Use Linux key names (KEY_A, KEY_ENTER, KEY_LEFTCTRL, ctrl, alt, shift, F1 '
                                      '... F12) or key codes as numbers.')
        codes.append(LINUX_KEYS[key])
    if len(codes) > MAX_KEYS:
        raise LibvirtFailure('send_keys: %r presses %d keys together; libvirt takes at most %d'
                             % (text, len(codes), MAX_KEYS))
    return codes


def image_size(data):
    """(width, height) of a PNG or binary PPM image, or None for another format."""
    if data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) >= 24:
        return struct.unpack('>II', data[16:24])
    if data[:2] == b'P6':
        fields, position = [], 2
        while len(fields) < 2 and position < len(data):
            while position < len(data) and data[position:position + 1].isspace():
                position += 1
            if data[position:position + 1] == b'#':
                position = data.find(b'\n', position) if data.find(b'\n', position) >= 0 else len(data)
                continue
            start = position
            while position < len(data) and data[position:position + 1].isdigit():
                position += 1
            if position == start:
                return None
            fields.append(int(data[start:position]))
        return tuple(fields) if len(fields) == 2 else None
    return None


def _digest(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def take_screenshot(conn, dom, screen, directory):
    """The screenshot of ``screen`` into a temporary file in ``directory``: (path, MIME type)."""
    fd, temp = tempfile.mkstemp(prefix='.sysvirt-screenshot.', dir=directory)
    try:
        def write(_stream, buf, _opaque):
            view = memoryview(buf)
            while view:
                view = view[os.write(fd, view):]
            return len(buf)

        with call('take a screenshot of screen %d of %s' % (screen, dom.name())):
            stream = conn.newStream(0)
            mime = dom.screenshot(stream, screen, 0)
            finish_or_abort(stream, lambda: stream.recvAll(write, None))
        os.close(fd)
        fd = None
        return temp, mime
    except BaseException:
        if fd is not None:
            os.close(fd)
        os.unlink(temp)
        raise


class ConsoleRun(ModuleRun):
    """One run of domain_console: NMI, keys, then the screenshot (which shows what they did)."""

    def run(self):
        p = self.params
        dom = require_domain(self.conn, p['domain'])
        combos = [parse_combo(combo, p['keycode_set']) for combo in p.get('send_keys') or ()]
        if (p['nmi'] or combos) and not dom.isActive():
            raise LibvirtFailure('%s is not running; it takes no keys and no NMI' % dom.name(),
                                 hint='Start the guest first (sysvirt.libvirt.domain state=running).')
        if p['nmi']:
            self.perform('inject an NMI', lambda: dom.injectNMI(0), check=self.check,
                         what='inject an NMI into %s' % dom.name())
        codeset = getattr(libvirt, 'VIR_KEYCODE_SET_%s' % p['keycode_set'].upper())
        for text, codes in zip(p.get('send_keys') or (), combos):
            self.perform('send keys %s' % text, lambda c=codes: dom.sendKey(codeset, p['hold_time'], c, len(c), 0),
                         check=self.check, what='send the keys %s to %s' % (text, dom.name()))
        result = dict(domain=dom.name())
        if p.get('screenshot'):
            result['screenshot'] = self.screenshot(dom, p['screenshot'])
        return self.finish(**result)

    def screenshot(self, dom, spec):
        """Taken in check mode too (it changes nothing in the guest); the file is written, or would be, only when
        its content differs."""
        if not dom.isActive():
            raise LibvirtFailure('%s is not running; it has no display to take a screenshot of' % dom.name(),
                                 hint='Start the guest first (sysvirt.libvirt.domain state=running).')
        dest = spec['dest']
        directory = os.path.dirname(os.path.abspath(dest))
        if not os.path.isdir(directory):
            raise LibvirtFailure('screenshot: the directory of %s does not exist' % dest,
                                 hint='Create it first (ansible.builtin.file state=directory).')
        temp, mime = take_screenshot(self.conn, dom, spec['screen'], directory)
        try:
            with open(temp, 'rb') as handle:
                head = handle.read(4096)
            size = image_size(head)
            data = dict(dest=dest, mime_type=mime, sha256=_digest(temp), bytes=os.path.getsize(temp),
                        width=size[0] if size else None, height=size[1] if size else None, screen=spec['screen'])
            if os.path.exists(dest) and _digest(dest) == data['sha256']:
                return data
            if not self.check:
                os.chmod(temp, 0o644)
                shutil.move(temp, dest)
            self.act('save a screenshot of screen %d to %s' % (spec['screen'], dest))
            return data
        finally:
            if os.path.exists(temp):
                os.unlink(temp)


def run_module(module):
    ConsoleRun.main(module)
