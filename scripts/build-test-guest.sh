#!/usr/bin/env bash
# Build the tiny bootable test guest used by the integration tests.
#
# Output (root-owned, mode 0644, readable by the QEMU process):
#   $SYSVIRT_GUEST_DIR/vmlinuz         kernel from Debian's linux-image package
#   $SYSVIRT_GUEST_DIR/initrd.img      gzip'd cpio (newc): static busybox + /init
#   $SYSVIRT_GUEST_DIR/initrd-ssh.img  initrd.img followed by a second cpio (the
#                                      kernel unpacks both): dropbear, its
#                                      libraries and the virtio network modules
#   $SYSVIRT_GUEST_DIR/BUILD-INFO      what it was built from
#
# The guest has no disk and no network. Its /init mounts proc/sys/dev, loads
# the evdev and button modules, runs the hooks in /etc/sysvirt-init.d, prints
# the marker line SYSVIRT-GUEST-UP on the console (ttyS0) and runs busybox
# acpid, whose power-button handler prints SYSVIRT-GUEST-POWEROFF and powers off
# at once. Booted as a TCG guest it is up in a few seconds and off about a
# second after `virsh shutdown`.
#
# initrd-ssh.img adds one hook: when the kernel command line has
# sysvirt_ssh_key=<type>:<base64> (an OpenSSH public key with ':' for the
# space), it loads virtio_net, gives eth0 the address 10.0.2.15/24 (QEMU's
# user-mode network; no route, so the guest can only answer) and starts
# dropbear on port 22, public-key login for root with that key only, and
# prints SYSVIRT-GUEST-SSH. No Python: Ansible reaches it with the raw module.
#
# Packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x`
# into a temporary directory; nothing is installed on the host.
#
# It also runs scripts/build-linux-guest.sh, which builds (once, cached in
# /var/cache/sysvirt-testbed) the Linux test guest: Debian with
# qemu-guest-agent, Python, OpenSSH and cloud-init (see that script).
#
# Usage: scripts/build-test-guest.sh [--force]
#   Skips the build when the outputs exist and are newer than this script.
# Environment:
#   SYSVIRT_LINUX_GUEST       0: do not build the Linux test guest (default 1)
#   SYSVIRT_GUEST_DIR         output dir (default /var/lib/libvirt/boot/sysvirt-test-guest)
#   SYSVIRT_GUEST_KERNEL_PKG  kernel (meta)package (default: the first that apt knows
#                             of linux-image-cloud-amd64, linux-image-amd64 (Debian),
#                             linux-image-virtual (Ubuntu, untested))
set -euo pipefail

OUT_DIR=${SYSVIRT_GUEST_DIR:-/var/lib/libvirt/boot/sysvirt-test-guest}
KERNEL_PKGS=${SYSVIRT_GUEST_KERNEL_PKG:-linux-image-cloud-amd64 linux-image-amd64 linux-image-virtual}
BUSYBOX_PKG="busybox-static"
MODULES=(evdev button)
# The SSH overlay: dropbear and the libraries Debian links it with (libc,
# libcrypt and zlib come from the host, a Debian of the same release).
SSH_PKGS=(dropbear-bin libtomcrypt1 libtommath1)
SSH_MODULES=(virtio_pci virtio_net)
# Kconfig symbols, to accept a kernel that has them built in (=y).
declare -A BUILTIN_SYMBOL=([evdev]=INPUT_EVDEV [button]=ACPI_BUTTON)
MARKER_UP=SYSVIRT-GUEST-UP
MARKER_OFF=SYSVIRT-GUEST-POWEROFF
MARKER_SSH=SYSVIRT-GUEST-SSH

SELF=$(readlink -f "${BASH_SOURCE[0]}")

log() { printf 'build-test-guest: %s\n' "$*"; }
die() { printf 'build-test-guest: ERROR: %s\n' "$*" >&2; exit 1; }

force=0
case "${1:-}" in
    --force) force=1 ;;
    "") ;;
    -h|--help) sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (usage: $0 [--force])" ;;
esac

