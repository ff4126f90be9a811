# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action plugins' in-process run (plugins/plugin_utils/_in_process.py) against the module process.

One playbook, run twice by ansible-playbook: with the modules run in the controller's worker (the default for a
local task) and with ``sysvirt_libvirt_in_process: false`` (the module process, as before the action plugins).
Every registered result must be equal: check mode with diff, the real change with diff, failures (bad XML, an
unknown option, a libvirt error), an info module, a secret (no_log: its value appears in no result, diff or
-vvvv log of either run), a task with ``no_log: true``, and ``domain_backup`` on a running tiny guest (check mode,
a full push backup, the same task again: each run into a directory of its own; both backups hold the disk's data).
A task delegated to a host reached over another connection still runs the module there (the connection executes
the AnsiballZ payload), with the same result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import pytest

from day2_guest import guest_with_disks, restored_digest
from utils.guest import MARKER_UP, wait_for_console
from utils.reliability import playbook_env, run_playbook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, '.build', 'collections')
SECRET = 'sysvirt-test-speed-s3cret-value'
UUID = '6a4c3f0e-2b41-4a9e-9a59-3d3c5e0b7f11'
SECRET_UUID = '6a4c3f0e-2b41-4a9e-9a59-3d3c5e0b7f12'
XML = ("<domain type='test'><name>sysvirt-test-speed-ip</name><uuid>%s</uuid><memory>65536</memory>"
       "<os><type>hvm</type></os></domain>" % UUID)
#: A vHBA on the test driver's NPIV-capable scsi_host1, and an ethernet interface (node_device, host_interface).
VHBA = ("<device><name>scsi_host12</name><parent>scsi_host1</parent><capability type='scsi_host'>"
        "<capability type='fc_host'><wwnn>20000000c9831b4b</wwnn><wwpn>10000000c9831b4b</wwpn></capability>"
        "</capability></device>")
IFACE = ("<interface type='ethernet' name='sysvirt-test-ip0'><start mode='onboot'/><mac address='52:54:00:aa:00:01'/>"
         "<mtu size='1500'/></interface>")

RECORDING = '''# A local connection with another name that records every command it runs (a test of delegation).
from __future__ import annotations

DOCUMENTATION = """
    name: sysvirt_test_recording
    short_description: local execution under another name, every command recorded
    description: [The local connection, which the in-process path must not take for local.]
    author: sysvirt.libvirt tests
    extends_documentation_fragment:
        - connection_pipelining
"""

import os

from ansible.plugins.connection.local import Connection as Local


class Connection(Local):
    transport = 'sysvirt_test_recording'

    def exec_command(self, cmd, in_data=None, sudoable=True):
        with open(os.environ['SYSVIRT_TEST_RECORDING'], 'a') as handle:
            handle.write(cmd + '\\n')
        return super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
'''

