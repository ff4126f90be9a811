# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for tests/reliability: module discovery, argument-spec capture, object snapshots, traps.

- ``uri_for(module)``: the URI a module is exercised on (the test driver, or the real daemon for the kinds the
  test driver does not implement).
- ``module_names()`` / ``capture_spec(name)``: every module in plugins/modules and the keyword arguments its
  main() hands to AnsibleModule (captured by patching AnsibleModule in the module's namespace; nothing runs).
- ``snapshot(conn)``: every object a connection sees (kind, identity) -> digest of its XML and state, so a
  test can prove a failed run changed nothing.
- ``FileCanary``: a file with a random token watched with inotify; ``opened()`` says whether any process
  (this one or libvirtd) opened it.
- ``LoopbackListener``: a TCP listener on 127.0.0.1 that records every connection made to it.
- ``hostile_documents(root, canary, listener)``: XML documents that try to read a file, fetch a URL, expand
  entities without bound, or are simply too big or too deep.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import importlib
import os
import secrets
import socket
import struct
import threading

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES_DIR = os.path.join(REPO, 'plugins', 'modules')
CONNECTION_OPTIONS = ('uri', 'readonly', 'username', 'password')

#: Modules whose kind the test driver does not implement: exercised on the real daemon.
DAEMON_MODULES = {'secret', 'secret_info', 'nwfilter', 'nwfilter_info'}
TEST_URI = 'test:///default'
QEMU_URI = 'qemu:///system'


def uri_for(module):
    """The URI a module is exercised on."""
    return QEMU_URI if module in DAEMON_MODULES else TEST_URI


def module_names():
    return sorted(f[:-3] for f in os.listdir(MODULES_DIR) if f.endswith('.py') and not f.startswith('_'))


class _Captured(Exception):
    pass


def capture_spec(name):
    """The keyword arguments module ``name`` passes to AnsibleModule (argument_spec, mutually_exclusive, ...)."""
    module = importlib.import_module('ansible_collections.sysvirt.libvirt.plugins.modules.%s' % name)
    captured = {}

    def fake(*args, **kwargs):
        captured.update(kwargs)
        raise _Captured()

    original = module.AnsibleModule
    module.AnsibleModule = fake
    try:
        module.main()
    except _Captured:
        pass
    finally:
        module.AnsibleModule = original
    if 'argument_spec' not in captured:
        raise AssertionError('module %s did not construct an AnsibleModule in main()' % name)
    return captured


# ---------------------------------------------------------------------------------------------- snapshots

def _digest(text):
    return hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:16]


def _safe(func, default=None):
    import libvirt
    try:
        return func()
    except libvirt.libvirtError:
        return default


class _Snapshot(dict):
    def __init__(self, token):
        super().__init__()
        if token is None or callable(token):
            self.keep = token
        else:
            self.keep = lambda key, text: token in repr(key) or token in text

    def __setitem__(self, key, text):
        if self.keep is not None and not self.keep(key, text):
            return
        super().__setitem__(key, _digest(text))


