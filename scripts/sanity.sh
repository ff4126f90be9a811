#!/usr/bin/env bash
# scripts/sanity.sh - run `ansible-test sanity` on sysvirt.libvirt, offline.
#
# Usage:
#   bash scripts/sanity.sh [--ca-bundle PATH|none] [ansible-test sanity args...]
#
# Examples:
#   bash scripts/sanity.sh                          # all sanity tests
#   bash scripts/sanity.sh --test validate-modules  # one test
#   bash scripts/sanity.sh --list-tests
#
# How it works:
#   * ansible-test needs its working directory to be a real
#     ansible_collections/sysvirt/libvirt directory, so the collection's files
#     (git-tracked + untracked-not-ignored) are copied to
#     .build/sanity/<pid>/ansible_collections/sysvirt/libvirt (one copy per
#     run, so parallel runs in one work tree don't collide) and it runs there
#     with --local (no containers) and the venv's Python.
#   * Results: .build/sanity/latest/ansible_collections/sysvirt/libvirt/tests/output/.
#
# The pip bootstrap (--ca-bundle / SYSVIRT_CA_BUNDLE):
#   ansible-test creates a fresh virtualenv per sanity test and bootstraps pip
#   in it with get-pip.py, which it downloads from a host that is not a Python
#   package registry (unreachable on networks that only reach PyPI), and it
#   runs pip with a scrubbed environment (so PIP_CERT and friends do not get
#   through). It first looks for the script in its cache,
#   ~/.ansible/test/cache/get_pip_<version>.py (<version> = the pip version
#   ansible-test pins, 24.2 for ansible-core 2.19). This script writes a small
#   stand-in there that runs `python -m ensurepip` and then installs the
#   requested pip from PyPI with `--cert CA_BUNDLE`: ensurepip's bundled pip
#   does not trust the system certificate store, the installed pip 24.2 does.
#   The same stand-in is what machines behind a TLS-intercepting proxy need.
#
#   --ca-bundle PATH       CA bundle for that bootstrap (default: $SYSVIRT_CA_BUNDLE,
#                          else /etc/ssl/certs/ca-certificates.crt if it exists)
#   --ca-bundle none       do not write the stand-in: let ansible-test download
#                          the real get-pip.py (machines with full internet).
#   A real get-pip.py already in the cache (one without our marker line) is
#   never overwritten; delete it to use the stand-in.
#
# Ignore file: tests/sanity/ignore-2.19.txt, entries only with a reason comment.
set -euo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

ca_bundle=${SYSVIRT_CA_BUNDLE:-}
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --ca-bundle) ca_bundle=${2:?--ca-bundle needs a path or "none"}; shift 2 ;;
        --ca-bundle=*) ca_bundle=${1#*=}; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) args+=("$1"); shift ;;
    esac
done
if [ -z "$ca_bundle" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    ca_bundle=/etc/ssl/certs/ca-certificates.crt
fi

sysvirt_env

# The pip version ansible-test bootstraps, asked from ansible-test itself.
pip_version=$(python - <<'EOF' 2>/dev/null || echo 24.2
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version='%d.%d' % __import__('sys').version_info[:2]))['pip'])
EOF
)

write_pip_bootstrap() {
    local cache=$HOME/.ansible/test/cache
    local script=$cache/get_pip_${pip_version//./_}.py
    local marker='# sysvirt.libvirt scripts/sanity.sh pip bootstrap'
    if [ -f "$script" ] && ! grep -qF "$marker" "$script"; then
        echo "sanity.sh: keeping the existing $script (not ours)" >&2
        return
    fi
    if [ ! -r "$ca_bundle" ]; then
        echo "sanity.sh: CA bundle '$ca_bundle' is not readable" >&2
        exit 2
    fi
    mkdir -p "$cache"
    cat >"$script.tmp" <<EOF
$marker
# Stand-in for get-pip.py: ansible-test runs it in each new sanity venv as
#   python get_pip_X.py [--pip-options] pip==X [--no-setuptools] [--no-wheel]
import subprocess
import sys

CA_BUNDLE = $(python -c 'import sys; print(repr(sys.argv[1]))' "$ca_bundle")


def main():
    args = sys.argv[1:]
    packages = [a for a in args if not a.startswith('-')]
    options = [a for a in args if a.startswith('-') and a not in ('--no-setuptools', '--no-wheel')]
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade'])
    if '--no-setuptools' in args:
        subprocess.call([sys.executable, '-m', 'pip', 'uninstall', '--quiet', '--yes', 'setuptools'])
    subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--quiet', '--cert', CA_BUNDLE] + options + packages)


if __name__ == '__main__':
    main()
EOF
    mv "$script.tmp" "$script"
}

if [ "$ca_bundle" != none ] && [ -n "$ca_bundle" ]; then
    write_pip_bootstrap
fi

dest=$(sysvirt_copy "$REPO/.build/sanity")
cd "$dest"
echo "sanity.sh: ansible-test sanity --local in $dest" >&2
exec ansible-test sanity --local --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
    --color no ${args[@]+"${args[@]}"}
