/*
 * convert.c - the convert-traditional stage: converts the text fields of a
 * record between Traditional and Simplified Chinese with OpenCC 1.1.6's
 * configurations and dictionaries, or picks the configuration per record
 * (config: auto), and records the choice in `convert_config`.
 *
 * The engine is tc_engine.c (README.md has the design); this file maps
 * records onto it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taojin/stage.h"
#include "tc_engine.h"
#include "tc_json.h"

typedef struct ct_config {
    const char *config;
    const char *user_dict;
    tj_list fields;
} ct_config;

typedef struct ct_state {
    const ct_config *opt;
    int config; /* an index, or -1 for auto */
    tc_userdict *ud;
    tc_conv *cv;
    tc_out out;
} ct_state;

/* Fields never converted by default: identifiers, labels and dates. */
static const char *const skipped[] = {
    "url", "final_url", "id", "charset", "charset_source", "content_type",
    "content_encoding", "etag", "last_modified", "fetched_at",
    "feed_published_at", "published_at", "convert_config", NULL};

static const tj_option ct_options[] = {
    {"config", TJ_OPT_STRING, "auto", 0,
     "auto|t2s|s2t|tw2s|tw2sp|s2tw|s2twp|hk2s|s2hk|t2tw|t2hk|tw2t|hk2t|t2jp|"
     "jp2t",
     "OpenCC configuration, or auto: per record, leave Simplified text "
     "alone, else convert Taiwan-style text as tw2s, Hong Kong-style as "
     "hk2s, the rest as t2s, never rewriting a Simplified-only character",
     offsetof(ct_config, config)},
    {"user_dict", TJ_OPT_STRING, NULL, 0, NULL,
     "file in OpenCC's text format (key<TAB>value per line); its entries "
     "win over the built-in dictionaries",
     offsetof(ct_config, user_dict)},
    {"fields", TJ_OPT_LIST, NULL, 0, NULL,
     "fields to convert (text and JSON); default: every text or JSON field "
     "but identifiers (url, final_url, id, charset, charset_source, "
     "content_type, content_encoding, etag, last_modified, fetched_at, "
     "feed_published_at, published_at, convert_config)",
     offsetof(ct_config, fields)},
    TJ_OPTION_END};

static void ct_fini(void *state)
{
    ct_state *st = state;
    if (!st)
        return;
    tc_conv_free(st->cv);
    tc_userdict_free(st->ud);
    tc_out_free(&st->out);
    free(st);
}

static int ct_init(tj_ctx *ctx, const void *config, void **state)
{
    const ct_config *opt = config;
    ct_state *st = calloc(1, sizeof *st);
    const char *why;
    char *err = NULL;
    int rc = TJ_ENOMEM;
    if (!st)
        goto fail;
    st->opt = opt;
    if ((rc = tc_data_check(&why))) {
        tj_error(ctx, "%s", why);
        goto fail;
    }
    st->config = strcmp(opt->config, "auto") ? tc_config_find(opt->config)
                                               : -1;
    if (st->config < 0 && strcmp(opt->config, "auto") != 0) {
        rc = TJ_ECONFIG;
        tj_error(ctx, "option 'config': no configuration '%s'", opt->config);
        goto fail;
    }
    if (opt->user_dict && (rc = tc_userdict_load(opt->user_dict, &st->ud,
                                                 &err))) {
        tj_error(ctx, "option 'user_dict': %s", err ? err : "out of memory");
        free(err);
        rc = rc == TJ_ENOMEM ? rc : TJ_ECONFIG;
        goto fail;
    }
    if ((rc = tc_conv_new(st->config < 0 ? tc_config_find("t2s") : st->config,
                          st->ud, 0, &st->cv)))
        goto fail;
    *state = st;
    return 0;
fail:
    ct_fini(st);
    return rc;
}

/* True when field `name` of type t is converted under the options. */
static int wanted(const ct_config *opt, const char *name, tj_field_type t)
{
    if (t != TJ_FIELD_BYTES && t != TJ_FIELD_JSON)
        return 0;
    if (opt->fields.n) {
        for (size_t i = 0; i < opt->fields.n; i++)
            if (strcmp(opt->fields.items[i], name) == 0)
                return 1;
        return 0;
    }
    for (const char *const *s = skipped; *s; s++)
        if (strcmp(*s, name) == 0)
            return 0;
    return 1;
}

/* The names of the fields to convert, copied (a NULL-ended array the caller
 * frees with free_names), or NULL when out of memory. */
static char **target_names(const ct_config *opt, const tj_record *rec)
{
    size_t n = tj_record_count(rec), k = 0;
    char **names = calloc(n + 1, sizeof *names);
    tj_field_type t;
    const char *name;
    if (!names)
        return NULL;
    for (size_t i = 0; (name = tj_record_field_at(rec, i, &t)); i++)
        if (k < n && wanted(opt, name, t) && !(names[k++] = strdup(name))) {
            for (size_t j = 0; j < k; j++)
                free(names[j]);
            free(names);
            return NULL;
        }
    return names;
}

