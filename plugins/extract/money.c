/*
 * money.c - amounts of money, percentages and Chinese numerals.
 *
 * A quantity is parsed by folding units the way Chinese numerals read:
 * small units (十百千) add into a section, 万 closes a section into the
 * ten-thousands, 亿 closes everything below it into the hundred millions,
 * so 3千万亿 = ((3*1000)*1e4)*1e8 and 六十四万零一百四十三 = 64*1e4 + 143.
 * Arabic digits mix in freely (1.2万, 177.1 亿, 15k).  The money grammar
 * around it:
 *   [modifier] [currency prefix] quantity [currency] [角/分] [range part]
 *   [modifier suffix]
 */
#include "ext.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

typedef struct qty {
    double v;
    double big_tail;   /* trailing 万/亿 multiplier (1 when none) */
    double small_tail; /* trailing 十/百/千/k multiplier (1 when none) */
    int has_big, has_unit;
    int vague;          /* 多/余/几 after the number: [v, v+width] */
    double width;
    int lead_vague;     /* 几十万, 数十亿: [v, 10v] */
    int pair;           /* 八九亿: [v*lo/hi, v] */
    double pair_ratio;
    int arabic_k;       /* used k or w units (Arabic shorthand) */
} qty;

static int cdigit(uint32_t c)
{
    switch (c) {
    case 0x96F6: case 0x3007: return 0;                 /* 零〇 */
    case 0x4E00: case 0x58F9: case 0x5E7A: return 1;    /* 一壹幺 */
    case 0x4E8C: case 0x8D30: case 0x8CB3: case 0x4E24: case 0x5169:
        return 2;                                       /* 二贰貳两兩 */
    case 0x4E09: case 0x53C1: case 0x53C3: return 3;    /* 三叁參 */
    case 0x56DB: case 0x8086: return 4;                 /* 四肆 */
    case 0x4E94: case 0x4F0D: return 5;                 /* 五伍 */
    case 0x516D: case 0x9646: case 0x9678: return 6;    /* 六陆陸 */
    case 0x4E03: case 0x67D2: return 7;                 /* 七柒 */
    case 0x516B: case 0x634C: return 8;                 /* 八捌 */
    case 0x4E5D: case 0x7396: return 9;                 /* 九玖 */
    default: return -1;
    }
}

static double small_unit(uint32_t c)
{
    switch (c) {
    case 0x5341: case 0x62FE: return 10;    /* 十拾 */
    case 0x767E: case 0x4F70: return 100;   /* 百佰 */
    case 0x5343: case 0x4EDF: return 1000;  /* 千仟 */
    default: return 0;
    }
}

static double big_unit(uint32_t c)
{
    switch (c) {
    case 0x4E07: case 0x842C: return 1e4;  /* 万萬 */
    case 0x4EBF: case 0x5104: return 1e8;  /* 亿億 */
    default: return 0;
    }
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Reads Arabic digits with thousands separators (, ，) and a decimal part;
 * returns bytes consumed and the value, or 0.  *trailing_zeros gets the
 * number of zeros ending an integer (for 3000多). */
static size_t arabic(const char *s, size_t n, double *v, int *trailing_zeros)
{
    size_t i = 0;
    double x = 0;
    int tz = 0;
    if (!n || !is_digit(s[0]))
        return 0;
    for (;;) {
        while (i < n && is_digit(s[i])) {
            x = x * 10 + (s[i] - '0');
            tz = s[i] == '0' ? tz + 1 : 0;
            i++;
        }
        size_t sl = i < n && s[i] == ',' ? 1
                    : ext_starts(s + i, n - i, "\xef\xbc\x8c") ? 3 : 0;
        if (sl && i + sl + 3 <= n && is_digit(s[i + sl]) &&
            is_digit(s[i + sl + 1]) && is_digit(s[i + sl + 2]) &&
            (i + sl + 3 == n || !is_digit(s[i + sl + 3]))) {
            i += sl;
            continue;
        }
        break;
    }
    if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1])) {
        double scale = 0.1;
        i++;
        while (i < n && is_digit(s[i])) {
            x += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        tz = 0;
    }
    *v = x;
    *trailing_zeros = tz;
    return i;
}