PLAY = textwrap.dedent('''\
    - hosts: localhost
      gather_facts: false
      vars:
        xml: "{xml}"
        haswell: {{arch: x86_64, model: Haswell-noTSX, vendor: Intel, features: [vmx]}}
        westmere: "<cpu><arch>x86_64</arch><model>Westmere</model><vendor>Intel</vendor><feature name='vmx'/></cpu>"
      tasks:
        - name: check mode with diff
          sysvirt.libvirt.domain: {{uri: 'test:///default', name: sysvirt-test-speed-ip, xml: "{{{{ xml }}}}"}}
          check_mode: true
          diff: true
          register: check
        - name: the change with diff
          sysvirt.libvirt.domain: {{uri: 'test:///default', name: sysvirt-test-speed-ip, xml: "{{{{ xml }}}}"}}
          diff: true
          register: real
        - name: bad XML
          sysvirt.libvirt.domain: {{uri: 'test:///default', name: sysvirt-test-speed-ip, xml: '<domain'}}
          register: bad_xml
          ignore_errors: true
        - name: an unknown option
          sysvirt.libvirt.domain: {{uri: 'test:///default', name: sysvirt-test-speed-ip, colour: red}}
          register: unknown
          ignore_errors: true
        - name: a libvirt error
          sysvirt.libvirt.domain: {{uri: 'test:///sysvirt-test-speed-no-such-file.xml', name: x, state: absent}}
          register: libvirt_error
          ignore_errors: true
        - name: an info module
          sysvirt.libvirt.domain_info: {{uri: 'test:///default', name: test}}
          register: info
        - name: a secret value (qemu:///system; the test driver has no secrets)
          block:
            - name: a secret value
              sysvirt.libvirt.secret:
                uri: 'qemu:///system'
                uuid: {secret_uuid}
                usage_type: ceph
                usage_id: sysvirt-test-speed-in-process
                value: {secret}
              diff: true
              register: secret
          always:
            - name: remove the secret
              sysvirt.libvirt.secret: {{uri: 'qemu:///system', uuid: {secret_uuid}, state: absent}}
        - name: a backup in check mode
          sysvirt.libvirt.domain_backup: &backup
            uri: 'qemu:///system'
            domain: "{{{{ backup_domain }}}}"
            directory: "{{{{ backup_dir }}}}"
            disks: [{{name: vda}}]
          check_mode: true
          diff: true
          register: backup_check
        - name: a full push backup
          sysvirt.libvirt.domain_backup: *backup
          diff: true
          register: backup_real
        - name: the same backup again (the directory holds it)
          sysvirt.libvirt.domain_backup: *backup
          diff: true
          register: backup_again
        - name: a CPU baseline (cpu_baseline)
          sysvirt.libvirt.cpu_baseline: {{uri: 'test:///default', cpus: ["{{{{ haswell }}}}", "{{{{ westmere }}}}"]}}
          register: cpu_baseline
        - name: an incompatible CPU (cpu_compare fails)
          sysvirt.libvirt.cpu_compare:
            uri: 'test:///default'
            cpu: "{{{{ haswell }}}}"
            host_cpu: "{{{{ westmere }}}}"
            fail_on_incompatible: true
          register: cpu_compare
          ignore_errors: true
        - name: hugepages (host_memory; check mode, the test driver cannot allocate pages)
          sysvirt.libvirt.host_memory: {{uri: 'test:///default', hugepages: [{{size: 2M, count: 4}}]}}
          check_mode: true
          diff: true
          register: host_memory
        - name: a vHBA (node_device)
          sysvirt.libvirt.node_device: {{uri: 'test:///default', name: scsi_host12, xml: "{vhba}"}}
          diff: true
          register: node_device
        - name: a host interface (host_interface)
          sysvirt.libvirt.host_interface: {{uri: 'test:///default', xml: "{iface}"}}
          diff: true
          register: host_interface
        - name: no job to wait for (domain_job fails)
          sysvirt.libvirt.domain_job: {{uri: 'test:///default', domain: test, state: finished, timeout: 5}}
          register: job_none
          ignore_errors: true
        - name: save a guest (domain_job, the call in a thread)
          sysvirt.libvirt.domain_job: {{uri: 'test:///default', domain: test, save: {{path: "{{{{ save_path }}}}"}}}}
          diff: true
          register: job_save
        - name: jobs (domain_job_info)
          sysvirt.libvirt.domain_job_info: {{uri: 'test:///default', domain: test}}
          register: job_info
        - name: a checkpoint (domain_checkpoint)
          sysvirt.libvirt.domain_checkpoint: {{uri: 'test:///default', domain: test, name: sysvirt-test-cp}}
          diff: true
          register: checkpoint
        - name: checkpoints (domain_checkpoint_info)
          sysvirt.libvirt.domain_checkpoint_info: {{uri: 'test:///default', domain: test}}
          register: checkpoint_info
        - name: keys, an NMI and a screenshot (domain_console)
          sysvirt.libvirt.domain_console:
            uri: 'test:///default'
            domain: test
            send_keys: [shift]
            nmi: true
            screenshot: {{dest: "{{{{ save_path }}}}.png"}}
          diff: true
          register: console
        - name: no_log on the task
          sysvirt.libvirt.domain_info: {{uri: 'test:///default', name: test}}
          no_log: true
          register: hidden
        - name: delegated to a host over another connection
          sysvirt.libvirt.domain_info: {{uri: 'test:///default', name: test}}
          delegate_to: elsewhere
          register: delegated
        - name: every result
          ansible.builtin.copy:
            dest: "{{{{ out }}}}"
            content: "{{{{ dict(check=check, real=real, bad_xml=bad_xml, unknown=unknown, libvirt_error=libvirt_error,
              info=info, secret=secret, hidden=hidden, delegated=delegated, backup_check=backup_check,
              backup_real=backup_real, backup_again=backup_again, cpu_baseline=cpu_baseline, cpu_compare=cpu_compare,
              host_memory=host_memory, node_device=node_device, host_interface=host_interface, job_none=job_none,
              job_save=job_save, job_info=job_info, checkpoint=checkpoint, checkpoint_info=checkpoint_info,
              console=console)
              | to_json }}}}"
          no_log: true
    ''').format(xml=XML, secret=SECRET, secret_uuid=SECRET_UUID, vhba=VHBA, iface=IFACE)

