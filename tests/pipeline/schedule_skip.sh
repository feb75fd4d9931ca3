#!/usr/bin/env bash
# `taojin schedule` when runs are long or fail: a run longer than the
# interval makes the next ticks be skipped and counted (never two runs at
# once); a failing pipeline turns /health to 503 and is counted in
# /metrics and the history; SIGTERM lets records in flight drain and exits
# 0 (also while a tick waits out its jitter); past shutdown_timeout the run
# is aborted, still exit 0, and a rerun exports exactly what the aborted run
# had not.
source "$TJ_TOP/tests/lib.sh"
source "$TJ_TOP/tests/httpd/httpd.sh"
source "$TJ_TOP/tests/pipeline/fixtures/sched_lib.sh"
httpd_start || { not_ok "fixture server starts"; finish; }
sched_setup

# --- an overlong run and a failing pipeline in one daemon ------------------
daemon_start "$SCHED_FX/sched-slow.yaml" "$SCHED_FX/sched-fail.yaml"
skipped() { metric_at_least 'taojin_ticks_skipped_total{pipeline="sched-slow"}' 1; }
failed() { metric_at_least 'taojin_runs_total{pipeline="sched-fail",status="failed"}' 1; }
slow_done() { metric_at_least 'taojin_runs_total{pipeline="sched-slow",status="ok"}' 1; }
wait_until 20 skipped; assert_eq 0 $? "a tick during a 2.5 s run is skipped and counted"
wait_until 20 failed; assert_eq 0 $? "the failing pipeline's runs are counted as failed"
wait_until 20 slow_done; assert_eq 0 $? "the slow run itself completes"
assert_contains "$(cat "$TMP/daemon.log")" "sched-slow: tick skipped: the previous run is still going" "the skipped tick is logged"
health=$(http "$METRICS/health")
assert_eq 503 "$(head -1 <<< "$health")" "/health answers 503 after a failed run"
assert_contains "$health" "sched-fail: last run failed" "/health names the failing pipeline"
assert_not_contains "$health" "sched-slow" "and only that one"
http "$METRICS/metrics" > "$TMP/m.txt"
m() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/m.txt"; }
assert_eq "$(m 'taojin_runs_total{pipeline="sched-fail",status="failed"}')" "$(m 'taojin_run_errors_total{pipeline="sched-fail"}')" "run errors = failed runs"
assert_eq 0 "$(m 'taojin_runs_total{pipeline="sched-fail",status="ok"}')" "no successful run of sched-fail"
assert_eq "0.000" "$(m 'taojin_last_success_timestamp_seconds{pipeline="sched-fail"}')" "sched-fail never succeeded"
ok_slow=$(m 'taojin_runs_total{pipeline="sched-slow",status="ok"}')
assert_eq 1 "$(awk -v s="$(m 'taojin_run_duration_seconds_sum{pipeline="sched-slow"}')" -v n="$ok_slow" 'BEGIN { print (s >= 2.5 * n && s < 2.5 * n + 2) }')" "run durations sum to ~2.5 s per slow run"
# one run at a time: every slow request started after the previous answer
started=$(httpd_get /_stats | python3 -c 'import json, sys; print(json.load(sys.stdin).get("/p/slow1?delay=2500", 0))')
answered=$(codes /p/slow1 200)
assert_eq 1 "$((started - answered <= 1))" "never two slow runs at once ($started requests, $answered answered)"

wait_until 10 metric_at_least 'taojin_running{pipeline="sched-slow"}' 1
daemon_stop TERM
assert_eq 0 "$daemon_rc" "SIGTERM during a run: exit 0"
assert_eq 1 "$(awk -v s="$daemon_seconds" 'BEGIN { print (s < 5) }')" "the stopped run ends promptly (${daemon_seconds} s)"
run_tj history "$SCHED_FX/sched-fail.yaml" --json
assert_contains "$out" '"status":"failed"' "history: the failed runs"
assert_contains "$out" "HTTP 404" "history: with the error"

# --- SIGTERM during a tick's jitter: no wait, no run ------------------------
mkdir -p "$TMP/jitter"
OUT="$TMP/jitter" daemon_start "$SCHED_FX/sched-jitter.yaml"
wait_until 10 metric_at_least 'taojin_running{pipeline="sched-jitter"}' 1
daemon_stop TERM
assert_eq 0 "$daemon_rc" "SIGTERM while a tick waits out its 30 s jitter: exit 0"
assert_eq 1 "$(awk -v s="$daemon_seconds" 'BEGIN { print (s < 3) }')" "without waiting for the jitter (${daemon_seconds} s)"
assert_eq 0 "$(httpd_count /p/jit1)" "the run that had not begun never starts"

