/*
 * json.c - records to JSON text and back (dead letters, `exec --jsonl`).
 *
 * BYTES fields that are valid UTF-8 become JSON strings; other bytes become
 * {"$base64": "..."} so nothing is lost; reading turns that object back
 * into bytes.  JSON fields are embedded as values, INT and DOUBLE as numbers.
 */
#include "core.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* True when s[0..n) is well-formed UTF-8 (no overlongs or surrogates). */
bool tj__utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str, *e = s + n;
    while (s < e) {
        /* skip ASCII eight bytes at a time */
        while (e - s >= 8) {
            uint64_t w;
            memcpy(&w, s, 8);
            if (w & 0x8080808080808080ull)
                break;
            s += 8;
        }
        if (s >= e)
            break;
        unsigned c = *s;
        if (c < 0x80) {
            s++;
            continue;
        }
        /* three bytes, the common case in Chinese text: E0 needs A0-BF
         * next (no overlong), ED needs 80-9F (no surrogate) */
        if ((c & 0xF0) == 0xE0 && e - s >= 3 && (s[1] & 0xC0) == 0x80 &&
            (s[2] & 0xC0) == 0x80) {
            if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))
                return false;
            s += 3;
            continue;
        }
        size_t need;
        unsigned min;
        if (c >= 0xC2 && c <= 0xDF)
            need = 1, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            need = 2, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            need = 3, min = 0x10000;
        else
            return false;
        if ((size_t)(e - s) <= need)
            return false;
        unsigned cp = c & (0x3F >> need);
        for (size_t k = 1; k <= need; k++) {
            if ((s[k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        s += need + 1;
    }
    return true;
}

/* Appends s[0..n) as a JSON string literal (quotes and escapes). */
int tj__json_add_string(tj_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int rc = tj__buf_add(out, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = tj__buf_add(out, s + run, i - run);
        char esc[7] = {'\\', 0};
        size_t k = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            k = 6;
        }
        if (!rc)
            rc = tj__buf_add(out, esc, k);
        run = i + 1;
    }
    if (!rc)
        rc = tj__buf_add(out, s + run, n - run);
    return rc ? rc : tj__buf_add(out, "\"", 1);
}

static int add_base64(tj_buf *out, const unsigned char *s, size_t n)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int rc = tj__buf_add(out, "{\"$base64\":\"", 12);
    for (size_t i = 0; i < n && !rc; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        char q[4] = {b64[v >> 18 & 63], b64[v >> 12 & 63],
                     i + 1 < n ? b64[v >> 6 & 63] : '=',
                     i + 2 < n ? b64[v & 63] : '='};
        rc = tj__buf_add(out, q, 4);
    }
    return rc ? rc : tj__buf_add(out, "\"}", 2);
}

/* Appends one JSON object for rec (see the file comment for the mapping). */
int tj__record_to_json(const tj_record *rec, tj_buf *out)
{
    int rc = tj__buf_add(out, "{", 1);
    tj_field_type t;
    const char *name;
    for (size_t i = 0; !rc && (name = tj__record_field_at(rec, i, &t)); i++) {
        size_t len;
        const char *v = tj__record_get(rec, name, &len);
        if (i)
            rc = tj__buf_add(out, ",", 1);
        if (!rc)
            rc = tj__json_add_string(out, name, strlen(name));
        if (!rc)
            rc = tj__buf_add(out, ":", 1);
        if (rc)
            break;
        if (t == TJ_FIELD_JSON) {
            rc = tj__buf_add(out, v, len);
        } else if (t == TJ_FIELD_BYTES) {
            rc = tj__utf8_valid(v, len)
                     ? tj__json_add_string(out, v, len)
                     : add_base64(out, (const unsigned char *)v, len);
        } else if (t == TJ_FIELD_INT) {
            int64_t x = 0;
            tj__record_get_int(rec, name, &x);
            rc = tj__buf_addf(out, "%lld", (long long)x);
        } else {
            double d = 0;
            tj__record_get_double(rec, name, &d);
            rc = isfinite(d) ? tj__buf_addf(out, "%.17g", d)
                             : tj__buf_add(out, "null", 4);
        }
    }
    return rc ? rc : tj__buf_add(out, "}", 1);
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes base64 text into rec's field `name`; TJ_EPARSE on bad input. */
static int set_from_base64(tj_record *rec, const char *name, const char *s)
{
    size_t n = strlen(s);
    unsigned char *out = malloc(n / 4 * 3 + 4);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    if (!out)
        return TJ_ENOMEM;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return TJ_EPARSE;
        }
        acc = acc << 6 | (unsigned)v;
        if ((bits += 6) >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return tj__record_take_bytes(rec, name, out, o);
}

/* Sets one record field from a JSON value (null is skipped). */
static int set_from_json(tj_record *rec, cJSON *item)
{
    const char *name = item->string;
    if (cJSON_IsString(item))
        return tj__record_set_bytes(rec, name, item->valuestring,
                                    strlen(item->valuestring));
    if (cJSON_IsBool(item))
        return tj__record_set_int(rec, name, cJSON_IsTrue(item));
    if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        if (d == floor(d) && fabs(d) < 9.007199254740992e15)
            return tj__record_set_int(rec, name, (int64_t)d);
        return tj__record_set_double(rec, name, d);
    }
    if (cJSON_IsNull(item))
        return 0;
    cJSON *b64 = cJSON_GetObjectItemCaseSensitive(item, "$base64");
    if (cJSON_IsObject(item) && cJSON_IsString(b64) &&
        cJSON_GetArraySize(item) == 1)
        return set_from_base64(rec, name, b64->valuestring);
    char *text = cJSON_PrintUnformatted(item);
    if (!text)
        return TJ_ENOMEM;
    int rc = tj__record_set_json(rec, name, text, strlen(text));
    free(text);
    return rc;
}

