/*
 * pipeline.c - pipeline files: structure checks, overrides, stage loading
 * and option conversion, all before any thread starts.
 */
#include "pipeline.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOC(n) (n)->file, (n)->line, (n)->col

static const char *const top_keys[] = {
    "name",     "description", "plugin_dirs", "buffer",  "dead_letter",
    "stages",   "schedule",    "timezone",    "jitter",  "catch_up",
    "state",    "shutdown_timeout"};
static const char *const stage_keys[] = {"use", "name", "workers", "on_error",
                                         "ordered", "with"};

static int unknown_key(const tj_node *key, const char *where,
                       const char *const *allowed, size_t n, tj_err *err)
{
    tj_buf list = {0};
    for (size_t i = 0; i < n; i++)
        tj__buf_addf(&list, "%s%s", i ? ", " : "", allowed[i]);
    const char *guess = tj__did_you_mean(key->value, allowed, n);
    tj__errf(err, TJ_ECONFIG, "%s:%d:%d: unknown key '%s' in %s%s%s%s; "
             "allowed: %s", LOC(key), key->value, where,
             guess ? " (did you mean '" : "", guess ? guess : "",
             guess ? "'?)" : "", list.data);
    tj__buf_free(&list);
    return TJ_ECONFIG;
}

static int check_keys(const tj_node *map, const char *where,
                      const char *const *allowed, size_t n, tj_err *err)
{
    for (size_t i = 0; i < map->n; i++) {
        size_t k = 0;
        while (k < n && strcmp(map->keys[i]->value, allowed[k]) != 0)
            k++;
        if (k == n)
            return unknown_key(map->keys[i], where, allowed, n, err);
    }
    return 0;
}

/* The scalar under key, or NULL; TJ_ECONFIG if it is not a scalar. */
static int get_scalar(const tj_node *map, const char *key, const char **out,
                      tj_err *err)
{
    const tj_node *v = tj__node_get(map, key);
    *out = NULL;
    if (!v || tj__node_is_null(v))
        return 0;
    if (v->kind != TJ_NODE_SCALAR)
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: '%s' must be a single "
                        "value, not a %s", LOC(v), key, tj__node_kind_name(v));
    *out = v->value;
    return 0;
}

static int get_int(const tj_node *map, const char *key, long min, long max,
                   long *out, tj_err *err)
{
    const char *s;
    int rc = get_scalar(map, key, &s, err);
    if (rc || !s)
        return rc;
    char *end;
    long v = strtol(s, &end, 10);
    const tj_node *at = tj__node_get(map, key);
    if (end == s || *end || v < min || v > max)
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: '%s' must be an integer "
                        "from %ld to %ld (got '%s')", LOC(at), key, min, max, s);
    *out = v;
    return 0;
}

static int parse_stage(tj_pipeline *p, const tj_node *n, tj_stage_spec *s,
                       tj_err *err)
{
    const char *use, *name, *on_error, *ordered;
    long workers = 1;
    s->at = n;
    if (n->kind != TJ_NODE_MAP)
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: each stage must be a "
                        "mapping with at least 'use'", LOC(n));
    int rc = check_keys(n, "a stage", stage_keys, 6, err);
    if (!rc)
        rc = get_scalar(n, "use", &use, err);
    if (!rc && !use)
        rc = tj__errf(err, TJ_ECONFIG, "%s:%d:%d: stage has no 'use' (the "
                      "stage to run, e.g. use: fetch)", LOC(n));
    if (!rc)
        rc = get_scalar(n, "name", &name, err);
    if (!rc)
        rc = get_int(n, "workers", 1, 256, &workers, err);
    if (!rc)
        rc = get_scalar(n, "on_error", &on_error, err);
    if (!rc)
        rc = get_scalar(n, "ordered", &ordered, err);
    if (rc)
        return rc;
    s->use = strdup(use);
    s->name = strdup(name ? name : use);
    s->workers = (int)workers;
    s->with = tj__node_get(n, "with");
    int b = 0;
    if (ordered && tj__parse_bool(ordered, &b))
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: 'ordered' must be true "
                        "or false", LOC(tj__node_get(n, "ordered")));
    s->ordered = b;
    if (!on_error || strcmp(on_error, "skip") == 0)
        s->on_error = TJ_ON_ERROR_SKIP;
    else if (strcmp(on_error, "fail") == 0)
        s->on_error = TJ_ON_ERROR_FAIL;
    else if (strcmp(on_error, "dead_letter") == 0)
        s->on_error = TJ_ON_ERROR_DEAD_LETTER;
    else
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: on_error must be skip, "
                        "fail or dead_letter (got '%s')",
                        LOC(tj__node_get(n, "on_error")), on_error);
    if (s->on_error == TJ_ON_ERROR_DEAD_LETTER && !p->dead_letter)
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: stage '%s' uses on_error: "
                        "dead_letter but the pipeline sets no 'dead_letter:' "
                        "file", LOC(n), s->name);
    return s->use && s->name ? 0 : TJ_ENOMEM;
}

