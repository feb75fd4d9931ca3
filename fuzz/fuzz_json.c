/* libFuzzer target: JSON validation and JSON <-> record conversion (the
 * path of `exec --jsonl`, dead letters and every JSON field a stage sets).
 * Whatever validates must be stored as JSON, our own output must read
 * back, and after one round trip (which turns 1e999 into null and drops
 * it) the text is a fixed point. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    tj_record *r = tj__record_new();
    if (tj__record_set_json(r, "j", text, size) == 0 &&
        tj__record_type(r, "j") != TJ_FIELD_JSON)
        __builtin_trap();
    tj__record_free(r);
    tj_record *rec = NULL;
    tj_err err;
    if (tj__record_from_json(text, size, &rec, &err) == 0) {
        tj_buf a = {0}, b = {0}, c = {0};
        tj_record *back = NULL, *again = NULL;
        tj__record_to_json(rec, &a);
        if (tj__record_from_json(a.data, a.len, &back, &err) != 0)
            __builtin_trap(); /* our own output must read back */
        tj__record_to_json(back, &b);
        if (tj__record_from_json(b.data, b.len, &again, &err) != 0)
            __builtin_trap();
        tj__record_to_json(again, &c);
        if (b.len != c.len || memcmp(b.data, c.data, b.len) != 0)
            __builtin_trap();
        tj__buf_free(&a);
        tj__buf_free(&b);
        tj__buf_free(&c);
        tj__record_free(again);
        tj__record_free(back);
        tj__record_free(rec);
    }
    return 0;
}
