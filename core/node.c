/*
 * node.c - YAML (libyaml's document API) to tj_node trees, with ${VAR}
 * substitution and locations.
 */
#include "node.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static tj_node *node_new(tj_node_kind kind, const char *file, int line,
                         int col)
{
    tj_node *n = calloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->file = file;
        n->line = line;
        n->col = col;
    }
    return n;
}

void tj__node_free(tj_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        tj__node_free(n->items[i]);
        if (n->keys)
            tj__node_free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->value);
    free(n);
}

/* Replaces ${VAR} and ${VAR:-default} in s; an unset VAR without default is
 * an error at the scalar's location. */
static int substitute(const char *s, char **out, const tj_node *at,
                      tj_err *err)
{
    tj_buf b = {0};
    int rc = tj__buf_add(&b, "", 0);
    while (*s && !rc) {
        const char *open = strstr(s, "${");
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            rc = tj__buf_add(&b, s, strlen(s));
            break;
        }
        rc = tj__buf_add(&b, s, (size_t)(open - s));
        char name[256];
        size_t nl = (size_t)(close - open - 2);
        if (nl >= sizeof name)
            nl = sizeof name - 1;
        memcpy(name, open + 2, nl);
        name[nl] = 0;
        char *def = strstr(name, ":-");
        if (def)
            *def = 0, def += 2;
        const char *val = getenv(name);
        if (!val || (def && !*val))
            val = def;
        if (!val) {
            rc = tj__errf(err, TJ_ECONFIG,
                          "%s:%d:%d: variable '%s' is not set (use "
                          "${%s:-default} for a fallback)",
                          at->file, at->line, at->col, name, name);
            break;
        }
        if (!rc)
            rc = tj__buf_add(&b, val, strlen(val));
        s = close + 1;
    }
    if (rc) {
        tj__buf_free(&b);
        return rc;
    }
    *out = b.data;
    return 0;
}

static tj_node *convert(yaml_document_t *doc, yaml_node_t *y, const char *file,
                        bool subst, int depth, tj_err *err);

static int convert_pairs(yaml_document_t *doc, yaml_node_t *y, tj_node *n,
                         bool subst, int depth, tj_err *err)
{
    const char *file = n->file;
    size_t cnt = (size_t)(y->data.mapping.pairs.top -
                          y->data.mapping.pairs.start);
    n->items = calloc(cnt + 1, sizeof *n->items);
    n->keys = calloc(cnt + 1, sizeof *n->keys);
    if (!n->items || !n->keys)
        return tj__errf(err, TJ_ENOMEM, "out of memory");
    for (yaml_node_pair_t *p = y->data.mapping.pairs.start;
         p < y->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (!k || k->type != YAML_SCALAR_NODE)
            return tj__errf(err, TJ_ECONFIG, "%s:%zu:%zu: mapping keys must "
                            "be plain words", file, (k ? k->start_mark.line : 0) + 1,
                            (k ? k->start_mark.column : 0) + 1);
        tj_node *kn = convert(doc, k, file, false, depth + 1, err);
        tj_node *vn = kn ? convert(doc, yaml_document_get_node(doc, p->value),
                                   file, subst, depth + 1, err)
                         : NULL;
        if (!vn) {
            tj__node_free(kn);
            return TJ_ECONFIG;
        }
        for (size_t i = 0; i < n->n; i++)
            if (strcmp(n->keys[i]->value, kn->value) == 0) {
                tj_err tmp;
                tj__errf(&tmp, 0, "%s:%d:%d: duplicate key '%s' (first at "
                         "line %d)", file, kn->line, kn->col, kn->value,
                         n->keys[i]->line);
                tj__node_free(kn);
                tj__node_free(vn);
                if (err)
                    *err = tmp;
                return TJ_ECONFIG;
            }
        n->keys[n->n] = kn;
        n->items[n->n++] = vn;
    }
    return 0;
}

/* Converts one libyaml node (recursively); NULL with err on failure. */
static tj_node *convert(yaml_document_t *doc, yaml_node_t *y, const char *file,
                        bool subst, int depth, tj_err *err)
{
    if (!y || depth > 64) {
        tj__errf(err, TJ_ECONFIG, "%s: document nested too deeply", file);
        return NULL;
    }
    static const tj_node_kind kinds[] = {
        [YAML_SCALAR_NODE] = TJ_NODE_SCALAR,
        [YAML_SEQUENCE_NODE] = TJ_NODE_SEQ,
        [YAML_MAPPING_NODE] = TJ_NODE_MAP};
    tj_node *n = node_new(kinds[y->type], file, (int)y->start_mark.line + 1,
                          (int)y->start_mark.column + 1);
    if (!n) {
        tj__errf(err, TJ_ENOMEM, "out of memory");
        return NULL;
    }
    int rc = 0;
    if (y->type == YAML_SCALAR_NODE) {
        n->plain = y->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        const char *v = (const char *)y->data.scalar.value;
        rc = subst ? substitute(v, &n->value, n, err)
                   : ((n->value = strdup(v)) ? 0 : TJ_ENOMEM);
    } else if (y->type == YAML_SEQUENCE_NODE) {
        size_t cnt = (size_t)(y->data.sequence.items.top -
                              y->data.sequence.items.start);
        n->items = calloc(cnt + 1, sizeof *n->items);
        rc = n->items ? 0 : TJ_ENOMEM;
        for (yaml_node_item_t *it = y->data.sequence.items.start;
             !rc && it < y->data.sequence.items.top; it++) {
            tj_node *c = convert(doc, yaml_document_get_node(doc, *it), file,
                                 subst, depth + 1, err);
            if (!c)
                rc = TJ_ECONFIG;
            else
                n->items[n->n++] = c;
        }
    } else {
        rc = convert_pairs(doc, y, n, subst, depth, err);
    }
    if (rc) {
        tj__node_free(n);
        return NULL;
    }
    return n;
}