static uint32_t peek(const char *s, size_t n, size_t i, size_t *l)
{
    if (i >= n) {
        *l = 0;
        return 0;
    }
    return ext_utf8_next(s + i, n - i, l);
}

/* Parses a quantity at s (see the file comment); returns bytes consumed. */
static size_t quantity(const char *s, size_t n, qty *q)
{
    double yi = 0, wan = 0, sec = 0, num = 0;
    int have_num = 0, last_big = 0, last_num_cd = -1, any = 0, tz = 0;
    size_t i = 0, end = 0, l;
    memset(q, 0, sizeof *q);
    q->big_tail = q->small_tail = 1;
    while (i < n) {
        uint32_t c = peek(s, n, i, &l);
        int d;
        double u;
        if (c < 0x80 && is_digit((char)c)) {
            if (have_num || last_num_cd >= 0)
                break;
            i += arabic(s + i, n - i, &num, &tz);
            have_num = 1, any = 1, last_big = 0, end = i;
            q->big_tail = q->small_tail = 1;
            /* one blank may separate digits from a unit: "1 万" */
            size_t l2;
            if (i < n && s[i] == ' ') {
                uint32_t c2 = peek(s, n, i + 1, &l2);
                if (big_unit(c2) || small_unit(c2))
                    i++;
            }
            continue;
        }
        if ((d = cdigit(c)) >= 0) {
            if (have_num && last_num_cd < 0)
                break; /* Arabic then Chinese digit: not one number */
            if (d == 0) {
                i += l;
                continue;
            }
            if (have_num && last_num_cd > 0 && !q->has_unit &&
                !q->pair && sec == 0 && wan == 0 && yi == 0 && d > last_num_cd) {
                q->pair = 1;
                q->pair_ratio = (double)last_num_cd / d;
            } else if (have_num)
                break;
            num = d, have_num = 1, any = 1, last_num_cd = d, last_big = 0;
            tz = 0;
            i += l, end = i;
            q->big_tail = q->small_tail = 1;
            continue;
        }
        if (c == 0x51E0 || c == 0x5E7E || c == 0x6570 || c == 0x6578) {
            /* 几幾数數: before a unit, a digit 1..9; after one, 多 */
            size_t l2;
            uint32_t c2 = peek(s, n, i + l, &l2);
            if (!have_num && (small_unit(c2) || big_unit(c2)) && !any) {
                num = 1, have_num = 1, q->lead_vague = 1, any = 1;
                i += l;
                continue;
            }
            if (any && !have_num && !q->vague && c != 0x6570 && c != 0x6578) {
                q->vague = 1;
                q->width = q->small_tail > 1 ? q->small_tail : 1;
                i += l, end = i;
                continue;
            }
            break;
        }
        if ((u = small_unit(c)) > 0) {
            sec += (have_num ? num : 1) * u;
            have_num = 0, any = 1, last_big = 0, last_num_cd = -1;
            q->small_tail = u, q->big_tail = 1, q->has_unit = 1;
            i += l, end = i;
            continue;
        }
        if ((u = big_unit(c)) > 0 ||
            ((c == 'w' || c == 'W') && have_num && last_num_cd < 0)) {
            if (!u)
                u = 1e4, q->arabic_k = 1;
            if (!any)
                break;
            double part = sec + (have_num ? num : 0);
            if (u == 1e8) {
                yi = (yi + wan + part) * u;
                wan = 0;
            } else if (part == 0 && last_big) {
                wan *= u; /* 万万 */
            } else {
                wan += part * u;
            }
            if (q->vague)
                q->width *= u;
            sec = 0, have_num = 0, last_num_cd = -1;
            q->big_tail = last_big ? q->big_tail * u : u;
            q->small_tail = 1, q->has_big = 1, q->has_unit = 1, last_big = 1;
            i += l, end = i;
            continue;
        }
        if ((c == 'k' || c == 'K') && have_num && last_num_cd < 0) {
            size_t l2;
            uint32_t c2 = peek(s, n, i + 1, &l2);
            if ((c2 >= 'a' && c2 <= 'z') || (c2 >= 'A' && c2 <= 'Z'))
                break;
            num *= 1000, q->small_tail = 1000, q->arabic_k = 1;
            q->has_unit = 1;
            i += 1, end = i, tz = 0;
            continue;
        }
        if (c == 0x4E2A || c == 0x500B) { /* 个個 before 亿/万 */
            size_t l2;
            if (have_num && big_unit(peek(s, n, i + l, &l2))) {
                i += l;
                continue;
            }
            break;
        }
        if ((c == 0x591A || c == 0x4F59 || c == 0x9918) && any && !q->vague) {
            /* 多余餘: "3000多" = [3000, 4000], "十多" = [10, 20] */
            q->vague = 1;
            if (have_num && last_num_cd < 0)
                q->width = pow(10, tz);
            else if (have_num)
                q->width = 1;
            else
                q->width = q->small_tail > 1 ? q->small_tail : q->big_tail;
            sec += have_num ? num : 0;
            have_num = 0, last_num_cd = -1;
            i += l, end = i;
            continue;
        }
        break;
    }
    if (!any)
        return 0;
    q->v = yi + wan + sec + (have_num ? num : 0);
    return end;
}

