# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tiny test guest: its domain XML and a console helper, for tests.

The guest (kernel + initramfs, no disk, no NIC) is built by
``scripts/build-test-guest.sh``, which ``scripts/testbed.sh`` runs. Booted as a
TCG guest (type='qemu') it prints ``MARKER_UP`` on its serial console within a
few seconds, and on an ACPI power-button press (``virsh shutdown``) prints
``MARKER_POWEROFF`` and powers off about a second later.

``virsh reboot`` (ACPI mode) also works: libvirt presses the power button, the
guest powers off, and because libvirt asked for the reboot it resets the still
running QEMU instead of ending it, so the guest boots again (a second
``MARKER_UP`` in the same console log, same QEMU process).

Nothing here imports libvirt; the module only builds strings and reads files.
"""

from __future__ import annotations

import os
import secrets
import time
from xml.sax.saxutils import escape, quoteattr

GUEST_DIR = os.environ.get("SYSVIRT_GUEST_DIR", "/var/lib/libvirt/boot/sysvirt-test-guest")
GUEST_KERNEL = os.path.join(GUEST_DIR, "vmlinuz")
GUEST_INITRD = os.path.join(GUEST_DIR, "initrd.img")
GUEST_SSH_INITRD = os.path.join(GUEST_DIR, "initrd-ssh.img")

MARKER_UP = "SYSVIRT-GUEST-UP"
MARKER_POWEROFF = "SYSVIRT-GUEST-POWEROFF"
MARKER_SSH = "SYSVIRT-GUEST-SSH"
QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"

NAME_PREFIX = "sysvirt-test-"
SERIAL_LOG_DIR = "/var/log/libvirt/qemu"


def random_name(kind: str = "guest") -> str:
    """A test object name, ``sysvirt-test-<kind>-<8 hex>``, unique per call."""
    return "%s%s-%s" % (NAME_PREFIX, kind, secrets.token_hex(4))


def serial_log_path(name: str) -> str:
    """Default serial console log for guest ``name`` (readable by root)."""
    return os.path.join(SERIAL_LOG_DIR, "%s-serial.log" % name)


def tiny_guest_xml(
    name: str,
    *,
    memory_mib: int = 192,
    vcpus: int = 1,
    serial_log: str | None = None,
    kernel: str = GUEST_KERNEL,
    initrd: str = GUEST_INITRD,
    machine: str = "pc",
    cmdline: str = "console=ttyS0",
    uuid: str | None = None,
    title: str | None = None,
    qemu_args: list[str] | None = None,
) -> str:
    """Domain XML for the tiny guest.

    type='qemu' (TCG, no KVM), x86_64, direct kernel boot, serial console to
    ``serial_log`` (default :func:`serial_log_path`), no disk, no NIC, no
    graphics, no USB, no balloon. ``<on_poweroff>destroy</on_poweroff>`` and
    ``<on_reboot>restart</on_reboot>``. The ``<acpi/>`` feature is what makes
    ``virsh shutdown`` / ``virsh reboot`` reach the guest.
    ``qemu_args``: extra QEMU arguments, as ``<qemu:commandline>``.
    """
    if serial_log is None:
        serial_log = serial_log_path(name)
    lines = [
        "<domain type='qemu'%s>" % (" xmlns:qemu=%s" % quoteattr(QEMU_NS) if qemu_args else ""),
        "  <name>%s</name>" % escape(name),
    ]
    if uuid is not None:
        lines.append("  <uuid>%s</uuid>" % escape(uuid))
    if title is not None:
        lines.append("  <title>%s</title>" % escape(title))
    lines += [
        "  <memory unit='MiB'>%d</memory>" % memory_mib,
        "  <currentMemory unit='MiB'>%d</currentMemory>" % memory_mib,
        "  <vcpu placement='static'>%d</vcpu>" % vcpus,
        "  <os>",
        "    <type arch='x86_64' machine=%s>hvm</type>" % quoteattr(machine),
        "    <kernel>%s</kernel>" % escape(kernel),
        "    <initrd>%s</initrd>" % escape(initrd),
        "    <cmdline>%s</cmdline>" % escape(cmdline),
        "  </os>",
        "  <features>",
        "    <acpi/>",
        "    <apic/>",
        "  </features>",
        "  <clock offset='utc'/>",
        "  <on_poweroff>destroy</on_poweroff>",
        "  <on_reboot>restart</on_reboot>",
        "  <on_crash>destroy</on_crash>",
        "  <devices>",
        "    <serial type='file'>",
        "      <source path=%s/>" % quoteattr(serial_log),
        "      <target port='0'/>",
        "    </serial>",
        "    <console type='file'>",
        "      <source path=%s/>" % quoteattr(serial_log),
        "      <target type='serial' port='0'/>",
        "    </console>",
        "    <controller type='usb' model='none'/>",
        "    <memballoon model='none'/>",
        "  </devices>",
    ]
    if qemu_args:
        lines.append("  <qemu:commandline>")
        lines += ["    <qemu:arg value=%s/>" % quoteattr(arg) for arg in qemu_args]
        lines.append("  </qemu:commandline>")
    lines.append("</domain>")
    return "\n".join(lines) + "\n"


def ssh_guest_xml(name: str, public_key: str, host_port: int, *, host_address: str = "127.0.0.1",
                  **kwargs) -> str:
    """Domain XML for the tiny guest with SSH (``initrd-ssh.img``), reachable on ``host_address:host_port``.

    The guest gets one virtio NIC on a QEMU user-mode network started with ``restrict=on`` (the guest can
    reach nothing: not the host, not the outside) and one forward, ``host_address:host_port`` -> guest port
    22, so the only traffic is what a client on the hypervisor sends to the forward. ``public_key`` is an
    OpenSSH public key line; root logs in with it (dropbear, public key only, no Python in the guest).
    """
    key_type, key_data = public_key.split()[:2]
    cmdline = kwargs.pop("cmdline", "console=ttyS0")
    netdev = "user,id=sysvirtssh0,restrict=on,hostfwd=tcp:%s:%d-:22" % (host_address, host_port)
    return tiny_guest_xml(
        name,
        initrd=kwargs.pop("initrd", GUEST_SSH_INITRD),
        cmdline="%s sysvirt_ssh_key=%s:%s" % (cmdline, key_type, key_data),
        qemu_args=["-netdev", netdev, "-device", "virtio-net-pci,netdev=sysvirtssh0"],
        **kwargs,
    )


def free_loopback_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 right now (the kernel picks it)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def count_in_console(path: str, marker: str) -> int:
    """How many lines of the console log at ``path`` contain ``marker``."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return 0
    needle = marker.encode()
    return sum(1 for line in data.splitlines() if needle in line)


def wait_for_console(path: str, marker: str, timeout: float = 30.0, *, count: int = 1,
                     interval: float = 0.1) -> float:
    """Wait until ``marker`` has appeared on ``count`` lines of the console log.

    Returns the seconds waited. Raises ``TimeoutError`` (with the end of the
    log) when it does not appear within ``timeout`` seconds.
    """
    start = time.monotonic()
    deadline = start + timeout
    while True:
        if count_in_console(path, marker) >= count:
            return time.monotonic() - start
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    try:
        with open(path, "rb") as f:
            tail = f.read()[-2000:].decode("utf-8", "replace")
    except OSError as exc:
        tail = "<cannot read %s: %s>" % (path, exc)
    raise TimeoutError("%r x%d not seen in %s within %.0fs; log ends with:\n%s"
                       % (marker, count, path, timeout, tail))
