#!/usr/bin/env bash
# scripts/test.sh - THE test command of sysvirt.libvirt (what CI runs).
#
# Usage:
#   bash scripts/test.sh                      # set up, then every stage
#   bash scripts/test.sh --quick              # unit tests only (no testbed.sh)
#   bash scripts/test.sh --only unit,sanity   # chosen stages, in the usual order
#   bash scripts/test.sh --skip integration   # every stage but these
#   bash scripts/test.sh --no-testbed         # don't run scripts/testbed.sh
#   bash scripts/test.sh --list               # list the stages
#
# Set-up: scripts/testbed.sh (system packages, libvirtd; idempotent) and
# scripts/venv.sh (the venv; cheap when nothing changed).
#
# Stages, in order:
#   unit         pytest tests/unit          (test driver, fast; must collect tests)
#   functional   pytest tests/functional    (against qemu:///system; an empty or
#                                            missing directory is reported as
#                                            "empty", neither pass nor failure)
#   reliability  pytest tests/reliability   (bad input, secrets at -vvvv, read-only,
#                                            faults on a private libvirtd, two racing
#                                            plays, 100 guests at 20 forks; ~7 min)
#   build        scripts/build-check.sh     (galaxy build + install + ansible-doc)
#   sanity       scripts/sanity.sh          (ansible-test sanity --local)
#   lint         scripts/lint.sh            (ansible-lint --profile production on roles/,
#                                            demo/ and the docs' example playbooks)
#   matrix-<v>   scripts/matrix.sh <v>      (the version matrix: unit tests and
#                                            sanity on ansible-core <v> in a venv of
#                                            its own, one stage per row of
#                                            tests/matrix/; 2-6 min each)
#   integration  scripts/integration.sh     (ansible-test integration --local;
#                                            "empty" when there are no targets)
#   molecule     scripts/molecule.sh        (molecule test of roles/*/molecule/default
#                                            against qemu:///system; 3-6 min)
#   docs         scripts/docs.sh            (antsibull-docs + Sphinx site, -W, checked
#                                            in headless chromium; ~1-2 min)
#   demo         scripts/demo-check.sh      (the README's demo, on the test driver and
#                                            on qemu:///system; ~30 s)
#
# Every selected stage runs even when an earlier one failed; the summary at the
# end gives each stage's result and time, then one line
#   N passed, N failed[, N skipped]
# counting stages (the set-up counts as one; "skipped" = empty stages).
# Exit status: 0 only when no stage failed and at least one stage ran tests.
# pytest's exit status 5 (no tests collected) is a failure for unit.
#
# Environment (exported to every stage; override if you must):
#   SYSVIRT_REQUIRE_LIBVIRTD=1  tests that need libvirtd fail instead of skip
#   SYSVIRT_VENV                venv location (default <repo>/.venv)
#   SYSVIRT_CA_BUNDLE           CA bundle for ansible-test's pip bootstrap
#                               (see scripts/sanity.sh)
#   SYSVIRT_TEST_BUDGET         seconds the whole run may take (default 5100,
#                               under CI's 90 minutes); each stage is stopped
#                               when it would overrun and counts as failed
# Logs: .build/test-logs/<stage>.log; pytest JUnit XML: .build/test-logs/*.xml
set -uo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

# the version matrix: one stage per row of tests/matrix/ (the main venv is the remaining row)
matrix_stages=()
while read -r series _; do
    [ -n "$series" ] && matrix_stages+=("matrix-$series")
done < <(bash "$REPO/scripts/matrix.sh" --list)
all_stages=(unit functional reliability build sanity lint "${matrix_stages[@]}" integration molecule docs demo)
# per-stage ceilings in seconds (the overall budget may cut them shorter)
declare -A stage_cap=([unit]=900 [functional]=2700 [reliability]=1200 [build]=600 [sanity]=1800 [lint]=600 [integration]=2700 [molecule]=900 [docs]=600 [demo]=600)
for s in "${matrix_stages[@]}"; do stage_cap[$s]=1200; done

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

