# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one connection layer of sysvirt.libvirt, shared by modules and plugins.

Private to this collection: the names here may change without notice.

Modules use ``module_connection(module)``; plugins use ``LibvirtConnection``
directly and turn ``LibvirtFailure`` into ``AnsibleError``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import traceback
from urllib.parse import urlparse

try:
    import libvirt
except ImportError:
    libvirt = None
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()
else:
    LIBVIRT_IMPORT_ERROR = None

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._xml import XMLInputError

DEFAULT_URI = 'qemu:///system'
URI_ENV = 'LIBVIRT_DEFAULT_URI'
USERNAME_ENV = 'LIBVIRT_USERNAME'
PASSWORD_ENV = 'LIBVIRT_PASSWORD'

# The options every module takes; documented once in doc_fragments/connection.py.
CONNECTION_ARGUMENT_SPEC = dict(
    uri=dict(type='str', fallback=(env_fallback, [URI_ENV])),
    readonly=dict(type='bool', default=False),
    username=dict(type='str', fallback=(env_fallback, [USERNAME_ENV])),
    password=dict(type='str', no_log=True, fallback=(env_fallback, [PASSWORD_ENV])),
    keepalive_interval=dict(type='int', default=5),
    keepalive_count=dict(type='int', default=5),
)


def missing_library():
    """(PyPI name, import traceback) of the first Python package this collection needs that did not import
    (libvirt-python, then lxml), or None when both did."""
    if libvirt is None:
        return 'libvirt-python', LIBVIRT_IMPORT_ERROR
    if _xml.etree is None:
        return 'lxml', _xml.LXML_IMPORT_ERROR
    return None


def require_libraries(module):
    """Fail the module with Ansible's missing_required_lib message when libvirt-python or lxml did not import.

    Every module's main() calls this right after creating its AnsibleModule.
    """
    missing = missing_library()
    if missing is not None:
        module.fail_json(msg=missing_required_lib(missing[0]), exception=missing[1])


def connection_argument_spec(spec=None):
    """Return a module's argument spec with the connection options added."""
    result = dict((k, dict(v)) for k, v in CONNECTION_ARGUMENT_SPEC.items())
    result.update(spec or {})
    return result


class LibvirtFailure(Exception):
    """A failure to report to the user: one line, libvirt's code and domain, a hint."""

    def __init__(self, msg, code=None, domain=None, hint=None, libvirt_message=None):
        super(LibvirtFailure, self).__init__(msg)
        self.msg = msg
        self.code = code
        self.domain = domain
        self.hint = hint
        self.libvirt_message = libvirt_message

    @property
    def code_name(self):
        return error_code_name(self.code)

    @property
    def domain_name(self):
        return error_domain_name(self.domain)

    def fail_kwargs(self):
        """Keyword arguments for ``AnsibleModule.fail_json``: ``msg`` is one line (the message and libvirt's code
        and domain); the hint is its own key, ``hint``, as the default callback shows it on a line of its own."""
        kwargs = dict(msg=self.one_line())
        if self.code is not None:
            kwargs['error'] = dict(
                code=self.code, code_name=self.code_name,
                domain=self.domain, domain_name=self.domain_name,
                message=self.libvirt_message,
            )
        if self.hint:
            kwargs['hint'] = self.hint
        return kwargs

    def one_line(self):
        """The message with libvirt's code and domain, on one line, without the hint."""
        msg = self.msg
        if self.code is not None:
            msg = '%s [libvirt error %s (%s), domain %s (%s)]' % (
                msg, self.code, self.code_name, self.domain, self.domain_name)
        return ' '.join(msg.split())

    def full_message(self):
        """The one-line message, then the hint on a line of its own (what plugins raise and warnings say)."""
        if not self.hint:
            return self.one_line()
        return '%s\nHint: %s' % (self.one_line(), ' '.join(self.hint.split()))


def _constant_names(prefix, exclude=()):
    names = {}
    if libvirt is None:
        return names
    for name in dir(libvirt):
        if name.startswith(prefix) and name not in exclude:
            value = getattr(libvirt, name)
            if isinstance(value, int):
                names.setdefault(value, name)
    return names


_CODE_NAMES = None
_DOMAIN_NAMES = None


