/*
 * entities.c - tickers, organisations, money, percentages and dates of a
 * text, and its script counts.
 *
 * A first pass reads each character once through a table built at init
 * (one byte per character: may it start a parser, is it a number, is it
 * a Traditional- or Simplified-only character), counts the script classes
 * and records the positions where something may start (an ASCII letter or
 * digit not glued to the previous one, '$', or a CJK character from the
 * trigger set or an organisation initial) and where numbers are.  The
 * parsers then run at those positions in order: a ticker, an amount of
 * money, a percentage and a date, and finally the organisation
 * dictionary; the first match is recorded and skipped whole.
 */
#include "entities.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the character table -------------------------------------------------- */

/* One byte per BMP code point says what a character may start, so that
 * the scanner passes over ordinary Han text with one load and one test. */
enum {
    C_TRAD = 1,  /* a Traditional-only character (script detection) */
    C_SIMP = 2,  /* a Simplified-only character */
    C_TRIG = 4,  /* a money/percent/date lead or numeral: 约 美 一 亿 ... */
    C_ORG = 8,   /* first character of an organisation alias (ASCII: any case) */
    C_NUM = 16,  /* a digit or Chinese numeral (the number look-ahead) */
    C_TICK = 32, /* first character of a Chinese exchange name: 纳 港 上 ... */
    C_DAY = 64,  /* first character of 今天 昨天 前天 刚刚 */
};

/* What a character adds to the packed script tally (Traditional-only
 * characters in the low 32 bits, Simplified-only in the high), by its
 * two script bits (k & C_SCRIPT). */
enum { C_SCRIPT = C_TRAD | C_SIMP };
static const uint64_t script_inc[4] = {0, 1, 1ull << 32, 1 | 1ull << 32};

static const char trigger_chars[] =
    "零〇一壹幺二贰貳两兩三叁參四肆五伍六陆陸七柒八捌九玖十拾百佰千仟万萬亿億"
    "几幾数數大约約概近将將接不小少低超逾至最多高从從人港新台臺美欧歐日英"
    "纳納纽紐上深北今昨前刚剛";
static const char numeral_chars[] =
    "零〇一壹幺二贰貳两兩三叁參四肆五伍六陆陸七柒八捌九玖十拾百佰千仟万萬亿億"
    "几幾数數";

/* Sets `bit` in cls for every character of the UTF-8 string chars. */
static void mark_chars(uint8_t *cls, const char *chars, unsigned bit)
{
    size_t n = strlen(chars), l;
    for (size_t i = 0; i < n; i += l)
        cls[ext_utf8_next(chars + i, n - i, &l) & 0xFFFF] |= (uint8_t)bit;
}

/* Fills cls (65536 bytes) for the dictionary first-character set
 * org_first (may be NULL). */
static void fill_classes(uint8_t *cls, const uint8_t *org_first)
{
    static const uint32_t signs[] = {0xA5, 0xFFE5, 0x20AC, 0xA3};
    memset(cls, 0, 65536);
    mark_chars(cls, trigger_chars, C_TRIG);
    mark_chars(cls, numeral_chars, C_NUM);
    mark_chars(cls, "纳納纽紐港上深北", C_TICK);
    mark_chars(cls, "今昨前刚剛", C_DAY);
    for (size_t k = 0; k < sizeof signs / sizeof signs[0]; k++)
        cls[signs[k]] |= C_TRIG;
    for (uint32_t c = '0'; c <= '9'; c++)
        cls[c] |= C_NUM;
    ext_script_mark(cls, C_TRAD, C_SIMP);
    for (uint32_t c = 0; org_first && c < 65536; c++) {
        uint32_t f = c >= 'A' && c <= 'Z' ? c + 32 : c;
        if (ext_bit(org_first, f))
            cls[c] |= C_ORG;
    }
}


/* ASCII byte classes of the first pass and the ticker filter. */
enum { A_ALNUM = 1, A_DIGIT = 2, A_JOIN = 4 /* alnum, '.', '_' */ };

#define AC_DIGIT (A_ALNUM | A_DIGIT | A_JOIN)
#define AC_ALPHA (A_ALNUM | A_JOIN)
static const uint8_t ascii_classes[256] = { /* zero from 0x80 */
    ['.'] = A_JOIN, ['_'] = A_JOIN,
    ['0'] = AC_DIGIT, ['1'] = AC_DIGIT, ['2'] = AC_DIGIT, ['3'] = AC_DIGIT,
    ['4'] = AC_DIGIT, ['5'] = AC_DIGIT, ['6'] = AC_DIGIT, ['7'] = AC_DIGIT,
    ['8'] = AC_DIGIT, ['9'] = AC_DIGIT,
    ['A'] = AC_ALPHA, ['B'] = AC_ALPHA, ['C'] = AC_ALPHA, ['D'] = AC_ALPHA,
    ['E'] = AC_ALPHA, ['F'] = AC_ALPHA, ['G'] = AC_ALPHA, ['H'] = AC_ALPHA,
    ['I'] = AC_ALPHA, ['J'] = AC_ALPHA, ['K'] = AC_ALPHA, ['L'] = AC_ALPHA,
    ['M'] = AC_ALPHA, ['N'] = AC_ALPHA, ['O'] = AC_ALPHA, ['P'] = AC_ALPHA,
    ['Q'] = AC_ALPHA, ['R'] = AC_ALPHA, ['S'] = AC_ALPHA, ['T'] = AC_ALPHA,
    ['U'] = AC_ALPHA, ['V'] = AC_ALPHA, ['W'] = AC_ALPHA, ['X'] = AC_ALPHA,
    ['Y'] = AC_ALPHA, ['Z'] = AC_ALPHA,
    ['a'] = AC_ALPHA, ['b'] = AC_ALPHA, ['c'] = AC_ALPHA, ['d'] = AC_ALPHA,
    ['e'] = AC_ALPHA, ['f'] = AC_ALPHA, ['g'] = AC_ALPHA, ['h'] = AC_ALPHA,
    ['i'] = AC_ALPHA, ['j'] = AC_ALPHA, ['k'] = AC_ALPHA, ['l'] = AC_ALPHA,
    ['m'] = AC_ALPHA, ['n'] = AC_ALPHA, ['o'] = AC_ALPHA, ['p'] = AC_ALPHA,
    ['q'] = AC_ALPHA, ['r'] = AC_ALPHA, ['s'] = AC_ALPHA, ['t'] = AC_ALPHA,
    ['u'] = AC_ALPHA, ['v'] = AC_ALPHA, ['w'] = AC_ALPHA, ['x'] = AC_ALPHA,
    ['y'] = AC_ALPHA, ['z'] = AC_ALPHA};

