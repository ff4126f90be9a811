# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Linux test guest (Debian bookworm with qemu-guest-agent, Python, OpenSSH, cloud-init), for tests.

``scripts/build-linux-guest.sh`` (run by ``scripts/build-test-guest.sh``, which ``scripts/testbed.sh`` runs)
builds it into ``/var/cache/sysvirt-testbed/linux-guest``. :func:`linux_guest` is a session-scoped pytest fixture
(registered in ``tests/conftest.py``) that boots one copy for the whole test run:

* a qcow2 overlay on the cached disk (the cache is never written), and a NoCloud seed (an ISO labelled
  ``cidata``, on a read-only virtio disk) that cloud-init reads: the user ``sysvirt`` with a key made for the run
  and passwordless sudo;
* a QEMU user-mode NIC with ``restrict=on`` and one forward, ``127.0.0.1:<free port>`` -> guest port 22;
* the ``org.qemu.guest_agent.0`` channel, a virtio RNG (sshd and Python want entropy early), the serial console
  in a log file.

It is defined from options (the domain module's ``spec``, :func:`linux_guest_spec`), so every session provisions a
real Linux guest from options with cloud-init; :func:`linux_guest_xml` is the same guest as XML.

It yields a :class:`LinuxGuest` once the agent answers and an SSH login works, and destroys and undefines the
domain and removes its files at the end of the session, also when a test or the boot failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import pytest

from utils.guest import QEMU_NS, free_loopback_port, random_name, serial_log_path

CACHE = os.environ.get('SYSVIRT_LINUX_GUEST_CACHE', '/var/cache/sysvirt-testbed')
IMAGE_DIR = os.path.join(CACHE, 'linux-guest')
WORK_DIR = '/var/lib/libvirt/images'
USER = 'sysvirt'
AGENT_CHANNEL = 'org.qemu.guest_agent.0'
BOOT_TIMEOUT = float(os.environ.get('SYSVIRT_LINUX_GUEST_BOOT_TIMEOUT', '600'))


@dataclass
class LinuxGuest:
    """A booted Linux test guest: what tests need to reach it."""

    name: str
    uuid: str
    port: int
    key: str
    folder: str
    serial_log: str
    user: str = USER
    timings: dict = field(default_factory=dict)

    def ssh_argv(self, *command):
        """argv of an ssh client logging in as :attr:`user` (host key not checked: it is a throwaway guest)."""
        return ['ssh', '-q', '-i', self.key, '-p', str(self.port), '-o', 'BatchMode=yes',
                '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10',
                '%s@127.0.0.1' % self.user] + list(command)

    def ssh(self, *command, timeout=120):
        return subprocess.run(self.ssh_argv(*command), capture_output=True, text=True, timeout=timeout,
                              check=False)


def build_info(path=IMAGE_DIR):
    """BUILD-INFO of the cached image as a dict ({} when it is not built)."""
    try:
        with open(os.path.join(path, 'BUILD-INFO')) as f:
            return dict(line.rstrip('\n').split('=', 1) for line in f if '=' in line)
    except FileNotFoundError:
        return {}


def linux_guest_xml(name, disk, seed, host_port, *, image_dir=IMAGE_DIR, memory_mib=1024, vcpus=1,
                    serial_log=None, cmdline=None):
    """Domain XML for the Linux test guest (type='qemu', direct kernel boot from the image's kernel)."""
    info = build_info(image_dir)
    serial_log = serial_log or serial_log_path(name)
    cmdline = cmdline or info.get('cmdline', 'root=/dev/vda rw console=ttyS0')
    netdev = 'user,id=sysvirtnet0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:22' % host_port
    lines = [
        "<domain type='qemu' xmlns:qemu=%s>" % quoteattr(QEMU_NS),
        '  <name>%s</name>' % escape(name),
        "  <memory unit='MiB'>%d</memory>" % memory_mib,
        "  <vcpu placement='static'>%d</vcpu>" % vcpus,
        '  <os>',
        "    <type arch='x86_64' machine='pc'>hvm</type>",
        '    <kernel>%s</kernel>' % escape(os.path.join(image_dir, 'vmlinuz')),
        '    <initrd>%s</initrd>' % escape(os.path.join(image_dir, 'initrd.img')),
        '    <cmdline>%s</cmdline>' % escape(cmdline),
        '  </os>',
        '  <features><acpi/><apic/></features>',
        "  <clock offset='utc'/>",
        '  <on_poweroff>destroy</on_poweroff>',
        '  <on_reboot>restart</on_reboot>',
        '  <on_crash>destroy</on_crash>',
        '  <devices>',
        "    <disk type='file' device='disk'>",
        "      <driver name='qemu' type='qcow2' cache='unsafe' discard='unmap'/>",
        '      <source file=%s/>' % quoteattr(disk),
        "      <target dev='vda' bus='virtio'/>",
        '    </disk>',
        "    <disk type='file' device='disk'>",
        "      <driver name='qemu' type='raw'/>",
        '      <source file=%s/>' % quoteattr(seed),
        "      <target dev='vdb' bus='virtio'/>",
        '      <readonly/>',
        '    </disk>',
        "    <channel type='unix'>",
        "      <target type='virtio' name=%s/>" % quoteattr(AGENT_CHANNEL),
        '    </channel>',
        "    <serial type='file'><source path=%s/><target port='0'/></serial>" % quoteattr(serial_log),
        "    <console type='file'><source path=%s/><target type='serial' port='0'/></console>"
        % quoteattr(serial_log),
        "    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
        "    <controller type='usb' model='none'/>",
        "    <memballoon model='none'/>",
        '  </devices>',
        '  <qemu:commandline>',
    ]
    for arg in ('-netdev', netdev, '-device', 'virtio-net-pci,netdev=sysvirtnet0,addr=0x10'):
        lines.append('    <qemu:arg value=%s/>' % quoteattr(arg))
    lines += ['  </qemu:commandline>', '</domain>']
    return '\n'.join(lines) + '\n'


def linux_guest_spec(disk, seed, host_port, *, image_dir=IMAGE_DIR, memory_mib=1024, vcpus=1, serial_log,
                     cmdline=None):
    """The same guest as :func:`linux_guest_xml`, described by the domain module's options (``spec``): what
    :func:`boot` provisions, so the session's Linux guest is a guest from options with a cloud-init seed."""
    info = build_info(image_dir)
    netdev = 'user,id=sysvirtnet0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:22' % host_port
    args = ''.join('<qemu:arg value=%s/>' % quoteattr(arg)
                   for arg in ('-netdev', netdev, '-device', 'virtio-net-pci,netdev=sysvirtnet0,addr=0x10'))
    return dict(
        virt_type='qemu', machine='pc', memory=memory_mib, vcpus=vcpus,
        kernel=os.path.join(image_dir, 'vmlinuz'), initrd=os.path.join(image_dir, 'initrd.img'),
        cmdline=cmdline or info.get('cmdline', 'root=/dev/vda rw console=ttyS0'),
        disks=[dict(path=disk, format='qcow2', bus='virtio', cache='unsafe', discard='unmap'),
               dict(path=seed, format='raw', bus='virtio', readonly=True)],
        serial=dict(log=serial_log), guest_agent=True, rng=True,
        extra_devices=["<controller type='usb' model='none'/>", "<memballoon model='none'/>"],
        extra_elements=['<qemu:commandline xmlns:qemu=%s>%s</qemu:commandline>' % (quoteattr(QEMU_NS), args)],
    )


def define_from_options(name, spec):
    """Define ``name`` from ``spec`` with the domain module (on qemu:///system); fails the test when it fails."""
    from conftest import QEMU_URI, run_module  # the test session's runner (conftest imports this module)

    result = run_module('domain', dict(uri=QEMU_URI, name=name, spec=spec))
    if result.failed or not result['changed']:
        pytest.fail('defining the Linux test guest %s from options failed: %s' % (name, result), pytrace=False)
    return result


def make_seed(path, hostname, public_key, user=USER):
    """A NoCloud seed ISO (label cidata): the user with ``public_key`` and passwordless sudo."""
    folder = tempfile.mkdtemp(prefix='sysvirt-seed-')
    try:
        with open(os.path.join(folder, 'meta-data'), 'w') as f:
            f.write('instance-id: %s\nlocal-hostname: %s\n' % (hostname, hostname))
        user_data = {
            'users': [{'name': user, 'shell': '/bin/bash', 'sudo': 'ALL=(ALL) NOPASSWD:ALL',
                       'lock_passwd': True, 'ssh_authorized_keys': [public_key.strip()]}],
        }
        with open(os.path.join(folder, 'user-data'), 'w') as f:
            f.write('#cloud-config\n' + json.dumps(user_data, indent=1) + '\n')
        subprocess.run(['xorriso', '-as', 'mkisofs', '-quiet', '-V', 'cidata', '-J', '-r', '-o', path,
                        os.path.join(folder, 'user-data'), os.path.join(folder, 'meta-data')],
                       check=True, capture_output=True, timeout=60)
    finally:
        shutil.rmtree(folder)
    os.chmod(path, 0o644)


def agent_ping(dom, timeout=2):
    """True when the guest agent answers guest-ping."""
    import libvirt
    import libvirt_qemu

    try:
        libvirt_qemu.qemuAgentCommand(dom, json.dumps({'execute': 'guest-ping'}), timeout, 0)
        return True
    except libvirt.libvirtError:
        return False


def _wait(what, check, deadline, serial_log):
    while not check():
        if time.monotonic() > deadline:
            try:
                with open(serial_log, 'rb') as f:
                    tail = f.read()[-3000:].decode('utf-8', 'replace')
            except OSError as exc:
                tail = '<%s>' % exc
            raise TimeoutError('%s: not within %.0fs; console ends with:\n%s' % (what, BOOT_TIMEOUT, tail))
        time.sleep(0.5)


def boot(conn, folder, name):
    """Define and start a copy of the Linux test guest named ``name``; wait for agent and SSH.

    The caller removes it (:func:`remove`), also when this fails.
    """
    key = os.path.join(folder, 'id_ed25519')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'sysvirt-test', '-f', key], check=True)
    base = os.path.realpath(os.path.join(IMAGE_DIR, 'disk.qcow2'))
    disk = os.path.join(WORK_DIR, name + '.qcow2')
    seed = os.path.join(WORK_DIR, name + '-seed.iso')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, disk], check=True)
    with open(key + '.pub') as f:
        make_seed(seed, 'sysvirt-test-guest', f.read())
    port = free_loopback_port()
    guest = LinuxGuest(name=name, uuid='', port=port, key=key, folder=folder, serial_log=serial_log_path(name))
    define_from_options(name, linux_guest_spec(disk, seed, port, serial_log=guest.serial_log))
    dom = conn.lookupByName(name)
    guest.uuid = dom.UUIDString()
    start = time.monotonic()
    dom.create()
    deadline = start + BOOT_TIMEOUT
    _wait('the guest agent of %s' % name, lambda: agent_ping(dom), deadline, guest.serial_log)
    guest.timings['agent_answers'] = round(time.monotonic() - start, 1)
    _wait('SSH login to %s' % name, lambda: guest.ssh('true', timeout=30).returncode == 0, deadline,
          guest.serial_log)
    guest.timings['ssh_answers'] = round(time.monotonic() - start, 1)
    return guest


