#!/usr/bin/env bash
# The command line: exit codes, validate, stages, exec, --set, --stats-json,
# and signals against a real taojin process.
source "$TJ_TOP/tests/lib.sh"
FX="$TJ_BUILD/tests/fixtures"

pipe() { # pipe NAME BODY: writes $TMP/NAME.yaml
    printf 'name: %s\nplugin_dirs: [%s]\n%s' "$1" "$FX" "$2" > "$TMP/$1.yaml"
}

pipe ok 'stages:
  - use: gen
    with: {count: 100}
  - use: collect
    with:
      path: ${OUT_DIR}/ok.txt
'
OUT_DIR=$TMP run_tj run "$TMP/ok.yaml" --no-progress --stats-json "$TMP/stats.json"
assert_eq 0 "$rc" "a clean run exits 0"
assert_eq 100 "$(wc -l < "$TMP/ok.txt")" "every record reaches the sink"
assert_contains "$(cat "$TMP/stats.json")" '"name":"gen","stage":"gen","workers":1,"in":0,"out":100' "stats json has the source's counters"
assert_contains "$out" "pipeline 'ok' completed in" "summary names the pipeline"

run_tj run "$TMP/ok.yaml"
assert_eq 2 "$rc" "an unset variable is a configuration error (exit 2)"
assert_contains "$out" "ok.yaml:8:13: variable 'OUT_DIR' is not set" "and names the variable and its place"

pipe partial 'stages:
  - use: gen
    with: {count: 20}
  - use: xform
    with: {fail_every: 10}
  - use: collect
    with: {path: /dev/null}
'
run_tj run "$TMP/partial.yaml" --no-progress
assert_eq 3 "$rc" "some records failed: exit 3"
assert_contains "$out" "taojin: warn: xform: record 9 is unlucky" "a failed record is logged with its stage"

pipe broken 'stages:
  - use: gen
    with: {count: 20, fail_at: 5}
  - use: collect
    with: {path: /dev/null}
'
run_tj run "$TMP/broken.yaml" --no-progress
assert_eq 1 "$rc" "a fatal stage error: exit 1"
assert_contains "$out" "run failed: stage 'gen': generator broke at record 5" "the fatal error is reported"

OUT_DIR=$TMP run_tj run "$TMP/ok.yaml" --set gen.count=7 --set collect.path="$TMP/set.txt" --no-progress
assert_eq 0 "$rc" "--set overrides options"
assert_eq 7 "$(wc -l < "$TMP/set.txt")" "--set gen.count=7 took effect"
OUT_DIR=$TMP run_tj run "$TMP/ok.yaml" --set gen.cuont=7
assert_contains "$out" "--set:1:1: stage 'gen': unknown option 'cuont' (did you mean 'count'?)" "--set of an unknown option names it"

printf '' > "$TMP/empty.yaml"
run_tj run "$TMP/empty.yaml"
assert_eq 2 "$rc" "an empty pipeline file is a configuration error"
assert_contains "$out" "empty.yaml: empty pipeline file" "and says so"
run_tj run "$TMP/nope.yaml"
assert_contains "$out" "nope.yaml: cannot open: No such file or directory" "a missing file is named"
run_tj frobnicate
assert_eq 2 "$rc" "an unknown command is a usage error"

run_tj validate "$TMP/partial.yaml" "$TMP/empty.yaml"
assert_eq 2 "$rc" "validate fails when any file is bad"
assert_contains "$out" "partial.yaml: ok (pipeline 'partial', 3 stages)" "validate reports good files"

export TAOJIN_PLUGIN_PATH="$FX"
run_tj stages --json
assert_contains "$out" '{"name":"count","type":"int","required":false,"default":"10","allowed":null,"description":"records to emit"}' "stages --json lists options"
"$TAOJIN" stages --json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert any(s["name"]=="collect" for s in d["stages"])'
assert_eq 0 $? "stages --json is valid JSON with a stages array"
run_tj stages collect
assert_contains "$out" "path               string    (required)     output file" "stages NAME prints the option table"
run_tj stages no_entry
assert_contains "$out" "no_entry.so: no entry symbol 'taojin_stage_entry'" "stages NAME on a broken plugin names the file and problem"

