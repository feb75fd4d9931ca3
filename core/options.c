/*
 * options.c - options as data: the host validates and converts each
 * stage's `with:` block from the stage's own table (Fluent Bit's config_map
 * idea), so no stage parses its own options.
 */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *tj__opt_type_name(tj_opt_type t)
{
    static const char *const names[] = {"?",      "string", "int",
                                        "bool",   "double", "size",
                                        "duration", "list", "map"};
    return (unsigned)t <= TJ_OPT_MAP ? names[t] : "?";
}

/* Parses "100", "512k", "64M", "1G", "2GiB" (binary multiples). */
int tj__parse_size(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return TJ_EINVAL;
    while (*end == ' ')
        end++;
    static const char units[] = "bkmgt";
    double mult = 1;
    if (*end) {
        const char *u = strchr(units, tolower((unsigned char)*end));
        if (!u)
            return TJ_EINVAL;
        mult = pow(1024, (double)(u - units));
        end++;
        if (u != units && (strcasecmp(end, "b") == 0 ||
                           strcasecmp(end, "ib") == 0))
            end += strlen(end);
        if (*end)
            return TJ_EINVAL;
    }
    if (v * mult > 9.2e18)
        return TJ_EINVAL;
    *out = (int64_t)(v * mult);
    return 0;
}

/* Parses "30s", "500ms", "5m", "1h", "1d", "1h30m" or a bare number of
 * seconds into seconds. */
int tj__parse_duration(const char *s, double *out)
{
    double total = 0;
    const char *p = s;
    if (!*p)
        return TJ_EINVAL;
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || v < 0)
            return TJ_EINVAL;
        p = end;
        double mult = 1;
        if (strncmp(p, "ms", 2) == 0)
            mult = 0.001, p += 2;
        else if (strncmp(p, "us", 2) == 0)
            mult = 1e-6, p += 2;
        else if (*p == 's')
            p++;
        else if (*p == 'm')
            mult = 60, p++;
        else if (*p == 'h')
            mult = 3600, p++;
        else if (*p == 'd')
            mult = 86400, p++;
        else if (*p)
            return TJ_EINVAL;
        total += v * mult;
    }
    *out = total;
    return 0;
}

int tj__parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *out = 0, 0;
    }
    return TJ_EINVAL;
}

static void *cfg_keep(tj_config *cfg, void *p)
{
    void **a = p ? realloc(cfg->allocs, (cfg->nallocs + 1) * sizeof *a) : NULL;
    if (!a) {
        free(p);
        return NULL;
    }
    cfg->allocs = a;
    a[cfg->nallocs++] = p;
    return p;
}

void tj__config_free(tj_config *cfg)
{
    for (size_t i = 0; i < cfg->nallocs; i++)
        free(cfg->allocs[i]);
    free(cfg->allocs);
    for (size_t i = 0; i < cfg->nnodes; i++)
        tj__node_free(cfg->nodes[i]);
    free(cfg->nodes);
    free(cfg->data);
    memset(cfg, 0, sizeof *cfg);
}

/* True when value is one of opt->allowed ("a|b|c"). */
static bool allowed(const tj_option *opt, const char *value)
{
    const char *a = opt->allowed;
    size_t n = strlen(value);
    while (a && *a) {
        const char *bar = strchr(a, '|');
        size_t len = bar ? (size_t)(bar - a) : strlen(a);
        if (len == n && strncmp(a, value, n) == 0)
            return true;
        a = bar ? bar + 1 : NULL;
    }
    return !opt->allowed;
}

#define LOC(n) (n)->file, (n)->line, (n)->col

static int bad_value(const tj_node *v, const char *stage, const tj_option *o,
                     const char *why, tj_err *err)
{
    return tj__errf(err, TJ_ECONFIG,
                    "%s:%d:%d: stage '%s': option '%s': %s (got '%s')", LOC(v),
                    stage, o->name, why,
                    v->kind == TJ_NODE_SCALAR ? v->value : tj__node_kind_name(v));
}

/* Converts a list or map value into arrays kept by cfg. */
static int convert_collection(const tj_option *o, const tj_node *v,
                              const char *stage, tj_config *cfg, void *slot,
                              tj_err *err)
{
    bool is_map = o->type == TJ_OPT_MAP;
    if (is_map ? v->kind != TJ_NODE_MAP : v->kind == TJ_NODE_MAP)
        return bad_value(v, stage, o, is_map ? "expected a mapping"
                                             : "expected a list", err);
    size_t n = v->kind == TJ_NODE_SCALAR ? (tj__node_is_null(v) ? 0 : 1) : v->n;
    const char **vals = cfg_keep(cfg, calloc(n + 1, sizeof *vals));
    const char **keys = is_map ? cfg_keep(cfg, calloc(n + 1, sizeof *keys)) : NULL;
    if (!vals || (is_map && !keys))
        return TJ_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const tj_node *it = v->kind == TJ_NODE_SCALAR ? v : v->items[i];
        if (it->kind != TJ_NODE_SCALAR)
            return bad_value(it, stage, o, "items must be scalars", err);
        if (!is_map && !allowed(o, it->value))
            return bad_value(it, stage, o, "value not allowed", err);
        vals[i] = it->value;
        if (is_map)
            keys[i] = v->keys[i]->value;
    }
    if (is_map)
        *(tj_map *)slot = (tj_map){n, keys, vals};
    else
        *(tj_list *)slot = (tj_list){n, vals};
    return 0;
}