/* Reads the top-level keys other than stages. */
static int parse_top(tj_pipeline *p, tj_err *err)
{
    const tj_node *r = p->root;
    const char *name, *desc, *dl, *state;
    long buffer = 256;
    if (r->kind != TJ_NODE_MAP)
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: a pipeline is a mapping "
                        "with 'name' and 'stages'", LOC(r));
    int rc = check_keys(r, "the pipeline", top_keys,
                        sizeof top_keys / sizeof *top_keys, err);
    if (!rc)
        rc = get_scalar(r, "name", &name, err);
    if (!rc && !name)
        rc = tj__errf(err, TJ_ECONFIG, "%s:%d:%d: missing 'name' (every "
                      "pipeline needs a name)", LOC(r));
    if (!rc)
        rc = get_scalar(r, "description", &desc, err);
    if (!rc)
        rc = get_scalar(r, "dead_letter", &dl, err);
    if (!rc)
        rc = get_int(r, "buffer", 2, 1 << 24, &buffer, err);
    if (!rc)
        rc = get_scalar(r, "state", &state, err);
    if (rc)
        return rc;
    if (state)
        p->state_path = strdup(state);
    else if (tj__node_get(r, "schedule")) {
        char path[1024];
        snprintf(path, sizeof path, "state/%s.db", name);
        p->state_path = strdup(path);
    }
    p->name = strdup(name);
    p->description = desc ? strdup(desc) : NULL;
    p->dead_letter = dl ? strdup(dl) : NULL;
    p->buffer = (size_t)buffer;
    return 0;
}

/* Reads schedule, timezone, jitter, catch_up and shutdown_timeout. */
static int parse_schedule(tj_pipeline *p, tj_err *err)
{
    const tj_node *r = p->root;
    const char *sched, *tz, *jitter, *catch_up, *timeout;
    int rc = get_scalar(r, "schedule", &sched, err);
    if (!rc)
        rc = get_scalar(r, "timezone", &tz, err);
    if (!rc)
        rc = get_scalar(r, "jitter", &jitter, err);
    if (!rc)
        rc = get_scalar(r, "catch_up", &catch_up, err);
    if (!rc)
        rc = get_scalar(r, "shutdown_timeout", &timeout, err);
    if (rc)
        return rc;
    p->shutdown_timeout = 30;
    tj_err e;
    if (sched && tj__cron_parse(sched, tz, &p->cron, &e))
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: schedule: %s",
                        LOC(tj__node_get(r, "schedule")), e.msg);
    p->scheduled = sched != NULL;
    if (jitter && tj__parse_duration(jitter, &p->jitter))
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: jitter must be a duration "
                        "such as 30s (got '%s')",
                        LOC(tj__node_get(r, "jitter")), jitter);
    if (timeout && tj__parse_duration(timeout, &p->shutdown_timeout))
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: shutdown_timeout must be "
                        "a duration such as 30s (got '%s')",
                        LOC(tj__node_get(r, "shutdown_timeout")), timeout);
    int b = 0;
    if (catch_up && tj__parse_bool(catch_up, &b))
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: catch_up must be true or "
                        "false", LOC(tj__node_get(r, "catch_up")));
    p->catch_up = b;
    if (tz && !sched)
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: timezone applies to a "
                        "schedule, and this pipeline has none",
                        LOC(tj__node_get(r, "timezone")));
    if (tz) {
        char zone[600];
        snprintf(zone, sizeof zone, "/usr/share/zoneinfo/%s", tz);
        if (strchr(tz, '.') || access(zone, R_OK) != 0)
            return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: unknown timezone '%s' "
                            "(an IANA name such as Asia/Shanghai)",
                            LOC(tj__node_get(r, "timezone")), tz);
    }
    return 0;
}

