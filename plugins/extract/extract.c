/*
 * extract.c - the extract stage: article fields and entities of a story.
 *
 * Reads body, page, fetched_at, feed_published_at and quality; writes
 * title, author, editor, source, published_at, entities and
 * quality.script.  See README.md for the rules and the option table.
 */
#include "taojin/stage.h"

#include "entities.h"
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct config {
    const char *timezone;
    const char *organizations;
    int builtin_organizations;
    tj_list entities;
    int64_t max_entities;
    tj_map rules;
} config;

static const tj_option options[] = {
    {"timezone", TJ_OPT_STRING, "+08:00", 0, NULL,
     "zone of published_at and of dates written without one: +HH:MM, UTC "
     "or Asia/Shanghai-style names of fixed-offset zones",
     offsetof(config, timezone)},
    {"organizations", TJ_OPT_STRING, NULL, 0, NULL,
     "extra organisation TSV (canonical<TAB>alias...), added to the "
     "built-in list",
     offsetof(config, organizations)},
    {"builtin_organizations", TJ_OPT_BOOL, "true", 0, NULL,
     "use the organisation list compiled into the stage",
     offsetof(config, builtin_organizations)},
    {"entities", TJ_OPT_LIST, "[tickers, organizations, money, percents, dates]",
     0, NULL, "entity kinds to extract (tickers, organizations, money, "
     "percents, dates)",
     offsetof(config, entities)},
    {"max_entities", TJ_OPT_INT, "200", 0, NULL,
     "most items kept per entity list", offsetof(config, max_entities)},
    {"rules", TJ_OPT_MAP, NULL, 0, NULL,
     "user PCRE2 rules, name: pattern; a name among title, author, editor, "
     "source, published_at sets that field from its first match, any other "
     "name makes an entity list of every match with its named groups",
     offsetof(config, rules)},
    TJ_OPTION_END};

typedef struct state {
    int zone_min;
    ext_dict *dict;
    ext_rules *rules;
    ext_ent_opts eo;
    ext_buf ent; /* the entities JSON, its room kept between records */
} state;

static int kinds_from_list(tj_ctx *ctx, const tj_list *l, ext_ent_opts *eo)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *k = l->items[i];
        if (!strcmp(k, "tickers"))
            eo->tickers = 1;
        else if (!strcmp(k, "organizations"))
            eo->orgs = 1;
        else if (!strcmp(k, "money"))
            eo->money = 1;
        else if (!strcmp(k, "percents"))
            eo->percents = 1;
        else if (!strcmp(k, "dates"))
            eo->dates = 1;
        else
            return tj_error(ctx, "entities: unknown kind '%s' (expected "
                                 "tickers, organizations, money, percents, "
                                 "dates)", k), TJ_ECONFIG;
    }
    return 0;
}

/* Builds the instance: zone, dictionary, rules.  Errors name the option. */
static int extract_init(tj_ctx *ctx, const void *cfgp, void **out)
{
    const config *cfg = cfgp;
    char err[512];
    int rc = TJ_ECONFIG;
    state *st = calloc(1, sizeof *st);
    if (!st)
        return TJ_ENOMEM;
    if (ext_parse_zone(cfg->timezone, &st->zone_min)) {
        tj_error(ctx, "timezone: cannot read '%s' (expected +HH:MM, UTC or "
                      "a zone such as Asia/Shanghai)", cfg->timezone);
        goto fail;
    }
    if ((rc = kinds_from_list(ctx, &cfg->entities, &st->eo)))
        goto fail;
    rc = TJ_ECONFIG;
    if (cfg->max_entities < 0) {
        tj_error(ctx, "max_entities: must be >= 0, not %lld",
                 (long long)cfg->max_entities);
        goto fail;
    }
    st->eo.max = (size_t)cfg->max_entities;
    st->dict = ext_dict_create(cfg->builtin_organizations, cfg->organizations,
                               err, sizeof err);
    if (!st->dict) {
        tj_error(ctx, "%s", err);
        goto fail;
    }
    st->eo.dict = st->dict;
    if (ext_entities_prepare(&st->eo)) {
        rc = TJ_ENOMEM;
        goto fail;
    }
    if (cfg->rules.n) {
        st->rules = ext_rules_create(cfg->rules.keys, cfg->rules.values,
                                     cfg->rules.n, err, sizeof err);
        if (!st->rules) {
            tj_error(ctx, "%s", err);
            goto fail;
        }
    }
    *out = st;
    return 0;
fail:
    ext_entities_release(&st->eo);
    ext_dict_destroy(st->dict);
    free(st);
    return rc;
}