typedef struct word {
    const char *w;
    const char *code;
} word;

/* Currency words written after an amount; generic ones (元, 块) have a
 * NULL-less code "CNY*" marking that a specific word may follow. */
static const word suffix_cur[] = {
    {"新加坡元", "SGD"}, {"新台币", "TWD"}, {"新台幣", "TWD"},
    {"新臺幣", "TWD"}, {"人民币", "CNY"}, {"人民幣", "CNY"},
    {"瑞士法郎", "CHF"}, {"美元", "USD"}, {"美金", "USD"}, {"美圆", "USD"},
    {"美圓", "USD"}, {"港元", "HKD"}, {"港币", "HKD"}, {"港幣", "HKD"},
    {"港圆", "HKD"}, {"日元", "JPY"}, {"日圆", "JPY"}, {"日圓", "JPY"},
    {"日币", "JPY"}, {"日幣", "JPY"}, {"欧元", "EUR"}, {"歐元", "EUR"},
    {"英镑", "GBP"}, {"英鎊", "GBP"}, {"台币", "TWD"}, {"台幣", "TWD"},
    {"臺幣", "TWD"}, {"泰铢", "THB"}, {"泰銖", "THB"}, {"卢布", "RUB"},
    {"盧布", "RUB"}, {"韩元", "KRW"}, {"韓元", "KRW"}, {"韩币", "KRW"},
    {"韓幣", "KRW"}, {"澳元", "AUD"}, {"澳币", "AUD"}, {"澳幣", "AUD"},
    {"加元", "CAD"}, {"加币", "CAD"}, {"加幣", "CAD"}, {"瑞郎", "CHF"},
    {"卢比", "INR"}, {"盧比", "INR"}, {"新元", "SGD"}, {"比特币", "BTC"},
    {"元", "CNY*"}, {"圆", "CNY*"}, {"圓", "CNY*"}, {"块", "CNY*"},
    {"塊", "CNY*"}, {NULL, NULL}};

static const word prefix_cur[] = {
    {"人民币", "CNY"}, {"人民幣", "CNY"}, {"港币", "HKD"}, {"港幣", "HKD"},
    {"新台币", "TWD"}, {"新台幣", "TWD"}, {"新臺幣", "TWD"}, {"台币", "TWD"},
    {"台幣", "TWD"}, {"美元", "USD"}, {"美金", "USD"}, {"欧元", "EUR"},
    {"歐元", "EUR"}, {"日元", "JPY"}, {"日圓", "JPY"}, {"US$", "USD"},
    {"HK$", "HKD"}, {"NT$", "TWD"}, {"S$", "SGD"}, {"A$", "AUD"},
    {"C$", "CAD"}, {"$", "USD"}, {"\xc2\xa5", "CNY"}, {"\xef\xbf\xa5", "CNY"},
    {"\xe2\x82\xac", "EUR"}, {"\xc2\xa3", "GBP"}, {"RMB", "CNY"},
    {"USD", "USD"}, {"HKD", "HKD"}, {"EUR", "EUR"}, {"CNY", "CNY"},
    {"JPY", "JPY"}, {NULL, NULL}};

