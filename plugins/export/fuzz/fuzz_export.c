/*
 * fuzz_export.c - the export encoders on arbitrary bytes.
 *
 * Properties checked: a record encodes to exactly one JSON line, the host's
 * JSONL reader accepts it, and BYTES fields (UTF-8 or not, via $base64)
 * read back byte for byte; JSON fields stay on one line; the UTF-8
 * validator agrees with the host's; CSV cells parse back to the input.
 */
#include "core.h" /* the host's JSON reader and UTF-8 check */
#include "export.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* Undoes ex_csv_cell: returns the cell's text in out. */
static void csv_unquote(const char *s, size_t n, ex_buf *out)
{
    out->len = 0;
    if (n == 0 || s[0] != '"') {
        ex_buf_add(out, s, n);
        return;
    }
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] == '"')
            i++; /* doubled quote */
        ex_buf_addc(out, s[i]);
    }
}

static void check_bytes(const tj_record *back, const char *name,
                        const uint8_t *want, size_t n)
{
    size_t len = 0;
    const void *got = tj__record_get(back, name, &len);
    if (n == 0 && !got)
        return; /* an empty field may read back as absent */
    /* The host's reader (cJSON) ends strings at \u0000: compare up to the
     * first NUL of valid UTF-8 input. */
    if (memchr(want, 0, n) && tj__utf8_valid((const char *)want, n))
        n = (size_t)((const uint8_t *)memchr(want, 0, n) - want);
    if (n == 0)
        return;
    if (!got || len != n || memcmp(got, want, n) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        taojin_stage_entry(tj__host_api());
        ready = 1;
    }
    if (ex_utf8_valid((const char *)data, size) !=
        tj__utf8_valid((const char *)data, size))
        abort();

    size_t half = size / 2;
    tj_record *rec = tj__record_new();
    tj__record_set_bytes(rec, "a", data, half);
    tj__record_set_bytes(rec, "b\"\n", data + half, size - half);
    tj__record_set_int(rec, "n", (int64_t)size);
    /* When the input is one JSON value it becomes a JSON field too; the
     * line check below then covers its compaction. */
    tj__record_set_json(rec, "j", (const char *)data, size);

    ex_config cfg = {0};
    cfg.key = "url";
    ex_buf line = {0};
    if (ex_record_jsonl(&cfg, rec, &line) != 0)
        abort();
    if (line.len < 3 || line.data[line.len - 1] != '\n' ||
        memchr(line.data, '\n', line.len - 1))
        abort(); /* exactly one line */
    tj_record *back = NULL;
    tj_err err;
    if (tj__record_from_json(line.data, line.len - 1, &back, &err) != 0)
        abort();
    check_bytes(back, "a", data, half);
    check_bytes(back, "b\"\n", data + half, size - half);

    ex_buf cell = {0}, plain = {0};
    ex_csv_cell(&cell, (const char *)data, size);
    csv_unquote(cell.data ? cell.data : "", cell.len, &plain);
    if (plain.len != size || (size && memcmp(plain.data, data, size)))
        abort();

    ex_buf_free(&cell);
    ex_buf_free(&plain);
    ex_buf_free(&line);
    tj__record_free(back);
    tj__record_free(rec);
    return 0;
}