INVENTORY = textwrap.dedent('''\
    all:
      hosts:
        localhost: {{ansible_connection: local, ansible_python_interpreter: "{python}"}}
        elsewhere: {{ansible_connection: sysvirt_test_recording, ansible_python_interpreter: "{python}"}}
    ''').format(python=sys.executable)


@pytest.fixture(scope='module')
def backup_guest(qemu_conn):
    """(name, folder for the backups, SHA-256 of the disk's content) of a running tiny guest whose qcow2 vda holds
    2 MiB of data, written before it boots; the guest, its disk and the folder are removed afterwards."""
    with guest_with_disks(qemu_conn, start=False, kind='inproc') as (name, dom, workdir, paths):
        subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x5a 1M 2M', paths['vda']], check=True,
                       capture_output=True)
        content = restored_digest(paths['vda'], workdir)
        dom.create()
        wait_for_console(os.path.join(workdir, 'serial.log'), MARKER_UP, timeout=60)
        folder = tempfile.mkdtemp(prefix='sysvirt-test-')
        os.chmod(folder, 0o755)
        try:
            yield name, folder, content
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _backup_dir(backup_guest, in_process):
    return os.path.join(backup_guest[1], 'on' if in_process else 'off')


def _save_path(backup_guest, in_process):
    """Where domain_job saves the test driver's guest in one run (each run saves to a file of its own; the
    screenshot of domain_console goes next to it, with .png added)."""
    return os.path.join(backup_guest[1], 'test-%s.save' % ('on' if in_process else 'off'))


def _run(tmp_path, in_process, backup_guest):
    """(results dict, output, recorded commands) of the playbook with the in-process path on or off."""
    tag = 'on' if in_process else 'off'
    os.makedirs(str(tmp_path / 'connection_plugins'), exist_ok=True)
    (tmp_path / 'connection_plugins' / 'sysvirt_test_recording.py').write_text(RECORDING)
    (tmp_path / 'play.yml').write_text(PLAY)
    (tmp_path / 'inventory.yml').write_text(INVENTORY)
    recording = tmp_path / ('commands-%s.txt' % tag)
    recording.write_text('')
    env = playbook_env(COLLECTIONS, ANSIBLE_CONNECTION_PLUGINS=str(tmp_path / 'connection_plugins'),
                       SYSVIRT_TEST_RECORDING=str(recording))
    out = tmp_path / ('results-%s.json' % tag)
    rc, output = run_playbook(['-vvvv', '-i', str(tmp_path / 'inventory.yml'), str(tmp_path / 'play.yml'),
                               '-e', 'sysvirt_libvirt_in_process=%s' % in_process, '-e', 'out=%s' % out,
                               '-e', 'backup_domain=%s' % backup_guest[0],
                               '-e', 'backup_dir=%s' % _backup_dir(backup_guest, in_process),
                               '-e', 'save_path=%s' % _save_path(backup_guest, in_process)],
                              env, str(tmp_path / ('output-%s.txt' % tag)), 600)
    assert rc == 0, output[-4000:]
    return json.loads(out.read_text()), output, recording.read_text()