def snapshot(conn, kinds=None, token=None):
    """{(kind, identity): digest} of every object ``conn`` sees (definition and state).

    With ``token``, only objects whose identity or XML holds it (a shared daemon that others use too);
    ``token`` may also be a predicate ``keep((kind, identity), xml_text)``.
    """
    import libvirt
    kinds = kinds or ('domain', 'network', 'pool', 'volume', 'interface', 'secret', 'nwfilter', 'binding',
                      'nodedev', 'snapshot')
    out = _Snapshot(token)
    if 'domain' in kinds or 'snapshot' in kinds:
        for dom in _safe(conn.listAllDomains, []):
            name = _safe(dom.name)
            if name is None:
                continue
            inactive = _safe(lambda: dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), '') or ''
            state = _safe(dom.state, [None])[0]
            out[('domain', name)] = '%s|%s|%s|%s' % (inactive, state, _safe(dom.autostart), _safe(dom.isPersistent))
            if 'snapshot' in kinds:
                for snap in _safe(dom.listAllSnapshots, []) or []:
                    out[('snapshot', '%s/%s' % (name, snap.getName()))] = (_safe(snap.getXMLDesc, '') or '')
    if 'network' in kinds:
        for net in _safe(conn.listAllNetworks, []):
            out[('network', net.name())] = '%s|%s|%s' % (_safe(lambda: net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE), ''),
                                                         _safe(net.isActive), _safe(net.autostart))
    if 'pool' in kinds or 'volume' in kinds:
        for pool in _safe(conn.listAllStoragePools, []):
            pname = pool.name()
            out[('pool', pname)] = '%s|%s|%s' % (_safe(lambda: pool.XMLDesc(libvirt.VIR_STORAGE_XML_INACTIVE), ''),
                                                 _safe(pool.isActive), _safe(pool.autostart))
            if 'volume' in kinds and _safe(pool.isActive):
                for vol in _safe(pool.listAllVolumes, []) or []:
                    out[('volume', '%s/%s' % (pname, vol.name()))] = (_safe(vol.XMLDesc, '') or '')
    if 'interface' in kinds:
        for iface in _safe(conn.listAllInterfaces, []) or []:
            out[('interface', iface.name())] = '%s|%s' % (_safe(lambda: iface.XMLDesc(libvirt.VIR_INTERFACE_XML_INACTIVE), ''),
                                                          _safe(iface.isActive))
    if 'secret' in kinds:
        for sec in _safe(conn.listAllSecrets, []) or []:
            out[('secret', sec.UUIDString())] = ('%s|%s' % (_safe(sec.XMLDesc, ''), _value_digest(sec)))
    if 'nwfilter' in kinds:
        for flt in _safe(conn.listAllNWFilters, []) or []:
            out[('nwfilter', flt.name())] = (_safe(flt.XMLDesc, '') or '')
    if 'binding' in kinds:
        for binding in _safe(conn.listAllNWFilterBindings, []) or []:
            out[('binding', binding.portDev())] = (_safe(binding.XMLDesc, '') or '')
    if 'nodedev' in kinds:
        for dev in _safe(conn.listAllDevices, []) or []:
            out[('nodedev', dev.name())] = (_safe(dev.XMLDesc, '') or '')
    return dict(out)


def _value_digest(sec):
    import libvirt
    try:
        return hashlib.sha256(sec.value()).hexdigest()[:16]
    except libvirt.libvirtError:
        return '-'


def snapshot_changes(before, after, relevant=None):
    """Sorted list of (what, key) that differ; ``relevant(key)`` filters keys (shared daemons)."""
    changes = []
    for key in sorted(set(before) | set(after), key=repr):
        if relevant is not None and not relevant(key):
            continue
        if key not in before:
            changes.append(('added', key))
        elif key not in after:
            changes.append(('removed', key))
        elif before[key] != after[key]:
            changes.append(('changed', key))
    return changes


# ---------------------------------------------------------------------------------------------- traps

_IN_ACCESS = 0x1
_IN_OPEN = 0x20


