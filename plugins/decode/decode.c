/*
 * decode.c - the decode stage: inflates gzip/deflate bodies and turns the
 * bytes of any charset a Chinese page arrives in into UTF-8 text, saying
 * which charset it used and how it knew (charset, charset_source,
 * decode_errors).  Charset resolution lives in charset.c, the converters in
 * convert.c, inflation in inflate.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "convert.h"
#include "inflate.h"
#include "taojin/stage.h"

typedef struct decode_config {
    const char *charset;  /* forces a charset when set */
    const char *fallback; /* last resort */
    int64_t max_inflated; /* cap on an inflated body */
} decode_config;

typedef struct decode_state {
    const decode_config *cfg;
    char forced[CS_NAME_MAX]; /* canonical `charset`, "" when unset */
    char fallback[CS_NAME_MAX];
    cs_detector *det;
} decode_state;

static const tj_option decode_options[] = {
    {"charset", TJ_OPT_STRING, NULL, 0, NULL,
     "force this charset (a label such as gbk, big5, utf-8) and skip "
     "detection; charset_source becomes 'forced'",
     offsetof(decode_config, charset)},
    {"fallback", TJ_OPT_STRING, "GB18030", 0, NULL,
     "charset used when no BOM, label or detection holds",
     offsetof(decode_config, fallback)},
    {"max_inflated", TJ_OPT_SIZE, "64M", 0, NULL,
     "largest body gzip/deflate may inflate to; more is a record error "
     "(a gzip bomb)",
     offsetof(decode_config, max_inflated)},
    TJ_OPTION_END};

/* Canonicalises the charset named by option `name`, or fails init. */
static int option_charset(tj_ctx *ctx, const char *name, const char *label,
                          char *out)
{
    if (cs_canonical(label, strlen(label), out) == 0)
        return 0;
    tj_error(ctx, "option '%s': unknown or unsupported charset '%s'", name,
             label);
    return TJ_ECONFIG;
}

static void decode_fini(void *state)
{
    decode_state *st = state;
    if (!st)
        return;
    cs_detector_free(st->det);
    free(st);
}

static int decode_init(tj_ctx *ctx, const void *config, void **state)
{
    const decode_config *cfg = config;
    decode_state *st = calloc(1, sizeof *st);
    int rc = TJ_ENOMEM;
    if (!st || !(st->det = cs_detector_new()))
        goto fail;
    st->cfg = cfg;
    if (cfg->charset &&
        (rc = option_charset(ctx, "charset", cfg->charset, st->forced)))
        goto fail;
    if ((rc = option_charset(ctx, "fallback", cfg->fallback ? cfg->fallback
                                                            : "GB18030",
                             st->fallback)))
        goto fail;
    if (cfg->max_inflated <= 0) {
        tj_error(ctx, "option 'max_inflated' must be positive");
        rc = TJ_ECONFIG;
        goto fail;
    }
    if ((rc = conv_init_tables()) != 0) {
        tj_error(ctx, "iconv lacks GB18030 or BIG5-HKSCS");
        goto fail;
    }
    *state = st;
    return 0;
fail:
    if (rc == TJ_ENOMEM)
        tj_error(ctx, "out of memory");
    decode_fini(st);
    return rc;
}

/* How the body is compressed: 1 and *mode set, 0 not compressed, or
 * TJ_EINVAL for an encoding this stage does not undo. */
static int body_encoding(const char *ce, const unsigned char *body, size_t n,
                         zmode *mode)
{
    if (ce) {
        while (isspace((unsigned char)*ce))
            ce++;
        if (!strcasecmp(ce, "gzip") || !strcasecmp(ce, "x-gzip")) {
            *mode = Z_MODE_GZIP;
            return 1;
        }
        if (!strcasecmp(ce, "deflate")) {
            *mode = Z_MODE_DEFLATE;
            return 1;
        }
        if (*ce && strcasecmp(ce, "identity"))
            return TJ_EINVAL;
    }
    /* A local .gz file, or a server that gzips without saying so. */
    *mode = Z_MODE_GZIP;
    return zb_is_gzip(body, n);
}