@pytest.fixture(scope='module')
def runs(tmp_path_factory, backup_guest):
    tmp = tmp_path_factory.mktemp('in-process')
    return {True: _run(tmp, True, backup_guest), False: _run(tmp, False, backup_guest)}


#: What differs between two backups of the same disk and nothing else: when they ran and how long they took.
BACKUP_CLOCKS = ('seconds', 'libvirt_ms', 'started', 'completed')


def _steady(result, backup_guest, in_process):
    """A registered result without the values that move between any two runs: the test driver's running domain
    reports the clock as its CPU time; a backup's clocks (BACKUP_CLOCKS), and its directory (each run backs up into
    its own), named ``<backup_dir>``; a save's duration and file (``<save_path>``); a checkpoint's creation time."""
    text = json.dumps(result).replace(_save_path(backup_guest, in_process), '<save_path>')
    result = json.loads(text.replace(_backup_dir(backup_guest, in_process), '<backup_dir>'))
    for domain in result.get('domains') or ():
        domain.pop('cpu_time_ns')
    if 'backup' in result:
        for key in BACKUP_CLOCKS:
            result['backup'].pop(key)
    if 'save' in result:
        result['save'].pop('seconds')
    if 'checkpoint' in result:
        result['checkpoint'].pop('creation_time')
    return result


#: The registered results: the first tasks, then one or two per module added to the worker since.
TASKS = ['check', 'real', 'bad_xml', 'unknown', 'libvirt_error', 'info', 'secret', 'hidden', 'delegated',
         'backup_check', 'backup_real', 'backup_again', 'cpu_baseline', 'cpu_compare', 'host_memory', 'node_device',
         'host_interface', 'job_none', 'job_save', 'job_info', 'checkpoint', 'checkpoint_info', 'console']


@pytest.mark.parametrize('task', TASKS)
def test_same_result_in_process_and_module_process(runs, backup_guest, task):
    here = _steady(runs[True][0][task], backup_guest, True)
    there = _steady(runs[False][0][task], backup_guest, False)
    assert here == there


def test_results_are_what_the_module_says(runs):
    results = runs[True][0]
    assert results['check']['changed'] and results['real']['changed']
    assert results['check']['diff'][0]['after'].startswith("<domain type='test'>")
    assert UUID in results['real']['diff'][0]['after']
    assert results['bad_xml']['failed'] and 'not well-formed' in results['bad_xml']['msg']
    assert results['unknown']['failed'] and 'colour' in results['unknown']['msg']
    assert results['libvirt_error']['failed'] and 'test:///sysvirt-test-speed-no-such-file.xml' in \
        results['libvirt_error']['msg']
    assert results['info']['domains'][0]['name'] == 'test'
    for in_process in (True, False):
        task = runs[in_process][1].split('TASK [no_log on the task]', 1)[1].split('TASK [', 1)[0]
        assert "the output has been hidden due to the fact that 'no_log: true'" in task
        assert '"domains"' not in task


@pytest.mark.parametrize('in_process', [True, False])
def test_secret_value_nowhere(runs, in_process):
    results, output, commands = runs[in_process]
    assert SECRET not in json.dumps(results)
    assert SECRET not in output


