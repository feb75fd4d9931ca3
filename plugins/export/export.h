/*
 * export.h - internals shared by the files of the export sink.
 *
 * export.c owns the stage (options, batching, acknowledgement) and hands
 * each record to one backend: jsonl and csv (file.c, writing through the
 * atomic file writer in out.c), sqlite (sqlite.c) or postgres (pg.c).
 * text.c holds the encoders every backend shares (JSON, CSV, base64, UTF-8
 * checks) and schema.c the column rules of the two databases.
 */
#ifndef TJ_EXPORT_H
#define TJ_EXPORT_H

#include "taojin/stage.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- options ------------------------------------------------------------ */
typedef struct ex_config {
    const char *format;
    const char *path;
    const char *dsn;
    const char *table;
    const char *key;
    const char *mode;
    tj_list fields;
    tj_list exclude;
    int append;
    int64_t batch;
    double batch_timeout;
    int64_t gzip_level;
} ex_config;

/* ---- growable buffer ----------------------------------------------------- */
typedef struct ex_buf {
    char *data;
    size_t len, cap;
} ex_buf;

/* Makes room for n more bytes; 0 or TJ_ENOMEM. */
int ex_buf_reserve(ex_buf *b, size_t n);
/* Appends n bytes; 0 or TJ_ENOMEM. */
int ex_buf_add(ex_buf *b, const void *p, size_t n);
int ex_buf_addc(ex_buf *b, char c);
int ex_buf_adds(ex_buf *b, const char *s);
void ex_buf_free(ex_buf *b);

/* ---- encoders (text.c) ---------------------------------------------------- */
/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF).  Uses AVX2 (32 bytes per step) or SSSE3 (16)
 * when the CPU has them; ex_utf8_valid_scalar is the portable version,
 * same answers. */
bool ex_utf8_valid(const char *s, size_t n);
bool ex_utf8_valid_scalar(const char *s, size_t n);
/* Appends a BYTES value as JSON: a string when it is UTF-8, otherwise
 * {"$base64":"..."}. */
int ex_json_bytes(ex_buf *b, const char *s, size_t n);
/* Tests only: when non-zero, ex_json_bytes and ex_json_compact use their
 * byte-at-a-time loops instead of the vector ones (same output). */
extern int ex_json_scalar_only;
/* Appends JSON text on one line (whitespace outside strings removed when the
 * text spans lines). */
int ex_json_compact(ex_buf *b, const char *s, size_t n);
/* Appends the shortest text that reads back as the same double, with ".0"
 * when it would otherwise look like an integer; "null" for NaN/infinity
 * when json is true, "NaN"/"Infinity"/"-Infinity" otherwise. */
int ex_double_text(ex_buf *b, double v, bool json);
int ex_int_text(ex_buf *b, int64_t v);
/* Appends standard base64 (with padding) of s[0..n). */
int ex_base64(ex_buf *b, const unsigned char *s, size_t n);
/* Appends one CSV cell (RFC 4180: quoted when it holds , " CR or LF). */
int ex_csv_cell(ex_buf *b, const char *s, size_t n);

/* ---- field selection ------------------------------------------------------- */
/* Calls fn for each exported field of rec, in output order: the `fields:`
 * list when given (absent fields skipped), else the record's own order;
 * `exclude:` names are skipped.  Stops at and returns fn's first non-zero
 * result. */
typedef int (*ex_field_fn)(void *arg, const tj_record *rec, const char *name,
                           tj_field_type type);
int ex_each_field(const ex_config *cfg, const tj_record *rec, ex_field_fn fn,
                  void *arg);
/* Appends rec as one JSON object line ("{...}\n"). */
int ex_record_jsonl(const ex_config *cfg, const tj_record *rec, ex_buf *out);

/* ---- the atomic file writer (out.c) ---------------------------------------- */
typedef struct ex_out {
    int fd;
    char *path; /* final path ("-" for stdout) */
    char *tmp;  /* temporary path beside it, NULL when appending/stdout */
    bool append, to_stdout, gz, failed, finished;
    int gz_level;
    void *zs; /* z_stream when gz */
    ex_buf buf;
    off_t committed; /* append: size known good (truncate back to it) */
    int code;        /* TJ_E* of the sticky failure */
    char err[512];
} ex_out;

/* Opens the writer: a temporary file beside path (or path itself with
 * append, or stdout for "-").  A ".gz" path is gzip-compressed.  On failure
 * returns a TJ_E* code with out->err naming the path and the cause. */
int ex_out_open(ex_out *out, const char *path, bool append, int gz_level);
/* Creates the missing directories above path (mkdir -p of its dirname);
 * failures are left for the open that follows to report. */
void ex_mkdir_parent(const char *path);
/* Buffers n bytes; writes when the buffer is large.  A write error is
 * sticky: this and every later call return TJ_EIO/TJ_EFULL. */
int ex_out_write(ex_out *out, const void *p, size_t n);
/* Append mode and stdout: writes and syncs what is buffered so that the
 * data written so far survives (a gzip member is closed).  No-op for
 * temporary files (they commit at ex_out_finish). */
