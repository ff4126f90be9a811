# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sysvirt.libvirt.libvirt_qemu connection against the real Linux test guest (tests/utils/linux_guest.py).

One inventory file names the same guest twice: ``agent`` (through the guest agent, no network) and ``ssh`` (the
user ``sysvirt`` over the loopback forward to its port 22). Ad-hoc commands prove setup, copy (checksum verified),
command with become and fetch through the agent; one play runs over both and must give the same results; the
per-task times and the 50 MiB copy/fetch throughput of both are printed (``pytest -s``) and written to
``$SYSVIRT_REPORT_DIR/libvirt_qemu-timings.json`` when that is set.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import pytest

from conftest import COLLECTIONS, QEMU_URI
from utils.linux_guest import agent_ping

PLUGIN = 'sysvirt.libvirt.libvirt_qemu'
BIG_MIB = 50


def _inventory(folder, guest, extra_agent=''):
    path = os.path.join(folder, 'inventory.ini')
    with open(path, 'w') as f:
        f.write('[guests]\n'
                'agent ansible_connection=%s ansible_libvirt_domain=%s ansible_libvirt_uri=%s %s\n'
                'ssh ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=%d ansible_user=%s '
                'ansible_ssh_private_key_file=%s\n'
                '[guests:vars]\nansible_python_interpreter=/usr/bin/python3\n'
                % (PLUGIN, guest.name, QEMU_URI, extra_agent, guest.port, guest.user, guest.key))
    return path


def _env(folder, **extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_HOST_KEY_CHECKING='False',
               ANSIBLE_DEPRECATION_WARNINGS='False', ANSIBLE_NOCOLOR='True',
               ANSIBLE_SSH_ARGS='-o UserKnownHostsFile=/dev/null -o ControlMaster=auto -o ControlPersist=60s',
               ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(folder, 'cp'), ANSIBLE_LOCAL_TEMP=os.path.join(folder, 'tmp'))
    env.update(extra)
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    return env


def _run(argv, env, timeout=900):
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=timeout)


def adhoc(folder, guest, host, module, args=None, extra=()):
    """Run ``ansible <host> -m module``; (process, the host's result from ``--tree``, or None)."""
    tree = os.path.join(folder, 'tree')
    result_file = os.path.join(tree, host)
    if os.path.exists(result_file):
        os.unlink(result_file)
    argv = ['ansible', '-i', _inventory(folder, guest), host, '-m', module, '--tree', tree] + list(extra)
    if args is not None:
        argv += ['-a', args]
    proc = _run(argv, _env(folder))
    try:
        with open(result_file) as f:
            return proc, json.load(f)
    except (OSError, ValueError):
        return proc, None


@pytest.fixture
def folder(tmp_path):
    return str(tmp_path)


def _sha1(path):
    with open(path, 'rb') as f:
        return hashlib.sha1(f.read()).hexdigest()


def test_setup_gathers_the_guests_facts(folder, linux_guest):
    proc, result = adhoc(folder, linux_guest, 'agent', 'ansible.builtin.setup')
    assert proc.returncode == 0 and result is not None, proc.stdout[-3000:] + proc.stderr
    facts = result['ansible_facts']
    assert facts['ansible_hostname'] == 'sysvirt-test-guest'
    assert facts['ansible_distribution'] == 'Debian'
    assert facts['ansible_distribution_major_version'] == '12'
    assert facts['ansible_user_id'] == 'root'
    # The guest's product UUID is the libvirt domain's UUID: these facts come from this very guest.
    assert facts['ansible_product_uuid'].lower() == linux_guest.uuid.lower()


def test_copy_puts_a_file_with_its_checksum(folder, linux_guest):
    src = os.path.join(folder, 'payload.bin')
    with open(src, 'wb') as f:
        f.write(os.urandom(3 * 1024 * 1024 + 123))
    proc, result = adhoc(folder, linux_guest, 'agent', 'ansible.builtin.copy',
                         'src=%s dest=/tmp/sysvirt-payload.bin mode=0640' % src)
    assert proc.returncode == 0 and result, proc.stdout[-3000:] + proc.stderr
    assert result['changed'] is True
    assert result['checksum'] == _sha1(src)
    # Independently, over SSH: the bytes in the guest hash the same.
    check = linux_guest.ssh('sudo', 'sha1sum', '/tmp/sysvirt-payload.bin')
    assert check.returncode == 0, check.stderr
    assert check.stdout.split()[0] == _sha1(src)
    # The same copy again changes nothing.
    proc, again = adhoc(folder, linux_guest, 'agent', 'ansible.builtin.copy',
                        'src=%s dest=/tmp/sysvirt-payload.bin mode=0640' % src)
    assert proc.returncode == 0 and again['changed'] is False, proc.stdout[-3000:]