/* The A_* bits of a byte (alnum, digit, or '.'/'_'; none at 0x80 and
 * above). */
static inline unsigned ascii_class(unsigned char b) { return ascii_classes[b]; }

/* ---- tickers ------------------------------------------------------------- */

/* An ASCII letter or digit (one table load). */
static int alnum(unsigned char c) { return ascii_class(c) & A_ALNUM; }

static int upper(int c) { return c >= 'a' && c <= 'z' ? c - 32 : c; }

/* Writes SYMBOL.MARKET for a symbol of `len` bytes at s into out (size
 * >= 16), normalising case and Hong Kong's leading zeros; returns 0, or -1
 * when the symbol does not fit the market. */
static int norm_ticker(const char *s, size_t len, const char *mkt, char *out)
{
    int digits = 1, letters = 1;
    for (size_t i = 0; i < len; i++) {
        digits &= s[i] >= '0' && s[i] <= '9';
        letters &= (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z');
    }
    if (!strcmp(mkt, "US")) {
        if (!letters || len > 5)
            return -1;
    } else if (!strcmp(mkt, "HK")) {
        if (!digits || len > 5)
            return -1;
        while (len > 4 && s[0] == '0')
            s++, len--;
        if (len > 4)
            return -1;
        snprintf(out, 16, "%.*s%.*s.HK", (int)(4 - len), "0000", (int)len, s);
        return 0;
    } else if (!digits || len != 6) {
        return -1;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++)
        out[o++] = (char)upper((unsigned char)s[i]);
    snprintf(out + o, 16 - o, ".%s", mkt);
    return 0;
}

/* NVDA.US, 0700.HK, 600519.SH, 000001.SZ at s. */
static size_t ticker_dotted(const char *s, size_t n, char *out)
{
    static const struct { const char *w; const char *m; } mk[] = {
        {"US", "US"}, {"HK", "HK"}, {"SH", "SH"}, {"SS", "SH"},
        {"SZ", "SZ"}, {"BJ", "BJ"}};
    size_t i = 0;
    while (i < n && i < 7 && alnum((unsigned char)s[i]))
        i++;
    if (i == 0 || i > 6 || i + 3 > n || s[i] != '.')
        return 0;
    for (size_t k = 0; k < sizeof mk / sizeof mk[0]; k++) {
        if (upper((unsigned char)s[i + 1]) != mk[k].w[0] ||
            upper((unsigned char)s[i + 2]) != mk[k].w[1])
            continue;
        if (i + 3 < n && alnum((unsigned char)s[i + 3]))
            return 0;
        return norm_ticker(s, i, mk[k].m, out) ? 0 : i + 3;
    }
    return 0;
}

typedef struct exchange {
    const char *w;
    const char *m;
} exchange;

static const exchange exchanges[] = {
    {"NASDAQ", "US"}, {"Nasdaq", "US"}, {"NYSE", "US"}, {"AMEX", "US"},
    {"纳斯达克", "US"}, {"納斯達克", "US"}, {"纽交所", "US"},
    {"紐交所", "US"}, {"HKEX", "HK"}, {"SEHK", "HK"}, {"HK", "HK"},
    {"港交所", "HK"}, {"SSE", "SH"}, {"上交所", "SH"}, {"SZSE", "SZ"},
    {"深交所", "SZ"}, {"北交所", "BJ"}};

/* The exchange name starting at s (the first of the table that does), or
 * NULL.  Chinese names are told apart by their first character, so a Han
 * character costs one switch and at most one comparison. */
static const exchange *exchange_at(const char *s, size_t n)
{
    unsigned char b = (unsigned char)s[0];
    if (b >= 0x80) {
        size_t cl;
        const exchange *e;
        switch (ext_utf8_next(s, n, &cl)) {
        case 0x7EB3: e = &exchanges[4]; break;  /* 纳 */
        case 0x7D0D: e = &exchanges[5]; break;  /* 納 */
        case 0x7EBD: e = &exchanges[6]; break;  /* 纽 */
        case 0x7D10: e = &exchanges[7]; break;  /* 紐 */
        case 0x6E2F: e = &exchanges[11]; break; /* 港 */
        case 0x4E0A: e = &exchanges[13]; break; /* 上 */
        case 0x6DF1: e = &exchanges[15]; break; /* 深 */
        case 0x5317: e = &exchanges[16]; break; /* 北 */
        default: return NULL;
        }
        return ext_starts(s, n, e->w) ? e : NULL;
    }
    /* the table's entries for each initial, in table order */
    static const uint8_t by_n[] = {0, 1, 2}, by_a[] = {3}, by_h[] = {8, 10},
                         by_s[] = {9, 12, 14};
    const uint8_t *ks;
    size_t nk;
    switch (b) {
    case 'N': ks = by_n, nk = sizeof by_n; break;
    case 'A': ks = by_a, nk = sizeof by_a; break;
    case 'H': ks = by_h, nk = sizeof by_h; break;
    case 'S': ks = by_s, nk = sizeof by_s; break;
    default: return NULL;
    }
    for (size_t k = 0; k < nk; k++)
        if (ext_starts(s, n, exchanges[ks[k]].w))
            return &exchanges[ks[k]];
    return NULL;
}

/* (NASDAQ: NVDA), 纳斯达克：NVDA, 港交所：0700 ... at s. */
static size_t ticker_exchange(const char *s, size_t n, char *out)
{
    const exchange *e = exchange_at(s, n);
    if (!e)
        return 0;
    size_t i = strlen(e->w);
    while (i < n && s[i] == ' ')
        i++;
    if (i < n && s[i] == ':')
        i++;
    else if (ext_starts(s + i, n - i, "\xef\xbc\x9a"))
        i += 3;
    else
        return 0;
    while (i < n && s[i] == ' ')
        i++;
    size_t st = i;
    while (i < n && i - st < 7 && alnum((unsigned char)s[i]))
        i++;
    if (i == st || (i < n && alnum((unsigned char)s[i])))
        return 0;
    return norm_ticker(s + st, i - st, e->m, out) ? 0 : i;
}

/* ---- collections ---------------------------------------------------------- */

typedef struct counted {
    char key[16];
    int count;
} counted;

/* A list of entity objects being written as JSON text: the bytes after
 * the opening '[' (items separated by commas) and the item count. */
typedef struct jlist {
    ext_buf b;
    size_t n;
} jlist;

typedef struct scan {
    const ext_ent_opts *o;
    const uint8_t *cls; /* the character table (C_* bits) */
    jlist money, percents, dates;
    jlist tick_out, org_out; /* finish's lists of tickers, organisations */
    counted *tick;
    size_t ntick, captick;
    int *org_count;
    uint32_t *org_order;
    size_t norg;
    const uint8_t *org_pair; /* NULL: no organisations wanted */
    uint64_t tally; /* script counts of the text being scanned (script_inc) */
    int unsure;     /* the tally may differ from ext_script's (bad UTF-8) */
    int oom;
} scan;

static void count_ticker(scan *sc, const char *key)
{
    for (size_t i = 0; i < sc->ntick; i++)
        if (!strcmp(sc->tick[i].key, key)) {
            sc->tick[i].count++;
            return;
        }
    if (sc->ntick == sc->captick) {
        size_t cap = sc->captick ? sc->captick * 2 : 8;
        counted *p = realloc(sc->tick, cap * sizeof *p);
        if (!p) {
            sc->oom = 1;
            return;
        }
        sc->tick = p, sc->captick = cap;
    }
    snprintf(sc->tick[sc->ntick].key, sizeof sc->tick[0].key, "%s", key);
    sc->tick[sc->ntick++].count = 1;
}

static double cents(double v) { return round(v * 100) / 100; }

/* jkey for a literal key (plain ASCII, nothing to escape). */
#define JKEY(b, key, first)                                                 \
    ((first) ? ext_buf_lit((b), "\"" key "\":")                            \
             : ext_buf_lit((b), ",\"" key "\":"))

/* Appends a `,"key":` (or `"key":` first in an object) to b. */
static int jkey(ext_buf *b, const char *key, int first)
{
    return (!first && ext_buf_add(b, ",", 1)) ||
           ext_json_str(b, key, strlen(key)) || ext_buf_add(b, ":", 1);
}

/* Opens a new object {"text":"..." in list l (the caller adds the other
 * members and the closing brace); returns 0, or -1 when the list is full
 * (max items) or memory ran out (sc->oom). */
static int item_with_text(scan *sc, jlist *l, const char *s, size_t n)
{
    if (l->n >= sc->o->max)
        return -1;
    if ((l->n && ext_buf_lit(&l->b, ",")) || ext_buf_lit(&l->b, "{") ||
        JKEY(&l->b, "text", 1) || ext_json_str(&l->b, s, n)) {
        sc->oom = 1;
        return -1;
    }
    l->n++;
    return 0;
}

static const char *approx_name(int a)
{
    return a == EXT_APPROX_ABOUT ? "about"
           : a == EXT_APPROX_BELOW ? "below"
           : a == EXT_APPROX_ABOVE ? "above" : NULL;
}

static void add_money(scan *sc, const char *s, size_t n, const ext_money *m)
{
    ext_buf *b = &sc->money.b;
    if (item_with_text(sc, &sc->money, s, n))
        return;
    if (m->is_range) {
        sc->oom |= JKEY(b, "low", 0) || ext_json_num(b, cents(m->low)) ||
                   JKEY(b, "high", 0) || ext_json_num(b, cents(m->high));
    } else {
        sc->oom |= JKEY(b, "value", 0) || ext_json_num(b, cents(m->value));
    }
    sc->oom |= JKEY(b, "currency", 0) ||
               ext_json_str(b, m->currency, strlen(m->currency));
    if (approx_name(m->approx))
        sc->oom |= JKEY(b, "approx", 0) ||
                   ext_json_str(b, approx_name(m->approx), 5);
    sc->oom |= ext_buf_add(b, "}", 1);
}

static void add_percent(scan *sc, const char *s, size_t n, double v)
{
    ext_buf *b = &sc->percents.b;
    if (item_with_text(sc, &sc->percents, s, n))
        return;
    sc->oom |= JKEY(b, "value", 0) ||
               ext_json_num(b, round(v * 10000) / 10000) ||
               ext_buf_add(b, "}", 1);
}

static void add_date(scan *sc, const char *s, size_t n, const ext_dt *dt)
{
    ext_buf *b = &sc->dates.b;
    char iso[16];
    if (item_with_text(sc, &sc->dates, s, n))
        return;
    int y = dt->y % 10000, mo = dt->mo % 100, d = dt->d % 100;
    if (y >= 0 && mo >= 0 && d >= 0) { /* what the %04d-%02d-%02d gives */
        const char iso10[10] = {
            (char)('0' + y / 1000), (char)('0' + y / 100 % 10),
            (char)('0' + y / 10 % 10), (char)('0' + y % 10), '-',
            (char)('0' + mo / 10), (char)('0' + mo % 10), '-',
            (char)('0' + d / 10), (char)('0' + d % 10)};
        memcpy(iso, iso10, 10);
        iso[10] = '\0';
    } else {
        snprintf(iso, sizeof iso, "%04d-%02d-%02d", y, mo, d);
    }
    sc->oom |= JKEY(b, "date", 0) || ext_json_str(b, iso, strlen(iso)) ||
               ext_buf_add(b, "}", 1);
}


/* Relative day words need no number: 今天, 昨天, 前天, 刚刚. */
static int day_word(const char *s, size_t n)
{
    size_t cl;
    switch (ext_utf8_next(s, n, &cl)) {
    case 0x4ECA: case 0x6628: case 0x524D: case 0x521A: case 0x525B:
        break; /* 今昨前刚剛 */
    default:
        return 0;
    }
    return ext_starts(s, n, "今天") || ext_starts(s, n, "昨天") ||
           ext_starts(s, n, "前天") || ext_starts(s, n, "今日") ||
           ext_starts(s, n, "昨日") || ext_starts(s, n, "刚刚") ||
           ext_starts(s, n, "剛剛");
}

/* Tries every numeric kind at s; returns the bytes matched or 0.  `day`
 * is zero when s cannot start a day word (its first character is not one
 * of 今昨前刚剛: the C_DAY bit). */
static size_t try_numeric(scan *sc, const char *s, size_t n, int day)
{
    const ext_ent_opts *o = sc->o;
    size_t l;
    ext_money m;
    double v;
    ext_dt dt;
    unsigned char b = (unsigned char)s[0];
    if (o->money && (l = ext_money_parse(s, n, 1, &m)) > 0) {
        add_money(sc, s, l, &m);
        return l;
    }
    /* a percentage starts with a digit or 百 (E7 99 BE) */
    if (o->percents && ((b >= '0' && b <= '9') || b == 0xE7) &&
        (l = ext_percent_parse(s, n, &v)) > 0) {
        add_percent(sc, s, l, v);
        return l;
    }
    if (o->dates && ((b >= '0' && b <= '9') || (day && day_word(s, n))) &&
        (l = ext_date_parse(s, n, o->ref, 0, &dt)) > 0) {
        if (dt.has_year || o->ref->year || o->ref->has_now) {
            add_date(sc, s, l, &dt);
            return l;
        }
    }
    return 0;
}

/* Zero when try_numeric(sc, s, n, day) surely returns 0: s starts with
 * no digit (where a percentage or date may begin), no 百 lead byte (百分之)
 * and no day word (`day` is zero), and ext_money_may_match refuses it.
 * Most triggers near a number (一季度, 数据中心, 英伟达) end here, before
 * try_numeric and the money parser set up their results. */
static inline int numeric_may_match(const scan *sc, const char *s, size_t n,
                                    int day)
{
    unsigned char b = (unsigned char)s[0];
    if ((unsigned)b - '0' <= 9u || b == 0xE7 || day)
        return 1;
    return sc->o->money && ext_money_may_match(s, n);
}

/* Zero when no ticker can start at the ASCII byte s[0]: the alphanumeric
 * run there must be followed by the dot of a dotted symbol (NVDA.US), or
 * be an exchange name (all of them are 2 to 6 letters with the initial
 * N, A, H or S) followed by a blank or a colon (':' or the lead byte of
 * '：').  A run of seven or more, or one ending the text, starts none.
 * Fewer calls reach try_ticker than with the initial alone: "AI大模型" and
 * "Anthropic" stop here (ext_ticker_probe checks that nothing a parser
 * would read is lost). */
static inline int ticker_may_start_ascii(const char *s, size_t n)
{
    unsigned char b = (unsigned char)s[0];
    size_t i = 1;
    while (i < n && i < 7 && alnum((unsigned char)s[i]))
        i++;
    if (i >= n || i == 7)
        return 0;
    unsigned char c = (unsigned char)s[i];
    return c == '.' || ((b == 'N' || b == 'A' || b == 'H' || b == 'S') &&
                        (c == ' ' || c == ':' || c == 0xEF));
}

size_t ext_ticker_probe(const char *s, size_t n, int filtered)
{
    char key[16];
    size_t l;
    if (!n || (unsigned char)s[0] >= 0x80 ||
        (filtered && !ticker_may_start_ascii(s, n)))
        return 0;
    return (l = ticker_dotted(s, n, key)) > 0 ? l : ticker_exchange(s, n, key);
}

/* A ticker at s (an exchange form, or a dotted symbol when s starts with
 * an ASCII byte), counted; returns its length or 0. */
static size_t try_ticker(scan *sc, const char *s, size_t n)
{
    char key[16];
    size_t l;
    if (!sc->o->tickers)
        return 0;
    if (((unsigned char)s[0] < 0x80 && (l = ticker_dotted(s, n, key)) > 0) ||
        (l = ticker_exchange(s, n, key)) > 0) {
        count_ticker(sc, key);
        return l;
    }
    return 0;
}

static size_t try_org(scan *sc, const char *s, size_t n)
{
    size_t org, l;
    if (!sc->o->orgs || !sc->o->dict)
        return 0;
    if (!(l = ext_dict_match(sc->o->dict, s, n, &org)))
        return 0;
    if (sc->org_count[org]++ == 0)
        sc->org_order[sc->norg++] = (uint32_t)org;
    return l;
}

static uint32_t fold(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Decodes the character at s[0..n) (n > 0) like ext_utf8_next; a
 * well-formed three-byte character (all of CJK and its punctuation) is
 * read with one load and one mask test when four bytes are there. */
static inline uint32_t next_char(const char *s, size_t n, size_t *l)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n >= 4) {
        uint32_t w;
        memcpy(&w, s, 4);
        if ((w & 0xC0C0F0u) == 0x8080E0u) {
            uint32_t c = (w & 0x0Fu) << 12 | (w >> 2 & 0xFC0u) | (w >> 16 & 0x3Fu);
            if (c >= 0x800 && c - 0xD800 >= 0x800) { /* not overlong, no surrogate */
                *l = 3;
                return c;
            }
        }
    }
#endif
    return ext_utf8_next(s, n, l);
}