int ex_out_checkpoint(ex_out *out);
/* Completes the file: flushes, syncs, and renames the temporary over path. */
int ex_out_finish(ex_out *out);
/* Abandons unfinished output: the temporary is removed, an appended file is
 * truncated back to its last checkpoint.  Frees everything; safe twice. */
void ex_out_close(ex_out *out);
/* Size of the file path refers to after opening (append) or 0. */
off_t ex_out_initial_size(const ex_out *out);

/* ---- backends ------------------------------------------------------------------ */
typedef struct ex_state ex_state;

typedef struct ex_backend {
    const char *name;
    /* Opens the target; an error message goes to st->err. */
    int (*open)(ex_state *st);
    /* Writes or queues one record (already held by export.c only after this
     * returns 0).  A non-zero return fails just this record, message in
     * st->err. */
    int (*add)(ex_state *st, tj_record *rec);
    /* Commits what was added since the last commit.  `final` is set at
     * flush.  On success returns 0; on failure a TJ_E* code, st->err set,
     * and nothing of the batch is kept.  A backend may set st->rec_err[i]
     * to fail single records while committing the rest. */
    int (*commit)(ex_state *st, bool final);
    /* Releases everything; an uncommitted batch is rolled back. */
    void (*close)(ex_state *st);
} ex_backend;

extern const ex_backend ex_backend_jsonl, ex_backend_csv, ex_backend_sqlite,
    ex_backend_postgres;

struct ex_state {
    tj_ctx *ctx;
    const ex_config *cfg; /* &conf */
    ex_config conf;
    const ex_backend *be;
    void *impl; /* the backend's own state */
    bool upsert;

    tj_record **held; /* added, not yet committed */
    char **rec_err;   /* per held record: NULL or a message (commit sets) */
    size_t nheld, capheld;
    double batch_started; /* monotonic seconds, first record of the batch */
    bool batches; /* commits every `batch` records (else only at flush) */
    bool lost;    /* the backend lost the uncommitted batch (st->err) */
    bool flushed;
    char err[1024];
};

/* Formats st->err and returns code.  Messages carry no stage prefix: the
 * host adds the stage's instance name. */
int ex_errf(ex_state *st, int code, const char *fmt, ...) TJ_PRINTF(3, 4);
/* Deletes every field of a held record except the key, so records held
 * until the end of a run cost a few bytes each (file formats). */
void ex_strip_record(ex_state *st, tj_record *rec);

/* ---- database column rules (schema.c) ------------------------------------------- */
typedef enum ex_kind {
    EX_K_NONE = 0,
    EX_K_TEXT,    /* UTF-8 text */
    EX_K_BLOB,    /* bytes */
    EX_K_INTEGER, /* 64-bit integer */
    EX_K_REAL,    /* double */
    EX_K_JSON,    /* a JSON value */
    EX_K_OTHER    /* a type taojin did not create: the database decides */
} ex_kind;

typedef struct ex_column {
    char *name;
    ex_kind kind;
    char *decl; /* declared type as the database reports it */
} ex_column;

typedef struct ex_schema {
    ex_column *cols;
    size_t n, cap;
    bool exists; /* the table exists in the database */
} ex_schema;

/* Index of column `name` or -1. */
long ex_schema_find(const ex_schema *s, const char *name);
/* The same, trying column `hint` first: records usually carry their fields
 * in the order of the table's columns. */
long ex_schema_find_near(const ex_schema *s, const char *name, size_t hint);
int ex_schema_add(ex_schema *s, const char *name, ex_kind kind,
                  const char *decl);
void ex_schema_clear(ex_schema *s);
/* The kind a new column gets for a field value; `text_ok` says whether a
 * BYTES value can be stored as text in this database. */
ex_kind ex_kind_for_value(tj_field_type type, bool text_ok);
/* 0 when a value of `type` (text_ok as above) can go into a column of
 * kind `col`, else -1. */
int ex_kind_accepts(ex_kind col, tj_field_type type, bool text_ok);
const char *ex_kind_name(ex_kind k);
const char *ex_field_type_name(tj_field_type t);
/* Appends name as a double-quoted SQL identifier. */
int ex_sql_ident(ex_buf *b, const char *name);

/* ---- background WAL checkpoints (ckpt.c) ----------------------------------------- */
typedef struct ex_ckpt ex_ckpt;
struct sqlite3;
/* Moves the WAL checkpoints of connection db (in WAL mode, on the file
 * path) to a thread with its own connection, started once the WAL holds
 * `limit` frames; replaces SQLite's automatic checkpoint.  Returns NULL
 * when the thread or its connection cannot be had: db then keeps the
 * automatic checkpoint it had. */
ex_ckpt *ex_ckpt_start(struct sqlite3 *db, const char *path, int limit);
/* Stops the thread and closes its connection (before db is closed, so
 * that db's close is the last and checkpoints the rest); db gets back
 * the automatic checkpoint at `limit`.  NULL is a no-op. */
void ex_ckpt_stop(ex_ckpt *c);
/* Tests only: when > 0, the WAL size in frames that starts a checkpoint
 * (sqlite.c), instead of 32 MB worth of pages. */
extern int ex_sqlite_wal_frames;
/* Tests only: checkpoint passes the threads of this process have run. */
extern int ex_ckpt_passes;

/* Monotonic clock in seconds. */
double ex_now(void);
#endif
