/*
 * charset.c - charset resolution for the decode stage (see charset.h).
 */
#include "charset.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uchardet/uchardet.h>

#include "convert.h"
#include "taojin/stage.h"

struct cs_detector {
    uchardet_t ud;
};

/* Labels as browsers read them, narrowed to what this stage converts. */
static const struct label_map {
    const char *label;
    const char *charset;
} labels[] = {
    {"utf-8", CS_UTF8}, {"utf8", CS_UTF8}, {"unicode-1-1-utf-8", CS_UTF8},
    {"unicode11utf8", CS_UTF8}, {"unicode20utf8", CS_UTF8},
    {"x-unicode20utf8", CS_UTF8},
    {"gb2312", CS_GB18030}, {"gbk", CS_GB18030}, {"x-gbk", CS_GB18030},
    {"gb18030", CS_GB18030}, {"gb_2312", CS_GB18030},
    {"gb_2312-80", CS_GB18030}, {"chinese", CS_GB18030},
    {"csgb2312", CS_GB18030}, {"csiso58gb231280", CS_GB18030},
    {"iso-ir-58", CS_GB18030}, {"cp936", CS_GB18030}, {"ms936", CS_GB18030},
    {"windows-936", CS_GB18030}, {"euc-cn", CS_GB18030},
    {"big5", CS_BIG5}, {"big5-hkscs", CS_BIG5}, {"cn-big5", CS_BIG5},
    {"csbig5", CS_BIG5}, {"x-x-big5", CS_BIG5}, {"cp950", CS_BIG5},
    {"utf-16", CS_UTF16LE}, {"utf-16le", CS_UTF16LE}, {"unicode", CS_UTF16LE},
    {"ucs-2", CS_UTF16LE}, {"csunicode", CS_UTF16LE},
    {"iso-10646-ucs-2", CS_UTF16LE}, {"unicodefeff", CS_UTF16LE},
    {"utf-16be", CS_UTF16BE}, {"unicodefffe", CS_UTF16BE},
    {"euc-tw", "EUC-TW"}, {"x-euc-tw", "EUC-TW"},
    {"ascii", CS_WIN1252}, {"us-ascii", CS_WIN1252},
    {"ansi_x3.4-1968", CS_WIN1252}, {"iso-8859-1", CS_WIN1252},
    {"iso8859-1", CS_WIN1252}, {"iso88591", CS_WIN1252},
    {"iso_8859-1", CS_WIN1252}, {"iso_8859-1:1987", CS_WIN1252},
    {"latin1", CS_WIN1252}, {"l1", CS_WIN1252}, {"cp819", CS_WIN1252},
    {"ibm819", CS_WIN1252}, {"csisolatin1", CS_WIN1252},
    {"iso-ir-100", CS_WIN1252}, {"windows-1252", CS_WIN1252},
    {"cp1252", CS_WIN1252}, {"x-cp1252", CS_WIN1252},
    {"shift_jis", "SHIFT_JIS"}, {"sjis", "SHIFT_JIS"},
    {"x-sjis", "SHIFT_JIS"}, {"euc-jp", "EUC-JP"}, {"euc-kr", "EUC-KR"},
};

/* Detection results trusted on a Chinese news page.  uchardet names a
 * single-byte Western or Cyrillic charset for short GBK or Big5 snippets,
 * so those verdicts are ignored and the fallback decides. */
static const char *const trusted_detections[] = {
    CS_UTF8, CS_GB18030, CS_BIG5, "EUC-TW", CS_UTF16LE, CS_UTF16BE,
    "EUC-JP", "SHIFT_JIS", "EUC-KR", "ISO-2022-JP", "ISO-2022-KR",
    "ISO-2022-CN", NULL};

static const char *const source_names[] = {"bom",      "header",
                                           "meta",     "detected",
                                           "fallback", "forced"};

const char *cs_source_name(cs_source src) { return source_names[src]; }

cs_detector *cs_detector_new(void)
{
    cs_detector *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->ud = uchardet_new();
    if (!d->ud) {
        free(d);
        return NULL;
    }
    return d;
}

void cs_detector_free(cs_detector *d)
{
    if (!d)
        return;
    uchardet_delete(d->ud);
    free(d);
}

/* ---- labels ---------------------------------------------------------------- */