def error_code_name(code):
    global _CODE_NAMES
    if code is None:
        return None
    if _CODE_NAMES is None:
        # VIR_ERR_NONE/WARNING/ERROR are error levels, not codes.
        _CODE_NAMES = _constant_names('VIR_ERR_', exclude=('VIR_ERR_NONE', 'VIR_ERR_WARNING', 'VIR_ERR_ERROR'))
    return _CODE_NAMES.get(code, 'unknown')


def error_domain_name(domain):
    global _DOMAIN_NAMES
    if domain is None:
        return None
    if _DOMAIN_NAMES is None:
        _DOMAIN_NAMES = _constant_names('VIR_FROM_')
    return _DOMAIN_NAMES.get(domain, 'unknown')


_DAEMON_HINT = ("Is the libvirt daemon (libvirtd, or virtqemud and friends) running on the target host, "
                "and is the URI right? Start it, e.g. 'systemctl start libvirtd'.")
_PERMISSION_HINT = ("The user running the module may not use this libvirt socket: run the task as root "
                    "(become: true), add the user to the 'libvirt' group, or use a qemu:///session URI.")
_AUTH_HINT = ("Check username and password (options, or the LIBVIRT_USERNAME / LIBVIRT_PASSWORD environment "
              "variables) and the server's authentication settings.")
_READONLY_HINT = ("The connection is read-only (readonly: true). This task changes something and needs a "
                  "read-write connection.")
_URI_HINT = ("Unknown URI scheme or a hypervisor driver that is not installed. Examples of valid URIs: "
             "qemu:///system, qemu+ssh://user@host/system, qemu+tls://host/system, test:///default.")
_TLS_HINT = ("A remote URI without '+transport' (and one whose scheme libvirt does not know, e.g. 'bogus://host') "
             "uses TLS, which needs libvirt's CA and client certificates on this host (/etc/pki/CA/cacert.pem, "
             "/etc/pki/libvirt/). Check the URI's scheme, or use qemu+ssh://user@host/system.")


_HOST_KEY_HINT = ("The SSH host key of the hypervisor is not in the known_hosts file the URI names (known_hosts=, "
                  "or ~/.ssh/known_hosts), and unknown host keys are never accepted. Add the key to that file after "
                  "checking its fingerprint (ssh-keyscan), or set known_hosts_verify=auto in the URI to accept and "
                  "store new keys.")
_TLS_REFUSED_HINT = ("The server closed the TLS connection after the handshake: it refused this client's certificate "
                     "(none given, not signed by the server's CA, or its name not in the server's "
                     "tls_allowed_dn_list). Check clientcert.pem and clientkey.pem in the URI's pkipath (or "
                     "/etc/pki/libvirt/), and the server's libvirtd log.")


def hint_for(code, domain, message):
    """A hint for the common failures, or None."""
    if libvirt is None:
        return None
    text = (message or '').lower()
    if code == libvirt.VIR_ERR_OPERATION_DENIED or 'read only access' in text or 'read-only' in text:
        return _READONLY_HINT
    if code in (libvirt.VIR_ERR_AUTH_FAILED, libvirt.VIR_ERR_AUTH_CANCELLED,
                getattr(libvirt, 'VIR_ERR_AUTH_UNAVAILABLE', -1)) or 'authentication' in text:
        if 'permission denied' in text or 'polkit' in text or 'authentication unavailable' in text:
            return _PERMISSION_HINT
        return _AUTH_HINT
    if 'permission denied' in text or code == getattr(libvirt, 'VIR_ERR_ACCESS_DENIED', -1):
        return _PERMISSION_HINT
    if code == libvirt.VIR_ERR_NO_CONNECT and 'no connection driver' in text:
        return _URI_HINT
    if 'unexpected' in text and 'uri' in text:
        return _URI_HINT
    if 'ca certificate' in text or 'client certificate' in text:
        return _TLS_HINT
    if 'tls confirmation' in text:
        return _TLS_REFUSED_HINT
    transport = domain in (libvirt.VIR_FROM_RPC, libvirt.VIR_FROM_REMOTE) or code == libvirt.VIR_ERR_NO_CONNECT
    if transport and code in (libvirt.VIR_ERR_NO_CONNECT, libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_RPC) and (
            'failed to connect socket' in text or 'no such file' in text or 'connection refused' in text
            or 'cannot recv data' in text or 'end of file while reading' in text
            or 'client socket is closed' in text or 'not connected' in text):
        return _DAEMON_HINT
    if code == libvirt.VIR_ERR_INVALID_CONN or 'connection closed' in text:
        return _DAEMON_HINT
    return None


