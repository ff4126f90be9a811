#!/usr/bin/env bash
# scripts/matrix.sh - the unit tests and ansible-test sanity on the other
# ansible-core versions the collection supports (the version matrix).
#
# Usage:
#   bash scripts/matrix.sh              # every row
#   bash scripts/matrix.sh 2.20         # one row (ansible-core series)
#   bash scripts/matrix.sh --list       # the rows: series, Python, requirements file
#
# Rows: one file per row, tests/matrix/ansible-core-<series>-py<python>.txt,
# holding the requirements of that row's venv (ansible-core pinned exactly;
# everything else pinned by constraints.txt). The main venv (requirements-test.txt,
# used by every other stage of scripts/test.sh) is the remaining row and has no
# file here.
#
# For each row:
#   1. make or refresh the venv .build/matrix/ansible-core-<series>/venv with
#      scripts/venv.sh (SYSVIRT_VENV, SYSVIRT_PYTHON_VERSION=<python>,
#      SYSVIRT_REQUIREMENTS), which finds Python <python> (python<python> on
#      PATH if it runs, else pyenv's); a row whose Python is missing fails (it
#      is not skipped);
#   2. pytest tests/unit (JUnit XML in .build/matrix/ansible-core-<series>/unit.xml);
#   3. scripts/sanity.sh in that venv (ansible-test sanity --local --python <python>).
# Every row and step runs even after a failure; the last lines give each
# row's results and times. Exit status: 0 only if every step passed.
set -uo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

# rows as "series python file"
rows=()
for f in "$REPO"/tests/matrix/ansible-core-*-py*.txt; do
    [ -e "$f" ] || continue
    name=${f##*/ansible-core-}
    name=${name%.txt}
    rows+=("${name%%-py*} ${name##*-py} ${f#"$REPO"/}")
done

wanted=()
while [ $# -gt 0 ]; do
    case $1 in
        --list) printf '%s\n' "${rows[@]}"; exit 0 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "matrix.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) wanted+=("$1") ;;
    esac
    shift
done
selected=()
for w in "${wanted[@]}"; do
    found=0
    for r in "${rows[@]}"; do [ "${r%% *}" = "$w" ] && found=1 && break; done
    if [ "$found" = 0 ]; then
        echo "matrix.sh: no row for ansible-core $w (rows: $(printf '%s ' "${rows[@]%% *}"))" >&2
        exit 2
    fi
done
for r in "${rows[@]}"; do
    if [ ${#wanted[@]} -eq 0 ] || [[ " ${wanted[*]} " == *" ${r%% *} "* ]]; then
        selected+=("$r")
    fi
done
if [ ${#selected[@]} -eq 0 ]; then
    echo "matrix.sh: no rows in tests/matrix/" >&2
    exit 2
fi

summary=()
failed=0
for r in "${selected[@]}"; do
    read -r series pyver reqs <<<"$r"
    printf '\n======== matrix: ansible-core %s, Python %s (%s) ========\n' "$series" "$pyver" "$reqs"
    out=$REPO/.build/matrix/ansible-core-$series
    t0=$SECONDS
    # venv.sh finds Python $pyver (or says how to get it) and makes the row's venv
    if ! exports=$(SYSVIRT_VENV=$out/venv SYSVIRT_PYTHON='' SYSVIRT_PYTHON_VERSION=$pyver SYSVIRT_REQUIREMENTS=$reqs \
        bash "$REPO/scripts/venv.sh"); then
        summary+=("ansible-core $series: FAILED, venv.sh could not make $out/venv with Python $pyver")
        failed=1
        continue
    fi
    venv_time=$((SECONDS - t0))
    rm -f "$out/summary"
    (
        eval "$exports"
        export SYSVIRT_PYTHON='' SYSVIRT_PYTHON_VERSION=$pyver SYSVIRT_REQUIREMENTS=$reqs
        export PATH="$SYSVIRT_VENV/bin:$PATH"
        export PYTHONPATH="$ANSIBLE_COLLECTIONS_PATH${PYTHONPATH:+:$PYTHONPATH}"
        python -c 'import ansible, sys; print("matrix.sh: ansible-core %s, Python %s" % (ansible.__version__, sys.version.split()[0]))'
        cd "$REPO" || exit 1

        t0=$SECONDS
        python -m pytest tests/unit -p no:cacheprovider --color=no \
            --junitxml="$out/unit.xml" -o junit_family=xunit2 | tee "$out/unit.log"
        unit_rc=${PIPESTATUS[0]}
        unit_time=$((SECONDS - t0))
        unit_line=$(grep -E '^=+ .* in [0-9.]+s' "$out/unit.log" | tail -n1 | sed -E 's/^=+ //; s/ =+$//')

        t0=$SECONDS
        bash "$REPO/scripts/sanity.sh"
        sanity_rc=$?
        sanity_time=$((SECONDS - t0))

        # pytest's 5 (nothing collected) is a failure here as in the unit stage
        unit_result=passed sanity_result=passed
        [ "$unit_rc" = 0 ] || unit_result="FAILED (pytest exit $unit_rc)"
        [ "$sanity_rc" = 0 ] || sanity_result="FAILED (exit $sanity_rc)"
        printf 'ansible-core %s: unit %s in %ss (%s), sanity %s in %ss\n' "$series" "$unit_result" "$unit_time" \
            "${unit_line:-no pytest summary}" "$sanity_result" "$sanity_time" >"$out/summary"
        [ "$unit_rc" = 0 ] && [ "$sanity_rc" = 0 ]
    )
    rc=$?
    line=$(cat "$out/summary" 2>/dev/null || echo "ansible-core $series: FAILED before the tests ran")
    summary+=("$line; venv ${venv_time}s")
    [ "$rc" = 0 ] || failed=1
done

printf '\n======== matrix summary ========\n'
printf '%s\n' "${summary[@]}"
exit "$failed"
