/*
 * sqlite.c - the sqlite backend: one table, WAL mode, a transaction per
 * batch.
 *
 * Rows are inserted as records arrive, inside a transaction opened by the
 * first record of a batch (BEGIN IMMEDIATE, so concurrent writers wait on
 * busy_timeout instead of deadlocking) and committed by export.c every
 * `batch` records.  The table is created from the first record's fields;
 * later fields are added with ALTER TABLE ADD COLUMN.  Column types follow
 * schema.c: TEXT, BLOB, INTEGER, REAL, and "JSON TEXT" for JSON fields (the
 * word TEXT gives the column text affinity, so JSON text is never turned
 * into a number; json_extract() works on it).  In upsert mode the table has
 * a unique index on the key and each insert is INSERT ... ON CONFLICT(key)
 * DO UPDATE SET of the record's own columns (other columns keep their
 * values).
 */
#include "export.h"

#include <errno.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define STMT_CACHE 16

typedef struct stmt_slot {
    char *cols; /* the statement's column names, each ended by '\0' */
    size_t ncols;
    sqlite3_stmt *stmt;
    uint64_t used;
} stmt_slot;

/* One exported field of the current record, read once: its value is
 * bound from here, and its column found once for the type check and
 * ensure_columns. */
typedef struct field_ref {
    const char *name;
    tj_field_type type;
    bool text_ok; /* BYTES that are UTF-8 */
    long col;     /* index in l->sch, -1 when the table lacks it */
    const char *v; /* BYTES, JSON */
    size_t len;
    int64_t iv;
    double dv;
} field_ref;

typedef struct lite_impl {
    sqlite3 *db;
    ex_schema sch;
    bool in_tx;
    stmt_slot cache[STMT_CACHE];
    stmt_slot *last; /* the slot the previous record used */
    uint64_t tick;
    ex_ckpt *ckpt; /* background checkpoints, NULL: SQLite's own */
    field_ref *refs;
    size_t nrefs, caprefs;
    bool has_key; /* the current record has the key field */
    ex_buf sql, cols;
} lite_impl;

/* sqlite's message for the last error, with the system's reason when an
 * I/O call failed ("disk I/O error (File too large)"). */
static const char *lite_errmsg(lite_impl *l, char *buf, size_t n)
{
    int e = sqlite3_system_errno(l->db);
    int code = sqlite3_errcode(l->db) & 0xff;
    if (e && (code == SQLITE_IOERR || code == SQLITE_FULL ||
              code == SQLITE_CANTOPEN))
        snprintf(buf, n, "%s (%s)", sqlite3_errmsg(l->db), strerror(e));
    else
        snprintf(buf, n, "%s", sqlite3_errmsg(l->db));
    return buf;
}

/* Runs one statement without results; 0 or the sqlite error code. */
static int exec_sql(lite_impl *l, const char *sql)
{
    return sqlite3_exec(l->db, sql, NULL, NULL, NULL);
}

/* The kind of a column from the type it was declared with. */
static ex_kind kind_of_decl(const char *decl)
{
    char up[64];
    size_t i;
    for (i = 0; decl[i] && i < sizeof up - 1; i++)
        up[i] = (char)((decl[i] >= 'a' && decl[i] <= 'z') ? decl[i] - 32
                                                          : decl[i]);
    up[i] = '\0';
    if (strstr(up, "JSON"))
        return EX_K_JSON;
    if (strstr(up, "INT"))
        return EX_K_INTEGER;
    if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
        return EX_K_TEXT;
    if (strstr(up, "BLOB"))
        return EX_K_BLOB;
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
        return EX_K_REAL;
    return EX_K_OTHER;
}

static const char *decl_of_kind(ex_kind k)
{
    switch (k) {
    case EX_K_TEXT: return "TEXT";
    case EX_K_BLOB: return "BLOB";
    case EX_K_INTEGER: return "INTEGER";
    case EX_K_REAL: return "REAL";
    case EX_K_JSON: return "JSON TEXT";
    default: return "";
    }
}

