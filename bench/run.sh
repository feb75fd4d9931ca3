#!/usr/bin/env bash
# Runs every benchmark: bench/*.sh (host) then plugins/*/bench/*.sh.
# Benchmarks print figures (ours beside the reference tool, same run); they
# never pass or fail on a number.
set -u
cd "$(dirname "$0")/.."
export TJ_TOP=$(pwd) TJ_BUILD=$(pwd)/build TAOJIN=$(pwd)/build/taojin TJ_SHARED=$(pwd)/../shared
status=0
for b in bench/*.sh plugins/*/bench/*.sh; do
    [ -f "$b" ] || continue
    case "$b" in bench/run.sh | bench/lib.sh) continue ;; esac # not benchmarks
    echo "== $b"
    bash "$b" || { echo "benchmark $b exited $?"; status=1; }
done
exit $status
