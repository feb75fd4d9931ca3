/*
 * pg.c - the postgres backend (libpq): a transaction per batch, rows sent
 * with COPY.
 *
 * Records are checked when they arrive (key present, types fit the known
 * columns) and held; at commit the batch runs as BEGIN; CREATE TABLE /
 * ALTER TABLE ADD COLUMN IF NOT EXISTS for new fields; then, for each run
 * of consecutive records with the same columns, COPY ... FROM STDIN (text
 * format) straight into the table (mode: append) or into a session
 * staging table followed by INSERT ... SELECT ... ON CONFLICT (key) DO
 * UPDATE SET <the run's columns> (upsert); COMMIT.  A run never holds the
 * same key twice (PostgreSQL refuses to update a row twice in one
 * statement): a repeated key starts a new run, so the last record wins.
 *
 * Columns: text, bytea (BYTES not storable as text: invalid UTF-8 or NUL),
 * bigint, double precision, jsonb.  If a batch fails on the server for a
 * reason of the data (SQLSTATE classes 22 and 23, 42804), it is retried
 * record by record so one bad record fails alone.  A lost connection is
 * reset and the batch retried once.
 */
#include "export.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct pg_impl {
    PGconn *conn;
    ex_schema sch;
    char target[512]; /* "host H port P database D" for messages */
    char *schema_name; /* NULL: current_schema() */
    char *table_name;
    ex_buf qtable; /* quoted, possibly schema-qualified */
    ex_buf sql, vals;
    /* Staging tables for upserts, one per column list, kept for the
     * session (ON COMMIT DELETE ROWS): creating one per batch costs more
     * than the batch. */
    struct {
        char *cols;
        bool dirty; /* rows copied in the current transaction */
        uint64_t used;
    } stage[8];
    uint64_t tick;
    /* Keys of the current run (indexes into st->held, plus one; 0 is an
     * empty slot), an open-addressing set sized to twice the batch. */
    size_t *keys;
    size_t nkeys, keys_cap;
    /* Binary COPY: the form of each column of the current run, in field
     * order. */
    int *forms;
    size_t nforms, forms_cap;
    /* The batch's transaction: BEGIN not sent yet (it travels with the
     * first statement), the last record of the transaction (its INSERT
     * carries the COMMIT), and whether that COMMIT went through. */
    bool begin_pending, committed;
    size_t tx_to;
} pg_impl;

/* First line of a libpq message, without the trailing newline. */
static const char *first_line(const char *msg, char *out, size_t n)
{
    snprintf(out, n, "%s", msg && *msg ? msg : "no answer from the server");
    char *nl = strchr(out, '\n');
    if (nl)
        *nl = '\0';
    return out;
}

/* The error of a result, or of the connection when there is no result. */
static const char *res_error(pg_impl *p, const PGresult *r)
{
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    return m && *m ? m : PQerrorMessage(p->conn);
}

/* Describes the server without the password, from the dsn's own values. */
static void describe_target(pg_impl *p, const char *dsn)
{
    const char *host = NULL, *port = NULL, *db = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val)
            continue;
        if (!strcmp(o->keyword, "host") || !strcmp(o->keyword, "hostaddr"))
            host = host ? host : o->val;
        else if (!strcmp(o->keyword, "port"))
            port = o->val;
        else if (!strcmp(o->keyword, "dbname"))
            db = o->val;
    }
    snprintf(p->target, sizeof p->target, "PostgreSQL host %s port %s "
                                          "database %s",
             host ? host : "(default)", port ? port : "5432",
             db ? db : "(default)");
    PQconninfoFree(opts);
}

/* PQexec inside the batch's transaction: a BEGIN not sent yet goes in the
 * same message, a round trip less per batch.  (If the statement fails the
 * transaction is aborted, and tx_range rolls it back as always.)  NULL
 * when out of memory. */
static PGresult *exec_tx(pg_impl *p, const char *sql)
{
    if (!p->begin_pending)
        return PQexec(p->conn, sql);
    size_t n = strlen(sql);
    char *q = malloc(n + 8);
    if (!q)
        return NULL;
    memcpy(q, "BEGIN; ", 7);
    memcpy(q + 7, sql, n + 1);
    PGresult *r = PQexec(p->conn, q);
    free(q);
    p->begin_pending = false;
    return r;
}

