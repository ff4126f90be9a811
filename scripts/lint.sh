#!/usr/bin/env bash
# scripts/lint.sh - ansible-lint at the `production` profile on the roles, the demo and the documentation's
# example playbooks.
#
# Usage:
#   bash scripts/lint.sh              # everything below
#   bash scripts/lint.sh -v           # extra arguments go to ansible-lint
#
# What is linted (configuration: .ansible-lint at the top of the repo; profile production, no rule skipped):
#   - roles/ (tasks, defaults, meta, the molecule scenarios' playbooks) and demo/;
#   - every ```yaml block of README.md, docs/**/*.md and roles/*/README.md that is a playbook or a task list,
#     written to .build/doc-examples/{playbooks,task-lists}/ by tests/utils/snippets.py (file names say which
#     Markdown file and line each came from). Inventory configurations and variable files are not playbooks;
#     the modules' EXAMPLES are checked by tests/unit/test_examples.py instead.
# Only this work tree's collection is visible: ansible-lint runs with an empty HOME below .build/, so
# collections installed in ~/.ansible/collections are never picked up.
# Exit status: ansible-lint's (0 when clean).
set -euo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

sysvirt_env
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 NO_COLOR=1

examples=$REPO/.build/doc-examples
rm -rf "$examples"
python "$REPO/tests/utils/snippets.py" "$examples" >/dev/null
count=$(find "$examples" -name '*.yml' | wc -l)
if [ "$count" -eq 0 ]; then
    echo "lint.sh: no example playbook found in README.md, docs/ or roles/*/README.md" >&2
    exit 1
fi
echo "lint.sh: $count example playbooks and task lists from the documentation, in $examples"

home=$REPO/.build/lint-home
rm -rf "$home"
mkdir -p "$home"
cd "$REPO"
HOME=$home ansible-lint --nocolor "$@" roles demo .build/doc-examples