/* Reloads the table's columns from the database. */
static int load_schema(ex_state *st)
{
    lite_impl *l = st->impl;
    sqlite3_stmt *q = NULL;
    ex_schema_clear(&l->sch);
    int rc = sqlite3_prepare_v2(l->db, "SELECT name, type FROM "
                                       "pragma_table_info(?1)",
                                -1, &q, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(q, 1, st->cfg->table, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        const char *decl = (const char *)sqlite3_column_text(q, 1);
        if (!decl)
            decl = "";
        if (ex_schema_add(&l->sch, name, kind_of_decl(decl), decl)) {
            rc = SQLITE_NOMEM;
            goto fail;
        }
        l->sch.exists = true;
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(q);
    return 0;
fail:
    sqlite3_finalize(q);
    return ex_errf(st, TJ_EIO, "cannot read the columns of table '%s' in %s: "
                               "%s",
                   st->cfg->table, st->cfg->path, sqlite3_errmsg(l->db));
}

/* Creates the unique index the upsert's ON CONFLICT needs. */
static int ensure_key_index(ex_state *st)
{
    lite_impl *l = st->impl;
    ex_buf *b = &l->sql;
    char idx[300];
    snprintf(idx, sizeof idx, "%s_%s_key", st->cfg->table, st->cfg->key);
    b->len = 0;
    if (ex_buf_adds(b, "CREATE UNIQUE INDEX IF NOT EXISTS ") ||
        ex_sql_ident(b, idx) || ex_buf_adds(b, " ON ") ||
        ex_sql_ident(b, st->cfg->table) || ex_buf_addc(b, '(') ||
        ex_sql_ident(b, st->cfg->key) || ex_buf_addc(b, ')'))
        return ex_errf(st, TJ_ENOMEM, "out of memory");
    if (exec_sql(l, b->data) != SQLITE_OK)
        return ex_errf(st, TJ_EIO, "cannot create a unique index on '%s' "
                                   "(the upsert key) of table '%s' in %s: %s",
                       st->cfg->key, st->cfg->table, st->cfg->path,
                       sqlite3_errmsg(l->db));
    return 0;
}

/* Says early, with the directory's name, when the database cannot be
 * created there. */
static int check_dir(ex_state *st)
{
    if (access(st->cfg->path, F_OK) == 0)
        return 0;
    ex_mkdir_parent(st->cfg->path);
    char *d = strdup(st->cfg->path);
    if (!d)
        return ex_errf(st, TJ_ENOMEM, "out of memory");
    const char *dir = dirname(d);
    struct stat sb;
    int rc = 0, e = 0;
    if (stat(dir, &sb) != 0)
        e = errno;
    else if (!S_ISDIR(sb.st_mode))
        e = ENOTDIR;
    else if (access(dir, W_OK | X_OK) != 0)
        e = errno;
    if (e)
        rc = ex_errf(st, TJ_EIO, "cannot create sqlite database %s: "
                                 "directory %s: %s",
                     st->cfg->path, dir, strerror(e));
    free(d);
    return rc;
}

/* Reads an integer pragma (page_size, page_count); -1 when it fails. */
static long long pragma_int(lite_impl *l, const char *sql)
{
    sqlite3_stmt *q = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(l->db, sql, -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* A new (empty) database gets 16 KB pages.  News records are a
 * few KB each: with SQLite's default 4 KB pages most rows fill a page of
 * their own, a third of it wasted, and every row costs a WAL frame and a
 * checkpoint copy of its own; 16 KB pages hold several rows and write a
 * third fewer bytes for the same data (see README, Speed).  An existing
 * database keeps the page size it was made with.  Runs before WAL mode is
 * set, while the size can still change. */
static void set_page_size(lite_impl *l)
{
    /* A file that is not a database fails here too: the WAL pragma that
     * follows reports it. */
    if (pragma_int(l, "PRAGMA page_count") == 0)
        exec_sql(l, "PRAGMA page_size=16384");
}

/* A checkpoint starts once the WAL holds WAL_CHECKPOINT bytes (SQLite
 * counts pages, so the count follows the page size): SQLite's own default,
 * 4 MB.  The WAL stays under four times this (ckpt.c), and the close
 * copies at most about this much while the caller waits: at the end of a
 * run nothing else is left to do, so that copy is the run's tail.  With
 * 32 MB the close took 21-82 ms on the news pipeline (4200 pages, a run
 * of ~0.9 s), with 4 MB 7-9 ms; the sink alone ran as fast either way
 * (100k upserts: 128-139k/s against 131-133k/s, same build and host). */
#define WAL_CHECKPOINT (4 << 20)
int ex_sqlite_wal_frames;

static int wal_limit(lite_impl *l)
{
    if (ex_sqlite_wal_frames > 0)
        return ex_sqlite_wal_frames;
    long long ps = pragma_int(l, "PRAGMA page_size");
    return ps > 0 ? (int)(WAL_CHECKPOINT / ps) : 8192;
}

/* Checkpoints from a thread of their own (ckpt.c) when the database is in
 * WAL mode; otherwise, or when the thread cannot be started, SQLite's
 * automatic checkpoint at the same size. */
static void set_checkpoints(ex_state *st, bool wal)
{
    lite_impl *l = st->impl;
    int limit = wal_limit(l);
    sqlite3_wal_autocheckpoint(l->db, limit);
    if (wal)
        l->ckpt = ex_ckpt_start(l->db, st->cfg->path, limit);
}

static int lite_open(ex_state *st)
{
    lite_impl *l = calloc(1, sizeof *l);
    if (!l)
        return ex_errf(st, TJ_ENOMEM, "out of memory");
    st->impl = l;
    int rc = check_dir(st);
    if (rc)
        return rc;
    if (sqlite3_open_v2(st->cfg->path, &l->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return ex_errf(st, TJ_EIO, "cannot open sqlite database %s: %s",
                       st->cfg->path,
                       l->db ? sqlite3_errmsg(l->db) : "out of memory");
    sqlite3_busy_timeout(l->db, 30000);
    set_page_size(l);
    sqlite3_stmt *q = NULL;
    const char *mode = NULL;
    if (sqlite3_prepare_v2(l->db, "PRAGMA journal_mode=WAL", -1, &q, NULL) ==
            SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        mode = (const char *)sqlite3_column_text(q, 0);
    if (!mode) {
        rc = ex_errf(st, TJ_EIO, "cannot write sqlite database %s: %s",
                     st->cfg->path, sqlite3_errmsg(l->db));
        sqlite3_finalize(q);
        return rc;
    }
    bool wal = strcasecmp(mode, "wal") == 0;
    if (!wal)
        tj_log(st->ctx, TJ_LOG_WARN, "%s: journal mode is %s, not WAL",
               st->cfg->path, mode);
    sqlite3_finalize(q);
    exec_sql(l, "PRAGMA synchronous=NORMAL"); /* durable with WAL */
    set_checkpoints(st, wal);
    if ((rc = load_schema(st)))
        return rc;
    if (st->upsert && ex_schema_find(&l->sch, st->cfg->key) >= 0)
        return ensure_key_index(st);
    return 0;
}

/* Adds one field of the record to l->refs, with its value and column. */
static int collect_ref(void *arg, const tj_record *rec, const char *name,
                       tj_field_type type)
{
    ex_state *st = arg;
    lite_impl *l = st->impl;
    if (l->nrefs == l->caprefs) {
        size_t cap = l->caprefs ? l->caprefs * 2 : 32;
        field_ref *r = realloc(l->refs, cap * sizeof *r);
        if (!r)
            return TJ_ENOMEM;
        l->refs = r;
        l->caprefs = cap;
    }
    field_ref *r = &l->refs[l->nrefs];
    r->name = name;
    r->type = type;
    r->text_ok = true;
    r->col = ex_schema_find_near(&l->sch, name, l->nrefs++);
    if (type == TJ_FIELD_BYTES || type == TJ_FIELD_JSON)
        r->v = tj_record_get(rec, name, &r->len);
    if (type == TJ_FIELD_BYTES)
        r->text_ok = ex_utf8_valid(r->v, r->len);
    else if (type == TJ_FIELD_INT)
        tj_record_get_int(rec, name, &r->iv);
    else if (type == TJ_FIELD_DOUBLE)
        tj_record_get_double(rec, name, &r->dv);
    if (!l->has_key && strcmp(name, st->cfg->key) == 0)
        l->has_key = true;
    return 0;
}

/* Fails the record when a field does not fit its existing column. */
static int check_types(ex_state *st)
{
    lite_impl *l = st->impl;
    for (size_t i = 0; i < l->nrefs; i++) {
        long c = l->refs[i].col;
        if (c < 0)
            continue;
        /* SQLite keeps each value's own type, so two widenings lose
         * nothing: any bytes in a TEXT column (stored as a BLOB value) and
         * a double in an INTEGER column (stored as REAL; JSON readers often
         * turn 2.0 into an integer, so a column can start as INTEGER). */
        ex_kind k = l->sch.cols[c].kind;
        if (k == EX_K_INTEGER && l->refs[i].type == TJ_FIELD_DOUBLE)
            continue;
        if (ex_kind_accepts(k, l->refs[i].type, true) != 0)
            return ex_errf(st, TJ_ETYPE,
                           "type clash: field '%s' is %s but column '%s' of "
                           "table '%s' in %s is %s",
                           l->refs[i].name,
                           ex_field_type_name(l->refs[i].type),
                           l->refs[i].name, st->cfg->table, st->cfg->path,
                           l->sch.cols[c].decl);
    }
    return 0;
}

/* Creates the table, or adds the columns it lacks for this record. */
static int ensure_columns(ex_state *st)
{
    lite_impl *l = st->impl;
    ex_buf *b = &l->sql;
    bool created = false;
    for (size_t i = 0; i < l->nrefs; i++) {
        field_ref *r = &l->refs[i];
        if (r->col >= 0)
            continue;
        ex_kind k = ex_kind_for_value(r->type, r->text_ok);
        b->len = 0;
        if (!l->sch.exists) {
            ex_buf_adds(b, "CREATE TABLE IF NOT EXISTS ");
            ex_sql_ident(b, st->cfg->table);
            ex_buf_adds(b, " (");
        } else {
            ex_buf_adds(b, "ALTER TABLE ");
            ex_sql_ident(b, st->cfg->table);
            ex_buf_adds(b, " ADD COLUMN ");
        }
        ex_sql_ident(b, r->name);
        ex_buf_addc(b, ' ');
        if (ex_buf_adds(b, decl_of_kind(k)) ||
            (!l->sch.exists && ex_buf_addc(b, ')')))
            return ex_errf(st, TJ_ENOMEM, "out of memory");
        if (exec_sql(l, b->data) != SQLITE_OK) {
            /* Another writer may have added it meanwhile. */
            int rc = load_schema(st);
            if (rc)
                return rc;
            if ((r->col = ex_schema_find(&l->sch, r->name)) >= 0)
                continue;
            return ex_errf(st, TJ_EIO, "cannot add column '%s' to table "
                                       "'%s' in %s: %s",
                           r->name, st->cfg->table, st->cfg->path,
                           sqlite3_errmsg(l->db));
        }
        if (ex_schema_add(&l->sch, r->name, k, decl_of_kind(k)))
            return ex_errf(st, TJ_ENOMEM, "out of memory");
        r->col = (long)l->sch.n - 1;
        l->sch.exists = true;
        created = created || strcmp(r->name, st->cfg->key) == 0;
    }
    if (created && st->upsert)
        return ensure_key_index(st);
    return 0;
}

/* Builds the INSERT (or upsert) for the current refs into l->sql. */
static int build_insert(ex_state *st)
{
    lite_impl *l = st->impl;
    ex_buf *b = &l->sql;
    b->len = 0;
    ex_buf_adds(b, "INSERT INTO ");
    ex_sql_ident(b, st->cfg->table);
    ex_buf_adds(b, " (");
    for (size_t i = 0; i < l->nrefs; i++) {
        if (i)
            ex_buf_addc(b, ',');
        ex_sql_ident(b, l->refs[i].name);
    }
    ex_buf_adds(b, ") VALUES (");
    for (size_t i = 0; i < l->nrefs; i++)
        ex_buf_adds(b, i ? ",?" : "?");
    ex_buf_addc(b, ')');
    if (st->upsert) {
        ex_buf_adds(b, " ON CONFLICT(");
        ex_sql_ident(b, st->cfg->key);
        ex_buf_adds(b, ") DO ");
        bool any = false;
        for (size_t i = 0; i < l->nrefs; i++) {
            if (strcmp(l->refs[i].name, st->cfg->key) == 0)
                continue;
            ex_buf_adds(b, any ? "," : "UPDATE SET ");
            ex_sql_ident(b, l->refs[i].name);
            ex_buf_adds(b, "=excluded.");
            ex_sql_ident(b, l->refs[i].name);
            any = true;
        }
        if (!any)
            ex_buf_adds(b, "NOTHING");
    }
    return ex_buf_addc(b, ' ') ? TJ_ENOMEM : 0;
}

/* True when slot s holds the statement for the current record's columns,
 * in the same order. */
static bool slot_matches(const stmt_slot *s, const lite_impl *l)
{
    if (!s->stmt || s->ncols != l->nrefs)
        return false;
    const char *p = s->cols;
    for (size_t i = 0; i < l->nrefs; i++) {
        const char *q = l->refs[i].name;
        while (*p && *p == *q)
            p++, q++;
        if (*p++ != *q)
            return false;
    }
    return true;
}

/* Prepares the statement for the current columns into the least recently
 * used slot; the slot or NULL. */
static stmt_slot *fill_slot(ex_state *st)
{
    lite_impl *l = st->impl;
    stmt_slot *victim = &l->cache[0];
    for (int i = 1; i < STMT_CACHE; i++)
        if (l->cache[i].used < victim->used)
            victim = &l->cache[i];
    l->cols.len = 0;
    for (size_t i = 0; i < l->nrefs; i++)
        if (ex_buf_add(&l->cols, l->refs[i].name,
                       strlen(l->refs[i].name) + 1))
            return NULL;
    sqlite3_stmt *stmt = NULL;
    char *cols = malloc(l->cols.len);
    if (!cols || build_insert(st) ||
        sqlite3_prepare_v3(l->db, l->sql.data, -1, SQLITE_PREPARE_PERSISTENT,
                           &stmt, NULL) != SQLITE_OK) {
        sqlite3_finalize(stmt);
        free(cols);
        return NULL;
    }
    memcpy(cols, l->cols.data, l->cols.len);
    sqlite3_finalize(victim->stmt);
    free(victim->cols);
    victim->cols = cols;
    victim->ncols = l->nrefs;
    victim->stmt = stmt;
    return victim;
}

/* The cached statement for this record's columns (the previous record's
 * first: a stream's records mostly share their fields), prepared on a
 * miss; NULL when it cannot be prepared. */
static sqlite3_stmt *get_stmt(ex_state *st)
{
    lite_impl *l = st->impl;
    stmt_slot *s = l->last && slot_matches(l->last, l) ? l->last : NULL;
    for (int i = 0; !s && i < STMT_CACHE; i++)
        if (slot_matches(&l->cache[i], l))
            s = &l->cache[i];
    if (!s && !(s = fill_slot(st)))
        return NULL;
    s->used = ++l->tick;
    l->last = s;
    return s->stmt;
}

/* Binds the value read by collect_ref; sqlite's result code. */
static int bind_value(sqlite3_stmt *s, int i, const field_ref *r)
{
    switch (r->type) {
    case TJ_FIELD_BYTES:
        if (!r->text_ok)
            return sqlite3_bind_blob64(s, i, r->v, r->len, SQLITE_STATIC);
        /* fall through */
    case TJ_FIELD_JSON:
        return sqlite3_bind_text64(s, i, r->v, r->len, SQLITE_STATIC,
                                   SQLITE_UTF8);
    case TJ_FIELD_INT:
        return sqlite3_bind_int64(s, i, r->iv);
    case TJ_FIELD_DOUBLE:
        return sqlite3_bind_double(s, i, r->dv);
    default:
        return sqlite3_bind_null(s, i);
    }
}

/* After a failed statement: when sqlite rolled the whole transaction back
 * (disk full, I/O error), the batch's earlier rows are gone as well. */
static void note_rollback(ex_state *st)
{
    lite_impl *l = st->impl;
    if (l->in_tx && sqlite3_get_autocommit(l->db)) {
        l->in_tx = false;
        st->lost = true;
        load_schema(st);
    }
}

static int lite_add(ex_state *st, tj_record *rec)
{
    lite_impl *l = st->impl;
    l->nrefs = 0;
    l->has_key = false;
    if (ex_each_field(st->cfg, rec, collect_ref, st))
        return ex_errf(st, TJ_ENOMEM, "out of memory");
    if (st->upsert && !l->has_key)
        return ex_errf(st, TJ_EINVAL, "record has no '%s' field (the upsert "
                                      "key of table '%s' in %s)",
                       st->cfg->key, st->cfg->table, st->cfg->path);
    if (l->nrefs == 0)
        return ex_errf(st, TJ_EINVAL, "record has no field to export");
    int rc = check_types(st);
    if (rc)
        return rc;
    if (!l->in_tx) {
        if (exec_sql(l, "BEGIN IMMEDIATE") != SQLITE_OK)
            return ex_errf(st, TJ_EIO, "cannot begin a transaction on %s: %s",
                           st->cfg->path, sqlite3_errmsg(l->db));
        l->in_tx = true;
    }
    if ((rc = ensure_columns(st))) {
        note_rollback(st);
        return rc;
    }
    sqlite3_stmt *s = get_stmt(st);
    if (!s)
        return ex_errf(st, TJ_EIO, "cannot prepare an insert into table '%s' "
                                   "of %s: %s",
                       st->cfg->table, st->cfg->path, sqlite3_errmsg(l->db));
    rc = SQLITE_OK;
    for (size_t i = 0; i < l->nrefs && rc == SQLITE_OK; i++)
        rc = bind_value(s, (int)i + 1, &l->refs[i]);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) {
        char why[512];
        rc = ex_errf(st, rc == SQLITE_FULL ? TJ_EFULL : TJ_EIO,
                     "cannot insert into table '%s' of %s: %s",
                     st->cfg->table, st->cfg->path,
                     lite_errmsg(l, why, sizeof why));
        note_rollback(st);
        return rc;
    }
    return 0;
}

static int lite_commit(ex_state *st, bool final)
{
    lite_impl *l = st->impl;
    if (!l->in_tx)
        return 0;
    l->in_tx = false;
    if (exec_sql(l, "COMMIT") == SQLITE_OK)
        return 0;
    int code = sqlite3_errcode(l->db) == SQLITE_FULL ? TJ_EFULL : TJ_EIO;
    char why[512];
    int rc = ex_errf(st, code, "cannot commit to table '%s' of %s: %s",
                     st->cfg->table, st->cfg->path,
                     lite_errmsg(l, why, sizeof why));
    if (!sqlite3_get_autocommit(l->db))
        exec_sql(l, "ROLLBACK");
    load_schema(st); /* columns added in the batch are gone */
    return rc;
}

static void lite_close(ex_state *st)
{
    lite_impl *l = st->impl;
    ex_ckpt_stop(l->ckpt);
    if (l->db && l->in_tx)
        exec_sql(l, "ROLLBACK");
    for (int i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(l->cache[i].stmt);
        free(l->cache[i].cols);
    }
    if (l->db)
        sqlite3_close(l->db);
    ex_schema_clear(&l->sch);
    ex_buf_free(&l->sql);
    ex_buf_free(&l->cols);
    free(l->refs);
    free(l);
    st->impl = NULL;
}

const ex_backend ex_backend_sqlite = {
    .name = "sqlite",
    .open = lite_open,
    .add = lite_add,
    .commit = lite_commit,
    .close = lite_close,
};
