# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The plugin flavour of the connection layer: LibvirtFailure becomes AnsibleError.

Private to this collection: the names here may change without notice. The connection itself is
module_utils/_connection.LibvirtConnection, shared with the modules.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import sys

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    LibvirtConnection, LibvirtFailure, failure_from, missing_library,
)

try:
    import libvirt
except ImportError:
    libvirt = None

try:
    from ansible.utils.unsafe_proxy import wrap_var as _wrap_var
except ImportError:  # pragma: no cover - future ansible-core without the proxy module
    _wrap_var = None

try:
    # ansible-core 2.19+ (data tagging): only a string tagged TrustedAsTemplate is ever templated; data an inventory
    # plugin sets is untrusted, and ansible-inventory --list prints every untrusted string as {"__ansible_unsafe": ...}.
    from ansible.template import trust_as_template as _trust_as_template
except ImportError:  # pragma: no cover - older ansible-core: every string must be wrapped
    _trust_as_template = None

# What could make a string a template: Jinja's delimiters ({{ {% {#, and a header can only change them if it starts
# with '#jinja2:'). A string with none of these is inert, trusted or not (ansible-core templates nested variables
# with the default delimiters; a header is read only at the start of a string).
_TEMPLATE_MARKERS = re.compile(u'[{}]|#jinja2:')

# Values that can carry no template: returned as they are, before any other check (most host vars are these).
_INERT_TYPES = frozenset([int, float, bool, type(None)])


def require_libraries(plugin):
    """Raise AnsibleError when libvirt-python or lxml did not import in the Python that runs Ansible.

    The plugin flavour of module_utils/_connection.require_libraries: a plugin runs on the controller, so the
    message names the controller's Python. ``plugin`` says which plugin needs them.
    """
    missing = missing_library()
    if missing is None:
        return
    name, trace = missing
    reason = (trace or '').strip().splitlines()[-1:] or ['not installed']
    raise AnsibleError(
        '%s needs the Python package %s on the controller, in the Python that runs Ansible (%s), which cannot '
        'import it (%s). Install it into that Python, for example with "%s -m pip install %s"%s.'
        % (plugin, name, sys.executable, reason[0], sys.executable, name,
           '; libvirt-python builds against the libvirt development files (see the collection\'s bindep.txt)'
           if name == 'libvirt-python' else ''))


def unsafe(value):
    """Data from guests and hypervisors (names, titles, descriptions, metadata, ...), made safe for host vars.

    A string that could be a template is untrusted (ansible-core < 2.19: wrapped as unsafe), so it is never
    templated, even if it arrived trusted. On ansible-core 2.19+ every other string is marked trusted: it cannot be
    templated anyway, and trusted strings are what ansible-inventory prints as plain strings, as it does for the
    ini and YAML inventories. Walks dicts (keys too) and lists itself (cheaper than wrap_var with thousands of hosts).
    """
    if type(value) in _INERT_TYPES:
        return value
    if isinstance(value, dict):
        return dict((unsafe(k), unsafe(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [unsafe(v) for v in value]
    if isinstance(value, str):
        if _TEMPLATE_MARKERS.search(value):
            # wrap_var drops the trust tag (2.19+) or wraps (older); without it, a plain copy carries no tag at all.
            return _wrap_var(value) if _wrap_var is not None else str.__str__(value)
        if _trust_as_template is not None:
            return _trust_as_template(value)
    return value


def plugin_error(exc):
    """The AnsibleError for a LibvirtFailure or libvirtError (one line, with libvirt's code and a hint)."""
    if libvirt is not None and isinstance(exc, libvirt.libvirtError):
        exc = failure_from(exc, 'complete the libvirt call')
    if isinstance(exc, LibvirtFailure):
        return AnsibleError(exc.full_message())
    return AnsibleError(to_native(exc))


class PluginConnection(LibvirtConnection):
    """``with PluginConnection(uri, ...) as conn:``: opens, always closes, raises AnsibleError on failure."""

    def __enter__(self):
        try:
            return self.open()
        except LibvirtFailure as failure:
            raise plugin_error(failure)

    def __exit__(self, exc_type, exc, tb):
        self.close()
        if exc is not None and (isinstance(exc, LibvirtFailure)
                                or (libvirt is not None and isinstance(exc, libvirt.libvirtError))):
            raise plugin_error(exc)
        return False