# The Linux test guest (Debian with qemu-guest-agent, Python, SSH, cloud-init) has its own script and cache,
# keyed by its recipe; SYSVIRT_LINUX_GUEST=0 leaves it out.
if [[ ${SYSVIRT_LINUX_GUEST:-1} != 0 ]]; then
    linux_args=()
    [[ $force -eq 1 ]] && linux_args=(--force)
    "$(dirname "$SELF")/build-linux-guest.sh" "${linux_args[@]}" || die "building the Linux test guest failed"
fi

if [[ $force -eq 0 && -s $OUT_DIR/vmlinuz && -s $OUT_DIR/initrd.img && -s $OUT_DIR/initrd-ssh.img
      && $OUT_DIR/vmlinuz -nt $SELF && $OUT_DIR/initrd.img -nt $SELF && $OUT_DIR/initrd-ssh.img -nt $SELF ]]; then
    log "up to date: $OUT_DIR (use --force to rebuild)"
    exit 0
fi

[[ $(id -u) -eq 0 ]] || die "must run as root (writes $OUT_DIR)"
for tool in apt-get apt-cache dpkg-deb cpio gzip ldd; do
    command -v "$tool" >/dev/null || die "'$tool' not found (scripts/testbed.sh installs what is needed)"
done

WORK=$(mktemp -d /tmp/sysvirt-guest-build.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# apt-get download drops privileges to _apt when it can write the directory.
chmod 0755 "$WORK"
mkdir "$WORK/debs"
if id _apt >/dev/null 2>&1; then chown _apt "$WORK/debs"; fi

download() {  # download PKG...: fetch .debs into $WORK/debs
    (cd "$WORK/debs" && apt-get download -q "$@" >/dev/null) \
        || die "apt-get download $* failed (run 'apt-get update'?)"
}

# Resolve a metapackage (linux-image-cloud-amd64) to the versioned image
# package it depends on (linux-image-6.1.0-NN-cloud-amd64).
resolve_kernel() {
    local meta dep
    for meta in $KERNEL_PKGS; do
        if [[ $meta =~ ^linux-image-[0-9] ]]; then
            echo "$meta"; return 0
        fi
        dep=$(apt-cache depends --no-recommends --no-suggests "$meta" 2>/dev/null \
              | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
        if [[ -n $dep ]]; then echo "$dep"; return 0; fi
    done
    return 1
}
if ! kernel_pkg=$(resolve_kernel); then
    log "no kernel package known to apt; running apt-get update"
    apt-get update -q >/dev/null || die "apt-get update failed"
    kernel_pkg=$(resolve_kernel) || kernel_pkg=
fi
[[ -n $kernel_pkg ]] || die "cannot resolve a kernel package from: $KERNEL_PKGS (run 'apt-get update'?)"

log "downloading $kernel_pkg, $BUSYBOX_PKG and ${SSH_PKGS[*]}"
download "$kernel_pkg" "$BUSYBOX_PKG" "${SSH_PKGS[@]}"
for deb in "$WORK"/debs/*.deb; do
    dpkg-deb -x "$deb" "$WORK/root"
done

R=$WORK/root
vmlinuz=$(find "$R/boot" -maxdepth 1 -name 'vmlinuz-*' | head -n1)
[[ -n $vmlinuz ]] || die "no vmlinuz in $kernel_pkg"
kver=${vmlinuz##*/vmlinuz-}
# Ubuntu ships modules and config in a separate linux-modules-<version> package.
if [[ ! -d $R/lib/modules/$kver && ! -d $R/usr/lib/modules/$kver ]] \
   && apt-cache show "linux-modules-$kver" >/dev/null 2>&1; then
    download "linux-modules-$kver"
    dpkg-deb -x "$WORK"/debs/linux-modules-"$kver"_*.deb "$R"
fi
config=$R/boot/config-$kver
moddir=$R/lib/modules/$kver
[[ -d $moddir ]] || moddir=$R/usr/lib/modules/$kver
busybox=$R/bin/busybox
[[ -x $busybox ]] || busybox=$R/usr/bin/busybox
[[ -x $busybox ]] || die "no busybox binary in $BUSYBOX_PKG"

# --- initramfs tree -----------------------------------------------------------
I=$WORK/initramfs
mkdir -p "$I"/{bin,sbin,dev,proc,sys,run,tmp,etc/acpi/PWRF,etc/sysvirt-init.d,lib/modules}
cp "$busybox" "$I/bin/busybox"
chmod 0755 "$I/bin/busybox"

# Kernel modules: find each one (and what it depends on), decompress it if the
# kernel ships compressed modules (busybox insmod is not relied on for that),
# and record the load order. A module built into the kernel needs nothing.
declare -A seen=()
load_order=()
module_file() {  # module_file NAME -> path of NAME.ko[.xz|.zst|.gz] under $moddir
    local n=${1//-/_} alt=${1//_/-}
    find "$moddir" \( -name "$n.ko*" -o -name "$alt.ko*" \) -print -quit 2>/dev/null
}
add_module() {  # add_module NAME: copy NAME and its dependencies, deps first
    local name=${1//-/_} src dst deps dep
    [[ -n ${seen[$name]:-} ]] && return 0
    seen[$name]=1
    src=$(module_file "$name")
    if [[ -z $src ]]; then
        # Not shipped as a module: fine if the kernel has it built in.
        if [[ -n ${BUILTIN_SYMBOL[$name]:-} && -f $config ]] \
           && grep -q "^CONFIG_${BUILTIN_SYMBOL[$name]}=y" "$config"; then
            return 0
        fi
        die "module $name not found in $kernel_pkg and not built in"
    fi
    dst=$I/lib/modules/$name.ko
    case $src in
        *.ko.xz)  xz -dc "$src" >"$dst" ;;
        *.ko.zst) zstd -qdc "$src" >"$dst" ;;
        *.ko.gz)  gzip -dc "$src" >"$dst" ;;
        *.ko)     cp "$src" "$dst" ;;
        *) die "unexpected module file $src" ;;
    esac
    # The .modinfo section holds NUL-separated key=value strings.
    deps=$(tr '\0' '\n' <"$dst" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' ')
    for dep in $deps; do add_module "$dep"; done
    load_order+=("$name")
}
for m in "${MODULES[@]}"; do add_module "$m"; done
printf '%s\n' "${load_order[@]}" >"$I/lib/modules/load-order"
base_load_order=("${load_order[@]}")

