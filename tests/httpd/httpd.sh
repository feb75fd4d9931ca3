# Shell helper for tests that need the loopback fixture server.
# Source it after tests/lib.sh, then call `httpd_start [SERVER-ARGS...]`
# (e.g. --tls-cert C --tls-key K for HTTPS, then $HTTPD is https://): it runs
# tests/httpd/server.py in the background on a free 127.0.0.1 port, sets
# $HTTPD_PORT, $HTTPD (http://127.0.0.1:PORT) and $HTTPD_PID, and kills the
# server when the test exits (the EXIT trap also removes $TMP, as lib.sh's).

httpd_start() {
    local pf="$TMP/httpd.port" i
    local scheme=http
    case " $* " in *" --tls-cert "*) scheme=https ;; esac
    python3 "$TJ_TOP/tests/httpd/server.py" --port-file "$pf" \
        --seeds "$TJ_SHARED/seeds" --max-seconds 300 "$@" > /dev/null 2>"$TMP/httpd.log" &
    HTTPD_PID=$!
    trap 'kill "$HTTPD_PID" 2>/dev/null; wait "$HTTPD_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
    for i in $(seq 1 100); do
        [ -s "$pf" ] && break
        sleep 0.1
    done
    if [ ! -s "$pf" ]; then
        echo "# httpd did not start:"; sed 's/^/#   /' "$TMP/httpd.log"
        return 1
    fi
    HTTPD_PORT=$(cat "$pf")
    HTTPD="$scheme://127.0.0.1:$HTTPD_PORT"
}

# httpd_get PATH: the server's response body for PATH on stdout.
httpd_get() {
    python3 -c 'import sys, urllib.request as u
sys.stdout.buffer.write(u.urlopen(sys.argv[1]).read())' "$HTTPD$1"
}

# httpd_count PATH: how many requests the server has seen for PATH.
httpd_count() {
    httpd_get /_stats | python3 -c \
        'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1"
}
