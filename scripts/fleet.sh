#!/usr/bin/env bash
# A test fleet of libvirt hypervisors reached over real transports (SSH, TLS).
#
#   scripts/fleet.sh up [N]     make N hypervisors (default 4; at most 50), or keep a healthy fleet of N
#   scripts/fleet.sh down       stop and remove everything `up` made, also after a crash
#   scripts/fleet.sh status     print the fleet's description (JSON) if it is up, exit 1 otherwise
#
# Hypervisor i (1..N) is:
#   - a network namespace sysvirt-test-fleet-<i> with a veth pair to the root namespace: sv-fleet-<i> in the root
#     namespace holds 198.18.<i>.1/24, eth0 in the namespace 198.18.<i>.2/24 (RFC 2544's benchmark range, used
#     only on these point-to-point links: no routes, no NAT, no forwarding);
#   - inside it, in a private mount and UTS namespace (host name sysvirt-test-fleet-<i>), a libvirtd with private
#     /run/libvirt, /etc/libvirt, /var/lib/libvirt/qemu and /var/cache/libvirt (as tests/functional/second_daemon.py
#     does; the main daemon's QEMU capabilities cache is copied in, which saves each daemon seconds of probing
#     QEMU on its first capabilities call), its own host UUID, and a TLS listener on 198.18.<i>.2:16514 (no TCP listener);
#   - an sshd on 198.18.<i>.2:22 in the same mount namespace, so qemu+ssh:// reaches that daemon's socket;
#   - a second link, eth1 (198.19.0.<i>/24), to a bridge in the switch namespace sysvirt-test-fleet-switch, and for
#     every other host j a route 198.18.<j>.2/32 via 198.19.0.<j> on it: the hosts reach each other at the same
#     addresses the control node uses (the URIs of fleet.json work from inside a host, for peer-to-peer
#     migration), host to host through the switch, never through the root namespace;
#   - QEMU migration settings in its qemu.conf: migration_host 198.18.<i>.2 (the address the source's QEMU is
#     sent to; the host name resolves nowhere) and migrate_tls_x509_cert_dir with a certificate of the host for
#     both ends of a TLS migration stream (VIR_MIGRATE_TLS), owned by the QEMU user (libvirt-qemu).
# Guests on the fleet boot the busybox test guest from a copy in guest/ (fleet.json's guest_dir): the shared
# /var/lib/libvirt/boot copy is in use by the main daemon's guests, and two daemons may not relabel one file.
# The set-up makes a test CA (openssl), a server certificate per host (its address in subjectAltName), one client
# certificate, a client SSH key, a host key per sshd and a known_hosts file.
#
# Everything lives in one state directory, $SYSVIRT_FLEET_DIR (default /var/tmp/sysvirt-test-fleet):
#   fleet.json            what the tests read: per host its name, address, namespace and URIs
#   pki/client/           cacert.pem, clientcert.pem, clientkey.pem: the client's ?pkipath=
#   ssh/id_ed25519        the client key (?keyfile=); ssh/known_hosts; ssh/ssh, an ssh wrapper (?command=)
#   hv<i>/                the host's configuration, keys, logs and PID files
# `down` kills every process in the fleet's namespaces (ip netns pids: libvirtd, sshd, QEMU, dnsmasq, SSH
# sessions), deletes the namespaces and links and removes the state directory (kept when SYSVIRT_KEEP_FLEET_DIR
# is set, for the logs). It needs no state: it finds the namespaces and links by their names.
set -euo pipefail

DIR=${SYSVIRT_FLEET_DIR:-/var/tmp/sysvirt-test-fleet}
PREFIX=sysvirt-test-fleet
LINK=sv-fleet
WAIT=${SYSVIRT_FLEET_WAIT:-20}

log() { printf 'fleet: %s\n' "$*" >&2; }
die() { printf 'fleet: ERROR: %s\n' "$*" >&2; exit 1; }

addr() { printf '198.18.%d.2' "$1"; }
addr2() { printf '198.19.0.%d' "$1"; }
SWITCH=$PREFIX-switch
QEMU_USER=libvirt-qemu
GUEST_DIR=${SYSVIRT_GUEST_DIR:-/var/lib/libvirt/boot/sysvirt-test-guest}

# --- down ---------------------------------------------------------------------------------------------------------
fleet_namespaces() { ip netns list 2>/dev/null | awk -v p="$PREFIX-" 'index($1, p) == 1 { print $1 }'; }

