# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The guest agent for real: domain_guest_agent, a quiesced domain_snapshot, domain_info's ``agent`` address source
and the inventory's ``ansible_host`` from the agent, against the Linux test guest (tests/utils/linux_guest.py, one
booted guest shared by the session) and its qemu-guest-agent.

What the agent reports is checked against what the guest itself says over SSH (the loopback forward of the
fixture), and what the module did with virsh, the agent's own freeze status, qemu-img and an SSH login; never only
with the module's answer. Every test leaves the guest as it found it (thawed, UTC, no extra user, no snapshot,
running on its own overlay), also when it fails.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time

import pytest

from conftest import COLLECTIONS, QEMU_URI, run_module
from utils.linux_guest import WORK_DIR

PW_USER = 'sysvirt-pw'


def virsh(*args, check=True):
    return subprocess.run(['virsh', '-c', QEMU_URI] + list(args), check=check, capture_output=True, text=True,
                          timeout=120).stdout.strip()


def agent(guest, check=False, **args):
    return run_module('domain_guest_agent', dict(args, domain=guest.name, uri=QEMU_URI, timeout=10),
                      check_mode=check)


def in_guest(guest, command):
    """Run a shell command in the guest over SSH; its stdout (the test fails when the command does)."""
    proc = guest.ssh(command)
    assert proc.returncode == 0, '%s: rc=%s %s' % (command, proc.returncode, proc.stderr)
    return proc.stdout


def agent_freeze_status(guest):
    """The freeze status as the agent reports it through virsh (not through the module)."""
    answer = virsh('qemu-agent-command', guest.name, json.dumps({'execute': 'guest-fsfreeze-status'}))
    return json.loads(answer)['return']


def four_runs(run, **args):
    """check, real, check, real: changed, changed, unchanged, unchanged; the check run predicts the real one."""
    results = [run(check=c, **args) for c in (True, False, True, False)]
    assert not any(r.failed for r in results), results
    assert [r['changed'] for r in results] == [True, True, False, False], [r['actions'] for r in results]
    assert results[0]['actions'] == results[1]['actions'] and results[2]['actions'] == results[3]['actions'] == []
    return results


@pytest.fixture
def thawed(linux_guest):
    """The guest, thawed again after the test (with virsh, whatever the module did)."""
    try:
        yield linux_guest
    finally:
        if agent_freeze_status(linux_guest) != 'thawed':
            virsh('domfsthaw', linux_guest.name)
        assert agent_freeze_status(linux_guest) == 'thawed'


def _ip_addresses(guest):
    """{interface name: (mac, sorted [(address, prefix, family)])} as ``ip -j address`` in the guest says."""
    found = {}
    for link in json.loads(in_guest(guest, 'ip -j address show')):
        addrs = sorted((a['local'], a['prefixlen'], 'ipv6' if a['family'] == 'inet6' else 'ipv4')
                       for a in link.get('addr_info', []))
        found[link['ifname']] = (link['address'], addrs)
    return found


def _timezone(date_output):
    """{name, offset} from `date "+%Z %z"` (+hhmm as seconds east of UTC)."""
    name, offset = date_output.split()
    seconds = int(offset[1:3]) * 3600 + int(offset[3:5]) * 60
    return dict(name=name, offset=-seconds if offset[0] == '-' else seconds)