cat >"$I/init" <<EOF
#!/bin/busybox sh
# sysvirt test guest init (generated by scripts/build-test-guest.sh)
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
    [ -n "\$m" ] && insmod "/lib/modules/\$m.ko" || echo "sysvirt-guest: insmod \$m failed"
done </lib/modules/load-order
hostname sysvirt-test-guest
for hook in /etc/sysvirt-init.d/*; do
    [ -x "\$hook" ] && "\$hook"
done
# acpid reads /dev/input/event*; the handler for the power button is
# /etc/acpi/PWRF/00000080 (busybox acpid's built-in action table).
acpid -c /etc/acpi -l /dev/null
echo "$MARKER_UP uptime=\$(cut -d' ' -f1 /proc/uptime)"
while :; do sleep 3600; done
EOF
cat >"$I/etc/acpi/PWRF/00000080" <<EOF
#!/bin/sh
echo "$MARKER_OFF uptime=\$(cut -d' ' -f1 /proc/uptime)" >/dev/console
sync
poweroff -f
EOF
chmod 0755 "$I/init" "$I/etc/acpi/PWRF/00000080"

(cd "$I" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) \
    | gzip -9n >"$WORK/initrd.img"

# --- SSH overlay -----------------------------------------------------------------
# A second cpio appended to initrd.img: the kernel unpacks both, later files
# win. Nothing of the base image changes.
I=$WORK/ssh
mkdir -p "$I"/{sbin,lib/modules,lib64,lib/x86_64-linux-gnu,etc/sysvirt-init.d,etc/dropbear,root/.ssh}
dropbear=$R/usr/sbin/dropbear
[[ -x $dropbear ]] || die "no dropbear binary in dropbear-bin"
cp "$dropbear" "$I/sbin/dropbear"
# Its shared libraries as the host's loader resolves them, the unpacked
# packages first; copied (symlinks followed) to the guest's library folder.
libpath=$(find "$R" -type d -name 'x86_64-linux-gnu' -path '*/lib/*' -printf '%p:')
needed=$(LD_LIBRARY_PATH=$libpath ldd "$dropbear") || die "ldd $dropbear failed"
if grep -q 'not found' <<<"$needed"; then
    die "dropbear needs libraries found neither in ${SSH_PKGS[*]} nor on the host: $(grep 'not found' <<<"$needed" | tr -s ' \t\n' ' ')"
fi
while read -r lib; do
    case $lib in
        */ld-linux-x86-64.so.2) cp -L "$lib" "$I/lib64/ld-linux-x86-64.so.2" ;;
        /*) cp -L "$lib" "$I/lib/x86_64-linux-gnu/${lib##*/}" ;;
    esac
