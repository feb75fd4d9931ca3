/* state.c - the state database (contract in state.h). */
#include "state.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct tj_state {
    sqlite3 *db;
    pthread_mutex_t lock;
    char *path;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA busy_timeout=5000;"
    "CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL,"
    " value TEXT NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (ns, key));"
    "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " pipeline TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL,"
    " status TEXT NOT NULL, stats TEXT, error TEXT);";

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int tj__state_open(const char *path, tj_state **out, tj_err *err)
{
    *out = NULL;
    tj_state *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return TJ_ENOMEM;
    }
    tj__mkdir_parent(path);
    char *msg = NULL;
    int rc = sqlite3_open_v2(path, &st->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(st->db, schema, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        tj__errf(err, TJ_EIO, "state %s: %s", path,
                 msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        tj__state_close(st);
        return TJ_EIO;
    }
    pthread_mutex_init(&st->lock, NULL);
    *out = st;
    return 0;
}

void tj__state_close(tj_state *st)
{
    if (!st)
        return;
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

int tj__state_get(tj_state *st, const char *ns, const char *key, char **out)
{
    sqlite3_stmt *s = NULL;
    int rc = TJ_ENOENT;
    *out = NULL;
    pthread_mutex_lock(&st->lock);
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM kv WHERE ns=? AND key=?",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = TJ_EIO;
    } else {
        sqlite3_bind_text(s, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
        int step = sqlite3_step(s);
        if (step == SQLITE_ROW) {
            *out = strdup((const char *)sqlite3_column_text(s, 0));
            rc = *out ? 0 : TJ_ENOMEM;
        } else if (step != SQLITE_DONE)
            rc = TJ_EIO;
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int64_t tj__state_count(tj_state *st, const char *ns)
{
    sqlite3_stmt *s = NULL;
    int64_t n = TJ_EIO;
    pthread_mutex_lock(&st->lock);
    if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM kv WHERE ?1 IS NULL"
                           " OR ns = ?1", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, ns, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    return n;
}

int tj__state_put(tj_state *st, const char *ns, const char *key,
                  const char *value)
{
    sqlite3_stmt *s = NULL;
    const char *sql = value ? "INSERT INTO kv(ns,key,value,updated_at) "
                              "VALUES(?,?,?,?) ON CONFLICT(ns,key) DO UPDATE "
                              "SET value=excluded.value, "
                              "updated_at=excluded.updated_at"
                            : "DELETE FROM kv WHERE ns=? AND key=?";
    pthread_mutex_lock(&st->lock);
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
        if (value) {
            sqlite3_bind_text(s, 3, value, -1, SQLITE_STATIC);
            sqlite3_bind_double(s, 4, wall_now());
        }
        rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    if (rc != SQLITE_OK)
        tj__log(TJ_LOG_ERROR, NULL, "state %s: %s", st->path,
                sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    return rc == SQLITE_OK ? 0 : TJ_EIO;
}

int tj__state_run_begin(tj_state *st, const char *pipeline, int64_t *run_id)
{
    sqlite3_stmt *s = NULL;
    pthread_mutex_lock(&st->lock);
    int rc = sqlite3_prepare_v2(st->db, "INSERT INTO runs(pipeline, started_at,"
                                " status) VALUES(?,?,'running')", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s, 1, pipeline, -1, SQLITE_STATIC);
        sqlite3_bind_double(s, 2, wall_now());
        rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    *run_id = sqlite3_last_insert_rowid(st->db);
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    return rc == SQLITE_OK ? 0 : TJ_EIO;
}

int tj__state_run_end(tj_state *st, int64_t run_id, const char *status,
                      const char *stats_json, const char *error)
{
    sqlite3_stmt *s = NULL;
    pthread_mutex_lock(&st->lock);
    int rc = sqlite3_prepare_v2(st->db, "UPDATE runs SET ended_at=?, status=?,"
                                " stats=?, error=? WHERE id=?", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_double(s, 1, wall_now());
        sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, stats_json, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, error, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, run_id);
        rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    return rc == SQLITE_OK ? 0 : TJ_EIO;
}

double tj__state_last_run_start(tj_state *st)
{
    sqlite3_stmt *s = NULL;
    double t = -1;
    pthread_mutex_lock(&st->lock);
    if (sqlite3_prepare_v2(st->db, "SELECT max(started_at) FROM runs", -1, &s,
                           NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW &&
        sqlite3_column_type(s, 0) != SQLITE_NULL)
        t = sqlite3_column_double(s, 0);
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    return t;
}

static void iso_time(double t, char *buf, size_t n)
{
    time_t sec = (time_t)t;
    struct tm tm;
    localtime_r(&sec, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

int tj__state_history(tj_state *st, int limit, bool json, tj_buf *out)
{
    sqlite3_stmt *s = NULL;
    pthread_mutex_lock(&st->lock);
    int rc = sqlite3_prepare_v2(st->db, "SELECT id, pipeline, started_at, "
                                "ended_at, status, stats, error FROM runs "
                                "ORDER BY id DESC LIMIT ?", -1, &s, NULL);
    if (rc != SQLITE_OK) {
        pthread_mutex_unlock(&st->lock);
        return TJ_EIO;
    }
    sqlite3_bind_int(s, 1, limit);
    if (json)
        tj__buf_add(out, "[", 1);
    else
        tj__buf_addf(out, "%-6s %-25s %-25s %-24s %s\n", "run", "started",
                     "ended", "status", "error");
    for (int i = 0; sqlite3_step(s) == SQLITE_ROW; i++) {
        char start[40] = "", end[40] = "-";
        iso_time(sqlite3_column_double(s, 2), start, sizeof start);
        if (sqlite3_column_type(s, 3) != SQLITE_NULL)
            iso_time(sqlite3_column_double(s, 3), end, sizeof end);
        const char *status = (const char *)sqlite3_column_text(s, 4);
        const char *stats = (const char *)sqlite3_column_text(s, 5);
        const char *error = (const char *)sqlite3_column_text(s, 6);
        if (!json) {
            tj__buf_addf(out, "%-6lld %-25s %-25s %-24s %s\n",
                         (long long)sqlite3_column_int64(s, 0), start, end,
                         status, error ? error : "");
            continue;
        }
        tj__buf_addf(out, "%s{\"id\":%lld,\"pipeline\":", i ? "," : "",
                     (long long)sqlite3_column_int64(s, 0));
        const char *name = (const char *)sqlite3_column_text(s, 1);
        tj__json_add_string(out, name, strlen(name));
        tj__buf_addf(out, ",\"started_at\":\"%s\",\"ended_at\":", start);
        if (sqlite3_column_type(s, 3) != SQLITE_NULL)
            tj__buf_addf(out, "\"%s\"", end);
        else
            tj__buf_add(out, "null", 4);
        tj__buf_addf(out, ",\"status\":\"%s\",\"stats\":%s,\"error\":", status,
                     stats && *stats ? stats : "null");
        if (error)
            tj__json_add_string(out, error, strlen(error));
        else
            tj__buf_add(out, "null", 4);
        tj__buf_add(out, "}", 1);
    }
    if (json)
        tj__buf_add(out, "]\n", 2);
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    return 0;
}