@pytest.mark.parametrize('method, become_user', [('sudo', 'root'), ('sudo', 'sysvirt'), ('su', 'sysvirt')])
def test_command_with_become(folder, linux_guest, method, become_user):
    proc, result = adhoc(folder, linux_guest, 'agent', 'ansible.builtin.command', 'id -un',
                         extra=['--become', '--become-method', method, '--become-user', become_user])
    assert proc.returncode == 0 and result, proc.stdout[-3000:] + proc.stderr
    assert result['stdout'] == become_user
    assert result['rc'] == 0


def test_command_gets_the_connections_environment_and_stdin(folder, linux_guest):
    proc, result = adhoc(folder, linux_guest, 'agent', 'ansible.builtin.shell', 'echo "$SYSVIRT_PROBE $HOME"',
                         extra=['-e', '{"ansible_libvirt_environment": {"SYSVIRT_PROBE": "from-the-connection"}}'])
    assert proc.returncode == 0 and result, proc.stdout[-3000:] + proc.stderr
    assert result['stdout'] == 'from-the-connection /root'
    proc, result = adhoc(folder, linux_guest, 'agent', 'ansible.builtin.command',
                         '{"argv": ["cat"], "stdin": "line one\\nline two"}')
    assert proc.returncode == 0 and result and result['stdout'] == 'line one\nline two', proc.stdout[-3000:]


def test_command_with_large_standard_input(folder, linux_guest):
    """Standard input larger than one agent request (put_chunk_size) reaches the command whole, in order."""
    script = os.path.join(folder, 'input.yml')
    lines = ['line %06d' % i for i in range(40000)]  # 440 kB
    with open(script, 'w') as f:
        f.write('- hosts: agent\n  gather_facts: false\n  tasks:\n'
                '    - ansible.builtin.command: {argv: [sha256sum], stdin: "{{ text }}", stdin_add_newline: false}\n'
                '      register: out\n'
                '    - ansible.builtin.copy: {dest: "%s", content: "{{ out.stdout }}"}\n'
                '      delegate_to: localhost\n' % os.path.join(folder, 'digest'))
    with open(os.path.join(folder, 'text.json'), 'w') as f:
        json.dump({'text': '\n'.join(lines)}, f)
    proc = _run(['ansible-playbook', '-i', _inventory(folder, linux_guest), script, '-e',
                 '@' + os.path.join(folder, 'text.json'), '-vvv'], _env(folder))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert 'AGENT STDIN' in proc.stdout  # the module and its input went through a file in the guest
    with open(os.path.join(folder, 'digest')) as f:
        assert f.read().split()[0] == hashlib.sha256('\n'.join(lines).encode()).hexdigest()


def test_command_timeout(folder, linux_guest):
    proc = adhoc(folder, linux_guest, 'agent', 'ansible.builtin.raw', 'sleep 20',
                 extra=['-e', 'ansible_libvirt_command_timeout=2'])[0]
    assert proc.returncode != 0
    assert 'still runs after command_timeout (2s)' in proc.stdout, proc.stdout[-3000:]
    assert 'Hint: raise ansible_libvirt_command_timeout' in proc.stdout


@pytest.mark.parametrize('pipelining', [True, False])
def test_modules_run_with_and_without_pipelining(folder, linux_guest, pipelining):
    """Pipelined, the module goes to the guest's Python on standard input: no file is put into the guest."""
    proc = adhoc(folder, linux_guest, 'agent', 'ansible.builtin.command', 'uname -n',
                 extra=['-vvv', '-e', 'ansible_libvirt_pipelining=%s' % pipelining])[0]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert 'agent | SUCCESS' in proc.stdout or 'agent | CHANGED' in proc.stdout, proc.stdout[-3000:]
    assert 'sysvirt-test-guest' in proc.stdout
    assert 'AGENT EXEC' in proc.stdout
    assert ('AGENT PUT' in proc.stdout) is (not pipelining), proc.stdout[-3000:]
    # Pipelined, the module (larger than one agent request) goes through a temporary file of the connection's own.
    assert ('AGENT STDIN' in proc.stdout) is pipelining, proc.stdout[-3000:]


def test_fetch_brings_a_file_back(folder, linux_guest):
    dest = os.path.join(folder, 'fetched')
    proc, result = adhoc(folder, linux_guest, 'agent', 'ansible.builtin.fetch',
                         'src=/etc/os-release dest=%s/ flat=true' % dest)
    assert proc.returncode == 0 and result, proc.stdout[-3000:] + proc.stderr
    with open(os.path.join(dest, 'os-release')) as f:
        local = f.read()
    remote = linux_guest.ssh('cat', '/etc/os-release')
    assert remote.returncode == 0 and local == remote.stdout
    assert 'bookworm' in local


