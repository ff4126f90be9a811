#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_console
short_description: Send keys and NMIs to a libvirt guest, save screenshots of its display
version_added: 0.1.0
description:
  - Presses keys on a running guest's keyboard (C(virDomainSendKey)), for example Ctrl+Alt+Delete or a magic
    SysRq combination, in the order given.
  - Injects a non-maskable interrupt (C(virDomainInjectNMI)), which a Linux guest set up for it answers with a
    kernel message or a crash dump.
  - Saves a screenshot of the guest's display (C(virDomainScreenshot)) to a file on the host the module runs on
    (usually the controller). The image is taken in check mode too (it changes nothing in the guest), and the file
    is written only when its content differs, so C(changed) says whether the screen changed.
  - Keys, then the NMI, then the screenshot, so the screenshot shows what they did.
author:
  - sysvirt developers (@sysvirt)
options:
  domain:
    description:
      - The guest, by name or UUID. It must be running.
    type: str
    required: true
  send_keys:
    description:
      - Key combinations to press, in order; each one's keys are pressed together and released together, like
        C(virsh send-key).
      - Keys are joined with C(+). With O(keycode_set=linux), a key is a Linux key name (C(KEY_A), C(KEY_ENTER),
        C(KEY_LEFTCTRL), C(KEY_F1); the C(KEY_) prefix and the case do not matter, and C(ctrl), C(alt), C(shift),
        C(meta), C(del) name the left-hand keys) or a number, which is a key code (the digit keys are C(KEY_1) ...
        C(KEY_0)); with other key code sets, numbers only.
      - At most 16 keys at once. Keys cannot be read back, so every run that sends keys reports a change.
    type: list
    elements: str
  keycode_set:
    description: The key code set of numeric keys in O(send_keys).
    type: str
    choices: [linux, xt, atset1, atset2, atset3, os_x, xt_kbd, usb, win32, qnum]
    default: linux
  hold_time:
    description: Milliseconds each combination is held down; V(0) is the hypervisor's default.
    type: int
    default: 0
  nmi:
    description:
      - Inject a non-maskable interrupt. It cannot be undone or read back, so it reports a change on every run.
    type: bool
  screenshot:
    description:
      - Save a screenshot of the guest's display.
    type: dict
    suboptions:
      dest:
        description:
          - The file to write, on the host the module runs on. Its directory must exist. The format is the one the
            hypervisor gives (QEMU 7.2 with libvirt 9.0 gives PNG; see RV(screenshot.mime_type)).
        type: path
        required: true
      screen:
        description: The screen (head) of the video device, for guests with several.
        type: int
        default: 0
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
attributes:
  diff_mode:
    support: none
  idempotent:
    support: partial
    details: O(send_keys) and O(nmi) act on every run; O(screenshot) changes only when the screen did.
notes:
  - A screenshot needs a video device in the guest (C(<video>)); a graphical console (VNC, SPICE) is not needed.
seealso:
  - module: sysvirt.libvirt.domain
    description: Power state, including a hard reset (O(sysvirt.libvirt.domain#module:state=reset)).
  - name: virsh send-key
    description: The key code sets.
    link: https://libvirt.org/manpages/virkeycode-linux.html
'''

EXAMPLES = r'''
- name: Press Ctrl+Alt+Delete
  sysvirt.libvirt.domain_console:
    domain: web1
    send_keys:
      - ctrl+alt+delete

- name: Switch to the second virtual console and log in as root
  sysvirt.libvirt.domain_console:
    domain: web1
    send_keys: [ctrl+alt+f2, r, o, o, t, enter]

- name: Ask a hung Linux guest for a crash dump
  sysvirt.libvirt.domain_console:
    domain: web1
    nmi: true

- name: Save what the guest's screen shows
  sysvirt.libvirt.domain_console:
    domain: web1
    screenshot:
      dest: /tmp/web1.png
  register: shot

- name: Show its size
  ansible.builtin.debug:
    msg: "{{ shot.screenshot.width }}x{{ shot.screenshot.height }}"
'''

RETURN = r'''
domain:
  description: The guest's name.
  returned: always
  type: str
  sample: web1
screenshot:
  description: The screenshot taken (in check mode too).
  returned: when O(screenshot) is given
  type: dict
  contains:
    dest:
      description: The file it is (or, in check mode, would be) saved to.
      type: str
      sample: /tmp/web1.png
    screen:
      description: The screen it shows.
      type: int
      sample: 0
    mime_type:
      description: The image format, as the hypervisor names it.
      type: str
      sample: image/png
    width:
      description: The image's width in pixels (null for a format other than PNG and PPM).
      type: int
      sample: 720
    height:
      description: The image's height in pixels (null for a format other than PNG and PPM).
      type: int
      sample: 400
    bytes:
      description: The size of the file.
      type: int
      sample: 2952
    sha256:
      description: The SHA-256 checksum of the image.
      type: str
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ['send keys ctrl+alt+delete', 'save a screenshot of screen 0 to /tmp/web1.png']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _console
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(dict(
            domain=dict(type='str', required=True),
            send_keys=dict(type='list', elements='str', no_log=False),
            keycode_set=dict(type='str', default='linux', choices=list(_console.CODESETS)),
            hold_time=dict(type='int', default=0),
            nmi=dict(type='bool'),
            screenshot=dict(type='dict', options=dict(
                dest=dict(type='path', required=True),
                screen=dict(type='int', default=0),
            )),
        )),
        required_one_of=[('send_keys', 'nmi', 'screenshot')],
        supports_check_mode=True,
    )
    require_libraries(module)
    _console.run_module(module)


if __name__ == '__main__':
    main()
