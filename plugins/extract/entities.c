/*
 * entities.c - one pass over a text for tickers, organisations, money,
 * percentages and dates.
 *
 * The scanner walks the text once.  At a position that can start an
 * expression (an ASCII letter or digit not glued to the previous one, or a
 * CJK character from a small trigger set) it tries, in order, a ticker, an
 * amount of money, a percentage and a date, and finally the organisation
 * dictionary; the first match is recorded and skipped whole.  A 64K-bit
 * table answers "can this character start anything?" so ordinary Han text
 * costs one bit test per character.
 */
#include "entities.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- triggers ------------------------------------------------------------ */

static uint8_t trigger[65536 / 8];
static uint8_t numeral[65536 / 8]; /* digits and units: 一..九 十百千万亿 几数 */
/* Blocks of 64 code points (c >> 6 for c < 0x10000) holding a numeral:
 * the lead and second byte of a 3-byte character name its block. */
static uint8_t numeral_block[1024];
static pthread_once_t trigger_once = PTHREAD_ONCE_INIT;

static void trigger_init(void)
{
    static const char *chars =
        "零〇一壹幺二贰貳两兩三叁參四肆五伍六陆陸七柒八捌九玖十拾百佰千仟万萬亿億"
        "几幾数數大约約概近将將接不小少低超逾至最多高从從人港新台臺美欧歐日英"
        "纳納纽紐上深北今昨前刚剛";
    size_t n = strlen(chars), l;
    for (size_t i = 0; i < n; i += l) {
        uint32_t c = ext_utf8_next(chars + i, n - i, &l);
        trigger[c >> 3] |= (uint8_t)(1u << (c & 7));
    }
    static const char *nums =
        "零〇一壹幺二贰貳两兩三叁參四肆五伍六陆陸七柒八捌九玖十拾百佰千仟万萬亿億"
        "几幾数數";
    n = strlen(nums);
    for (size_t i = 0; i < n; i += l) {
        uint32_t c = ext_utf8_next(nums + i, n - i, &l);
        numeral[c >> 3] |= (uint8_t)(1u << (c & 7));
        numeral_block[c >> 6] = 1;
    }
    static const uint32_t signs[] = {0xA5, 0xFFE5, 0x20AC, 0xA3};
    for (size_t k = 0; k < sizeof signs / sizeof signs[0]; k++)
        trigger[signs[k] >> 3] |= (uint8_t)(1u << (signs[k] & 7));
}

/* ---- tickers ------------------------------------------------------------- */

static int alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

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

/* (NASDAQ: NVDA), 纳斯达克：NVDA, 港交所：0700 ... at s. */
static size_t ticker_exchange(const char *s, size_t n, char *out)
{
    static const struct { const char *w; const char *m; } ex[] = {
        {"NASDAQ", "US"}, {"Nasdaq", "US"}, {"NYSE", "US"}, {"AMEX", "US"},
        {"纳斯达克", "US"}, {"納斯達克", "US"}, {"纽交所", "US"},
        {"紐交所", "US"}, {"HKEX", "HK"}, {"SEHK", "HK"}, {"HK", "HK"},
        {"港交所", "HK"}, {"SSE", "SH"}, {"上交所", "SH"}, {"SZSE", "SZ"},
        {"深交所", "SZ"}, {"北交所", "BJ"}};
    unsigned char b = (unsigned char)s[0];
    if (b < 0x80 && b != 'N' && b != 'A' && b != 'H' && b != 'S')
        return 0;
    for (size_t k = 0; k < sizeof ex / sizeof ex[0]; k++) {
        if ((unsigned char)ex[k].w[0] != b || !ext_starts(s, n, ex[k].w))
            continue;
        size_t i = strlen(ex[k].w);
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
        return norm_ticker(s + st, i - st, ex[k].m, out) ? 0 : i;
    }
    return 0;
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
    jlist money, percents, dates;
    counted *tick;
    size_t ntick, captick;
    int *org_count;
    uint32_t *org_order;
    size_t norg;
    const uint8_t *org_first, *org_pair; /* NULL: no organisations wanted */
    /* trigger | org_first: a character below U+10000 outside this set
     * starts nothing (the two tests are made only inside it) */
    uint8_t any[65536 / 8];
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
    if ((l->n && ext_buf_add(&l->b, ",", 1)) || ext_buf_add(&l->b, "{", 1) ||
        jkey(&l->b, "text", 1) || ext_json_str(&l->b, s, n)) {
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
        sc->oom |= jkey(b, "low", 0) || ext_json_num(b, cents(m->low)) ||
                   jkey(b, "high", 0) || ext_json_num(b, cents(m->high));
    } else {
        sc->oom |= jkey(b, "value", 0) || ext_json_num(b, cents(m->value));
    }
    sc->oom |= jkey(b, "currency", 0) ||
               ext_json_str(b, m->currency, strlen(m->currency));
    if (approx_name(m->approx))
        sc->oom |= jkey(b, "approx", 0) ||
                   ext_json_str(b, approx_name(m->approx), 5);
    sc->oom |= ext_buf_add(b, "}", 1);
}