# exported_at_least DB N: the sink's table holds N rows or more.
exported_at_least() {
    local n
    n=$(rows "$1" 'SELECT count(*) FROM pages' 2>/dev/null)
    [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge "$2" ]
}

# --- SIGTERM drains the records in flight ------------------------------------
mkdir -p "$TMP/drain"
export SLEEP=0.25 SHUTDOWN_TIMEOUT=30s OUT="$TMP/drain"
sed 's|/p/d|/p/drain|g' "$SCHED_FX/sched-drain.yaml" > "$TMP/drain.yaml"
daemon_start "$TMP/drain.yaml"
# Signal once a record has passed the slow stage: the fetch (which stops at
# the signal) has then had a quarter second to queue the rest.  Signalling
# as soon as the run starts could leave one record in flight, and the drain
# would take less than the 0.5 s asserted below.
wait_until 10 exported_at_least "$TMP/drain/drain-out.db" 1
early=$(rows "$TMP/drain/drain-out.db" 'SELECT count(*) FROM pages' 2>/dev/null)
daemon_stop TERM
assert_eq 0 "$daemon_rc" "SIGTERM: exit 0 after draining"
assert_eq 1 "$(awk -v s="$daemon_seconds" 'BEGIN { print (s >= 0.5 && s < 10) }')" "the drain took the slow stage's time (${daemon_seconds} s)"
got=$(python3 -c 'import json, sys
runs = json.loads(sys.argv[1])
st = {s["name"]: s for s in runs[0]["stats"]["stages"]}
print(runs[0]["status"], st["fetch"]["out"], st["export"]["in"], st["xform"]["failed"])' "$("$TAOJIN" history "$TMP/drain.yaml" --json)")
read -r status fetched exported xfailed <<< "$got"
assert_eq ok "$status" "the drained run ended ok"
assert_eq "$fetched" "$exported" "every record fetched before the signal was exported ($fetched)"
assert_eq "$fetched" "$(rows "$TMP/drain/drain-out.db" 'SELECT count(*) FROM pages')" "rows = records fetched (${early:-0} when the signal came)"
assert_eq 0 "$xfailed" "no record failed"

# --- past shutdown_timeout: aborted; a rerun sends the rest exactly once ----
mkdir -p "$TMP/abort"
export SLEEP=0.3 SHUTDOWN_TIMEOUT=500ms OUT="$TMP/abort"
sed 's|/p/d|/p/abort|g' "$SCHED_FX/sched-drain.yaml" > "$TMP/abort.yaml"
daemon_start "$TMP/abort.yaml"
wait_until 10 exported_at_least "$TMP/abort/drain-out.db" 1
daemon_stop TERM
assert_eq 0 "$daemon_rc" "SIGTERM past shutdown_timeout: still exit 0"
assert_eq 1 "$(awk -v s="$daemon_seconds" 'BEGIN { print (s >= 0.5 && s < 2) }')" "aborted after shutdown_timeout (${daemon_seconds} s for 500 ms)"
assert_contains "$(cat "$TMP/daemon.log")" "shutdown_timeout passed: aborting runs" "the abort is logged"
k=$(rows "$TMP/abort/drain-out.db" "SELECT count(*) FROM pages")
[[ "$k" =~ ^[0-9]+$ ]] || k=0 # no table: nothing was exported
assert_eq 1 "$((k < 8))" "the aborted run exported only part ($k of 8)"
assert_eq "$k" "$(rows "$TMP/abort/drain.db" "SELECT count(*) FROM kv WHERE ns='fetch'")" "validators stored for exactly the exported pages"
run_tj run "$TMP/abort.yaml" --no-progress --set xform.sleep=0
assert_eq 0 "$rc" "a rerun completes"
assert_eq 8 "$(rows "$TMP/abort/drain-out.db" 'SELECT count(*) FROM pages')" "the rerun completes the table (8 rows)"
exported_before=$(rows "$TMP/abort/drain-out.db" "SELECT url FROM pages ORDER BY rowid LIMIT $k")
bad=0
for i in 1 2 3 4 5 6 7 8; do
    url="$HTTPD/p/abort$i"
    if grep -qx "$url" <<< "$exported_before"; then
        [ "$(codes /p/abort$i 304)" = 1 ] && [ "$(codes /p/abort$i 200)" = 1 ] || bad=$((bad + 1))
    else
        [ "$(codes /p/abort$i 304)" = 0 ] || bad=$((bad + 1))
    fi
done
assert_eq 0 "$bad" "the rerun got 304 for the $k exported pages and fetched only the others in full"
finish