#: The modules the playbook runs locally, each of which must leave the worker only when turned off.
LOCAL_MODULES = ('domain', 'domain_backup', 'cpu_baseline', 'cpu_compare', 'host_memory', 'node_device',
                 'host_interface', 'domain_job', 'domain_job_info', 'domain_checkpoint', 'domain_checkpoint_info',
                 'domain_console')


def test_local_tasks_run_in_the_worker_unless_turned_off(runs):
    on, off = runs[True][1], runs[False][1]
    assert on.count("running in the controller worker") == 23
    assert off.count('running in the controller worker') == 0
    assert off.count('running the module process: sysvirt_libvirt_in_process is false') == 23
    for name in LOCAL_MODULES:
        assert 'AnsiballZ_%s.py' % name not in on and 'AnsiballZ_%s.py' % name in off, name


@pytest.mark.parametrize('in_process', [True, False])
def test_the_added_modules_did_their_work(runs, backup_guest, in_process):
    results = runs[in_process][0]
    assert results['cpu_baseline']['cpu']['model'] == 'Westmere' and not results['cpu_baseline']['changed']
    assert results['cpu_compare']['failed'] and results['cpu_compare']['result'] == 'incompatible'
    assert 'avx' in results['cpu_compare']['missing_features']
    assert results['host_memory']['actions'] == ['reserve 4 pages of 2048 KiB on the whole host (was 0)']
    assert results['host_memory']['diff'] == {'before': {'2048 KiB pages (host)': 0},
                                              'after': {'2048 KiB pages (host)': 4}}
    assert results['node_device']['actions'] == ['create']
    assert results['node_device']['device']['capabilities'][0]['wwpn'] == '10000000c9831b4b'
    assert results['host_interface']['actions'] == ['define']
    assert "name='sysvirt-test-ip0'" in results['host_interface']['diff']['after']
    assert results['job_none']['failed'] and 'no jobs of test' in results['job_none']['msg']
    saved = results['job_save']['save']
    assert results['job_save']['changed'] and saved['path'] == _save_path(backup_guest, in_process)
    assert os.path.getsize(saved['path']) == saved['size'] > 0
    assert results['job_info']['jobs'][0]['domain'] == 'test'
    assert results['checkpoint']['actions'] == ['create checkpoint sysvirt-test-cp']
    assert results['checkpoint_info']['domain'] == 'test' and not results['checkpoint_info']['failed']
    console = results['console']
    assert console['changed'] and console['screenshot']['mime_type'] == 'image/png', console
    with open(_save_path(backup_guest, in_process) + '.png', 'rb') as handle:
        assert handle.read(8) == b'\x89PNG\r\n\x1a\n'


@pytest.mark.parametrize('in_process', [True, False])
def test_both_ways_back_up_the_disk(runs, backup_guest, in_process):
    results, directory, content = runs[in_process][0], _backup_dir(backup_guest, in_process), backup_guest[2]
    check, real, again = results['backup_check'], results['backup_real'], results['backup_again']
    assert check['changed'] and real['changed'] and not again['changed'], (check, real, again)
    assert check['actions'] == real['actions'] and check['backup']['bytes'] is None
    made = real['backup']
    assert made['kind'] == 'full' and made['directory'] == directory and made['bytes'] >= 2 * 1024 * 1024, made
    assert made['disks'][0]['file'] == os.path.join(directory, 'vda.qcow2')
    assert restored_digest(made['disks'][0]['file'], backup_guest[1]) == content
    assert again['backup'] == made


@pytest.mark.parametrize('in_process', [True, False])
def test_delegated_task_runs_the_module_over_its_connection(runs, in_process):
    output, commands = runs[in_process][1], runs[in_process][2]
    assert 'running the module process: the connection is not local' in output
    assert 'AnsiballZ_domain_info.py' in commands
    assert runs[in_process][0]['delegated']['domains'][0]['name'] == 'test'