selected=("${all_stages[@]}")
skip=()
run_testbed=1
while [ $# -gt 0 ]; do
    case $1 in
        --quick) selected=(unit); run_testbed=0 ;;
        --only) IFS=, read -r -a selected <<<"${2:?--only needs a list}"; shift ;;
        --only=*) IFS=, read -r -a selected <<<"${1#*=}" ;;
        --skip) IFS=, read -r -a skip <<<"${2:?--skip needs a list}"; shift ;;
        --skip=*) IFS=, read -r -a skip <<<"${1#*=}" ;;
        --no-testbed) run_testbed=0 ;;
        --list) printf '%s\n' "${all_stages[@]}"; exit 0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "test.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
for s in "${selected[@]}" "${skip[@]}"; do
    case " ${all_stages[*]} " in
        *" $s "*) ;;
        *) echo "test.sh: unknown stage '$s' (stages: ${all_stages[*]})" >&2; exit 2 ;;
    esac
done
stages=()
for s in "${all_stages[@]}"; do
    case " ${selected[*]} " in *" $s "*) ;; *) continue ;; esac
    case " ${skip[*]} " in *" $s "*) continue ;; esac
    stages+=("$s")
done

export SYSVIRT_REQUIRE_LIBVIRTD=${SYSVIRT_REQUIRE_LIBVIRTD:-1}
export PYTHONDONTWRITEBYTECODE=1
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
budget=${SYSVIRT_TEST_BUDGET:-5100}
start=$SECONDS
logs=$REPO/.build/test-logs
mkdir -p "$logs"
cd "$REPO" || exit 1

names=() results=() times=() notes=()
record() { names+=("$1"); results+=("$2"); times+=("$3"); notes+=("${4:-}"); }
banner() { printf '\n======== %s ========\n' "$*"; }

# run_logged NAME TIMEOUT CMD...: run CMD with a time limit, output to
# $logs/NAME.log, followed on the console; returns CMD's status (124 on
# time-out). No pipe: a daemon that CMD leaves running (testbed.sh starts
# libvirtd) could hold a pipe open and stall the run.
run_logged() {
    local name=$1 limit=$2 pid rc
    shift 2
    : >"$logs/$name.log"
    timeout --kill-after=30 "$limit" "$@" </dev/null >"$logs/$name.log" 2>&1 &
    pid=$!
    # background jobs ignore SIGINT here: pass an interrupt on to the stage
    trap 'kill -TERM "$pid" 2>/dev/null; exit 130' INT TERM
    tail -n +1 -f --pid="$pid" "$logs/$name.log"
    wait "$pid"
    rc=$?
    trap - INT TERM
    return "$rc"
}

# seconds a stage may still take: its ceiling, cut to what the budget leaves
stage_limit() {
    local left=$((budget - (SECONDS - start) - 60))
    local cap=${stage_cap[$1]:-1800}
    [ "$left" -lt "$cap" ] && cap=$left
    echo "$cap"
}

# ---------------------------------------------------------------- set-up
banner "setup"
t0=$SECONDS
setup_ok=1 setup_note=()
if [ "$run_testbed" = 1 ]; then
    if [ -f "$REPO/scripts/testbed.sh" ]; then
        if ! run_logged testbed 1200 bash "$REPO/scripts/testbed.sh"; then
            setup_ok=0 setup_note+=("testbed.sh failed")
        fi
    else
        echo "test.sh: scripts/testbed.sh does not exist yet; not setting up system packages/libvirtd" >&2
        setup_note+=("no testbed.sh")
    fi
fi
if exports=$(bash "$REPO/scripts/venv.sh" 2> >(tee "$logs/venv.log" >&2)); then
    eval "$exports"
    export PATH="$SYSVIRT_VENV/bin:$PATH"
    export PYTHONPATH="$ANSIBLE_COLLECTIONS_PATH${PYTHONPATH:+:$PYTHONPATH}"
    venv_ok=1