PLAY = '''
- hosts: "{{ target }}"
  gather_facts: true
  gather_subset: [min]
  vars:
    path: /tmp/sysvirt-big-{{ inventory_hostname }}.bin
  tasks:
    - name: copy
      ansible.builtin.copy:
        src: "{{ big }}"
        dest: "{{ path }}"
        mode: "0600"
      register: copy
    - name: command become
      ansible.builtin.command: id -u
      become: true
      register: command
      changed_when: false
    - name: stat
      ansible.builtin.stat:
        path: "{{ path }}"
        checksum_algorithm: sha256
      register: stat
    - name: fetch
      ansible.builtin.fetch:
        src: "{{ path }}"
        dest: "{{ out }}/{{ inventory_hostname }}.bin"
        flat: true
      register: fetch
    - name: remove
      ansible.builtin.file:
        path: "{{ path }}"
        state: absent
      become: true
    - name: results
      delegate_to: localhost
      ansible.builtin.copy:
        dest: "{{ out }}/{{ inventory_hostname }}.json"
        content: "{{ compared | to_nice_json }}"
        mode: "0600"
      vars:
        compared:
          distribution: "{{ ansible_facts.distribution }} {{ ansible_facts.distribution_version }}"
          kernel: "{{ ansible_facts.kernel }}"
          hostname: "{{ ansible_facts.hostname }}"
          python: "{{ ansible_facts.python_version }}"
          copy: "{{ copy | dict2items | selectattr('key', 'in', ['changed', 'checksum', 'md5sum', 'size', 'mode'])
                   | items2dict }}"
          command: "{{ command.stdout }} {{ command.rc }}"
          stat: "{{ stat.stat.checksum }} {{ stat.stat.size }}"
          fetch: "{{ fetch.checksum }} {{ fetch.changed }}"
'''


def _task_seconds(junit_dir):
    """{task name: seconds} from the junit callback's report (one file per play run)."""
    import xml.etree.ElementTree as ET

    reports = [os.path.join(junit_dir, n) for n in os.listdir(junit_dir) if n.endswith('.xml')]
    assert len(reports) == 1, reports
    times = {}
    for case in ET.parse(reports[0]).iter('testcase'):
        name = case.get('name').split('] ', 1)[-1].split(': ', 1)[-1]  # '[host] play: task'
        times[name] = round(float(case.get('time')), 2)
    return times