/* Applies --set overrides to the stages' with: blocks. */
static int apply_overrides(tj_pipeline *p, const tj_override *ov, size_t nov,
                           tj_err *err)
{
    for (size_t i = 0; i < nov; i++) {
        tj_stage_spec *s = NULL;
        for (size_t k = 0; k < p->nstages; k++)
            if (strcmp(p->stages[k].name, ov[i].stage) == 0)
                s = &p->stages[k];
        if (!s)
            return tj__errf(err, TJ_ECONFIG, "--set %s.%s: no stage named "
                            "'%s' in %s", ov[i].stage, ov[i].option,
                            ov[i].stage, p->file);
        if (!s->with || s->with->kind != TJ_NODE_MAP) {
            /* hang a new mapping off the stage node so the tree frees it */
            tj_node *m = tj__node_new_map("--set");
            if (!m || tj__node_map_set((tj_node *)s->at, "with", m))
                return TJ_ENOMEM;
            s->with = m;
        }
        tj_node *v = tj__node_from_arg(ov[i].value, "--set");
        if (!v || tj__node_map_set(s->with, ov[i].option, v))
            return TJ_ENOMEM;
    }
    return 0;
}

/* Loads every stage and converts its options. */
static int load_stages(tj_pipeline *p, tj_err *err)
{
    for (size_t i = 0; i < p->nstages; i++) {
        tj_stage_spec *s = &p->stages[i];
        tj_err e;
        int rc = tj__plugin_load(&p->path, s->use, &s->plugin, &e);
        if (rc)
            return tj__errf(err, rc, "%s:%d:%d: stage '%s': %s", LOC(s->at),
                            s->name, e.msg);
        const tj_stage_desc *d = s->plugin->desc;
        if ((i == 0) != (d->kind == TJ_SOURCE))
            return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: stage '%s' (%s) is a "
                            "%s; %s", LOC(s->at), s->name, d->name,
                            d->kind == TJ_SOURCE ? "source" : d->kind == TJ_SINK ? "sink" : "transform",
                            i == 0 ? "the first stage must be a source"
                                   : "only the first stage may be a source");
        if (i > 0 && d->kind != TJ_SINK &&
            p->stages[i - 1].plugin->desc->kind == TJ_SINK)
            return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: stage '%s' follows "
                            "sink '%s': sinks come last (several sinks at the "
                            "end each receive every record)", LOC(s->at),
                            s->name, p->stages[i - 1].name);
        if (d->kind == TJ_SOURCE && s->workers > 1)
            return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: stage '%s' is a source "
                            "and runs as one worker", LOC(s->at), s->name);
        rc = tj__options_convert(d, s->name, s->with, s->with ? s->with : s->at,
                                 &s->config, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_stages(tj_pipeline *p, tj_err *err)
{
    const tj_node *st = tj__node_get(p->root, "stages");
    if (!st || tj__node_is_null(st))
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: missing 'stages' (a list "
                        "of stages, the first a source)", LOC(p->root));
    if (st->kind != TJ_NODE_SEQ)
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: 'stages' must be a list",
                        LOC(st));
    if (st->n == 0)
        return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: the pipeline has no "
                        "stages", LOC(st));
    p->stages = calloc(st->n, sizeof *p->stages);
    if (!p->stages)
        return TJ_ENOMEM;
    for (size_t i = 0; i < st->n; i++) {
        p->nstages++;
        int rc = parse_stage(p, st->items[i], &p->stages[i], err);
        if (rc)
            return rc;
        for (size_t k = 0; k < i; k++)
            if (strcmp(p->stages[k].name, p->stages[i].name) == 0)
                return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: two stages are "
                                "named '%s'; give one a 'name:'",
                                LOC(st->items[i]), p->stages[i].name);
    }
    return 0;
}

