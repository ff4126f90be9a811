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
    # ansible-core 2.19+ (data tagging): a plain str carries no trust and is never templated; only a tagged
    # value (a str subclass) can be trusted, so only those need untagging.
    from ansible.template import is_trusted_as_template as _data_tagging  # noqa: F401 pylint: disable=unused-import
    _PLAIN_IS_SAFE = True
except ImportError:  # pragma: no cover - older ansible-core: every string must be wrapped
    _PLAIN_IS_SAFE = False


# Values that can carry no template: returned as they are, before any other check (most host vars are these).
_INERT_TYPES = frozenset([int, float, bool, type(None)] + ([str] if _PLAIN_IS_SAFE else []))


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
    """Mark data from guests (names, titles, descriptions, metadata, ...) as never to be templated.

    Walks dicts and lists itself and hands only strings to Ansible's wrap_var (cheaper with thousands of hosts).
    On ansible-core 2.19+ a plain ``str`` is already never templated, so only tagged (trusted) strings are
    touched.
    """
    if type(value) in _INERT_TYPES:
        return value
    if isinstance(value, dict):
        return dict((unsafe(k), unsafe(v)) for k, v in value.items())
    if isinstance(value, list):
        return [unsafe(v) for v in value]
    if isinstance(value, str) and _wrap_var is not None and not (_PLAIN_IS_SAFE and value.__class__ is str):
        return _wrap_var(value)
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