done < <(awk '/=>/ {print $3; next} {print $1}' <<<"$needed")
[[ -e $I/lib64/ld-linux-x86-64.so.2 ]] || die "no program loader found for dropbear"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$I/etc/passwd"
printf 'root:x:0:\n' >"$I/etc/group"
printf '/bin/sh\n' >"$I/etc/shells"
chmod 0700 "$I/root" "$I/root/.ssh"
load_order=()
for m in "${SSH_MODULES[@]}"; do add_module "$m"; done
printf '%s\n' "${load_order[@]}" >"$I/lib/modules/load-order.ssh"
sed "s/@MARKER_SSH@/$MARKER_SSH/" >"$I/etc/sysvirt-init.d/50-ssh" <<'HOOK'
#!/bin/sh
# sysvirt test guest: dropbear when the kernel command line carries a key.
key=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^sysvirt_ssh_key=//p' | head -n1)
[ -n "$key" ] || exit 0
while read -r m; do
    [ -n "$m" ] && insmod "/lib/modules/$m.ko" || echo "sysvirt-guest: insmod $m failed"
done </lib/modules/load-order.ssh
mkdir -p /dev/pts
mount -t devpts -o gid=0,mode=620 devpts /dev/pts
ip link set lo up
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
echo "$key" | tr ':' ' ' >/root/.ssh/authorized_keys
chmod 0600 /root/.ssh/authorized_keys
dropbear -R -s -p 22 -P /run/dropbear.pid 2>/dev/null
echo "@MARKER_SSH@ port=22 uptime=$(cut -d' ' -f1 /proc/uptime)"
HOOK
chmod 0755 "$I/etc/sysvirt-init.d/50-ssh"
(cd "$I" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) \
    | gzip -9n >"$WORK/ssh.cpio.gz"
cat "$WORK/initrd.img" "$WORK/ssh.cpio.gz" >"$WORK/initrd-ssh.img"

# --- install ------------------------------------------------------------------
mkdir -p "$OUT_DIR"
chmod 0755 "$OUT_DIR"
install -m 0644 "$vmlinuz" "$OUT_DIR/.vmlinuz.new"
install -m 0644 "$WORK/initrd.img" "$OUT_DIR/.initrd.img.new"
install -m 0644 "$WORK/initrd-ssh.img" "$OUT_DIR/.initrd-ssh.img.new"
{
    echo "kernel_package=$kernel_pkg"
    echo "kernel_version=$kver"
    echo "busybox_package=$BUSYBOX_PKG=$(dpkg-deb -f "$WORK"/debs/busybox*.deb Version)"
    echo "modules=${base_load_order[*]}"
    echo "ssh_packages=${SSH_PKGS[*]}"
    echo "ssh_modules=${load_order[*]}"
    echo "marker_ssh=$MARKER_SSH"
    echo "marker_up=$MARKER_UP"
    echo "marker_poweroff=$MARKER_OFF"
    echo "cmdline=console=ttyS0"
} >"$OUT_DIR/.BUILD-INFO.new"
chmod 0644 "$OUT_DIR/.BUILD-INFO.new"
mv -f "$OUT_DIR/.vmlinuz.new" "$OUT_DIR/vmlinuz"
mv -f "$OUT_DIR/.initrd.img.new" "$OUT_DIR/initrd.img"
mv -f "$OUT_DIR/.initrd-ssh.img.new" "$OUT_DIR/initrd-ssh.img"
mv -f "$OUT_DIR/.BUILD-INFO.new" "$OUT_DIR/BUILD-INFO"
log "built $OUT_DIR (kernel $kver, modules: ${base_load_order[*]:-built-in}; ssh overlay: ${load_order[*]})"