static const struct { const char *w; int approx; } prefix_mod[] = {
    {"大约", EXT_APPROX_ABOUT}, {"大約", EXT_APPROX_ABOUT},
    {"大概", EXT_APPROX_ABOUT}, {"约合", EXT_APPROX_ABOUT},
    {"約合", EXT_APPROX_ABOUT}, {"约", EXT_APPROX_ABOUT},
    {"約", EXT_APPROX_ABOUT}, {"将近", EXT_APPROX_BELOW},
    {"將近", EXT_APPROX_BELOW}, {"接近", EXT_APPROX_BELOW},
    {"近", EXT_APPROX_BELOW}, {"不到", EXT_APPROX_BELOW},
    {"不足", EXT_APPROX_BELOW}, {"小于", EXT_APPROX_BELOW},
    {"小於", EXT_APPROX_BELOW}, {"少于", EXT_APPROX_BELOW},
    {"少於", EXT_APPROX_BELOW}, {"低于", EXT_APPROX_BELOW},
    {"低於", EXT_APPROX_BELOW}, {"超过", EXT_APPROX_ABOVE},
    {"超過", EXT_APPROX_ABOVE}, {"超", EXT_APPROX_ABOVE},
    {"逾", EXT_APPROX_ABOVE}, {"至少", EXT_APPROX_ABOVE},
    {"最少", EXT_APPROX_ABOVE}, {"大于", EXT_APPROX_ABOVE},
    {"大於", EXT_APPROX_ABOVE}, {"多于", EXT_APPROX_ABOVE},
    {"多於", EXT_APPROX_ABOVE}, {"高于", EXT_APPROX_ABOVE},
    {"高於", EXT_APPROX_ABOVE}, {NULL, 0}};

static const struct { const char *w; int approx; } suffix_mod[] = {
    {"左右", EXT_APPROX_ABOUT}, {"上下", EXT_APPROX_ABOUT},
    {"以上", EXT_APPROX_ABOVE}, {"以下", EXT_APPROX_BELOW},
    {"以内", EXT_APPROX_BELOW}, {"以內", EXT_APPROX_BELOW}, {NULL, 0}};

static const char *range_sep[] = {
    "\xe2\x80\x94\xe2\x80\x94", "\xe2\x80\x94", "--", "-", "~",
    "\xef\xbd\x9e", "\xe3\x80\x9c", "\xef\xbc\x8d", "\xe2\x80\x93", "至",
    "到", NULL};

/* First characters of the words of each table (currencies, modifiers,
 * range separators): 64K-bit sets built once, so a position that cannot
 * start a word costs one bit test instead of a loop of comparisons. */
static uint8_t cur_first[65536 / 8], mod_first[65536 / 8],
    sep_first[65536 / 8], suf_first[65536 / 8];
static pthread_once_t cur_once = PTHREAD_ONCE_INIT;

/* The fast rejection of ext_money_parse: an expression starts with a digit,
 * a Chinese numeral or 几/数, a one-character lead word (约, $, 从 ...), or
 * the first two characters of a longer lead word (modifier or currency
 * prefix).  `lead1` holds the first kind's characters, `lead2` a hashed
 * bit set of the pairs (a false hit only costs the full parse). */
static uint8_t lead1[65536 / 8], lead2[65536 / 8];

/* The exact filter of ext_money_parse with a currency required: an
 * expression is a run of characters of its grammar (`M_IN`: the numerals,
 * units, digits and separators of quantities and every character of every
 * word of the tables below) holding the first character of a currency word
 * or a k/w unit (`M_CUR`, what makes an amount money).  A position whose
 * run holds no such character starts no money. */
enum { M_IN = 1, M_CUR = 2 };
static uint8_t mclass[65536];

static unsigned pair_hash(uint32_t a, uint32_t b)
{
    return (a * 0x9E3779B1u ^ b * 0x85EBCA77u) >> 16;
}