int cs_canonical(const char *label, size_t len, char *out)
{
    char low[CS_NAME_MAX];
    while (len && (isspace((unsigned char)*label) || *label == '"' ||
                   *label == '\''))
        label++, len--;
    while (len && (isspace((unsigned char)label[len - 1]) ||
                   label[len - 1] == '"' || label[len - 1] == '\''))
        len--;
    if (len == 0 || len >= CS_NAME_MAX)
        return TJ_EINVAL;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)label[i]);
    low[len] = '\0';
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (!strcmp(low, labels[i].label)) {
            strcpy(out, labels[i].charset);
            return 0;
        }
    for (size_t i = 0; i <= len; i++)
        out[i] = (char)toupper((unsigned char)low[i]);
    if (strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") != len)
        return TJ_EINVAL;
    return conv_supported(out) ? 0 : TJ_EINVAL;
}

/* Case-insensitive search for `needle` in s[0..n).  Candidates are found
 * with memchr on the needle's first byte (both cases), so the compare runs
 * only where that byte occurs. */
static const char *find_ci(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    int lo = tolower((unsigned char)needle[0]);
    int up = toupper((unsigned char)needle[0]);
    const char *end = s + n, *p = s;
    while (k && (size_t)(end - p) >= k) {
        const char *a = memchr(p, lo, (size_t)(end - p) - k + 1);
        const char *last = a ? a : end - k + 1;
        const char *b = lo == up ? NULL : memchr(p, up, (size_t)(last - p));
        const char *c = b ? b : a;
        if (!c)
            return NULL;
        if (!strncasecmp(c, needle, k))
            return c;
        p = c + 1;
    }
    return k ? NULL : s;
}

/* Reads `name = value` after the key found at p (inside s..end): skips
 * blanks, '=', blanks and a quote.  Returns the value's length, 0 if none. */
static size_t read_value(const char *p, const char *end, const char **val)
{
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (p >= end || *p != '=')
        return 0;
    p++;
    while (p < end && (isspace((unsigned char)*p) || *p == '"' || *p == '\''))
        p++;
    const char *v = p;
    while (p < end && (isalnum((unsigned char)*p) || strchr("-_.:+", *p)))
        p++;
    *val = v;
    return (size_t)(p - v);
}

size_t cs_content_type_label(const char *ct, const char **label)
{
    if (!ct)
        return 0;
    size_t n = strlen(ct);
    const char *semi = memchr(ct, ';', n);
    const char *p = semi ? find_ci(semi, n - (size_t)(semi - ct), "charset")
                         : NULL;
    return p ? read_value(p + 7, ct + n, label) : 0;
}

/* The label of an <?xml ... encoding="x"?> declaration opening s. */
static size_t xml_decl_label(const char *s, size_t n, const char **label)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)s[i]))
        i++;
    if (n - i < 5 || strncmp(s + i, "<?xml", 5))
        return 0;
    const char *end = find_ci(s + i, n - i, "?>");
    const char *p = find_ci(s + i, (end ? end : s + n) - (s + i), "encoding");
    return p ? read_value(p + 8, end ? end : s + n, label) : 0;
}

size_t cs_meta_label(const char *s, size_t n, const char **label)
{
    if (n > CS_META_WINDOW)
        n = CS_META_WINDOW;
    size_t k = xml_decl_label(s, n, label);
    if (k)
        return k;
    const char *end = s + n, *p = s;
    while ((p = find_ci(p, (size_t)(end - p), "<meta")) != NULL) {
        const char *close = memchr(p, '>', (size_t)(end - p));
        const char *tag_end = close ? close : end;
        const char *c = find_ci(p, (size_t)(tag_end - p), "charset");
        if (c && (k = read_value(c + 7, tag_end, label)) > 0)
            return k;
        p += 5;
    }
    return 0;
}

/* ---- detection ------------------------------------------------------------- */

const char *cs_guess_utf16(const unsigned char *s, size_t n)
{
    size_t m = n > 4096 ? 4096 : n & ~(size_t)1, zeros[2] = {0, 0};
    if (m < 8 || !memchr(s, 0, m)) /* either verdict needs zero bytes */
        return NULL;
    for (size_t i = 0; i < m; i++)
        zeros[i & 1] += s[i] == 0;
    size_t units = m / 2;
    if (zeros[1] * 4 >= units && zeros[0] * 20 <= units)
        return CS_UTF16LE;
    if (zeros[0] * 4 >= units && zeros[1] * 20 <= units)
        return CS_UTF16BE;
    return NULL;
}