def failure_from(error, what):
    """Turn a libvirtError into a LibvirtFailure saying 'Failed to <what>: <libvirt message>'."""
    code = error.get_error_code()
    domain = error.get_error_domain()
    message = error.get_error_message() or str(error)
    return LibvirtFailure('Failed to %s: %s' % (what, message), code=code, domain=domain,
                          hint=hint_for(code, domain, message), libvirt_message=message)


class call:
    """Context manager turning a libvirtError into LibvirtFailure('Failed to <what>: ...')."""

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and libvirt is not None and isinstance(exc, libvirt.libvirtError):
            raise failure_from(exc, self.what)
        return False


def lookup(func, *args):
    """Call a libvirt lookup; return None when the object does not exist, raise LibvirtFailure otherwise."""
    try:
        return func(*args)
    except libvirt.libvirtError as e:
        if e.get_error_code() in _not_found_codes():
            return None
        raise failure_from(e, 'look up %s' % ', '.join(str(a) for a in args))


def _not_found_codes():
    names = ('VIR_ERR_NO_DOMAIN', 'VIR_ERR_NO_NETWORK', 'VIR_ERR_NO_STORAGE_POOL', 'VIR_ERR_NO_STORAGE_VOL',
             'VIR_ERR_NO_INTERFACE', 'VIR_ERR_NO_NODE_DEVICE', 'VIR_ERR_NO_SECRET', 'VIR_ERR_NO_NWFILTER',
             'VIR_ERR_NO_NWFILTER_BINDING', 'VIR_ERR_NO_DOMAIN_SNAPSHOT', 'VIR_ERR_NO_DOMAIN_CHECKPOINT',
             'VIR_ERR_NO_NETWORK_PORT', 'VIR_ERR_NO_DOMAIN_BACKUP')
    return set(getattr(libvirt, n) for n in names if hasattr(libvirt, n))


_CRED_NAMES = ('VIR_CRED_USERNAME', 'VIR_CRED_AUTHNAME', 'VIR_CRED_LANGUAGE', 'VIR_CRED_CNONCE',
               'VIR_CRED_PASSPHRASE', 'VIR_CRED_ECHOPROMPT', 'VIR_CRED_NOECHOPROMPT', 'VIR_CRED_REALM',
               'VIR_CRED_EXTERNAL')


class _Credentials:
    """Answers libvirt's authentication callback from the configured username and password.

    Identity prompts (authname, username, echo prompt) get the username; secret prompts
    (passphrase, no-echo prompt) get the password; realm, language, cnonce and external take
    libvirt's default. A prompt we have no answer for fails the authentication, which libvirt
    reports as such; we never prompt on a terminal. libssh's question whether to accept a host
    key that is not in known_hosts is always answered no.
    """

    def __init__(self, username, password):
        self.username = username
        self.password = password
        self.asked = []
        self.refused_host_key = False

    def types(self):
        return [getattr(libvirt, n) for n in _CRED_NAMES if hasattr(libvirt, n)]

    def __call__(self, credentials, opaque):
        for cred in credentials:
            ctype, default = cred[0], cred[3]
            self.asked.append(ctype)
            if ctype == libvirt.VIR_CRED_ECHOPROMPT and 'host key' in (cred[1] or '').lower():
                # libssh/libssh2 ask whether to accept (and store) a host key missing from known_hosts: never.
                self.refused_host_key = True
                return -1
            if ctype in (libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_USERNAME, libvirt.VIR_CRED_ECHOPROMPT):
                answer = self.username if self.username is not None else default
            elif ctype in (libvirt.VIR_CRED_PASSPHRASE, libvirt.VIR_CRED_NOECHOPROMPT):
                answer = self.password
            else:
                answer = default if default is not None else ''
            if answer is None:
                return -1
            cred[4] = answer
        return 0


def _silence_libvirt():
    # libvirt prints every error on stderr unless a handler is registered; we report them ourselves.
    libvirt.registerErrorHandler(lambda ctx, err: None, None)