static void mark_lead(const char *w)
{
    size_t l, l2, n = strlen(w);
    uint32_t a = ext_utf8_next(w, n, &l);
    if (l >= n) {
        lead1[(a & 0xFFFF) >> 3] |= (uint8_t)(1u << (a & 7));
        return;
    }
    uint32_t b = ext_utf8_next(w + l, n - l, &l2);
    unsigned h = pair_hash(a, b);
    lead2[h >> 3] |= (uint8_t)(1u << (h & 7));
}

static void mark(uint8_t *bits, const char *w)
{
    size_t l;
    uint32_t c = ext_utf8_next(w, strlen(w), &l);
    bits[(c & 0xFFFF) >> 3] |= (uint8_t)(1u << (c & 7));
}

/* Marks every character of the UTF-8 string w with `bit` in mclass, or
 * only the first one when `first_only`. */
static void mark_all(const char *w, unsigned bit, int first_only)
{
    size_t l, n = strlen(w);
    for (size_t i = 0; i < n; i += l) {
        mclass[ext_utf8_next(w + i, n - i, &l) & 0xFFFF] |= (uint8_t)bit;
        if (first_only)
            break;
    }
}

static void mclass_init(void)
{
    static const char *const quantity_chars[] = {
        "0123456789,.， ", "零〇一壹幺二贰貳两兩三叁參四肆五伍六陆陸七柒八捌九玖",
        "十拾百佰千仟万萬亿億几幾数數个個多余餘", "kKwW", "角毛分钱錢整",
        "从從(（)）含", NULL};
    for (size_t k = 0; quantity_chars[k]; k++)
        mark_all(quantity_chars[k], M_IN, 0);
    for (size_t i = 0; suffix_cur[i].w; i++) {
        mark_all(suffix_cur[i].w, M_IN, 0);
        mark_all(suffix_cur[i].w, M_CUR, 1);
    }
    for (size_t i = 0; prefix_cur[i].w; i++) {
        mark_all(prefix_cur[i].w, M_IN, 0);
        mark_all(prefix_cur[i].w, M_CUR, 1);
    }
    mark_all("kKwW", M_CUR, 0);
    for (size_t i = 0; prefix_mod[i].w; i++)
        mark_all(prefix_mod[i].w, M_IN, 0);
    for (size_t i = 0; suffix_mod[i].w; i++)
        mark_all(suffix_mod[i].w, M_IN, 0);
    for (size_t i = 0; range_sep[i]; i++)
        mark_all(range_sep[i], M_IN, 0);
}

/* Zero when the run of grammar characters at s holds no currency (see
 * mclass): then no amount of money starts at s.  With `skip_digits` (a
 * constant) digit runs are passed over a byte at a time (digits are M_IN,
 * never M_CUR), without a decoder call per digit: the same answer for
 * every input, which ext_money_run_check lets the tests compare. */
static inline int money_run(const char *s, size_t n, const int skip_digits)
{
    size_t i = 0, l;
    while (i < n) {
        if (skip_digits && (unsigned)(unsigned char)s[i] - '0' <= 9u) {
            i++;
            continue;
        }
        uint32_t c = ext_utf8_next(s + i, n - i, &l);
        unsigned m = c < 65536 ? mclass[c] : 0;
        if (m & M_CUR)
            return 1;
        if (!(m & M_IN))
            return 0;
        i += l;
    }
    return 0;
}

/* The first character and the length of each word of a currency table,
 * so that a lookup compares only the words starting like the text. */
typedef struct word_index {
    uint32_t first[64];
    uint8_t len[64];
} word_index;
static word_index suffix_ix, prefix_ix;

static void index_words(const word *list, word_index *ix)
{
    size_t l;
    for (size_t k = 0; list[k].w && k < 64; k++) {
        ix->len[k] = (uint8_t)strlen(list[k].w);
        ix->first[k] = ext_utf8_next(list[k].w, ix->len[k], &l);
    }
}

