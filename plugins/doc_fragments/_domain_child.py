# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to sysvirt.libvirt: the options the modules of a guest's snapshots and checkpoints share
# (module_utils/_domain_child.py is their shared code).

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # domain_snapshot, domain_checkpoint: deleting with or without the descendants
    DOCUMENTATION = r'''
options:
  domain:
    description:
      - The guest, by name or UUID.
    type: str
    required: true
  children:
    description:
      - With O(state=absent), also delete every descendant of O(name).
    type: bool
    default: false
  children_only:
    description:
      - With O(state=absent), delete only the descendants of O(name) and keep it.
    type: bool
    default: false
'''

    # domain_snapshot_info, domain_checkpoint_info: the guest and the choice by name
    INFO = r'''
options:
  domain:
    description:
      - The guest, by name or UUID.
    type: str
    required: true
  name:
    description:
      - Only the one with this name (an empty list when there is none).
    type: str
  prefix:
    description:
      - Only those whose names start with this.
    type: str
'''
