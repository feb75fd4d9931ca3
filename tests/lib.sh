# Shell test helpers: source it, call the assertions, end with `finish`.
# Every assertion prints one TAP line.  $TAOJIN is the binary under test,
# $TJ_BUILD its build tree, $TJ_SHARED the shared/ folder, $TMP a scratch dir
# removed at exit.
set -u
: "${TJ_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${TJ_BUILD:=$TJ_TOP/build}"
: "${TAOJIN:=$TJ_BUILD/taojin}"
: "${TJ_SHARED:=$TJ_TOP/../shared}"
TMP=$(mktemp -d /tmp/tjtest.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
_n=0; _failed=0

ok()     { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }

# assert_eq EXPECTED ACTUAL DESCRIPTION
assert_eq() {
    if [ "$1" == "$2" ]; then ok "$3"; else
        not_ok "$3"; printf '#   expected: %s\n#   actual:   %s\n' "$1" "$2"; fi
}
# assert_contains HAYSTACK NEEDLE DESCRIPTION
assert_contains() {
    case "$1" in *"$2"*) ok "$3" ;; *)
        not_ok "$3"; printf '#   missing: %s\n#   in: %s\n' "$2" "$(printf '%s' "$1" | head -c 600)" ;; esac
}
# assert_not_contains HAYSTACK NEEDLE DESCRIPTION
assert_not_contains() {
    case "$1" in *"$2"*) not_ok "$3"; printf '#   unexpected: %s\n' "$2" ;; *) ok "$3" ;; esac
}
# run_tj ARGS...: runs taojin, sets $out (stdout+stderr) and $rc.
run_tj() { out=$("$TAOJIN" "$@" 2>&1); rc=$?; }
finish() { [ "$_failed" -eq 0 ]; exit $?; }
