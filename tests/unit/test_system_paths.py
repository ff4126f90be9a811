# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A new machine has only what the test command's set-up installs or makes: every system path that a test, a
molecule scenario, the demo or a script refers to must come from a package of scripts/testbed.sh's lists (or an
essential package every Debian system has), from a set-up step, or be text that nothing on this host opens.

SOURCES says which, for every path found; a path it does not cover fails, and so does an entry that no longer
matches anything. Where dpkg exists, the table itself is checked against the installed packages (dpkg -S).
"""

from __future__ import annotations

import collections
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import in_ci

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTBED = ROOT / 'scripts' / 'testbed.sh'

#: What the test command runs: its tests, scripts, molecule scenarios, the demo, CI's entry point.
SCANNED = ('tests', 'scripts', 'roles', 'demo', '.ci', '.config')

#: An absolute path under a system directory. Not one that continues another path or a variable
#: ("$dir/etc/qemu", "file:///etc/passwd", a glob "versions/3.*/bin/python3"); a path ends where a template or format placeholder begins.
PATH_RE = re.compile(r'(?<![\w./$}*-])/(?:usr/(?:share|lib|lib64|libexec|bin|sbin|local)|bin|sbin|lib|lib64|etc|opt'
                     r'|var/lib|var/cache|boot|srv)(?:/[\w.+@-]+)*')

#: Packages that every Debian system has (Essential: yes or Priority: required); checked below where dpkg exists.
BASE_PACKAGES = {'base-files', 'coreutils', 'dash', 'login'}

Source = collections.namedtuple('Source', 'pattern provider files why')
Source.__new__.__defaults__ = (None, '')

#: Where each system path comes from, first match wins. provider:
#:   apt:PKG       installed by scripts/testbed.sh (or in BASE_PACKAGES); apt:PKG? when PKG's maintainer scripts or
#:                 daemon make the path rather than ship it (dpkg -S does not know it; it must exist instead)
#:   made:SCRIPT   made on the host by SCRIPT, which testbed.sh runs (or is)
#:   text          nothing on this host opens it (only in the files the entry names)
#: files: a regex of the files (relative to the repository) where the entry applies; None = everywhere.
SOURCES = (
    Source(r'.*', 'text', r'tests/unit/.*',
           'unit tests run on the test driver and mocks: their paths are XML and data (test_unit_tests_open_no_'
           'system_path checks that they open none)'),
    Source(r'/usr/bin/env', 'apt:coreutils'),
    Source(r'/bin/sh', 'apt:dash'),
    Source(r'/(usr/)?s?bin', 'apt:base-files', r'scripts/testbed\.sh|tests/utils/private_libvirtd\.py',
           'PATH entries'),
    Source(r'/usr/local/s?bin', 'apt:base-files?', r'scripts/testbed\.sh', 'PATH entries'),
    Source(r'/usr/sbin/nologin', 'apt:login'),
    Source(r'/usr/sbin/sshd', 'apt:openssh-server', r'scripts/fleet\.sh', 'the sshd of each test hypervisor'),
    Source(r'/var/cache/libvirt/qemu', 'apt:libvirt-daemon-system?', r'scripts/fleet\.sh',
           'the QEMU capabilities cache the system daemon writes (copied when present)'),
    Source(r'/etc/ansible(/fleet(/[\w.]+)?)?', 'text', r'tests/functional/test_fleet_guide\.py',
           "docs/guides/remote-hypervisors.md's example paths, which the test replaces with the test fleet's"),
    Source(r'/usr/bin/python3', 'apt:python3-minimal'),
    Source(r'/etc/ssl/certs/ca-certificates\.crt', 'apt:ca-certificates?'),
    Source(r'/etc/libvirt|/var/lib/libvirt/(qemu|images|boot)|/var/cache/libvirt', 'apt:libvirt-daemon-system'),
    Source(r'/var/lib/libvirt/qemu/nvram', 'apt:libvirt-daemon-system?', None, "the qemu driver's, made at start"),
    Source(r'/var/lib/libvirt/boot/sysvirt-test-guest(/[\w.-]+)?', 'made:scripts/build-test-guest.sh'),
    Source(r'/usr/sbin/policy-rc\.d', 'made:scripts/testbed.sh'),
    Source(r'/var/cache/sysvirt-testbed(/linux-guest)?', 'made:scripts/build-test-guest.sh',
           r'roles/guest/molecule/default/.*', 'the Linux test guest, which the scenario boots'),
    Source(r'/etc/(localtime|os-release|shadow)|/usr/share/zoneinfo(/[\w.+-]+)*', 'text',
           r'tests/functional/test_guest_agent_linux\.py', 'files inside the Linux test guest, read and set over SSH'),
    Source(r'/(bin|sbin|lib)(/[\w.-]+)*|/etc/(acpi|sysvirt-init\.d)(/[\w.-]+)*', 'text', r'scripts/build-test-guest\.sh',
           "paths inside the test guest's initramfs, which the script lays out"),
    Source(r'/var/lib', 'text', r'tests/reliability/.*', 'volume paths in secret usage IDs and test-driver pools'),
    Source(r'/boot', 'text', r'tests/integration/targets/domain_guest_agent/.*', "a guest's mount point"),
    Source(r'/usr/share/ansible/collections', 'text', r'scripts/venv\.sh|tests/conftest\.py',
           'named as a place the tests must not look'),
    Source(r'/var/cache/sysvirt-testbed(/linux-guest)?', 'made:scripts/build-test-guest.sh', None,
           'the Linux test guest, built by scripts/build-linux-guest.sh, which build-test-guest.sh runs'),
    Source(r'/etc/apt/sources\.list(\.d)?', 'text', r'scripts/build-linux-guest\.sh',
           "the host's apt sources, read when present for a Debian mirror (else deb.debian.org)"),
    Source(r'/var/lib/apt/lists|/var/cache/debconf', 'text', r'scripts/build-linux-guest\.sh',
           "paths inside the Linux test guest's root filesystem, which the script builds"),
    Source(r'/bin/bash|/etc/os-release|/etc/qemu/qemu-ga\.conf', 'text',
           r'tests/utils/linux_guest\.py|tests/functional/test_connection_libvirt_qemu\.py',
           'paths inside the Linux test guest (its user\'s shell, files the tests read or write there)'),
)


def _files():
    out = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--'] + list(SCANNED),
                         cwd=ROOT, capture_output=True, check=True).stdout.decode()
    for rel in sorted(set(filter(None, out.split('\0')))):
        if rel.startswith('roles/') and '/molecule/' not in rel:
            continue    # the roles themselves are the collection's content, not the test command's
        path = ROOT / rel
        if rel.startswith('tests/output/') or path.is_symlink() or not path.is_file():
            continue
        try:
            yield rel, path.read_text(encoding='utf-8')
        except UnicodeDecodeError:
            continue


def references(files):
    """{(file, path)} for every system path in ``files`` ((name, text) pairs)."""
    return {(rel, m.group(0).rstrip('.')) for rel, text in files for m in PATH_RE.finditer(text)}


def source_of(rel, path):
    for source in SOURCES:
        if re.fullmatch(source.pattern, path) and (source.files is None or re.fullmatch(source.files, rel)):
            return source
    return None


def setup_packages(part=None):
    out = subprocess.run(['bash', str(TESTBED), 'packages'] + ([part] if part else []),
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def problems(refs, packages):
    """What is wrong with ``refs`` given the set-up's ``packages``: a list of sentences."""
    found = []
    used = set()
    testbed = TESTBED.read_text(encoding='utf-8')
    for rel, path in sorted(refs):
        source = source_of(rel, path)
        if source is None:
            found.append('%s refers to %s, which no set-up step provides: install its package in '
                         'scripts/testbed.sh and add it to SOURCES, or make the file in the test' % (rel, path))
            continue
        used.add(source)
        kind, _sep, what = source.provider.partition(':')
        if kind == 'apt':
            package = what.rstrip('?')
            if package not in packages and package not in BASE_PACKAGES:
                found.append('%s refers to %s, from the package %s, which scripts/testbed.sh does not install'
                             % (rel, path, package))
        elif kind == 'made':
            script = (ROOT / what).read_text(encoding='utf-8') if (ROOT / what).is_file() else ''
            if os.path.basename(path) not in script:
                found.append('%s refers to %s, which %s does not make' % (rel, path, what))
            elif what != 'scripts/testbed.sh' and os.path.basename(what) not in testbed:
                found.append('%s refers to %s, made by %s, which scripts/testbed.sh does not run' % (rel, path, what))
    return found, used