def test_facts_are_what_the_guest_says(linux_guest):
    guest = linux_guest
    result = agent(guest, gather=['os', 'hostname', 'users', 'timezone', 'filesystems', 'disks', 'interfaces'])
    assert not result.failed and not result['changed'] and result['actions'] == [], result
    facts = result['guest']
    # What the guest says, in one SSH login (each costs seconds under TCG).
    said = in_guest(guest, 'cat /etc/os-release; echo "@@"; uname -r; uname -m; hostname; date "+%Z %z"; '
                           "stat -f -c '%S %b %f %a' /; findmnt -n -o FSTYPE /").split('@@\n')
    release = dict(line.split('=', 1) for line in said[0].splitlines() if '=' in line)
    kernel, machine, hostname, zone, statfs, fstype = said[1].splitlines()
    assert facts['os']['id'] == release['ID'] == 'debian'
    assert facts['os']['version_id'] == release['VERSION_ID'].strip('"')
    assert facts['os']['pretty_name'] == release['PRETTY_NAME'].strip('"')
    assert facts['os']['kernel_release'] == kernel
    assert facts['os']['machine'] == machine == 'x86_64'
    # The host name cloud-init set from the fixture's seed.
    assert facts['hostname'] == hostname == 'sysvirt-test-guest'
    assert facts['timezone'] == _timezone(zone)
    assert isinstance(facts['users'], list)
    # The root filesystem: agent's total is (blocks - free + available) * fragment size, as statvfs gives them.
    root = [fs for fs in facts['filesystems'] if fs['mountpoint'] == '/']
    assert len(root) == 1, facts['filesystems']
    frsize, blocks, free, avail = (int(x) for x in statfs.split())
    assert root[0]['fstype'] == fstype == 'ext4'
    assert root[0]['total_bytes'] == (blocks - free + avail) * frsize
    assert abs(root[0]['used_bytes'] - (blocks - free) * frsize) < 64 * 2 ** 20
    assert [d['alias'] for d in root[0]['disk']] == ['vda']
    assert sorted(d['alias'] for d in facts['disks']) == ['vda', 'vdb']
    # Every interface with its MAC and addresses, as `ip` in the guest lists them.
    reported = dict((i['name'], (i['hwaddr'], sorted((a['address'], a['prefix'], a['type']) for a in i['addresses'])))
                    for i in facts['interfaces'])
    assert reported == _ip_addresses(guest)
    assert ('10.0.2.15', 24, 'ipv4') in [a for mac, addrs in reported.values() for a in addrs]


def test_logged_in_user_and_timezone_change(linux_guest):
    guest = linux_guest
    # A login with a terminal (sshd records it in utmp, where the agent reads users).
    argv = guest.ssh_argv('sleep 60')
    argv.insert(1, '-tt')
    session = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        users = []
        while time.monotonic() < deadline:
            users = agent(guest, gather=['users'])['guest']['users']
            if any(u['name'] == guest.user for u in users):
                break
            time.sleep(1)
        mine = [u for u in users if u['name'] == guest.user]
        assert mine, users
        now_ms, zone = in_guest(guest, 'date +%s%3N; sudo ln -sf /usr/share/zoneinfo/Asia/Kolkata /etc/localtime; '
                                       'date "+%Z %z"').splitlines()
        assert 0 <= int(now_ms) - mine[0]['login_time'] < 120000, (now_ms, mine)
        assert agent(guest, gather=['timezone'])['guest']['timezone'] == dict(name='IST', offset=19800) \
            == _timezone(zone)
    finally:
        session.kill()
        session.wait(timeout=30)
        zone = in_guest(guest, 'sudo ln -sf /usr/share/zoneinfo/Etc/UTC /etc/localtime; date "+%Z %z"')
    assert agent(guest, gather=['timezone'])['guest']['timezone'] == dict(name='UTC', offset=0) == _timezone(zone)


def test_freeze_and_thaw_four_runs(thawed):
    guest = thawed
    assert agent_freeze_status(guest) == 'thawed'
    results = four_runs(lambda check, **a: agent(guest, check=check, **a), frozen=True)
    assert results[0]['actions'] == ['freeze filesystems'] and results[0]['freeze_status'] == 'thawed'
    assert results[1]['freeze_status'] == results[3]['freeze_status'] == 'frozen'
    assert results[1]['filesystems_changed'] >= 1
    assert agent_freeze_status(guest) == 'frozen'
    # A frozen agent refuses everything but freeze commands; the module says so and how to get out.
    refused = agent(guest, gather=['hostname'])
    assert refused.failed and 'frozen state' in refused['msg'] and 'frozen: false' in refused['hint'], refused
    results = four_runs(lambda check, **a: agent(guest, check=check, **a), frozen=False)
    assert results[1]['actions'] == ['thaw filesystems'] and results[1]['freeze_status'] == 'thawed'
    assert agent_freeze_status(guest) == 'thawed'
    # Thawed for real: the guest writes and syncs again.
    in_guest(guest, 'echo thawed > /tmp/sysvirt-thawed && sync && cat /tmp/sysvirt-thawed')