out=$(printf 'hello' | "$TAOJIN" exec xform 2>&1); rc=$?
assert_eq "0:hello" "$rc:$out" "exec passes stdin through a stage as one body"
out=$(printf '{"n":9,"body":"a"}\n{"n":3,"body":"b"}\nnot json\n' | "$TAOJIN" exec xform fail_every=10 --jsonl 2>"$TMP/err"); rc=$?
assert_eq '{"n":3,"body":"b"}' "$(printf '%s' "$out" | head -1)" "exec --jsonl: one JSON record per line, options applied"
assert_eq 3 "$rc" "exec exits 3 when records failed"
assert_contains "$(cat "$TMP/err")" "stdin:3: not a JSON object" "a bad JSON line is named by line number"
out=$(printf 'x' | "$TAOJIN" exec xform tag=maybe 2>&1); rc=$?
assert_eq 2 "$rc" "exec with a bad option value is a usage error"
assert_contains "$out" "option 'tag': expected true or false (got 'maybe')" "and names the option"
unset TAOJIN_PLUGIN_PATH

# SIGTERM: sources stop, in-flight records drain, exit 0 with no loss
pipe slow 'buffer: 16
stages:
  - use: gen
    with: {count: 100000, delay: 2ms, ack_file: ACKS}
  - use: xform
    with: {sleep: 1ms}
  - use: collect
    with: {path: OUT, hold: true}
'
sed -i "s|ACKS|$TMP/acks|; s|OUT|$TMP/slow.txt|" "$TMP/slow.yaml"
"$TAOJIN" run "$TMP/slow.yaml" --no-progress 2>"$TMP/slow.err" &
pid=$!
sleep 0.5
kill -TERM $pid
wait $pid; rc=$?
assert_eq 0 "$rc" "SIGTERM drains and exits 0"
read -r _ d _ dr _ f < "$TMP/acks"
assert_eq "0 0" "$dr $f" "no record was dropped or failed by the stop"
assert_eq "$d" "$(wc -l < "$TMP/slow.txt")" "every emitted record reached the sink ($d)"
assert_contains "$(cat "$TMP/slow.err")" "SIGTERM: stopping" "the stop is logged"

# each stage's thread carries its instance's name (top -H, ps -L, perf),
# a long one cut to Linux's 15 bytes with the worker number kept
pipe names 'stages:
  - use: gen
    with: {count: 100000, delay: 2ms}
  - use: xform
    name: a-rather-long-stage-name
    workers: 2
  - use: "null"
'
"$TAOJIN" run "$TMP/names.yaml" --no-progress 2>/dev/null &
pid=$!
sleep 0.5
names=$(cat /proc/$pid/task/*/comm 2>/dev/null | sort | tr '\n' ' ')
kill -TERM $pid; wait $pid
assert_eq "a-rather-long#0 a-rather-long#1 gen null taojin " "$names" "threads are named after their stage instances"

# a second signal aborts quickly even when a stage is slow
sed -i "s|sleep: 1ms|sleep: 200ms|" "$TMP/slow.yaml"
"$TAOJIN" run "$TMP/slow.yaml" --no-progress 2>"$TMP/abort.err" &
pid=$!
sleep 0.5
kill -INT $pid; sleep 0.1; kill -INT $pid
start=$(date +%s%N)
wait $pid; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq 1 "$rc" "a second signal aborts the run (exit 1)"
[ "$ms" -lt 3000 ] && ok "abort ends within 3 s (${ms} ms)" || not_ok "abort took ${ms} ms"
read -r _ d _ dr _ f < "$TMP/acks"
[ "$f" -gt 0 ] && ok "aborted in-flight records are acknowledged as failed ($f)" || not_ok "no failed acks after abort"
finish