else
    setup_ok=0 venv_ok=0 setup_note+=("venv.sh failed")
fi
if [ "$venv_ok" = 1 ] && [ "$SYSVIRT_REQUIRE_LIBVIRTD" = 1 ]; then
    case " ${stages[*]} " in
        *" functional "*|*" reliability "*|*" integration "*|*" molecule "*|*" demo "*)
            if python -c 'import libvirt; libvirt.registerErrorHandler(lambda *a: None, None); libvirt.open("qemu:///system").close()'; then
                echo "test.sh: libvirtd answers at qemu:///system"
            else
                setup_ok=0 setup_note+=("libvirtd does not answer at qemu:///system")
            fi
            ;;
    esac
fi
if [ "$setup_ok" = 1 ]; then
    record setup passed $((SECONDS - t0)) "${setup_note[*]:-}"
else
    record setup FAILED $((SECONDS - t0)) "${setup_note[*]}"
fi

# Objects a crashed earlier run left on the daemon would make this run's tests fail: clear them first, and
# say so. (Each test removes what it makes; the same check after the stages fails the run on a leak.)
needs_daemon=0
case " ${stages[*]} " in *" functional "*|*" reliability "*|*" integration "*|*" molecule "*|*" demo "*) needs_daemon=1 ;; esac
if [ "$venv_ok" = 1 ] && [ "$needs_daemon" = 1 ]; then
    rm -f "$logs/unnamed-objects.json"
    python "$REPO/tests/utils/leftovers.py" --remove --save-baseline "$logs/unnamed-objects.json" || true
    # A test fleet (scripts/fleet.sh) a crashed earlier run left up.
    bash "$REPO/scripts/fleet.sh" down || true
fi

# ---------------------------------------------------------------- stages
ran_tests=0
pytest_stage() {
    local name=$1 dir=$2 t0=$SECONDS limit rc summary
    if [ ! -d "$REPO/$dir" ] || [ -z "$(find "$REPO/$dir" -name 'test_*.py' -o -name '*_test.py' | head -n1)" ]; then
        if [ "$name" = unit ]; then
            record "$name" FAILED 0 "no test files in $dir"
        else
            record "$name" empty 0 "no test files in $dir"
        fi
        return
    fi
    limit=$(stage_limit "$name")
    run_logged "$name" "$limit" python -m pytest "$dir" -p no:cacheprovider --color=no \
        --junitxml="$logs/$name.xml" -o junit_family=xunit2
    rc=$?
    summary=$(grep -E '^=+ .*(passed|failed|error|no tests ran|skipped).* in [0-9.]+s' "$logs/$name.log" | tail -n1 | sed -E 's/^=+ //; s/ =+$//')
    case $rc in
        0) record "$name" passed $((SECONDS - t0)) "$summary"; ran_tests=1 ;;
        5) if [ "$name" = unit ]; then
               record "$name" FAILED $((SECONDS - t0)) "no tests collected"
           else
               record "$name" empty $((SECONDS - t0)) "no tests collected"
           fi ;;
        124|137) record "$name" FAILED $((SECONDS - t0)) "timed out after ${limit}s; $summary" ;;
        *) record "$name" FAILED $((SECONDS - t0)) "pytest exit $rc; $summary" ;;
    esac
}

script_stage() {
    local name=$1 script=$2 t0=$SECONDS limit rc
    limit=$(stage_limit "$name")
    run_logged "$name" "$limit" bash "$REPO/scripts/$script"
    rc=$?
    case $rc in
        0) record "$name" passed $((SECONDS - t0)); ran_tests=1 ;;
        124|137) record "$name" FAILED $((SECONDS - t0)) "timed out after ${limit}s" ;;
        *) record "$name" FAILED $((SECONDS - t0)) "exit $rc, see .build/test-logs/$name.log" ;;
    esac
}

