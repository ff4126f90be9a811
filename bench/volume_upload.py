#!/usr/bin/env python
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A 1 GiB sparse upload: sysvirt.libvirt.volume against `virsh vol-upload --sparse`, side by side.

Not a test. On qemu:///system (or --uri) it makes a dir pool under a temporary folder (sysvirt-test-bench-*),
a 1 GiB sparse raw file with --data-mib MiB of random data in --extents scattered pieces, and then, --rounds
times, alternating the order:

* virsh:  a fresh 1 GiB raw volume (allocation 0), `virsh vol-upload --sparse` into it;
* module: a fresh 1 GiB raw volume (allocation 0), the volume module run as Ansible runs it (a new Python
  process given its arguments as a JSON file), with `upload:`; the module reads the volume back, finds it
  differs, and uploads.

* transfer: the module's own compare-then-upload code called in this process
  (no process start-up).

Also timed: the module's re-run with identical content (the comparison pass that keeps it idempotent), and the
module's fixed cost (a new process on a missing volume with state=absent: Python and Ansible start-up, connect)
and, as its floor, a Python process that only imports ansible-core's AnsibleModule.
Each volume's content is verified with SHA-256 after
upload. Medians are reported, with the ratio module / virsh. The pool and folder are always removed.

`--data-mib 0,64,128` (or `--sweep`: 0,64,128,256,512,1024) measures several data amounts inside the same
apparent size, one after the other, and ends with a table of the medians and both ratios (module process / virsh,
in-process transfer / virsh). With 0 MiB of data the file is all zeros like the fresh volume, so the module
finds it identical and sends nothing (what it times then is the comparison alone).
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
MODULE = os.path.join(REPO, 'plugins', 'modules', 'volume.py')
MiB = 1024 * 1024


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(4 * MiB), b''):
            digest.update(chunk)
    return digest.hexdigest()


