# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_console: key combinations as key codes, the size of a screenshot image; _domain: the flags and the action name
of a start with force_boot / reset_nvram."""

from __future__ import annotations

import struct
import zlib

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _console, _domain
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure


@pytest.mark.parametrize('text, codes', [
    ('ctrl+alt+delete', [29, 56, 111]),
    ('KEY_LEFTCTRL+KEY_LEFTALT+KEY_DELETE', [29, 56, 111]),
    ('alt+KEY_SYSRQ+h', [56, 99, 35]),
    ('Key_Enter', [28]),
    ('shift + a', [42, 30]),
    ('KEY_1+key_0+q+p+a+l+z+m', [2, 11, 16, 25, 30, 38, 44, 50]),
    ('1+0', [1, 0]),  # numbers are key codes: the digit keys are KEY_1 ... KEY_0
    ('f1+F10+f11+f12', [59, 68, 87, 88]),
    ('esc+tab+space+backspace', [1, 15, 57, 14]),
    ('meta+del+rightctrl+rightalt', [125, 111, 97, 100]),
    ('up+down+left+right+home+end+pageup+pagedown+insert', [103, 108, 105, 106, 102, 107, 104, 109, 110]),
    ('56+99+35', [56, 99, 35]),
])
def test_parse_combo(text, codes):
    assert _console.parse_combo(text, 'linux') == codes


def test_numbers_in_other_codesets():
    assert _console.parse_combo('4+224', 'usb') == [4, 224]


@pytest.mark.parametrize('text, codeset, message', [
    ('ctrl+', 'linux', "send_keys: 'ctrl+' has an empty key"),
    ('ctrl+nope', 'linux', "send_keys: unknown key nope in 'ctrl+nope'"),
    ('ctrl', 'usb', 'send_keys: key names such as ctrl are Linux key names; with keycode_set usb give the key '
                    'codes as numbers'),
    ('+'.join(['a'] * 17), 'linux', "send_keys: '%s' presses 17 keys together; libvirt takes at most 16"
     % '+'.join(['a'] * 17)),
])
def test_parse_combo_refused(text, codeset, message):
    with pytest.raises(LibvirtFailure) as caught:
        _console.parse_combo(text, codeset)
    assert caught.value.msg == message


def test_sixteen_keys_are_fine():
    assert len(_console.parse_combo('+'.join(['a'] * 16), 'linux')) == 16


def _png(width, height):
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + struct.pack('>I', 13) + b'IHDR' + header
            + struct.pack('>I', zlib.crc32(b'IHDR' + header)))


@pytest.mark.parametrize('data, size', [
    (_png(720, 400), (720, 400)),
    (_png(1, 65536), (1, 65536)),
    (b'P6\n640 480\n255\n' + b'\0' * 10, (640, 480)),
    (b'P6 # a comment\n 1024\t768 255\n', (1024, 768)),
    (b'P6\n# only a comment\n', None),
    (b'P6\nx 1\n', None),
    (b'P6\n12', None),
    (b'GIF89a', None),
    (b'\x89PNG\r\n\x1a\n\0\0', None),
])
def test_image_size(data, size):
    assert _console.image_size(data) == size


@pytest.mark.parametrize('force_boot, reset_nvram, flags', [
    (False, False, 0),
    (True, False, libvirt.VIR_DOMAIN_START_FORCE_BOOT),
    (False, True, libvirt.VIR_DOMAIN_START_RESET_NVRAM),
    (True, True, libvirt.VIR_DOMAIN_START_FORCE_BOOT | libvirt.VIR_DOMAIN_START_RESET_NVRAM),
])
def test_start_flags(force_boot, reset_nvram, flags):
    assert _domain.start_flags(force_boot, reset_nvram) == flags


@pytest.mark.parametrize('managed_save, force_boot, reset_nvram, action', [
    (False, False, False, 'start'),
    (False, True, False, 'start'),
    (True, False, False, 'start (restore the managed save)'),
    (True, True, False, 'start (discard the managed save, boot afresh)'),
    (False, False, True, 'start (reset the NVRAM)'),
    (True, True, True, 'start (discard the managed save, boot afresh, reset the NVRAM)'),
])
def test_start_action(managed_save, force_boot, reset_nvram, action):
    assert _domain.start_action(managed_save, force_boot, reset_nvram) == action


# KEY_* codes as linux/input-event-codes.h defines them (the kernel's uapi header), for every name the module knows;
# ctrl, alt, shift, meta and del are the module's own short names for left-hand keys and delete.
KERNEL_KEYS = {
    'esc': 1, '1': 2, '2': 3, '3': 4, '4': 5, '5': 6, '6': 7, '7': 8, '8': 9, '9': 10, '0': 11, 'minus': 12,
    'equal': 13, 'backspace': 14, 'tab': 15, 'q': 16, 'w': 17, 'e': 18, 'r': 19, 't': 20, 'y': 21, 'u': 22, 'i': 23,
    'o': 24, 'p': 25, 'leftbrace': 26, 'rightbrace': 27, 'enter': 28, 'leftctrl': 29, 'a': 30, 's': 31, 'd': 32,
    'f': 33, 'g': 34, 'h': 35, 'j': 36, 'k': 37, 'l': 38, 'semicolon': 39, 'apostrophe': 40, 'grave': 41,
    'leftshift': 42, 'backslash': 43, 'z': 44, 'x': 45, 'c': 46, 'v': 47, 'b': 48, 'n': 49, 'm': 50, 'comma': 51,
    'dot': 52, 'slash': 53, 'rightshift': 54, 'kpasterisk': 55, 'leftalt': 56, 'space': 57, 'capslock': 58, 'f1': 59,
    'f2': 60, 'f3': 61, 'f4': 62, 'f5': 63, 'f6': 64, 'f7': 65, 'f8': 66, 'f9': 67, 'f10': 68, 'numlock': 69,
    'scrolllock': 70, 'f11': 87, 'f12': 88, 'kpenter': 96, 'rightctrl': 97, 'sysrq': 99, 'rightalt': 100,
    'home': 102, 'up': 103, 'pageup': 104, 'left': 105, 'right': 106, 'end': 107, 'down': 108, 'pagedown': 109,
    'insert': 110, 'delete': 111, 'pause': 119, 'leftmeta': 125, 'rightmeta': 126,
}


def test_the_key_table_is_the_kernels():
    aliases = dict(ctrl=29, alt=56, shift=42, meta=125, **{'del': 111})
    assert _console.LINUX_KEYS == dict(KERNEL_KEYS, **aliases)


@pytest.mark.parametrize('text, hint', [
    ('ctrl++a', "Join the keys pressed together with '+', e.g. ctrl+alt+delete."),
    ('hyper', 'Use Linux key names (KEY_A, KEY_ENTER, KEY_LEFTCTRL, ctrl, alt, shift, F1 ... F12) or key codes as '
              'numbers.'),
])
def test_parse_combo_hints(text, hint):
    with pytest.raises(LibvirtFailure) as caught:
        _console.parse_combo(text, 'linux')
    assert caught.value.hint == hint


def test_image_size_edges():
    assert _console.image_size(_png(3, 4)[:24]) == (3, 4)  # the header's size fields end at byte 24
    assert _console.image_size(_png(3, 4)[:23]) is None
    assert _console.image_size(_png(0x80000000, 0xffffffff)) == (0x80000000, 0xffffffff)  # unsigned
    assert _console.image_size(b'P67 5\n') == (7, 5)  # the numbers start right after the magic