# matrix-<v>: scripts/matrix.sh <v>; the note is its summary line (unit and sanity results and times)
matrix_stage() {
    local name=$1 t0=$SECONDS limit rc note
    limit=$(stage_limit "$name")
    run_logged "$name" "$limit" bash "$REPO/scripts/matrix.sh" "${name#matrix-}"
    rc=$?
    note=$(grep -E '^ansible-core [0-9.]+: ' "$logs/$name.log" | tail -n1 | sed -E 's/^ansible-core [0-9.]+: //')
    case $rc in
        0) record "$name" passed $((SECONDS - t0)) "$note"; ran_tests=1 ;;
        124|137) record "$name" FAILED $((SECONDS - t0)) "timed out after ${limit}s" ;;
        *) record "$name" FAILED $((SECONDS - t0)) "${note:-exit $rc}, see .build/test-logs/$name.log" ;;
    esac
}

for stage in "${stages[@]}"; do
    banner "$stage"
    if [ "$venv_ok" != 1 ]; then
        record "$stage" FAILED 0 "no venv"
        continue
    fi
    if [ "$(stage_limit "$stage")" -le 0 ]; then
        record "$stage" FAILED 0 "not run: the ${budget}s budget is spent"
        continue
    fi
    case $stage in
        unit) pytest_stage unit tests/unit ;;
        functional) pytest_stage functional tests/functional ;;
        reliability) pytest_stage reliability tests/reliability ;;
        build) script_stage build build-check.sh ;;
        sanity) script_stage sanity sanity.sh ;;
        lint) script_stage lint lint.sh ;;
        matrix-*) matrix_stage "$stage" ;;
        integration)
            if compgen -G "$REPO/tests/integration/targets/*/aliases" >/dev/null; then
                script_stage integration integration.sh
            else
                record integration empty 0 "no targets in tests/integration/targets"
            fi ;;
        molecule) script_stage molecule molecule.sh ;;
        docs) script_stage docs docs.sh ;;
        demo) script_stage demo demo-check.sh ;;
    esac
done

# ---------------------------------------------------------------- leftovers
# Every test removes what it made, even when it fails: anything named sysvirt-test-* / sysvirt-demo-* still on
# the daemon now is a leak, reported (and removed) here, and it fails the run; so is a secret or filter binding
# (nameless objects) that was not there when the run began (reported, not removed).
if [ "$venv_ok" = 1 ] && [ "$needs_daemon" = 1 ]; then
    banner leftovers
    t0=$SECONDS
    baseline=()
    [ -f "$logs/unnamed-objects.json" ] && baseline=(--baseline "$logs/unnamed-objects.json")
    # The fleet fixture takes the test fleet down at the end of its session: a namespace still there is a leak.
    if ip netns list 2>/dev/null | grep -q '^sysvirt-test-fleet-'; then
        bash "$REPO/scripts/fleet.sh" down || true
        record fleet-leftovers FAILED 0 "the test fleet (scripts/fleet.sh) was left up"
    fi
    if leftover_report=$(python "$REPO/tests/utils/leftovers.py" --remove --fail-if-any "${baseline[@]}" 2>&1); then
        if [ ${#baseline[@]} -eq 0 ]; then
            # The start of the run could not list them: a leaked secret or binding would go unseen.
            record leftovers FAILED $((SECONDS - t0)) "no list of the secrets and filter bindings from the run's start"
        else
            record leftovers passed $((SECONDS - t0)) "nothing left on qemu:///system"
        fi
    else
        echo "$leftover_report"
        record leftovers FAILED $((SECONDS - t0)) "$(echo "$leftover_report" | grep -c '^leftover') objects left behind"
    fi
fi

# ---------------------------------------------------------------- summary
passed=0 failed=0 skipped=0
banner "summary ($((SECONDS - start))s)"
for i in "${!names[@]}"; do
    printf '%-12s %-7s %5ss  %s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}" "${notes[$i]}"
    case ${results[$i]} in
        passed) passed=$((passed + 1)) ;;
        empty) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
done
if [ "$ran_tests" = 0 ] && [ "$failed" = 0 ]; then
    echo "no stage ran any test"
    failed=1
fi
echo
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
