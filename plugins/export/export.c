/*
 * export.c - the export sink: writes records to JSON Lines, CSV, SQLite or
 * PostgreSQL, and acknowledges each record only once the batch holding it
 * is committed.
 *
 * Flow: process() hands the record to the backend (which writes or queues
 * it), then holds it (tj_hold).  Every `batch` records, or when the oldest
 * held record is older than `batch_timeout` at the arrival of the next, the
 * backend commits and each held record is finished with tj_done: delivered,
 * or failed with the backend's message.  Temporary files commit only at
 * flush (end of input), so their records stay held until then; their fields
 * are dropped as soon as they are written (except the key) so memory stays
 * small however long the run.
 */
#include "export.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const tj_option ex_options[] = {
    {"format", TJ_OPT_STRING, NULL, 0, "jsonl|csv|sqlite|postgres",
     "output format; unset: postgres when dsn is set, jsonl for '-' and "
     ".jsonl/.ndjson paths, csv for .csv paths (also with .gz), else sqlite",
     offsetof(ex_config, format)},
    {"path", TJ_OPT_STRING, NULL, 0, NULL,
     "output file (jsonl, csv: '-' is stdout, '.gz' compresses) or SQLite "
     "database",
     offsetof(ex_config, path)},
    {"dsn", TJ_OPT_STRING, NULL, 0, NULL,
     "PostgreSQL connection string (postgres format)",
     offsetof(ex_config, dsn)},
    {"table", TJ_OPT_STRING, "records", 0, NULL,
     "table to write (sqlite, postgres; 'schema.table' for postgres)",
     offsetof(ex_config, table)},
    {"key", TJ_OPT_STRING, "url", 0, NULL,
     "field whose value identifies a row: upsert key (sqlite, postgres)",
     offsetof(ex_config, key)},
    {"mode", TJ_OPT_STRING, "upsert", 0, "upsert|append",
     "upsert: one row per key, updated; append: a row per record",
     offsetof(ex_config, mode)},
    {"fields", TJ_OPT_LIST, NULL, 0, NULL,
     "fields to export, in this order (default: all, in record order)",
     offsetof(ex_config, fields)},
    {"exclude", TJ_OPT_LIST, NULL, 0, NULL, "fields never exported",
     offsetof(ex_config, exclude)},
    {"append", TJ_OPT_BOOL, "false", 0, NULL,
     "files: append to path instead of replacing it atomically",
     offsetof(ex_config, append)},
    {"batch", TJ_OPT_INT, "500", 0, NULL,
     "records per transaction / file sync",
     offsetof(ex_config, batch)},
    {"batch_timeout", TJ_OPT_DURATION, "1s", 0, NULL,
     "commit a partial batch when its oldest record is this old (checked "
     "as records arrive; 0 = off)",
     offsetof(ex_config, batch_timeout)},
    {"gzip_level", TJ_OPT_INT, "6", 0, NULL,
     "compression level 1-9 for '.gz' paths",
     offsetof(ex_config, gzip_level)},
    TJ_OPTION_END,
};

int ex_errf(ex_state *st, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err, sizeof st->err, fmt, ap);
    va_end(ap);
    return code;
}

void ex_strip_record(ex_state *st, tj_record *rec)
{
    char name[256];
    tj_field_type t;
    const char *f;
    size_t i = 0;
    while ((f = tj_record_field_at(rec, i, &t))) {
        if (strcmp(f, st->cfg->key) == 0 || strlen(f) >= sizeof name) {
            i++;
            continue;
        }
        memcpy(name, f, strlen(f) + 1); /* f dies with the field */
        tj_record_del(rec, name);
    }
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The format when `format:` is not given: from dsn or the path's name. */
static const char *infer_format(const ex_config *c)
{
    if (c->dsn && *c->dsn)
        return "postgres";
    const char *p = c->path ? c->path : "";
    if (!strcmp(p, "-") || ends_with(p, ".jsonl") || ends_with(p, ".ndjson") ||
        ends_with(p, ".jsonl.gz") || ends_with(p, ".ndjson.gz"))
        return "jsonl";
    if (ends_with(p, ".csv") || ends_with(p, ".csv.gz"))
        return "csv";
    return "sqlite";
}

/* Picks the backend for cfg->format. */
static const ex_backend *backend_for(const char *format)
{
    if (strcmp(format, "jsonl") == 0)
        return &ex_backend_jsonl;
    if (strcmp(format, "csv") == 0)
        return &ex_backend_csv;
    if (strcmp(format, "postgres") == 0)
        return &ex_backend_postgres;
    return &ex_backend_sqlite;
}

static bool listed(const tj_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], name) == 0)
            return true;
    return false;
}