/* Inflates the record's body in place when it is compressed, and drops
 * content_encoding (the body is no longer encoded).  0 or a record error. */
static int inflate_body(tj_ctx *ctx, decode_state *st, tj_record *rec,
                        const char *url)
{
    size_t n, out_len;
    const unsigned char *body =
        (const unsigned char *)tj_record_get(rec, "body", &n);
    const char *ce = tj_record_get(rec, "content_encoding", NULL);
    const char *why;
    char *out;
    zmode mode;
    int enc = body_encoding(ce, body, n, &mode);
    if (enc < 0)
        return tj_error(ctx, "%s: unsupported Content-Encoding '%s'", url, ce);
    if (enc == 0)
        return 0;
    int rc = zb_inflate(body, n, mode, (size_t)st->cfg->max_inflated, &out,
                        &out_len, &why);
    if (rc == TJ_EFULL)
        return tj_error(ctx, "%s: %s body inflates past max_inflated (%lld "
                        "bytes)", url, mode == Z_MODE_GZIP ? "gzip" : "deflate",
                        (long long)st->cfg->max_inflated);
    if (rc)
        return tj_error(ctx, "%s: %s %s body: %s", url,
                        rc == TJ_EPARSE ? "corrupt" : "cannot inflate",
                        mode == Z_MODE_GZIP ? "gzip" : "deflate", why);
    tj_count(ctx, "inflated", 1);
    if (tj_record_take(rec, "body", out, out_len))
        return tj_error(ctx, "%s: out of memory", url);
    tj_record_del(rec, "content_encoding");
    return 0;
}

/* Sets body, charset, charset_source and decode_errors from res. */
static int store_text(tj_record *rec, cs_result *res)
{
    int rc = 0;
    if (res->text)
        rc = tj_record_take(rec, "body", res->text, res->len);
    res->text = NULL;
    if (!rc)
        rc = tj_record_set_str(rec, "charset", res->charset);
    if (!rc)
        rc = tj_record_set_str(rec, "charset_source",
                               cs_source_name(res->source));
    if (!rc)
        rc = tj_record_set_int(rec, "decode_errors", (int64_t)res->errors);
    return rc;
}

static int decode_process(tj_ctx *ctx, void *state, tj_record *rec)
{
    decode_state *st = state;
    const char *url = tj_record_get(rec, "url", NULL);
    char url_copy[512];
    size_t n;
    snprintf(url_copy, sizeof url_copy, "%s", url ? url : "(record without url)");
    if (tj_record_type(rec, "body") != TJ_FIELD_BYTES) {
        tj_count(ctx, "without_body", 1);
        return tj_emit(ctx, rec);
    }
    int rc = inflate_body(ctx, st, rec, url_copy);
    if (rc)
        return rc;
    const char *body = tj_record_get(rec, "body", &n);
    cs_hints hints = {st->forced[0] ? st->forced : NULL,
                      tj_record_get(rec, "content_type", NULL), st->fallback};
    cs_result res;
    if ((rc = cs_decode(st->det, body, n, &hints, &res)) != 0)
        return tj_error(ctx, "%s: cannot decode: %s", url_copy,
                        tj_strerror(rc));
    if (res.errors)
        tj_count(ctx, "decode_errors", (int64_t)res.errors);
    if (store_text(rec, &res))
        return tj_error(ctx, "%s: out of memory", url_copy);
    return tj_emit(ctx, rec);
}

static const tj_stage_desc decode_desc = {
    .abi_version = TJ_ABI_VERSION,
    .struct_size = sizeof(tj_stage_desc),
    .name = "decode",
    .description = "inflate gzip/deflate bodies and decode any charset to "
                   "UTF-8 (BOM > header > meta > detection > fallback)",
    .kind = TJ_TRANSFORM,
    .options = decode_options,
    .config_size = sizeof(decode_config),
    .init = decode_init,
    .process = decode_process,
    .fini = decode_fini,
};

TJ_STAGE_DEFINE(decode_desc)
