#!/usr/bin/env bash
# Start or stop a second libvirtd for the migration test, in its own mount namespace (private /run/libvirt,
# /etc/libvirt, /var/lib/libvirt/qemu, /var/cache/libvirt), sockets in DIR/sock, its own host UUID.
#   second-libvirtd.sh start DIR   -> prints the URI; the PID is in DIR/daemon.pid
#   second-libvirtd.sh stop DIR    -> destroys/undefines its guests, stops that PID, removes DIR
set -euo pipefail
action=$1 dir=$2
uri="qemu+unix:///system?socket=$dir/sock/libvirt-sock"
case $action in
start)
    mkdir -p "$dir/etc/qemu" "$dir/sock"
    cat > "$dir/etc/libvirtd.conf" <<CONF
unix_sock_dir = "$dir/sock"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
log_outputs = "3:file:$dir/libvirtd.log"
CONF
    printf 'stdio_handler = "file"\nmigration_port_min = 49400\nmigration_port_max = 49499\n' > "$dir/etc/qemu.conf"
    setsid unshare --mount sh -c "set -e; mount --make-rprivate /; mount -t tmpfs sysvirt-run /run/libvirt;
        mount --bind $dir/etc /etc/libvirt; mount -t tmpfs sysvirt-lib /var/lib/libvirt/qemu;
        mount -t tmpfs sysvirt-cache /var/cache/libvirt;
        exec libvirtd --config $dir/etc/libvirtd.conf --pid-file $dir/libvirtd.pid" \
        </dev/null >"$dir/stdout" 2>"$dir/stderr" &
    echo $! > "$dir/daemon.pid"
    for _ in $(seq 150); do
        if virsh -c "$uri" version >/dev/null 2>&1; then echo "$uri"; exit 0; fi
        kill -0 "$(cat "$dir/daemon.pid")" 2>/dev/null || { cat "$dir/stderr" >&2; exit 1; }
        sleep 0.2
    done
    echo "second libvirtd did not answer" >&2; exit 1 ;;
stop)
    if [ -f "$dir/daemon.pid" ] && kill -0 "$(cat "$dir/daemon.pid")" 2>/dev/null; then
        for name in $(virsh -c "$uri" list --all --name 2>/dev/null); do
            virsh -c "$uri" destroy "$name" >/dev/null 2>&1 || true
            virsh -c "$uri" undefine "$name" >/dev/null 2>&1 || true
        done
        pid=$(cat "$dir/daemon.pid")
        kill "$pid"
        for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir" ;;
esac
