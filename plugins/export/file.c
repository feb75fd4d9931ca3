/*
 * file.c - the jsonl and csv backends, both writing through the atomic file
 * writer of out.c.
 *
 * JSON Lines: one object per record, fields in record order (or `fields:`
 * order).  BYTES become strings when they are UTF-8, else
 * {"$base64":"..."}; INT and DOUBLE numbers; JSON fields their value.
 *
 * CSV (RFC 4180: CRLF rows, quotes doubled, UTF-8, a header row): the
 * columns are `fields:` when given; otherwise the union of the fields of the
 * first batch (`batch` records are buffered before the header is written),
 * in first-seen order.  A field first seen after that has no column: it is
 * left out, with one warning per name and the counter csv_dropped_fields.
 * Appending to a non-empty CSV file reuses the header already in it.
 * Cells: text as is, numbers as text, JSON values as JSON text, BYTES that
 * are not UTF-8 as {"$base64":"..."}, absent fields as empty cells.
 */
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct file_impl {
    ex_out out;
    /* csv only */
    char **cols;
    size_t ncols;
    bool header_done;
    tj_record **pending; /* added before the header was decided */
    size_t npending, cappending;
    char **warned;
    size_t nwarned;
} file_impl;

/* Opens the output shared by both formats. */
static int file_open(ex_state *st)
{
    file_impl *f = calloc(1, sizeof *f);
    if (!f)
        return ex_errf(st, TJ_ENOMEM, "out of memory");
    st->impl = f;
    int rc = ex_out_open(&f->out, st->cfg->path, st->cfg->append,
                         (int)st->cfg->gzip_level);
    if (rc)
        return ex_errf(st, rc, "%s", f->out.err);
    /* A temporary file commits once, at the end; appended files and stdout
     * commit batch by batch. */
    st->batches = f->out.tmp == NULL;
    return 0;
}

static void file_close(ex_state *st)
{
    file_impl *f = st->impl;
    ex_out_close(&f->out);
    for (size_t i = 0; i < f->ncols; i++)
        free(f->cols[i]);
    for (size_t i = 0; i < f->nwarned; i++)
        free(f->warned[i]);
    free(f->cols);
    free(f->warned);
    free(f->pending);
    free(f);
    st->impl = NULL;
}

/* Reports a write failure: the output is unusable from now on, so the
 * records held for it are lost too. */
static int write_failed(ex_state *st, int rc)
{
    file_impl *f = st->impl;
    st->lost = true;
    return ex_errf(st, rc, "%s", f->out.err[0] ? f->out.err : tj_strerror(rc));
}

static int file_commit(ex_state *st, bool final)
{
    file_impl *f = st->impl;
    int rc = final ? ex_out_finish(&f->out) : ex_out_checkpoint(&f->out);
    if (rc)
        return ex_errf(st, rc, "%s", f->out.err);
    if (final && !f->out.to_stdout)
        tj_log(st->ctx, TJ_LOG_INFO, "wrote %s", st->cfg->path);
    return 0;
}

/* ---- jsonl ------------------------------------------------------------------ */
static int jsonl_add(ex_state *st, tj_record *rec)
{
    file_impl *f = st->impl;
    if (f->out.failed)
        return write_failed(st, f->out.code);
    if (ex_record_jsonl(st->cfg, rec, &f->out.buf))
        return ex_errf(st, TJ_ENOMEM, "out of memory encoding a record");
    int rc = ex_out_write(&f->out, "", 0); /* writes when the buffer is full */
    if (rc)
        return write_failed(st, rc);
    if (!st->batches)
        ex_strip_record(st, rec);
    return 0;
}

const ex_backend ex_backend_jsonl = {
    .name = "jsonl",
    .open = file_open,
    .add = jsonl_add,
    .commit = file_commit,
    .close = file_close,
};