class FileCanary:
    """A file holding a random token, watched with inotify for any open or read, by any process."""

    def __init__(self, directory):
        self.token = 'SYSVIRT-CANARY-' + secrets.token_hex(12)
        self.path = os.path.join(directory, 'sysvirt-test-canary-%s.txt' % secrets.token_hex(4))
        with open(self.path, 'w') as handle:
            handle.write(self.token)
        os.chmod(self.path, 0o644)
        libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
        self._fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), 'inotify_init1 failed')
        if libc.inotify_add_watch(self._fd, self.path.encode(), _IN_OPEN | _IN_ACCESS) < 0:
            raise OSError(ctypes.get_errno(), 'inotify_add_watch failed')
        self.events = []

    def opened(self):
        """True when the canary was opened or read since the last call (drains the events)."""
        found = False
        while True:
            try:
                data = os.read(self._fd, 4096)
            except BlockingIOError:
                break
            offset = 0
            while offset + 16 <= len(data):
                _wd, mask, _cookie, length = struct.unpack_from('iIII', data, offset)
                self.events.append(mask)
                found = True
                offset += 16 + length
        return found

    def close(self):
        os.close(self._fd)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class LoopbackListener:
    """A TCP listener on 127.0.0.1; ``connections`` counts every connection made to it."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                client, _addr = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            try:
                client.settimeout(1)
                client.recv(4096)
                client.sendall(b'HTTP/1.0 200 OK\r\nContent-Type: application/xml-dtd\r\n\r\n'
                               b'<!ENTITY leak "SYSVIRT-FETCHED">')
            except OSError:
                pass
            client.close()

    @property
    def url(self):
        return 'http://127.0.0.1:%d/sysvirt-test.dtd' % self.port

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def hostile_documents(root, body, canary, listener, attrs=''):
    """{label: document} for a document kind with root element ``root`` (``attrs`` in its start tag)."""
    file_url = 'file://' + canary.path
    start = '<%s%s>' % (root, (' ' + attrs) if attrs else '')
    end = '</%s>' % root
    laughs = ''.join('<!ENTITY l%d "&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;">' % ((i,) + (i - 1,) * 10)
                     for i in range(1, 10))
    xi_start = '<%s xmlns:xi="http://www.w3.org/2001/XInclude"%s>' % (root, (' ' + attrs) if attrs else '')
    xsi_start = ('<%s xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x %s"%s>'
                 % (root, listener.url, (' ' + attrs) if attrs else ''))
    return {
        'xxe-file': '<!DOCTYPE %s [<!ENTITY x SYSTEM "%s">]>%s%s<description>&x;</description>%s'
                    % (root, file_url, start, body, end),
        'xxe-http': '<!DOCTYPE %s [<!ENTITY x SYSTEM "%s">]>%s%s<description>&x;</description>%s'
                    % (root, listener.url, start, body, end),
        'external-dtd': '<?xml version="1.0"?><!DOCTYPE %s SYSTEM "%s">%s%s%s' % (root, listener.url, start, body, end),
        'external-dtd-file': '<!DOCTYPE %s SYSTEM "%s">%s%s%s' % (root, file_url, start, body, end),
        'parameter-entity': '<!DOCTYPE %s [<!ENTITY %% p SYSTEM "%s"> %%p;]>%s%s%s' % (root, listener.url, start, body, end),
        'billion-laughs': '<!DOCTYPE %s [<!ENTITY l0 "ha">%s]>%s%s<description>&l9;</description>%s'
                          % (root, laughs, start, body, end),
        'xinclude': '%s%s<description><xi:include href="%s" parse="text"/></description>%s' % (xi_start, body, file_url, end),
        'schema-location': '%s%s%s' % (xsi_start, body, end),
        'huge': '%s%s<description>%s</description>%s' % (start, body, 'A' * (11 * 1024 * 1024), end),
        'deep': '%s%s%s%s%s' % (start, body, '<a>' * 5000, '</a>' * 5000, end),
        'wrong-root': '<sysvirt-test-wrong>%s</sysvirt-test-wrong>' % body,
        'not-xml': '%s: {"body": "%s"}' % (root, body),
        'truncated': '%s%s<uuid>' % (start, body),
        'two-roots': '%s%s%s%s%s' % (start, body, end, start, end),
        'empty': '',
        'nul-byte': '%s%s<description>\x00</description>%s' % (start, body, end),
    }


#: Documents that may be a correct (accepted) definition: everything else must fail.
MAY_SUCCEED = ('xinclude', 'schema-location')


# ---------------------------------------------------------------------------------------------- checks

def strings_in(value):
    """Every string inside a (nested) argument value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings_in(k)
            yield from strings_in(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings_in(v)


def problems_with(result, args, module=''):
    """What is wrong with a module result, as a list of sentences (empty: a clean failure or a result).

    A failure needs a string msg on one line once the user's own strings are taken out of it (libvirt and
    Ansible quote names back), and no Python traceback anywhere in the result.
    """
    import json
    problems = []
    text = json.dumps(result)
    if 'Traceback (most recent call last)' in text:
        problems.append('%s: a traceback in the result' % module)
    if 'module_stderr' in result or 'exception' in result:
        problems.append('%s: module_stderr/exception in the result' % module)
    if 'changed' in result and not isinstance(result['changed'], bool):
        problems.append('%s: changed is not a bool' % module)
    if result.get('failed'):
        msg = result.get('msg')
        if not isinstance(msg, str) or not msg.strip():
            problems.append('%s: failure without a message: %r' % (module, msg))
        else:
            stripped = msg
            for s in sorted(set(strings_in(args)), key=len, reverse=True):
                if len(s) > 0:
                    stripped = stripped.replace(s, '')
                    # Ansible and libvirt sometimes quote a value back with repr() or escapes.
                    stripped = stripped.replace(repr(s), '').replace(s.replace('\n', '\\n'), '')
            if '\n' in stripped:
                problems.append('%s: the failure message spans several lines: %r' % (module, msg[:500]))
    return problems


# ---------------------------------------------------------------------------------------------- playbooks

def playbook_env(collections, **extra):
    """The environment for an ansible-playbook run of this collection (no colour, no localhost warning, modules
    run by this Python)."""
    import sys
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_HOST_KEY_CHECKING='0', ANSIBLE_RETRY_FILES_ENABLED='0')
    env.update(extra)
    return env


