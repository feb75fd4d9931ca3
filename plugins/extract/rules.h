/*
 * rules.h - user PCRE2 rules of the extract stage (internal).
 */
#ifndef TJ_EXTRACT_RULES_H
#define TJ_EXTRACT_RULES_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct ext_rules ext_rules;

/* The article fields a rule may set, in the order of the `fields` array of
 * ext_rules_apply; NULL-terminated. */
extern const char *const ext_rule_fields[];

/* Compiles n rules (name -> pattern) with the JIT.  On a bad pattern
 * returns NULL with a message naming the rule and the offset in err. */
ext_rules *ext_rules_create(const char *const *names,
                            const char *const *patterns, size_t n, char *err,
                            size_t errlen);
void ext_rules_destroy(ext_rules *rs);

/* Runs every rule over the texts in order.  Field rules store a malloc'ed
 * value into fields[i] (i as in ext_rule_fields) when it is still NULL;
 * entity rules replace entities[name] with their matches (at most max).
 * Returns 0 or -1 when out of memory. */
int ext_rules_apply(ext_rules *rs, const char *const *texts,
                    const size_t *lens, size_t ntexts, size_t max,
                    char **fields, cJSON *entities);

#endif
