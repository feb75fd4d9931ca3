#!/usr/bin/env bash
# The whole news pipeline (the stages and sinks of pipelines/news.yaml:
# fetch > decode > clean > convert > dedupe > extract > SQLite + JSON Lines)
# on the sample site repeated to about 50 MB, beside the same
# job in a short Python script (lxml + opencc CLI), in the same run: the two
# alternate for BENCH_ROUNDS rounds (3) and the medians are compared; then
# peak memory for 1k and 20k documents (it must not grow with the count).
set -u
TOP=${TJ_TOP:-$(pwd)}
TAOJIN=${TAOJIN:-$TOP/build/taojin}
W=$(mktemp -d /tmp/tjnews.XXXXXX)
trap 'rm -rf "$W"' EXIT
. "$TOP/bench/lib.sh"

# raw size of a corpus in MB (inflated: what the pipeline processes)
corpus_mb() { python3 - "$1" <<'PY'
import gzip, os, sys
n = 0
for f in os.listdir(sys.argv[1]):
    b = open(os.path.join(sys.argv[1], f), "rb").read()
    n += len(gzip.decompress(b)) if f.endswith(".gz") else len(b)
print(f"{n / 1e6:.1f}")
PY
}

pipeline() { # pipeline CORPUS OUT: the stages and sinks of pipelines/news.yaml
    rm -f "$2" "$2.db" "$2.db-wal" "$2.db-shm"
    { printf 'name: bench-news\nbuffer: 128\nstages:\n'; news_head "$1"
      cat <<YAML
  - use: extract
  - use: export
    name: sqlite
    with: {format: sqlite, path: "$2.db", table: articles, key: url, exclude: [page]}
  - use: export
    name: jsonl
    with: {format: jsonl, path: "$2", append: true, exclude: [page]}
YAML
    } > "$W/p.yaml"
}

N=${BENCH_DOCS:-4200}
R=${BENCH_ROUNDS:-3} # alternating rounds: this host's speed drifts by the minute
make_corpus "$W/c50" "$N"
MB=$(corpus_mb "$W/c50")
echo "news pipeline on $N documents ($MB MB of HTML after gunzip), $R alternating rounds:"
pipeline "$W/c50" "$W/out.jsonl"
: > "$W/times"
for r in $(seq "$R"); do
    rm -f "$W/out.jsonl" "$W/out.jsonl.db"*
    /usr/bin/time -f "%e %M" -o "$W/t1" "$TAOJIN" run "$W/p.yaml" --quiet 2>"$W/tj.err"
    grep -v ': info: ' "$W/tj.err" >&2 # warnings and errors stay visible
    /usr/bin/time -f "%e %M" -o "$W/t2" /usr/bin/python3 "$TOP/bench/news_ref.py" "$W/ref.jsonl" "$W"/c50/* 2>"$W/ref.err"
    echo "$(cat "$W/t1") $(cat "$W/t2")" >> "$W/times"
done
python3 - "$MB" "$N" "$W/times" <<'PY'
import statistics, sys
mb, n = float(sys.argv[1]), float(sys.argv[2])
rows = [list(map(float, l.split())) for l in open(sys.argv[3]) if l.strip()]
for i, (t1, m1, t2, m2) in enumerate(rows, 1):
    print(f"  round {i}: taojin {t1:6.2f} s, python+opencc {t2:6.2f} s, ratio {t2/t1:5.1f}x")
t1 = statistics.median(r[0] for r in rows)
t2 = statistics.median(r[2] for r in rows)
m1 = max(r[1] for r in rows)
m2 = max(r[3] for r in rows)
print(f"  taojin          {t1:7.2f} s  {mb/t1:7.1f} MB/s  {n/t1:8.0f} records/s  peak {m1/1024:6.0f} MB  (median)")
print(f"  python+opencc   {t2:7.2f} s  {mb/t2:7.1f} MB/s  {n/t2:8.0f} records/s  peak {m2/1024:6.0f} MB  (median)")
print(f"  ratio           {t2/t1:7.1f} x faster (medians; target >= 20x)")
PY
echo "peak memory by document count (the live heap is bounded by the rings; the allocator settles in the first seconds):"
for n in 1000 5000 20000; do
    make_corpus "$W/m$n" "$n"
    pipeline "$W/m$n" "$W/m$n.jsonl"
    /usr/bin/time -f "%e %M" -o "$W/tm" "$TAOJIN" run "$W/p.yaml" --quiet 2>"$W/tj.err" &
    hwm="" # the peak so far, every second: a plateau, not a climb
    while sleep 1 && kill -0 $! 2>/dev/null; do
        pid=$(pgrep -n -f "$TAOJIN run $W/p.yaml") || continue
        hwm="$hwm $(awk '/VmHWM/ {printf "%d", $2 / 1024}' /proc/"$pid"/status 2>/dev/null)"
    done
    wait $!
    read -r T M < "$W/tm"
    printf "  %6d documents: %6.0f MB peak RSS, %6.2f s\n" "$n" "$(echo "$M / 1024" | bc -l)" "$T"
    [ "$n" -ge 20000 ] && echo "    peak so far, each second of that run (MB):$hwm"
    rm -rf "$W/m$n" "$W/m$n.jsonl" "$W/m$n.jsonl.db"*
done