def _play(folder, guest, target):
    playbook = os.path.join(folder, 'play.yml')
    with open(playbook, 'w') as f:
        f.write(PLAY)
    big = os.path.join(folder, 'big.bin')
    if not os.path.exists(big):
        with open(big, 'wb') as f:
            for _mib in range(BIG_MIB):
                f.write(os.urandom(1024 * 1024))
    out = os.path.join(folder, 'out')
    junit = os.path.join(folder, 'junit-' + target)
    # Pipelining on for both (SSH's default is off), so that the comparison is between the transports.
    env = _env(folder, ANSIBLE_CALLBACKS_ENABLED='ansible.builtin.junit', JUNIT_OUTPUT_DIR=junit,
               JUNIT_TASK_CLASS='yes', JUNIT_HIDE_TASK_ARGUMENTS='yes', ANSIBLE_PIPELINING='True')
    proc = _run(['ansible-playbook', '-i', _inventory(folder, guest), playbook, '-e', 'target=%s' % target,
                 '-e', 'big=%s' % big, '-e', 'out=%s' % out], env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    with open(os.path.join(out, target + '.json')) as f:
        compared = json.load(f)
    return compared, _task_seconds(junit), _sha1(os.path.join(out, target + '.bin')), _sha1(big)


def test_the_same_play_over_ssh_and_over_the_agent(folder, linux_guest):
    results = {}
    for target in ('ssh', 'agent'):
        results[target] = _play(folder, linux_guest, target)
    agent, ssh = results['agent'], results['ssh']
    assert agent[0] == ssh[0]
    assert agent[0]['command'] == '0 0'
    assert agent[0]['copy']['changed'] is True and agent[0]['copy']['size'] == BIG_MIB * 1024 * 1024
    assert agent[2] == agent[3] and ssh[2] == ssh[3], 'fetched files differ from the source'
    mb = BIG_MIB * 1.048576
    report = dict(
        boot=linux_guest.timings,
        load_average=os.getloadavg(),
        task_seconds=dict(agent=agent[1], ssh=ssh[1]),
        agent_over_ssh=dict((task, round(agent[1][task] / ssh[1][task], 2)) for task in agent[1]
                            if ssh[1].get(task)),
        copy_mb_per_s=dict(agent=round(mb / agent[1]['copy'], 1), ssh=round(mb / ssh[1]['copy'], 1)),
        fetch_mb_per_s=dict(agent=round(mb / agent[1]['fetch'], 1), ssh=round(mb / ssh[1]['fetch'], 1)),
    )
    print('\nlibvirt_qemu vs ssh: %s' % json.dumps(report, indent=1))
    if os.environ.get('SYSVIRT_REPORT_DIR'):
        with open(os.path.join(os.environ['SYSVIRT_REPORT_DIR'], 'libvirt_qemu-timings.json'), 'w') as f:
            json.dump(report, f, indent=1)


# --- failures that must say what is wrong ------------------------------------------------------------------

AGENT_CHANNEL_XML = ("    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>\n"
                     "  </devices>")


@pytest.fixture(scope='module')
def agentless_guests(qemu_conn):
    """Two tiny busybox guests (no qemu-ga in them), running: one without an agent channel, one with one."""
    from day2_guest import cleanup_domain
    from utils.guest import random_name, serial_log_path, tiny_guest_xml

    names = dict(no_channel=random_name('guest-noagent'), silent_channel=random_name('guest-silentagent'))
    try:
        for kind, name in names.items():
            xml = tiny_guest_xml(name)
            if kind == 'silent_channel':
                xml = xml.replace('  </devices>', AGENT_CHANNEL_XML)
            qemu_conn.defineXML(xml).create()
        yield names
    finally:
        for name in names.values():
            cleanup_domain(qemu_conn, name)
            if os.path.exists(serial_log_path(name)):
                os.unlink(serial_log_path(name))


def _unreachable(folder, domain, extra_vars=''):
    path = os.path.join(folder, 'broken.ini')
    with open(path, 'w') as f:
        f.write('broken ansible_connection=%s ansible_libvirt_domain=%s ansible_libvirt_uri=%s '
                'ansible_libvirt_agent_timeout=3 %s\n' % (PLUGIN, domain, QEMU_URI, extra_vars))
    proc = _run(['ansible', '-i', path, 'broken', '-m', 'ansible.builtin.raw', '-a', 'true'],
                _env(folder), timeout=120)
    assert proc.returncode != 0
    assert 'broken | UNREACHABLE!' in proc.stdout, proc.stdout + proc.stderr
    return proc.stdout


def test_a_guest_without_an_agent_channel(folder, agentless_guests):
    out = _unreachable(folder, agentless_guests['no_channel'])
    assert 'has no QEMU guest agent channel' in out
    assert "Hint: Add a guest agent channel (<channel type='unix'><target type='virtio' " \
           "name='org.qemu.guest_agent.0'/>" in out


def test_a_guest_whose_agent_does_not_run(folder, agentless_guests):
    out = _unreachable(folder, agentless_guests['silent_channel'])
    assert 'The QEMU guest agent of %s is not connected' % agentless_guests['silent_channel'] in out
    assert 'Hint: Install and start qemu-guest-agent in the guest' in out


def test_a_guest_that_does_not_exist(folder, qemu_conn):
    out = _unreachable(folder, 'sysvirt-test-guest-nosuchguest')
    assert 'No guest named sysvirt-test-guest-nosuchguest (nor with that UUID) on qemu:///system' in out
    assert 'Hint: Set ansible_libvirt_domain' in out


@pytest.fixture
def agent_blocks_exec(linux_guest, qemu_conn):
    """The shared guest's qemu-ga with guest-exec and guest-file-write blocked (its config file), restored after."""
    conf = "printf '[general]\\nblock-rpcs=guest-exec,guest-file-write\\n' >/etc/qemu/qemu-ga.conf"
    dom = qemu_conn.lookupByName(linux_guest.name)
    proc = linux_guest.ssh('sudo', 'sh', '-c', '"%s && systemctl restart qemu-guest-agent"' % conf)
    assert proc.returncode == 0, proc.stderr
    try:
        # The restarted agent answers before the test asks it anything (else: "not connected").
        _wait_for_agent(dom, linux_guest.name)
        yield
    finally:
        proc = linux_guest.ssh('sudo', 'sh', '-c', '"rm -f /etc/qemu/qemu-ga.conf && systemctl restart qemu-guest-agent"')
        assert proc.returncode == 0, proc.stderr
        # The next tests of the session share this guest: its agent answers again before they start.
        _wait_for_agent(dom, linux_guest.name)


def _wait_for_agent(dom, name, attempts=120):
    for _attempt in range(attempts):
        if agent_ping(dom):
            return
        time.sleep(0.5)
    pytest.fail('the agent of %s does not answer after its restart' % name)


def test_an_agent_that_blocks_guest_exec(folder, linux_guest, agent_blocks_exec):
    out = _unreachable(folder, linux_guest.name)
    assert ('The QEMU guest agent of %s blocks guest-exec, guest-file-write, which this connection needs'
            % linux_guest.name) in out
    assert 'Hint: Allow guest-exec, guest-file-write in the guest' in out
    assert 'block-rpcs= in the [general] section of /etc/qemu/qemu-ga.conf' in out