_KEEPALIVE_HINT = ("The hypervisor stopped answering during the call (libvirt's keepalive found the link or the "
                   "daemon dead). Check the network path to it and that its libvirt daemon runs; what the call "
                   "changed before, if anything, may have been done.")


def keepalive_failure(failure, uri):
    """A LibvirtFailure of a connection that libvirt's keepalive closed, made to name the hypervisor's URI."""
    text = (failure.libvirt_message or failure.msg or '').lower()
    if 'keepalive' not in text or uri in failure.msg:
        return failure
    failure.msg = 'Lost the connection to %s: %s' % (uri, failure.msg)
    failure.hint = _KEEPALIVE_HINT
    return failure


class LibvirtConnection:
    """One libvirt connection: ``with LibvirtConnection(uri) as conn: ...``; always closed.

    ``keepalive_interval`` (seconds, > 0) and ``keepalive_count``: libvirt sends a keepalive message after that
    many seconds of silence and closes the connection when ``keepalive_count`` of them in a row go unanswered, so
    a call on a dead link fails after about interval * (count + 1) seconds instead of waiting for TCP (minutes).
    libvirt runs keepalive only with an event loop, so one is registered first (_events.py); drivers that run in
    this process (test:///default) have no keepalive and ignore it. 0 or None: libvirt's default, which for a
    process without an event loop is no keepalive.
    """

    def __init__(self, uri=None, readonly=False, username=None, password=None, events=False,
                 keepalive_interval=None, keepalive_count=None):
        self.uri = uri or os.environ.get(URI_ENV) or DEFAULT_URI
        self.readonly = bool(readonly)
        self.username = username
        self.password = password
        #: Register libvirt's event loop before opening, so the connection delivers events (see _events.py).
        self.events = bool(events)
        self.keepalive = None
        if keepalive_interval and keepalive_interval > 0:
            self.keepalive = (int(keepalive_interval), max(0, int(keepalive_count or 0)))
        self.conn = None

    def _start_keepalive(self):
        try:
            self.conn.setKeepAlive(*self.keepalive)
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
                self.close()
                raise failure_from(e, 'start keepalive on %s' % self.uri)
        except (OverflowError, TypeError, ValueError):
            self.close()  # never left open: an open test:///default keeps the driver's state for the process
            raise

    def open(self):
        if libvirt is None:
            raise LibvirtFailure(missing_required_lib('libvirt-python'))
        _silence_libvirt()
        if self.events or self.keepalive:
            from ansible_collections.sysvirt.libvirt.plugins.module_utils._events import ensure_event_loop
            ensure_event_loop()
        creds = _Credentials(self.username, self.password)
        flags = libvirt.VIR_CONNECT_RO if self.readonly else 0
        try:
            self.conn = libvirt.openAuth(self.uri, [creds.types(), creds, None], flags)
        except libvirt.libvirtError as e:
            failure = failure_from(e, 'connect to %s' % self.uri)
            if failure.hint is None and creds.asked:
                failure.hint = _AUTH_HINT
            if 'missing authentication credentials' in (failure.libvirt_message or '').lower():
                failure.hint = _AUTH_HINT
            if creds.refused_host_key:
                failure.hint = _HOST_KEY_HINT
            raise failure
        if self.conn is None:
            raise LibvirtFailure('Failed to connect to %s' % self.uri, hint=_DAEMON_HINT)
        if self.keepalive:
            self._start_keepalive()
        return self.conn

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass
            self.conn = None

    def __enter__(self):
        return self.open()

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False


_UNUSABLE_CHARACTERS = re.compile(u'[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')


def _option_with_nul(value, path=''):
    """(option path ``a.b[0]``, character) of the first string holding a NUL or another character XML cannot
    carry (C0 controls but tab, newline, carriage return; U+FFFE, U+FFFF), or None."""
    if isinstance(value, str):
        found = _UNUSABLE_CHARACTERS.search(value)
        return (path, found.group()) if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _option_with_nul(item, '%s.%s' % (path, key) if path else str(key))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _option_with_nul(item, '%s[%d]' % (path, index))
            if found:
                return found
    return None


def exit_module(module, result):
    """exit_json with the result's ``warnings`` list given to module.warn (ansible-core deprecates the key), and
    its ``diff`` kept only in diff mode (``--diff``), so a module may always put its diff in the result."""
    if not getattr(module, '_diff', False):
        result.pop('diff', None)
    for warning in result.pop('warnings', None) or ():
        module.warn(warning)
    module.exit_json(**result)


