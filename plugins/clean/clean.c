/*
 * clean.c - the `clean` stage: from a decoded page (HTML or plain text) to
 * the article's own text, one paragraph per line, with the hints extract
 * needs in `page` and an account of every repair in `quality`.
 *
 * Reads  body (UTF-8 text), content_type (optional).
 * Writes body (clean text), page (JSON), quality (JSON).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <taojin/stage.h>

#include "clean.h"

typedef struct clean_config {
    const char *mode;          /* auto | html | text */
    tj_list boilerplate;       /* extra notice phrases */
    const char *drop_mojibake; /* none | span | paragraph */
    int64_t min_paragraph;
} clean_config;

typedef struct clean_state {
    const clean_config *cfg;
    cl_rules *rules;
    cl_text_opts topts;
    int mode; /* 0 auto, 1 html, 2 text */
} clean_state;

static const tj_option clean_options[] = {
    {"mode", TJ_OPT_STRING, "auto", 0, "auto|html|text",
     "how to read body: auto = HTML unless content_type is text/plain or "
     "the body has no markup",
     offsetof(clean_config, mode)},
    {"boilerplate", TJ_OPT_LIST, NULL, 0, NULL,
     "extra notice phrases: a line (up to 150 characters) starting with or "
     "holding one is dropped, as is a trailing sentence starting with one",
     offsetof(clean_config, boilerplate)},
    {"drop_mojibake", TJ_OPT_STRING, "span", 0, "none|span|paragraph",
     "what to do with mojibake that cannot be re-decoded: keep it, remove "
     "the garbage span, or drop the paragraph",
     offsetof(clean_config, drop_mojibake)},
    {"min_paragraph", TJ_OPT_INT, "0", 0, NULL,
     "drop paragraphs shorter than this many characters (0 keeps all)",
     offsetof(clean_config, min_paragraph)},
    TJ_OPTION_END};

static int clean_init(tj_ctx *ctx, const void *config, void **state)
{
    const clean_config *cfg = config;
    clean_state *s = calloc(1, sizeof *s);
    char *err = NULL;
    if (!s)
        return TJ_ENOMEM;
    s->cfg = cfg;
    s->mode = !strcmp(cfg->mode, "html") ? 1 : !strcmp(cfg->mode, "text") ? 2 : 0;
    s->topts.moji = !strcmp(cfg->drop_mojibake, "none")    ? CL_MOJI_NONE
                    : !strcmp(cfg->drop_mojibake, "paragraph") ? CL_MOJI_PARAGRAPH
                                                               : CL_MOJI_SPAN;
    if (cfg->min_paragraph < 0) {
        tj_error(ctx, "clean: min_paragraph must be >= 0, got %lld",
                 (long long)cfg->min_paragraph);
        free(s);
        return TJ_ECONFIG;
    }
    s->topts.min_paragraph = (size_t)cfg->min_paragraph;
    s->rules = cl_rules_create(cfg->boilerplate.items, cfg->boilerplate.n, &err);
    if (!s->rules) {
        tj_error(ctx, "%s", err ? err : "clean: cannot build the rules");
        free(err);
        free(s);
        return err ? TJ_ECONFIG : TJ_ENOMEM;
    }
    *state = s;
    return 0;
}

/* Should this record be read as HTML? */
static int wants_html(const clean_state *s, const tj_record *rec,
                      const char *body, size_t len)
{
    size_t ctl;
    const char *ct;
    if (s->mode)
        return s->mode == 1;
    ct = tj_record_get(rec, "content_type", &ctl);
    if (ct && !strncasecmp(ct, "text/plain", 10))
        return 0;
    return cl_looks_like_html(body, len);
}

/* A 0..1 figure for how much of the text can be trusted: unrepaired
 * mojibake and lost characters weigh against the text's length, and a text
 * of under 50 characters is at most half good. */
static double quality_score(const cl_stats *st)
{
    double bad = (double)(st->mojibake_spans - st->mojibake_repaired) * 4 +
                 (double)st->lost_chars;
    double len = (double)st->chars_out, score;
    if (st->chars_out <= 0)
        return 0;
    score = 1.0 - bad * 20.0 / len;
    if (score < 0)
        score = 0;
    if (st->chars_out < 50)
        score *= 0.5;
    return score;
}

static char *quality_json(const cl_stats *st)
{
    char *out = malloc(320);
    if (out)
        snprintf(out, 320,
                 "{\"pinyin_removed\":%ld,\"boilerplate_removed\":%ld,"
                 "\"tags_removed\":%ld,\"normalized_chars\":%ld,"
                 "\"mojibake_spans\":%ld,\"lost_chars\":%ld,\"score\":%.3f}",
                 st->pinyin_removed, st->boilerplate_removed, st->tags_removed,
                 st->normalized_chars + st->punct_fixed, st->mojibake_spans,
                 st->lost_chars, quality_score(st));
    return out;
}

