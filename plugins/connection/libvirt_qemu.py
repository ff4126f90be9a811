# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: libvirt_qemu
short_description: Run tasks in a QEMU guest through its guest agent, without network or SSH
version_added: 0.1.0
description:
  - Runs commands in a running QEMU/KVM guest and moves files in and out of it through the QEMU guest agent
    (C(qemu-ga)), reached with libvirt's C(qemuAgentCommand) on any libvirt URI, local or remote
    (for example C(qemu+ssh://admin@hypervisor/system)). The guest needs no network and no SSH server.
  - Commands run with the agent's C(guest-exec) and C(guest-exec-status) as C(/bin/sh -c <command>), with
    standard input (so B(pipelining) works and is on by default) and an environment. Files move with
    C(guest-file-open), C(guest-file-write), C(guest-file-read) and C(guest-file-close), in chunks (see
    O(put_chunk_size) and O(fetch_chunk_size)). Standard input larger than O(put_chunk_size) (most pipelined
    modules) is written to a file in the guest's C(/tmp) first (random name, mode 0600), which the command opens
    as its standard input and removes before it runs.
  - Commands run as the user the agent runs as, root on the usual Linux distributions. C(become) works through the
    guest's C(sudo) or C(su); a become password is handed to C(sudo -S) on standard input, since the agent gives
    commands no terminal (C(su) with a password therefore cannot work; from root it needs none).
  - "The agent must allow C(guest-exec), C(guest-exec-status) and C(guest-file-*). Some distributions block them
    by default (RHEL: C(BLOCK_RPCS) in C(/etc/sysconfig/qemu-ga)); the plugin says so, naming the agent's options
    that allow them again: C(--block-rpcs) or C(block-rpcs=) in the C([general]) section of
    C(/etc/qemu/qemu-ga.conf), and C(--allow-rpcs) (QEMU 8.1 and later)."
  - Linux and other POSIX guests only. Windows guests are not supported and not tested.
author:
  - sysvirt developers (@sysvirt)
requirements:
  - libvirt-python (C(libvirt) and C(libvirt_qemu)) on the controller
  - a C(org.qemu.guest_agent.0) virtio-serial channel in the guest's definition, and C(qemu-guest-agent)
    running in the guest
  - C(/bin/sh) in the guest, and Python for modules other than C(raw)
options:
  remote_addr:
    description:
      - The guest, by libvirt domain name or UUID.
      - C(ansible_libvirt_domain) takes precedence over C(ansible_host), so an inventory may keep an address in
        C(ansible_host) for other plugins.
    type: str
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_libvirt_domain
  uri:
    description:
      - The libvirt URI of the hypervisor that runs the guest. Any URI whose driver is QEMU works, remote ones too.
    type: str
    default: qemu:///system
    vars:
      - name: ansible_libvirt_uri
    env:
      - name: LIBVIRT_DEFAULT_URI
  libvirt_username:
    description: User name for libvirt's authentication (SASL), when the URI asks for one.
    type: str
    vars:
      - name: ansible_libvirt_username
    env:
      - name: LIBVIRT_USERNAME
  libvirt_password:
    description: Password for libvirt's authentication (SASL), when the URI asks for one.
    type: str
    vars:
      - name: ansible_libvirt_password
    env:
      - name: LIBVIRT_PASSWORD
  agent_timeout:
    description:
      - Seconds to wait for the agent to answer one request (a command start, a status poll, a file chunk).
      - A guest whose agent does not answer within this time fails with a hint instead of hanging.
    type: int
    default: 30
    vars:
      - name: ansible_libvirt_agent_timeout
    env:
      - name: SYSVIRT_LIBVIRT_AGENT_TIMEOUT
    ini:
      - section: sysvirt_libvirt_qemu_connection
        key: agent_timeout
  command_timeout:
    description:
      - Seconds a command may run in the guest before the task fails. V(0) waits as long as the command runs.
      - The command itself keeps running in the guest when this time is up; the agent cannot end it.
    type: int
    default: 0
    vars:
      - name: ansible_libvirt_command_timeout
    env:
      - name: SYSVIRT_LIBVIRT_COMMAND_TIMEOUT
    ini:
      - section: sysvirt_libvirt_qemu_connection
        key: command_timeout
  put_chunk_size:
    description:
      - Bytes sent per C(guest-file-write) request when copying a file into the guest, and the largest standard
        input (a pipelined module) sent inline with C(guest-exec); larger input goes to a temporary file in the
        guest first, written in chunks of this size.
      - The agent parses each request as JSON; requests above about 250 kB (Base64 makes a chunk a third
        larger) failed with C(JSON parse error) in qemu-ga 7.2, so values above 147456 are lowered to it.
    type: int
    default: 98304
    vars:
      - name: ansible_libvirt_put_chunk_size
    env:
      - name: SYSVIRT_LIBVIRT_PUT_CHUNK_SIZE
    ini:
      - section: sysvirt_libvirt_qemu_connection
        key: put_chunk_size
  fetch_chunk_size:
    description:
      - Bytes asked for per C(guest-file-read) request when fetching a file from the guest.
      - The Base64-encoded answer must fit in one libvirt message (4 MiB), so values above 3000000 are lowered to
        it.
    type: int
    default: 1048576
    vars:
      - name: ansible_libvirt_fetch_chunk_size
    env:
      - name: SYSVIRT_LIBVIRT_FETCH_CHUNK_SIZE
    ini:
      - section: sysvirt_libvirt_qemu_connection
        key: fetch_chunk_size
  command_environment:
    description:
      - Environment of every command, on top of C(PATH), C(HOME), C(LANG), C(USER) and C(LOGNAME) of the user the
        agent runs as (root, C(HOME=/root) unless set here). The agent starts commands with exactly this
        environment, not its own.
      - A task's C(environment) keyword works as with every connection (Ansible puts it into the command).
    type: dict
    default: {}
    vars:
      - name: ansible_libvirt_environment
  pipelining:
    description:
      - Send modules to the guest's Python on standard input instead of copying them to a file first.
        The agent takes standard input with the command, so this works, also with C(become).
    type: bool
    default: true
    vars:
      - name: ansible_pipelining
      - name: ansible_libvirt_pipelining
    env:
      - name: ANSIBLE_PIPELINING
    ini:
      - section: defaults
        key: pipelining
notes:
  - The agent keeps at most 16 MiB of a command's output (QEMU's limit); longer output is cut there.
  - Every request carries Base64 text inside libvirt's messages, so a copy costs about a third more than its size
    on the libvirt connection.
seealso:
  - name: QEMU guest agent protocol
    description: The commands this plugin uses (guest-exec, guest-file-open, ...).
    link: https://www.qemu.org/docs/master/interop/qemu-ga-ref.html
  - module: sysvirt.libvirt.domain_guest_agent
'''

EXAMPLES = r'''
# inventory.ini: the guest 'web1' on the local hypervisor, and 'db1' on a remote one, both reached through the agent
# [guests]
# web1
# db1 ansible_libvirt_uri=qemu+ssh://admin@hv2.example.com/system ansible_libvirt_agent_timeout=60
# [guests:vars]
# ansible_connection=sysvirt.libvirt.libvirt_qemu

- name: Configure guests that have no network yet
  hosts: guests
  gather_facts: true
  tasks:
    - name: Copy a file in
      ansible.builtin.copy:
        src: files/motd
        dest: /etc/motd
        mode: '0644'

    - name: Run a command as another user (sudo in the guest)
      ansible.builtin.command: id -un
      become: true
      become_user: nobody
      changed_when: false

- name: Long-running commands get more time, fetches smaller chunks (a slow agent)
  hosts: guests
  vars:
    ansible_libvirt_command_timeout: 3600
    ansible_libvirt_fetch_chunk_size: 262144
  tasks:
    - name: Fetch a log
      ansible.builtin.fetch:
        src: /var/log/dpkg.log
        dest: logs/
'''

import base64
import io
import json
import os
import secrets
import time

try:
    import libvirt
    import libvirt_qemu
except ImportError:
    libvirt = libvirt_qemu = None

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from ansible_collections.sysvirt.libvirt.plugins.module_utils._agent import AGENT_HINT, require_agent
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import LibvirtFailure, failure_from
from ansible_collections.sysvirt.libvirt.plugins.plugin_utils._libvirt import PluginConnection, plugin_error

display = Display()

REQUIRED_COMMANDS = ('guest-exec', 'guest-exec-status', 'guest-file-open', 'guest-file-write',
                     'guest-file-read', 'guest-file-close')
MAX_PUT_CHUNK = 147456
MAX_FETCH_CHUNK = 3000000
# Standard input too large for one guest-exec request goes to a file in the guest; the command opens it as its
# standard input, removes it and runs: sh -c SCRIPT COMMAND FILE ($0 is the command, $1 the file).
STDIN_FROM_FILE = 'exec <"$1" && rm -f -- "$1" && exec /bin/sh -c "$0"'
BLOCKED_HINT = ("Allow %s in the guest's qemu-ga, then restart qemu-guest-agent: remove them from its "
                "--block-rpcs option (RHEL: BLOCK_RPCS in /etc/sysconfig/qemu-ga) or from block-rpcs= in the "
                "[general] section of /etc/qemu/qemu-ga.conf (comma-separated), or, with qemu-ga 8.1 and later, "
                "add them to --allow-rpcs / allow-rpcs= when that is set.")
TIMEOUT_HINT = ("The agent did not answer within agent_timeout (%ss). Is qemu-guest-agent running in the guest "
                "(systemctl status qemu-guest-agent)? A busy or slow (TCG) guest may need a larger "
                "ansible_libvirt_agent_timeout.")


def _lookup_domain(conn, name):
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError as e:
        if e.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise failure_from(e, 'look up the guest %s' % name)
    try:
        return conn.lookupByUUIDString(name)
    except libvirt.libvirtError:
        raise LibvirtFailure('No guest named %s (nor with that UUID) on %s' % (name, conn.getURI()),
                             hint='Set ansible_libvirt_domain (or ansible_host) to the libvirt domain name, and '
                                  'ansible_libvirt_uri to the hypervisor that runs it.')


def _b64(data):
    return base64.b64encode(data).decode('ascii')


class Connection(ConnectionBase):
    """Ansible tasks in a QEMU guest through its guest agent."""

    transport = 'sysvirt.libvirt.libvirt_qemu'
    has_pipelining = True
    has_tty = False

    def __init__(self, *args, **kwargs):
        super(Connection, self).__init__(*args, **kwargs)
        self._libvirt = None
        self._domain = None
        self._name = None

    # --- the agent -------------------------------------------------------------------
    def _agent(self, command, arguments=None, what=None):
        """One agent request; its 'return' value. Failures become AnsibleConnectionFailure with a hint."""
        request = {'execute': command}
        if arguments:
            request['arguments'] = arguments
        timeout = int(self.get_option('agent_timeout'))
        try:
            reply = libvirt_qemu.qemuAgentCommand(self._domain, json.dumps(request), timeout, 0)
        except libvirt.libvirtError as e:
            raise self._agent_error(e, command, what or command, timeout)
        return json.loads(reply).get('return')

    def _agent_error(self, error, command, what, timeout):
        failure = failure_from(error, '%s in %s (agent command %s)' % (what, self._name, command))
        text = (failure.libvirt_message or '').lower()
        if 'has been disabled' in text:  # qemu-ga: "Command guest-exec has been disabled"
            failure.hint = BLOCKED_HINT % command
        elif 'not connected' in text:  # the agent stopped (or restarts) while the connection was in use
            failure.hint = AGENT_HINT
        elif error.get_error_code() == getattr(libvirt, 'VIR_ERR_AGENT_UNRESPONSIVE', -1) or 'timeout' in text \
                or 'not responding' in text:  # libvirt's "Guest agent not available for now" is its timeout
            failure.hint = TIMEOUT_HINT % timeout
        return AnsibleConnectionFailure(failure.full_message())

    def _connect(self):
        if self._connected:
            return self
        if libvirt_qemu is None:
            raise AnsibleError('The sysvirt.libvirt.libvirt_qemu connection needs libvirt-python (libvirt and '
                               'libvirt_qemu) on the controller: pip install libvirt-python')
        self._name = self.get_option('remote_addr')
        uri = self.get_option('uri')
        self._libvirt = PluginConnection(uri, False, self.get_option('libvirt_username'),
                                         self.get_option('libvirt_password'))
        try:
            conn = self._libvirt.open()
            self._domain = _lookup_domain(conn, self._name)
            require_agent(conn, self._domain)
        except (LibvirtFailure, libvirt.libvirtError) as e:
            self._libvirt.close()
            raise AnsibleConnectionFailure(to_native(plugin_error(e)))
        display.vvv(u'AGENT CONNECT %s on %s' % (self._name, uri), host=self._name)
        self._check_commands()
        self._connected = True
        return self

    def _check_commands(self):
        info = self._agent('guest-info', what='ask the agent which commands it allows') or {}
        enabled = dict((c.get('name'), c.get('enabled', True)) for c in info.get('supported_commands', ()))
        blocked = [c for c in REQUIRED_COMMANDS if enabled.get(c) is False]
        missing = [c for c in REQUIRED_COMMANDS if c not in enabled]
        if blocked:
            raise AnsibleConnectionFailure(
                'The QEMU guest agent of %s blocks %s, which this connection needs. Hint: %s'
                % (self._name, ', '.join(blocked), BLOCKED_HINT % ', '.join(blocked)))
        if missing:
            raise AnsibleConnectionFailure(
                'The QEMU guest agent of %s (version %s) does not know %s. Hint: update qemu-guest-agent in the '
                'guest.' % (self._name, info.get('version', 'unknown'), ', '.join(missing)))

    # --- commands ----------------------------------------------------------------------
    def _environment(self):
        env = {'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME': '/root',
               'LANG': 'C.UTF-8', 'USER': 'root', 'LOGNAME': 'root'}
        env.update(dict((str(k), str(v)) for k, v in (self.get_option('command_environment') or {}).items()))
        return ['%s=%s' % item for item in sorted(env.items())]

    def _become_input(self, sudoable):
        """The become password to put in front of standard input, or b''."""
        if not (sudoable and self.become and self.become.expect_prompt()):
            return b''
        if self.become.name.split('.')[-1] != 'sudo':
            raise AnsibleError('become_method %s with a password cannot work through the guest agent: the agent '
                               'gives commands no terminal to type it in. Use sudo (it reads the password on '
                               'standard input), or a become setup that needs no password.' % self.become.name)
        password = self.become.get_option('become_pass', playcontext=self._play_context) or ''
        return to_bytes(password) + b'\n'

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        display.vvv(u'AGENT EXEC %s' % cmd, host=self._name)
        stdin = self._become_input(sudoable) + (in_data or b'')
        arguments = {'path': '/bin/sh', 'arg': ['-c', to_native(cmd)], 'env': self._environment(),
                     'capture-output': True}
        if len(stdin) > self._put_chunk_size():
            path = '/tmp/.sysvirt-libvirt-qemu-stdin-%s' % secrets.token_hex(16)
            display.vvv(u'AGENT STDIN %d bytes through %s' % (len(stdin), path), host=self._name)
            self._put_bytes(stdin, path)
            arguments['arg'] = ['-c', STDIN_FROM_FILE, to_native(cmd), path]
        elif stdin:
            arguments['input-data'] = _b64(stdin)
        pid = self._agent('guest-exec', arguments, what='start a command')['pid']
        status = self._wait(pid)
        stdout = base64.b64decode(status.get('out-data', ''))
        stderr = base64.b64decode(status.get('err-data', ''))
        if status.get('out-truncated') or status.get('err-truncated'):
            display.warning('The guest agent cut the output of a command in %s at its 16 MiB limit.' % self._name)
        if 'exitcode' in status:
            rc = status['exitcode']
        else:  # ended by a signal
            rc = 128 + int(status.get('signal', 0))
        if self.become and sudoable and self.become.expect_prompt():
            stderr = self._strip_prompt(stderr)
        return rc, stdout, stderr

    def _strip_prompt(self, stderr):
        prompt = to_bytes(getattr(self.become, 'prompt', '') or '')
        return stderr.replace(prompt, b'', 1) if prompt else stderr

    def _wait(self, pid):
        """Poll guest-exec-status until the command ends (or command_timeout passes)."""
        limit = int(self.get_option('command_timeout'))
        start = time.monotonic()
        delay = 0.005
        while True:
            status = self._agent('guest-exec-status', {'pid': pid}, what='wait for a command')
            if status.get('exited'):
                return status
            if limit and time.monotonic() - start > limit:
                raise AnsibleConnectionFailure(
                    'A command in %s still runs after command_timeout (%ss); it is left running there (pid %s). '
                    'Hint: raise ansible_libvirt_command_timeout, or 0 for no limit.' % (self._name, limit, pid))
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    # --- files -------------------------------------------------------------------------
    def _put_chunk_size(self):
        return max(4096, min(int(self.get_option('put_chunk_size')), MAX_PUT_CHUNK))

    def _open(self, path, mode):
        return self._agent('guest-file-open', {'path': path, 'mode': mode}, what='open %s' % path)

    def _close(self, handle, path):
        self._agent('guest-file-close', {'handle': handle}, what='close %s' % path)

    def _put_stream(self, source, out_path):
        """Write what ``source`` (a binary file object) holds to ``out_path`` in the guest."""
        size = self._put_chunk_size()
        handle = self._open(out_path, 'wb')
        try:
            while True:
                chunk = source.read(size)
                if not chunk:
                    break
                self._write(handle, chunk, out_path)
        finally:
            self._close(handle, out_path)

    def _put_bytes(self, data, out_path):
        self._put_stream(io.BytesIO(data), out_path)

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        display.vvv(u'AGENT PUT %s TO %s' % (in_path, out_path), host=self._name)
        if not os.path.isfile(to_bytes(in_path)):
            raise AnsibleFileNotFound('file or module does not exist: %s' % in_path)
        with open(to_bytes(in_path), 'rb') as source:
            self._put_stream(source, out_path)

    def _write(self, handle, chunk, path):
        view = memoryview(chunk)
        while view:
            written = self._agent('guest-file-write', {'handle': handle, 'buf-b64': _b64(view)},
                                  what='write %s' % path)['count']
            if written <= 0:
                raise AnsibleError('The guest agent wrote nothing to %s in %s (disk full?)' % (path, self._name))
            view = view[written:]

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        display.vvv(u'AGENT FETCH %s TO %s' % (in_path, out_path), host=self._name)
        size = max(4096, min(int(self.get_option('fetch_chunk_size')), MAX_FETCH_CHUNK))
        handle = self._open(in_path, 'rb')
        try:
            with open(to_bytes(out_path), 'wb') as target:
                while True:
                    answer = self._agent('guest-file-read', {'handle': handle, 'count': size},
                                         what='read %s' % in_path)
                    target.write(base64.b64decode(answer.get('buf-b64', '')))
                    if answer.get('eof') or not answer.get('count'):
                        break
        finally:
            self._close(handle, in_path)

    def reset(self):
        self.close()

    def close(self):
        if self._libvirt is not None:
            self._libvirt.close()
        self._libvirt = None
        self._domain = None
        self._connected = False
