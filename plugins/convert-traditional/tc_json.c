/*
 * tc_json.c - converts the string values inside JSON text (the `page` hints
 * and other JSON fields), leaving keys, numbers, layout and unchanged
 * strings byte for byte as they were.
 */
#include "tc_json.h"

#include <stdlib.h>
#include <string.h>

#include "taojin/stage.h"

/* Appends n bytes; 0 or TJ_ENOMEM. */
static int put(tc_out *o, const void *s, size_t n)
{
    if (o->cap - o->len <= n) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap - o->len <= n)
            cap *= 2;
        char *p = realloc(o->buf, cap);
        if (!p)
            return TJ_ENOMEM;
        o->buf = p;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static long hex4(const unsigned char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t utf8_put(unsigned long c, char *o)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Decodes the escapes of a string's content s[0..n) into o.  Returns 0, 1
 * when the string cannot be represented as UTF-8 (a lone surrogate: the
 * caller keeps it as it was) or TJ_EPARSE / TJ_ENOMEM. */
static int unescape(const unsigned char *s, size_t n, tc_out *o)
{
    const unsigned char *end = s + n;
    while (s < end) {
        const unsigned char *bs = memchr(s, '\\', (size_t)(end - s));
        const unsigned char *stop = bs ? bs : end;
        char u[8];
        long c, lo;
        if (put(o, s, (size_t)(stop - s)))
            return TJ_ENOMEM;
        if (!bs)
            break;
        s = bs + 1;
        if (s >= end)
            return TJ_EPARSE;
        switch (*s) {
        case '"': case '\\': case '/':
            u[0] = (char)*s; c = 1; break;
        case 'b': u[0] = '\b'; c = 1; break;
        case 'f': u[0] = '\f'; c = 1; break;
        case 'n': u[0] = '\n'; c = 1; break;
        case 'r': u[0] = '\r'; c = 1; break;
        case 't': u[0] = '\t'; c = 1; break;
        case 'u':
            if (end - s < 5 || (c = hex4(s + 1)) < 0)
                return TJ_EPARSE;
            s += 4;
            if (c >= 0xDC00 && c <= 0xDFFF)
                return 1;
            if (c >= 0xD800 && c <= 0xDBFF) {
                if (end - s < 7 || s[1] != '\\' || s[2] != 'u' ||
                    (lo = hex4(s + 3)) < 0xDC00 || lo > 0xDFFF)
                    return 1;
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            }
            c = (long)utf8_put((unsigned long)c, u);
            break;
        default:
            return TJ_EPARSE;
        }
        if (put(o, u, (size_t)c))
            return TJ_ENOMEM;
        s++;
    }
    return 0;
}

/* Appends s[0..n) as the content of a JSON string. */
static int escape(const char *s, size_t n, tc_out *o)
{
    static const char hex[] = "0123456789abcdef";
    const char *start = s, *end = s + n;
    for (; s < end; s++) {
        unsigned char c = (unsigned char)*s;
        char e[6] = {'\\', 0, '0', '0', 0, 0};
        size_t en = 2;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (put(o, start, (size_t)(s - start)))
            return TJ_ENOMEM;
        start = s + 1;
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        default:
            e[1] = 'u';
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            en = 6;
        }
        if (put(o, e, en))
            return TJ_ENOMEM;
    }
    return put(o, start, (size_t)(end - start));
}

/* Converts one string value whose content is s[0..n); appends the whole
 * token (quotes included) to out. */
static int convert_string(tc_conv *cv, const unsigned char *s, size_t n,
                          tc_out *out, tc_out *tmp, tc_out *conv)
{
    const unsigned char *text = s;
    size_t tlen = n;
    int rc;
    if (memchr(s, '\\', n)) {
        tmp->len = 0;
        if ((rc = unescape(s, n, tmp)) < 0)
            return rc;
        if (rc == 1) /* not representable: keep it */
            return put(out, s - 1, n + 2);
        text = (const unsigned char *)tmp->buf;
        tlen = tmp->len;
    }
    conv->len = 0;
    conv->changes = 0;
    if ((rc = tc_convert(cv, (const char *)text, tlen, conv)))
        return rc;
    out->invalid += conv->invalid;
    if (conv->changes == 0)
        return put(out, s - 1, n + 2);
    out->changes += conv->changes;
    if (put(out, "\"", 1) || escape(conv->buf, conv->len, out) ||
        put(out, "\"", 1))
        return TJ_ENOMEM;
    return 0;
}

int tc_json_convert(tc_conv *cv, const char *json, size_t len, tc_out *out)
{
    const unsigned char *p = (const unsigned char *)json, *end = p + len;
    const unsigned char *copied = p;
    tc_out tmp = {0}, conv = {0};
    int rc = 0;
    while (p < end && !rc) {
        const unsigned char *s, *q;
        if (*p != '"') {
            p++;
            continue;
        }
        s = ++p; /* the string's content starts here */
        while (p < end && *p != '"')
            p += (*p == '\\') ? 2 : 1;
        if (p >= end) {
            rc = TJ_EPARSE;
            break;
        }
        for (q = p + 1; q < end && (*q == ' ' || *q == '\t' || *q == '\n' ||
                                    *q == '\r');
             q++)
            ;
        p++; /* past the closing quote */
        if (q < end && *q == ':')
            continue; /* a key: kept as written */
        if ((rc = put(out, copied, (size_t)(s - 1 - copied))))
            break;
        rc = convert_string(cv, s, (size_t)(p - 1 - s), out, &tmp, &conv);
        copied = p;
    }
    if (!rc)
        rc = put(out, copied, (size_t)(end - copied));
    tc_out_free(&tmp);
    tc_out_free(&conv);
    return rc;
}