/* ---- csv ---------------------------------------------------------------------- */
static bool has_name(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static int add_col(file_impl *f, const char *name)
{
    char **c = realloc(f->cols, (f->ncols + 1) * sizeof *c);
    if (!c)
        return TJ_ENOMEM;
    f->cols = c;
    if (!(c[f->ncols] = strdup(name)))
        return TJ_ENOMEM;
    f->ncols++;
    return 0;
}

static int union_field(void *arg, const tj_record *rec, const char *name,
                       tj_field_type type)
{
    file_impl *f = arg;
    if (has_name(f->cols, f->ncols, name))
        return 0;
    return add_col(f, name);
}

/* Parses the header line of an existing CSV file into f->cols. */
static int parse_header(file_impl *f, const char *line)
{
    ex_buf cell = {0};
    const char *p = line;
    int rc = 0;
    for (;;) {
        cell.len = 0;
        if (*p == '"') {
            for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
                if (*p == '"')
                    p++;
                if ((rc = ex_buf_addc(&cell, *p)))
                    goto done;
            }
            if (*p == '"')
                p++;
        }
        while (*p && *p != ',' && *p != '\r' && *p != '\n')
            if ((rc = ex_buf_addc(&cell, *p++)))
                goto done;
        if ((rc = add_col(f, cell.data ? cell.data : "")))
            goto done;
        if (*p != ',')
            break;
        p++;
    }
done:
    ex_buf_free(&cell);
    return rc;
}

/* Reads the header of the file being appended to, if it has one. */
static int read_existing_header(ex_state *st)
{
    file_impl *f = st->impl;
    char line[65536];
    gzFile gz = gzopen(st->cfg->path, "rb");
    if (!gz)
        return 0;
    int rc = 0;
    if (gzgets(gz, line, sizeof line) && line[0] && line[0] != '\n') {
        rc = parse_header(f, line);
        f->header_done = true;
    }
    gzclose(gz);
    return rc;
}

/* Writes the header row from f->cols. */
static int write_header(ex_state *st)
{
    file_impl *f = st->impl;
    ex_buf *b = &f->out.buf;
    f->header_done = true;
    if (f->ncols == 0) /* no records and no fields: an empty file */
        return 0;
    for (size_t i = 0; i < f->ncols; i++)
        if ((i && ex_buf_addc(b, ',')) ||
            ex_csv_cell(b, f->cols[i], strlen(f->cols[i])))
            return TJ_ENOMEM;
    return ex_buf_add(b, "\r\n", 2);
}

/* Appends one cell for a field value. */
static int csv_value(ex_buf *b, ex_buf *tmp, const tj_record *rec,
                     const char *name)
{
    size_t len;
    const char *s;
    int64_t iv;
    double dv;
    tmp->len = 0;
    switch (tj_record_type(rec, name)) {
    case TJ_FIELD_BYTES:
        s = tj_record_get(rec, name, &len);
        if (ex_utf8_valid(s, len))
            return ex_csv_cell(b, s, len);
        if (ex_json_bytes(tmp, s, len))
            return TJ_ENOMEM;
        return ex_csv_cell(b, tmp->data, tmp->len);
    case TJ_FIELD_JSON:
        s = tj_record_get(rec, name, &len);
        if (ex_json_compact(tmp, s, len))
            return TJ_ENOMEM;
        return ex_csv_cell(b, tmp->data, tmp->len);
    case TJ_FIELD_INT:
        tj_record_get_int(rec, name, &iv);
        return ex_int_text(b, iv);
    case TJ_FIELD_DOUBLE:
        tj_record_get_double(rec, name, &dv);
        return ex_double_text(b, dv, false);
    default:
        return 0;
    }
}

typedef struct extra_arg {
    ex_state *st;
} extra_arg;