static void cur_init(void)
{
    index_words(suffix_cur, &suffix_ix);
    index_words(prefix_cur, &prefix_ix);
    mclass_init();
    for (size_t i = 0; suffix_cur[i].w; i++)
        mark(cur_first, suffix_cur[i].w);
    for (size_t i = 0; prefix_cur[i].w; i++)
        mark(cur_first, prefix_cur[i].w);
    for (size_t i = 0; prefix_mod[i].w; i++)
        mark(mod_first, prefix_mod[i].w);
    mark(mod_first, "从");
    mark(mod_first, "從");
    for (size_t i = 0; range_sep[i]; i++)
        mark(sep_first, range_sep[i]);
    for (size_t i = 0; suffix_mod[i].w; i++)
        mark(suf_first, suffix_mod[i].w);
    for (size_t i = 0; prefix_cur[i].w; i++)
        mark_lead(prefix_cur[i].w);
    for (size_t i = 0; prefix_mod[i].w; i++)
        mark_lead(prefix_mod[i].w);
    mark_lead("从");
    mark_lead("從");
    mark(sep_first, "(");
    mark(sep_first, "（");
    mark(sep_first, " ");
    mark(suf_first, "(");
    mark(suf_first, "（");
    mark(suf_first, " ");
}

/* Non-zero when the character at s may start a word of the table. */
static int may_start(const uint8_t *bits, const char *s, size_t n)
{
    size_t l;
    if (!n)
        return 0;
    uint32_t c = ext_utf8_next(s, n, &l);
    return (bits[(c & 0xFFFF) >> 3] >> (c & 7)) & 1;
}

static size_t match_word(const word *list, const char *s, size_t n,
                         const char **code)
{
    size_t l;
    if (!n)
        return 0;
    pthread_once(&cur_once, cur_init);
    uint32_t c = ext_utf8_next(s, n, &l);
    if (!((cur_first[(c & 0xFFFF) >> 3] >> (c & 7)) & 1))
        return 0;
    const word_index *ix = list == suffix_cur ? &suffix_ix : &prefix_ix;
    for (size_t k = 0; list[k].w; k++)
        if (ix->first[k] == c && ix->len[k] <= n &&
            !memcmp(s, list[k].w, ix->len[k])) {
            *code = list[k].code;
            return ix->len[k];
        }
    return 0;
}

static size_t skip_included(const char *s, size_t n)
{
    static const char *inc[] = {"(含)", "（含）", "(含", "（含", NULL};
    size_t i = 0;
    if (i < n && s[i] == ' ')
        i++;
    for (size_t k = 0; inc[k]; k++)
        if (ext_starts_tab(s + i, n - i, inc[k]))
            return i + strlen(inc[k]);
    return 0;
}

/* One amount: [currency prefix] quantity [currency] [角/分] [钱/整].
 * Sets *cur to the currency found (NULL = none; "CNY*" = generic 元). */
typedef struct amount {
    qty q;
    const char *cur;
    double value;
} amount;

static size_t subunits(const char *s, size_t n, double *add)
{
    size_t i = 0;
    static const struct { const char *w; double f; } subs[] = {
        {"角", 0.1}, {"毛", 0.1}, {"分", 0.01}};
    for (int k = 0; k < 3 && i < n; k++) {
        qty q;
        size_t l = quantity(s + i, n - i, &q);
        if (!l || q.has_unit || q.v >= 10)
            continue;
        if (ext_starts_tab(s + i + l, n - i - l, subs[k].w)) {
            *add += q.v * subs[k].f;
            i += l + strlen(subs[k].w);
        }
    }
    return i;
}

/* Non-zero for the code "CNY*" of the generic words (元, 块 ...): every
 * other code of the tables is three letters, so the fourth byte tells. */
static inline int is_generic(const char *code) { return code[3] == '*'; }

/* 块/塊 means yuan only before 钱, a subunit, or no further word; 元 and
 * 圆 always do. */
static int generic_ok(const char *w, size_t wl, const char *rest, size_t n)
{
    if (!ext_starts(w, wl, "块") && !ext_starts(w, wl, "塊"))
        return 1;
    if (!n || ext_starts(rest, n, "钱") || ext_starts(rest, n, "錢"))
        return 1;
    size_t l;
    uint32_t c = ext_utf8_next(rest, n, &l);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 0;
    if (!ext_is_han(c))
        return 1;
    double add = 0;
    return subunits(rest, n, &add) > 0 || ext_starts(rest, n, "以") ||
           ext_starts(rest, n, "左右") || ext_starts(rest, n, "上下");
}