/* Non-zero when an organisation alias may start at s, whose first
 * character c (l bytes long) passed the first-character test: the pair of
 * the first two characters passes the dictionary's second filter. */
static inline int org_pair_ok(const scan *sc, const char *s, size_t n,
                              uint32_t c, size_t l)
{
    size_t l2;
    if (!sc->org_pair || l >= n)
        return 0;
    return ext_bit(sc->org_pair,
                   ext_pair_hash(fold(c), fold(next_char(s + l, n - l, &l2))));
}

/* What the first pass over a text found: the positions where a parser may
 * start (`ev`: ASCII alphanumeric runs and '$', characters with C_TRIG or
 * C_ORG), in order, with what each may start (`evk`: 0 for ASCII, else
 * the character's table bits), and the positions of numbers (`num`: the
 * first digit of each ASCII digit run, each Chinese numeral). */
typedef struct ext_marks {
    uint32_t *ev, *num;
    uint8_t *evk;
    size_t nev, nnum, cap;
    size_t q; /* the first entry of num not before the position asked */
    /* kept between records, lent to each scan (scratch_lend): the
     * buffers of the five item lists, the ticker counts, and the
     * organisation counts (all zero between scans) and order */
    ext_buf keep[5];
    counted *tick;
    size_t captick;
    int *org_count;
    uint32_t *org_order;
    size_t org_cap;
    /* the table bits of every well-formed three-byte sequence, indexed by
     * its bytes read big-endian (wide3_index); C_SLOW for the overlong
     * ones and the surrogates, which take the decoder's path */
    uint8_t *cls3;
    /* for two ASCII letters or digits (folded, alnum_index), the
     * dictionary's third-character mask (ext_dict_third_bits); NULL when
     * no organisations are looked for */
    uint64_t *third2;
} marks;

