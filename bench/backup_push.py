# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A full push backup of a guest disk holding 256 MiB of data: domain_backup against ``virsh backup-begin`` with the
same <domainbackup> document (bench/BACKUP.md says what is measured and what came out).

The guest is the tiny test guest (scripts/build-test-guest.sh) with a 512 MiB qcow2 disk, 256 MiB of it random
data in 16 extents, made under a temporary folder (``sysvirt-test-bench-*``) and removed at the end. Each round
takes the backup three ways, in an order that rotates from round to round:

- **virsh**: ``virsh backup-begin DOMAIN backup.xml`` and the wait for its end, as a user without our module
  would: ``virsh event --all --loop`` running before the backup starts (its start-up not counted), the time from
  just before ``backup-begin`` to both the job-completed and the block job's event;
- **module**: ``sysvirt.libvirt.domain_backup`` run as a module process (a new Python process given its arguments
  as a JSON file): it connects, checks, begins the same document, waits for both events, writes the manifest;
- **worker**: the module as Ansible now runs a local task (plugins/plugin_utils/_in_process.py): imported once in
  this process, as the strategy imports it before it forks the workers; per round a forked child calls its
  ``main()`` through ``_in_process._call_main`` with the same arguments, serialised as the action plugin does,
  parses the printed result with ansible-core's parser and sends it back; the time from the fork to the result.

Then each round measures the fixed cost of the module process and of the worker: the same call with nothing to
do (``state: absent``, no backup job). Every target is checked by SHA-256 of its content (qemu-img convert to raw)
against the disk. Not a test: no timed assertion anywhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, '.build', 'collections')
MODULE = os.path.join(REPO, 'plugins', 'modules', 'domain_backup.py')
sys.path.insert(0, os.path.join(REPO, 'tests'))
sys.path.insert(0, COLLECTIONS)
from utils.guest import MARKER_UP, tiny_guest_xml, wait_for_console  # noqa: E402
from ansible_collections.sysvirt.libvirt.plugins.module_utils import _backup, _xml  # noqa: E402
# What the strategy does before it forks a worker: the action plugin's import imports the module (and with it
# ansible-core's module code, libvirt-python, lxml and our module_utils) in the parent.
from _worker import Worker  # noqa: E402

WORKER = Worker('domain_backup')

MiB = 1024 * 1024


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def content_sha256(image, folder):
    raw = os.path.join(folder, 'check-%s.raw' % uuid.uuid4().hex[:6])
    sh('qemu-img', 'convert', '-U', '-O', 'raw', image, raw)
    digest = hashlib.sha256()
    with open(raw, 'rb') as handle:
        for chunk in iter(lambda: handle.read(4 * MiB), b''):
            digest.update(chunk)
    os.unlink(raw)
    return digest.hexdigest()


