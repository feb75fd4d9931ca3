/*
 * fuzz_convert.c - libFuzzer target for the conversion engine: any bytes
 * through every configuration (with and without protection), through the
 * JSON string rewriter, through detection, and as a user dictionary.
 *
 * The first input byte picks the configuration and the flags; the rest is
 * the text.  Checked beyond "no crash": text without a byte >= 0x80 comes
 * back unchanged from configurations whose keys are all non-ASCII, the
 * invalid-byte count never exceeds the input length, and after detection
 * tc_convert_known converts exactly as tc_convert.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tc_engine.h"
#include "tc_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_conv *cv = NULL;
    tc_userdict *ud = NULL;
    tc_out out = {0};
    char *err = NULL;
    int n = tc_config_count();
    if (size < 1 || n <= 0)
        return 0;
    int cfg = data[0] % n, protect = (data[0] >> 4) & 1;
    int use_dict = (data[0] >> 5) & 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    if (use_dict)
        tc_userdict_parse(text, len, "fuzz", &ud, &err);
    free(err);
    if (tc_conv_new(cfg, ud, protect, &cv))
        goto done;
    if (tc_convert(cv, text, len, &out) == 0) {
        int ascii = 1;
        for (size_t i = 0; i < len; i++)
            ascii &= data[1 + i] < 0x80;
        if (out.invalid > len)
            abort();
        if (ascii && !ud && strcmp(tc_config_name(cfg), "s2twp") != 0 &&
            strcmp(tc_config_name(cfg), "tw2sp") != 0 &&
            (out.len != len || memcmp(out.buf, text, len) != 0))
            abort(); /* only s2twp/tw2sp have keys with ASCII (SQL, PN) */
    }
    out.len = 0;
    tc_json_convert(cv, text, len, &out);
    int chosen = tc_detect(cv, &text, &len, 1, NULL);
    if (chosen >= 0 && protect && !tc_conv_set(cv, chosen, 1)) {
        /* The positions detection recorded give the same conversion. */
        tc_out a = {0}, b = {0};
        if (tc_convert(cv, text, len, &a) == 0 &&
            tc_convert_known(cv, 0, text, len, &b) == 0 &&
            (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0 ||
             a.changes != b.changes))
            abort();
        tc_out_free(&a);
        tc_out_free(&b);
    }
done:
    tc_out_free(&out);
    tc_conv_free(cv);
    tc_userdict_free(ud);
    return 0;
}