static int plugin_dirs(tj_pipeline *p, tj_err *err)
{
    const tj_node *d = tj__node_get(p->root, "plugin_dirs");
    const char *dirs[64];
    size_t n = 0;
    if (d && !tj__node_is_null(d)) {
        if (d->kind == TJ_NODE_SCALAR)
            dirs[n++] = d->value;
        else if (d->kind == TJ_NODE_SEQ && d->n <= 64)
            for (size_t i = 0; i < d->n; i++) {
                if (d->items[i]->kind != TJ_NODE_SCALAR)
                    return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: plugin_dirs "
                                    "items must be paths", LOC(d->items[i]));
                dirs[n++] = d->items[i]->value;
            }
        else
            return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: plugin_dirs must be a "
                            "list of directories", LOC(d));
    }
    return tj__plugin_path_init(&p->path, dirs, n, p->dir);
}

int tj__pipeline_parse(const char *text, size_t len, const char *file,
                       const tj_override *ov, size_t nov, bool load,
                       tj_pipeline **out, tj_err *err)
{
    *out = NULL;
    tj_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return TJ_ENOMEM;
    p->file = strdup(file);
    char *tmp = strdup(file);
    p->dir = tmp ? strdup(dirname(tmp)) : NULL;
    free(tmp);
    int rc = TJ_ENOMEM;
    if (!p->file || !p->dir)
        goto fail;
    p->root = tj__node_parse(text, len, p->file, true, err);
    rc = p->root ? 0 : TJ_ECONFIG;
    if (!rc)
        rc = parse_top(p, err);
    if (!rc)
        rc = parse_schedule(p, err);
    if (!rc)
        rc = parse_stages(p, err);
    if (!rc)
        rc = apply_overrides(p, ov, nov, err);
    if (!rc)
        rc = plugin_dirs(p, err);
    if (!rc && load)
        rc = load_stages(p, err);
    if (rc)
        goto fail;
    *out = p;
    return 0;
fail:
    tj__pipeline_free(p);
    return rc;
}

int tj__pipeline_load(const char *file, const tj_override *ov, size_t nov,
                      tj_pipeline **out, tj_err *err)
{
    FILE *fp = fopen(file, "rb");
    if (!fp)
        return tj__errf(err, TJ_ECONFIG, "%s: cannot open: %m", file);
    tj_buf b = {0};
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
        tj__buf_add(&b, chunk, got);
    fclose(fp);
    if (!b.len) {
        tj__buf_free(&b);
        return tj__errf(err, TJ_ECONFIG, "%s: empty pipeline file (needs "
                        "'name' and 'stages')", file);
    }
    int rc = tj__pipeline_parse(b.data, b.len, file, ov, nov, true, out, err);
    tj__buf_free(&b);
    return rc;
}

void tj__pipeline_free(tj_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nstages; i++) {
        free(p->stages[i].use);
        free(p->stages[i].name);
        tj__config_free(&p->stages[i].config);
    }
    free(p->stages);
    tj__plugin_path_free(&p->path);
    tj__node_free(p->root);
    free(p->file);
    free(p->dir);
    free(p->name);
    free(p->description);
    free(p->dead_letter);
    free(p->state_path);
    free(p);
}

int tj__override_parse(char *arg, tj_override *ov)
{
    char *eq = strchr(arg, '=');
    char *dot = eq ? memchr(arg, '.', (size_t)(eq - arg)) : NULL;
    if (!eq || !dot || dot == arg || dot + 1 == eq)
        return TJ_EINVAL;
    *dot = 0;
    *eq = 0;
    ov->stage = arg;
    ov->option = dot + 1;
    ov->value = eq + 1;
    return 0;
}