/* Warns once about each exported field that has no column. */
static int note_extra(void *arg, const tj_record *rec, const char *name,
                      tj_field_type type)
{
    ex_state *st = arg;
    file_impl *f = st->impl;
    if (has_name(f->cols, f->ncols, name))
        return 0;
    tj_count(st->ctx, "csv_dropped_fields", 1);
    if (has_name(f->warned, f->nwarned, name))
        return 0;
    char **w = realloc(f->warned, (f->nwarned + 1) * sizeof *w);
    if (!w)
        return 0;
    f->warned = w;
    if ((w[f->nwarned] = strdup(name)))
        f->nwarned++;
    tj_log(st->ctx, TJ_LOG_WARN,
           "csv %s: field '%s' appeared after the header was written; it is "
           "left out (list it in fields: to keep it)",
           st->cfg->path, name);
    return 0;
}

/* Writes one data row. */
static int write_row(ex_state *st, tj_record *rec)
{
    file_impl *f = st->impl;
    ex_buf *b = &f->out.buf, tmp = {0};
    size_t mark = b->len;
    int rc = 0;
    for (size_t i = 0; i < f->ncols && !rc; i++) {
        if (i)
            rc = ex_buf_addc(b, ',');
        if (!rc && !has_name((char **)st->cfg->exclude.items,
                             st->cfg->exclude.n, f->cols[i]))
            rc = csv_value(b, &tmp, rec, f->cols[i]);
    }
    if (!rc)
        rc = ex_buf_add(b, "\r\n", 2);
    ex_buf_free(&tmp);
    if (rc) {
        b->len = mark;
        return ex_errf(st, rc, "out of memory encoding a CSV row");
    }
    ex_each_field(st->cfg, rec, note_extra, st);
    if ((rc = ex_out_write(&f->out, "", 0)))
        return write_failed(st, rc);
    if (!st->batches)
        ex_strip_record(st, rec);
    return 0;
}

/* Fixes the columns from the pending records, writes header and rows. */
static int decide_columns(ex_state *st)
{
    file_impl *f = st->impl;
    int rc = 0;
    for (size_t i = 0; i < f->npending && !rc; i++)
        rc = ex_each_field(st->cfg, f->pending[i], union_field, f);
    if (rc || (rc = write_header(st)))
        return ex_errf(st, rc, "out of memory building the CSV header");
    for (size_t i = 0; i < f->npending; i++)
        if ((rc = write_row(st, f->pending[i])))
            break;
    f->npending = 0;
    return rc;
}

static int csv_open(ex_state *st)
{
    int rc = file_open(st);
    if (rc)
        return rc;
    file_impl *f = st->impl;
    if (st->cfg->append && ex_out_initial_size(&f->out) > 0 &&
        (rc = read_existing_header(st)))
        return ex_errf(st, rc, "cannot read the header of %s", st->cfg->path);
    if (!f->header_done && st->cfg->fields.n) {
        for (size_t i = 0; i < st->cfg->fields.n && !rc; i++)
            if (!has_name((char **)st->cfg->exclude.items, st->cfg->exclude.n,
                          st->cfg->fields.items[i]))
                rc = add_col(f, st->cfg->fields.items[i]);
        if (rc || (rc = write_header(st)))
            return ex_errf(st, rc, "out of memory");
    }
    return 0;
}

static int csv_add(ex_state *st, tj_record *rec)
{
    file_impl *f = st->impl;
    if (f->out.failed)
        return write_failed(st, f->out.code);
    if (f->header_done)
        return write_row(st, rec);
    if (f->npending == f->cappending) {
        size_t cap = f->cappending ? f->cappending * 2 : 64;
        tj_record **p = realloc(f->pending, cap * sizeof *p);
        if (!p)
            return ex_errf(st, TJ_ENOMEM, "out of memory");
        f->pending = p;
        f->cappending = cap;
    }
    f->pending[f->npending++] = rec;
    if (f->npending >= (size_t)st->cfg->batch)
        return decide_columns(st);
    return 0;
}

static int csv_commit(ex_state *st, bool final)
{
    file_impl *f = st->impl;
    if (!f->header_done) {
        int rc = decide_columns(st);
        if (rc)
            return rc;
    }
    return file_commit(st, final);
}

const ex_backend ex_backend_csv = {
    .name = "csv",
    .open = csv_open,
    .add = csv_add,
    .commit = csv_commit,
    .close = file_close,
};