def test_every_system_path_comes_from_the_setup():
    found, used = problems(references(_files()), setup_packages())
    assert not found, '\n'.join(found)
    unused = [s.pattern for s in SOURCES if s not in used]
    assert not unused, 'SOURCES entries that match nothing any more (remove them): %s' % unused


@pytest.mark.parametrize('text, expected', [
    # the test of issue 16: the removal test read the firmware that no set-up step installed
    ("with open(%r, 'rb') as src:" % '/usr/share/OVMF/OVMF_VARS.fd', 'which no set-up step provides'),
    ("<loader>/usr/share/qemu/firmware/x.json</loader>", 'which no set-up step provides'),
    ("argv: [/usr/bin/python3, -c, 'import libvirt']", None),
    ("path: /var/lib/libvirt/boot/sysvirt-test-guest/vmlinuz", None),
    ("path: /var/lib/libvirt/boot/sysvirt-test-guest/kernel-that-nothing-builds", 'does not make'),
    ("mount --bind $dir/etc /etc/libvirt", None),
    ("url: file:///etc/passwd and $dir/etc/qemu.conf", None),
])
def test_the_check_finds_what_no_setup_provides(text, expected):
    found = problems(references([('tests/functional/test_new.py', text)]), setup_packages())[0]
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found


def test_the_check_needs_the_package_in_the_setup_list():
    refs = references([('roles/hypervisor/molecule/default/verify.yml', 'argv: [/usr/bin/python3]')])
    assert problems(refs, setup_packages())[0] == []
    found = problems(refs, setup_packages() - {'python3-minimal'})[0]
    assert found and 'python3-minimal, which scripts/testbed.sh does not install' in found[0]


