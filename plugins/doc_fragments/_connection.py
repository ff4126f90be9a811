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
  keepalive_interval:
    description:
      - Seconds of silence on a remote connection after which libvirt sends a keepalive message to the daemon.
        When O(keepalive_count) of them in a row go unanswered, libvirt closes the connection and the running call
        fails, naming the hypervisor's URI, after about O(keepalive_interval) * (O(keepalive_count) + 1) seconds,
        instead of waiting many minutes for TCP to give up on a dead link.
      - V(0) turns keepalive off (a call on a dead link then hangs until TCP gives up).
      - Connections to drivers that run inside the module (V(test:///default)) have no keepalive.
    type: int
    default: 5
  keepalive_count:
    description:
      - How many keepalive messages in a row may go unanswered before the connection counts as dead, see
        O(keepalive_interval). V(0) closes the connection as soon as a keepalive message is due and the
        daemon has said nothing for O(keepalive_interval) seconds.
    type: int
    default: 5
notes:
  - When the module fails, its result holds C(failed) and C(msg), one line that ends with libvirt's error code and
    domain when there are some. When libvirt reported the failure, C(error) holds libvirt's error as
    a dictionary, C(error.code) and C(error.domain) being libvirt's numbers, C(error.code_name) and
    C(error.domain_name) their names (for example V(VIR_ERR_NO_DOMAIN) and V(VIR_FROM_QEMU)) and C(error.message)
    libvirt's own message. C(hint), when set, says the likely cause and what to do about it; it is not repeated
    in C(msg). C(uri) is the URI of the connection the module used, once it was known.
  - When the module fails after it changed the host, its result holds C(changed), true, and C(actions), what it
    did before the failure, in order. What was done stays done (nothing is rolled back, except by
    M(sysvirt.libvirt.host_interface), whose change transaction is), so the task, run again once the cause is
    fixed, carries on from there.
requirements:
  - libvirt-python
  - lxml
seealso:
  - name: libvirt connection URIs
    description: The URI formats libvirt accepts, local and remote.
    link: https://libvirt.org/uri.html
'''