# Attributes that carry secrets in libvirt documents (graphics passwords, auth passphrases).
_XML_SECRET_RE = re.compile(r"""\b(?:passwd|password|passphrase)\s*=\s*(["'])(.*?)\1""", re.S)


def hide_xml_secrets(module):
    """Treat passwords written in XML-valued options as no_log values: masked in results and invocation."""
    module.no_log_values.update(xml_secrets(module.params))


def xml_secrets(value):
    """The passwords written in the XML strings of ``value`` (an option's value: nested lists and dicts are
    searched too, so the XML of a bulk item is covered)."""
    found = set()
    if isinstance(value, str) and '<' in value:
        found.update(match.group(2) for match in _XML_SECRET_RE.finditer(value) if match.group(2))
    elif isinstance(value, dict):
        for item in value.values():
            found.update(xml_secrets(item))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.update(xml_secrets(item))
    return found


#: The largest value libvirt's int parameters take (keepalive interval and count).
_C_INT_MAX = 2 ** 31 - 1


def connection_from_params(params, events=False):
    """The (unopened) LibvirtConnection of a module's connection options."""
    return LibvirtConnection(params.get('uri'), params.get('readonly'), params.get('username'),
                             params.get('password'), events=events,
                             keepalive_interval=params.get('keepalive_interval'),
                             keepalive_count=params.get('keepalive_count'))


def is_local_uri(uri):
    """Whether ``uri`` reaches a daemon of this host through its socket (no host name: no network, no login),
    as qemu:///system or test+unix:///default do; test:///default, which runs in this process, is not."""
    parsed = urlparse(uri or '')
    return not parsed.netloc and parsed.scheme not in ('', 'test')


class module_connection:
    """The connection of one module run, from its parameters.

    ``with module_connection(module) as conn:`` opens the connection, closes it on every exit, and turns
    ``LibvirtFailure`` (and any stray libvirtError) raised inside the block into ``fail_json``.
    ``events=True`` registers libvirt's event loop first, for modules that wait on domain events.
    """

    def __init__(self, module, events=False):
        self.module = module
        params = module.params
        hide_xml_secrets(module)
        self.connection = connection_from_params(params, events=events)

    def __enter__(self):
        require_libraries(self.module)
        # libvirt takes C strings and XML: libvirt-python and lxml raise ValueError (a traceback) on such values.
        # Secret values (no_log) go to libvirt as bytes; paths are local files.
        spec = getattr(self.module, 'argument_spec', None) or {}
        bad = _option_with_nul(dict((k, v) for k, v in self.module.params.items()
                                    if not spec.get(k, {}).get('no_log') and spec.get(k, {}).get('type') != 'path'))
        if bad:
            what = 'a NUL character' if bad[1] == '\x00' else 'the character U+%04X' % ord(bad[1])
            self.module.fail_json(msg='Option %s holds %s, which libvirt cannot take.' % (bad[0], what))
        for name in ('keepalive_interval', 'keepalive_count'):
            value = self.module.params.get(name)
            if value is not None and not 0 <= value <= _C_INT_MAX:
                self.module.fail_json(msg='Option %s must be between 0 and %d, not %d.' % (name, _C_INT_MAX, value))
        try:
            return self.connection.open()
        except LibvirtFailure as failure:
            self.module.fail_json(uri=self.connection.uri, **failure.fail_kwargs())

    def __exit__(self, exc_type, exc, tb):
        self.connection.close()
        if exc is None:
            return False
        # What the run did before it failed (set by _resource.run_module): a failure after a change says so.
        done = getattr(exc, 'outcome', None)
        partial = dict(changed=True, actions=list(done.actions)) if done is not None and done.changed else {}
        if isinstance(exc, libvirt.libvirtError):
            exc = failure_from(exc, 'complete the libvirt call')
        if isinstance(exc, LibvirtFailure):
            kwargs = dict(keepalive_failure(exc, self.connection.uri).fail_kwargs(), **partial)
            self.module.fail_json(uri=self.connection.uri, **kwargs)
        if isinstance(exc, XMLInputError):
            self.module.fail_json(msg=str(exc), **partial)
        return False
