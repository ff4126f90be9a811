#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain
short_description: Manage libvirt domains (virtual machines) declaratively
version_added: 0.1.0
description:
  - Defines, redefines, starts, stops, pauses, saves, restarts and removes libvirt domains.
  - With O(xml), the domain is defined or redefined only when its stored persistent definition does not
    already satisfy the document. What libvirt fills in on its own (UUID, MAC addresses, PCI and drive
    addresses, default controllers, aliases, security labels, machine type aliases such as C(pc) for
    C(pc-i440fx-7.2), sizes in other units) never counts as a change. The UUID and the MAC addresses of an
    existing domain are carried into a redefinition, so a NIC without C(<mac>) keeps its MAC.
  - Devices the user owns (disk, interface, hostdev, filesystem, redirdev, smartcard, rng, tpm, sound,
    watchdog, shmem, memory, vsock) that are stored but missing from O(xml) are removed by the redefinition;
    devices libvirt adds itself (controllers, inputs, memballoon, video, console) are left alone.
  - Every wait (start, shutdown, reboot, save, destroy) listens to libvirt's domain lifecycle events, with
    O(timeout); there are no fixed sleeps and no polling.
author:
  - sysvirt developers (@sysvirt)
options:
  name:
    description:
      - Name of the domain. Taken from O(xml) when not given; must match it when both are given.
      - One of O(name), O(uuid), O(xml), O(from_native) or O(restore) identifies the domain.
    type: str
  uuid:
    description:
      - UUID of the domain. Given together with O(name), both must identify the same domain, or the run fails
        and changes nothing. Any spelling libvirt accepts (upper case, no dashes) names the same UUID.
    type: str
  xml:
    description:
      - The full domain definition (for example rendered with P(ansible.builtin.template#lookup)).
      - Required to create a domain. A C(<uuid>) in it must match the existing domain's.
    type: str
  from_native:
    description:
      - Define from a native hypervisor configuration instead of O(xml), converted by libvirt
        (C(virConnectDomainXMLFromNative)). Which formats a driver converts from is up to the driver, for example
        C(xen-xl) and C(xen-xm) (Xen), C(vmware-vmx) (VMware, ESX), C(bhyve-argv) (bhyve). The QEMU driver of
        current libvirt (9.0 measured) converts to C(qemu-argv) (O(to_native)) but not from it; a driver without
        the conversion fails with a clear message.
    type: dict
    suboptions:
      format:
        description: The native format, for example C(xen-xl) or C(vmware-vmx).
        type: str
        required: true
      config:
        description: The native configuration text.
        type: str
        required: true
  to_native:
    description:
      - Also return the domain's definition converted to this native format (for example C(qemu-argv)) as
        RV(native_config). Drivers without the conversion fail with a clear message.
    type: str
  spec:
    description:
      - The guest described by options, the way C(virt-install) describes it, instead of O(xml). The options are
        rendered to domain XML on the target host, which then goes through the same comparison and
        (re)definition as O(xml). A re-run changes nothing, check mode predicts, C(--diff) shows the definition's
        XML, and changing an option later (more memory, a second disk, another NIC) redefines the guest. With
        O(live_changes=true), what libvirt can change in a running guest (memory and vCPUs up to their maximum,
        CD-ROM media) changes live too.
      - Defaults come from what the host says it supports, read from libvirt's capabilities and domain
        capabilities (C(virConnectGetDomainCapabilities)). These are the emulator, the machine type, the UEFI
        firmware, and the disk buses, graphics, RNG and TPM models. The OS hint O(spec.os) changes some defaults;
        the table is in the collection's guide C(docs/guides/domain-spec.md).
      - What the host cannot give (UEFI on a machine type without UEFI firmware here, a disk bus the machine type
        lacks, a network that does not exist, a TPM without an emulator) fails before anything is created or
        defined.
      - Requires O(name). Mutually exclusive with O(xml) and O(from_native).
      - Why an option of this module and not a module of its own? Options and XML are two ways to write the
        same desired definition. Everything else, the power state, autostart, live changes, restarts and
        removal with storage, is the same, so the guest's lifecycle stays in one module.
    type: dict
    suboptions:
      os:
        description:
          - OS hint, like C(virt-install --osinfo). It chooses the machine type, disk bus, NIC model, RNG,
            guest agent channel, firmware, TPM and clock when they are not set. V(generic) when not set.
          - V(linux2018), V(linux2022) prefer q35, virtio disks and NICs, an RNG and the guest agent channel.
            V(win10) prefers q35, SATA disks, e1000e NICs, local time and Hyper-V enlightenments. V(win11) adds
            UEFI with secure boot and a TPM 2.0.
        type: str
        choices: [generic, linux2018, linux2022, win10, win11]
      virt_type:
        description:
          - The domain type, for example V(kvm) or V(qemu) (TCG, no hardware virtualisation). When not set,
            V(kvm) if the host offers it, else V(qemu), else the driver's first one.
        type: str
      arch:
        description: Guest architecture, for example V(x86_64). Defaults to the host's when the host offers it.
        type: str
      machine:
        description:
          - Machine type, for example V(q35) or V(pc) (libvirt stores the versioned name, for example
            C(pc-q35-7.2), and both spellings compare equal). Defaults to the OS hint's when the host has it,
            else the host's default machine type for the architecture.
        type: str
      memory:
        description:
          - Memory of the guest (its current memory). A number is MiB, as in C(virt-install --memory); a string
            may carry a unit, for example V(4GiB).
        type: raw
        required: true
      max_memory:
        description: Maximum memory (the balloon's ceiling), in MiB or with a unit. Defaults to O(spec.memory).
        type: raw
      vcpus:
        description: Number of vCPUs at boot. Defaults to O(spec.max_vcpus), or 1.
        type: int
      max_vcpus:
        description: Maximum number of vCPUs (hot-pluggable up to it). Defaults to the CPU topology's product, else O(spec.vcpus).
        type: int
      cpu:
        description:
          - The guest CPU. When not set, a KVM guest with an O(spec.os) hint other than V(generic) gets
            host-passthrough (as virt-install); otherwise the hypervisor's default CPU.
        type: dict
        suboptions:
          mode:
            description: CPU mode; must be one the host's domain capabilities support.
            type: str
            choices: [host-passthrough, host-model, maximum, custom]
          model:
            description: A CPU model name (mode V(custom)), for example V(qemu64) or V(EPYC).
            type: str
          xml:
            description:
              - A whole C(<cpu>) element, for example the fleet baseline RV(sysvirt.libvirt.cpu_baseline#module:xml)
                returns. Its C(<arch>) and C(<topology>) are dropped (the topology comes from the options).
            type: str
          sockets:
            description: CPU sockets of the topology. The product of sockets, cores and threads must equal the maximum vCPUs.
            type: int
          cores:
            description: Cores per socket.
            type: int
          threads:
            description: Threads per core.
            type: int
      firmware:
        description: V(bios) or V(uefi) (libvirt chooses the UEFI firmware files the host has). Default from O(spec.os).
        type: str
        choices: [bios, uefi]
      secure_boot:
        description:
          - With V(uefi), V(true) asks for firmware with secure boot and enrolled keys (and enables SMM), V(false) for
            firmware without. When not set (and O(spec.os) does not ask for it), libvirt chooses among the host's
            UEFI firmware.
        type: bool
      kernel:
        description: Path of a kernel on the host to boot directly (direct kernel boot).
        type: str
      initrd:
        description: Path of an initrd on the host for O(spec.kernel).
        type: str
      cmdline:
        description: Kernel command line for O(spec.kernel).
        type: str
      boot:
        description: Boot devices in order, as C(virt-install --boot). When not set, libvirt boots from the first disk.
        type: list
        elements: str
        choices: [hd, cdrom, network, fd]
      disks:
        description:
          - Disks, CD-ROM and floppy drives, in order. Target names (C(vda), C(sda), ...) are given in order per bus
            unless O(spec.disks[].target) is set.
          - A disk is an existing volume (O(spec.disks[].pool) and O(spec.disks[].volume)) or a path. With
            O(spec.disks[].size) or O(spec.disks[].backing), a volume that does not exist is created first (in
            check mode the action is reported); an existing volume is used as it is, never resized or replaced.
        type: list
        elements: dict
        suboptions:
          device:
            description: The kind of drive.
            type: str
            choices: [disk, cdrom, floppy]
            default: disk
          path:
            description: A file or block device (C(/dev/...)) on the host, for example an ISO for a cdrom.
            type: str
          pool:
            description: The storage pool of O(spec.disks[].volume).
            type: str
          volume:
            description: A storage volume's name in O(spec.disks[].pool).
            type: str
          size:
            description: Capacity of a volume to create when it does not exist, in MiB or with a unit (V(20GiB)).
            type: raw
          backing:
            description:
              - Name of a base volume in the same pool; the volume is created as a qcow2 copy-on-write overlay on
                it (its size is the base's unless O(spec.disks[].size) is set).
            type: str
          format:
            description: The image format (C(<driver type>)). Defaults to the volume's, V(qcow2) for a new volume, else V(raw).
            type: str
          bus:
            description:
              - The disk bus, for example V(virtio), V(sata), V(scsi) (a virtio-scsi controller is added), V(ide),
                V(usb). It must be one the machine type has.
              - Defaults to V(virtio) for disks when the OS hint prefers virtio, else V(sata) where the machine type
                has no IDE (q35), else V(ide).
            type: str
          target:
            description: The target device name, for example V(vdb).
            type: str
          cache:
            description: The cache mode.
            type: str
            choices: [default, none, writethrough, writeback, directsync, unsafe]
          io:
            description: The I/O mode.
            type: str
            choices: [native, threads, io_uring]
          discard:
            description: Whether discard requests are passed to the image.
            type: str
            choices: [unmap, ignore]
          readonly:
            description: Read-only disk (a cdrom always is).
            type: bool
            default: false
          boot_order:
            description: Per-device boot order; do not combine with O(spec.boot).
            type: int
      nics:
        description: Network interfaces, in order. Each has one of O(spec.nics[].network), O(spec.nics[].bridge), O(spec.nics[].direct) or O(spec.nics[].user).
        type: list
        elements: dict
        suboptions:
          network:
            description: A libvirt network; it must exist.
            type: str
          bridge:
            description: A host bridge.
            type: str
          direct:
            description: A host interface for a macvtap (direct) connection.
            type: str
          mode:
            description: The macvtap mode of O(spec.nics[].direct); V(bridge) when not set.
            type: str
            choices: [bridge, vepa, private, passthrough]
          user:
            description: User-mode networking (no host set-up; the guest reaches out through QEMU).
            type: bool
          model:
            description: The NIC model, for example V(virtio) or V(e1000e). Default from O(spec.os).
            type: str
          mac:
            description: The MAC address. When not set, libvirt generates one and a re-run keeps it.
            type: str
          boot_order:
            description: Per-device boot order (network boot); do not combine with O(spec.boot).
            type: int
      graphics:
        description: The graphical console. No graphics when not set (a serial console is there by default).
        type: dict
        suboptions:
          type:
            description: V(none), V(vnc) or V(spice); must be one the host offers.
            type: str
            choices: [none, vnc, spice]
            default: none
          listen:
            description: The address the console listens on.
            type: str
            default: 127.0.0.1
      serial:
        description: The serial console. A C(pty) serial port when not set.
        type: dict
        suboptions:
          type:
            description: V(pty) (reachable with C(virsh console)) or V(none).
            type: str
            choices: [pty, none]
            default: pty
          log:
            description: A file on the host that receives everything the guest writes to the serial port.
            type: str
      guest_agent:
        description: A virtio channel for the QEMU guest agent. Default from O(spec.os).
        type: bool
      rng:
        description: A virtio random number generator fed from C(/dev/urandom). Default from O(spec.os).
        type: bool
      watchdog:
        description: A watchdog device.
        type: dict
        suboptions:
          model:
            description: The watchdog model.
            type: str
            choices: [i6300esb, ib700, itco]
            default: i6300esb
          action:
            description: What happens when the watchdog fires.
            type: str
            choices: [reset, shutdown, poweroff, pause, none, dump, inject-nmi]
            default: reset
      tpm:
        description: An emulated TPM (needs C(swtpm) on the host). Default from O(spec.os) (V(win11) has one).
        type: dict
        suboptions:
          model:
            description: The TPM model.
            type: str
            choices: [tpm-crb, tpm-tis]
            default: tpm-crb
          version:
            description: The TPM version.
            type: str
            choices: ['1.2', '2.0']
            default: '2.0'
      cloud_init:
        description:
          - A cloud-init NoCloud seed, built by the module and attached as the guest's last CD-ROM, like
            C(virt-install --cloud-init). The module renders the files (C(meta-data), C(user-data) and, when set,
            C(network-config) and C(vendor-data)), builds an ISO with the volume label C(cidata) with C(xorriso)
            on the host that runs the module, and uploads it through libvirt into the volume
            O(spec.cloud_init.volume) of O(spec.cloud_init.pool) (created when missing, so remote hypervisors
            work too).
          - The SHA-256 of the rendered files is recorded in the domain's C(<metadata>) (element C(seed) of
            namespace C(https://sysvirt.dev/xmlns/libvirt/cloud-init-seed/1), with the pool and volume). The seed is
            built and uploaded only when that hash differs from the recorded one, or the volume is missing; a
            re-run with the same content changes nothing and reads nothing back, and check mode predicts the
            upload without building anything. C(--diff) and RV(differences) show the two hashes, never the
            content. A volume changed behind the module's back is not noticed; delete it and the next run writes
            it again.
          - When the guest is running, a new seed is written and recorded in the persistent definition;
            RV(restart_needed) is then true, as cloud-init reads the seed at boot (with a new
            O(spec.cloud_init.instance_id), it runs its once-per-instance modules again).
          - With O(state=absent), the volume the record names is deleted with the domain.
          - Needs C(xorriso) on the host that runs the module (the one C(ansible_host) names), only when a seed is
            to be written.
        type: dict
        suboptions:
          user_data:
            description:
              - The user-data. A string is written as it is (for example a C(#cloud-config) document or a
                script); a dict is written as C(#cloud-config) followed by the dict as JSON (which cloud-init reads
                as YAML), keys sorted.
              - Not logged (no_log). Ansible then hides every string value of a dict wherever it appears in the
                output, so prefer a string when the dict repeats names that the result shows (such as the guest's
                name); the guest role passes a string.
              - An empty C(#cloud-config) when not set.
            type: raw
          meta_data:
            description:
              - The meta-data. A dict is merged over C(instance-id) (O(spec.cloud_init.instance_id)) and
                C(local-hostname) (O(spec.cloud_init.hostname)) and written as JSON; a string is written as it is.
            type: raw
          instance_id:
            description: The C(instance-id) of the meta-data. Defaults to the domain's name.
            type: str
          hostname:
            description: The C(local-hostname) of the meta-data. Defaults to the domain's name.
            type: str
          network_config:
            description:
              - The network configuration (version 1 or 2); a dict is written as JSON, a string as it is. When not
                set, there is no C(network-config) file and cloud-init configures the first NIC with DHCP.
            type: raw
          vendor_data:
            description: The vendor-data, as O(spec.cloud_init.user_data). Not logged (no_log).
            type: raw
          pool:
            description: The storage pool of the seed volume. Defaults to the pool of the first disk that has one, else V(default).
            type: str
          volume:
            description: The name of the seed volume. Defaults to the domain's name followed by C(-seed.iso).
            type: str
          bus:
            description: The CD-ROM's bus, as O(spec.disks[].bus) (V(sata) on q35, else V(ide), when not set).
            type: str
      extra_devices:
        description: Raw XML of devices the options do not cover, each appended to C(<devices>).
        type: list
        elements: str
      extra_elements:
        description:
          - Raw XML of other elements of C(<domain>), for example C(<on_reboot>destroy</on_reboot>) or
            C(<memoryBacking>). Each replaces the rendered element of the same tag, or is added.
        type: list
        elements: str
  state:
    description:
      - V(present) defines the domain and leaves its power state alone.
      - V(running) starts it (restoring a managed save image if there is one), resumes it when paused.
      - V(paused) starts it paused, or pauses it.
      - V(shutdown) asks the guest to shut down (O(shutdown_mode)), waits up to O(timeout) for it to power
        off, then fails, or with O(force=true) powers it off.
      - V(destroyed) powers it off at once.
      - V(restarted) reboots a running guest gracefully and waits until it is back (starts it when it is
        off). It always reports a change, like P(ansible.builtin.service#module) with C(restarted).
      - V(reset) resets a running or paused guest at once, like its reset button (no shutdown, the guest's
        disks are not synced); it always reports a change. A guest that is off is started.
      - V(saved) saves its memory to libvirt's managed save image and stops it; the next start restores it.
        Saving to a file of your choice, core dumps and removing the managed save image are in
        P(sysvirt.libvirt.domain_job#module).
      - V(absent) powers it off if needed and undefines it, with its managed save image and its snapshot
        and checkpoint metadata. Its NVRAM file is removed only when it lies in libvirt's own NVRAM directory
        C(/var/lib/libvirt/qemu/nvram), since a definition may point at the system's firmware template.
        TPM state is kept unless O(remove_tpm=true). Storage is kept unless O(remove_storage) says otherwise.
      - Teardown runs again without failing. V(absent), and V(shutdown) and V(destroyed) without O(xml), succeed
        with no change when the domain does not exist.
    type: str
    choices: [present, absent, running, paused, shutdown, destroyed, restarted, saved, reset]
    default: present
  persistent:
    description:
      - V(false) manages a transient domain, which exists only while it runs (created from O(xml) by
        C(virDomainCreateXML)). An existing running persistent domain is made transient (undefined, left
        running). A transient domain cannot be redefined while it runs; a difference is reported as
        RV(restart_needed).
      - V(true) with O(xml) makes an existing transient domain persistent.
    type: bool
    default: true
  autostart:
    description: Whether the domain starts when the host boots. Left alone when not set.
    type: bool
  shutdown_mode:
    description:
      - How V(shutdown) and V(restarted) ask the guest; several are tried in libvirt's order. When not set,
        the hypervisor chooses (ACPI power button, or the guest agent when configured).
    type: list
    elements: str
    choices: [acpi, agent, initctl, signal, paravirt]
  timeout:
    description: Seconds to wait for every state change (start, shutdown, reboot, save).
    type: int
    default: 120
  force:
    description:
      - When a graceful shutdown (or reboot) does not finish within O(timeout), power the domain off (or
        reset it) instead of failing. A warning says so.
    type: bool
    default: false
  restart_on_change:
    description:
      - When a running domain's persistent definition differs from its live one (RV(restart_needed)), shut it
        down gracefully (O(shutdown_mode), O(timeout), O(force)) and start it again, so the new definition
        applies. Only with O(state) V(present), V(running), V(paused) or V(restarted).
    type: bool
    default: false
  live_changes:
    description:
      - Apply to a running domain, live, the changes libvirt can make without a restart, namely the current vCPU
        count (up to the live maximum), the current memory (up to the live maximum) and the media in cdrom
        and floppy drives. The persistent definition is changed by O(xml) as usual.
      - A drive's medium is its C(<source>) - a file, a block device, a directory, a pool volume or a network
        export (protocol, name and hosts); a drive without a C(<source>) is ejected. What libvirt adds to the live
        C(<source>) (index, startup policy, security labels) is not compared.
    type: bool
    default: false
  title:
    description: Short title of the domain; an empty string removes it. Changed without touching the rest.
    type: str
  description:
    description: Description of the domain; an empty string removes it. Changed without touching the rest.
    type: str
  metadata:
    description:
      - Custom metadata elements, each in its own XML namespace, changed without touching the rest of the
        definition (C(virDomainSetMetadata)), live too when the domain runs.
    type: list
    elements: dict
    suboptions:
      namespace:
        description: The namespace URI that identifies the element.
        type: str
        required: true
      key:
        description: The namespace prefix libvirt writes. Required when O(metadata[].state=present).
        type: str
      xml:
        description: The element, for example C(<owner>ops</owner>). Required when O(metadata[].state=present).
        type: str
      state:
        description: Whether the element is there.
        type: str
        choices: [present, absent]
        default: present
  force_boot:
    description:
      - When this task starts the domain, boot it afresh even if it has a managed save image, which is discarded
        (C(VIR_DOMAIN_START_FORCE_BOOT)). A domain that is already running is left alone.
    type: bool
    default: false
  reset_nvram:
    description:
      - When this task starts the domain, start a UEFI guest with a fresh copy of its NVRAM template, so its
        firmware variables (boot entries, secure-boot keys) are reset (C(VIR_DOMAIN_START_RESET_NVRAM)). A domain
        that is already running is left alone.
    type: bool
    default: false
  rename_from:
    description:
      - Rename the domain of this name to O(name) (or the C(<name>) of O(xml)) before anything else, when no domain
        of the new name exists yet; a second run finds the new name and renames nothing.
      - libvirt renames only a domain that is shut off; a running one fails with a hint. When both names exist,
        nothing is renamed and a warning says so. When neither exists, the task goes on as without this option.
      - In check mode, the domain is predicted under its old definition, so with O(xml) its diff also shows the
        new name.
    type: str
  restore:
    description:
      - Path of a save file (made by P(sysvirt.libvirt.domain_job#module) O(sysvirt.libvirt.domain_job#module:save)
        or C(virsh save)) to restore the domain from when it is not running, into
        state V(running) (or V(paused) when O(state=paused)). The domain's name is read from the file when
        neither O(name) nor O(xml) gives it. A running domain is left alone.
    type: path
  remove_storage:
    description:
      - With O(state=absent), the storage volumes to delete together with the domain, by disk target
        (C(vda)) or source path; V(all) deletes the volumes of all its disks (not cdroms). Only libvirt
        storage volumes are deleted; other files are kept (a warning lists them).
    type: list
    elements: str
  remove_tpm:
    description: With O(state=absent), also remove the emulated TPM's state.
    type: bool
    default: false
  return_xml:
    description: Also return the definition, as C(xml) in RV(domain) (never with secrets).
    type: bool
    default: false
extends_documentation_fragment:
  - sysvirt.libvirt._connection
  - sysvirt.libvirt._attributes
  - sysvirt.libvirt._attributes.ACTIONABLE
  - sysvirt.libvirt._attributes.LIFECYCLE
notes:
  - Check mode predicts the real run by the same comparison; it cannot predict a graceful shutdown that
    would time out and be forced.
  - A redefinition that libvirt stores unchanged (the document asks for something this libvirt version
    drops or rewrites) reports no change and a warning naming the parts not kept.
  - Secrets (graphics passwords) are masked in differences and diffs and never returned.
seealso:
  - module: sysvirt.libvirt.domain_info
  - module: sysvirt.libvirt.domain_job
'''

EXAMPLES = r'''
- name: Rename a shut-off guest (a second run changes nothing)
  sysvirt.libvirt.domain:
    name: web01-old
    rename_from: web01
    state: present

- name: Hard reset a hung guest, like pressing its reset button
  sysvirt.libvirt.domain:
    name: web01-old
    state: reset

- name: Boot a UEFI guest with fresh firmware variables, discarding a managed save image
  sysvirt.libvirt.domain:
    name: uefi01
    state: running
    force_boot: true
    reset_nvram: true

- name: A guest described by options, virt-install style (a second run changes nothing)
  sysvirt.libvirt.domain:
    name: web01
    spec:
      os: linux2022
      memory: 4GiB
      max_memory: 8GiB
      vcpus: 2
      firmware: uefi
      disks:
        - pool: default
          volume: web01.qcow2
          backing: debian-12.qcow2
          size: 20GiB
        - device: cdrom
          path: /var/lib/libvirt/images/debian-12-netinst.iso
      nics:
        - network: default
      boot: [cdrom, hd]
    state: running
    autostart: true

- name: Later, more memory and a second NIC; the running guest gets the memory now (it is below the maximum)
  sysvirt.libvirt.domain:
    name: web01
    spec:
      os: linux2022
      memory: 6GiB
      max_memory: 8GiB
      vcpus: 2
      firmware: uefi
      disks:
        - pool: default
          volume: web01.qcow2
        - device: cdrom
          path: /var/lib/libvirt/images/debian-12-netinst.iso
      nics:
        - network: default
        - bridge: br-storage
      boot: [cdrom, hd]
    state: running
    live_changes: true

- name: A guest from a cloud image with a cloud-init seed the module builds (re-uploaded only when it changes)
  sysvirt.libvirt.domain:
    name: web02
    spec:
      os: linux2022
      memory: 2GiB
      disks:
        - pool: default
          volume: web02.qcow2
          backing: debian-12.qcow2
          size: 20GiB
      nics:
        - network: default
      cloud_init:
        hostname: web02
        user_data: |
          #cloud-config
          users:
            - name: admin
              sudo: ALL=(ALL) NOPASSWD:ALL
              ssh_authorized_keys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample admin@example.com]
    state: running

- name: Define a guest from a template (a second run changes nothing)
  sysvirt.libvirt.domain:
    xml: "{{ lookup('ansible.builtin.template', 'web01.xml.j2') }}"
    autostart: true

- name: Start it and wait until it runs
  sysvirt.libvirt.domain:
    name: web01
    state: running

- name: Shut it down through ACPI, wait up to two minutes, power it off if it does not stop
  sysvirt.libvirt.domain:
    name: web01
    state: shutdown
    shutdown_mode: [acpi]
    timeout: 120
    force: true

- name: Change the definition of a running guest and restart it so the change applies
  sysvirt.libvirt.domain:
    xml: "{{ lookup('ansible.builtin.template', 'web01.xml.j2') }}"
    state: running
    restart_on_change: true

- name: Insert a medium into its cdrom now and in the definition
  sysvirt.libvirt.domain:
    xml: "{{ lookup('ansible.builtin.template', 'web01-with-iso.xml.j2') }}"
    live_changes: true

- name: Tag it with an owner, leaving the rest of the definition alone
  sysvirt.libvirt.domain:
    name: web01
    title: Web server 01
    metadata:
      - namespace: https://example.com/ns/owner
        key: owner
        xml: <owner team="web">alice</owner>

- name: Save its memory (managed save); the next start resumes where it was
  sysvirt.libvirt.domain:
    name: web01
    state: saved

- name: Remove it with its disk volume vda, keeping any other storage
  sysvirt.libvirt.domain:
    name: web01
    state: absent
    remove_storage: [vda]

- name: Run a throw-away transient guest
  sysvirt.libvirt.domain:
    xml: "{{ lookup('ansible.builtin.file', 'scratch.xml') }}"
    persistent: false
    state: running

- name: Show the QEMU command line libvirt would use
  sysvirt.libvirt.domain:
    name: web01
    to_native: qemu-argv
  register: native
'''

RETURN = r'''
changed:
  description: Whether anything changed (in check mode, would change).
  returned: always
  type: bool
actions:
  description: What was done (in check mode, would be done), in order.
  returned: always
  type: list
  elements: str
  sample: [redefine, start]
differences:
  description:
    - Where the stored definition did not satisfy O(xml); drives the redefinition.
    - Each item has C(path), C(desired), C(current) and C(reason) (C(missing), C(changed), C(extra)), as in
      RV(sysvirt.libvirt.network#module:differences).
  returned: always
  type: list
  elements: dict
  sample: [{path: '/domain/vcpu[1]', desired: '2', current: '1', reason: changed}]
restart_needed:
  description:
    - Whether the running domain's live definition lacks parts of O(xml) that its persistent definition has,
      so a restart (O(restart_on_change)) is needed for them to apply.
  returned: always
  type: bool
restart_differences:
  description: The parts of O(xml) the live definition does not have, each item as in RV(differences).
  returned: when RV(restart_needed) is true
  type: list
  elements: dict
restarted_for_change:
  description: True when O(restart_on_change) shut the domain down and started it again.
  returned: when it happened
  type: bool
wait_seconds:
  description: Seconds the last state change took until libvirt reported the new state (for example a graceful shutdown).
  returned: when the module waited
  type: float
  sample: 1.42
removed:
  description: With O(state=absent), what was (in check mode, would be) removed with the domain.
  returned: when O(state=absent)
  type: dict
  contains:
    managed_save:
      description: Whether a managed save image was removed.
      type: bool
    snapshots_metadata:
      description: Number of snapshots whose metadata was removed (their data stays in the disk images).
      type: int
    checkpoints_metadata:
      description: Number of checkpoints whose metadata was removed.
      type: int
    nvram:
      description: The NVRAM file removed (inside libvirt's NVRAM directory), or null.
      type: str
    nvram_kept:
      description: An NVRAM file outside libvirt's NVRAM directory, kept.
      type: str
    tpm_state:
      description: Whether the emulated TPM's state was removed.
      type: bool
    storage:
      description: Paths of the storage volumes deleted.
      type: list
      elements: str
    storage_kept:
      description: Disks asked for in O(remove_storage) that are not libvirt storage volumes, kept.
      type: list
      elements: str
native_config:
  description: The definition in the native format of O(to_native).
  returned: when O(to_native) is set
  type: str
domain:
  description:
    - The domain as it is after the run, keys as in RV(sysvirt.libvirt.domain_info#module:domains) (without
      C(stats) and C(address_errors); C(interfaces[].addresses) is always empty here, the guest's addresses are
      what M(sysvirt.libvirt.domain_info) reads), plus RV(domain.managed_save). With O(return_xml=true), C(xml) is
      the persistent definition (the live one of a transient domain), without secrets.
    - Null when it does not exist (removed, or would be created in check mode).
  returned: always
  type: dict
  contains:
    managed_save:
      description: Whether it has a managed save image (state V(saved)).
      type: bool
  sample:
    name: web01
    uuid: 6f5c2b8e-2a8a-4f61-9d7b-1f2f6a0e8d11
    id: 7
    state: running
    state_reason: booted
    persistent: true
    autostart: true
    managed_save: false
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    connection_argument_spec, require_libraries,
)
from ansible_collections.sysvirt.libvirt.plugins.module_utils._domain import CONSTRAINTS, OPTIONS, run_module


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(OPTIONS),
        supports_check_mode=True,
        **CONSTRAINTS
    )
    require_libraries(module)
    run_module(module)


if __name__ == '__main__':
    main()
