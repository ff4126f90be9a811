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

* worker: the module as Ansible runs a local task on ansible-core 2.21 (plugins/plugin_utils/_in_process.py):
  imported once in this process, as the strategy imports the action plugin before it forks its workers; each
  round a forked child calls its ``main()`` through ``_in_process._call_main`` with the arguments serialised as
  the action plugin does and parses the printed result with ansible-core's parser; timed from the fork to the
  result;
* transfer: the module's own compare-then-upload code called in this process
  (no process start-up).

Each way's CPU time is recorded too (user + system of the virsh or module process, of the forked worker, or of
this process for the transfer; libvirtd's own work, which writes the volume, is in none of them): with other work
on the machine the wall clock is noisy and CPU is not.

Also timed: the module's re-run with identical content (the comparison pass that keeps it idempotent), and the
module's fixed cost (a new process on a missing volume with state=absent: Python and Ansible start-up, connect)
and the worker's (the same call in a forked child) and, as the process's floor, a Python process that only
imports ansible-core's AnsibleModule.
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
import resource
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

WORKER = None


def import_as_the_strategy_does():
    """What the strategy does before it forks a worker: import the module (bench/_worker.py)."""
    global WORKER  # pylint: disable=global-statement
    from _worker import Worker
    WORKER = Worker('volume')


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


def children_cpu():
    """CPU seconds (user + system) of this process's waited-for children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args):
    """(wall seconds, CPU seconds) of a command run to its end."""
    cpu, start = children_cpu(), time.monotonic()
    sh(*args)
    return time.monotonic() - start, children_cpu() - cpu


def checked(result, way):
    if result.get('failed'):
        raise SystemExit('%s failed: %s' % (way, result.get('msg')))
    return result


def run_module(args, folder):
    """The volume module as a module process: (wall seconds, CPU seconds, result)."""
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    path = os.path.join(folder, 'args-%s.json' % uuid.uuid4().hex[:6])
    with open(path, 'w') as handle:
        json.dump(dict(ANSIBLE_MODULE_ARGS=args), handle)
    cpu, start = children_cpu(), time.monotonic()
    out = subprocess.run([sys.executable, MODULE, path], capture_output=True, text=True, env=env, check=False)
    elapsed, cpu = time.monotonic() - start, children_cpu() - cpu
    os.unlink(path)
    return elapsed, cpu, checked(json.loads(out.stdout[out.stdout.index('{'):]), 'module')


def run_worker(args):
    """The volume module as Ansible runs a local task (bench/_worker.py): (wall, CPU seconds, result)."""
    wall, cpu, result = WORKER.run(args)
    return wall, cpu, checked(result, 'worker')


def in_process_upload(uri, pool, name, image):
    """The transfer alone: the module's compare-then-upload code, without Python/Ansible start-up."""
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)
    import libvirt
    from ansible_collections.sysvirt.libvirt.plugins.module_utils import _stream
    conn = libvirt.open(uri)
    try:
        vol = conn.storagePoolLookupByName(pool).storageVolLookupByName(name)
        cpu, start = time.process_time(), time.monotonic()
        if not _stream.volume_matches_file(conn, vol, image):
            _stream.upload(conn, vol, image)
        return time.monotonic() - start, time.process_time() - cpu
    finally:
        conn.close()


SWEEP = '0,64,128,256,512,1024'
TARGET = 1.5


WAYS = ('virsh', 'module', 'worker', 'transfer')


def one_upload(who, opts, pool, name, image, folder, expected):
    """(wall, CPU) of one upload into the fresh volume ``name`` taken ``who``; for the module and the worker also
    (wall, CPU) of the same task again, which finds the content identical and sends nothing."""
    if who == 'virsh':
        return timed(['virsh', '-q', '-c', opts.uri, 'vol-upload', '--sparse', '--pool', pool, name, image]), None
    if who == 'transfer':
        return in_process_upload(opts.uri, pool, name, image), None
    args = dict(uri=opts.uri, pool=pool, name=name, upload=image)
    call = (lambda: run_worker(args)) if who == 'worker' else (lambda: run_module(args, folder))
    wall, cpu, result = call()
    assert result['actions'] == expected, result
    again_wall, again_cpu, result = call()
    assert result['changed'] is False, result
    return (wall, cpu), (again_wall, again_cpu)


