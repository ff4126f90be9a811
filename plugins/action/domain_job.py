# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs sysvirt.libvirt.domain_job in the controller's worker when the task runs locally (plugin_utils/_in_process.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.sysvirt.libvirt.plugins.plugin_utils._in_process import action_for

ActionModule = action_for('domain_job')
