# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""User mistake: reading a secret's value (secret with value, secret_info with value: true) over a read-only
connection. Found by the session-3 user audit: the failure had libvirt's code and domain but no hint, unlike
every other write refused by a read-only connection.

The test driver has no secrets, so the secret object is a stand-in raising libvirt's own error.
"""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _secret
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure

UUID = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'


def _error(code, domain, message):
    error = libvirt.libvirtError(message)
    error.err = (code, domain, message, libvirt.VIR_ERR_ERROR, None, None, None, -1, -1)
    return error


class _Secret:
    def __init__(self, error):
        self.error = error

    def UUIDString(self):
        return UUID

    def value(self, flags=0):
        raise self.error


@pytest.mark.parametrize('code, message, hint', [
    (libvirt.VIR_ERR_OPERATION_DENIED, 'operation forbidden: read only access prevents virSecretGetValue',
     'read-only'),
    (libvirt.VIR_ERR_ACCESS_DENIED, "access denied: 'secret' 'read_secure' permission denied", 'libvirt'),
])
def test_value_read_failure_has_code_domain_and_hint(code, message, hint):
    with pytest.raises(LibvirtFailure) as raised:
        _secret.read_value(_Secret(_error(code, libvirt.VIR_FROM_SECRET, message)))
    failure = raised.value
    assert failure.msg == 'Failed to read the value of secret %s: %s' % (UUID, message)
    assert failure.code == code and failure.domain == libvirt.VIR_FROM_SECRET
    assert failure.hint and hint in failure.hint
    kwargs = failure.fail_kwargs()
    assert kwargs['hint'] == failure.hint and kwargs['error']['message'] == message


@pytest.mark.parametrize('message, status', [
    ('secret is private', 'private'),
    ("secret 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' does not have a value", 'unset'),
])
def test_private_and_unset_values_are_statuses_not_failures(message, status):
    error = _error(libvirt.VIR_ERR_INVALID_SECRET, libvirt.VIR_FROM_SECRET, message)
    assert _secret.read_value(_Secret(error)) == (status, None)
