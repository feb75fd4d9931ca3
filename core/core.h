/*
 * core.h - internals shared by the host's modules (not for stages).
 *
 * Error convention: functions that can fail return 0 or a negative TJ_E*
 * code; when a user can cause the failure they also fill a tj_err (a fixed
 * buffer) with a message that names the file, line, stage or URL.
 */
#ifndef TJ_CORE_H
#define TJ_CORE_H

#define TJ_HOST 1
#include "taojin/stage.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct tj_err {
    char msg[1024];
} tj_err;

/* Formats a message into err (if non-NULL) and returns code. */
int tj__errf(tj_err *err, int code, const char *fmt, ...) TJ_PRINTF(3, 4);

/* Text for a TJ_E* code. */
const char *tj__strerror(int code);

/* Growable byte buffer; always NUL-terminated when non-empty. */
typedef struct tj_buf {
    char *data;
    size_t len, cap;
} tj_buf;
int tj__buf_add(tj_buf *b, const void *p, size_t n);
int tj__buf_addf(tj_buf *b, const char *fmt, ...) TJ_PRINTF(2, 3);
void tj__buf_free(tj_buf *b);

/* Logging: messages at or below the level are written to stderr. */
extern int tj__log_level;
void tj__log(tj_log_level level, const char *who, const char *fmt, ...)
    TJ_PRINTF(3, 4);
void tj__logv(tj_log_level level, const char *who, const char *fmt,
              va_list ap);
int tj__parse_log_level(const char *s);

/* Creates the directories above path (mkdir -p of its dirname). */
int tj__mkdir_parent(const char *path);

/* Monotonic clock in nanoseconds. */
uint64_t tj__now_ns(void);

/* ---- records (record.c) ---------------------------------------------- */
tj_record *tj__record_new(void);
tj_record *tj__record_clone(const tj_record *rec);
/* Frees rec and releases its acknowledgement reference with `status`. */
void tj__record_finish(tj_record *rec, tj_ack_status status);
void tj__record_free(tj_record *rec);
size_t tj__record_bytes(const tj_record *rec);
int tj__record_set_ack(tj_record *rec, tj_ack_fn fn, void *arg);
tj_field_type tj__record_type(const tj_record *rec, const char *name);
const void *tj__record_get(const tj_record *rec, const char *name,
                           size_t *len);
int tj__record_get_int(const tj_record *rec, const char *name, int64_t *out);
int tj__record_get_double(const tj_record *rec, const char *name,
                          double *out);
int tj__record_set_bytes(tj_record *rec, const char *name, const void *data,
                         size_t len);
int tj__record_take_bytes(tj_record *rec, const char *name, void *data,
                          size_t len);
int tj__record_set_int(tj_record *rec, const char *name, int64_t v);
int tj__record_set_double(tj_record *rec, const char *name, double v);
int tj__record_set_json(tj_record *rec, const char *name, const char *json,
                        size_t len);
int tj__record_del(tj_record *rec, const char *name);
size_t tj__record_count(const tj_record *rec);
const char *tj__record_field_at(const tj_record *rec, size_t i,
                                tj_field_type *type);

/* ---- JSON <-> record (json.c) ---------------------------------------- */
/* Appends rec as one JSON object (no newline) to out.  BYTES that are not
 * valid UTF-8 become {"$base64": "..."}. */
int tj__record_to_json(const tj_record *rec, tj_buf *out);
/* Builds a record from one JSON object text; TJ_EPARSE with a message. */
int tj__record_from_json(const char *text, size_t len, tj_record **out,
                         tj_err *err);
bool tj__utf8_valid(const char *s, size_t n);
int tj__json_add_string(tj_buf *out, const char *s, size_t n);
/* True when text is exactly one valid JSON value (no tree is built). */
bool tj__json_valid(const char *text, size_t n);
#endif