/* Forty characters that make up a tenth to a third of the double-byte
 * characters of Chinese pages in GB2312/GBK, as GB2312 codes:
 * 的一是不了在人有我他这中大来上国个到说们为和地也时出要就会可对年生后能而以于之发
 * (tests/test_accuracy.c checks the bytes against the characters).  Big5,
 * EUC-TW, EUC-KR and EUC-JP text read as GBK lands on them 0-3% of the
 * time. */
const char cs_gb_common[] =
    "\xB5\xC4\xD2\xBB\xCA\xC7\xB2\xBB\xC1\xCB\xD4\xDA\xC8\xCB\xD3\xD0"
    "\xCE\xD2\xCB\xFB\xD5\xE2\xD6\xD0\xB4\xF3\xC0\xB4\xC9\xCF\xB9\xFA"
    "\xB8\xF6\xB5\xBD\xCB\xB5\xC3\xC7\xCE\xAA\xBA\xCD\xB5\xD8\xD2\xB2"
    "\xCA\xB1\xB3\xF6\xD2\xAA\xBE\xCD\xBB\xE1\xBF\xC9\xB6\xD4\xC4\xEA"
    "\xC9\xFA\xBA\xF3\xC4\xDC\xB6\xF8\xD2\xD4\xD3\xDA\xD6\xAE\xB7\xA2";

/* One bit per two-byte GBK code (lead 0x81-0xFE, trail 0x40-0xFE). */
static unsigned char gb_common_bits[(0x7E * 0xBF + 7) / 8];
static pthread_once_t gb_common_once = PTHREAD_ONCE_INIT;

static size_t gb_index(unsigned lead, unsigned trail)
{
    return (lead - 0x81) * 0xBF + (trail - 0x40);
}

static void gb_common_build(void)
{
    const unsigned char *u = (const unsigned char *)cs_gb_common;
    for (size_t i = 0; i + 1 < sizeof cs_gb_common; i += 2) {
        size_t k = gb_index(u[i], u[i + 1]);
        gb_common_bits[k / 8] |= (unsigned char)(1u << (k % 8));
    }
}

int cs_gb_sure(const unsigned char *s, size_t n)
{
    size_t codes = 0, common = 0, bad = 0;
    pthread_once(&gb_common_once, gb_common_build);
    if (n > CS_GB_WINDOW)
        n = CS_GB_WINDOW;
    for (size_t i = 0; i < n && codes < CS_GB_CODES;) {
        unsigned c = s[i], d = i + 1 < n ? s[i + 1] : 0;
        if (c < 0x80) {
            i++;
        } else if (c == 0x80 || c == 0xFF) { /* never a lead byte */
            bad++;
            i++;
        } else if (d >= 0x40 && d <= 0xFE && d != 0x7F) {
            size_t k = gb_index(c, d);
            codes++;
            common += (gb_common_bits[k / 8] >> (k % 8)) & 1;
            i += 2;
        } else if (d >= 0x30 && d <= 0x39 && i + 3 < n && s[i + 2] >= 0x81 &&
                   s[i + 2] <= 0xFE && s[i + 3] >= 0x30 && s[i + 3] <= 0x39) {
            codes++; /* a four-byte GB18030 code */
            i += 4;
        } else {
            bad++;
            i++;
        }
    }
    return codes >= 64 && bad * 100 <= codes && common * 10 >= codes;
}

int cs_detect(cs_detector *d, const char *s, size_t n, char *out)
{
    if (cs_gb_sure((const unsigned char *)s, n)) {
        strcpy(out, CS_GB18030);
        return 0;
    }
    uchardet_reset(d->ud);
    if (uchardet_handle_data(d->ud, s, n > CS_DETECT_WINDOW ? CS_DETECT_WINDOW
                                                            : n) != 0)
        return TJ_EINVAL;
    uchardet_data_end(d->ud);
    const char *name = uchardet_get_charset(d->ud);
    if (!name || !*name)
        return TJ_EINVAL;
    if (!strcasecmp(name, "ASCII"))
        name = CS_UTF8;
    return cs_canonical(name, strlen(name), out);
}

static int trusted(const char *charset)
{
    for (size_t i = 0; trusted_detections[i]; i++)
        if (!strcmp(charset, trusted_detections[i]))
            return 1;
    return 0;
}

/* ---- resolution ---------------------------------------------------------- */

