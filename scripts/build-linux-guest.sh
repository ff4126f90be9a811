#!/usr/bin/env bash
# Build the Linux test guest (Debian bookworm) used by the guest-agent tests,
# and keep it in a cache keyed by the build recipe.
#
# Output, in $SYSVIRT_LINUX_GUEST_CACHE/linux-guest-<recipe hash>/ (root-owned,
# files 0644, directories 0755, readable by the QEMU process), and the symlink
# $SYSVIRT_LINUX_GUEST_CACHE/linux-guest pointing at it:
#   disk.qcow2   the root filesystem (ext4 on the whole disk, no partition
#                table): Debian bookworm, minbase plus systemd, udev,
#                qemu-guest-agent, python3, openssh-server, sudo, cloud-init
#                (NoCloud only, network config left to the image) and
#                linux-image-cloud-amd64. Tests boot a qcow2 overlay on it;
#                never boot it directly.
#   vmlinuz, initrd.img   the image's own kernel and initramfs, for direct
#                kernel boot (no bootloader): root=/dev/vda rw console=ttyS0
#   BUILD-INFO   what it was built from, and the kernel command line
#
# The guest: eth0/ens* gets 10.0.2.15/24 from systemd-networkd (QEMU's
# user-mode network; give the NIC restrict=on and a loopback hostfwd to 22).
# qemu-guest-agent starts when the virtio-serial port org.qemu.guest_agent.0
# appears. cloud-init reads a NoCloud seed (an ISO labelled cidata) for users
# and SSH keys; without one it does nothing. The SSH host keys are made at
# build time and kept (cloud-init does not regenerate them: key generation under
# TCG costs seconds), so every copy of this image has the same host keys: it is
# a test image only. No root password, root SSH login off.
#
# The recipe hash covers this script (but its comments), the suite, the mirror and the package
# list; a change to any of them makes a new cache entry (the old one is
# removed after a successful build). What the mirror serves on the day of the
# build is recorded in BUILD-INFO (package versions), not in the hash.
#
# Usage: scripts/build-linux-guest.sh [--force]
# Environment:
#   SYSVIRT_LINUX_GUEST_CACHE   cache dir (default /var/cache/sysvirt-testbed)
#   SYSVIRT_LINUX_GUEST_MIRROR  Debian mirror (default: the first http(s) URI of
#                               the host's apt sources that serves Debian, else
#                               http://deb.debian.org/debian)
#   SYSVIRT_LINUX_GUEST_SIZE    disk size (default 2G; the filesystem is made
#                               at this size, the qcow2 holds only what is used)
set -euo pipefail

CACHE=${SYSVIRT_LINUX_GUEST_CACHE:-/var/cache/sysvirt-testbed}
SUITE=bookworm
SIZE=${SYSVIRT_LINUX_GUEST_SIZE:-2G}
PACKAGES=(
    systemd-sysv udev dbus
    qemu-guest-agent python3 openssh-server sudo cloud-init
    linux-image-cloud-amd64 initramfs-tools zstd
    iproute2 ca-certificates
)
# The initramfs needs only what mounts /dev/vda (MODULES=list).
INITRAMFS_MODULES=(virtio_pci virtio_blk ext4)
# Units that cost boot time on TCG and serve no test.
MASK_UNITS=(
    apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
    man-db.timer systemd-timesyncd.service getty@tty1.service
)

SELF=$(readlink -f "${BASH_SOURCE[0]}")

log() { printf 'build-linux-guest: %s\n' "$*"; }
die() { printf 'build-linux-guest: ERROR: %s\n' "$*" >&2; exit 1; }

force=0
case "${1:-}" in
    --force) force=1 ;;
    "") ;;
    -h|--help) sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (usage: $0 [--force])" ;;
esac