def test_freeze_one_mountpoint_with_facts_in_the_same_task(thawed):
    guest = thawed
    result = agent(guest, frozen=True, mountpoints=['/'], gather=['hostname', 'filesystems'])
    assert not result.failed, result
    assert result['changed'] and result['actions'] == ['freeze filesystems /'] and result['filesystems_changed'] == 1
    # The facts were read before the freeze (a frozen agent would have refused them).
    assert result['guest']['hostname'] == 'sysvirt-test-guest'
    assert agent_freeze_status(guest) == 'frozen'
    result = agent(guest, frozen=False, gather=['hostname'])
    assert not result.failed and result['changed'] and result['guest']['hostname'] == 'sysvirt-test-guest', result
    assert agent_freeze_status(guest) == 'thawed'


def _password_login(guest, user, password, folder):
    """ssh with password authentication only, the password given by an askpass script from the environment."""
    askpass = os.path.join(folder, 'askpass.sh')
    with open(askpass, 'w') as f:
        f.write('#!/bin/sh\nprintf "%s\\n" "$SYSVIRT_TEST_PASSWORD"\n')
    os.chmod(askpass, 0o700)
    env = dict(os.environ, SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE='force', DISPLAY=':0',
               SYSVIRT_TEST_PASSWORD=password)
    argv = ['ssh', '-p', str(guest.port), '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password',
            '-o', 'NumberOfPasswordPrompts=1', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
            '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', '%s@127.0.0.1' % user, 'id -un']
    return subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                          start_new_session=True, check=False)


@pytest.fixture
def pw_user(linux_guest):
    """A user made for the test (locked password), removed afterwards."""
    in_guest(linux_guest, 'sudo userdel -r %s 2>/dev/null; sudo useradd -m %s' % (PW_USER, PW_USER))
    try:
        yield PW_USER
    finally:
        in_guest(linux_guest, 'sudo userdel -r %s' % PW_USER)


def test_set_password_then_log_in_with_it(linux_guest, pw_user, tmp_path):
    guest = linux_guest
    password = 'Sv-' + secrets.token_urlsafe(18)
    spec = dict(user=pw_user, password=password)
    check = agent(guest, check=True, user_password=spec)
    assert not check.failed and check['changed'] and check['actions'] == ['set the password of user %s' % pw_user]
    assert _password_login(guest, pw_user, password, str(tmp_path)).returncode != 0  # still locked: check mode
    result = agent(guest, user_password=spec)
    assert not result.failed and result['changed'], result
    login = _password_login(guest, pw_user, password, str(tmp_path))
    assert login.returncode == 0 and login.stdout.strip() == pw_user, login.stderr
    assert _password_login(guest, pw_user, password + 'x', str(tmp_path)).returncode != 0
    # Already crypted (as in /etc/shadow): the agent stores it as given; the clear text logs in.
    other = 'Sv-' + secrets.token_urlsafe(18)
    salt = secrets.token_hex(8)
    crypted = subprocess.run(['openssl', 'passwd', '-6', '-salt', salt, '-stdin'], input=other, text=True,
                             capture_output=True, check=True).stdout.strip()
    result = agent(guest, user_password=dict(user=pw_user, password=crypted, crypted=True))
    assert not result.failed and result['changed'], result
    assert in_guest(guest, 'sudo getent shadow %s' % pw_user).split(':')[1] == crypted
    login = _password_login(guest, pw_user, other, str(tmp_path))
    assert login.returncode == 0 and login.stdout.strip() == pw_user, login.stderr
    for r in (check, result):
        assert password not in json.dumps(r) and crypted not in json.dumps(r)