kill_namespace_processes() {  # kill_namespace_processes NS: TERM, then KILL what is left after 5 s
    local ns=$1 pids i
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -n $pids ]] || return 0
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [[ -n $pids ]] || return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        [[ -n $(ip netns pids "$ns" 2>/dev/null || true) ]] || return 0
        sleep 0.1
    done
    log "processes still in $ns after SIGKILL: $(ip netns pids "$ns" | tr '\n' ' ')"
}

down() {
    local ns link
    for ns in $(fleet_namespaces); do
        kill_namespace_processes "$ns"
        ip netns delete "$ns" || log "could not delete namespace $ns"
    done
    for link in $(ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep "^$LINK-" || true); do
        ip link delete "$link" 2>/dev/null || true
    done
    if [[ -z ${SYSVIRT_KEEP_FLEET_DIR:-} ]]; then
        rm -rf "$DIR"
    fi
}

# --- keys and certificates ----------------------------------------------------------------------------------------
make_ca() {
    local pki=$DIR/pki
    mkdir -p "$pki/client"
    chmod 0700 "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/O=sysvirt test/CN=$PREFIX-ca" \
        -keyout "$pki/cakey.pem" -out "$pki/cacert.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    cp "$pki/cacert.pem" "$pki/client/cacert.pem"
    sign "$pki/client/clientkey" "$pki/client/clientcert.pem" "/O=sysvirt test/CN=$PREFIX-client" \
        'extendedKeyUsage=clientAuth'
}

sign() {  # sign KEYBASE CERT SUBJECT EXTENSIONS: a key (KEYBASE.pem) and a certificate signed by the test CA
    local key=$1.pem cert=$2 subject=$3 ext=$4 pki=$DIR/pki
    openssl req -new -newkey rsa:2048 -nodes -subj "$subject" -keyout "$key" -out "$cert.csr" 2>/dev/null
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n' "$ext" \
        >"$cert.ext"
    openssl x509 -req -in "$cert.csr" -CA "$pki/cacert.pem" -CAkey "$pki/cakey.pem" -set_serial "0x$(openssl rand -hex 8)" \
        -days 7 -extfile "$cert.ext" -out "$cert" 2>/dev/null
    rm -f "$cert.csr" "$cert.ext"
    chmod 0600 "$key"
}

make_ssh_client() {
    local ssh=$DIR/ssh
    mkdir -p "$ssh"
    chmod 0700 "$ssh"
    ssh-keygen -q -t ed25519 -N '' -C "$PREFIX-client" -f "$ssh/id_ed25519"
    cp "$ssh/id_ed25519.pub" "$ssh/authorized_keys"
    : >"$ssh/known_hosts"
    # The ssh transport runs OpenSSH, which takes no known_hosts file from the URI: this wrapper (?command=) gives
    # it the fleet's known_hosts, strict host key checking and batch mode, and leaves ~/.ssh alone.
    cat >"$ssh/ssh" <<EOF
#!/bin/sh
exec ssh -F none -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$ssh/known_hosts \\
    -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=5 "\$@"
EOF
    chmod 0755 "$ssh/ssh"
}

# --- one hypervisor -----------------------------------------------------------------------------------------------
LIBVIRTD_CONF='listen_tls = 1
listen_tcp = 0
listen_addr = "%s"
key_file = "%s/serverkey.pem"
cert_file = "%s/servercert.pem"
ca_file = "%s/cacert.pem"
auth_tls = "none"
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
host_uuid = "%s"
log_outputs = "3:file:%s/libvirtd.log"
'

SSHD_CONFIG='ListenAddress %s
Port 22
HostKey %s/ssh_host_ed25519_key
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
'

# Run inside `ip netns exec NS unshare --mount --uts`: private libvirt directories, then libvirtd and sshd.
# shellcheck disable=SC2016 # expanded by that shell: $1 host name, $2 the host's directory
INNER='set -e
hostname "$1"
mount --make-rprivate /
mount -t tmpfs sysvirt-run /run/libvirt
mount --bind "$2/etc" /etc/libvirt
mount -t tmpfs sysvirt-lib /var/lib/libvirt/qemu
cp -a /var/cache/libvirt/qemu "$2/qemu-cache" 2>/dev/null || mkdir -p "$2/qemu-cache"
mount -t tmpfs sysvirt-cache /var/cache/libvirt
cp -a "$2/qemu-cache" /var/cache/libvirt/qemu
ip link set lo up
libvirtd --listen --daemon --config "$2/etc/libvirtd.conf" --pid-file "$2/libvirtd.pid"
/usr/sbin/sshd -f "$2/sshd_config" -E "$2/sshd.log"
'