static void add_counters(tj_ctx *ctx, const cl_stats *st, int html)
{
    tj_count(ctx, html ? "html_pages" : "text_pages", 1);
    tj_count(ctx, "pinyin_removed", st->pinyin_removed);
    tj_count(ctx, "boilerplate_removed", st->boilerplate_removed);
    tj_count(ctx, "tags_removed", st->tags_removed);
    tj_count(ctx, "entities_decoded", st->entities_decoded);
    tj_count(ctx, "normalized_chars", st->normalized_chars);
    tj_count(ctx, "punct_fixed", st->punct_fixed);
    tj_count(ctx, "mojibake_spans", st->mojibake_spans);
    tj_count(ctx, "mojibake_repaired", st->mojibake_repaired);
    tj_count(ctx, "lost_chars", st->lost_chars);
    tj_count(ctx, "bylines_moved", st->bylines);
    tj_count(ctx, "duplicates_removed", st->duplicates);
}

/* Writes body, page and quality on rec. */
static int store(tj_record *rec, cl_buf *out, cJSON *page, const cl_stats *st)
{
    size_t len = 0;
    char *text = cl_buf_steal(out, &len), *pj = NULL, *qj = NULL;
    int rc;
    if (!text && !(text = calloc(1, 2)))
        return TJ_ENOMEM;
    rc = tj_record_take(rec, "body", text, len); /* frees text on failure */
    if (rc < 0)
        return rc;
    pj = cJSON_PrintUnformatted(page);
    qj = quality_json(st);
    if (!pj || !qj) {
        rc = TJ_ENOMEM;
        goto done;
    }
    if ((rc = tj_record_set_json(rec, "page", pj, strlen(pj))) < 0)
        goto done;
    rc = tj_record_set_json(rec, "quality", qj, strlen(qj));
done:
    cJSON_free(pj);
    free(qj);
    return rc;
}

static int clean_process(tj_ctx *ctx, void *state, tj_record *rec)
{
    clean_state *s = state;
    cl_stats st = {0};
    cl_buf raw, out;
    cJSON *page = NULL, *byline = NULL;
    size_t len;
    const char *body = tj_record_get(rec, "body", &len);
    int html, rc = TJ_ENOMEM;
    if (!body) {
        tj_count(ctx, "no_body", 1);
        return tj_emit(ctx, rec);
    }
    cl_buf_init(&raw);
    cl_buf_init(&out);
    if (!(page = cJSON_CreateObject()) || !(byline = cJSON_CreateArray()))
        goto done;
    html = wants_html(s, rec, body, len);
    if (html) {
        cl_buf_reserve(&raw, len); /* the text is rarely longer than the page */
        rc = cl_html_extract(body, len, &raw, page, &st);
        if (rc == TJ_EPARSE || rc == TJ_EINVAL)
            html = 0; /* not parseable as HTML: clean it as text */
        else if (rc < 0)
            goto done;
    }
    rc = html ? cl_clean_text(s->rules, &s->topts, raw.p ? raw.p : "",
                              raw.len, &out, byline, &st)
              : cl_clean_text(s->rules, &s->topts, body, len, &out, byline,
                              &st);
    if (rc < 0)
        goto done;
    if (cJSON_GetArraySize(byline) > 0) {
        cJSON_AddItemToObject(page, "byline", byline);
        byline = NULL;
    }
    if ((rc = store(rec, &out, page, &st)) < 0)
        goto done;
    add_counters(ctx, &st, html);
    rc = tj_emit(ctx, rec);
done:
    if (rc == TJ_ENOMEM)
        tj_error(ctx, "clean: out of memory");
    cJSON_Delete(page);
    cJSON_Delete(byline);
    cl_buf_free(&raw);
    cl_buf_free(&out);
    return rc;
}

static void clean_fini(void *state)
{
    clean_state *s = state;
    if (!s)
        return;
    cl_rules_destroy(s->rules);
    free(s);
}

static const tj_stage_desc clean_desc = {
    TJ_ABI_VERSION,
    sizeof(tj_stage_desc),
    "clean",
    "main text of a page, repaired: pinyin, remnants, radicals, punctuation, "
    "mojibake, boilerplate; page hints and quality",
    TJ_TRANSFORM,
    clean_options,
    sizeof(clean_config),
    clean_init,
    NULL,
    clean_process,
    NULL,
    clean_fini};

TJ_STAGE_DEFINE(clean_desc)