static size_t amount_parse(const char *s, size_t n, amount *a)
{
    size_t i = 0, l;
    const char *code = NULL;
    memset(a, 0, sizeof *a);
    if ((l = match_word(prefix_cur, s, n, &code)) > 0) {
        a->cur = code;
        i += l;
        if (i < n && s[i] == ' ')
            i++;
    }
    size_t ql = quantity(s + i, n - i, &a->q);
    if (!ql)
        return 0;
    i += ql;
    a->value = a->q.v;
    size_t j = i;
    if (j < n && s[j] == ' ')
        j++;
    /* 2048块GPU: there 块 is a measure word, not money */
    if ((l = match_word(suffix_cur, s + j, n - j, &code)) > 0 &&
        (!is_generic(code) || generic_ok(s + j, l, s + j + l, n - j - l))) {
        i = j + l;
        if (!a->cur || !is_generic(code))
            a->cur = code;
        if (is_generic(code)) {
            if ((l = match_word(suffix_cur, s + i, n - i, &code)) > 0 &&
                !is_generic(code))
                a->cur = code, i += l;
            double add = 0;
            if (!a->q.vague && a->q.v == floor(a->q.v)) {
                i += subunits(s + i, n - i, &add);
                a->value += add;
            }
            if (ext_starts(s + i, n - i, "钱") || ext_starts(s + i, n - i, "錢") ||
                ext_starts(s + i, n - i, "整"))
                i += 3;
        }
    }
    return i;
}

static int approx_merge(int a, int b)
{
    return b ? b : a;
}

/* Zero when no money expression can start at s (see lead1). */
static int money_may_start(const char *s, size_t n)
{
    size_t l, l2;
    if (!n)
        return 0;
    if (s[0] >= '0' && s[0] <= '9')
        return 1;
    uint32_t a = ext_utf8_next(s, n, &l);
    if (cdigit(a) >= 0 || small_unit(a) > 0 || a == 0x51E0 || a == 0x5E7E ||
        a == 0x6570 || a == 0x6578 || ((lead1[(a & 0xFFFF) >> 3] >> (a & 7)) & 1))
        return 1;
    if (l >= n)
        return 0;
    unsigned h = pair_hash(a, ext_utf8_next(s + l, n - l, &l2));
    return (lead2[h >> 3] >> (h & 7)) & 1;
}

int ext_money_run_check(const char *s, size_t n, int plain)
{
    pthread_once(&cur_once, cur_init);
    return money_run(s, n, !plain);
}

int ext_money_may_match(const char *s, size_t n)
{
    pthread_once(&cur_once, cur_init);
    return money_run(s, n, 1) && money_may_start(s, n);
}