make_host() {  # make_host I: configuration, keys and certificate of hypervisor I
    local i=$1 h=$DIR/hv$1 a
    a=$(addr "$i")
    mkdir -p "$h/etc/qemu" "$h/pki"
    # shellcheck disable=SC2059
    printf "$LIBVIRTD_CONF" "$a" "$h/pki" "$h/pki" "$h/pki" "$(cat /proc/sys/kernel/random/uuid)" "$h" \
        >"$h/etc/libvirtd.conf"
    printf 'stdio_handler = "file"\nmigration_host = "%s"\nmigrate_tls_x509_cert_dir = "%s"\n' \
        "$a" "$h/qemu-pki" >"$h/etc/qemu.conf"
    cp "$DIR/pki/cacert.pem" "$h/pki/cacert.pem"
    sign "$h/pki/serverkey" "$h/pki/servercert.pem" "/O=sysvirt test/CN=$a" \
        "extendedKeyUsage=serverAuth
subjectAltName=IP:$a,DNS:$PREFIX-$i"
    # QEMU's TLS directory for migration: the same certificate serves both ends (server and client).
    mkdir -p "$h/qemu-pki"
    cp "$DIR/pki/cacert.pem" "$h/qemu-pki/ca-cert.pem"
    sign "$h/qemu-pki/server-key" "$h/qemu-pki/server-cert.pem" "/O=sysvirt test/CN=$a" \
        "extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:$a,DNS:$PREFIX-$i"
    cp "$h/qemu-pki/server-cert.pem" "$h/qemu-pki/client-cert.pem"
    cp "$h/qemu-pki/server-key.pem" "$h/qemu-pki/client-key.pem"
    chmod 0711 "$h"
    ! id -u "$QEMU_USER" >/dev/null 2>&1 || chown -R "$QEMU_USER:" "$h/qemu-pki"
    ssh-keygen -q -t ed25519 -N '' -C "$PREFIX-$i" -f "$h/ssh_host_ed25519_key"
    # shellcheck disable=SC2059
    printf "$SSHD_CONFIG" "$a" "$h" "$h" "$DIR/ssh" >"$h/sshd_config"
    printf '%s %s\n' "$a" "$(cut -d' ' -f1-2 "$h/ssh_host_ed25519_key.pub")" >>"$DIR/ssh/known_hosts"
}

start_host() {  # start_host I: namespace, link, daemons
    local i=$1 ns=$PREFIX-$1 link=$LINK-$1
    ip netns add "$ns"
    ip link add "$link" type veth peer name eth0 netns "$ns"
    ip addr add "198.18.$i.1/24" dev "$link"
    ip link set "$link" up
    ip -n "$ns" addr add "$(addr "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$SWITCH" link add "p$i" type veth peer name eth1 netns "$ns"
    ip -n "$SWITCH" link set "p$i" master br0 up
    ip -n "$ns" addr add "$(addr2 "$i")/24" dev eth1
    ip -n "$ns" link set eth1 up
    # 9>&-: the daemons must not inherit (and hold) the lock of this script.
    ip netns exec "$ns" unshare --mount --uts sh -c "$INNER" sh "$ns" "$DIR/hv$i" \
        >"$DIR/hv$i/start.log" 2>&1 9>&- || die "hypervisor $i did not start: $(cat "$DIR/hv$i/start.log")"
}

start_switch() {  # the switch namespace: one bridge, no address, nothing else
    ip netns add "$SWITCH"
    ip -n "$SWITCH" link add br0 type bridge
    ip -n "$SWITCH" link set br0 up
}

route_hosts() {  # route_hosts N: in each host, the other hosts' first addresses via their switch address
    local n=$1 i j
    for ((i = 1; i <= n; i++)); do
        for ((j = 1; j <= n; j++)); do
            ((i == j)) || ip -n "$PREFIX-$i" route add "$(addr "$j")/32" via "$(addr2 "$j")" dev eth1 src "$(addr2 "$i")"
        done
    done
}

port_open() { timeout 1 bash -c ": </dev/tcp/$1/$2" 2>/dev/null; }

