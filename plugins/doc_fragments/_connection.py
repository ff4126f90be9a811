# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to sysvirt.libvirt: the connection options of every module, paired with
# CONNECTION_ARGUMENT_SPEC in plugins/module_utils/_connection.py, and what a failure returns
# (LibvirtFailure.fail_kwargs() and module_connection there; tests/utils/returns.py reads these notes).

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  uri:
    description:
      - The libvirt connection URI of the hypervisor to manage, for example V(qemu:///system),
        V(qemu+ssh://root@host.example.com/system), V(qemu+tls://host.example.com/system) or V(test:///default).
      - Remote URIs are passed to libvirt unchanged; libvirt's own transports (SSH, TLS, TCP with SASL) do the rest.
      - When not set, the E(LIBVIRT_DEFAULT_URI) environment variable is used, and when that is not set either,
        V(qemu:///system).
    type: str
  readonly:
    description:
      - Open a read-only connection. Anything that would change the hypervisor then fails with a hint instead.
    type: bool
    default: false
  username:
    description:
      - The user name given to libvirt when the connection asks for one (SASL and similar authentication),
        as libvirt's authname, username and echo-prompt credentials.
      - When not set, the E(LIBVIRT_USERNAME) environment variable is used. libvirt's own C(auth.conf) is consulted
        before either.
    type: str
  password:
    description:
      - The password or passphrase given to libvirt when the connection asks for one (libvirt's passphrase and
        no-echo-prompt credentials).
      - When not set, the E(LIBVIRT_PASSWORD) environment variable is used.
      - Never logged and never part of a result.
    type: str
notes:
  - When the module fails, its result holds C(failed) and C(msg), one line that ends with libvirt's error code and
    domain when there are some. When libvirt reported the failure, C(error) holds libvirt's error as
    a dictionary, C(error.code) and C(error.domain) being libvirt's numbers, C(error.code_name) and
    C(error.domain_name) their names (for example V(VIR_ERR_NO_DOMAIN) and V(VIR_FROM_QEMU)) and C(error.message)
    libvirt's own message. C(hint), when set, says the likely cause and what to do about it; it is not repeated
    in C(msg). C(uri) is the URI of the connection the module used, once it was known.
requirements:
  - libvirt-python
  - lxml
seealso:
  - name: libvirt connection URIs
    description: The URI formats libvirt accepts, local and remote.
    link: https://libvirt.org/uri.html
'''