def test_setup_lists_are_two_disjoint_parts():
    runtime, test = setup_packages('runtime'), setup_packages('test')
    assert runtime and test and not runtime & test
    assert runtime | test == setup_packages()
    # the demo's part: no browser, no docs or ISO tools, no firmware
    assert not runtime & {'chromium', 'xorriso', 'ovmf'}


def test_unit_tests_open_no_system_path():
    opener = re.compile(r'''(?:open|Path|exists|isfile|isdir|listdir|stat|read_text|read_bytes|copy\w*)\(\s*[rbf]?'''
                        r'''['"]/(?:usr|etc|var|opt|lib|bin|sbin|boot|srv)/''')
    found = ['%s: %s' % (rel, m.group(0)) for rel, text in _files() if rel.startswith('tests/unit/')
             for m in opener.finditer(text)]
    assert not found, 'unit tests must not read system files (SOURCES treats their paths as text):\n' + '\n'.join(found)


def _dpkg_owners(paths):
    out = subprocess.run(['dpkg', '-S'] + sorted(paths), capture_output=True, text=True, check=False).stdout
    owners = collections.defaultdict(set)
    for line in out.splitlines():
        packages, sep, path = line.rpartition(': ')
        if sep and not line.startswith('diversion '):
            owners[path].update(p.strip().split(':')[0] for p in packages.split(','))
    return owners


def _installed(packages):
    out = subprocess.run(['dpkg-query', '-W', '-f=${Package} ${db:Status-Status} ${Essential} ${Priority}\\n']
                         + sorted(packages), capture_output=True, text=True, check=False).stdout
    return {f[0]: f[1:] for f in (line.split() for line in out.splitlines()) if f}


def test_sources_agree_with_dpkg():
    """The table is true: each path it maps to a package comes from that package on this machine."""
    if shutil.which('dpkg') is None:
        if in_ci():
            pytest.fail('no dpkg: SOURCES cannot be checked (CI runs on Debian)')
        pytest.skip('no dpkg on this machine: SOURCES cannot be checked against the packages')
    wanted = {}
    for rel, path in references(_files()):
        source = source_of(rel, path)
        if source is not None and source.provider.startswith('apt:'):
            wanted[path] = source.provider[4:]
    packages = {p.rstrip('?') for p in wanted.values()}
    status = _installed(packages | BASE_PACKAGES)
    missing = sorted(p for p in packages if status.get(p, ['not-installed'])[0] != 'installed')
    if missing:
        if in_ci():
            pytest.fail('not installed, so SOURCES cannot be checked: %s (run scripts/testbed.sh)' % missing)
        pytest.skip('not installed (run scripts/testbed.sh): %s' % missing)
    not_base = sorted(p for p in BASE_PACKAGES if status[p][1:] != ['yes', 'required'])
    assert not not_base, 'BASE_PACKAGES that a Debian system may lack: %s' % not_base
    owners = _dpkg_owners(p for p, w in wanted.items() if not w.endswith('?'))
    wrong = ['%s: %s says %s, dpkg says %s' % (path, 'SOURCES', package, sorted(owners.get(path, [])) or 'nobody')
             for path, package in sorted(wanted.items())
             if not package.endswith('?') and package not in owners.get(path, ())]
    wrong += ['%s: %s makes it, but it does not exist' % (path, package.rstrip('?'))
              for path, package in sorted(wanted.items()) if package.endswith('?') and not os.path.exists(path)]
    assert not wrong, '\n'.join(wrong)
