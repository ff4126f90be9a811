# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where one module call's CPU time goes: our modules against ansible.builtin.ping (and community.libvirt's virt
when bench/run.sh has downloaded it), in the same run.

    python bench/percall.py [--repeat 9] [--uri test:///default]

Runs one playbook with ANSIBLE_KEEP_REMOTE_FILES=1 and ``sysvirt_libvirt_in_process: false`` (our action
plugins would otherwise run local tasks in the worker, with no payload) to get each task's AnsiballZ payload (the
file ansible-core runs in the module process), then runs every payload ``--repeat`` times and takes the median CPU time (user +
system) of the process. CPU time, not wall time: this machine is shared, and CPU time moves far less with the
load. The parts, measured the same way: the interpreter alone, ``import libvirt`` and ``import lxml.etree`` from
site-packages (bytecode cached, as in the module process), and compiling the payload's Python files, ours and
ansible-core's (zipimport compiles every file it imports from the payload on every call: no cached bytecode).

Output: the terminal and bench/results/percall-<date>.txt. A benchmark, never an assertion.
"""

from __future__ import annotations

import argparse
import base64
import glob
import io
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PEER = os.environ.get('SYSVIRT_BENCH_DIR', '/tmp/sysvirt-bench') + '/collections'
XML = "<domain type='test'><name>sysvirt-test-percall</name><memory>65536</memory><os><type>hvm</type></os></domain>"

PLAY = """- hosts: localhost
  gather_facts: false
  vars:
    sysvirt_libvirt_in_process: false
  tasks:
    - name: ping
      ansible.builtin.ping:
    - name: domain
      sysvirt.libvirt.domain:
        uri: {uri}
        name: sysvirt-test-percall
        xml: "{xml}"
    - name: domain_info
      sysvirt.libvirt.domain_info:
        uri: {uri}
    - name: host_facts
      sysvirt.libvirt.host_facts:
        uri: {uri}
"""

PEER_TASK = """    - name: peer_virt_define
      community.libvirt.virt:
        uri: {uri}
        command: define
        xml: "{xml}"
"""


def cpu_of(argv, repeat):
    """Median CPU seconds (user + system) of running ``argv`` ``repeat`` times."""
    samples = []
    for _round in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(samples)


def payloads(uri, with_peer):
    """{task name: AnsiballZ file} of one playbook run."""
    work = tempfile.mkdtemp(prefix='sysvirt-test-percall-')
    play = PLAY.format(uri=uri, xml=XML) + (PEER_TASK.format(uri=uri, xml=XML) if with_peer else '')
    with open(os.path.join(work, 'play.yml'), 'w') as handle:
        handle.write(play)
    paths = [os.path.join(REPO, '.build', 'collections')] + ([PEER] if with_peer else [])
    env = dict(os.environ, ANSIBLE_KEEP_REMOTE_FILES='1', ANSIBLE_REMOTE_TMP=os.path.join(work, 'tmp'),
               ANSIBLE_COLLECTIONS_PATH=':'.join(paths), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='False',
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    proc = subprocess.run([shutil.which('ansible-playbook') or 'ansible-playbook', '-i', 'localhost,', '-c', 'local',
                           'play.yml'], cwd=work, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit('the playbook failed:\n' + proc.stdout[-3000:] + proc.stderr[-2000:])
    found = {}
    for path in glob.glob(os.path.join(work, 'tmp', '*', 'AnsiballZ_*.py')):
        name = os.path.basename(path)[len('AnsiballZ_'):-3]
        found['peer_virt_define' if name == 'virt' else name] = path
    return work, found


def compile_cost(payload, repeat=5):
    """CPU seconds to compile the payload's Python files: (ours, ansible-core's, the peer's)."""
    with open(payload) as handle:
        data = re.search(r"zip_data='(.*?)'", handle.read(), re.S).group(1)
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(data)))
    cost = {'sysvirt': 0.0, 'ansible': 0.0, 'community': 0.0}
    for name in archive.namelist():
        if not name.endswith('.py'):
            continue
        source = archive.read(name)
        started = time.process_time()
        for _round in range(repeat):
            compile(source, name, 'exec')
        owner = 'sysvirt' if '/sysvirt/' in name else 'community' if '/community/' in name else 'ansible'
        cost[owner] += (time.process_time() - started) / repeat
    return cost


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=9)
    parser.add_argument('--uri', default='test:///default')
    args = parser.parse_args()
    with_peer = os.path.isdir(os.path.join(PEER, 'ansible_collections', 'community', 'libvirt'))
    work, found = payloads(args.uri, with_peer)
    py = sys.executable
    lines = ['percall: %s, Python %s, repeat %d, load average %s' % (
        time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), sys.version.split()[0], args.repeat,
        ' '.join('%.1f' % v for v in os.getloadavg()))]
    floor = cpu_of([py, found['ping']], args.repeat)
    parts = [('interpreter alone (python -c pass)', [py, '-c', 'pass']),
             ('import libvirt (cached bytecode)', [py, '-c', 'import libvirt']),
             ('import lxml.etree (cached bytecode)', [py, '-c', 'import lxml.etree'])]
    base = cpu_of(parts[0][1], args.repeat)
    lines.append('%-40s %8.1f ms' % (parts[0][0], base * 1000))
    for label, argv in parts[1:]:
        lines.append('%-40s %8.1f ms above the interpreter' % (label, (cpu_of(argv, args.repeat) - base) * 1000))
    lines.append('%-40s %8.1f ms (the floor)' % ('ansible.builtin.ping payload', floor * 1000))
    for task in sorted(found):
        if task == 'ping':
            continue
        total = cpu_of([py, found[task]], args.repeat)
        cost = compile_cost(found[task])
        lines.append('%-40s %8.1f ms, %+.1f ms above ping; compiling ours %.1f ms, ansible-core %.1f ms%s' % (
            task + ' payload', total * 1000, (total - floor) * 1000, cost['sysvirt'] * 1000,
            cost['ansible'] * 1000, ', the peer %.1f ms' % (cost['community'] * 1000) if cost['community'] else ''))
    shutil.rmtree(work, ignore_errors=True)
    text = '\n'.join(lines) + '\n'
    sys.stdout.write(text)
    os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
    with open(os.path.join(HERE, 'results', 'percall-%s.txt' % time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())),
              'w') as handle:
        handle.write(text)


if __name__ == '__main__':
    main()
