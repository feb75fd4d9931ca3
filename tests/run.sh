#!/usr/bin/env bash
# Runs every test program and shell test against one or more build trees
# and prints one closing line: "N passed, N failed".
#
#   tests/run.sh BUILD [BUILD...]
#
# Each test prints TAP lines ("ok ..." / "not ok ..."); a program that exits
# non-zero without reporting a failure counts as one failure.  A build tree
# named *asan* runs with the sanitizers' options set and TJ_SANITIZED=1, which
# shell tests may use to skip long loops (never assertions).
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
pass=0; fail=0; failed_names=(); failed_lines=()
export TJ_TOP="$TOP"
export TJ_SHARED="$TOP/../shared"

run_one() { # build name cmd...
    local build=$1 name=$2; shift 2
    local out rc p f
    out=$(mktemp)
    "$@" >"$out" 2>&1 </dev/null
    rc=$?
    p=$(grep -cE '^ok( |$)' "$out")
    f=$(grep -cE '^not ok( |$)' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited $rc" >> "$out"; fi
    if [ "$f" -gt 0 ] || [ "${TJ_VERBOSE:-0}" = 1 ]; then
        sed "s|^|  [$build] $name: |" "$out" | grep -vE '^\s*\[.*\]: ok( |$)' | tail -n 60
    fi
    echo "[$build] $name: $p passed, $f failed"
    pass=$((pass + p)); fail=$((fail + f))
    if [ "$f" -gt 0 ]; then
        failed_names+=("[$build] $name")
        # Kept for the closing lines: CI shows only the end of the output.
        failed_lines+=("$(grep -E -A2 '^not ok( |$)' "$out" | grep -v '^--$' | head -n 18 | sed "s|^|  [$build] $name: |")")
    fi
    rm -f "$out"
}

for build in "$@"; do
    export TJ_BUILD="$TOP/$build" TAOJIN="$TOP/$build/taojin"
    export TAOJIN_PLUGIN_PATH=""
    unset TJ_SANITIZED
    case "$build" in
        *asan*) export TJ_SANITIZED=1
                export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
                export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87
                export LSAN_OPTIONS=suppressions=$TOP/tests/lsan.supp:print_suppressions=0 ;;
    esac
    export CMOCKA_MESSAGE_OUTPUT=TAP
    for t in "$build"/tests/unit/test_* "$build"/ptests/*/tests/test_*; do
        [ -x "$t" ] || continue
        run_one "$build" "${t#$build/}" "$t"
    done
    for t in tests/pipeline/*.sh plugins/*/tests/*.sh; do
        [ -f "$t" ] || continue
        run_one "$build" "$t" bash "$t"
    done
done
if [ ${#failed_names[@]} -gt 0 ]; then
    echo "failing: ${failed_names[*]}"
    printf '%s\n' "${failed_lines[@]}" | grep -v '^$'
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