def test_password_of_a_missing_user_fails_plainly(linux_guest):
    result = agent(linux_guest, user_password=dict(user='sysvirt-nobody', password='Sv-' + secrets.token_urlsafe(9)))
    assert result.failed and 'set the password of user sysvirt-nobody' in result['msg'], result
    assert 'Install and start' not in result['msg']  # the agent answered: it is not missing


def _fsfreeze_calls(guest):
    return int(in_guest(guest, "sudo journalctl -t qemu-ga --no-pager -o cat | grep -c 'guest-fsfreeze called' "
                               "|| true").strip())


def _active_image(guest):
    """The image vda runs on, as virsh domblklist says."""
    rows = [line.split() for line in virsh('domblklist', guest.name).splitlines()[2:]]
    return dict((row[0], row[1]) for row in rows if len(row) == 2)['vda']


def test_quiesced_snapshot(thawed, qemu_conn):
    guest = thawed
    base = os.path.join(WORK_DIR, guest.name + '.qcow2')
    overlay = os.path.join(WORK_DIR, guest.name + '-quiesced.qcow2')
    assert _active_image(guest) == base
    calls_before = _fsfreeze_calls(guest)

    def snap(check=False, **args):
        return run_module('domain_snapshot', dict(args, domain=guest.name, uri=QEMU_URI), check_mode=check)

    try:
        results = four_runs(snap, name='quiesced', location='external', disk_only=True, quiesce=True,
                            disks=[dict(name='vda', file=overlay, format='qcow2'), dict(name='vdb', snapshot='no')])
        data = results[1]['snapshot']
        assert data['disk_only'] and data['state'] == 'disk-snapshot', data
        assert virsh('snapshot-list', guest.name, '--name').split() == ['quiesced']
        # The guest now writes to the overlay, backed by its own disk; the agent froze and thawed the filesystems.
        assert _active_image(guest) == overlay
        info = json.loads(subprocess.run(['qemu-img', 'info', '-U', '--output=json', overlay], check=True,
                                         capture_output=True, text=True).stdout)
        assert info['backing-filename'] == base
        # The agent froze the filesystems once (the real run; not the check runs, not the re-run), as the guest's
        # own log says (qemu-ga logs a freeze, not a thaw), and thawed them again.
        assert _fsfreeze_calls(guest) == calls_before + 1
        assert agent_freeze_status(guest) == 'thawed'
        in_guest(guest, 'echo after > /tmp/sysvirt-after-snapshot && sync')
        # Back to the guest's own disk: the overlay committed into it, the snapshot's metadata removed.
        commit = run_module('domain_block', dict(domain=guest.name, uri=QEMU_URI, disk='vda',
                                                 job=dict(type='commit', timeout=300)))
        assert not commit.failed and commit['changed'], commit
        assert _active_image(guest) == base
        removed = snap(name='quiesced', state='absent', metadata_only=True)
        assert not removed.failed and removed['changed'], removed
        assert virsh('snapshot-list', guest.name, '--name') == ''
        assert in_guest(guest, 'cat /tmp/sysvirt-after-snapshot').strip() == 'after'
    finally:
        _back_to_base(qemu_conn, guest, base, overlay)


def _back_to_base(conn, guest, base, overlay):
    """Cleanup whatever the test left: an active overlay (committed with libvirt), the snapshot, the file."""
    import libvirt

    dom = conn.lookupByName(guest.name)
    if _active_image(guest) == overlay:
        # Into the overlay's immediate backing file (the guest's own disk), never the shared cached image below it.
        dom.blockCommit('vda', None, None, 0,
                        libvirt.VIR_DOMAIN_BLOCK_COMMIT_ACTIVE | libvirt.VIR_DOMAIN_BLOCK_COMMIT_SHALLOW)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            info = dom.blockJobInfo('vda', 0)
            if info and info['end'] and info['cur'] == info['end']:
                break
            time.sleep(0.5)
        dom.blockJobAbort('vda', libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT)
    for snap in dom.listAllSnapshots(0):
        snap.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
    if os.path.exists(overlay):
        os.unlink(overlay)
    assert _active_image(guest) == base


