# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to sysvirt.libvirt: the attributes modules declare.

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
  action_group:
    description: Use C(group/sysvirt.libvirt.libvirt) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - sysvirt.libvirt.libvirt
'''

    # Modules that only read.
    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    support: full
    details: This module only reads, so check mode changes nothing about what it does.
  diff_mode:
    support: N/A
    details: This module only reads.
  idempotent:
    support: full
'''

    # Modules that change things and report it.
    ACTIONABLE = r'''
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
'''

    # Modules that create, start, stop and remove libvirt objects: the lifecycle rules they share
    # (plugins/module_utils/_resource.py), written once. What a failure after a change returns is in _connection.
    LIFECYCLE = r'''
options: {}
notes:
  - >-
    Teardown re-runs: every state that means "not there" or "not running" (V(absent), V(deleted), V(inactive),
    V(shutdown), V(destroyed)) succeeds unchanged when the object does not exist, or when the object it belongs to
    (the guest of a snapshot or a device, the pool of a volume) does not exist.
  - >-
    Check mode on a host that earlier tasks would populate: an object whose parent does not exist yet is predicted
    as created, with a warning that the prediction assumes an earlier task creates the parent.
  - >-
    The object is looked up by UUID first, then by name (and then by what else identifies it, such as a secret's
    usage); a missing object that the task cannot create fails with "The <kind> <name> does not exist".
'''