tj_node *tj__node_parse(const char *text, size_t len, const char *file,
                        bool subst, tj_err *err)
{
    yaml_parser_t p;
    yaml_document_t doc;
    tj_node *root = NULL;
    if (!yaml_parser_initialize(&p)) {
        tj__errf(err, TJ_ENOMEM, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &doc)) {
        tj__errf(err, TJ_EPARSE, "%s:%zu:%zu: %s%s%s", file,
                 p.problem_mark.line + 1, p.problem_mark.column + 1,
                 p.problem ? p.problem : "invalid YAML",
                 p.context ? " " : "", p.context ? p.context : "");
        yaml_parser_delete(&p);
        return NULL;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (!top)
        tj__errf(err, TJ_EPARSE, "%s: empty document", file);
    else
        root = convert(&doc, top, file, subst, 0, err);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return root;
}

tj_node *tj__node_load_file(const char *path, tj_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        tj__errf(err, TJ_ENOENT, "%s: cannot open: %m", path);
        return NULL;
    }
    tj_buf b = {0};
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
        tj__buf_add(&b, chunk, got);
    fclose(fp);
    tj_node *n = tj__node_parse(b.data ? b.data : "", b.len, path, true, err);
    tj__buf_free(&b);
    return n;
}

tj_node *tj__node_from_arg(const char *text, const char *origin)
{
    tj_err ignored;
    tj_node *n = NULL;
    if (*text == '[' || *text == '{')
        n = tj__node_parse(text, strlen(text), origin, false, &ignored);
    if (!n) {
        n = node_new(TJ_NODE_SCALAR, origin, 1, 1);
        if (n && !(n->value = strdup(text))) {
            free(n);
            return NULL;
        }
        if (n)
            n->plain = false;
    }
    return n;
}

tj_node *tj__node_new_map(const char *origin)
{
    return node_new(TJ_NODE_MAP, origin, 1, 1);
}

int tj__node_map_set(tj_node *map, const char *key, tj_node *value)
{
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->value, key) == 0) {
            tj__node_free(map->items[i]);
            map->items[i] = value;
            return 0;
        }
    tj_node **items = realloc(map->items, (map->n + 1) * sizeof *items);
    if (items)
        map->items = items;
    tj_node **keys = realloc(map->keys, (map->n + 1) * sizeof *keys);
    if (keys)
        map->keys = keys;
    tj_node *k = node_new(TJ_NODE_SCALAR, value->file, value->line,
                          value->col);
    if (!items || !keys || !k || !(k->value = strdup(key))) {
        free(k);
        tj__node_free(value);
        return TJ_ENOMEM;
    }
    map->keys[map->n] = k;
    map->items[map->n++] = value;
    return 0;
}

tj_node *tj__node_get(const tj_node *map, const char *key)
{
    if (!map || map->kind != TJ_NODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->value, key) == 0)
            return map->items[i];
    return NULL;
}

bool tj__node_is_null(const tj_node *n)
{
    return !n || (n->kind == TJ_NODE_SCALAR && n->plain &&
                  (!*n->value || strcmp(n->value, "~") == 0 ||
                   strcmp(n->value, "null") == 0));
}

const char *tj__node_kind_name(const tj_node *n)
{
    return n->kind == TJ_NODE_SCALAR ? "scalar"
           : n->kind == TJ_NODE_SEQ  ? "sequence"
                                     : "mapping";
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0]++;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (a[i - 1] != b[j - 1]);
            size_t del = row[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            prev = cur;
        }
    }
    return row[lb];
}

const char *tj__did_you_mean(const char *word, const char *const *cands,
                             size_t n)
{
    const char *best = NULL;
    size_t bestd = 99, limit = strlen(word) / 3 + 1;
    if (limit > 3)
        limit = 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, cands[i]);
        if (d < bestd)
            bestd = d, best = cands[i];
    }
    return bestd <= limit ? best : NULL;
}