enum { C_SLOW = 128 };

/* Index into cls3 of a three-byte sequence b0 b1 b2 held as b0 << 16 |
 * b1 << 8 | b2 in the low bits of v (higher bits are ignored): the lead's
 * low nibble and the continuation bytes' six bits each, so that
 * consecutive code points sit in consecutive bytes (64 to a cache line)
 * and one byte swap serves two characters. */
static inline uint32_t wide3_index(uint64_t v) { return (uint32_t)v & 0xF3F3Fu; }

/* Bytes of cls3: one past the largest wide3_index. */
#define CLS3_SIZE ((size_t)0xF3F40)

/* Allocates and fills cls3 from cls; returns it, or NULL when out of
 * memory.  Only the entries of well-formed sequences are ever read (a
 * quarter of the bytes), and only those that are not zero are written,
 * so most of the zeroed pages calloc maps are never touched. */
static uint8_t *cls3_make(const uint8_t *cls)
{
    uint8_t *cls3 = calloc(1, CLS3_SIZE);
    for (uint32_t c = 0; cls3 && c < 0x10000; c++) {
        uint32_t v = 0xE00000u | (c >> 12) << 16 | (0x80u | (c >> 6 & 0x3F)) << 8 |
                     (0x80u | (c & 0x3F));
        uint8_t k = c < 0x800 || c - 0xD800 < 0x800 ? C_SLOW : cls[c];
        if (k)
            cls3[wide3_index(v)] = k;
    }
    return cls3;
}

