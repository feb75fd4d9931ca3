/*
 * schema.c - the column rules shared by the sqlite and postgres backends.
 *
 * A column's kind is fixed by the first value that creates it: INT ->
 * INTEGER, DOUBLE -> REAL, JSON -> JSON, BYTES -> TEXT (or BLOB when the
 * first value cannot be stored as text).  Later values must fit that kind
 * (an INT fits REAL, text fits BLOB); anything else is a type clash that
 * fails the record with a message naming field, column and table.  Columns
 * of a pre-existing table whose type taojin does not know (timestamptz,
 * NUMERIC...) accept anything and leave the decision to the database.
 */
#include "export.h"

#include <stdlib.h>
#include <string.h>

long ex_schema_find(const ex_schema *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->cols[i].name, name) == 0)
            return (long)i;
    return -1;
}

long ex_schema_find_near(const ex_schema *s, const char *name, size_t hint)
{
    if (hint < s->n && strcmp(s->cols[hint].name, name) == 0)
        return (long)hint;
    return ex_schema_find(s, name);
}

int ex_schema_add(ex_schema *s, const char *name, ex_kind kind,
                  const char *decl)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        ex_column *c = realloc(s->cols, cap * sizeof *c);
        if (!c)
            return TJ_ENOMEM;
        s->cols = c;
        s->cap = cap;
    }
    ex_column *c = &s->cols[s->n];
    c->name = strdup(name);
    c->decl = strdup(decl ? decl : "");
    c->kind = kind;
    if (!c->name || !c->decl) {
        free(c->name);
        free(c->decl);
        return TJ_ENOMEM;
    }
    s->n++;
    return 0;
}

void ex_schema_clear(ex_schema *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->cols[i].name);
        free(s->cols[i].decl);
    }
    free(s->cols);
    memset(s, 0, sizeof *s);
}

ex_kind ex_kind_for_value(tj_field_type type, bool text_ok)
{
    switch (type) {
    case TJ_FIELD_BYTES: return text_ok ? EX_K_TEXT : EX_K_BLOB;
    case TJ_FIELD_INT: return EX_K_INTEGER;
    case TJ_FIELD_DOUBLE: return EX_K_REAL;
    case TJ_FIELD_JSON: return EX_K_JSON;
    default: return EX_K_NONE;
    }
}

int ex_kind_accepts(ex_kind col, tj_field_type type, bool text_ok)
{
    switch (col) {
    case EX_K_OTHER: return 0;
    case EX_K_TEXT: return type == TJ_FIELD_BYTES && text_ok ? 0 : -1;
    case EX_K_BLOB: return type == TJ_FIELD_BYTES ? 0 : -1;
    case EX_K_INTEGER: return type == TJ_FIELD_INT ? 0 : -1;
    case EX_K_REAL:
        return type == TJ_FIELD_INT || type == TJ_FIELD_DOUBLE ? 0 : -1;
    case EX_K_JSON: return type == TJ_FIELD_JSON ? 0 : -1;
    default: return -1;
    }
}

const char *ex_kind_name(ex_kind k)
{
    static const char *names[] = {"none", "text", "blob", "integer",
                                  "real", "json", "other"};
    return k <= EX_K_OTHER ? names[k] : "?";
}

const char *ex_field_type_name(tj_field_type t)
{
    switch (t) {
    case TJ_FIELD_BYTES: return "bytes";
    case TJ_FIELD_INT: return "int";
    case TJ_FIELD_DOUBLE: return "double";
    case TJ_FIELD_JSON: return "json";
    default: return "absent";
    }
}

int ex_sql_ident(ex_buf *b, const char *name)
{
    if (ex_buf_addc(b, '"'))
        return TJ_ENOMEM;
    for (const char *p = name; *p; p++)
        if ((*p == '"' && ex_buf_addc(b, '"')) || ex_buf_addc(b, *p))
            return TJ_ENOMEM;
    return ex_buf_addc(b, '"');
}
