#!/usr/bin/env bash
# scripts/demo-check.sh - the test suite's `demo` stage: the README's demo command must keep working, on the
# test driver (its default) and on the real daemon.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
bash "$here/demo.sh"
bash "$here/demo.sh" --uri qemu:///system