def remove(conn, name):
    """Destroy and undefine ``name`` and remove its overlay, seed and console log; quiet when already gone."""
    import libvirt

    try:
        dom = conn.lookupByName(name)
    except libvirt.libvirtError:
        dom = None
    if dom is not None:
        try:
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                              | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA)
        except libvirt.libvirtError:
            pass
    for path in (os.path.join(WORK_DIR, name + '.qcow2'), os.path.join(WORK_DIR, name + '-seed.iso'),
                 serial_log_path(name)):
        if os.path.exists(path):
            os.unlink(path)


@pytest.fixture(scope='session')
def linux_guest(qemu_conn, tmp_path_factory):
    """One booted Linux test guest for the whole session (see the module's doc). Fails when it is not built."""
    if not os.path.exists(os.path.join(IMAGE_DIR, 'disk.qcow2')):
        pytest.fail('the Linux test guest is not built: run `bash scripts/build-test-guest.sh` (as root)',
                    pytrace=False)
    for tool in ('ssh', 'ssh-keygen', 'xorriso', 'qemu-img'):
        if shutil.which(tool) is None:
            pytest.fail('%s not installed: run `bash scripts/testbed.sh`' % tool, pytrace=False)
    folder = str(tmp_path_factory.mktemp('linuxguest'))
    name = random_name('guest-linux')
    try:
        guest = boot(qemu_conn, folder, name)
        print('\nlinux guest %s: agent answered after %ss, SSH after %ss'
              % (name, guest.timings['agent_answers'], guest.timings['ssh_answers']))
        yield guest
    finally:
        remove(qemu_conn, name)