wait_host() {  # wait_host I: until its TLS and SSH ports accept connections
    local i=$1 a n
    a=$(addr "$i")
    for ((n = 0; n < WAIT * 10; n++)); do
        if port_open "$a" 16514 && port_open "$a" 22; then
            return 0
        fi
        sleep 0.1
    done
    die "hypervisor $i ($a) did not listen on 16514 and 22 within ${WAIT}s; see $DIR/hv$i/libvirtd.log"
}

describe() {  # describe N: fleet.json
    local n=$1 i a sep=''
    printf '{"dir": "%s", "count": %d, "hosts": [' "$DIR" "$n"
    for ((i = 1; i <= n; i++)); do
        a=$(addr "$i")
        printf '%s\n  {"index": %d, "name": "%s-%d", "namespace": "%s-%d", "link": "%s-%d", "address": "%s",' \
            "$sep" "$i" "$PREFIX" "$i" "$PREFIX" "$i" "$LINK" "$i" "$a"
        printf ' "tls_uri": "qemu+tls://%s/system?pkipath=%s/pki/client",' "$a" "$DIR"
        printf ' "ssh_uri": "qemu+ssh://root@%s/system?keyfile=%s/ssh/id_ed25519&command=%s/ssh/ssh",' \
            "$a" "$DIR" "$DIR"
        printf ' "libssh_uri": "qemu+libssh://root@%s/system?keyfile=%s/ssh/id_ed25519&known_hosts=%s/ssh/known_hosts&sshauth=privkey"}' \
            "$a" "$DIR" "$DIR"
        sep=','
    done
    printf '\n], "cacert": "%s/pki/cacert.pem", "pkipath": "%s/pki/client", "keyfile": "%s/ssh/id_ed25519",' \
        "$DIR" "$DIR" "$DIR"
    printf ' "known_hosts": "%s/ssh/known_hosts", "ssh_command": "%s/ssh/ssh", "guest_dir": "%s/guest"}\n' \
        "$DIR" "$DIR" "$DIR"
}

healthy() {  # healthy N: a fleet of N is described and listening
    local n=$1 i
    [[ -f $DIR/fleet.json ]] && grep -q "\"count\": $n," "$DIR/fleet.json" || return 1
    [[ $(fleet_namespaces | grep -vcx "$SWITCH") -eq $n ]] || return 1
    for ((i = 1; i <= n; i++)); do
        port_open "$(addr "$i")" 16514 && port_open "$(addr "$i")" 22 || return 1
    done
}

up() {
    local n=${1:-4} i
    if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > 50)); then die "N must be 1..50, not '$n'"; fi
    if healthy "$n"; then
        log "a fleet of $n is up ($DIR)"
        return 0
    fi
    for tool in ip unshare openssl ssh-keygen /usr/sbin/sshd libvirtd; do
        command -v "$tool" >/dev/null || die "$tool not found (scripts/testbed.sh installs the test packages)"
    done
    down
    mkdir -p "$DIR" /run/sshd
    chmod 0711 "$DIR"
    mkdir -m 0755 "$DIR/guest"
    cp "$GUEST_DIR/vmlinuz" "$GUEST_DIR/initrd.img" "$DIR/guest/" 2>/dev/null \
        || log "no test guest in $GUEST_DIR (scripts/build-test-guest.sh): the fleet runs no guests"
    make_ca
    make_ssh_client
    for ((i = 1; i <= n; i++)); do make_host "$i"; done
    start_switch
    for ((i = 1; i <= n; i++)); do start_host "$i"; done
    route_hosts "$n"
    for ((i = 1; i <= n; i++)); do wait_host "$i"; done
    describe "$n" >"$DIR/fleet.json.tmp"
    mv "$DIR/fleet.json.tmp" "$DIR/fleet.json"
    log "a fleet of $n is up ($DIR)"
}

main() {
    [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, mounts)"
    local cmd=${1:-}
    # One fleet per machine: up and down never run at the same time.
    mkdir -p "$(dirname "$DIR")"
    exec 9>"$DIR.lock"
    flock -w 120 9 || die "another fleet.sh holds $DIR.lock"
    case $cmd in
        up)
            # A failed up leaves nothing behind.
            if ! (up "${2:-4}"); then down; exit 1; fi
            cat "$DIR/fleet.json" ;;
        down) down ;;
        status) healthy "$(grep -o '"count": [0-9]*' "$DIR/fleet.json" 2>/dev/null | grep -o '[0-9]*$' || echo 0)" \
                    && cat "$DIR/fleet.json" ;;
        *) die "usage: $0 up [N] | down | status" ;;
    esac
}

main "$@"