# domain_info's agent address source and the inventory's ansible_host from the agent. The fixture's NIC is a QEMU
# user-mode NIC given in <qemu:commandline>, so the definition has no <interface> for it: only the agent knows its
# address (10.0.2.15, which the host cannot reach; the inventory's `forward` source is the way in over SSH).

def test_domain_info_agent_addresses(linux_guest):
    guest = linux_guest
    mac, addrs = _ip_addresses(guest)['ens16']
    result = run_module('domain_info', dict(name=[guest.name], uri=QEMU_URI, address_sources=['agent'],
                                            agent_timeout=5))
    assert not result.failed and result['domains'][0]['address_errors'] == [], result
    ifaces = result['domains'][0]['interfaces']
    assert [(i['mac'], i['type']) for i in ifaces] == [(mac, None)]  # lo (no MAC) is left out
    assert sorted((a['address'], a['prefix'], a['family']) for a in ifaces[0]['addresses']) == addrs
    assert set(a['source'] for a in ifaces[0]['addresses']) == {'agent'}
    # Without the agent source there is nothing: the lease and ARP sources know no user-mode NIC.
    result = run_module('domain_info', dict(name=[guest.name], uri=QEMU_URI, address_sources=['lease', 'arp']))
    assert result['domains'][0]['interfaces'] == []


def _inventory(tmp_path, guest, sources, readonly, *extra):
    path = tmp_path / 'agent.libvirt.yml'
    path.write_text('plugin: sysvirt.libvirt.libvirt\nuris: [%s]\nnames: [%s]\nreadonly: %s\naddress_sources: %s\n'
                    'agent_timeout: 5\nhypervisors: false\nhost_vars: [interfaces]\n'
                    % (QEMU_URI, guest.name, 'true' if readonly else 'false', json.dumps(sources)))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_INVENTORY_UNPARSED_FAILED='True',
               ANSIBLE_DEPRECATION_WARNINGS='False', ANSIBLE_NOCOLOR='True',
               ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'))
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    proc = subprocess.run(['ansible-inventory', '-i', str(path), '--list'] + list(extra), env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout[proc.stdout.index('{'):])
    assert guest.name in listed['libvirt_guests']['hosts']
    return proc, listed['_meta']['hostvars'].get(guest.name, {})


def _text(value):
    return value['__ansible_unsafe'] if isinstance(value, dict) and '__ansible_unsafe' in value else value


def test_inventory_ansible_host_from_the_agent(linux_guest, tmp_path):
    guest = linux_guest
    mac, addrs = _ip_addresses(guest)['ens16']
    _proc, hostvars = _inventory(tmp_path, guest, ['agent'], readonly=False)
    assert _text(hostvars['ansible_host']) == '10.0.2.15' == [a for a, p, f in addrs if f == 'ipv4'][0]
    assert 'ansible_port' not in hostvars
    assert [_text(i['mac']) for i in hostvars['libvirt_interfaces']] == [mac]
    # Preference order: the forward first gives the loopback address and port that SSH uses.
    _proc, hostvars = _inventory(tmp_path, guest, ['forward', 'agent'], readonly=False)
    assert (_text(hostvars['ansible_host']), hostvars['ansible_port']) == ('127.0.0.1', guest.port)
    # A read-only connection cannot ask the agent: no address, and the inventory says why (at -vvv).
    proc, hostvars = _inventory(tmp_path, guest, ['agent'], True, '-vvv')
    assert 'ansible_host' not in hostvars
    assert 'Failed to read agent addresses of domain %s' % guest.name in proc.stdout + proc.stderr
    assert 'read only access prevents virDomainInterfaceAddresses' in proc.stdout + proc.stderr