def start_playbook(args, env, output_path):
    """Start ansible-playbook ``args`` in its own process group, stdout and stderr to ``output_path``."""
    import subprocess
    import sys
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')] + list(args)
    with open(output_path, 'w') as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def finish_playbook(proc, output_path, timeout):
    """Wait up to ``timeout`` seconds for a start_playbook() process; (returncode, output).

    On timeout the whole process group (ansible-playbook and its forks) is killed and the returncode is None.
    """
    import signal
    import subprocess
    try:
        returncode = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        returncode = None
    with open(output_path, errors='replace') as handle:
        return returncode, handle.read()


def run_playbook(args, env, output_path, timeout):
    """ansible-playbook ``args``: (returncode or None on timeout, whole output)."""
    return finish_playbook(start_playbook(args, env, output_path), output_path, timeout)


_RECAP_FIELDS = ('ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored')


def play_recap(output):
    """{host: {'ok': n, 'changed': n, ...}} from the PLAY RECAP of the default callback."""
    import re
    recap = {}
    section = output.rsplit('PLAY RECAP', 1)[-1] if 'PLAY RECAP' in output else ''
    for line in section.splitlines():
        match = re.match(r'^(\S+)\s+:\s+(.*)$', line.strip())
        if not match:
            continue
        counts = dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', match.group(2)))
        if set(_RECAP_FIELDS) <= set(counts):
            recap[match.group(1)] = counts
    return recap


def remove_by_prefix(conn, prefixes):
    """Destroy and undefine every domain and network whose name starts with one of ``prefixes``; their names."""
    import libvirt
    gone = []
    for obj in list(_safe(conn.listAllDomains, []) or []) + list(_safe(conn.listAllNetworks, []) or []):
        name = _safe(obj.name)
        if not name or not name.startswith(tuple(prefixes)):
            continue
        if _safe(obj.isActive):
            _safe(obj.destroy)
        if isinstance(obj, libvirt.virDomain):
            _safe(lambda o=obj: o.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM))
        else:
            _safe(obj.undefine)
        gone.append(name)
    return gone