static void extract_fini(void *p)
{
    state *st = p;
    if (!st)
        return;
    ext_entities_release(&st->eo);
    ext_dict_destroy(st->dict);
    ext_rules_destroy(st->rules);
    ext_buf_free(&st->ent);
    free(st);
}

/* Sets a text field when v is non-NULL and non-empty. */
static int set_opt(tj_record *rec, const char *name, const char *v)
{
    return v && v[0] ? tj_record_set_str(rec, name, v) : 0;
}

/* Copies fetched_at as text: an ISO string, or a Unix time in an INT. */
static const char *time_field(const tj_record *rec, const char *name,
                              char *buf)
{
    size_t n;
    int64_t t;
    const char *s = tj_record_get(rec, name, &n);
    if (s)
        return s;
    if (tj_record_get_int(rec, name, &t) == 0) {
        ext_dt dt;
        ext_dt_from_epoch(t, 0, &dt);
        ext_dt_iso(&dt, 0, buf);
        return buf;
    }
    return NULL;
}

/* The texts rules see: clean's byline and before blocks, then the body. */
static void rule_texts(const cJSON *page, const char *body, size_t blen,
                       ext_buf *meta, const char **texts, size_t *lens)
{
    static const char *keys[] = {"byline", "before"};
    for (int k = 0; k < 2; k++) {
        const cJSON *it, *arr = cJSON_GetObjectItemCaseSensitive(page, keys[k]);
        cJSON_ArrayForEach(it, arr)
        {
            if (cJSON_IsString(it)) {
                ext_buf_puts(meta, it->valuestring);
                ext_buf_add(meta, "\n", 1);
            }
        }
    }
    texts[0] = meta->p ? meta->p : "";
    lens[0] = meta->len;
    texts[1] = body;
    lens[1] = blen;
}

/* Appends the JSON text of one value as cJSON_PrintUnformatted writes it
 * (numbers and strings written here, the rare rest by cJSON); returns 0 or
 * -1 when out of memory. */
static int json_value(ext_buf *b, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return ext_json_num(b, v->valuedouble);
    if (cJSON_IsString(v))
        return ext_json_str(b, v->valuestring, strlen(v->valuestring));
    char *txt = cJSON_PrintUnformatted(v);
    int rc = !txt || ext_buf_puts(b, txt) ? -1 : 0;
    free(txt);
    return rc;
}

/* Writes quality with "script" set (replacing the first "script" there),
 * byte for byte what printing the edited cJSON tree would give. */
static int write_quality(tj_record *rec, const char *script)
{
    const char *q = tj_record_get(rec, "quality", NULL);
    cJSON *o = q ? cJSON_Parse(q) : NULL;
    ext_buf b = {0};
    int rc = TJ_ENOMEM;
    if (cJSON_IsObject(o))
        cJSON_DeleteItemFromObjectCaseSensitive(o, "script");
    if (ext_buf_lit(&b, "{"))
        goto done;
    for (const cJSON *it = cJSON_IsObject(o) ? o->child : NULL; it;
         it = it->next)
        if (ext_json_str(&b, it->string, strlen(it->string)) ||
            ext_buf_lit(&b, ":") || json_value(&b, it) || ext_buf_lit(&b, ","))
            goto done;
    if (ext_buf_lit(&b, "\"script\":") ||
        ext_json_str(&b, script, strlen(script)) || ext_buf_lit(&b, "}"))
        goto done;
    rc = tj_record_set_json(rec, "quality", b.p, b.len);
done:
    ext_buf_free(&b);
    cJSON_Delete(o);
    return rc;
}

/* Writes the five article fields: a rule's value wins over the built-in
 * one; a published_at from a rule is parsed and normalised. */
static int set_fields(state *st, tj_record *rec, ext_meta *m, char **fields)
{
    char *const builtin[5] = {m->title, m->author, m->editor, m->source,
                              m->published_at};
    for (int i = 0; i < 5; i++) {
        const char *v = fields[i] ? fields[i] : builtin[i];
        char iso[32];
        ext_dt dt;
        size_t ml;
        ext_dref ref = {0, 0, st->zone_min, 0};
        if (i == 4 && fields[i]) {
            v = builtin[i];
            if (ext_date_find(fields[i], strlen(fields[i]), &ref, &dt, &ml) >= 0) {
                ext_dt_iso(&dt, st->zone_min, iso);
                v = iso;
                m->published = dt;
                memcpy(m->published_at, iso, sizeof iso);
            }
        }
        int rc = set_opt(rec, ext_rule_fields[i], v);
        if (rc)
            return rc;
    }
    return 0;
}