/* Checks the option combinations the table alone cannot express. */
static int check_config(tj_ctx *ctx, const ex_config *c)
{
    bool file = !strcmp(c->format, "jsonl") || !strcmp(c->format, "csv");
    bool db = !file;
    if (c->batch < 1)
        return tj_error(ctx, "batch must be at least 1 (got %lld)",
                        (long long)c->batch);
    if (c->gzip_level < 1 || c->gzip_level > 9)
        return tj_error(ctx, "gzip_level must be 1..9 (got %lld)",
                        (long long)c->gzip_level);
    if (strcmp(c->format, "postgres") == 0 && (!c->dsn || !*c->dsn))
        return tj_error(ctx, "format postgres needs `dsn` (e.g. "
                             "\"host=127.0.0.1 dbname=news\")");
    if (strcmp(c->format, "postgres") != 0 && (!c->path || !*c->path))
        return tj_error(ctx, "format %s needs `path`%s", c->format,
                        file ? " (a file, or '-' for stdout)" : "");
    if (db && !strcmp(c->format, "sqlite") && !strcmp(c->path, "-"))
        return tj_error(ctx, "format sqlite cannot write to '-'");
    if (file && tj_worker_index(ctx) > 0)
        return tj_error(ctx, "format %s writes one file: use "
                             "workers: 1 for this stage", c->format);
    if (db && !strcmp(c->mode, "upsert")) {
        if (!c->key || !*c->key)
            return tj_error(ctx, "mode upsert needs a `key` field");
        if (listed(&c->exclude, c->key) ||
            (c->fields.n && !listed(&c->fields, c->key)))
            return tj_error(ctx, "the upsert key '%s' must be "
                                 "exported: add it to fields: / remove it "
                                 "from exclude: (or use mode: append)",
                            c->key);
    }
    return 0;
}

static void state_free(ex_state *st)
{
    if (!st)
        return;
    if (st->impl && st->be)
        st->be->close(st);
    free(st->held);
    free(st->rec_err);
    free(st);
}

static int ex_init(tj_ctx *ctx, const void *config, void **state)
{
    ex_state *st = calloc(1, sizeof *st);
    if (!st)
        return TJ_ENOMEM;
    /* A copy, so the inferred format can be filled in; its strings belong
     * to the host and stay valid until fini. */
    st->conf = *(const ex_config *)config;
    if (!st->conf.format)
        st->conf.format = infer_format(&st->conf);
    const ex_config *cfg = st->cfg = &st->conf;
    int rc = check_config(ctx, cfg);
    if (rc) {
        free(st);
        return rc;
    }
    st->ctx = ctx;
    st->be = backend_for(cfg->format);
    st->upsert = strcmp(cfg->mode, "upsert") == 0;
    st->batches = true;
    if ((rc = st->be->open(st))) {
        tj_error(ctx, "%s", st->err);
        state_free(st);
        return rc;
    }
    *state = st;
    return 0;
}

/* Finishes every held record: delivered when error is NULL and the backend
 * did not fail it individually, else failed with a message. */