size_t ext_money_parse(const char *s, size_t n, int need_currency,
                       ext_money *out)
{
    size_t i = 0, l;
    int approx = 0;
    memset(out, 0, sizeof *out);
    pthread_once(&cur_once, cur_init);
    if ((need_currency && !money_run(s, n, 1)) ||
        !money_may_start(s, n))
        return 0;
    int lead = may_start(mod_first, s, n);
    int from = lead && (ext_starts(s, n, "从") || ext_starts(s, n, "從"));
    if (from)
        i += 3;
    for (size_t k = 0; lead && i < n && prefix_mod[k].w; k++)
        if (ext_starts_tab(s + i, n - i, prefix_mod[k].w)) {
            approx = prefix_mod[k].approx;
            i += strlen(prefix_mod[k].w);
            break;
        }
    amount lo, hi;
    if (!(l = amount_parse(s + i, n - i, &lo)))
        return 0;
    i += l;
    int range = 0;
    size_t j = may_start(sep_first, s + i, n - i) ? i + skip_included(s + i, n - i) : i;
    for (size_t k = 0; may_start(sep_first, s + j, n - j) && range_sep[k]; k++) {
        if (!ext_starts_tab(s + j, n - j, range_sep[k]))
            continue;
        size_t t = j + strlen(range_sep[k]);
        if (t < n && s[t] == ' ')
            t++;
        if ((l = amount_parse(s + t, n - t, &hi)) > 0) {
            range = 1;
            i = t + l;
        }
        break;
    }
    if (from && !range)
        return 0; /* 从37亿美元增至...: the amount alone starts later */
    const char *cur = range ? (hi.cur ? hi.cur : lo.cur) : lo.cur;
    if (range && lo.cur && !is_generic(lo.cur) &&
        (!hi.cur || is_generic(hi.cur)))
        cur = lo.cur;
    if (range && !lo.q.has_big && hi.q.has_unit) {
        /* 两到三万, 十八至三十万, 八到九百亿: the low end shares the unit */
        double tail = hi.q.has_big ? hi.q.big_tail
                      : !lo.q.has_unit ? hi.q.small_tail : 1;
        if (tail > 1 && lo.value <= hi.q.v / tail && !lo.cur)
            lo.value *= tail;
    }
    int tail = may_start(suf_first, s + i, n - i);
    size_t j2 = tail ? i + skip_included(s + i, n - i) : i;
    for (size_t k = 0; tail && suffix_mod[k].w; k++)
        if (ext_starts_tab(s + j2, n - j2, suffix_mod[k].w)) {
            approx = approx_merge(approx, suffix_mod[k].approx);
            i = j2 + strlen(suffix_mod[k].w);
            break;
        }
    if (!cur && need_currency &&
        !(range && lo.q.arabic_k && hi.q.arabic_k))
        return 0;
    out->has_currency = cur != NULL;
    out->currency = !cur || is_generic(cur) ? "CNY" : cur;
    if (range) {
        out->is_range = 1;
        out->low = lo.value;
        out->high = hi.value;
        if (lo.q.pair || lo.q.lead_vague || lo.q.vague)
            out->low = lo.q.pair ? lo.value * lo.q.pair_ratio : lo.value;
    } else if (lo.q.pair) {
        out->is_range = 1;
        out->low = lo.value * lo.q.pair_ratio;
        out->high = lo.value;
    } else if (lo.q.lead_vague) {
        out->is_range = 1;
        out->low = lo.value;
        out->high = lo.value * 10;
        approx = approx ? approx : EXT_APPROX_ABOUT;
    } else if (lo.q.vague) {
        out->is_range = 1;
        out->low = lo.value;
        out->high = lo.value + lo.q.width;
        approx = approx ? approx : EXT_APPROX_ABOUT;
    } else {
        out->value = lo.value;
    }
    out->approx = approx;
    return i;
}

size_t ext_number_parse(const char *s, size_t n, double *value)
{
    qty q;
    size_t l = quantity(s, n, &q);
    if (!l || q.vague || q.pair || q.lead_vague)
        return 0;
    *value = q.v;
    return l;
}

size_t ext_percent_parse(const char *s, size_t n, double *value)
{
    size_t i = 0, l;
    int tz;
    if (ext_starts(s, n, "百分之")) {
        i = 9;
        if (!(l = ext_number_parse(s + i, n - i, value)))
            return 0;
        i += l;
        /* 百分之三点五 */
        if (ext_starts(s + i, n - i, "点") || ext_starts(s + i, n - i, "點")) {
            double frac = 0, scale = 0.1;
            size_t k = i + 3, cl;
            int dd, got = 0;
            while (k < n && (dd = cdigit(ext_utf8_next(s + k, n - k, &cl))) >= 0) {
                frac += dd * scale, scale /= 10, k += cl, got = 1;
            }
            if (got)
                *value += frac, i = k;
        }
        return i;
    }
    if (!(l = arabic(s, n, value, &tz)))
        return 0;
    i = l;
    if (i < n && s[i] == ' ')
        i++;
    if (i < n && s[i] == '%')
        return i + 1;
    if (ext_starts(s + i, n - i, "\xef\xbc\x85")) /* ％ */
        return i + 3;
    return 0;
}