static void add_percent(scan *sc, const char *s, size_t n, double v)
{
    ext_buf *b = &sc->percents.b;
    if (item_with_text(sc, &sc->percents, s, n))
        return;
    sc->oom |= jkey(b, "value", 0) ||
               ext_json_num(b, round(v * 10000) / 10000) ||
               ext_buf_add(b, "}", 1);
}

static void add_date(scan *sc, const char *s, size_t n, const ext_dt *dt)
{
    ext_buf *b = &sc->dates.b;
    char iso[16];
    if (item_with_text(sc, &sc->dates, s, n))
        return;
    snprintf(iso, sizeof iso, "%04d-%02d-%02d", dt->y % 10000, dt->mo % 100,
             dt->d % 100);
    sc->oom |= jkey(b, "date", 0) || ext_json_str(b, iso, strlen(iso)) ||
               ext_buf_add(b, "}", 1);
}

static int is_numeral(uint32_t c)
{
    return c < 65536 && ((numeral[c >> 3] >> (c & 7)) & 1);
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

/* Tries every numeric kind at s; returns the bytes matched or 0. */
static size_t try_numeric(scan *sc, const char *s, size_t n)
{
    const ext_ent_opts *o = sc->o;
    size_t l;
    ext_money m;
    double v;
    ext_dt dt;
    if (o->money && (l = ext_money_parse(s, n, 1, &m)) > 0) {
        add_money(sc, s, l, &m);
        return l;
    }
    if (o->percents && (l = ext_percent_parse(s, n, &v)) > 0) {
        add_percent(sc, s, l, v);
        return l;
    }
    unsigned char b = (unsigned char)s[0];
    if (o->dates && ((b >= '0' && b <= '9') || day_word(s, n)) &&
        (l = ext_date_parse(s, n, o->ref, 0, &dt)) > 0) {
        if (dt.has_year || o->ref->year || o->ref->has_now) {
            add_date(sc, s, l, &dt);
            return l;
        }
    }
    return 0;
}

/* Zero when no ticker can start at the ASCII byte s[0]: only the
 * exchanges' initials N, A, H, S, or a short alphanumeric run followed by
 * a dot (NVDA.US) lead into one. */
static inline int ticker_may_start_ascii(const char *s, size_t n)
{
    unsigned char b = (unsigned char)s[0];
    if (b == 'N' || b == 'A' || b == 'H' || b == 'S')
        return 1;
    size_t i = 1;
    while (i < n && i < 7 && alnum((unsigned char)s[i]))
        i++;
    return i < n && s[i] == '.';
}

static size_t try_ticker(scan *sc, const char *s, size_t n)
{
    char key[16];
    size_t l;
    if (!sc->o->tickers)
        return 0;
    unsigned char b = (unsigned char)s[0];
    if (b >= 0x80) {
        size_t cl;
        switch (ext_utf8_next(s, n, &cl)) {
        case 0x7EB3: case 0x7D0D: case 0x7EBD: case 0x7D10: /* 纳納纽紐 */
        case 0x6E2F: case 0x4E0A: case 0x6DF1: case 0x5317: /* 港上深北 */
            break;
        default:
            return 0;
        }
    }
    if ((l = ticker_dotted(s, n, key)) > 0 ||
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

/* Non-zero when an organisation alias may start at s, whose first
 * character c is l bytes long: both the first character and the pair of
 * the first two pass the dictionary's filters. */
static inline int org_may_start(const scan *sc, const char *s, size_t n,
                                uint32_t c, size_t l)
{
    size_t l2;
    if (!sc->org_first || !ext_bit(sc->org_first, fold(c)) || l >= n)
        return 0;
    return ext_bit(sc->org_pair,
                   ext_pair_hash(fold(c), fold(ext_utf8_next(s + l, n - l, &l2))));
}

/* Offset of the first digit or Chinese numeral at or after i (n if none).
 * A well-formed E1..EC character (all of common Han) is passed over on
 * its first two bytes when its 64-character block holds no numeral. */
static size_t next_number(const char *str, size_t n, size_t i)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t l;
    while (i < n) {
        unsigned b = s[i];
        if (b < 0x80) {
            if (b - '0' <= 9)
                return i;
            i++;
            continue;
        }
        if (n - i >= 3) {
            unsigned b1 = s[i + 1] ^ 0x80u, b2 = s[i + 2] ^ 0x80u;
            if (b - 0xE1 <= 0xEC - 0xE1 && (b1 | b2) < 0x40) {
                if (numeral_block[(b & 0x0F) << 6 | b1] &&
                    is_numeral((b & 0x0F) << 12 | b1 << 6 | b2))
                    return i;
                i += 3;
                continue;
            }
        }
        if (is_numeral(ext_utf8_next(str + i, n - i, &l)))
            return i;
        i += l;
    }
    return n;
}

/* Non-zero when position i is within 18 bytes of the next number.  *at
 * caches the first number at or after the position it was computed from
 * and is recomputed only once i has passed it, so the look-ahead runs only
 * where a parser may be tried (position 0 always counts as near). */
static inline int near_number(const char *s, size_t n, size_t i, size_t *at,
                              int numeric)
{
    if (*at < i)
        *at = numeric ? next_number(s, n, i) : n;
    return *at - i <= 18;
}

/* Scans s[0..n) into the collections of sc.  Every money, percent or date
 * expression has a digit or numeral within its first six characters
 * (约合人民币2184亿 is the longest lead-in), so the numeric parsers run
 * only that close to the next number, which is looked up lazily where a
 * parser may start; organisations are tried only where the dictionary's
 * first-character filter says an alias may start. */
static void scan_text(scan *sc, const char *s, size_t n)
{
    const ext_ent_opts *o = sc->o;
    int numeric = o->money || o->percents || o->dates;
    int prev_alnum = 0;
    size_t i = 0, l, m, num_at = 0;
    while (i < n) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x80) {
            int an = alnum(b);
            if ((an && !prev_alnum) || b == '$') {
                if ((ticker_may_start_ascii(s + i, n - i) &&
                     (m = try_ticker(sc, s + i, n - i))) ||
                    (b <= '9' && near_number(s, n, i, &num_at, numeric) &&
                     (m = try_numeric(sc, s + i, n - i))) ||
                    (org_may_start(sc, s + i, n - i, b, 1) &&
                     (m = try_org(sc, s + i, n - i))) ||
                    ((b > '9' || b == '$') &&
                     near_number(s, n, i, &num_at, numeric) &&
                     (m = try_numeric(sc, s + i, n - i)))) {
                    i += m;
                    prev_alnum = alnum((unsigned char)s[i - 1]);
                    continue;
                }
            }
            prev_alnum = an || b == '.' || b == '_';
            i++;
            continue;
        }
        uint32_t c = ext_utf8_next(s + i, n - i, &l);
        prev_alnum = 0;
        if (c < 65536 && !((sc->any[c >> 3] >> (c & 7)) & 1)) {
            i += l;
            continue;
        }
        if (c < 65536 && (trigger[c >> 3] >> (c & 7)) & 1) {
            if ((m = try_ticker(sc, s + i, n - i)) ||
                ((near_number(s, n, i, &num_at, numeric) ||
                  (o->dates && day_word(s + i, n - i))) &&
                 (m = try_numeric(sc, s + i, n - i)))) {
                i += m;
                prev_alnum = alnum((unsigned char)s[i - 1]);
                continue;
            }
        }
        if (org_may_start(sc, s + i, n - i, c, l) &&
            (m = try_org(sc, s + i, n - i))) {
            i += m;
            continue;
        }
        i += l;
    }
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
    jlist tick = {{0}, 0}, orgs = {{0}, 0};
    int first = 1, rc = -1;
    char *txt = NULL;
    for (size_t i = 0; i < sc->ntick; i++)
        if ((i && ext_buf_add(&tick.b, ",", 1)) ||
            ext_buf_add(&tick.b, "{", 1) || jkey(&tick.b, "symbol", 1) ||
            ext_json_str(&tick.b, sc->tick[i].key, strlen(sc->tick[i].key)) ||
            jkey(&tick.b, "count", 0) ||
            ext_json_num(&tick.b, sc->tick[i].count) ||
            ext_buf_add(&tick.b, "}", 1))
            goto done;
    for (size_t i = 0; i < sc->norg; i++) {
        const char *name = ext_dict_name(sc->o->dict, sc->org_order[i]);
        if ((i && ext_buf_add(&orgs.b, ",", 1)) ||
            ext_buf_add(&orgs.b, "{", 1) || jkey(&orgs.b, "name", 1) ||
            ext_json_str(&orgs.b, name, strlen(name)) ||
            jkey(&orgs.b, "count", 0) ||
            ext_json_num(&orgs.b, sc->org_count[sc->org_order[i]]) ||
            ext_buf_add(&orgs.b, "}", 1))
            goto done;
    }
    if (ext_buf_add(out, "{", 1) ||
        (!replaced(user, "tickers") &&
         write_list(out, "tickers", &tick, &first)) ||
        (!replaced(user, "organizations") &&
         write_list(out, "organizations", &orgs, &first)) ||
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
    ext_buf_free(&tick.b);
    ext_buf_free(&orgs.b);
    return rc;
}

int ext_entities_json(const char *const *texts, const size_t *lens,
                      size_t ntexts, const ext_ent_opts *o,
                      const cJSON *user, ext_buf *out)
{
    scan sc = {.o = o};
    int rc = -1;
    size_t norgs = o->dict ? ext_dict_size(o->dict) : 0;
    pthread_once(&trigger_once, trigger_init);
    sc.org_count = calloc(norgs + 1, sizeof *sc.org_count);
    sc.org_order = malloc((norgs + 1) * sizeof *sc.org_order);
    if (!sc.org_count || !sc.org_order)
        goto done;
    if (o->orgs && o->dict) {
        sc.org_first = ext_dict_first_bits(o->dict);
        sc.org_pair = ext_dict_pair_bits(o->dict);
    }
    memcpy(sc.any, trigger, sizeof sc.any);
    if (sc.org_first)
        for (size_t k = 0; k < sizeof sc.any; k++)
            sc.any[k] |= sc.org_first[k];
    for (size_t t = 0; t < ntexts; t++)
        scan_text(&sc, texts[t], lens[t]);
    rc = finish(&sc, user, out);
done:
    ext_buf_free(&sc.money.b);
    ext_buf_free(&sc.percents.b);
    ext_buf_free(&sc.dates.b);
    free(sc.tick);
    free(sc.org_count);
    free(sc.org_order);
    return rc;
}

int ext_entities(const char *const *texts, const size_t *lens, size_t ntexts,
                 const ext_ent_opts *o, cJSON *out)
{
    ext_buf b = {0};
    cJSON *j = NULL;
    int rc = -1;
    if (ext_entities_json(texts, lens, ntexts, o, NULL, &b) ||
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