static void finish_held(ex_state *st, const char *error)
{
    for (size_t i = 0; i < st->nheld; i++) {
        const char *msg = error ? error : st->rec_err[i];
        tj_done(st->ctx, st->held[i], msg);
        free(st->rec_err[i]);
        st->rec_err[i] = NULL;
    }
    if (!error && st->nheld)
        tj_count(st->ctx, "batches", 1);
    st->nheld = 0;
}

/* Commits the current batch and acknowledges its records. */
static int commit_batch(ex_state *st, bool final)
{
    int rc = st->be->commit(st, final);
    finish_held(st, rc ? st->err : NULL);
    return rc;
}

/* Makes room in the held arrays for one more record. */
static int held_room(ex_state *st)
{
    if (st->nheld == st->capheld) {
        size_t cap = st->capheld ? st->capheld * 2 : 64;
        tj_record **h = realloc(st->held, cap * sizeof *h);
        if (!h)
            return TJ_ENOMEM;
        st->held = h;
        char **e = realloc(st->rec_err, cap * sizeof *e);
        if (!e)
            return TJ_ENOMEM;
        st->rec_err = e;
        st->capheld = cap;
    }
    return 0;
}

/* Holds the record being processed (room was made by held_room). */
static int hold_record(ex_state *st, tj_record *rec)
{
    int rc = tj_hold(st->ctx, rec);
    if (rc)
        return rc;
    if (st->nheld == 0)
        st->batch_started = ex_now();
    st->rec_err[st->nheld] = NULL;
    st->held[st->nheld++] = rec;
    return 0;
}

static int ex_process(tj_ctx *ctx, void *state, tj_record *rec)
{
    ex_state *st = state;
    if (!st->impl) /* output abandoned by a stopped flush */
        return tj_error(ctx, "%s", st->err);
    if (held_room(st))
        return tj_error(ctx, "out of memory holding records");
    int rc = st->be->add(st, rec);
    if (st->lost) { /* earlier records of the batch are gone too */
        finish_held(st, st->err);
        st->lost = false;
    }
    if (rc)
        return tj_error(ctx, "%s", st->err);
    if ((rc = hold_record(st, rec)))
        return tj_error(ctx, "cannot hold record: %s",
                        tj_strerror(rc));
    if (!st->batches)
        return 0;
    if (st->nheld >= (size_t)st->cfg->batch ||
        (st->cfg->batch_timeout > 0 &&
         ex_now() - st->batch_started >= st->cfg->batch_timeout))
        commit_batch(st, false); /* failures go to the records */
    return 0;
}

static int ex_flush(tj_ctx *ctx, void *state)
{
    ex_state *st = state;
    if (!st->impl)
        return tj_error(ctx, "%s", st->err);
    if (!st->batches && tj_should_stop(ctx)) {
        /* The run is ending early (an error elsewhere, or a signal): a
         * temporary file holds only part of the input, and replacing path
         * with it would pass a partial export off as a complete one. */
        ex_errf(st, TJ_ECANCELED, "the run stopped before the end of its "
                                  "input: %s is left unchanged",
                st->cfg->path);
        finish_held(st, st->err);
        st->be->close(st); /* removes the temporary */
        return tj_error(ctx, "%s", st->err);
    }
    int rc = commit_batch(st, true);
    st->flushed = true;
    if (rc)
        return tj_error(ctx, "%s", st->err);
    return 0;
}

static void ex_fini(void *state)
{
    ex_state *st = state;
    if (!st)
        return;
    if (st->nheld)
        finish_held(st, "the run stopped before this record's batch "
                        "was committed");
    state_free(st);
}

static const tj_stage_desc ex_desc = {
    .abi_version = TJ_ABI_VERSION,
    .struct_size = sizeof(tj_stage_desc),
    .name = "export",
    .description = "write records to JSON Lines, CSV, SQLite or PostgreSQL; "
                   "acknowledge after commit",
    .kind = TJ_SINK,
    .options = ex_options,
    .config_size = sizeof(ex_config),
    .init = ex_init,
    .process = ex_process,
    .flush = ex_flush,
    .fini = ex_fini,
};

TJ_STAGE_DEFINE(ex_desc)