/* Scans the title (when the body does not begin with it) and the body into
 * ent, resolving dates against published_at (or fetched_at). */
static int build_entities(state *st, const ext_meta_in *in, const ext_meta *m,
                          const char *title, const cJSON *user, ext_buf *ent,
                          const char **script)
{
    ext_dref ref = {0, 0, st->zone_min, 0};
    ext_dt fa;
    if (m->published_at[0]) {
        ref.now = ext_dt_epoch(&m->published, st->zone_min), ref.has_now = 1;
        ref.year = m->published.y;
    } else if (in->fetched_at &&
               ext_date_parse(in->fetched_at, strlen(in->fetched_at), &ref, 1,
                              &fa)) {
        ref.now = ext_dt_epoch(&fa, st->zone_min), ref.has_now = 1;
    }
    ext_ent_opts eo = st->eo;
    eo.ref = &ref;
    const char *texts[2];
    size_t lens[2], n = 0;
    if (title && !ext_starts(in->body, in->body_len, title))
        texts[n] = title, lens[n++] = strlen(title);
    texts[n] = in->body, lens[n++] = in->body_len;
    return ext_entities_json(texts, lens, n, &eo, user, ent, script);
}

/* Everything a record gets.  Returns 0 or a TJ_E* code. */
static int extract_record(tj_ctx *ctx, state *st, tj_record *rec)
{
    size_t blen = 0;
    const char *body = tj_record_get(rec, "body", &blen);
    const char *page_txt = tj_record_get(rec, "page", NULL);
    char fbuf[32], pbuf[32];
    cJSON *page = page_txt ? cJSON_Parse(page_txt) : NULL;
    cJSON *user = cJSON_CreateObject();
    ext_meta m = {0};
    ext_buf metatext = {0}, *ent = &st->ent;
    char *fields[5] = {0};
    const char *script = "simplified";
    int rc = TJ_ENOMEM;
    ext_meta_in in = {body ? body : "", blen,
                      cJSON_IsObject(page) ? page : NULL,
                      time_field(rec, "fetched_at", fbuf),
                      time_field(rec, "feed_published_at", pbuf), st->zone_min};
    ent->len = 0;
    if (!user || ext_meta_extract(&in, &m))
        goto done;
    if (st->rules) {
        const char *texts[2];
        size_t lens[2];
        rule_texts(in.page, in.body, blen, &metatext, texts, lens);
        if (ext_rules_apply(st->rules, texts, lens, 2, st->eo.max, fields, user))
            goto done;
    }
    if ((rc = set_fields(st, rec, &m, fields)))
        goto done;
    tj_count(ctx, m.title || fields[0] ? "title_found" : "title_missing", 1);
    tj_count(ctx, m.published_at[0] ? "published_found" : "published_missing",
             1);
    rc = TJ_ENOMEM;
    /* user entity lists go after the built-in ones */
    if (build_entities(st, &in, &m, fields[0] ? fields[0] : m.title, user,
                       ent, &script))
        goto done;
    if ((rc = tj_record_set_json(rec, "entities", ent->p, ent->len)) ||
        (rc = write_quality(rec, script)))
        goto done;
    rc = 0;
done:
    ext_meta_free(&m);
    for (int i = 0; i < 5; i++)
        free(fields[i]);
    if (ent->cap > ((size_t)1 << 20)) /* a huge list's room is not kept */
        ext_buf_free(ent);
    ext_buf_free(&metatext);
    cJSON_Delete(user);
    cJSON_Delete(page);
    return rc;
}

static int extract_process(tj_ctx *ctx, void *p, tj_record *rec)
{
    int rc = extract_record(ctx, p, rec);
    if (rc)
        return tj_error(ctx, "extract: %s", tj_strerror(rc)), rc;
    return tj_emit(ctx, rec);
}

static const tj_stage_desc extract_desc = {
    .abi_version = TJ_ABI_VERSION,
    .struct_size = sizeof(tj_stage_desc),
    .name = "extract",
    .description = "title, author, source, published_at and entities "
                   "(tickers, organisations, money, percents, dates)",
    .kind = TJ_TRANSFORM,
    .options = options,
    .config_size = sizeof(config),
    .init = extract_init,
    .process = extract_process,
    .fini = extract_fini,
};

TJ_STAGE_DEFINE(extract_desc)