def fixed_costs(opts, pool, folder):
    """(wall, CPU) of the module process, of the worker with nothing to do (state=absent on a missing volume), and
    of a Python process that only imports AnsibleModule."""
    args = dict(uri=opts.uri, pool=pool, name='sysvirt-none', state='absent')
    module = run_module(args, folder)[:2]
    worker = run_worker(args)[:2]
    floor = timed([sys.executable, '-c', 'from ansible.module_utils.basic import AnsibleModule'])
    return dict(module_fixed=module, worker_fixed=worker, floor=floor)


def measure(opts, pool, folder, data_mib, say):
    """One data amount: --rounds rounds in rotating order; returns the medians of (wall, CPU) per way."""
    virsh = ['virsh', '-q', '-c', opts.uri]
    image = os.path.join(folder, 'image.raw')
    size = opts.size_mib * MiB
    make_file(image, size, data_mib, opts.extents)
    digest = sha256(image)
    # with no data the file is all zeros, like a fresh volume: the module rightly finds it identical
    expected = [] if data_mib == 0 else ['upload']
    say('## %d MiB apparent, %d MiB data in %d extents, %d rounds; load %s'
        % (opts.size_mib, data_mib, opts.extents, opts.rounds, load()))
    times = dict((key, []) for key in WAYS + ('module_rerun', 'worker_rerun', 'module_fixed', 'worker_fixed',
                                              'floor'))
    for rnd in range(opts.rounds):
        for who in WAYS[rnd % len(WAYS):] + WAYS[:rnd % len(WAYS)]:
            name = '%s-%d.raw' % (who, rnd)
            sh(*virsh, 'vol-create-as', pool, name, str(size), '--allocation', '0', '--format', 'raw')
            first, again = one_upload(who, opts, pool, name, image, folder, expected)
            times[who].append(first)
            if again:
                times[who + '_rerun'].append(again)
            if sha256(os.path.join(folder, 'pool', name)) != digest:
                raise SystemExit('content of %s differs after upload' % name)
            sh(*virsh, 'vol-delete', '--pool', pool, name)
        for key, value in fixed_costs(opts, pool, folder).items():
            times[key].append(value)
        say('round %d (wall / CPU s): %s' % (rnd + 1, '  '.join(
            '%s %.2f/%.2f' % (key, value[-1][0], value[-1][1]) for key, value in times.items())))
    med = dict((k, tuple(statistics.median(x[i] for x in v) for i in (0, 1))) for k, v in times.items())
    for way in ('module', 'worker', 'transfer'):
        say('median %s: %.2f s wall, %.3f s CPU; against virsh vol-upload --sparse (%.2f s, %.3f s CPU): %.2fx wall, '
            '%.2fx CPU' % (way, med[way][0], med[way][1], med['virsh'][0], med['virsh'][1],
                           med[way][0] / med['virsh'][0], med[way][1] / med['virsh'][1]))
    say('median re-run with identical content (no upload): module %.2f s / %.3f s CPU, worker %.2f s / %.3f s CPU; '
        'fixed cost (nothing to do): module %.2f s / %.3f s CPU, worker %.2f s / %.3f s CPU; Python + AnsibleModule '
        'import alone %.2f s / %.3f s CPU' % (med['module_rerun'] + med['worker_rerun'] + med['module_fixed']
                                              + med['worker_fixed'] + med['floor']))
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
    import_as_the_strategy_does()

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
            say('## summary (medians, wall s / CPU s; ratios against virsh vol-upload --sparse on the same file; '
                'load now %s)' % load())
            say('| data MiB | virsh | module | module/virsh | worker | worker/virsh | transfer | transfer/virsh '
                '| <= %.1fx (worker, wall) |' % TARGET)
            say('|---:|---:|---:|---:|---:|---:|---:|---:|:---:|')
            for amount, med in results:
                cells = ['%d' % amount, '%.2f / %.3f' % med['virsh']]
                for way in ('module', 'worker', 'transfer'):
                    ratios = (med[way][0] / med['virsh'][0], med[way][1] / med['virsh'][1])
                    cells += ['%.2f / %.3f' % med[way], '%.2fx / %.2fx' % ratios]
                cells.append('yes' if med['worker'][0] / med['virsh'][0] <= TARGET else 'no')
                say('| %s |' % ' | '.join(cells))
    finally:
        subprocess.run(virsh + ['pool-destroy', pool], capture_output=True, check=False)
        subprocess.run(virsh + ['pool-undefine', pool], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)
    if opts.output:
        with open(opts.output, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