def make_disk(folder, size_mib, data_mib, extents=16):
    raw = os.path.join(folder, 'data.raw')
    piece = data_mib * MiB // extents
    with open(raw, 'wb') as handle:
        handle.truncate(size_mib * MiB)
        for i in range(extents):
            handle.seek(i * (size_mib * MiB // extents))
            handle.write(os.urandom(piece))
    disk = os.path.join(folder, 'vda.qcow2')
    sh('qemu-img', 'convert', '-O', 'qcow2', raw, disk)
    os.unlink(raw)
    os.chmod(disk, 0o666)
    return disk


def virsh_round(uri, name, folder, target):
    xml = os.path.join(folder, 'backup.xml')
    disks = [dict(name='vda', backup=True, file=target, format='qcow2')]
    with open(xml, 'w') as handle:
        handle.write(_xml.to_string(_backup.push_xml(disks), pretty=False))
    event = subprocess.Popen(['stdbuf', '-oL', 'virsh', '-c', uri, 'event', '--domain', name, '--all', '--loop',
                              '--timeout', '600'], stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)  # virsh event registers; not counted
    start = time.monotonic()
    sh('virsh', '-c', uri, 'backup-begin', name, xml)
    # libvirt closes the target after job-completed, before the block job's event: wait for both
    seen = set()
    while seen != {'job-completed', 'block-job-2'}:
        line = event.stdout.readline()
        if not line:
            raise SystemExit('virsh event ended before the backup did')
        seen.update(kind for kind in ('job-completed', 'block-job-2') if "'%s'" % kind in line)
    elapsed = time.monotonic() - start
    event.terminate()
    event.wait(timeout=60)
    return elapsed


def module_args(uri, name, folder, directory=None):
    """The arguments of the module's backup into ``directory``; without one, of its fixed cost: a run that finds
    no backup job to end (the connection, the guest looked up, nothing transferred)."""
    if directory is None:
        return dict(uri=uri, domain=name, state='absent', mode='pull', nbd=dict(socket=os.path.join(folder, 's')))
    return dict(uri=uri, domain=name, directory=directory, disks=[dict(name='vda')])


def checked(result, way):
    if result.get('failed'):
        raise SystemExit('%s failed: %s' % (way, result.get('msg')))
    return result.get('backup')


def module_round(uri, name, folder, directory=None):
    """The module run as a module process: (seconds, its ``backup`` result)."""
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    path = os.path.join(folder, 'args-%s.json' % uuid.uuid4().hex[:6])
    with open(path, 'w') as handle:
        json.dump(dict(ANSIBLE_MODULE_ARGS=module_args(uri, name, folder, directory)), handle)
    start = time.monotonic()
    out = subprocess.run([sys.executable, MODULE, path], capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - start
    os.unlink(path)
    return elapsed, checked(json.loads(out.stdout[out.stdout.index('{'):]), 'module')


def worker_round(uri, name, folder, directory=None):
    """The module run in a forked child of this process, where it is imported: (seconds, its ``backup``)."""
    elapsed, _cpu, result = WORKER.run(module_args(uri, name, folder, directory))
    return elapsed, checked(result, 'worker')


ROUNDS = dict(module=module_round, worker=worker_round)


WAYS = ('virsh', 'module', 'worker')


def one_backup(way, uri, name, folder, label, expected, say):
    """The seconds of one backup taken ``way``, its target checked against the disk's content and removed."""
    directory = os.path.join(folder, label)
    os.mkdir(directory, 0o711)
    target = os.path.join(directory, 'vda.qcow2')
    if way == 'virsh':
        elapsed = virsh_round(uri, name, folder, target)
        note = ''
    else:
        elapsed, made = ROUNDS[way](uri, name, folder, directory)
        note = ' (module says %s bytes, %.2f s inside)' % (made['bytes'], made['seconds'])
    if content_sha256(target, folder) != expected:
        raise SystemExit('%s: the backup differs from the disk' % label)
    say('%-9s %.2f s, content sha256 matches the disk%s' % (label, elapsed, note))
    shutil.rmtree(directory)
    return elapsed


def summary(median):
    """The medians' line: each way against virsh, and without its fixed cost."""
    v = median['virsh']
    text = ['median: virsh backup-begin %.2f s' % v]
    for way in ROUNDS:
        m, f = median[way], median[way + '_fixed']
        met = 'yes' if m / v <= 1.2 else 'no'
        text.append('domain_backup %s %.2f s, %s/virsh %.2fx (target <= 1.2x: %s), its fixed cost (a run with nothing '
                    'to do) %.2f s, without it %.2f s = %.2fx' % (way, m, way, m / v, met, f, m - f, (m - f) / v))
    return '\n'.join(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--data-mib', type=int, default=256)
    parser.add_argument('--size-mib', type=int, default=512)
    parser.add_argument('--uri', default='qemu:///system')
    parser.add_argument('--output')
    opts = parser.parse_args()
    lines = []

    def say(text):
        print(text, flush=True)
        lines.append(text)

    folder = tempfile.mkdtemp(prefix='sysvirt-test-bench-', dir='/var/lib/libvirt/images')
    os.chmod(folder, 0o755)
    name = 'sysvirt-test-bench-backup-%s' % uuid.uuid4().hex[:6]
    virsh = ['virsh', '-c', opts.uri]
    try:
        disk = make_disk(folder, opts.size_mib, opts.data_mib)
        xml = tiny_guest_xml(name, serial_log=os.path.join(folder, 'serial.log')).replace(
            '  </devices>', "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            "<source file='%s'/><target dev='vda' bus='virtio'/></disk>\n  </devices>" % disk)
        xml_path = os.path.join(folder, 'domain.xml')
        with open(xml_path, 'w') as handle:
            handle.write(xml)
        sh(*virsh, 'create', xml_path)
        wait_for_console(os.path.join(folder, 'serial.log'), MARKER_UP, timeout=120)
        expected = content_sha256(disk, folder)
        say('full push backup, %d MiB disk with %d MiB of data, %d rounds, load %s'
            % (opts.size_mib, opts.data_mib, opts.rounds, open('/proc/loadavg').read().split()[0]))
        times = dict(virsh=[], module=[], worker=[], module_fixed=[], worker_fixed=[])
        for i in range(opts.rounds):
            for way in WAYS[i % len(WAYS):] + WAYS[:i % len(WAYS)]:
                times[way].append(one_backup(way, opts.uri, name, folder, '%s-%d' % (way, i), expected, say))
            for way in ROUNDS:
                times[way + '_fixed'].append(ROUNDS[way](opts.uri, name, folder)[0])
        say(summary({way: statistics.median(values) for way, values in times.items()}))
    finally:
        subprocess.run(virsh + ['destroy', name], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)
    if opts.output:
        with open(opts.output, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