static void free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

/* `config: auto`: the configuration for these fields, -1 to leave them.
 * *simp gets the number of Simplified-only characters seen. */
static int auto_config(ct_state *st, const tj_record *rec, char **names,
                       tj_ctx *ctx, size_t *simp)
{
    tc_evidence ev = {0, 0, 0, 0};
    size_t n = 0;
    int rc;
    while (names[n])
        n++;
    const char **texts = calloc(n + 1, sizeof *texts);
    size_t *lens = calloc(n + 1, sizeof *lens);
    if (!texts || !lens) {
        rc = TJ_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        texts[i] = tj_record_get(rec, names[i], &lens[i]);
        if (!texts[i]) {
            texts[i] = "";
            lens[i] = 0;
        }
    }
    rc = tc_detect(st->cv, texts, lens, n, &ev);
    *simp = ev.simp;
    tj_count(ctx, rc >= 0 ? (rc == tc_config_find("tw2s")   ? "auto_tw2s"
                             : rc == tc_config_find("hk2s") ? "auto_hk2s"
                                                            : "auto_t2s")
                          : "auto_none",
             rc >= -1 ? 1 : 0);
done:
    free(texts);
    free(lens);
    return rc;
}

/* Converts field `name` in place; counts into *invalid.  `text` is the
 * field's index among the texts auto detection looked at, -1 without. */
static int convert_field(ct_state *st, tj_record *rec, const char *name,
                         long text, size_t *invalid, tj_ctx *ctx)
{
    size_t len;
    tj_field_type t = tj_record_type(rec, name);
    const char *v = tj_record_get(rec, name, &len);
    int rc;
    if (!v)
        return 0;
    st->out.len = st->out.changes = st->out.invalid = 0;
    if (t == TJ_FIELD_JSON)
        rc = tc_json_convert(st->cv, v, len, &st->out);
    else if (text >= 0)
        rc = tc_convert_known(st->cv, (size_t)text, v, len, &st->out);
    else
        rc = tc_convert(st->cv, v, len, &st->out);
    *invalid += st->out.invalid;
    if (rc == TJ_EPARSE)
        return 0; /* JSON the scanner does not follow: left as it is */
    if (rc || st->out.changes == 0)
        return rc;
    tj_count(ctx, "fields_changed", 1);
    if (t == TJ_FIELD_JSON)
        return tj_record_set_json(rec, name, st->out.buf, st->out.len);
    rc = tj_record_take(rec, name, st->out.buf, st->out.len);
    memset(&st->out, 0, sizeof st->out); /* the record owns the buffer */
    return rc;
}

static int ct_process(tj_ctx *ctx, void *state, tj_record *rec)
{
    ct_state *st = state;
    char **names = target_names(st->opt, rec);
    int cfg = st->config, rc = 0;
    size_t invalid = 0, simp = 0;
    if (!names)
        return tj_error(ctx, "out of memory");
    if (cfg < 0 && (cfg = auto_config(st, rec, names, ctx, &simp)) < -1) {
        rc = cfg;
        goto done;
    }
    if (cfg >= 0) {
        /* auto protects Simplified-only characters; with none in the raw
         * bytes that is a no-op, except in JSON, whose \u escapes the
         * detection did not decode. */
        for (size_t i = 0; names[i] && !rc; i++) {
            int json = tj_record_type(rec, names[i]) == TJ_FIELD_JSON;
            tc_conv_set(st->cv, cfg, st->config < 0 && (simp > 0 || json));
            rc = convert_field(st, rec, names[i], st->config < 0 ? (long)i : -1,
                               &invalid, ctx);
        }
    }
    if (invalid)
        tj_count(ctx, "invalid_utf8", (int64_t)invalid);
    if (!rc)
        rc = tj_record_set_str(rec, "convert_config",
                               cfg >= 0 ? tc_config_name(cfg) : "none");
done:
    free_names(names);
    if (rc)
        return tj_error(ctx, "%s", tj_strerror(rc));
    return tj_emit(ctx, rec);
}

static const tj_stage_desc ct_desc = {
    TJ_ABI_VERSION,
    sizeof(tj_stage_desc),
    "convert-traditional",
    "Traditional <-> Simplified Chinese with OpenCC 1.1.6 semantics, or "
    "per-record auto-detection",
    TJ_TRANSFORM,
    ct_options,
    sizeof(ct_config),
    ct_init,
    NULL,
    ct_process,
    NULL,
    ct_fini,
};

TJ_STAGE_DEFINE(ct_desc)
