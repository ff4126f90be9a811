#!/usr/bin/env bash
# scripts/mutation.sh - mutation testing of the lifecycle code with mutmut, driven by the unit tests that cover it.
#
# Usage:
#   bash scripts/mutation.sh            # mutate, run, print the summary and the surviving mutants
#   bash scripts/mutation.sh --show M   # the diff of one mutant (a name from the list)
#
# mutmut (pinned in requirements-test.txt / constraints.txt) mutates every function of MUTATE below, one change at
# a time, and runs only the unit tests (TESTS) that call the function; a mutant no test fails "survived". The
# work happens in a copy, .build/mutation/, laid out as ansible_collections/sysvirt/libvirt/... so that the module
# names mutmut derives from file paths are the names the tests import (mutmut's mutants/ directory is reached
# through the same .build/collections symlink the tests use). The work tree itself is never changed.
# docs/testing.md gives the score and says why each remaining survivor does not matter.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
sysvirt_env

#: The code under test, paths inside the collection.
MUTATE=(plugins/module_utils/_resource.py plugins/module_utils/_xml.py plugins/module_utils/_xml_compare.py
        plugins/module_utils/_domain_spec.py)
#: The unit tests that drive it: the reconcile and XML layers' own, and the modules' whose lifecycle goes through
#: _resource (in-process, on the test:///default driver).
TESTS=(
    tests/unit/plugins/module_utils/test_resource.py
    tests/unit/plugins/module_utils/test_lifecycle_plan.py
    tests/unit/plugins/module_utils/test_xml.py
    tests/unit/plugins/module_utils/test_xml_details.py
    tests/unit/plugins/module_utils/test_domain_compare.py
    tests/unit/plugins/module_utils/test_surviving_mutants.py
    tests/unit/plugins/modules/test_lifecycle_truth.py
    tests/unit/plugins/modules/test_storage_pool.py
    tests/unit/plugins/modules/test_volume.py
    tests/unit/plugins/modules/test_secret_module.py
    tests/unit/plugins/modules/test_network.py
    tests/unit/plugins/modules/test_domain.py
    tests/unit/plugins/module_utils/test_domain_spec.py
)

STAGE=$REPO/.build/mutation
COLL=ansible_collections/sysvirt/libvirt

# The whole script is one function, so bash has read all of it before it starts (an edit during a run is safe).
main() {
    if [ "${1:-}" = --show ]; then
        cd "$STAGE" && exec mutmut show "$2"
    fi

    command -v mutmut >/dev/null || { echo "mutation.sh: mutmut is not in $VENV (bash scripts/venv.sh installs it)" >&2; exit 1; }

    rm -rf "$STAGE"
    mkdir -p "$STAGE/$COLL" "$STAGE/mutants/.build/collections/ansible_collections/sysvirt"
    (
        cd "$REPO"
        git ls-files -z --cached --others --exclude-standard -- plugins tests meta galaxy.yml |
            while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
            tar --null --no-recursion -T - -cf - | tar -xf - -C "$STAGE/$COLL"
    )
    mv "$STAGE/$COLL/tests" "$STAGE/tests"
    # tests/conftest.py imports the collection through <its repo>/.build/collections; in mutmut's copy that repo is
    # mutants/, so the link leads to the mutated files.
    ln -s ../../../../$COLL "$STAGE/mutants/.build/collections/ansible_collections/sysvirt/libvirt"

    {
        echo '[mutmut]'
        echo "source_paths = $COLL/plugins"
        printf 'only_mutate =\n'
        for f in "${MUTATE[@]}"; do printf '    %s/%s\n' "$COLL" "$f"; done
        printf 'pytest_add_cli_args_test_selection =\n'
        for f in "${TESTS[@]}"; do printf '    %s\n' "$f"; done
        printf 'pytest_add_cli_args =\n    -p\n    no:cacheprovider\n    -q\n'
    } > "$STAGE/setup.cfg"

    cd "$STAGE"
    # Only the copy's import path: never the work tree's collection.
    unset PYTHONPATH
    start=$(date +%s)
    mutmut run --max-children "${SYSVIRT_MUTATION_JOBS:-2}" >"$STAGE/run.log" 2>&1 || {
        tail -30 "$STAGE/run.log" >&2
        echo "mutation.sh: mutmut run failed (log: $STAGE/run.log)" >&2
        exit 1
    }
    seconds=$(( $(date +%s) - start ))
    mutmut results --all true >"$STAGE/results.txt" 2>&1 || true
    python3 - "$STAGE/results.txt" "$seconds" <<'EOF'
import collections, sys
counts = collections.Counter()
survivors = []
for line in open(sys.argv[1]):
    name, _, status = line.strip().rpartition(': ')
    if not name:
        continue
    counts[status] += 1
    if status == 'survived':
        survivors.append(name)
total = sum(counts.values())
killed = counts['killed'] + counts['timeout']
print('mutation: %d of %d mutants killed (%s), %s seconds'
      % (killed, total, ', '.join('%s %d' % kv for kv in sorted(counts.items())), sys.argv[2]))
for name in survivors:
    print('survived: %s' % name)
EOF
}

main "$@"