/* What is known about the bytes, computed once and shared by the steps. */
typedef struct probe {
    cs_detector *det;
    const unsigned char *s;
    size_t n;
    int utf8;        /* the bytes are valid UTF-8 */
    int utf8_strong; /* ... with enough non-ASCII to rule out chance */
    int utf8_mostly; /* -1 not yet known; 1: UTF-8 with a few bad bytes */
    int detected;    /* -1 not yet run, 0 nothing usable, 1 in `guess` */
    char guess[CS_NAME_MAX];
} probe;

static void probe_init(probe *p, cs_detector *det, const char *s, size_t n)
{
    memset(p, 0, sizeof *p);
    p->det = det;
    p->s = (const unsigned char *)s;
    p->n = n;
    p->detected = -1;
    p->utf8_mostly = -1;
    p->utf8 = conv_utf8_valid_prefix(p->s, n) == n;
    if (p->utf8) {
        size_t multi = 0;
        for (size_t i = 0; i < n && multi < 4; i++)
            multi += p->s[i] >= 0xC0;
        p->utf8_strong = multi >= 4;
    }
}

/* Stores the text for `charset` in res: no copy when the input is valid
 * UTF-8 already. */
static void take(cs_result *res, const char *charset, cs_source src,
                 conv_out *co)
{
    res->text = co ? co->text : NULL;
    res->len = co ? co->len : res->len;
    res->errors = co ? co->errors : 0;
    res->source = src;
    snprintf(res->charset, sizeof res->charset, "%s", charset);
}

static int clean(const conv_out *co)
{
    return co->errors == 0 || (co->errors == 1 && co->tail_error);
}

/* UTF-8's structure makes chance validity unlikely: text with at least 16
 * well-formed multi-byte characters and at most one bad sequence per 100 of
 * them is UTF-8 with a few damaged bytes (a cut page, a bad CMS), not a
 * legacy charset.  Legacy charsets get no such leniency. */
static int utf8_mostly(probe *p)
{
    if (p->utf8_mostly < 0) {
        size_t multi, invalid, head = p->n < 65536 ? p->n : 65536;
        /* Legacy text is invalid almost everywhere: the first 64 KB say
         * so without a pass over the whole body, and the counts stop as
         * soon as the verdict is certain (one bad sequence in ten, then
         * in a hundred, is already too many). */
        int no = conv_utf8_stats(p->s, head, 10, &multi, &invalid);
        if (!no && invalid * 10 <= multi && head < p->n)
            no = conv_utf8_stats(p->s, p->n, 100, &multi, &invalid);
        p->utf8_mostly = !no && multi >= 16 && invalid * 100 <= multi;
    }
    return p->utf8_mostly;
}

/* Decodes everything in `charset`, errors and all. */
static int force(probe *p, const char *charset, cs_source src,
                 cs_result *res)
{
    if (!strcmp(charset, CS_UTF8) && p->utf8) {
        res->len = p->n;
        take(res, CS_UTF8, src, NULL);
        return 0;
    }
    conv_out co;
    int rc = conv_to_utf8(charset, p->s, p->n, 0, &co);
    if (rc)
        return rc;
    take(res, charset, src, &co);
    return 0;
}

/* Decodes the probe's bytes in `charset`, keeping the result only when the
 * bytes decode cleanly.  Returns 1 when res was filled, 0 when the charset
 * does not fit, TJ_ENOMEM. */
static int try_charset(probe *p, const char *charset, cs_source src,
                       cs_result *res)
{
    if (!strcmp(charset, CS_UTF8)) {
        if (p->utf8) {
            res->len = p->n;
            take(res, CS_UTF8, src, NULL);
            return 1;
        }
        if (!utf8_mostly(p))
            return 0;
        return force(p, CS_UTF8, src, res) ? TJ_ENOMEM : 1;
    }
    /* Chinese text in UTF-8 often decodes "cleanly" as GB18030 or Latin-1,
     * to mojibake: a legacy label on bytes that are plainly UTF-8 lies. */
    if (p->utf8_strong || (p->utf8 && !strcmp(charset, CS_WIN1252)))
        return 0;
    conv_out co;
    int rc = conv_to_utf8(charset, p->s, p->n, 1, &co);
    if (rc)
        return rc == TJ_ENOMEM ? rc : 0;
    if (!clean(&co)) {
        free(co.text);
        return 0;
    }
    take(res, charset, src, &co);
    return 1;
}

/* A declared label (header or meta).  A Latin-1 label on bytes uchardet
 * finds to be a CJK charset that decodes cleanly is taken for a lie. */
