#!/usr/bin/env bash
# Host benchmarks: ring hand-off and a 6-stage no-op pipeline.
set -u
B=$(cd "${TJ_BUILD:-build}" && pwd)
"$B/bench/ring_bench"
FX="$B/tests/fixtures"
N=${BENCH_RECORDS:-5000000}
cat > /tmp/tj_bench_noop.yaml <<YAML
name: noop6
plugin_dirs: [$FX]
buffer: 4096
stages:
  - use: gen
    with: {count: $N, size: 0}
  - {use: xform, name: x1}
  - {use: xform, name: x2}
  - {use: xform, name: x3}
  - {use: xform, name: x4}
  - use: "null"
YAML
echo "6-stage no-op pipeline (gen > 4 x pass-through > null; target >= 5 M records/s):"
start=$(date +%s%N)
"$TAOJIN" run /tmp/tj_bench_noop.yaml --quiet --stats-json /tmp/tj_bench_noop.json
end=$(date +%s%N)
python3 - "$N" "$start" "$end" <<'PY'
import sys
n, s, e = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
secs = (e - s) / 1e9
print(f"  {n} records in {secs:.2f} s: {n/secs/1e6:.2f} M records/s, {secs*1e9/n:.0f} ns/record end to end")
PY
rm -f /tmp/tj_bench_noop.yaml /tmp/tj_bench_noop.json