def make_file(path, size, data_mib, extents):
    piece = data_mib * MiB // extents
    with open(path, 'wb') as handle:
        handle.truncate(size)
        for i in range(extents):
            handle.seek(i * (size // extents))
            handle.write(os.urandom(piece))


def run_module(args, folder):
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    path = os.path.join(folder, 'args-%s.json' % uuid.uuid4().hex[:6])
    with open(path, 'w') as handle:
        json.dump(dict(ANSIBLE_MODULE_ARGS=args), handle)
    start = time.monotonic()
    out = subprocess.run([sys.executable, MODULE, path], capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - start
    os.unlink(path)
    result = json.loads(out.stdout[out.stdout.index('{'):])
    if result.get('failed'):
        raise SystemExit('module failed: %s' % result.get('msg'))
    return elapsed, result


def in_process_upload(uri, pool, name, image):
    """The transfer alone: the module's compare-then-upload code, without Python/Ansible start-up."""
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)
    import libvirt
    from ansible_collections.sysvirt.libvirt.plugins.module_utils import _stream
    conn = libvirt.open(uri)
    try:
        vol = conn.storagePoolLookupByName(pool).storageVolLookupByName(name)
        start = time.monotonic()
        if not _stream.volume_matches_file(conn, vol, image):
            _stream.upload(conn, vol, image)
        return time.monotonic() - start
    finally:
        conn.close()


SWEEP = '0,64,128,256,512,1024'
TARGET = 1.5


def measure(opts, pool, folder, data_mib, say):
    """One data amount: --rounds rounds in alternating order; returns the medians."""
    virsh = ['virsh', '-q', '-c', opts.uri]
    image = os.path.join(folder, 'image.raw')
    size = opts.size_mib * MiB
    make_file(image, size, data_mib, opts.extents)
    digest = sha256(image)
    # with no data the file is all zeros, like a fresh volume: the module rightly finds it identical
    expected = [] if data_mib == 0 else ['upload']
    say('## %d MiB apparent, %d MiB data in %d extents, %d rounds; load %s'
        % (opts.size_mib, data_mib, opts.extents, opts.rounds, load()))
    base = dict(uri=opts.uri, pool=pool)
    times = dict(virsh=[], module=[], rerun=[], fixed=[], transfer=[], floor=[])

    def fresh(name):
        sh(*virsh, 'vol-create-as', pool, name, str(size), '--allocation', '0', '--format', 'raw')

    def check(name):
        got = sha256(os.path.join(folder, 'pool', name))
        if got != digest:
            raise SystemExit('content of %s differs after upload' % name)

    for rnd in range(opts.rounds):
        order = ('virsh', 'module', 'transfer') if rnd % 2 == 0 else ('transfer', 'module', 'virsh')
        for who in order:
            name = '%s-%d.raw' % (who, rnd)
            fresh(name)
            if who == 'virsh':
                start = time.monotonic()
                sh(*virsh, 'vol-upload', '--sparse', '--pool', pool, name, image)
                times['virsh'].append(time.monotonic() - start)
            elif who == 'transfer':
                times['transfer'].append(in_process_upload(opts.uri, pool, name, image))
            else:
                elapsed, result = run_module(dict(base, name=name, upload=image), folder)
                assert result['actions'] == expected, result
                times['module'].append(elapsed)
                elapsed, result = run_module(dict(base, name=name, upload=image), folder)
                assert result['changed'] is False, result
                times['rerun'].append(elapsed)
            check(name)
            sh(*virsh, 'vol-delete', '--pool', pool, name)
        elapsed, _result = run_module(dict(base, name='sysvirt-none', state='absent'), folder)
        times['fixed'].append(elapsed)
        start = time.monotonic()
        subprocess.run([sys.executable, '-c', 'from ansible.module_utils.basic import AnsibleModule'], check=True)
        times['floor'].append(time.monotonic() - start)
        say('round %d: virsh %.2fs  module %.2fs  module re-run (identical, no upload) %.2fs  '
            'module fixed cost %.2fs  in-process compare+upload %.2fs'
            % (rnd + 1, times['virsh'][-1], times['module'][-1], times['rerun'][-1], times['fixed'][-1],
               times['transfer'][-1]))
    med = dict((k, statistics.median(v)) for k, v in times.items())
    say('median: virsh vol-upload --sparse %.2fs | volume module (new process, compare + upload) %.2fs | '
        'ratio %.2fx (target <= %.1fx)' % (med['virsh'], med['module'], med['module'] / med['virsh'], TARGET))
    say('median: in-process compare + upload (the module\'s _stream code, no process start) %.2fs | '
        'ratio %.2fx' % (med['transfer'], med['transfer'] / med['virsh']))
    say('median: module re-run with identical content %.2fs; module fixed cost (process start, connect, '
        'no volume) %.2fs, of which Python + importing ansible-core\'s AnsibleModule alone %.2fs'
        % (med['rerun'], med['fixed'], med['floor']))
    say('sha256 of every uploaded volume matched the file (%s)%s'
        % (digest, '; no data: the fresh volume already held these bytes, nothing was sent' if not data_mib else ''))
    os.unlink(image)
    return med


def load():
    return ' '.join('%.2f' % x for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--uri', default='qemu:///system')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--data-mib', default='128',
                        help='MiB of data in the file; a comma-separated list measures each amount in turn')
    parser.add_argument('--sweep', action='store_true', help='--data-mib %s' % SWEEP)
    parser.add_argument('--extents', type=int, default=16)
    parser.add_argument('--output', help='also write the report to this file')
    opts = parser.parse_args()
    amounts = [int(x) for x in (SWEEP if opts.sweep else opts.data_mib).split(',')]
    if any(not 0 <= x <= opts.size_mib for x in amounts):
        parser.error('each data amount must be between 0 and --size-mib')
    if not os.path.isdir(os.path.join(COLLECTIONS, 'ansible_collections', 'sysvirt', 'libvirt')):
        os.makedirs(os.path.join(COLLECTIONS, 'ansible_collections', 'sysvirt'), exist_ok=True)
        os.symlink(REPO, os.path.join(COLLECTIONS, 'ansible_collections', 'sysvirt', 'libvirt'))

    folder = tempfile.mkdtemp(prefix='sysvirt-test-bench-')
    os.chmod(folder, 0o755)
    pool = 'sysvirt-test-bench-%s' % uuid.uuid4().hex[:8]
    virsh = ['virsh', '-q', '-c', opts.uri]
    lines = []

    def say(text):
        print(text, flush=True)
        lines.append(text)

    try:
        xml = os.path.join(folder, 'pool.xml')
        with open(xml, 'w') as handle:
            handle.write("<pool type='dir'><name>%s</name><target><path>%s/pool</path></target></pool>"
                         % (pool, folder))
        sh(*virsh, 'pool-define', xml)
        sh(*virsh, 'pool-build', pool)
        sh(*virsh, 'pool-start', pool)
        say('# volume upload benchmark, %s' % time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
        say('uri=%s file: %d MiB apparent, data MiB %s in %d extents, %d rounds; host: %d CPUs, load %s'
            % (opts.uri, opts.size_mib, ','.join(map(str, amounts)), opts.extents, opts.rounds, os.cpu_count(),
               load()))
        results = [(amount, measure(opts, pool, folder, amount, say)) for amount in amounts]
        if len(results) > 1:
            say('## summary (medians; ratios against virsh vol-upload --sparse on the same file; load now %s)'
                % load())
            say('| data MiB | virsh | module | module/virsh | in-process | in-process/virsh | re-run | fixed '
                '| AnsibleModule import | <= %.1fx |' % TARGET)
            say('|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|')
            for amount, med in results:
                ratio = med['module'] / med['virsh']
                say('| %d | %.2f s | %.2f s | %.2fx | %.2f s | %.2fx | %.2f s | %.2f s | %.2f s | %s |'
                    % (amount, med['virsh'], med['module'], ratio, med['transfer'], med['transfer'] / med['virsh'],
                       med['rerun'], med['fixed'], med['floor'], 'yes' if ratio <= TARGET else 'no'))
    finally:
        subprocess.run(virsh + ['pool-destroy', pool], capture_output=True, check=False)
        subprocess.run(virsh + ['pool-undefine', pool], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)
    if opts.output:
        with open(opts.output, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