/* Converts one value into the slot for option o. */
static int convert_value(const tj_option *o, const tj_node *v,
                         const char *stage, tj_config *cfg, tj_err *err)
{
    void *slot = (char *)cfg->data + o->offset;
    if (o->type == TJ_OPT_LIST || o->type == TJ_OPT_MAP)
        return convert_collection(o, v, stage, cfg, slot, err);
    if (v->kind != TJ_NODE_SCALAR)
        return bad_value(v, stage, o, "expected a single value", err);
    const char *s = v->value;
    char *end;
    int rc = 0;
    errno = 0;
    switch (o->type) {
    case TJ_OPT_STRING:
        if (!allowed(o, s)) {
            tj_buf why = {0};
            tj__buf_add(&why, "value not allowed; allowed: ", 28);
            for (const char *a = o->allowed; *a; a++)
                tj__buf_add(&why, *a == '|' ? ", " : a, *a == '|' ? 2 : 1);
            rc = bad_value(v, stage, o, why.data, err);
            tj__buf_free(&why);
            return rc;
        }
        *(const char **)slot = s;
        break;
    case TJ_OPT_INT: {
        long long x = strtoll(s, &end, 10);
        if (end == s || *end || errno)
            return bad_value(v, stage, o, "expected an integer", err);
        *(int64_t *)slot = x;
        break;
    }
    case TJ_OPT_DOUBLE: {
        double d = strtod(s, &end);
        if (end == s || *end || errno)
            return bad_value(v, stage, o, "expected a number", err);
        *(double *)slot = d;
        break;
    }
    case TJ_OPT_BOOL:
        if (tj__parse_bool(s, (int *)slot))
            return bad_value(v, stage, o, "expected true or false", err);
        break;
    case TJ_OPT_SIZE:
        if (tj__parse_size(s, (int64_t *)slot))
            return bad_value(v, stage, o,
                             "expected a size such as 512k, 64M or 1G", err);
        break;
    case TJ_OPT_DURATION:
        if (tj__parse_duration(s, (double *)slot))
            return bad_value(v, stage, o,
                             "expected a duration such as 500ms, 30s or 5m",
                             err);
        break;
    default:
        rc = tj__errf(err, TJ_ECONFIG, "stage '%s': option '%s' has an "
                      "unknown type %d", stage, o->name, o->type);
    }
    return rc;
}

static int unknown_option(const tj_stage_desc *desc, const char *stage,
                          const tj_node *key, tj_err *err)
{
    /* zeroed: under LTO, GCC cannot see that n bounds the reads */
    const char *names[128] = {0};
    size_t n = 0;
    tj_buf list = {0};
    for (const tj_option *o = desc->options; o && o->name && n < 128; o++) {
        names[n++] = o->name;
        tj__buf_addf(&list, "%s%s", list.len ? ", " : "", o->name);
    }
    const char *guess = tj__did_you_mean(key->value, names, n);
    tj__errf(err, TJ_ECONFIG,
             "%s:%d:%d: stage '%s': unknown option '%s'%s%s%s; allowed: %s",
             LOC(key), stage, key->value, guess ? " (did you mean '" : "",
             guess ? guess : "", guess ? "'?)" : "",
             list.len ? list.data : "(this stage takes no options)");
    tj__buf_free(&list);
    return TJ_ECONFIG;
}

/* Fills the default of o (if any) into cfg; cfg keeps the parsed default
 * because the converted value points into it. */
static int apply_default(const tj_option *o, const char *stage,
                         tj_config *cfg, tj_err *err)
{
    if (!o->default_value)
        return 0;
    tj_node *d = tj__node_from_arg(o->default_value, "(default)");
    tj_node **nodes = d ? realloc(cfg->nodes, (cfg->nnodes + 1) * sizeof *nodes)
                        : NULL;
    if (!nodes) {
        tj__node_free(d);
        return TJ_ENOMEM;
    }
    cfg->nodes = nodes;
    nodes[cfg->nnodes++] = d;
    return convert_value(o, d, stage, cfg, err);
}

int tj__options_convert(const tj_stage_desc *desc, const char *stage,
                        const tj_node *with, const tj_node *at,
                        tj_config *out, tj_err *err)
{
    memset(out, 0, sizeof *out);
    out->data = calloc(1, desc->config_size ? desc->config_size : 1);
    if (!out->data)
        return TJ_ENOMEM;
    int rc = 0;
    if (with && !tj__node_is_null(with) && with->kind != TJ_NODE_MAP) {
        rc = tj__errf(err, TJ_ECONFIG, "%s:%d:%d: stage '%s': `with` must be "
                      "a mapping of option: value", LOC(with), stage);
        goto fail;
    }
    size_t nw = with && with->kind == TJ_NODE_MAP ? with->n : 0;
    for (size_t i = 0; i < nw; i++) {
        const tj_option *o = desc->options;
        while (o && o->name && strcmp(o->name, with->keys[i]->value) != 0)
            o++;
        if (!o || !o->name) {
            rc = unknown_option(desc, stage, with->keys[i], err);
            goto fail;
        }
    }
    for (const tj_option *o = desc->options; o && o->name; o++) {
        if (o->offset + 1 > desc->config_size) {
            rc = tj__errf(err, TJ_ELOAD, "stage '%s': option '%s' lies "
                          "outside config_size", stage, o->name);
            goto fail;
        }
        const tj_node *v = tj__node_get(with, o->name);
        if (tj__node_is_null(v))
            v = NULL; /* `option: ~` means unset */
        if (!v && o->required) {
            rc = tj__errf(err, TJ_ECONFIG, "%s:%d:%d: stage '%s': missing "
                          "required option '%s' (%s)", LOC(at), stage,
                          o->name, o->description ? o->description : "");
            goto fail;
        }
        rc = v ? convert_value(o, v, stage, out, err)
               : apply_default(o, stage, out, err);
        if (rc)
            goto fail;
    }
    return 0;
fail:
    tj__config_free(out);
    return rc ? rc : TJ_ECONFIG;
}
