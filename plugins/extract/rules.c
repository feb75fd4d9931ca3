/*
 * rules.c - user rules: PCRE2 patterns with named groups (the `rules:`
 * option), compiled once at init with the JIT.
 *
 * A rule is "name: pattern".  When name is an article field (title, author,
 * editor, source, published_at) the first match sets that field; otherwise
 * every match is added to entities[name] as an object holding the whole
 * match ("text") and each named group that took part.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rule {
    char *name;
    pcre2_code *re;
    int field; /* index in ext_rule_fields or -1 */
} rule;

struct ext_rules {
    rule *r;
    size_t n;
    pcre2_match_data *md;
};

const char *const ext_rule_fields[] = {"title", "author", "editor", "source",
                                       "published_at", NULL};

static int field_index(const char *name)
{
    for (int i = 0; ext_rule_fields[i]; i++)
        if (!strcmp(ext_rule_fields[i], name))
            return i;
    return -1;
}

ext_rules *ext_rules_create(const char *const *names,
                            const char *const *patterns, size_t n, char *err,
                            size_t errlen)
{
    ext_rules *rs = calloc(1, sizeof *rs);
    if (!rs || !(rs->r = calloc(n + 1, sizeof *rs->r)))
        goto oom;
    for (size_t i = 0; i < n; i++) {
        int code;
        PCRE2_SIZE off;
        rule *r = &rs->r[rs->n];
        if (!(r->name = strdup(names[i])))
            goto oom;
        rs->n++;
        r->field = field_index(names[i]);
        r->re = pcre2_compile((PCRE2_SPTR)patterns[i], PCRE2_ZERO_TERMINATED,
                              PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF,
                              &code, &off, NULL);
        if (!r->re) {
            char msg[256];
            pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof msg);
            snprintf(err, errlen, "rules: '%s': %s at offset %zu", names[i],
                     msg, (size_t)off);
            goto fail;
        }
        /* Without JIT support PCRE2 still matches, only slower. */
        pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
    }
    if (!(rs->md = pcre2_match_data_create(64, NULL)))
        goto oom;
    return rs;
oom:
    snprintf(err, errlen, "rules: out of memory");
fail:
    ext_rules_destroy(rs);
    return NULL;
}

void ext_rules_destroy(ext_rules *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->r[i].name);
        pcre2_code_free(rs->r[i].re);
    }
    pcre2_match_data_free(rs->md);
    free(rs->r);
    free(rs);
}

/* The text of the group named `name` in the last match, or NULL. */
static char *group_text(const rule *r, pcre2_match_data *md, const char *s,
                        const char *name)
{
    int num = pcre2_substring_number_from_name(r->re, (PCRE2_SPTR)name);
    if (num < 0)
        return NULL;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    if (ov[2 * num] == PCRE2_UNSET)
        return NULL;
    return strndup(s + ov[2 * num], ov[2 * num + 1] - ov[2 * num]);
}

/* Adds one match of an entity rule to list. */
static int add_match(const rule *r, pcre2_match_data *md, const char *s,
                     cJSON *list)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    cJSON *o = cJSON_CreateObject();
    char *t = strndup(s + ov[0], ov[1] - ov[0]);
    if (!o || !t || !cJSON_AddStringToObject(o, "text", t))
        goto fail;
    free(t);
    uint32_t count, size;
    PCRE2_SPTR table;
    pcre2_pattern_info(r->re, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(r->re, PCRE2_INFO_NAMEENTRYSIZE, &size);
    pcre2_pattern_info(r->re, PCRE2_INFO_NAMETABLE, &table);
    for (uint32_t i = 0; i < count; i++) {
        const char *gname = (const char *)table + i * size + 2;
        if (cJSON_GetObjectItemCaseSensitive(o, gname))
            continue;
        char *g = group_text(r, md, s, gname);
        if (g && !cJSON_AddStringToObject(o, gname, g)) {
            free(g);
            goto fail_o;
        }
        free(g);
    }
    cJSON_AddItemToArray(list, o);
    return 0;
fail:
    free(t);
fail_o:
    cJSON_Delete(o);
    return -1;
}

int ext_rules_apply(ext_rules *rs, const char *const *texts,
                    const size_t *lens, size_t ntexts, size_t max,
                    char **fields, cJSON *entities)
{
    for (size_t i = 0; rs && i < rs->n; i++) {
        rule *r = &rs->r[i];
        cJSON *list = NULL;
        size_t found = 0;
        if (r->field < 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(entities, r->name);
            if (!(list = cJSON_AddArrayToObject(entities, r->name)))
                return -1;
        } else if (fields[r->field]) {
            continue; /* an earlier rule set it */
        }
        for (size_t t = 0; t < ntexts && found < max; t++) {
            PCRE2_SIZE start = 0;
            while (start <= lens[t] && found < max) {
                int rc = pcre2_match(r->re, (PCRE2_SPTR)texts[t], lens[t], start,
                                     0, rs->md, NULL);
                if (rc < 0)
                    break;
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(rs->md);
                if (r->field >= 0) {
                    char *v = group_text(r, rs->md, texts[t], r->name);
                    if (!v)
                        v = group_text(r, rs->md, texts[t], "value");
                    if (!v)
                        v = strndup(texts[t] + ov[0], ov[1] - ov[0]);
                    fields[r->field] = v;
                    found = max;
                    break;
                }
                if (add_match(r, rs->md, texts[t], list))
                    return -1;
                found++;
                start = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
            }
        }
    }
    return 0;
}
