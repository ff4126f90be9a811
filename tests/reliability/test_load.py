# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Load: 20 forks define, start, stop and remove 100 guests on qemu:///system with ansible-playbook.

The play is the benchmark's (bench/load/play.yml, one guest per inventory host, one phase per run chosen with
--tags). Each phase runs twice. After every run: ansible-playbook succeeded, every one of the 100 hosts ran
its task (ok=1, failed=0, unreachable=0) and reported a change on the first run and none on the second, and
libvirt, read independently, shows exactly the asked end state: all 100 defined (persistent, shut off, each
stored definition holding what the play asked, by _xml.differences), all 100 running, all 100 shut off, none
left.

The guests are tiny and diskless (type='qemu', 16 MiB, no NIC, no disk) and have no operating system: SeaBIOS
finds nothing to boot and halts (rebootTimeout -1). All 100 are started; a halted SeaBIOS guest costs ~40 MiB
and ~0% CPU, where the tiny Linux test guest takes 70-90% of a core for seconds while it boots, which 100 times
over on a 2-core host would take minutes and starve every other process. What the modules do (define, start
and wait for the running event, destroy and wait for shutoff, undefine) is the same for both, but no OS answers
ACPI, so "stop" is state=destroyed. Timing is reported (print, junit properties), not asserted: bench/load.sh
compares it with ansible.builtin.ping. Every guest is removed at the end, pass or fail (owned_prefix).
"""

from __future__ import annotations

import os
import sys
import time

import jinja2
import libvirt

from conftest import COLLECTIONS, QEMU_URI, REPO
from utils.reliability import play_recap, playbook_env, run_playbook

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._domain import domain_rules

GUESTS = 100
FORKS = 20
MEMORY_MIB = 16
PLAY_DIR = os.path.join(REPO, 'bench', 'load')
#: Ceiling of one ansible-playbook run (a run takes 15-40 s here); the process group is killed after it.
RUN_TIMEOUT = 240
#: (phase, the domain state every guest must be in afterwards; None: no guest left)
PHASES = (('define', libvirt.VIR_DOMAIN_SHUTOFF), ('start', libvirt.VIR_DOMAIN_RUNNING),
          ('stop', libvirt.VIR_DOMAIN_SHUTOFF), ('remove', None))
STATE_NAMES = {libvirt.VIR_DOMAIN_RUNNING: 'running', libvirt.VIR_DOMAIN_SHUTOFF: 'shutoff',
               libvirt.VIR_DOMAIN_PAUSED: 'paused', libvirt.VIR_DOMAIN_CRASHED: 'crashed'}


def _inventory(path, names):
    lines = ['[guests]'] + names + ['', '[guests:vars]', 'ansible_connection=local',
                                    'ansible_python_interpreter=%s' % sys.executable]
    path.write_text('\n'.join(lines) + '\n')


def _desired(name):
    """The XML the play's define task asks for guest ``name`` (the same template, the same variables)."""
    with open(os.path.join(PLAY_DIR, 'guest.xml.j2')) as handle:
        template = jinja2.Template(handle.read())
    return template.render(inventory_hostname=name, memory_mib=MEMORY_MIB, kernel='')


def _state_problems(conn, prefix, names, want, rules):
    """What differs between the guests of this run and the asked end state (empty: exactly as asked)."""
    found = dict((d.name(), d) for d in conn.listAllDomains() if d.name().startswith(prefix))
    if want is None:
        return ['left behind: %s' % sorted(found)] if found else []
    problems = []
    if set(found) != set(names):
        missing = sorted(set(names) - set(found))[:5]
        unexpected = sorted(set(found) - set(names))[:5]
        problems.append('missing %s, unexpected %s' % (missing, unexpected))
    for name in sorted(set(found) & set(names)):
        dom = found[name]
        state = dom.state()[0]
        if state != want or not dom.isPersistent():
            problems.append('%s: %s, persistent=%s' % (name, STATE_NAMES.get(state, state), dom.isPersistent()))
        diffs = _xml.differences(_desired(name), dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), rules)
        if diffs:
            problems.append('%s: stored definition differs: %s' % (name, diffs[:3]))
    return problems


def test_load_100_guests_20_forks(qemu_conn, owned_prefix, tmp_path, record_testsuite_property):
    prefix = owned_prefix('load')
    names = ['%s-%03d' % (prefix, i) for i in range(1, GUESTS + 1)]
    hosts = tmp_path / 'hosts.ini'
    _inventory(hosts, names)
    env = playbook_env(COLLECTIONS, LIBVIRT_DEFAULT_URI=QEMU_URI, ANSIBLE_PIPELINING='1')
    rules = domain_rules(qemu_conn)
    timings = []
    for phase, want in PHASES:
        for run in (1, 2):
            log = tmp_path / ('%s-%d.log' % (phase, run))
            started = time.monotonic()
            returncode, output = run_playbook(['-i', str(hosts), '-f', str(FORKS), '--tags', phase,
                                               '-e', 'memory_mib=%d' % MEMORY_MIB,
                                               os.path.join(PLAY_DIR, 'play.yml')], env, str(log), RUN_TIMEOUT)
            seconds = time.monotonic() - started
            timings.append((phase, run, seconds))
            record_testsuite_property('%s_run%d_seconds' % (phase, run), round(seconds, 1))
            what = '%s run %d' % (phase, run)
            assert returncode == 0, '%s: ansible-playbook rc=%s after %.0fs:\n%s' % (
                what, returncode, seconds, output[-4000:])
            assert 'Traceback' not in output, '%s: a traceback in the output:\n%s' % (what, output[-4000:])
            recap = play_recap(output)
            assert sorted(recap) == names, '%s: recap for %d hosts, not the %d guests' % (what, len(recap), GUESTS)
            bad = dict((h, c) for h, c in recap.items()
                       if (c['ok'], c['changed'], c['failed'], c['unreachable'], c['skipped'])
                       != (1, 1 if run == 1 else 0, 0, 0, 0))
            assert not bad, '%s: %d hosts did not report ok=1 changed=%d: %s' % (
                what, len(bad), 1 if run == 1 else 0, sorted(bad.items())[:3])
            problems = _state_problems(qemu_conn, prefix + '-', names, want, rules)
            assert not problems, '%s: end state not as asked (%d problems): %s' % (what, len(problems),
                                                                                   problems[:5])
    total = sum(t for _p, _r, t in timings)
    record_testsuite_property('total_seconds', round(total, 1))
    print('load: %d guests, %d forks, all started; %s; total %.1fs' % (
        GUESTS, FORKS, ', '.join('%s %d %.1fs' % t for t in timings), total))
