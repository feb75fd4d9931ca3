# A throwaway PostgreSQL server for export's tests and benchmark (sourced,
# not a test itself).  The machine runs as root and PostgreSQL refuses to,
# so the cluster belongs to an unprivileged user (nobody, or tjpg created
# on the spot).  It listens on a free loopback port, with its socket in its
# own directory, and is stopped and removed by pg_stop (call it from your
# EXIT trap).
#
#   pg_start            sets PG_DIR, PG_PORT, PG_DSN (database "news", user tj)
#   pg_stop
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
PG_DIR=""

pg_user() {
    if id nobody >/dev/null 2>&1; then echo nobody; return; fi
    id tjpg >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin tjpg
    echo tjpg
}

pg_as() { setpriv --reuid="$PG_USER" --regid="$(id -g "$PG_USER")" --clear-groups "$@"; }

pg_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_start() {
    [ -x "$PG_BIN/initdb" ] || { echo "# no PostgreSQL server binaries"; return 1; }
    PG_USER=$(pg_user)
    PG_DIR=$(mktemp -d /tmp/tjpg.XXXXXX)
    chown "$PG_USER" "$PG_DIR"
    chmod 700 "$PG_DIR"
    pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U tj -A trust -E UTF8 \
        --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
        { cat "$PG_DIR/initdb.log"; return 1; }
    local try
    for try in 1 2 3; do
        PG_PORT=$(pg_free_port)
        if pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
            -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null 2>&1; then
            break
        fi
        PG_PORT=""
    done
    [ -n "$PG_PORT" ] || { cat "$PG_DIR/server.log"; return 1; }
    PG_DSN="host=127.0.0.1 port=$PG_PORT dbname=news user=tj"
    psql -q -h 127.0.0.1 -p "$PG_PORT" -U tj -d postgres -c 'CREATE DATABASE news' >/dev/null
}

pg_stop() {
    [ -n "$PG_DIR" ] || return 0
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$PG_DIR"
    PG_DIR=""
}

# pg_sql SQL: runs SQL in database news, prints unaligned rows.
pg_sql() { psql -X -qAt -h 127.0.0.1 -p "$PG_PORT" -U tj -d news -c "$1" 2>&1; }