default_mirror() {
    local uri
    uri=$(grep -rhoE '(URIs:|^deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
          | awk '{print $2}' | head -n1)
    echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR=${SYSVIRT_LINUX_GUEST_MIRROR:-$(default_mirror)}

# Comments and blank lines are not part of the recipe.
recipe_hash=$( { grep -vE '^[[:space:]]*(#|$)' "$SELF"; echo "$SUITE $MIRROR $SIZE ${PACKAGES[*]}"; } | sha256sum | cut -c1-16)
OUT=$CACHE/linux-guest-$recipe_hash
LINK=$CACHE/linux-guest

if [[ $force -eq 0 && -s $OUT/disk.qcow2 && -s $OUT/vmlinuz && -s $OUT/initrd.img && -s $OUT/BUILD-INFO ]]; then
    [[ $(readlink "$LINK" 2>/dev/null) == "${OUT##*/}" ]] || ln -sfn "${OUT##*/}" "$LINK"
    log "up to date: $OUT (use --force to rebuild)"
    exit 0
fi

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, writes $CACHE)"
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v qemu-img >/dev/null || need+=(qemu-utils)
if [[ ${#need[@]} -gt 0 ]]; then
    log "installing ${need[*]} on the host"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
        "${need[@]}" >/dev/null || die "apt-get install ${need[*]} failed"
fi

start=$SECONDS
WORK=$(mktemp -d /var/tmp/sysvirt-linux-guest.XXXXXX)
R=$WORK/root
cleanup() {
    local m
    for m in "$R/var/cache/apt/archives" "$R/proc" "$R/sys" "$R/dev/pts" "$R/dev"; do
        mountpoint -q "$m" 2>/dev/null && umount -l "$m"
    done
    mountpoint -q "$R/var/cache/apt/archives" 2>/dev/null && return  # never delete the package cache
    rm -rf "$WORK"
}
trap cleanup EXIT

log "debootstrap $SUITE from $MIRROR (recipe $recipe_hash)"
# Downloaded packages stay in $CACHE/debs for the next build (a recipe change).
mkdir -p "$CACHE/debs/partial"
DEBIAN_FRONTEND=noninteractive debootstrap --variant=minbase --cache-dir="$CACHE/debs" "$SUITE" "$R" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
log "debootstrap done after $((SECONDS - start))s; installing ${PACKAGES[*]}"
# apt in the chroot (not debootstrap --include, which does not resolve virtual packages), without starting
# services, without recommends.
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$R/etc/apt/sources.list"
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 0755 "$R/usr/sbin/policy-rc.d"
mount -t proc proc "$R/proc"
mount --bind "$CACHE/debs" "$R/var/cache/apt/archives"
{ chroot "$R" apt-get update -q && DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get install -y -q \
      --no-install-recommends -o Dpkg::Use-Pty=0 "${PACKAGES[@]}"; } >"$WORK/apt.log" 2>&1 \
    || { tail -n 30 "$WORK/apt.log" >&2; die "apt-get install in the guest failed (log above)"; }
umount "$R/var/cache/apt/archives"
rm -f "$R/usr/sbin/policy-rc.d"
log "packages installed after $((SECONDS - start))s"

# --- configuration ------------------------------------------------------------------
echo sysvirt-test-guest >"$R/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 sysvirt-test-guest\n' >"$R/etc/hosts"
printf '/dev/vda / ext4 rw,relatime 0 1\n' >"$R/etc/fstab"
mkdir -p "$R/etc/systemd/network"
cat >"$R/etc/systemd/network/10-sysvirt.network" <<'EOF'
# QEMU user-mode network (slirp): static, no gateway, nothing to ask DHCP for.
[Match]
Name=eth* en*

[Network]
Address=10.0.2.15/24
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF
cat >"$R/etc/cloud/cloud.cfg.d/90-sysvirt.cfg" <<'EOF'
# sysvirt test guest: NoCloud only, network set up by the image, keep the
# host keys made at build time (generating them under TCG costs seconds).
datasource_list: [NoCloud, None]
network: {config: disabled}
ssh_deletekeys: false
ssh_genkeytypes: []
EOF
# qemu-guest-agent starts as soon as its port appears, not after sysinit.target: cloud-init's two stages run
# before sysinit.target, and under TCG they take tens of seconds. Tests reach the agent that much earlier.
mkdir -p "$R/etc/systemd/system/qemu-guest-agent.service.d"
cat >"$R/etc/systemd/system/qemu-guest-agent.service.d/10-sysvirt-early.conf" <<'EOF'
[Unit]
DefaultDependencies=no
Conflicts=shutdown.target
Before=shutdown.target
EOF
# Modules udev would load for devices no test uses (KVM for the emulated CPU's vmx flag, the IDE controller
# and floppy of the 'pc' machine): each costs boot time under TCG.
mkdir -p "$R/etc/modprobe.d"
printf 'blacklist %s\n' kvm kvm_intel kvm_amd ata_piix pata_acpi ata_generic floppy pcspkr \
    >"$R/etc/modprobe.d/sysvirt-test-guest.conf"
sed -i 's/^#\?PermitRootLogin.*/PermitRootLogin no/; s/^#\?UseDNS.*/UseDNS no/' "$R/etc/ssh/sshd_config"
# Root has no password: passwd -l keeps it so; logins are by SSH key (cloud-init).
chroot "$R" passwd -l root >/dev/null
chroot "$R" systemctl enable systemd-networkd.service >/dev/null 2>&1
chroot "$R" systemctl mask "${MASK_UNITS[@]}" >/dev/null 2>&1 || true
# The serial console getty only; no wait for a network that is up at once.
chroot "$R" systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1 || true

# The initramfs again, with only what mounts the root disk (the kernel's
# postinst made one with MODULES=most: large, and slow to unpack under TCG).
printf 'MODULES=list\nCOMPRESS=zstd\n' >"$R/etc/initramfs-tools/conf.d/sysvirt.conf"
printf '%s\n' "${INITRAMFS_MODULES[@]}" >>"$R/etc/initramfs-tools/modules"
chroot "$R" update-initramfs -u -k all >"$WORK/initramfs.log" 2>&1 \
    || { tail -n 20 "$WORK/initramfs.log" >&2; die "update-initramfs failed"; }
umount "$R/proc"
chroot "$R" apt-get clean
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/log/*.log "$R"/var/cache/debconf/*-old "$R/etc/machine-id"
: >"$R/etc/machine-id"

kernel=$(find "$R/boot" -maxdepth 1 -name 'vmlinuz-*' | head -n1)
[[ -n $kernel ]] || die "no kernel in $R/boot"
kver=${kernel##*/vmlinuz-}
[[ -s $R/boot/initrd.img-$kver ]] || die "no initramfs for $kver"

# --- disk ------------------------------------------------------------------------
log "making the disk ($SIZE ext4, then qcow2)"
mkfs.ext4 -q -L sysvirt-root -d "$R" -E root_owner=0:0 "$WORK/disk.raw" "$SIZE" \
    || die "mkfs.ext4 -d failed"
qemu-img convert -q -f raw -O qcow2 "$WORK/disk.raw" "$WORK/disk.qcow2" || die "qemu-img convert failed"

mkdir -p "$CACHE"
chmod 0755 "$CACHE"
rm -rf "$OUT.new"
mkdir -m 0755 "$OUT.new"
install -m 0644 "$WORK/disk.qcow2" "$OUT.new/disk.qcow2"
install -m 0644 "$kernel" "$OUT.new/vmlinuz"
install -m 0644 "$R/boot/initrd.img-$kver" "$OUT.new/initrd.img"
{
    echo "recipe=$recipe_hash"
    echo "suite=$SUITE"
    echo "mirror=$MIRROR"
    echo "kernel_version=$kver"
    echo "cmdline=root=/dev/vda rw console=ttyS0"
    echo "disk_size=$SIZE"
    echo "build_seconds=$((SECONDS - start))"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    for p in qemu-guest-agent python3 openssh-server cloud-init sudo systemd; do
        # shellcheck disable=SC2016 # ${Version} is dpkg-query's field, not a shell expansion
        echo "package_$p=$(chroot "$R" dpkg-query -W -f='${Version}' "$p" 2>/dev/null)"
    done
} >"$OUT.new/BUILD-INFO"
chmod 0644 "$OUT.new/BUILD-INFO"
rm -rf "$OUT"
mv "$OUT.new" "$OUT"
ln -sfn "${OUT##*/}" "$LINK"
# Older recipes' entries (never the one just built).
find "$CACHE" -maxdepth 1 -type d -name 'linux-guest-*' ! -name "${OUT##*/}" -exec rm -rf {} +
log "built $OUT in $((SECONDS - start))s (kernel $kver, disk $(du -h --apparent-size "$OUT/disk.qcow2" | cut -f1))"