/* Doubles the room of both lists of mk (4096 entries at first); returns
 * 0, or -1 when out of memory. */
static int marks_grow(marks *mk)
{
    size_t cap = mk->cap ? mk->cap * 2 : 4096;
    uint32_t *ev = realloc(mk->ev, cap * sizeof *ev);
    if (!ev)
        return -1;
    mk->ev = ev;
    uint32_t *num = realloc(mk->num, cap * sizeof *num);
    if (!num)
        return -1;
    mk->num = num;
    uint8_t *evk = realloc(mk->evk, cap);
    if (!evk)
        return -1;
    mk->evk = evk;
    mk->cap = cap;
    return 0;
}

/* The lists the first pass writes, and its script tally. */
typedef struct mark_out {
    uint32_t *ev, *num;
    uint8_t *evk;
    size_t nev, nnum;
    uint64_t tally;
} mark_out;

/* Records the character at byte i with table bits k (not C_SLOW). */
static inline void mark_wide(mark_out *o, size_t i, unsigned k)
{
    if (k & (C_TRIG | C_ORG))
        o->evk[o->nev] = (uint8_t)k, o->ev[o->nev++] = (uint32_t)i;
    if (k & C_NUM)
        o->num[o->nnum++] = (uint32_t)i;
}

/* Records the ASCII byte s[i], whose predecessor's class (ascii_class,
 * 0 when it is not ASCII) is prev: an alphanumeric run's start or '$' may
 * start a parser, a digit run's start is a number. */
static inline void mark_ascii(mark_out *o, size_t i, unsigned char b,
                              unsigned prev)
{
    unsigned a = ascii_class(b);
    if (((a & A_ALNUM) && !(prev & A_JOIN)) || b == '$')
        o->evk[o->nev] = 0, o->ev[o->nev++] = (uint32_t)i;
    if ((a & A_DIGIT) && !(prev & A_DIGIT))
        o->num[o->nnum++] = (uint32_t)i;
}

/* Marks and counts the one character at s[i] (i < n) through the
 * decoder: what the fast loop leaves (two- and four-byte characters,
 * invalid bytes, the last bytes of the text); sets *unsure on an invalid
 * byte.  Returns its length. */