/* Runs a command; returns 0 or fills st->err (prefixed with `what`). */
static int run(ex_state *st, const char *sql, const char *what)
{
    pg_impl *p = st->impl;
    PGresult *r = exec_tx(p, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
             PQresultStatus(r) == PGRES_TUPLES_OK;
    char line[512];
    int rc = 0;
    if (!ok)
        rc = ex_errf(st, TJ_EIO, "%s (%s, table %s): %s", what, p->target,
                     p->qtable.data,
                     first_line(res_error(p, r), line, sizeof line));
    PQclear(r);
    return rc;
}

static ex_kind kind_of_type(const char *t)
{
    if (!strcmp(t, "text") || !strcmp(t, "character varying") ||
        !strcmp(t, "character"))
        return EX_K_TEXT;
    if (!strcmp(t, "bigint") || !strcmp(t, "integer") ||
        !strcmp(t, "smallint"))
        return EX_K_INTEGER;
    if (!strcmp(t, "double precision") || !strcmp(t, "real"))
        return EX_K_REAL;
    if (!strcmp(t, "jsonb") || !strcmp(t, "json"))
        return EX_K_JSON;
    if (!strcmp(t, "bytea"))
        return EX_K_BLOB;
    return EX_K_OTHER;
}

static const char *type_of_kind(ex_kind k)
{
    switch (k) {
    case EX_K_TEXT: return "text";
    case EX_K_BLOB: return "bytea";
    case EX_K_INTEGER: return "bigint";
    case EX_K_REAL: return "double precision";
    case EX_K_JSON: return "jsonb";
    default: return "text";
    }
}

/* Reloads the table's columns from information_schema. */
static int load_schema(ex_state *st)
{
    pg_impl *p = st->impl;
    const char *params[2] = {p->table_name, p->schema_name};
    ex_schema_clear(&p->sch);
    PGresult *r = PQexecParams(
        p->conn,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = $1 AND table_schema = COALESCE($2, "
        "current_schema()) ORDER BY ordinal_position",
        2, NULL, params, NULL, NULL, 0);
    char line[512];
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = ex_errf(st, TJ_EIO, "cannot read the columns of table %s "
                                     "(%s): %s",
                         p->qtable.data, p->target,
                         first_line(res_error(p, r), line,
                                    sizeof line));
        PQclear(r);
        return rc;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *t = PQgetvalue(r, i, 1);
        if (ex_schema_add(&p->sch, PQgetvalue(r, i, 0), kind_of_type(t), t)) {
            PQclear(r);
            return ex_errf(st, TJ_ENOMEM, "out of memory");
        }
    }
    p->sch.exists = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

/* Ensures a unique index on the key exists (ON CONFLICT needs one). */
static int ensure_key_index(ex_state *st)
{
    pg_impl *p = st->impl;
    char idx[64];
    snprintf(idx, sizeof idx, "%.28s_%.24s_key", p->table_name, st->cfg->key);
    ex_buf *b = &p->sql;
    b->len = 0;
    ex_buf_adds(b, "CREATE UNIQUE INDEX IF NOT EXISTS ");
    ex_sql_ident(b, idx);
    ex_buf_adds(b, " ON ");
    ex_buf_add(b, p->qtable.data, p->qtable.len);
    ex_buf_addc(b, '(');
    if (ex_sql_ident(b, st->cfg->key) || ex_buf_addc(b, ')'))
        return ex_errf(st, TJ_ENOMEM, "out of memory");
    return run(st, b->data, "cannot create the unique index on the upsert "
                            "key");
}

/* Splits `schema.table` and quotes it. */
static int set_table(ex_state *st)
{
    pg_impl *p = st->impl;
    const char *t = st->cfg->table, *dot = strchr(t, '.');
    if (dot) {
        p->schema_name = strndup(t, (size_t)(dot - t));
        p->table_name = strdup(dot + 1);
    } else {
        p->table_name = strdup(t);
    }
    if (!p->table_name || (dot && !p->schema_name))
        return TJ_ENOMEM;
    if (p->schema_name &&
        (ex_sql_ident(&p->qtable, p->schema_name) ||
         ex_buf_addc(&p->qtable, '.')))
        return TJ_ENOMEM;
    return ex_sql_ident(&p->qtable, p->table_name);
}

/* Server notices (warnings, "relation already exists, skipping") go to
 * the stage's log instead of stderr. */
static void on_notice(void *arg, const char *msg)
{
    ex_state *st = arg;
    char line[512];
    tj_log(st->ctx, TJ_LOG_DEBUG, "server: %s",
           first_line(msg, line, sizeof line));
}

/* Per-session settings, after connecting and after a reset: UTF-8, and
 * lz4 for the values this session compresses (TOAST) when the server has
 * it (PostgreSQL 14+ built with lz4).  lz4 compresses a news body about
 * five times faster than the default pglz at a similar size; columns with
 * their own COMPRESSION setting keep it, and reading is unchanged.  A
 * server that refuses the setting keeps its default. */
static int session_setup(ex_state *st)
{
    pg_impl *p = st->impl;
    if (PQsetClientEncoding(p->conn, "UTF8") != 0)
        return ex_errf(st, TJ_EIO, "cannot set client encoding UTF8 on %s",
                       p->target);
    PGresult *r = PQexec(p->conn, "SET default_toast_compression = lz4");
    PQclear(r);
    return 0;
}

static int pg_open(ex_state *st)
{
    pg_impl *p = calloc(1, sizeof *p);
    if (!p)
        return ex_errf(st, TJ_ENOMEM, "out of memory");
    st->impl = p;
    if (set_table(st))
        return ex_errf(st, TJ_ENOMEM, "out of memory");
    describe_target(p, st->cfg->dsn);
    /* The dsn comes last so its own settings override these defaults. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname",
                          NULL};
    const char *vals[] = {"10", "taojin", st->cfg->dsn, NULL};
    p->conn = PQconnectdbParams(keys, vals, 1);
    char line[512];
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK)
        return ex_errf(st, TJ_ENET, "cannot connect to %s: %s", p->target,
                       p->conn ? first_line(PQerrorMessage(p->conn), line,
                                            sizeof line)
                               : "out of memory");
    PQsetNoticeProcessor(p->conn, on_notice, st);
    int rc = session_setup(st);
    if (rc)
        return rc;
    rc = load_schema(st);
    if (!rc && st->upsert && ex_schema_find(&p->sch, st->cfg->key) >= 0)
        rc = ensure_key_index(st);
    return rc;
}

/* True when a BYTES value can go into a text column. */
static bool pg_text_ok(const char *s, size_t n)
{
    return !memchr(s, '\0', n) && ex_utf8_valid(s, n);
}

typedef struct check_arg {
    ex_state *st;
    int rc;
} check_arg;

static int check_field(void *arg, const tj_record *rec, const char *name,
                       tj_field_type type)
{
    check_arg *a = arg;
    pg_impl *p = a->st->impl;
    long c = ex_schema_find(&p->sch, name);
    if (c < 0)
        return 0;
    bool text_ok = true;
    if (type == TJ_FIELD_BYTES) {
        size_t len;
        const char *s = tj_record_get(rec, name, &len);
        text_ok = pg_text_ok(s, len);
    }
    if (ex_kind_accepts(p->sch.cols[c].kind, type, text_ok) == 0)
        return 0;
    return ex_errf(a->st, TJ_ETYPE,
                   "type clash: field '%s' is %s%s but column '%s' of table "
                   "%s (%s) is %s",
                   name, ex_field_type_name(type),
                   text_ok ? "" : " (not UTF-8 text)", name, p->qtable.data,
                   p->target, p->sch.cols[c].decl);
}

static int pg_add(ex_state *st, tj_record *rec)
{
    pg_impl *p = st->impl;
    if (st->upsert && tj_record_type(rec, st->cfg->key) == TJ_FIELD_NONE)
        return ex_errf(st, TJ_EINVAL, "record has no '%s' field (the upsert "
                                      "key of table %s)",
                       st->cfg->key, p->qtable.data);
    check_arg a = {st, 0};
    return ex_each_field(st->cfg, rec, check_field, &a);
}

/* ---- commit -------------------------------------------------------------------- */

typedef struct cols_arg {
    ex_state *st;
    ex_schema *add; /* columns to create in this batch */
    ex_buf *sig;    /* when non-NULL: signature of the record's columns */
    size_t n;
} cols_arg;

static int new_column(void *arg, const tj_record *rec, const char *name,
                      tj_field_type type)
{
    cols_arg *a = arg;
    pg_impl *p = a->st->impl;
    if (ex_schema_find(&p->sch, name) >= 0 || ex_schema_find(a->add, name) >= 0)
        return 0;
    bool text_ok = true;
    if (type == TJ_FIELD_BYTES) {
        size_t len;
        const char *s = tj_record_get(rec, name, &len);
        text_ok = pg_text_ok(s, len);
    }
    ex_kind k = ex_kind_for_value(type, text_ok);
    return ex_schema_add(a->add, name, k, type_of_kind(k));
}

/* Creates the table or the columns the batch [from, to) needs. */
static int ensure_columns(ex_state *st, size_t from, size_t to)
{
    pg_impl *p = st->impl;
    ex_schema add = {0};
    cols_arg a = {st, &add, NULL, 0};
    int rc = 0;
    for (size_t i = from; i < to && !rc; i++)
        rc = ex_each_field(st->cfg, st->held[i], new_column, &a);
    if (rc || add.n == 0)
        goto done;
    ex_buf *b = &p->sql;
    bool key_new = ex_schema_find(&add, st->cfg->key) >= 0;
    b->len = 0;
    if (!p->sch.exists) {
        ex_buf_adds(b, "CREATE TABLE IF NOT EXISTS ");
        ex_buf_add(b, p->qtable.data, p->qtable.len);
        ex_buf_adds(b, " (");
        for (size_t i = 0; i < add.n; i++) {
            if (i)
                ex_buf_adds(b, ", ");
            ex_sql_ident(b, add.cols[i].name);
            ex_buf_addc(b, ' ');
            ex_buf_adds(b, add.cols[i].decl);
        }
        ex_buf_addc(b, ')');
    } else {
        ex_buf_adds(b, "ALTER TABLE ");
        ex_buf_add(b, p->qtable.data, p->qtable.len);
        for (size_t i = 0; i < add.n; i++) {
            ex_buf_adds(b, i ? ", ADD COLUMN IF NOT EXISTS "
                             : " ADD COLUMN IF NOT EXISTS ");
            ex_sql_ident(b, add.cols[i].name);
            ex_buf_addc(b, ' ');
            ex_buf_adds(b, add.cols[i].decl);
        }
    }
    if ((rc = run(st, b->data, "cannot create columns")))
        goto done;
    for (size_t i = 0; i < add.n && !rc; i++)
        rc = ex_schema_add(&p->sch, add.cols[i].name, add.cols[i].kind,
                           add.cols[i].decl);
    p->sch.exists = true;
    if (!rc && key_new && st->upsert)
        rc = ensure_key_index(st);
done:
    ex_schema_clear(&add);
    return rc;
}

static int sig_field(void *arg, const tj_record *rec, const char *name,
                     tj_field_type type)
{
    cols_arg *a = arg;
    a->n++;
    if (ex_buf_adds(a->sig, name) || ex_buf_addc(a->sig, 0x1f))
        return TJ_ENOMEM;
    return 0;
}

/* The signature (column list) of a record and its column count. */
static int record_sig(ex_state *st, const tj_record *rec, ex_buf *sig,
                      size_t *n)
{
    cols_arg a = {st, NULL, sig, 0};
    sig->len = 0;
    int rc = ex_each_field(st->cfg, rec, sig_field, &a);
    *n = a.n;
    if (sig->data)
        sig->data[sig->len] = '\0';
    return rc;
}

typedef struct row_arg {
    ex_state *st;
    size_t k;
} row_arg;

/* The bytes COPY's text format escapes, and their escape letters. */
static const char copy_esc[256] = {['\\'] = '\\', ['\t'] = 't',
                                   ['\n'] = 'n', ['\r'] = 'r'};

/* Appends s[0..n) escaped for COPY's text format: runs without a special
 * byte are copied whole. */
static int copy_text(ex_buf *b, const char *s, size_t n)
{
    if (ex_buf_reserve(b, n * 2))
        return TJ_ENOMEM;
    char *o = b->data + b->len;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !copy_esc[u[j]])
            j++;
        memcpy(o, s + i, j - i);
        o += j - i;
        if (j == n)
            break;
        *o++ = '\\';
        *o++ = copy_esc[u[j]];
        i = j + 1;
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

/* Appends bytes as a bytea value in COPY text format ("\\x" + hex). */
static int copy_bytea(ex_buf *b, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (ex_buf_reserve(b, n * 2 + 3))
        return TJ_ENOMEM;
    char *o = b->data + b->len;
    *o++ = '\\';
    *o++ = '\\';
    *o++ = 'x';
    for (size_t i = 0; i < n; i++) {
        *o++ = hex[s[i] >> 4];
        *o++ = hex[s[i] & 15];
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

/* Appends one field value of a COPY row (tab before all but the first). */
static int copy_field(void *arg, const tj_record *rec, const char *name,
                      tj_field_type type)
{
    row_arg *a = arg;
    pg_impl *p = a->st->impl;
    ex_buf *b = &p->vals;
    size_t len;
    const char *s;
    int64_t iv;
    double dv;
    if (a->k++ && ex_buf_addc(b, '\t'))
        return TJ_ENOMEM;
    switch (type) {
    case TJ_FIELD_BYTES: {
        s = tj_record_get(rec, name, &len);
        long c = ex_schema_find(&p->sch, name);
        if (c >= 0 && p->sch.cols[c].kind == EX_K_BLOB)
            return copy_bytea(b, (const unsigned char *)s, len);
        return copy_text(b, s, len);
    }
    case TJ_FIELD_JSON:
        s = tj_record_get(rec, name, &len);
        return copy_text(b, s, len);
    case TJ_FIELD_INT:
        tj_record_get_int(rec, name, &iv);
        return ex_int_text(b, iv);
    case TJ_FIELD_DOUBLE:
        tj_record_get_double(rec, name, &dv);
        return ex_double_text(b, dv, false);
    default:
        return ex_buf_adds(b, "\\N");
    }
}

/* ---- binary COPY ------------------------------------------------------------ */
/* A run goes to the server in COPY's binary format when each of its
 * columns has one of the types taojin creates and each value is of the
 * matching kind (bytes for text and bytea, int for bigint, int or double
 * for double precision, JSON for jsonb).  Nothing then needs escaping on
 * this side or parsing on the server's, which was half of the work of a
 * text COPY.  Any other run (a column of a type made by the user, a value
 * the server must convert) goes as text, where the server's own input
 * functions decide as they always did. */
typedef enum bin_form {
    BIN_NONE = 0,
    BIN_RAW,    /* text, bytea: the bytes */
    BIN_INT8,   /* bigint */
    BIN_FLOAT8, /* double precision */
    BIN_JSONB   /* jsonb: version byte 1, then the JSON text */
} bin_form;

static bin_form form_of(const ex_column *c)
{
    if (!strcmp(c->decl, "text") || !strcmp(c->decl, "bytea"))
        return BIN_RAW;
    if (!strcmp(c->decl, "bigint"))
        return BIN_INT8;
    if (!strcmp(c->decl, "double precision"))
        return BIN_FLOAT8;
    if (!strcmp(c->decl, "jsonb"))
        return BIN_JSONB;
    return BIN_NONE;
}

static bool form_takes(int form, tj_field_type t)
{
    switch (form) {
    case BIN_RAW: return t == TJ_FIELD_BYTES;
    case BIN_INT8: return t == TJ_FIELD_INT;
    case BIN_FLOAT8: return t == TJ_FIELD_INT || t == TJ_FIELD_DOUBLE;
    case BIN_JSONB: return t == TJ_FIELD_JSON;
    default: return false;
    }
}

/* Records the form of each column of the run's first record (p->forms);
 * stops (non-zero) at a column that has none. */
static int note_form(void *arg, const tj_record *rec, const char *name,
                     tj_field_type type)
{
    row_arg *a = arg;
    pg_impl *p = a->st->impl;
    long c = ex_schema_find(&p->sch, name);
    int form = c < 0 ? BIN_NONE : (int)form_of(&p->sch.cols[c]);
    if (form == BIN_NONE)
        return 1;
    if (p->nforms == p->forms_cap) {
        size_t cap = p->forms_cap ? p->forms_cap * 2 : 16;
        int *f = realloc(p->forms, cap * sizeof *f);
        if (!f)
            return TJ_ENOMEM;
        p->forms = f;
        p->forms_cap = cap;
    }
    p->forms[p->nforms++] = form;
    return 0;
}

/* Non-zero when the value at position a->k does not fit its column's
 * form. */
static int check_form(void *arg, const tj_record *rec, const char *name,
                      tj_field_type type)
{
    row_arg *a = arg;
    pg_impl *p = a->st->impl;
    return !form_takes(p->forms[a->k++], type);
}

/* True when held[from, to) (one column list) can go as binary COPY. */
static bool run_binary(ex_state *st, size_t from, size_t to)
{
    pg_impl *p = st->impl;
    row_arg a = {st, 0};
    p->nforms = 0;
    if (ex_each_field(st->cfg, st->held[from], note_form, &a) ||
        p->nforms > 0x7fff)
        return false;
    for (size_t i = from; i < to; i++) {
        a.k = 0;
        if (ex_each_field(st->cfg, st->held[i], check_form, &a))
            return false;
    }
    return true;
}

static void put_be32(unsigned char *o, uint32_t v)
{
    o[0] = (unsigned char)(v >> 24);
    o[1] = (unsigned char)(v >> 16);
    o[2] = (unsigned char)(v >> 8);
    o[3] = (unsigned char)v;
}

static void put_be64(unsigned char *o, uint64_t v)
{
    put_be32(o, (uint32_t)(v >> 32));
    put_be32(o + 4, (uint32_t)v);
}

/* Appends a binary COPY field: its length, then `pre` (0 or 1 byte, the
 * jsonb version) and d[0..n). */
static int bin_field(ex_buf *b, const char *pre, const void *d, size_t n)
{
    size_t np = pre ? 1 : 0;
    if (n + np > 0x7fffffff || ex_buf_reserve(b, 4 + np + n))
        return TJ_ENOMEM;
    unsigned char *o = (unsigned char *)b->data + b->len;
    put_be32(o, (uint32_t)(n + np));
    if (pre)
        o[4] = (unsigned char)*pre;
    memcpy(o + 4 + np, d, n);
    b->len += 4 + np + n;
    return 0;
}

/* Appends one field of a binary COPY row in its column's form. */
static int copy_field_bin(void *arg, const tj_record *rec, const char *name,
                          tj_field_type type)
{
    row_arg *a = arg;
    pg_impl *p = a->st->impl;
    int form = p->forms[a->k++];
    unsigned char num[8];
    size_t len;
    const char *s;
    if (form == BIN_RAW || form == BIN_JSONB) {
        s = tj_record_get(rec, name, &len);
        return bin_field(&p->vals, form == BIN_JSONB ? "\1" : NULL, s, len);
    }
    if (type == TJ_FIELD_INT) {
        int64_t iv = 0;
        tj_record_get_int(rec, name, &iv);
        if (form == BIN_INT8) {
            put_be64(num, (uint64_t)iv);
            return bin_field(&p->vals, NULL, num, 8);
        }
        double dv = (double)iv;
        uint64_t bits;
        memcpy(&bits, &dv, 8);
        put_be64(num, bits);
        return bin_field(&p->vals, NULL, num, 8);
    }
    double dv = 0;
    uint64_t bits;
    tj_record_get_double(rec, name, &dv);
    memcpy(&bits, &dv, 8);
    put_be64(num, bits);
    return bin_field(&p->vals, NULL, num, 8);
}

/* Appends one row: text (tab-separated, '\n'-terminated) or binary (field
 * count, then the fields). */
static int copy_row(ex_state *st, const tj_record *rec, bool bin)
{
    pg_impl *p = st->impl;
    row_arg a = {st, 0};
    if (!bin) {
        int rc = ex_each_field(st->cfg, rec, copy_field, &a);
        return rc ? rc : ex_buf_addc(&p->vals, '\n');
    }
    unsigned char cnt[2] = {(unsigned char)(p->nforms >> 8),
                            (unsigned char)p->nforms};
    int rc = ex_buf_add(&p->vals, cnt, 2);
    return rc ? rc : ex_each_field(st->cfg, rec, copy_field_bin, &a);
}

static int sql_col(void *arg, const tj_record *rec, const char *name,
                   tj_field_type type)
{
    row_arg *a = arg;
    pg_impl *p = a->st->impl;
    if (a->k++)
        ex_buf_addc(&p->sql, ',');
    return ex_sql_ident(&p->sql, name);
}

static int sql_set(void *arg, const tj_record *rec, const char *name,
                   tj_field_type type)
{
    row_arg *a = arg;
    pg_impl *p = a->st->impl;
    if (strcmp(name, a->st->cfg->key) == 0)
        return 0;
    ex_buf_adds(&p->sql, a->k++ ? "," : " DO UPDATE SET ");
    ex_sql_ident(&p->sql, name);
    ex_buf_adds(&p->sql, "=EXCLUDED.");
    return ex_sql_ident(&p->sql, name);
}

/* ---- keys of a run ----------------------------------------------------------- */

/* True when two records have the same key (same type, equal value). */
static bool same_key(ex_state *st, const tj_record *a, const tj_record *b)
{
    const char *key = st->cfg->key;
    tj_field_type t = tj_record_type(a, key);
    if (tj_record_type(b, key) != t)
        return false;
    if (t == TJ_FIELD_INT) {
        int64_t x = 0, y = 0;
        tj_record_get_int(a, key, &x);
        tj_record_get_int(b, key, &y);
        return x == y;
    }
    if (t == TJ_FIELD_DOUBLE) {
        double x = 0, y = 0;
        tj_record_get_double(a, key, &x);
        tj_record_get_double(b, key, &y);
        return x == y;
    }
    size_t n, m;
    const char *x = tj_record_get(a, key, &n), *y = tj_record_get(b, key, &m);
    return x && y && n == m && memcmp(x, y, n) == 0;
}

/* FNV-1a of a record's key value and type; equal keys (same_key) hash
 * alike, so -0.0 hashes as 0.0. */
static uint64_t key_hash(ex_state *st, const tj_record *rec)
{
    const char *key = st->cfg->key;
    tj_field_type t = tj_record_type(rec, key);
    unsigned char num[8];
    const unsigned char *d = num;
    size_t n = sizeof num;
    if (t == TJ_FIELD_INT) {
        int64_t v = 0;
        tj_record_get_int(rec, key, &v);
        memcpy(num, &v, 8);
    } else if (t == TJ_FIELD_DOUBLE) {
        double v = 0;
        tj_record_get_double(rec, key, &v);
        if (v == 0)
            v = 0; /* -0.0 */
        memcpy(num, &v, 8);
    } else {
        d = (const unsigned char *)tj_record_get(rec, key, &n);
        n = d ? n : 0;
    }
    uint64_t h = 14695981039346656037ull ^ (uint64_t)t;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 1099511628211ull;
    return h;
}

/* Empties the key set, sized for a run of up to n records. */
static int keys_reset(pg_impl *p, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    if (cap > p->keys_cap) {
        size_t *k = realloc(p->keys, cap * sizeof *k);
        if (!k)
            return TJ_ENOMEM;
        p->keys = k;
        p->keys_cap = cap;
    }
    p->nkeys = cap;
    memset(p->keys, 0, cap * sizeof *p->keys);
    return 0;
}

/* True when held[j]'s key is already in the set (a record of the current
 * run has it); otherwise adds it.  The set holds fewer than half its
 * slots, so probing ends. */
static bool key_seen(ex_state *st, size_t j)
{
    pg_impl *p = st->impl;
    size_t mask = p->nkeys - 1, i = key_hash(st, st->held[j]) & mask;
    for (; p->keys[i]; i = (i + 1) & mask)
        if (same_key(st, st->held[p->keys[i] - 1], st->held[j]))
            return true;
    p->keys[i] = j + 1;
    return false;
}

/* Reports a failed server command: the server's first line and SQLSTATE;
 * TJ_ETYPE when the data was refused (classes 22 and 23, 42804) so the
 * caller can retry record by record. */
static int server_error(ex_state *st, PGresult *res, const char *what)
{
    pg_impl *p = st->impl;
    char line[512];
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int rc = ex_errf(st, TJ_EIO, "%s %s (%s): %s%s%s%s", what,
                     p->qtable.data, p->target,
                     first_line(res_error(p, res), line, sizeof line),
                     state ? " [SQLSTATE " : "", state ? state : "",
                     state ? "]" : "");
    if (state && ((state[0] == '2' && (state[1] == '2' || state[1] == '3')) ||
                  !strcmp(state, "42804")))
        rc = TJ_ETYPE;
    return rc;
}

/* Streams held[from, to) as COPY rows into `into` (columns in p->sql),
 * in binary when run_binary allowed it. */
static int copy_rows(ex_state *st, size_t from, size_t to, const char *into)
{
    pg_impl *p = st->impl;
    ex_buf *cmd = &p->sql; /* " (cols)" from the caller, kept as is */
    bool bin = run_binary(st, from, to);
    size_t n = strlen(into) + cmd->len + 48;
    char *text = malloc(n);
    if (!text)
        return ex_errf(st, TJ_ENOMEM, "out of memory");
    snprintf(text, n, "COPY %s%s FROM STDIN%s", into, cmd->data,
             bin ? " (FORMAT binary)" : "");
    PGresult *res = exec_tx(p, text);
    free(text);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        int rc = server_error(st, res, "cannot copy into");
        PQclear(res);
        return rc;
    }
    PQclear(res);
    static const char bin_head[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0";
    static const char bin_tail[2] = "\377\377";
    int rc = 0;
    p->vals.len = 0;
    if (bin)
        rc = ex_buf_add(&p->vals, bin_head, sizeof bin_head);
    for (size_t i = from; i < to && !rc; i++) {
        rc = copy_row(st, st->held[i], bin);
        if (!rc && bin && i + 1 == to)
            rc = ex_buf_add(&p->vals, bin_tail, sizeof bin_tail);
        if (!rc && (p->vals.len >= (1u << 18) || i + 1 == to)) {
            if (PQputCopyData(p->conn, p->vals.data, (int)p->vals.len) != 1)
                rc = TJ_EIO;
            p->vals.len = 0;
        }
    }
    PQputCopyEnd(p->conn, rc == TJ_ENOMEM ? "out of memory" : NULL);
    res = PQgetResult(p->conn);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    int rc2 = ok ? 0 : server_error(st, res, "cannot copy into");
    PQclear(res);
    while ((res = PQgetResult(p->conn)))
        PQclear(res);
    if (rc == TJ_ENOMEM)
        return ex_errf(st, rc, "out of memory");
    return rc2 ? rc2 : rc ? server_error(st, NULL, "cannot copy into") : 0;
}

/* Forgets the staging tables (after a failed transaction: the ones it
 * created are gone; the rest are dropped and made again on next use). */
static void forget_stages(pg_impl *p)
{
    for (size_t i = 0; i < sizeof p->stage / sizeof p->stage[0]; i++) {
        free(p->stage[i].cols);
        p->stage[i].cols = NULL;
        p->stage[i].dirty = false;
        p->stage[i].used = 0;
    }
}

/* Names in `name` an empty staging table with the columns `cols`,
 * creating it on first use. */
static int stage_table(ex_state *st, const char *cols, char *name, size_t n)
{
    pg_impl *p = st->impl;
    size_t k, victim = 0, nslots = sizeof p->stage / sizeof p->stage[0];
    for (k = 0; k < nslots; k++) {
        if (p->stage[k].cols && strcmp(p->stage[k].cols, cols) == 0)
            break;
        if (p->stage[k].used < p->stage[victim].used)
            victim = k;
    }
    snprintf(name, n, "tj_stage_%zu", k < nslots ? k : victim);
    ex_buf q = {0};
    int rc = 0;
    if (k == nslots) {
        k = victim;
        free(p->stage[k].cols);
        p->stage[k].cols = NULL;
        ex_buf_adds(&q, "DROP TABLE IF EXISTS ");
        ex_buf_adds(&q, name);
        ex_buf_adds(&q, "; CREATE TEMP TABLE ");
        ex_buf_adds(&q, name);
        ex_buf_adds(&q, " ON COMMIT DELETE ROWS AS SELECT ");
        ex_buf_adds(&q, cols);
        ex_buf_adds(&q, " FROM ");
        if (ex_buf_add(&q, p->qtable.data, p->qtable.len) ||
            ex_buf_adds(&q, " LIMIT 0"))
            rc = ex_errf(st, TJ_ENOMEM, "out of memory");
        if (!rc)
            rc = run(st, q.data, "cannot create a staging table for");
        if (!rc && !(p->stage[k].cols = strdup(cols)))
            rc = ex_errf(st, TJ_ENOMEM, "out of memory");
        p->stage[k].dirty = false;
    } else if (p->stage[k].dirty) {
        ex_buf_adds(&q, "TRUNCATE ");
        if (ex_buf_adds(&q, name))
            rc = ex_errf(st, TJ_ENOMEM, "out of memory");
        else
            rc = run(st, q.data, "cannot empty the staging table of");
    }
    if (!rc) {
        p->stage[k].dirty = true;
        p->stage[k].used = ++p->tick;
    }
    ex_buf_free(&q);
    return rc;
}

/* Writes held[from, to) (same columns, no key twice) in one go: COPY
 * straight into the table (append), or COPY into a temporary table and one
 * INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE (upsert). */
static int insert_rows(ex_state *st, size_t from, size_t to)
{
    pg_impl *p = st->impl;
    ex_buf *b = &p->sql;
    row_arg a = {st, 0};
    b->len = 0;
    ex_buf_adds(b, " (");
    ex_each_field(st->cfg, st->held[from], sql_col, &a);
    if (ex_buf_addc(b, ')'))
        return ex_errf(st, TJ_ENOMEM, "out of memory");
    if (!st->upsert)
        return copy_rows(st, from, to, p->qtable.data);
    /* "(cols)" -> "cols" for the SELECT lists */
    char *cols = strndup(b->data + 2, b->len - 3);
    ex_buf q = {0};
    int rc = TJ_ENOMEM;
    if (!cols)
        goto done;
    char stage[32];
    if ((rc = stage_table(st, cols, stage, sizeof stage)) ||
        (rc = copy_rows(st, from, to, stage)))
        goto done;
    q.len = 0;
    ex_buf_adds(&q, "INSERT INTO ");
    ex_buf_add(&q, p->qtable.data, p->qtable.len);
    ex_buf_adds(&q, " (");
    ex_buf_adds(&q, cols);
    ex_buf_adds(&q, ") SELECT ");
    ex_buf_adds(&q, cols);
    ex_buf_adds(&q, " FROM ");
    ex_buf_adds(&q, stage);
    ex_buf_adds(&q, " ON CONFLICT (");
    ex_sql_ident(&q, st->cfg->key);
    ex_buf_addc(&q, ')');
    ex_buf swap = *b; /* sql_set appends to p->sql */
    *b = q;
    b->len = q.len;
    a.k = 0;
    ex_each_field(st->cfg, st->held[from], sql_set, &a);
    if (a.k == 0)
        ex_buf_adds(b, " DO NOTHING");
    bool last = to == p->tx_to; /* the transaction ends with this run */
    if (last)
        ex_buf_adds(b, "; COMMIT");
    q = *b;
    *b = swap;
    if (!q.data) {
        rc = TJ_ENOMEM;
        goto done;
    }
    PGresult *res = exec_tx(p, q.data);
    rc = PQresultStatus(res) == PGRES_COMMAND_OK
             ? 0
             : server_error(st, res, last ? "cannot upsert into (or commit)"
                                          : "cannot upsert into");
    p->committed = last && rc == 0;
    PQclear(res);
done:
    if (rc == TJ_ENOMEM)
        ex_errf(st, rc, "out of memory");
    free(cols);
    ex_buf_free(&q);
    return rc;
}

/* Inserts held[from, to) in as few statements as the rules allow. */
static int insert_range(ex_state *st, size_t from, size_t to)
{
    pg_impl *p = st->impl;
    ex_buf sig = {0}, sig2 = {0};
    int rc = 0;
    size_t i = from;
    while (i < to && !rc) {
        size_t ncols, n2, j = i + 1;
        if ((rc = record_sig(st, st->held[i], &sig, &ncols)) ||
            (st->upsert && (rc = keys_reset(p, to - i))))
            break;
        if (st->upsert)
            key_seen(st, i);
        while (j < to) {
            if ((rc = record_sig(st, st->held[j], &sig2, &n2)))
                break;
            if (n2 != ncols || strcmp(sig.data, sig2.data) != 0 ||
                (st->upsert && key_seen(st, j)))
                break;
            j++;
        }
        if (!rc)
            rc = insert_rows(st, i, j);
        i = j;
    }
    ex_buf_free(&sig);
    ex_buf_free(&sig2);
    if (rc == TJ_ENOMEM)
        ex_errf(st, rc, "out of memory");
    return rc;
}

/* One transaction for held[from, to): BEGIN goes with its first statement
 * and COMMIT with its last upsert (exec_tx, insert_rows), so a batch of
 * one column list costs three round trips (BEGIN+COPY, the COPY's end,
 * INSERT+COMMIT). */
static int tx_range(ex_state *st, size_t from, size_t to)
{
    pg_impl *p = st->impl;
    p->begin_pending = true;
    p->committed = false;
    p->tx_to = to;
    int rc = ensure_columns(st, from, to);
    if (!rc)
        rc = insert_range(st, from, to);
    if (!rc && !p->committed)
        rc = run(st, "COMMIT", "cannot commit");
    p->begin_pending = false;
    p->committed = false;
    for (size_t i = 0; i < sizeof p->stage / sizeof p->stage[0]; i++)
        p->stage[i].dirty = false; /* emptied by the commit or rollback */
    if (rc) {
        forget_stages(p);
        char saved[sizeof st->err];
        memcpy(saved, st->err, sizeof saved);
        PGresult *r = PQexec(p->conn, "ROLLBACK");
        PQclear(r);
        load_schema(st); /* columns created in the batch are gone */
        memcpy(st->err, saved, sizeof saved); /* report the first cause */
    }
    return rc;
}

static int pg_commit(ex_state *st, bool final)
{
    pg_impl *p = st->impl;
    if (st->nheld == 0)
        return 0;
    int rc = tx_range(st, 0, st->nheld);
    if (rc && PQstatus(p->conn) == CONNECTION_BAD) {
        tj_log(st->ctx, TJ_LOG_WARN, "%s; reconnecting", st->err);
        PQreset(p->conn);
        forget_stages(p);
        if (PQstatus(p->conn) != CONNECTION_OK) {
            char line[512];
            return ex_errf(st, TJ_ENET, "lost the connection to %s: %s",
                           p->target,
                           first_line(PQerrorMessage(p->conn), line,
                                      sizeof line));
        }
        session_setup(st);
        load_schema(st);
        rc = tx_range(st, 0, st->nheld);
    }
    if (rc != TJ_ETYPE || st->nheld == 1)
        return rc;
    /* A record's data was refused: find which, commit the others. */
    tj_log(st->ctx, TJ_LOG_WARN, "%s; retrying the batch record by record",
           st->err);
    for (size_t i = 0; i < st->nheld; i++)
        if (tx_range(st, i, i + 1) && !(st->rec_err[i] = strdup(st->err)))
            return ex_errf(st, TJ_ENOMEM, "out of memory");
    return 0;
}

static void pg_close(ex_state *st)
{
    pg_impl *p = st->impl;
    if (p->conn)
        PQfinish(p->conn);
    forget_stages(p);
    ex_schema_clear(&p->sch);
    free(p->keys);
    free(p->forms);
    free(p->schema_name);
    free(p->table_name);
    ex_buf_free(&p->qtable);
    ex_buf_free(&p->sql);
    ex_buf_free(&p->vals);
    free(p);
    st->impl = NULL;
}

const ex_backend ex_backend_postgres = {
    .name = "postgres",
    .open = pg_open,
    .add = pg_add,
    .commit = pg_commit,
    .close = pg_close,
};