/* Parses one JSON object into a new record (*out, caller owns). */
int tj__record_from_json(const char *text, size_t len, tj_record **out,
                         tj_err *err)
{
    *out = NULL;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return tj__errf(err, TJ_EPARSE, "not a JSON object");
    }
    tj_record *rec = tj__record_new();
    int rc = rec ? 0 : TJ_ENOMEM;
    for (cJSON *it = root->child; it && !rc; it = it->next)
        rc = set_from_json(rec, it);
    cJSON_Delete(root);
    if (rc) {
        tj__record_free(rec);
        return tj__errf(err, TJ_EPARSE, "bad field value: %s",
                        tj__strerror(rc));
    }
    *out = rec;
    return 0;
}

/* ---- validation without building a tree -------------------------------- */

typedef struct jscan {
    const unsigned char *p, *end;
    int depth;
} jscan;

static void skip_ws(jscan *s)
{
    while (s->p < s->end &&
           (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool scan_value(jscan *s);

static bool scan_literal(jscan *s, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* The bytes of v (eight, loaded little-endian) that are '"', '\\' or
 * below 0x20, as their top bits; 0 when none.  These are the usual
 * has-zero-byte tests: a borrow may flag a byte above a flagged one, but
 * the lowest flag is always a byte that is there, and none is missed. */
static inline uint64_t word_look(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v)) &
           high;
}

/* A string: no raw control characters, valid escapes.  (UTF-8 validity of
 * the bytes is checked once for the whole text by the caller.)  Its
 * content is skipped eight bytes at a time, straight to the first byte
 * that needs a look (quote, backslash, control character); JSON made by
 * stages is mostly long runs of text. */
static bool scan_string(jscan *s)
{
    s->p++; /* the opening quote */
    while (s->p < s->end) {
        uint64_t v, m;
        while (s->end - s->p >= 8) {
            memcpy(&v, s->p, 8);
            if ((m = word_look(v)) != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                s->p += __builtin_ctzll(m) >> 3; /* that byte */
#endif
                break;
            }
            s->p += 8;
        }
        if (s->p >= s->end)
            break;
        unsigned char c = *s->p++;
        if (c == '"')
            return true;
        if (c < 0x20)
            return false;
        if (c != '\\')
            continue;
        if (s->p >= s->end)
            return false;
        c = *s->p++;
        if (c == 'u') {
            for (int i = 0; i < 4; i++, s->p++)
                if (s->p >= s->end || !isxdigit(*s->p))
                    return false;
        } else if (!strchr("\"\\/bfnrt", c)) {
            return false;
        }
    }
    return false;
}

static bool scan_digits(jscan *s)
{
    const unsigned char *start = s->p;
    while (s->p < s->end && isdigit(*s->p))
        s->p++;
    return s->p > start;
}

static bool scan_number(jscan *s)
{
    if (*s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (!scan_digits(s))
        return false;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!scan_digits(s))
            return false;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!scan_digits(s))
            return false;
    }
    return true;
}

/* An array or object: items separated by commas, keys before colons. */
static bool scan_container(jscan *s, char close)
{
    if (++s->depth > 512)
        return false;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        skip_ws(s);
        if (close == '}') {
            if (s->p >= s->end || *s->p != '"' || !scan_string(s))
                return false;
            skip_ws(s);
            if (s->p >= s->end || *s->p++ != ':')
                return false;
        }
        if (!scan_value(s))
            return false;
        skip_ws(s);
        if (s->p >= s->end)
            return false;
        char c = (char)*s->p++;
        if (c == close) {
            s->depth--;
            return true;
        }
        if (c != ',')
            return false;
    }
}

static bool scan_value(jscan *s)
{
    skip_ws(s);
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
    case '{': return scan_container(s, '}');
    case '[': return scan_container(s, ']');
    case '"': return scan_string(s);
    case 't': return scan_literal(s, "true");
    case 'f': return scan_literal(s, "false");
    case 'n': return scan_literal(s, "null");
    default:  return scan_number(s);
    }
}

/* True when text[0..n) is exactly one JSON value (RFC 8259: UTF-8, no raw
 * control characters in strings), surrounded only by white space.  Builds
 * nothing: stages set JSON fields on every record. */
bool tj__json_valid(const char *text, size_t n)
{
    jscan s = {(const unsigned char *)text, (const unsigned char *)text + n, 0};
    if (!scan_value(&s))
        return false;
    skip_ws(&s);
    return s.p == s.end && tj__utf8_valid(text, n);
}