static size_t mark_other(const uint8_t *cls, const char *s, size_t n,
                         size_t i, mark_out *o, int *unsure)
{
    size_t l;
    unsigned char b = (unsigned char)s[i];
    if (b < 0x80) {
        mark_ascii(o, i, b, i && (unsigned char)s[i - 1] < 0x80
                                ? ascii_class((unsigned char)s[i - 1]) : 0);
        return 1;
    }
    uint32_t c = next_char(s + i, n - i, &l);
    /* above U+FFFF only the organisation filter applies (on c & 0xFFFF,
     * as the dictionary's own filter reads it) */
    unsigned k = cls[c & 0xFFFF] & (c < 65536 ? 0xFFu : C_ORG);
    o->tally += script_inc[k & C_SCRIPT];
    mark_wide(o, i, k);
    *unsure |= l == 1; /* an invalid byte, read as U+FFFD */
    return l;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MARK_FAST 1
/* The common case: marks and counts ASCII bytes and well-formed
 * three-byte characters from s[i] while i < lim (eight bytes readable
 * there), two three-byte characters per eight-byte load.  Returns where
 * it stopped: at a character for mark_other (another length, invalid, or
 * C_SLOW in cls3) or at lim. */
static inline size_t mark_fast(const uint8_t *cls3, const char *s, size_t i,
                               size_t lim, mark_out *o)
{
    unsigned prev = i && (unsigned char)s[i - 1] < 0x80
                        ? ascii_class((unsigned char)s[i - 1]) : 0;
    for (uint64_t w; i < lim;) {
        memcpy(&w, s + i, 8);
        if ((w & 0xC0C0F0C0C0F0ull) == 0x8080E08080E0ull) {
            uint64_t be = __builtin_bswap64(w);
            unsigned k1 = cls3[wide3_index(be >> 40)],
                     k2 = cls3[wide3_index(be >> 16)];
            unsigned any = (k1 | k2) & (C_SLOW | C_TRIG | C_ORG | C_NUM);
            if (!(any & C_SLOW)) { /* else one character at a time */
                o->tally += script_inc[k1 & C_SCRIPT] + script_inc[k2 & C_SCRIPT];
                if (any) {
                    mark_wide(o, i, k1);
                    mark_wide(o, i + 3, k2);
                }
                i += 6, prev = 0;
                continue;
            }
        }
        if ((w & 0xC0C0F0u) == 0x8080E0u) {
            unsigned k = cls3[wide3_index(__builtin_bswap32((uint32_t)w) >> 8)];
            if (k & C_SLOW)
                break;
            o->tally += script_inc[k & C_SCRIPT];
            mark_wide(o, i, k);
            i += 3, prev = 0;
        } else if (!(w & 0x80)) {
            mark_ascii(o, i, (unsigned char)w, prev);
            prev = ascii_class((unsigned char)w);
            i++;
        } else {
            break;
        }
    }
    return i;
}
#endif

/* The first pass: records the marks of s[0..n) in mk (its lists grow as
 * needed) and counts the script characters into *tally; sets *unsure on
 * an invalid byte.  Returns 0, or -1 when out of memory. */
static int mark_text(const scan *sc, const char *s, size_t n, marks *mk,
                     uint64_t *tally, int *unsure)
{
    enum { BLOCK = 65536 }; /* the lists grow a block's worth at a time */
    mark_out o = {mk->ev, mk->num, mk->evk, 0, 0, 0};
    size_t i = 0, bend = 0, lim8 = 0;
    size_t end8 = n >= 7 ? n - 7 : 0; /* i < end8: eight bytes readable */
    while (i < n) {
        if (i >= bend) {
            /* at most one mark of each kind per byte, and the last
             * character of a block may run 3 bytes past its end */
            bend = n - i > BLOCK ? i + BLOCK : n;
            while (mk->cap < o.nev + (bend - i) + 4 ||
                   mk->cap < o.nnum + (bend - i) + 4)
                if (marks_grow(mk))
                    return -1;
            o.ev = mk->ev, o.num = mk->num, o.evk = mk->evk;
            lim8 = end8 < bend ? end8 : bend;
        }
#ifdef MARK_FAST
        if ((i = mark_fast(mk->cls3, s, i, lim8, &o)) >= bend)
            continue;
#endif
        i += mark_other(sc->cls, s, n, i, &o, unsure);
    }
    mk->nev = o.nev, mk->nnum = o.nnum, mk->q = 0;
    *tally = o.tally;
    return 0;
}

/* Non-zero when position i is within 18 bytes of the next number (or of
 * the end of the text; position 0 always counts as near).  Positions are
 * asked in increasing order. */
static inline int near_number(marks *mk, size_t n, size_t i, int numeric)
{
    if (i == 0)
        return 1;
    if (!numeric)
        return n - i <= 18;
    while (mk->q < mk->nnum && mk->num[mk->q] < i)
        mk->q++;
    return (mk->q < mk->nnum ? mk->num[mk->q] : n) - i <= 18;
}

/* 0..35 for an ASCII digit or letter (letters without case), the index
 * of a pair of them in marks.third2 by 36 * first + second. */
static inline unsigned alnum_index(unsigned char b)
{
    return b <= '9' ? (unsigned)b - '0' : (b | 0x20u) - 'a' + 10;
}

/* Zero when no organisation alias can match at the ASCII byte s[0], a
 * dictionary initial.  When s[0] and s[1] are both letters or digits,
 * the two characters' bucket decides as ext_dict_match would before
 * comparing any alias: none (no alias starts so), or a third character
 * outside its mask ("AI大模型", "ASIC" against Airbus and ASML) refuses.
 * Otherwise the pair filter (org_pair_ok) decides.  Non-zero says only
 * that the dictionary may match. */
static inline int org_may_start_ascii(const scan *sc, const marks *mk,
                                      const char *s, size_t n)
{
    unsigned char b = (unsigned char)s[0];
    if (n >= 2 && mk->third2 && alnum(b) && alnum((unsigned char)s[1])) {
        uint64_t m = mk->third2[alnum_index(b) * 36 +
                                alnum_index((unsigned char)s[1])];
        size_t l;
        uint32_t t = n == 2 ? 0xFFFD : fold(next_char(s + 2, n - 2, &l));
        return (m >> (t & 63)) & 1; /* all ones: a two-character alias */
    }
    return org_pair_ok(sc, s, n, b, 1);
}

/* Tries the parsers at the ASCII byte s[i] (an alphanumeric run's start,
 * or '$'); returns the bytes matched or 0. */
static size_t try_ascii(scan *sc, const char *s, size_t n, size_t i,
                        marks *mk, int numeric)
{
    unsigned char b = (unsigned char)s[i];
    size_t m;
    if ((ticker_may_start_ascii(s + i, n - i) &&
         (m = try_ticker(sc, s + i, n - i))) ||
        (b <= '9' && near_number(mk, n, i, numeric) &&
         numeric_may_match(sc, s + i, n - i, 0) &&
         (m = try_numeric(sc, s + i, n - i, 0))) ||
        ((sc->cls[b] & C_ORG) && org_may_start_ascii(sc, mk, s + i, n - i) &&
         (m = try_org(sc, s + i, n - i))) ||
        ((b > '9' || b == '$') && near_number(mk, n, i, numeric) &&
         numeric_may_match(sc, s + i, n - i, 0) &&
         (m = try_numeric(sc, s + i, n - i, 0))))
        return m;
    return 0;
}

/* Tries the parsers at the non-ASCII character at s[i], which may start
 * what the bits k say (wide_kinds); returns the bytes matched or 0. */
static size_t try_wide(scan *sc, const char *s, size_t n, size_t i,
                       unsigned k, marks *mk, int numeric)
{
    const ext_ent_opts *o = sc->o;
    size_t m;
    if ((k & C_TRIG) &&
        (((k & C_TICK) && (m = try_ticker(sc, s + i, n - i))) ||
         ((near_number(mk, n, i, numeric) ||
           (o->dates && (k & C_DAY) && day_word(s + i, n - i))) &&
          numeric_may_match(sc, s + i, n - i, k & C_DAY) &&
          (m = try_numeric(sc, s + i, n - i, k & C_DAY)))))
        return m;
    if ((k & C_ORG) && (m = try_org(sc, s + i, n - i)))
        return m;
    return 0;
}

/* A well-formed three-byte character's code point from the low three
 * bytes of w (little-endian), or 0 when they are overlong or a surrogate
 * (the caller has checked the lead and continuation bits). */
static inline uint32_t w3_char(uint64_t w)
{
    uint32_t c = (uint32_t)((w & 0x0Fu) << 12 | (w >> 2 & 0xFC0u) |
                            (w >> 16 & 0x3Fu));
    return c >= 0x800 && c - 0xD800 >= 0x800 ? c : 0;
}

/* org_pair_ok at the non-ASCII character s[i]; the usual case, two
 * three-byte characters, is read with one eight-byte load. */
static inline int wide_pair_ok(const scan *sc, const char *s, size_t n,
                               size_t i)
{
    size_t l;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w;
    uint32_t a, b;
    if (n - i >= 8 && (memcpy(&w, s + i, 8),
                       (w & 0xC0C0F0C0C0F0ull) == 0x8080E08080E0ull) &&
        (a = w3_char(w)) && (b = w3_char(w >> 24)))
        return sc->org_pair && ext_bit(sc->org_pair, ext_pair_hash(a, b));
#endif
    uint32_t c = next_char(s + i, n - i, &l);
    return org_pair_ok(sc, s + i, n - i, c, l);
}

/* What the non-ASCII character at s[i] (a mark, with table bits k) may
 * still start: k without C_ORG when the organisation pair filter fails
 * there, or 0 when nothing can match (a trigger that is no exchange
 * initial nor day word, far from any number, and no organisation).  The
 * same tests try_wide makes, before any parser is called. */
static inline unsigned wide_kinds(const scan *sc, const char *s, size_t n,
                                  size_t i, unsigned k, marks *mk, int numeric)
{
    if ((k & C_ORG) && !wide_pair_ok(sc, s, n, i))
        k &= ~(unsigned)C_ORG;
    if (!(k & (C_ORG | C_TICK | C_DAY)) &&
        (!(k & C_TRIG) || !near_number(mk, n, i, numeric)))
        return 0;
    return k;
}

/* Tries the parsers at s[i] (a marked position); after a match, also at
 * the alphanumeric byte right after it when the match ended in '.' or '_'
 * (which the first pass took for part of a run).  Returns where scanning
 * goes on: i + what was matched, or i when nothing was. */
static size_t try_at(scan *sc, const char *s, size_t n, size_t i,
                     unsigned k, marks *mk, int numeric)
{
    size_t m = (unsigned char)s[i] < 0x80
                   ? try_ascii(sc, s, n, i, mk, numeric)
                   : try_wide(sc, s, n, i, k, mk, numeric);
    if (!m)
        return i;
    i += m;
    while (i < n && (s[i - 1] == '.' || s[i - 1] == '_') &&
           alnum((unsigned char)s[i]) &&
           (m = try_ascii(sc, s, n, i, mk, numeric)))
        i += m;
    return i;
}

/* Scans s[0..n) into the collections of sc and counts its script
 * characters into sc->tally.  A first pass finds where something may
 * start (one table load per character); the parsers are then tried at
 * those positions in order, and the first match is skipped whole. */
static int scan_text(scan *sc, const char *s, size_t n, marks *mk)
{
    const ext_ent_opts *o = sc->o;
    int numeric = o->money || o->percents || o->dates, unsure = 0;
    if (n >= UINT32_MAX || mark_text(sc, s, n, mk, &sc->tally, &unsure))
        return -1;
    sc->unsure = unsure;
    size_t i = 0;
    for (size_t e = 0; e < mk->nev; e++) {
        size_t at = mk->ev[e];
        unsigned k = mk->evk[e];
        if (at < i || (k && !(k = wide_kinds(sc, s, n, at, k, mk, numeric))))
            continue;
        i = try_at(sc, s, n, at, k, mk, numeric);
    }
    return 0;
}

/* Allocates and fills the third-character masks of d for every pair of
 * ASCII letters or digits (marks.third2); returns them, or NULL when out
 * of memory. */
static uint64_t *third2_make(const ext_dict *d)
{
    static const char an[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    uint64_t *t = malloc(36 * 36 * sizeof *t);
    for (size_t a = 0; t && a < 36; a++)
        for (size_t b = 0; b < 36; b++)
            t[alnum_index((unsigned char)an[a]) * 36 +
              alnum_index((unsigned char)an[b])] =
                ext_dict_third_bits(d, (unsigned char)an[a], (unsigned char)an[b]);
    return t;
}

/* Makes the tables of a scanner: cls (65536 bytes, also stored in
 * *cls_out), mk's cls3 and, when organisations are looked for, mk's
 * third2.  Returns 0, or -1 when out of memory (nothing is then kept). */
static int tables_make(const ext_ent_opts *o, marks *mk, uint8_t **cls_out)
{
    uint8_t *cls = malloc(65536);
    if (!cls)
        return -1;
    fill_classes(cls, o->orgs && o->dict ? ext_dict_first_bits(o->dict) : NULL);
    if (!(mk->cls3 = cls3_make(cls)) ||
        (o->orgs && o->dict && !(mk->third2 = third2_make(o->dict)))) {
        free(mk->cls3);
        mk->cls3 = NULL;
        free(cls);
        return -1;
    }
    *cls_out = cls;
    return 0;
}

/* Lends the kept buffers and counts of mk to sc, emptied, with room for
 * norgs organisation counts; returns 0, or -1 when out of memory
 * (nothing is then lent).  scratch_return takes them back. */
static int scratch_lend(marks *mk, scan *sc, size_t norgs)
{
    if (mk->org_cap < norgs) {
        int *count = calloc(norgs, sizeof *count);
        uint32_t *order = malloc(norgs * sizeof *order);
        if (!count || !order) {
            free(count);
            free(order);
            return -1;
        }
        free(mk->org_count);
        free(mk->org_order);
        mk->org_count = count, mk->org_order = order, mk->org_cap = norgs;
    }
    jlist *lists[5] = {&sc->money, &sc->percents, &sc->dates, &sc->tick_out,
                       &sc->org_out};
    for (int k = 0; k < 5; k++)
        lists[k]->b = mk->keep[k], lists[k]->b.len = 0, lists[k]->n = 0;
    sc->tick = mk->tick, sc->captick = mk->captick, sc->ntick = 0;
    sc->org_count = mk->org_count, sc->org_order = mk->org_order, sc->norg = 0;
    return 0;
}

/* Takes back what scratch_lend lent to sc (the buffers may have grown),
 * zeroing the organisation counts sc used.  A no-op when nothing was
 * lent. */
static void scratch_return(marks *mk, scan *sc)
{
    if (!sc->org_count)
        return;
    for (size_t i = 0; i < sc->norg; i++)
        sc->org_count[sc->org_order[i]] = 0;
    const jlist *lists[5] = {&sc->money, &sc->percents, &sc->dates,
                             &sc->tick_out, &sc->org_out};
    for (int k = 0; k < 5; k++)
        mk->keep[k] = lists[k]->b;
    mk->tick = sc->tick, mk->captick = sc->captick;
}

/* Frees the lists and table of mk (not mk itself). */
static void marks_free(marks *mk)
{
    for (int k = 0; k < 5; k++)
        ext_buf_free(&mk->keep[k]);
    free(mk->tick);
    free(mk->org_count);
    free(mk->org_order);
    free(mk->ev);
    free(mk->evk);
    free(mk->num);
    free(mk->cls3);
    free(mk->third2);
}

int ext_entities_prepare(ext_ent_opts *o)
{
    uint8_t *cls;
    marks *mk = calloc(1, sizeof *mk);
    if (!mk || tables_make(o, mk, &cls)) {
        free(mk);
        return -1;
    }
    o->cls = cls;
    o->marks = mk;
    return 0;
}

void ext_entities_release(ext_ent_opts *o)
{
    if (o->marks)
        marks_free(o->marks);
    free(o->marks);
    free((void *)o->cls);
    o->cls = NULL;
    o->marks = NULL;
}

/* Non-zero when the user's lists replace the built-in list `key`. */
static int replaced(const cJSON *user, const char *key)
{
    return user && cJSON_GetObjectItemCaseSensitive(user, key) != NULL;
}

/* Writes `"key":[items]` (with a leading comma unless first). */
static int write_list(ext_buf *out, const char *key, const jlist *l,
                      int *first)
{
    int rc = jkey(out, key, *first) || ext_buf_add(out, "[", 1) ||
             ext_buf_add(out, l->b.p ? l->b.p : "", l->b.len) ||
             ext_buf_add(out, "]", 1);
    *first = 0;
    return rc;
}

/* The whole object: tickers, organisations, money, percents, dates (each
 * unless the user has a list of that name), then the user's lists. */
static int finish(scan *sc, const cJSON *user, ext_buf *out)
{
    jlist *tick = &sc->tick_out, *orgs = &sc->org_out;
    int first = 1, rc = -1;
    char *txt = NULL;
    for (size_t i = 0; i < sc->ntick; i++)
        if ((i && ext_buf_add(&tick->b, ",", 1)) ||
            ext_buf_add(&tick->b, "{", 1) || JKEY(&tick->b, "symbol", 1) ||
            ext_json_str(&tick->b, sc->tick[i].key, strlen(sc->tick[i].key)) ||
            JKEY(&tick->b, "count", 0) ||
            ext_json_num(&tick->b, sc->tick[i].count) ||
            ext_buf_add(&tick->b, "}", 1))
            goto done;
    for (size_t i = 0; i < sc->norg; i++) {
        const char *name = ext_dict_name(sc->o->dict, sc->org_order[i]);
        if ((i && ext_buf_add(&orgs->b, ",", 1)) ||
            ext_buf_add(&orgs->b, "{", 1) || JKEY(&orgs->b, "name", 1) ||
            ext_json_str(&orgs->b, name, strlen(name)) ||
            JKEY(&orgs->b, "count", 0) ||
            ext_json_num(&orgs->b, sc->org_count[sc->org_order[i]]) ||
            ext_buf_add(&orgs->b, "}", 1))
            goto done;
    }
    if (ext_buf_add(out, "{", 1) ||
        (!replaced(user, "tickers") &&
         write_list(out, "tickers", tick, &first)) ||
        (!replaced(user, "organizations") &&
         write_list(out, "organizations", orgs, &first)) ||
        (!replaced(user, "money") &&
         write_list(out, "money", &sc->money, &first)) ||
        (!replaced(user, "percents") &&
         write_list(out, "percents", &sc->percents, &first)) ||
        (!replaced(user, "dates") &&
         write_list(out, "dates", &sc->dates, &first)))
        goto done;
    for (const cJSON *it = user ? user->child : NULL; it; it = it->next) {
        if (!(txt = cJSON_PrintUnformatted(it)) || jkey(out, it->string, first) ||
            ext_buf_puts(out, txt))
            goto done;
        free(txt);
        txt = NULL;
        first = 0;
    }
    if (ext_buf_add(out, "}", 1))
        goto done;
    rc = sc->oom ? -1 : 0;
done:
    free(txt);
    return rc;
}

int ext_entities_json(const char *const *texts, const size_t *lens,
                      size_t ntexts, const ext_ent_opts *o,
                      const cJSON *user, ext_buf *out, const char **script)
{
    scan sc = {.o = o, .cls = o->cls};
    uint8_t *tmp = NULL;
    marks own = {0}, *mk = o->marks;
    int rc = -1;
    size_t norgs = o->dict ? ext_dict_size(o->dict) : 0;
    if (!sc.cls || !mk) { /* not prepared: temporary tables */
        mk = &own;
        if (tables_make(o, mk, &tmp))
            return -1;
        sc.cls = tmp;
    }
    if (scratch_lend(mk, &sc, norgs + 1))
        goto done;
    if (o->orgs && o->dict)
        sc.org_pair = ext_dict_pair_bits(o->dict);
    for (size_t t = 0; t < ntexts; t++)
        if (scan_text(&sc, texts[t], lens[t], mk))
            goto done;
    if (script && ntexts) {
        size_t last = lens[ntexts - 1];
        *script = sc.unsure ? ext_script(texts[ntexts - 1], last)
                      : ext_script_verdict((size_t)(sc.tally & 0xFFFFFFFFu),
                                           (size_t)(sc.tally >> 32));
    }
    rc = finish(&sc, user, out);
done:
    scratch_return(mk, &sc);
    free(tmp);
    marks_free(&own);
    return rc;
}

int ext_entities(const char *const *texts, const size_t *lens, size_t ntexts,
                 const ext_ent_opts *o, cJSON *out)
{
    ext_buf b = {0};
    cJSON *j = NULL;
    int rc = -1;
    if (ext_entities_json(texts, lens, ntexts, o, NULL, &b, NULL) ||
        !(j = cJSON_Parse(b.p)))
        goto done;
    while (j->child) {
        cJSON *it = cJSON_DetachItemViaPointer(j, j->child);
        cJSON_AddItemToObject(out, it->string, it);
    }
    rc = 0;
done:
    cJSON_Delete(j);
    ext_buf_free(&b);
    return rc;
}