static int try_label(probe *p, const char *label, size_t len, cs_source src,
                     cs_result *res)
{
    char cs[CS_NAME_MAX];
    if (!len || cs_canonical(label, len, cs))
        return 0;
    if (src == CS_SRC_META && !strncmp(cs, "UTF-16", 6))
        strcpy(cs, CS_UTF8); /* a meta readable as ASCII is not UTF-16 */
    if (!strcmp(cs, CS_WIN1252) && p->utf8)
        strcpy(cs, CS_UTF8); /* what browsers do, and what the bytes are */
    if (!strcmp(cs, CS_WIN1252)) {
        if (p->detected < 0)
            p->detected = cs_detect(p->det, (const char *)p->s, p->n,
                                    p->guess) == 0;
        if (p->detected && strcmp(p->guess, CS_WIN1252) && trusted(p->guess)) {
            cs_result alt;
            memset(&alt, 0, sizeof alt);
            int rc = try_charset(p, p->guess, src, &alt);
            free(alt.text);
            if (rc)
                return rc < 0 ? rc : 0; /* it fits better: the label lies */
        }
    }
    return try_charset(p, cs, src, res);
}

/* Detection: UTF-16 zero bytes, UTF-8 validity, then uchardet. */
static int try_detect(probe *p, cs_result *res)
{
    /* First: NUL bytes are valid UTF-8, and ASCII in UTF-16 is full of
     * them. */
    const char *u16 = cs_guess_utf16(p->s, p->n);
    if (u16) {
        int rc = try_charset(p, u16, CS_SRC_DETECTED, res);
        if (rc)
            return rc;
    }
    if (p->utf8 || utf8_mostly(p))
        return try_charset(p, CS_UTF8, CS_SRC_DETECTED, res);
    if (p->detected < 0)
        p->detected =
            cs_detect(p->det, (const char *)p->s, p->n, p->guess) == 0;
    if (!p->detected || !trusted(p->guess))
        return 0;
    return try_charset(p, p->guess, CS_SRC_DETECTED, res);
}

/* The last resort: the fallback charset, errors and all, unless the
 * charset uchardet named decodes with fewer errors. */
static int fallback(probe *p, const char *charset, cs_result *res)
{
    int rc = force(p, charset, CS_SRC_FALLBACK, res);
    if (rc || !res->errors || p->detected != 1 || !trusted(p->guess) ||
        !strcmp(p->guess, charset))
        return rc;
    cs_result alt;
    memset(&alt, 0, sizeof alt);
    if (force(p, p->guess, CS_SRC_DETECTED, &alt) == 0 &&
        alt.errors < res->errors) {
        free(res->text);
        *res = alt;
    } else {
        free(alt.text);
    }
    return 0;
}

/* A BOM wins over everything but a forced charset. */
static int try_bom(probe *p, cs_result *res)
{
    const unsigned char *s = p->s;
    const char *cs = NULL;
    size_t skip = 0;
    if (p->n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        cs = CS_UTF8, skip = 3;
    else if (p->n >= 2 && s[0] == 0xFF && s[1] == 0xFE)
        cs = CS_UTF16LE, skip = 2;
    else if (p->n >= 2 && s[0] == 0xFE && s[1] == 0xFF)
        cs = CS_UTF16BE, skip = 2;
    if (!cs)
        return 0;
    conv_out co;
    int rc = conv_to_utf8(cs, s + skip, p->n - skip, 0, &co);
    if (rc)
        return rc;
    take(res, cs, CS_SRC_BOM, &co);
    return 1;
}

int cs_decode(cs_detector *d, const char *s, size_t n, const cs_hints *hints,
              cs_result *res)
{
    probe p;
    const char *label;
    size_t len;
    int rc;
    memset(res, 0, sizeof *res);
    probe_init(&p, d, s, n);
    if (hints->forced)
        return force(&p, hints->forced, CS_SRC_FORCED, res);
    if ((rc = try_bom(&p, res)) != 0)
        return rc < 0 ? rc : 0;
    len = cs_content_type_label(hints->content_type, &label);
    if ((rc = try_label(&p, label, len, CS_SRC_HEADER, res)) != 0)
        return rc < 0 ? rc : 0;
    len = cs_meta_label(s, n, &label);
    if ((rc = try_label(&p, label, len, CS_SRC_META, res)) != 0)
        return rc < 0 ? rc : 0;
    if ((rc = try_detect(&p, res)) != 0)
        return rc < 0 ? rc : 0;
    return fallback(&p, hints->fallback ? hints->fallback : CS_GB18030, res);
}
