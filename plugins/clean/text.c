/*
 * text.c - the text repairs of the clean stage.
 *
 * cl_clean_text() runs, in order:
 *   1. characters: invalid UTF-8 -> U+FFFD, controls and zero-width marks
 *      out, every space -> ' ', look-alike radicals -> ideographs, full-width
 *      letters and digits -> ASCII;
 *   2. markup: entities decoded (twice, for "&amp;nbsp;"), tags removed
 *      (block tags end a line), tags whose '<' was lost ("做?!?br/>");
 *   3. pinyin annotations "對(duì)於" (after any character too once a document
 *      has many, and with a lost '(' as in "因?yàn)");
 *   then line by line: lost '?' and mojibake spans, punctuation ("8。5%",
 *   "2!00", ASCII ",?:;!" amid hanzi), white space, and the line's fate:
 *   byline, boilerplate (a closing notice takes the rest), duplicate, kept.
 */
#include <iconv.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <libxml/HTMLparser.h>
#include <pcre2.h>
#include <taojin/stage.h>

#include "clean.h"

/* ---- the rules --------------------------------------------------------- */

#define TONED "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
#define SYL "[a-zü]{0,5}[" TONED "][a-zü" TONED "]{0,4}"

/* Markup: a real tag or comment. */
static const char RX_TAG[] =
    "<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9]{0,10})(?:\\s[^<>]{0,400})?/?>";
/* A tag that lost its '<': "?!?br/>", "?!?/p>", "</p>" minus '<'. */
static const char RX_REMNANT[] =
    "(\\?!?\\?)?(?<![A-Za-z0-9_=/\"'<-])(?:/(?:p|div|span|strong|em|b|i|u|a|"
    "li|ul|ol|font|td|tr|th|table|h[1-6]|section|article|blockquote|center|"
    "sup|sub|figure|figcaption)>|(?:br|p|hr|img)(?:\\s[^<>\\n]{0,200}?)?\\s*/"
    "?>|br/?>)";
/* The pinyin annotations, as patterns.  cl_pinyin_at matches them by hand
 * (a regex call per candidate was a tenth of the stage on annotated
 * pages); tests/test_pinyin.c checks it against these on every position
 * of the seeds, the corpora and random texts. */
const char cl_rx_pinyin_han[] = "(?<=[\\p{Han}])[(（]" SYL "[)）]";
const char cl_rx_pinyin_any[] = "[(（]" SYL "[)）]|\\?" SYL "[)）]";

/* Notices anchored at the start of a line or sentence. */
#define NOTICE                                                                 \
    "(?:版[权權](?:所有|[声聲]明|[说說]明)|免[责責][声聲]明|[声聲]明[:：]|"    \
    "本文(?:[链鏈]接|地址)[:：]?|本文[来來]自(?:网络|網絡|網路|互[联聯]网)|"   \
    "本文(?:系|为|為|係|由).{0,60}?(?:稿件|原[创創]|[发發][布佈]|[授受]权|"    \
    "授權|[转轉][载載]|上[传傳]|整理|提供|代表)|"                               \
    "未[经經].{0,8}?(?:许可|許可|授权|授權|同意)|[转轉][载載][请請][注註]明|"   \
    "[扫掃](?:描)?(?:二[维維])?[码碼]|[热熱]门跟[贴貼帖]|熱門跟[贴貼帖]|"       \
    "分享(?:到|至)|一[键鍵]分享|[点點][击擊]分享|相[关關][阅閱][读讀]|"        \
    "相[关關](?:推[荐薦]|新[闻聞])|推[荐薦][阅閱][读讀]|[热熱]门推[荐薦]|"     \
    "猜你喜[欢歡]|延伸[阅閱][读讀]|更多精彩|申[请請].{1,10}?[号號].{0,6}?"     \
    "[请請]用[电電][脑腦]|[关關]注.{0,12}?(?:公[众眾][号號]|微信)|"            \
    "【概要描述】|【[纠糾][错錯]】|Copyright|copyright|COPYRIGHT|©|"            \
    "All Rights Reserved|不代表本(?:站|[网網]|平台)|[关關]注[^\\s，。！？]{1,10}$)"
static const char RX_NOTICE[] = "^[\\s\\-–—•·*>【\\[(（]*" NOTICE;
/* Notices that may sit anywhere in a short line. */
static const char RX_NOTICE_ANY[] =
    "ICP[备備证證]\\s*[0-9０-９]|ICP[备備]案[号號]|公[网網]安[备備]|"
    "All Rights Reserved|(?:版[权權]所有|不得[转轉][载載]|[违違]者必究|"
    "[仅僅]代表.{0,6}?(?:作者|[个個]人).{0,4}?[观觀]点|不代表本(?:站|[网網]))"
    "(?=$|[\\s，。、；;,.|©(（])";
/* A closing notice: the rest of the text goes with it. */
static const char RX_CLOSING[] =
    "^[\\s\\-–—•·*>【\\[]*(?:版[权權][声聲]明|免[责責][声聲]明|"
    "[热熱]门跟[贴貼帖]|熱門跟[贴貼帖]|[扫掃](?:描)?二[维維][码碼]|"
    "相[关關][阅閱][读讀]|相[关關](?:推[荐薦]|新[闻聞]|文章)|"
    "推[荐薦][阅閱][读讀]|[热熱]门推[荐薦]|猜你喜[欢歡]|延伸[阅閱][读讀]|"
    "更多精彩)";
/* Metadata lines. */
static const char RX_BYLINE[] =
    "^[\\s\\-–—•·*>【\\[]*(?:"
    "(?:(?:更新|[发發](?:布|佈|表))[时時][间間]|[时時][间間]|日期|作者|[来來]源|"
    "出[处處]|分[类類]|[栏欄]目|[责責]任[编編][辑輯]|[编編][辑輯]|撰文|"
    "[记記]者|通[讯訊][员員]|[摄攝]影|[访訪][问問]量|[浏瀏][览覽](?:量|次数)?|"
    "[阅閱][读讀](?:量|数|數)?|[点點][击擊](?:量|数|數)?|字[号號]|[编編][译譯]|"
    "校[对對]|[审審]核|[监監][制製]|文|[图圖])\\s*(?:[:：|｜/／】\\]])"
    "|(?:作者|[来來]源|[记記]者|[责責]任[编編][辑輯]|[编編][辑輯])\\s"
    "|(?:更新|[发發](?:布|佈|表))?[时時][间間]\\s*\\d{4}"
    "|[(（]\\s*(?:文|[记記]者|作者|[来來]源|[编編][辑輯]|[图圖])\\s*[/／|｜:：]"
    "[^()（）]{1,40}[)）]\\s*$"
    "|\\d{4}\\s*[-/.年]\\s*\\d{1,2}\\s*[-/.月]\\s*\\d{1,2}\\s*日?"
    "(?:\\s*\\d{1,2}[:：]\\d{2}(?:[:：]\\d{2})?)?"
    "(?:\\s*$|\\s+.{0,60}?(?:[来來]源|作者|[编編][辑輯]|[记記]者|[发發]布)))";

typedef struct cpvec {
    uint32_t *v;
    size_t n, cap;
} cpvec;

/* One line of the text as doc_load decoded it: bytes [b0, b1), code
 * points all.v[v0..v0+nv), triggers alltrig.v[t0..t0+nt), CP_* flags. */
typedef struct line_rec {
    size_t b0, b1, v0, nv, t0, nt;
    int seen;
} line_rec;

struct cl_rules {
    pcre2_code *tag, *remnant, *han;
    pcre2_code *notice, *notice_any, *closing, *byline, *extra;
    pcre2_match_data *md;
    iconv_t to_gb;
    /* scratch kept from one text to the next (the rules serve one stage
     * instance, one thread): no malloc and realloc chain per document */
    cl_buf a, b, lb;
    cpvec line, all, alltrig; /* one line; the whole text (doc_load) */
    line_rec *recs;
    size_t caprecs;
    unsigned char *marks;
    size_t capmarks;
};

/* Compiles one pattern with UTF + UCP and JITs it when the JIT exists. */
static pcre2_code *rx_compile(const char *pat, uint32_t flags, char **err)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | flags, &code, &off,
                                   NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        if (err && !*err && (*err = malloc(400)))
            snprintf(*err, 400, "clean: regex error at %zu: %s", (size_t)off,
                     (char *)msg);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* interpreter if it fails */
    return re;
}

/* Builds "(?:\Qa\E|\Qb\E)" from the user's phrases, or NULL when none. */
static char *extra_pattern(const char *const *extra, size_t n)
{
    cl_buf b;
    size_t used = 0;
    cl_buf_init(&b);
    cl_buf_puts(&b, "(?:");
    for (size_t i = 0; i < n; i++) {
        const char *s = extra[i];
        if (!s || !*s)
            continue;
        if (used++)
            cl_buf_putc(&b, '|');
        for (; *s; s++) { /* quote each char: \Q..\E cannot hold "\E" */
            if (strchr("\\^$.|?*+()[]{}", *s))
                cl_buf_putc(&b, '\\');
            cl_buf_putc(&b, *s);
        }
    }
    cl_buf_puts(&b, ")");
    if (!used || b.oom) {
        cl_buf_free(&b);
        return NULL;
    }
    return b.p;
}

cl_rules *cl_rules_create(const char *const *extra, size_t n_extra,
                          char **err)
{
    cl_rules *r = calloc(1, sizeof *r);
    char *xp = NULL;
    if (!r)
        return NULL;
    r->to_gb = (iconv_t)-1;
    r->tag = rx_compile(RX_TAG, PCRE2_DOTALL, err);
    r->remnant = rx_compile(RX_REMNANT, 0, err);
    /* the Han script as PCRE2 knows it, for the rare hanzi outside the
     * blocks pin_after_han knows (anchored: one code point is asked) */
    r->han = rx_compile("\\p{Han}", PCRE2_ANCHORED, err);
    r->notice = rx_compile(RX_NOTICE, 0, err);
    r->notice_any = rx_compile(RX_NOTICE_ANY, 0, err);
    r->closing = rx_compile(RX_CLOSING, 0, err);
    r->byline = rx_compile(RX_BYLINE, 0, err);
    if (!r->tag || !r->remnant || !r->han ||
        !r->notice || !r->notice_any || !r->closing || !r->byline)
        goto fail;
    xp = extra_pattern(extra, n_extra);
    if (xp && !(r->extra = rx_compile(xp, 0, err)))
        goto fail;
    r->md = pcre2_match_data_create(16, NULL);
    r->to_gb = iconv_open("GB18030", "UTF-8");
    if (!r->md || cl_common_init() < 0)
        goto fail;
    free(xp);
    return r;
fail:
    free(xp);
    cl_rules_destroy(r);
    return NULL;
}

void cl_rules_destroy(cl_rules *r)
{
    if (!r)
        return;
    pcre2_code_free(r->tag);
    pcre2_code_free(r->remnant);
    pcre2_code_free(r->han);
    pcre2_code_free(r->notice);
    pcre2_code_free(r->notice_any);
    pcre2_code_free(r->closing);
    pcre2_code_free(r->byline);
    pcre2_code_free(r->extra);
    pcre2_match_data_free(r->md);
    if (r->to_gb != (iconv_t)-1)
        iconv_close(r->to_gb);
    cl_buf_free(&r->a);
    cl_buf_free(&r->b);
    cl_buf_free(&r->lb);
    free(r->line.v);
    free(r->all.v);
    free(r->alltrig.v);
    free(r->recs);
    free(r->marks);
    free(r);
}

/* 1 when `re` matches s[0..n) (valid UTF-8), else 0. */
static int rx_test(cl_rules *r, pcre2_code *re, const char *s, size_t n)
{
    return re && pcre2_match(re, (PCRE2_SPTR)s, n, 0, PCRE2_NO_UTF_CHECK,
                             r->md, NULL) >= 0;
}

/* Called for each match of rx_replace: appends the replacement. */
typedef void (*repl_fn)(const char *s, const PCRE2_SIZE *ov, int groups,
                        cl_buf *out);

/* Might the character s[a..b) (valid UTF-8) be one PCRE2's \s matches
 * with UCP (property Z, or tab, LF, VT, FF, CR)?  Yes for those, and for
 * U+0085 and U+180E too, spaces elsewhere: never no for a \s character. */
static int maybe_space(const unsigned char *s, size_t a, size_t b)
{
    uint32_t cp;
    if (b - a == 1)
        return s[a] == ' ' || (s[a] >= '\t' && s[a] <= '\r');
    if (b - a == 2)
        cp = (uint32_t)(s[a] & 0x1F) << 6 | (s[a + 1] & 0x3F);
    else if (b - a == 3)
        cp = (uint32_t)(s[a] & 0x0F) << 12 | (uint32_t)(s[a + 1] & 0x3F) << 6 |
             (s[a + 2] & 0x3F);
    else
        return 0;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || cp == 0x180E ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* The start of the character that ends at s[j] (j > 0, valid UTF-8). */
static size_t char_before(const unsigned char *s, size_t j)
{
    do
        j--;
    while (j > 0 && (s[j] & 0xC0) == 0x80);
    return j;
}

/* No match of RX_REMNANT that ends at the '>' at s[g] starts before the
 * place returned (a character boundary).  Such a match holds no other
 * '>' and reads, from its end back: '>', an optional '/', blanks (\s*),
 * then at most a blank and 200 characters, a name of up to three letters
 * and "?!?": 207 characters at most before the blanks. */
static size_t remnant_reach(const char *text, size_t g)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t j = g, a;
    if (j > 0 && s[j - 1] == '/')
        j--;
    while (j > 0 && maybe_space(s, a = char_before(s, j), j))
        j = a;
    for (int k = 0; k < 207 && j > 0; k++)
        j = char_before(s, j);
    return j;
}

/* Copies s[0..n) to out with every match of `re` replaced by fn's output.
 * Returns the number of matches.  With `to_gt` (RX_REMNANT, whose every
 * match ends at its only '>') each '>' is tried in turn, the subject
 * ending there and the search starting at remnant_reach: the same
 * matches, without reading all the text before each '>' (a whole page
 * ran through the regex for one "br/>"). */
static long rx_replace(cl_rules *r, pcre2_code *re, const char *s, size_t n,
                       cl_buf *out, repl_fn fn, int to_gt)
{
    PCRE2_SIZE start = 0, *ov = pcre2_get_ovector_pointer(r->md);
    size_t next = 0; /* to_gt: where the next '>' is looked for */
    long count = 0;
    for (;;) {
        size_t end = n, from = start;
        if (to_gt) {
            const char *gt = memchr(s + next, '>', n - next);
            if (!gt)
                break;
            end = next = (size_t)(gt - s) + 1;
            from = remnant_reach(s, end - 1);
            from = from > start ? from : start;
        }
        int rc = pcre2_match(re, (PCRE2_SPTR)s, end, from, PCRE2_NO_UTF_CHECK,
                             r->md, NULL);
        if (rc < 0) {
            if (to_gt)
                continue;
            break;
        }
        cl_buf_put(out, s + start, ov[0] - start);
        if (ov[1] == ov[0]) { /* empty match: copy a char and go on */
            uint32_t cp;
            int k = cl_utf8_next(s + ov[0], n - ov[0], &cp);
            if (k == 0)
                break;
            cl_buf_put(out, s + ov[0], (size_t)k);
            start = ov[0] + (size_t)k;
            continue;
        }
        count++;
        if (fn)
            fn(s, ov, rc, out);
        start = ov[1];
    }
    if (start < n)
        cl_buf_put(out, s + start, n - start);
    return count;
}

/* ---- step 1: characters ------------------------------------------------- */

/* The half-width form of a full-width letter or digit, else 0. */
static uint32_t fullwidth_alnum(uint32_t cp)
{
    if ((cp >= 0xFF10 && cp <= 0xFF19) || (cp >= 0xFF21 && cp <= 0xFF3A) ||
        (cp >= 0xFF41 && cp <= 0xFF5A))
        return cp - 0xFEE0;
    return 0;
}

/* Does step 1 leave the valid multi-byte character cp as it is? */
static int keeps_char(uint32_t cp)
{
    return cp != 0x2028 && cp != 0x2029 && cp >= 0xA0 && cp != 0xFFFF &&
           !cl_is_space(cp) && !cl_is_zero_width(cp) && !cl_radical_map(cp) &&
           !fullwidth_alnum(cp);
}

/* Writes what step 1 makes of the character cp read at in[i - k .. i)
 * (k bytes; cp is U+FFFD with k == 1 for an invalid byte).  Returns the
 * bytes of `in` consumed beyond it (a CR's LF). */
static size_t fix_char(const char *in, size_t n, size_t i, uint32_t cp,
                       cl_buf *out, cl_stats *st)
{
    uint32_t m;
    if (cp < 0x80) {
        if (cp == '\r') {
            cl_buf_putc(out, '\n');
            return i < n && in[i] == '\n';
        }
        if (cp == '\n' || cp >= 0x20)
            cl_buf_putc(out, (char)cp);
        else if (cp == '\t' || cp == '\f' || cp == '\v')
            cl_buf_putc(out, ' ');
        return 0; /* other controls, NUL included, go */
    }
    if (cp == 0x2028 || cp == 0x2029 || cp == 0x85) {
        cl_buf_putc(out, '\n');
    } else if (cl_is_space(cp)) {
        cl_buf_putc(out, ' ');
    } else if (cl_is_zero_width(cp) || cp < 0xA0) {
        ;
    } else if ((m = cl_radical_map(cp)) || (m = fullwidth_alnum(cp))) {
        cl_buf_put_cp(out, m);
        st->normalized_chars++;
    } else {
        cl_buf_put_cp(out, cp);
    }
    return 0;
}

/* Does u[i..n) start with a valid three-byte character of lead E4..E9
 * (U+4000..U+9FFF: hanzi, and the hexagram symbols)? */
static inline int lead_hanzi(const unsigned char *u, size_t i, size_t n)
{
    return cl_three_at(u, i, n, 0xE4, 0xE9);
}

/* Copies in[0..n) to out, fixing characters one by one (step 1).  Runs of
 * characters that stay (printable ASCII, hanzi U+4000..U+9FFF, any valid
 * character keeps_char accepts) are copied whole; cl_plain_blocks skips most
 * of them when `wide` (off only in cl_check_normalize's reference run),
 * tried again once the loop is past the byte that stopped it. */
static void normalize_chars(const char *in, size_t n, cl_buf *out,
                            cl_stats *st, int wide)
{
    const unsigned char *u = (const unsigned char *)in;
    size_t i = 0, run = 0; /* in[run..i) stays as it is */
    size_t bad, retry = 0;
    while (i < n) {
        uint32_t cp;
        int k;
#ifdef __SSE2__
        if (wide && i >= retry) {
            i = cl_plain_blocks(u, i, n, &bad);
            retry = bad + 1;
            if (i >= n)
                break;
        }
#endif
        if (u[i] >= 0x20 && u[i] < 0x80) {
            i++;
            while (i + 8 <= n) { /* printable ASCII, eight bytes at a time */
                uint64_t w;
                memcpy(&w, in + i, 8);
                if (cl_word_high(w) || cl_word_below(w, 0x20))
                    break;
                i += 8;
            }
            continue;
        }
        if (lead_hanzi(u, i, n)) { /* a run of them at once */
            do
                i += 3;
            while (lead_hanzi(u, i, n));
            continue;
        }
        k = cl_utf8_next(in + i, n - i, &cp);
        if (u[i] == '\n' || (k > 1 && keeps_char(cp))) {
            i += (size_t)k;
            continue;
        }
        cl_buf_put(out, in + run, i - run);
        i += (size_t)k;
        i += fix_char(in, n, i, cp, out, st);
        run = i;
    }
    cl_buf_put(out, in + run, n - run);
}

/* ---- step 2: markup ------------------------------------------------------- */

/* Decodes "&name;" / "&#n;" / "&#xh;" at s[0..n) (s[0] == '&'); returns the
 * bytes consumed (0: not an entity) and the code point in *cp. */
static size_t entity_at(const char *s, size_t n, uint32_t *cp)
{
    char name[16];
    size_t j = 1;
    while (j < n && j < 12 && s[j] != ';' && s[j] != '&' &&
           ((unsigned char)s[j] > ' '))
        j++;
    if (j >= n || s[j] != ';' || j < 2)
        return 0;
    memcpy(name, s + 1, j - 1);
    name[j - 1] = 0;
    if (name[0] == '#') {
        char *end;
        unsigned long v = (name[1] == 'x' || name[1] == 'X')
                              ? strtoul(name + 2, &end, 16)
                              : strtoul(name + 1, &end, 10);
        if (*end || end == name + 1 || v == 0 || v > 0x10FFFF ||
            (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        *cp = (uint32_t)v;
    } else {
        const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
        if (!e)
            return 0;
        *cp = e->value;
    }
    return j + 1;
}

/* Decodes entities of s[0..n) into out; returns how many. */
static long decode_entities(const char *s, size_t n, cl_buf *out)
{
    long count = 0;
    size_t i = 0, run = 0;
    const char *amp;
    while (i < n && (amp = memchr(s + i, '&', n - i))) {
        uint32_t cp;
        size_t k;
        i = (size_t)(amp - s);
        if (!(k = entity_at(s + i, n - i, &cp))) {
            i++;
            continue;
        }
        cl_buf_put(out, s + run, i - run);
        if (cl_is_space(cp))
            cl_buf_putc(out, ' ');
        else if (cp == '\r' || cp == '\n')
            cl_buf_putc(out, '\n');
        else if (cp >= 0x20 && !cl_is_zero_width(cp))
            cl_buf_put_cp(out, cp);
        i += k;
        run = i;
        count++;
    }
    cl_buf_put(out, s + run, n - run);
    return count;
}

static int is_block_tag(const char *name, size_t n)
{
    static const char *const blocks[] = {
        "br", "p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3",
        "h4", "h5", "h6", "section", "article", "blockquote", "hr", "dd",
        "dt", "dl", "pre", "figure", "figcaption", "header", "footer", NULL};
    for (int i = 0; blocks[i]; i++)
        if (strlen(blocks[i]) == n && !strncasecmp(blocks[i], name, n))
            return 1;
    return 0;
}

static void repl_tag(const char *s, const PCRE2_SIZE *ov, int groups,
                     cl_buf *out)
{
    if (groups > 2 && ov[4] != PCRE2_UNSET &&
        is_block_tag(s + ov[4], ov[5] - ov[4]))
        cl_buf_putc(out, '\n');
}

/* The closing quote that matches the last unclosed opening quote before
 * s + end on its line, or NULL.  Every quote is three bytes led by 0xE2
 * or 0xE3: only those bytes are looked at. */
static const char *open_quote_closer(const char *s, size_t end)
{
    static const char *const pairs[][2] = {
        {"“", "”"}, {"「", "」"}, {"『", "』"}, {"‘", "’"}, {"《", "》"}};
    enum { NP = sizeof pairs / sizeof pairs[0] };
    size_t line = end, last_open[NP] = {0}, last_close[NP] = {0};
    int seen[NP] = {0};
    const char *best = NULL;
    size_t best_at = 0;
    while (line > 0 && s[line - 1] != '\n')
        line--;
    for (size_t i = line; i + 3 <= end; i++) {
        if ((unsigned char)s[i] != 0xE2 && (unsigned char)s[i] != 0xE3)
            continue;
        for (size_t p = 0; p < NP; p++) {
            if (!memcmp(s + i, pairs[p][0], 3))
                last_open[p] = i + 1, seen[p] = 1;
            else if (!memcmp(s + i, pairs[p][1], 3))
                last_close[p] = i + 1;
        }
    }
    for (size_t p = 0; p < NP; p++)
        if (seen[p] && last_open[p] > last_close[p] && last_open[p] > best_at)
            best = pairs[p][1], best_at = last_open[p];
    return best;
}

/* "?!?" before a lost-'<' tag was "。" plus a closing quote, read with the
 * wrong charset: put back the full stop and the quote the line opened.  A
 * block remnant ("br/>", "/p>") ends the line; inline ones just go. */
static void repl_remnant(const char *s, const PCRE2_SIZE *ov, int groups,
                         cl_buf *out)
{
    static const char *const inl[] = {"/span", "/strong", "/em", "/b>",
                                      "/i>", "/u>", "/a>", "/font", "/sup",
                                      "/sub", NULL};
    const char *closer, *tag = s + ov[0];
    if (groups > 1 && ov[2] != PCRE2_UNSET && ov[3] - ov[2] == 3) {
        cl_buf_puts(out, "。");
        if ((closer = open_quote_closer(s, ov[0])))
            cl_buf_puts(out, closer);
        tag = s + ov[3];
    }
    for (int i = 0; inl[i]; i++)
        if (!strncmp(tag, inl[i], strlen(inl[i])))
            return;
    cl_buf_putc(out, '\n');
}

/* ---- step 3: pinyin --------------------------------------------------------- */

/* Every pinyin match starts at '(', at "（" (EF BC 88) or, for pinyin_any,
 * at '?'.  The cursor finds the next such place, sixteen bytes a step. */
typedef struct pin_cursor {
    const char *s;
    size_t n;
    int q; /* '?' starts a match too */
} pin_cursor;

static void pin_init(pin_cursor *c, const char *s, size_t n, int q)
{
    c->s = s;
    c->n = n;
    c->q = q;
}

/* The first place at or after `from` where a match may start, or n. */
static size_t pin_next(pin_cursor *c, size_t from)
{
    const unsigned char *u = (const unsigned char *)c->s;
    size_t n = c->n, i = from;
#ifdef __SSE2__
    i = cl_pin_blocks(u, i, n, c->q);
#endif
    for (; i < n; i++)
        if (u[i] == '(' || (c->q && u[i] == '?') ||
            (i + 2 < n && u[i] == 0xEF && u[i + 1] == 0xBC && u[i + 2] == 0x88))
            return i;
    return n;
}

/* The class of the pinyin letter at u[i]: 1 for a-z and ü, 2 for a
 * toned vowel (TONED), 0 for anything else; *len is its byte length. */
static int pin_letter(const unsigned char *u, size_t i, size_t n, size_t *len)
{
    unsigned cp;
    if (u[i] >= 'a' && u[i] <= 'z') {
        *len = 1;
        return 1;
    }
    if (u[i] < 0xC3 || u[i] > 0xC7 || i + 1 >= n)
        return 0; /* every letter of TONED and ü is U+00E0..U+01DC */
    cp = (unsigned)(u[i] & 0x1F) << 6 | (u[i + 1] & 0x3F);
    *len = 2;
    switch (cp) {
    case 0xFC: /* ü */
        return 1;
    case 0x101: case 0xE1: case 0x1CE: case 0xE0: /* ā á ǎ à */
    case 0x113: case 0xE9: case 0x11B: case 0xE8: /* ē é ě è */
    case 0x12B: case 0xED: case 0x1D0: case 0xEC: /* ī í ǐ ì */
    case 0x14D: case 0xF3: case 0x1D2: case 0xF2: /* ō ó ǒ ò */
    case 0x16B: case 0xFA: case 0x1D4: case 0xF9: /* ū ú ǔ ù */
    case 0x1D6: case 0x1D8: case 0x1DA: case 0x1DC: /* ǖ ǘ ǚ ǜ */
        return 2;
    default:
        return 0;
    }
}

/* 1 when the code point ending just before s[p] is of the Han script
 * (the patterns' lookbehind).  The CJK blocks assigned since Unicode 3.0
 * are answered here; anything else is asked of PCRE2's \p{Han}. */
static int pin_after_han(cl_rules *r, const char *s, size_t p)
{
    size_t b;
    uint32_t cp;
    if (!p)
        return 0;
    b = p - cl_utf8_prev(s, p);
    cl_utf8_next(s + b, p - b, &cp);
    if ((cp >= 0x4E00 && cp <= 0x9FA5) || (cp >= 0x3400 && cp <= 0x4DB5))
        return 1;
    if (cp < 0x2E80) /* the Han script starts at the CJK radicals */
        return 0;
    return pcre2_match(r->han, (PCRE2_SPTR)s, p, b, PCRE2_NO_UTF_CHECK, r->md,
                       NULL) >= 0;
}

int cl_pinyin_at(cl_rules *r, const char *s, size_t n, size_t p, int any,
                 size_t *end)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i, len;
    int k = 0, first_toned = -1, c;
    /* [(（], or '?' for pinyin_any */
    if (p >= n)
        return 0;
    if (u[p] == '(' || (any && u[p] == '?'))
        i = p + 1;
    else if (p + 2 < n && u[p] == 0xEF && u[p + 1] == 0xBC && u[p + 2] == 0x88)
        i = p + 3;
    else
        return 0;
    /* SYL, [a-zü]{0,5}[TONED][a-zü TONED]{0,4}, then the closing bracket,
     * which no letter is: so the letters are the whole run after the
     * opening bracket, at most 10, the first toned one among the first 6
     * and followed by at most 4 */
    while (i < n && (c = pin_letter(u, i, n, &len)) != 0) {
        if (c == 2 && first_toned < 0)
            first_toned = k;
        if (++k > 10)
            return 0;
        i += len;
    }
    if (first_toned < 0 || first_toned > 5 || k - first_toned - 1 > 4)
        return 0;
    if (i < n && u[i] == ')')
        *end = i + 1;
    else if (i + 2 < n && u[i] == 0xEF && u[i + 1] == 0xBC && u[i + 2] == 0x89)
        *end = i + 3;
    else
        return 0;
    return any || pin_after_han(r, s, p);
}

/* The leftmost pinyin annotation (after hanzi, or anywhere when `any`)
 * starting at or after `from`: 1 and its span [*ms, *me), or 0. */
static int pin_match(cl_rules *r, pin_cursor *c, size_t from, int any,
                     size_t *ms, size_t *me)
{
    size_t p;
    while ((p = pin_next(c, from)) < c->n) {
        if (cl_pinyin_at(r, c->s, c->n, p, any, me)) {
            *ms = p;
            return 1;
        }
        from = p + 1;
    }
    return 0;
}

/* Pinyin annotations in s[0..n) (after hanzi, or anywhere when `any`),
 * leftmost first, counted up to `limit`. */
static int count_pinyin_upto(cl_rules *r, const char *s, size_t n, int any,
                             int limit)
{
    pin_cursor c;
    size_t from = 0, ms, me;
    int count = 0;
    pin_init(&c, s, n, any);
    while (count < limit && pin_match(r, &c, from, any, &ms, &me)) {
        count++;
        from = me;
    }
    return count;
}

int cl_count_pinyin(cl_rules *r, const char *s, size_t n, int any)
{
    return count_pinyin_upto(r, s, n, any, INT_MAX);
}

/* "?yàn)" lost its '(' with the character before it: keep the '?' so the
 * lost-character logic sees it. */
static void repl_pinyin(const char *s, const PCRE2_SIZE *ov, int groups,
                        cl_buf *out)
{
    (void)groups;
    if (s[ov[0]] == '?')
        cl_buf_putc(out, '?');
}

/* ---- per line: code point arrays ------------------------------------------- */

/* Makes room for `more` code points; -1 when out of memory. */
static int cpvec_reserve(cpvec *c, size_t more)
{
    size_t cap = c->cap ? c->cap : 256;
    uint32_t *v;
    if (c->n + more <= c->cap)
        return 0;
    while (cap < c->n + more)
        cap *= 2;
    if (!(v = realloc(c->v, cap * sizeof *v)))
        return -1;
    c->v = v;
    c->cap = cap;
    return 0;
}

static inline int cpvec_push(cpvec *c, uint32_t cp)
{
    if (c->n == c->cap && cpvec_reserve(c, 1) < 0)
        return -1;
    c->v[c->n++] = cp;
    return 0;
}

/* Appends v[0..n) to c; -1 when out of memory (c unchanged). */
static int cpvec_put(cpvec *c, const uint32_t *v, size_t n)
{
    if (cpvec_reserve(c, n) < 0)
        return -1;
    memcpy(c->v + c->n, v, n * sizeof *v);
    c->n += n;
    return 0;
}

/* What cpvec_append saw: encoding the code points again gives the bytes
 * back (valid UTF-8, no U+FFFF); a space; a character fix_punct may change.
 * Then what mark_line may mark (see may_mark): an ASCII letter between
 * two hanzi; a character mark_line hands to mark_of; a hanzi (U+4000..U+9FFF)
 * common in GB2312 only, in Big5 only, in neither. */
enum {
    CP_SAME = 1, CP_SPACE = 2, CP_PUNCT = 4,
    CP_LETTER = 8, CP_ODD = 16, CP_HAN_GB = 32, CP_HAN_B5 = 64,
    CP_HAN_RARE = 128
};

/* CP_SPACE / CP_PUNCT / CP_ODD for each ASCII character. */
static const unsigned char ascii_flags[128] = {
    [' '] = CP_SPACE, ['!'] = CP_PUNCT, [','] = CP_PUNCT,
    ['?'] = CP_PUNCT | CP_ODD, [';'] = CP_PUNCT, [':'] = CP_PUNCT,
    ['_'] = CP_ODD};

/* What fix_punct, fix_spaces and encode_line make of the line s[0..n),
 * written into out by copying its bytes: the punctuation fix_punct changed
 * is written anew, each run of spaces becomes one or none as fix_spaces
 * decides (none at the ends or beside Chinese punctuation).  trig as
 * cpvec_append left it; line as loaded, then fix_punct run on it. */
static void patch_line(const cpvec *line, const cpvec *trig, const char *s,
                       size_t n, cl_buf *out)
{
    const uint32_t *v = line->v;
    size_t from = 0;
    for (size_t k = 0; k + 1 < trig->n; k += 2) {
        size_t a = trig->v[k], b = a, at = trig->v[k + 1];
        uint32_t cp = v[a];
        if (cp == ' ') { /* a run of spaces: what fix_spaces makes of it */
            while (k + 3 < trig->n && trig->v[k + 2] == b + 1 &&
                   v[b + 1] == ' ')
                b++, k += 2;
            cl_buf_put(out, s + from, at - from);
            if (a > 0 && b + 1 < line->n && !cl_is_cjk_punct(v[a - 1]) &&
                !cl_is_cjk_punct(v[b + 1]))
                cl_buf_putc(out, ' ');
            from = at + (b - a + 1);
            continue;
        }
        if ((cp < 0x80 && cp == (unsigned char)s[at]) || cp == 0x3002)
            continue; /* unchanged: ASCII, or a "。" */
        cl_buf_put(out, s + from, at - from);
        cl_buf_put_cp(out, cp);
        from = at + ((unsigned char)s[at] < 0x80 ? 1 : 3);
    }
    cl_buf_put(out, s + from, n - from);
}

/* What the whole document looks like, for the per-line judgements. */
typedef struct doc_info {
    int script;    /* 0 unknown, CL_COMMON_GB (Simplified), CL_COMMON_BIG5 */
    int kana_ok;   /* the text holds real Japanese */
    size_t total;  /* bytes of the text after steps 1-3 */
} doc_info;

/* What the survey counts of each BMP code point (one lookup each). */
enum { SV_OTHER, SV_HAN, SV_HAN_GB, SV_HAN_B5, SV_KANA, SV_N };
static uint8_t *survey_map;
static pthread_once_t survey_once = PTHREAD_ONCE_INIT;

static int survey_class(uint32_t cp)
{
    if (cl_is_han(cp)) {
        int c = cl_common_class(cp);
        return c == CL_COMMON_GB ? SV_HAN_GB : c == CL_COMMON_BIG5 ? SV_HAN_B5 : SV_HAN;
    }
    return cl_is_kana(cp) ? SV_KANA : SV_OTHER;
}

/* The CP_HAN_* flag of a hanzi whose common class is c: the scripts in
 * which mark_line may mark it (han_mark_of_class), 0 when in none. */
static int han_risk(int c)
{
    int top = c & (CL_COMMON_GB | CL_COMMON_BIG5);
    return !top                   ? CP_HAN_RARE
           : top == CL_COMMON_GB  ? CP_HAN_GB
           : top == CL_COMMON_BIG5 ? CP_HAN_B5
                                  : 0;
}

/* Fills survey_map (cl_common_init has run: the rules exist): each BMP
 * code point's survey class (SV_*, bits 0-2) and, for U+4000..U+9FFF, its
 * han_risk flag (bits 5-7); stays NULL when out of memory (survey_class is
 * then asked each time). */
static void survey_build(void)
{
    uint8_t *m = malloc(0x10000);
    if (!m)
        return;
    for (uint32_t cp = 0; cp < 0x10000; cp++)
        m[cp] = (uint8_t)(survey_class(cp) |
                          (cp >= 0x4000 && cp <= 0x9FFF && cl_is_han(cp)
                               ? han_risk(cl_common_class(cp))
                               : 0));
    survey_map = m;
}

/* Decides doc_info from the survey counts k (by SV_*) of a text of n
 * bytes. */
static void survey_decide(const size_t *k, size_t n, doc_info *d)
{
    size_t han = k[SV_HAN] + k[SV_HAN_GB] + k[SV_HAN_B5], kana = k[SV_KANA],
           gb_only = k[SV_HAN_GB], b5_only = k[SV_HAN_B5];
    d->kana_ok = kana * 5 > han;
    d->script = 0;
    if (b5_only >= 30 && b5_only > gb_only * 6)
        d->script = CL_COMMON_BIG5;
    else if (gb_only >= 30 && gb_only > b5_only * 6)
        d->script = CL_COMMON_GB;
    d->total = n;
}

static int is_digit(uint32_t c) { return c >= '0' && c <= '9'; }

/* Is cp an ASCII letter? */
static inline int is_ascii_letter(uint32_t cp)
{
    return (cp | 0x20) - 'a' < 26;
}

/* Does mark_line hand cp (not ASCII, not U+4E00..U+9FFF) to mark_of?  It
 * decides the rest of the general, CJK and full-width punctuation itself
 * (and marks none of it).  The one list both it and the pre-check read. */
static inline int mark_of_asked(uint32_t cp)
{
    return !((cp >= 0x2000 && cp <= 0x206F && cp != 0x2030) ||
             (cp >= 0x3000 && cp <= 0x303F && cp != 0x3007) ||
             (cp >= 0xFF00 && cp <= 0xFF65));
}

/* Adds the survey counts packed twelve bits per class in t to k.  A run
 * of hanzi counts this way: k[class]++ in memory made each character
 * wait for the last one's store. */
static inline void tally_add(size_t *k, uint64_t t)
{
    for (int c = 0; c < SV_N; c++)
        k[c] += (size_t)(t >> 12 * c & 0xFFF);
}

/* Decodes the line s[0..n) (n bytes never hold more than n code points)
 * onto the end of c, and onto trig the index in the line and byte offset
 * of each space and fix_punct trigger that may change (a "。" only
 * between digits; two entries each); adds the survey
 * class of each non-ASCII code point to k.  Returns the CP_* flags of the
 * line, or -1 when out of memory. */
static int cpvec_append(cpvec *c, cpvec *trig, const char *s, size_t n,
                        size_t *k)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, base = c->n;
    int same = CP_SAME, seen = 0;
    if (cpvec_reserve(c, n) < 0)
        return -1;
    while (i < n) {
        uint32_t cp;
        int f = 0;
        size_t at = i;
        if (u[i] < 0x80) { /* never han nor kana */
            cp = u[i++];
            f = ascii_flags[cp];
        } else if (survey_map && lead_hanzi(u, i, n)) {
            /* a run of U+4000..U+9FFF: no trigger, only hanzi flags; a
             * letter between a hanzi and the run is CP_LETTER */
            uint32_t *v = c->v;
            size_t vn = c->n;  /* in registers, not stored per character */
            uint64_t tally = 0; /* twelve bits per survey class */
            unsigned flags = 0, left = 4095;
            if (vn - base >= 2 && is_ascii_letter(v[vn - 1]) && cl_is_han(v[vn - 2]))
                seen |= CP_LETTER;
            do {
                cp = (uint32_t)(u[i] & 0x0F) << 12 |
                     (uint32_t)(u[i + 1] & 0x3F) << 6 | (u[i + 2] & 0x3F);
                tally += 1ull << 12 * (survey_map[cp] & 7);
                flags |= survey_map[cp];
                v[vn++] = cp;
                i += 3;
                if (!--left) {
                    tally_add(k, tally);
                    tally = 0;
                    left = 4095;
                }
            } while (lead_hanzi(u, i, n));
            tally_add(k, tally);
            c->n = vn;
            seen |= flags & (CP_HAN_GB | CP_HAN_B5 | CP_HAN_RARE);
            continue;
        } else {
            int len = cl_utf8_next(s + i, n - i, &cp);
            if (len == 1 || cp == 0xFFFF)
                same = 0;
            if (cp == 0x3002) { /* fix_punct changes it between digits only */
                if (c->n > base && is_digit(c->v[c->n - 1]) &&
                    i + (size_t)len < n && is_digit(u[i + (size_t)len]))
                    f = CP_PUNCT;
            } else if (mark_of_asked(cp)) {
                f = CP_ODD;
            }
            k[survey_map && cp < 0x10000 ? survey_map[cp] & 7 : survey_class(cp)]++;
            i += (size_t)len;
        }
        if ((f & (CP_SPACE | CP_PUNCT)) &&
            (cpvec_push(trig, (uint32_t)(c->n - base)) < 0 ||
             cpvec_push(trig, (uint32_t)at) < 0))
            return -1;
        seen |= f;
        c->v[c->n++] = cp;
    }
    return same | seen;
}

/* Decodes the text s[0..n) once, line by line ('\n'-separated), into
 * r->all / r->alltrig with one r->recs entry per line, and fills d from
 * the survey of its characters (a code point never spans a '\n', so the
 * lines hold the characters of the whole).  Returns the number of lines,
 * or -1 when out of memory. */
static long doc_load(cl_rules *r, const char *s, size_t n, doc_info *d,
                     size_t k[SV_N])
{
    size_t i = 0, nl = 0;
    pthread_once(&survey_once, survey_build);
    r->all.n = r->alltrig.n = 0;
    if (cpvec_reserve(&r->all, n) < 0)
        return -1;
    while (i <= n) {
        const char *p = memchr(s + i, '\n', n - i);
        size_t e = p ? (size_t)(p - s) : n;
        line_rec *lr;
        int seen;
        if (nl == r->caprecs) {
            size_t cap = r->caprecs ? r->caprecs * 2 : 256;
            line_rec *q = realloc(r->recs, cap * sizeof *q);
            if (!q)
                return -1;
            r->recs = q;
            r->caprecs = cap;
        }
        lr = &r->recs[nl++];
        lr->b0 = i;
        lr->b1 = e;
        lr->v0 = r->all.n;
        lr->t0 = r->alltrig.n;
        if ((seen = cpvec_append(&r->all, &r->alltrig, s + i, e - i, k)) < 0)
            return -1;
        lr->nv = r->all.n - lr->v0;
        lr->nt = r->alltrig.n - lr->t0;
        lr->seen = seen;
        i = e + 1;
    }
    survey_decide(k, n, d);
    return (long)nl;
}

/* Marks: WEAK counts 1 towards a mojibake span, RARE 2, a span needs 3
 * (or one STRONG mark); LOST is a '?' standing for a lost character. */
enum { M_NONE = 0, M_WEAK = 1, M_STRONG = 2, M_LOST = 3, M_RARE = 4 };

static int is_cjkish(uint32_t cp)
{
    return cl_is_han(cp) || cl_is_cjk_punct(cp);
}

static int is_ascii_alnum(uint32_t cp)
{
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
           (cp >= 'A' && cp <= 'Z');
}

/* Is the '?' at v[i] a question mark (and not a lost character)? */
static int is_question(const uint32_t *v, size_t n, size_t i)
{
    static const uint32_t particles[] = {0x5417, 0x55CE, 0x5462, 0x4E48,
                                         0x9EBC, 0x5427, 0x5440, 0x554A, 0};
    static const uint32_t qwords[] = {0x4F55, 0x54EA, 0x8C01, 0x8AB0, 0x5E7E,
                                      0x51E0, 0x5426, 0x600E, 0x5C82, 0x8C48,
                                      0};
    uint32_t prev = i ? v[i - 1] : 0, next = i + 1 < n ? v[i + 1] : 0;
    int end = next == 0 || next == ' ' || next == '"' || next == 0x201D ||
              next == 0x300D || next == 0x300F || next == ')' ||
              next == 0xFF09 || next == '!';
    if (prev == '?' || next == '?') { /* "??" is lost text unless it ends */
        size_t j = i;
        while (j < n && v[j] == '?')
            j++;
        return j >= n || v[j] == ' ';
    }
    if (end)
        return 1;
    for (int k = 0; particles[k]; k++)
        if (prev == particles[k])
            return 1;
    if (cl_is_han(next))
        return 0;
    for (size_t j = i; j-- > 0;) { /* a question word earlier in the clause */
        uint32_t c = v[j];
        if (c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == '!' ||
            c == 0xFF0C || c == ',')
            break;
        for (int k = 0; qwords[k]; k++)
            if (c == qwords[k])
                return 1;
    }
    return 0;
}

/* The mark of a hanzi whose common class (CL_COMMON_* mask) is c. */
static unsigned char han_mark_of_class(int c, int script)
{
    int top = c & (CL_COMMON_GB | CL_COMMON_BIG5);
    if (c == 0)
        return M_RARE;
    if (!top || (script && !(top & script)))
        return M_WEAK; /* GB2312 level 2, or the other script */
    return M_NONE;
}

/* The han-character part of mark_of: rare or other-script hanzi. */
static unsigned char han_mark(uint32_t cp, int script)
{
    return han_mark_of_class(cl_common_class(cp), script);
}

/* The mark of v[i] in the line v[0..n): a mojibake suspect or a lost '?'. */
static unsigned char mark_of(const uint32_t *v, size_t n, size_t i,
                             const doc_info *d)
{
    uint32_t cp = v[i], prev = i ? v[i - 1] : 0,
             next = i + 1 < n ? v[i + 1] : 0;
    unsigned char mk = M_NONE;
    if (cp == 0xFFFD || (cp >= 0xE000 && cp <= 0xF8FF)) {
        mk = M_STRONG;
    } else if (cl_is_kana(cp) && !d->kana_ok) {
        mk = M_STRONG;
    } else if (cp == '_' && (cl_is_han(prev) || cl_is_kana(prev) ||
                             cl_is_han(next) || cl_is_kana(next)) &&
               !is_ascii_alnum(prev) && !is_ascii_alnum(next)) {
        mk = M_STRONG;
    } else if (((cp >= 0xA1 && cp <= 0xFF && cp != 0xB7 && cp != 0xD7) ||
                cp == 0x20AC || cp == 0x2030 || cp == 0x2116 ||
                (cp >= 0x2460 && cp <= 0x24FF) ||
                (cp >= 0x2500 && cp <= 0x257F)) &&
               (cl_is_han(prev) || cl_is_han(next))) {
        mk = M_STRONG;
    } else if (cl_is_han(cp) && cp < 0x10000 && cp != prev && cp != next) {
        mk = han_mark(cp, d->script);
    } else if (cp == '?' && (is_cjkish(prev) || is_cjkish(next) ||
                             prev == '?' || next == '?') &&
               !is_question(v, n, i)) {
        mk = M_LOST;
    } else if (((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z')) &&
               cl_is_han(prev) && cl_is_han(next)) {
        mk = M_WEAK; /* one stray Latin letter amid hanzi */
    }
    return mk;
}

/* Can mark_line mark anything in a line cpvec_append flagged `seen`?
 * No when the line holds only characters it marks with M_NONE whatever
 * their neighbours: common hanzi of the document's script, ASCII other
 * than '_', '?' and a letter between two hanzi, and the punctuation it
 * decides itself.  (The hanzi flags come from survey_map: without it
 * every hanzi counts as CP_ODD.) */
static int may_mark(int seen, const doc_info *d)
{
    return (seen & (CP_LETTER | CP_ODD | CP_HAN_RARE)) ||
           ((seen & CP_HAN_GB) && d->script == CL_COMMON_BIG5) ||
           ((seen & CP_HAN_B5) && d->script == CL_COMMON_GB);
}

/* Marks each code point of a line: mojibake suspects and lost '?'.
 * Returns how many got a mark.  Common hanzi, ASCII other than '_' and
 * '?', and CJK / general / full-width punctuation are decided inline (as
 * mark_of would). */
static size_t mark_line(const uint32_t *v, size_t n, const doc_info *d,
                        unsigned char *m)
{
    size_t marked = 0;
    const int script = d->script;
    unsigned char hm[8]; /* han_mark by common class (cl_common_map) */
    for (int c = 0; c < 8; c++)
        hm[c] = han_mark_of_class(c, script);
    const uint8_t *cm = cl_common_map; /* NULL: every hanzi is rare */
    uint32_t prev = 0, cp = n ? v[0] : 0; /* 0 stands for no neighbour */
    for (size_t i = 0; i < n; i++) {
        uint32_t next = i + 1 < n ? v[i + 1] : 0;
        unsigned char mk;
        if (cp >= 0x4E00 && cp <= 0x9FFF)
            mk = prev == cp || next == cp ? M_NONE : hm[cm ? cm[cp] & 7 : 0];
        else if (is_ascii_letter(cp))
            mk = cl_is_han(prev) && cl_is_han(next)
                     ? M_WEAK /* one stray Latin letter amid hanzi */
                     : M_NONE;
        else if (cp < 0x80 ? cp != '_' && cp != '?' : !mark_of_asked(cp))
            mk = M_NONE; /* ASCII, punctuation, full-width forms */
        else
            mk = mark_of(v, n, i, d);
        m[i] = mk;
        marked += mk != M_NONE;
        prev = cp;
        cp = next;
    }
    return marked;
}

long cl_check_normalize(const char *s, size_t n, size_t *skipped)
{
    cl_buf a = {0}, b = {0};
    cl_stats sa = {0}, sb = {0};
    long rc;
    *skipped = 0;
#ifdef __SSE2__
    for (size_t i = 0, j, bad; i < n; i = j > i ? j : i + 1) {
        j = cl_plain_blocks((const unsigned char *)s, i, n, &bad);
        *skipped += j - i;
    }
#endif
    normalize_chars(s, n, &a, &sa, 1);
    normalize_chars(s, n, &b, &sb, 0);
    rc = a.oom || b.oom ? -1
         : a.len != b.len || (a.len && memcmp(a.p, b.p, a.len)) ||
                   sa.normalized_chars != sb.normalized_chars;
    cl_buf_free(&a);
    cl_buf_free(&b);
    return rc;
}

long cl_check_remnants(cl_rules *r, const char *s, size_t n, long *found)
{
    cl_buf a, b;
    long rc;
    cl_buf_init(&a);
    cl_buf_init(&b);
    *found = rx_replace(r, r->remnant, s, n, &a, repl_remnant, 1);
    rc = rx_replace(r, r->remnant, s, n, &b, repl_remnant, 0) != *found ||
         a.len != b.len || (a.len && memcmp(a.p, b.p, a.len));
    rc = a.oom || b.oom ? -1 : rc;
    cl_buf_free(&a);
    cl_buf_free(&b);
    return rc;
}

long cl_check_survey(cl_rules *r, const char *s, size_t n)
{
    size_t k[SV_N] = {0}, want[SV_N] = {0};
    doc_info d;
    if (doc_load(r, s, n, &d, k) < 0)
        return -1;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int len = cl_utf8_next(s + i, n - i, &cp);
        if (cp >= 0x80)
            want[survey_class(cp)]++;
        i += (size_t)len;
    }
    return memcmp(k, want, sizeof k) != 0;
}

long cl_check_mark_skips(cl_rules *r, const char *s, size_t n,
                         size_t *skipped, size_t *lines)
{
    doc_info d;
    size_t k[SV_N] = {0};
    long nl = doc_load(r, s, n, &d, k), wrong = 0;
    unsigned char *m;
    if (nl < 0 || !(m = malloc(r->all.n + 1)))
        return -1;
    *skipped = 0;
    *lines = (size_t)nl;
    for (long j = 0; j < nl; j++) {
        const line_rec *lr = &r->recs[j];
        if (may_mark(lr->seen, &d))
            continue;
        ++*skipped;
        wrong += mark_line(r->all.v + lr->v0, lr->nv, &d, m) > 0;
    }
    free(m);
    return wrong;
}

/* Tries to undo "UTF-8 read as GBK": v[a..b) re-encoded as GB18030 must be
 * valid UTF-8 made of common characters.  Appends the repair to *fix and
 * returns 1 on success. */
static int try_regbk(cl_rules *r, const uint32_t *v, size_t a, size_t b,
                     cpvec *fix)
{
    cl_buf u;
    char gb[256], *ip, *op = gb;
    size_t il, ol = sizeof gb, i = 0, ok = 1;
    if (r->to_gb == (iconv_t)-1 || b - a < 2 || b - a > 60)
        return 0;
    cl_buf_init(&u);
    for (size_t k = a; k < b; k++)
        cl_buf_put_cp(&u, v[k]);
    if (u.oom)
        return 0;
    ip = u.p;
    il = u.len;
    iconv(r->to_gb, NULL, NULL, NULL, NULL);
    if (iconv(r->to_gb, &ip, &il, &op, &ol) == (size_t)-1)
        ok = 0;
    cl_buf_free(&u);
    if (!ok)
        return 0;
    fix->n = 0;
    while (i < (size_t)(op - gb)) {
        uint32_t cp;
        int k = cl_utf8_next(gb + i, (size_t)(op - gb) - i, &cp);
        if (cp == 0xFFFD || (cp >= 0x80 && !cl_is_cjk_punct(cp) &&
                             !cl_common_class(cp)))
            return 0;
        if (cpvec_push(fix, cp) < 0)
            return 0;
        i += (size_t)k;
    }
    return fix->n > 0;
}

/* Tries to undo a GBK text read one byte out of step (its lead byte lost,
 * shown as '?'): v[a..e) re-encoded as GB18030, minus its first byte, read
 * again as GBK.  The longest prefix of common characters is appended to
 * *fix; returns 1 when that prefix is worth having. */
static int try_shifted(cl_rules *r, const uint32_t *v, size_t a, size_t e,
                       cpvec *fix)
{
    cl_buf u;
    char gb[512], *ip, *op = gb;
    size_t il, ol = sizeof gb, i = 1;
    int ok = 1;
    if (r->to_gb == (iconv_t)-1 || e <= a || e - a > 120)
        return 0;
    cl_buf_init(&u);
    for (size_t k = a; k < e; k++)
        cl_buf_put_cp(&u, v[k]);
    if (u.oom)
        return 0;
    ip = u.p;
    il = u.len;
    iconv(r->to_gb, NULL, NULL, NULL, NULL);
    if (iconv(r->to_gb, &ip, &il, &op, &ol) == (size_t)-1)
        ok = 0;
    cl_buf_free(&u);
    fix->n = 0;
    while (ok && i < (size_t)(op - gb)) {
        unsigned char b0 = (unsigned char)gb[i];
        unsigned char b1 = i + 1 < (size_t)(op - gb) ? (unsigned char)gb[i + 1] : 0;
        uint32_t cp = cl_gbk_pair(b0, b1);
        if (b0 < 0x80) { /* a real ASCII character: back in step */
            if (cpvec_push(fix, b0) < 0)
                return 0;
            i += 1;
            continue;
        }
        if (!cp || !cl_common_class(cp))
            break;
        if (cpvec_push(fix, cp) < 0)
            return 0;
        i += 2;
    }
    return fix->n >= 2 || (fix->n == 1 && e - a <= 3);
}

/* try_regbk on the span v[a..*b) widened by up to 3 hanzi each side (its
 * edges are often common-looking characters).  On success the widened
 * left part already copied to `out` is taken back and *b moves to the
 * widened end. */
static int try_regbk_around(cl_rules *r, const uint32_t *v, size_t n,
                            size_t a, size_t *b, cpvec *out, cpvec *fix)
{
    for (size_t grow = 0; grow <= 6; grow++) {
        for (size_t l = 0; l <= grow && l <= 3; l++) {
            size_t rr = grow - l, lo = a - l, hi = *b + rr;
            if (rr > 3 || l > a || hi > n || l > out->n)
                continue;
            if (l && !cl_is_han(v[lo]))
                continue;
            if (rr && !cl_is_han(v[hi - 1]))
                continue;
            if (try_regbk(r, v, lo, hi, fix)) {
                out->n -= l;
                *b = hi;
                return 1;
            }
        }
    }
    return 0;
}

/* End of the run of double-byte-looking characters starting at s. */
static size_t dbcs_run_end(const uint32_t *v, size_t n, size_t s)
{
    while (s < n && v[s] >= 0x80 && !cl_is_cjk_punct(v[s]) &&
           !cl_is_space(v[s]))
        s++;
    return s;
}

/* Stands for a lost '?' kept under drop_mojibake=none until the
 * punctuation pass is over (so it is not taken for a question mark). */
#define LOST_MARK 0x10FFFEu

static void put_lost(cpvec *out, const cl_text_opts *o, size_t count)
{
    while (o->moji == CL_MOJI_NONE && count--)
        cpvec_push(out, LOST_MARK);
}

/* Finds mojibake spans and lost '?' in the line (m: its marks, from
 * mark_line) and rewrites it according to the policy.  Returns -1 when the
 * paragraph must go. */
static int fix_mojibake(cl_rules *r, const cl_text_opts *o, cpvec *line,
                        const unsigned char *m, cl_stats *st)
{
    size_t n = line->n, i = 0;
    const uint32_t *v = line->v;
    cpvec fix = {0}, out = {0};
    int bad = 0;
    cpvec_reserve(&out, n); /* most lines keep their length */
    while (i < n) {
        size_t a = i, b, last, s0, e, weak = 0, strong = 0, lost = 0;
        if (m[i] == M_NONE) { /* a run of unmarked characters, whole */
            for (b = i + 1; b < n && m[b] == M_NONE; b++)
                ;
            cpvec_put(&out, v + i, b - i);
            i = b;
            continue;
        }
        /* grow a span: marks at most one unmarked hanzi apart */
        last = i;
        for (b = i; b < n; b++) {
            if (m[b] != M_NONE) {
                last = b;
                weak += m[b] == M_WEAK ? 1 : m[b] == M_RARE ? 2 : 0;
                strong += m[b] == M_STRONG;
                lost += m[b] == M_LOST;
            } else if (b - last > 1 ||
                       !(cl_is_han(v[b]) || cl_is_kana(v[b]))) {
                break;
            }
        }
        b = last + 1;
        if (strong == 0 && weak + (lost > 0) < 3) {
            /* not mojibake: lone rare characters stay; '?' are lost chars */
            for (size_t k = a; k < b; k++) {
                if (m[k] == M_LOST) {
                    st->lost_chars++;
                    bad = 1;
                    put_lost(&out, o, 1);
                    continue;
                }
                cpvec_push(&out, v[k]);
            }
            i = b;
            continue;
        }
        st->mojibake_spans++;
        bad = 1;
        for (s0 = a; s0 < b && v[s0] == '?'; s0++)
            ;
        st->lost_chars += (long)(s0 - a);
        put_lost(&out, o, s0 - a);
        e = dbcs_run_end(v, n, s0);
        if ((s0 > a || (a > 0 && v[a - 1] == '?')) && e > s0 &&
            try_shifted(r, v, s0, e, &fix)) {
            st->mojibake_repaired++;
            for (size_t k = 0; k < fix.n; k++)
                cpvec_push(&out, fix.v[k]);
            i = e;
            continue;
        }
        if (try_regbk_around(r, v, n, s0, &b, &out, &fix)) {
            st->mojibake_repaired++;
            for (size_t k = 0; k < fix.n; k++)
                cpvec_push(&out, fix.v[k]);
        } else if (o->moji == CL_MOJI_NONE) {
            for (size_t k = s0; k < b; k++)
                cpvec_push(&out, v[k]);
        }
        i = b;
    }
    free(fix.v);
    if (out.v || n == 0) {
        free(line->v);
        *line = out;
    }
    return bad && o->moji == CL_MOJI_PARAGRAPH ? -1 : 0;
}

/* ---- per line: punctuation and white space ---------------------------------- */

static size_t skip_spaces_left(const uint32_t *v, size_t i)
{
    while (i > 0 && v[i - 1] == ' ')
        i--;
    return i;
}

static size_t skip_spaces_right(const uint32_t *v, size_t n, size_t i)
{
    while (i < n && v[i] == ' ')
        i++;
    return i;
}

/* Is the '!' at v[i] a lost colon of a clock time ("2!00", "14!40")? */
static int clock_digits(const uint32_t *v, size_t n, size_t i)
{
    size_t before = 0;
    while (before < i && before < 3 && is_digit(v[i - 1 - before]))
        before++;
    if (before < 1 || before > 2 || i + 2 >= n)
        return 0;
    if (!is_digit(v[i + 1]) || !is_digit(v[i + 2]) || v[i + 1] > '5')
        return 0;
    return i + 3 >= n || !is_digit(v[i + 3]);
}

/* Is c one of the characters fix_punct may change? */
static int punct_trigger(uint32_t c)
{
    return c == '!' || c == ',' || c == '?' || c == ';' || c == ':' ||
           c == 0x3002;
}

/* fix_punct's work on the trigger v[i] (earlier ones already done). */
static void punct_at(uint32_t *v, size_t n, size_t i, cl_stats *st)
{
    uint32_t c = v[i], L, R;
    size_t l = skip_spaces_left(v, i), rr = skip_spaces_right(v, n, i + 1);
    L = l ? v[l - 1] : 0;
    R = rr < n ? v[rr] : 0;
    if (c == 0x3002 && i && i + 1 < n && is_digit(v[i - 1]) &&
        is_digit(v[i + 1])) {
        v[i] = '.';
        st->punct_fixed++;
    } else if (c == '!' && clock_digits(v, n, i)) {
        v[i] = ':';
        st->punct_fixed++;
    } else if (c == ',' || c == '?' || c == ';' || c == '!') {
        if (is_digit(L) && is_digit(R) && l == i && rr == i + 1)
            return;
        if (is_cjkish(L) || (L && is_cjkish(R) && L != ' ')) {
            v[i] = c == ',' ? 0xFF0C
                   : c == '?' ? 0xFF1F
                   : c == ';' ? 0xFF1B
                              : 0xFF01;
            st->punct_fixed++;
        }
    } else if (c == ':' && is_cjkish(L) && R && !is_digit(R) &&
               (R >= 0x80 || l == i)) {
        v[i] = 0xFF1A;
        st->punct_fixed++;
    }
}

/* "8。5%" -> "8.5%", "2!00" -> "2:00", ASCII ",?:;!" next to hanzi ->
 * full-width.  Works in place, left to right; counts into
 * st->punct_fixed.  `trig`, when not NULL, lists the triggers
 * (punct_trigger) in order as cpvec_append found them, index and byte
 * offset: only those are visited. */
static void fix_punct(cpvec *line, const cpvec *trig, cl_stats *st)
{
    if (trig) {
        for (size_t k = 0; k + 1 < trig->n; k += 2)
            if (line->v[trig->v[k]] != ' ')
                punct_at(line->v, line->n, trig->v[k], st);
        return;
    }
    for (size_t i = 0; i < line->n; i++)
        if ((line->v[i] <= '?' || line->v[i] == 0x3002) &&
            punct_trigger(line->v[i]))
            punct_at(line->v, line->n, i, st);
}

/* Collapses spaces, trims, and drops spaces that touch CJK punctuation. */
static void fix_spaces(cpvec *line)
{
    uint32_t *v = line->v;
    size_t w = 0;
    for (size_t i = 0; i < line->n; i++) {
        uint32_t c = v[i];
        if (c == ' ') {
            size_t j = i;
            while (j + 1 < line->n && v[j + 1] == ' ')
                j++;
            if (w > 0 && j + 1 < line->n && !cl_is_cjk_punct(v[w - 1]) &&
                !cl_is_cjk_punct(v[j + 1]))
                v[w++] = ' ';
            i = j;
            continue;
        }
        v[w++] = c;
    }
    line->n = w;
}

/* ---- per line: fate ------------------------------------------------------------ */

/* Appends the line as UTF-8.  Room for four bytes a character is made
 * first, so ASCII and three-byte characters are written without checks;
 * the rest (two- and four-byte ones, U+FFFF) go through cl_buf_put_cp. */
static void encode_line(const cpvec *line, cl_buf *out)
{
    unsigned char *p;
    size_t len;
    if (cl_buf_reserve(out, 4 * line->n) < 0)
        return;
    p = (unsigned char *)out->p; /* locals: byte stores may alias *out */
    len = out->len;
    for (size_t i = 0; i < line->n; i++) {
        uint32_t cp = line->v[i];
        if (cp < 0x80) {
            p[len++] = (unsigned char)cp;
        } else if (cp >= 0x800 && cp < 0xFFFF) {
            p[len] = (unsigned char)(0xE0 | (cp >> 12));
            p[len + 1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            p[len + 2] = (unsigned char)(0x80 | (cp & 0x3F));
            len += 3;
        } else {
            out->len = len;
            out->p[len] = 0;
            cl_buf_put_cp(out, cp); /* within the room made above */
            len = out->len;
            p = (unsigned char *)out->p;
        }
    }
    out->len = len;
    out->p[len] = 0;
}

/* Index just after the last sentence end (。！？!?) before `end` in s, 0 if
 * none. */
static size_t last_sentence_start(const char *s, size_t end)
{
    size_t i = end;
    /* skip the sentence's own final punctuation */
    while (i > 0) {
        size_t k = cl_utf8_prev(s, i);
        uint32_t cp;
        cl_utf8_next(s + i - k, k, &cp);
        if (cp != 0x3002 && cp != 0xFF01 && cp != 0xFF1F && cp != '!' &&
            cp != '?' && cp != 0x201D && cp != 0x300D)
            break;
        i -= k;
    }
    /* the last 。！？ before it, found by its bytes (the line is valid
     * UTF-8: a lead byte E3/EF is never inside another character) */
    for (const unsigned char *u = (const unsigned char *)s; i >= 3; i--) {
        const unsigned char *p = u + i - 3;
        if ((p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x82) ||
            (p[0] == 0xEF && p[1] == 0xBC && (p[2] == 0x81 || p[2] == 0x9F)))
            return i;
    }
    return 0;
}

/* Drops trailing notice sentences from a long paragraph ("...。本文为...发
 * 布。申请...号请用电脑访问。").  Returns how many went. */
static long strip_tail_notices(cl_rules *r, cl_buf *lb)
{
    long dropped = 0;
    while (lb->len > 0) {
        size_t st = last_sentence_start(lb->p, lb->len);
        if (st == 0)
            break;
        if (!rx_test(r, r->notice, lb->p + st, lb->len - st) &&
            !rx_test(r, r->extra, lb->p + st, lb->len - st))
            break;
        lb->len = st;
        lb->p[st] = 0;
        dropped++;
    }
    return dropped;
}

/* A byline with nothing after its label ("- 来源:") is noise. */
static int byline_is_empty(const char *s, size_t n)
{
    size_t i = n;
    while (i > 0 && (s[i - 1] == ' '))
        i--;
    if (i == 0)
        return 1;
    if (s[i - 1] == ':' || s[i - 1] == '|')
        return 1;
    return i >= 3 && (!memcmp(s + i - 3, "：", 3) || !memcmp(s + i - 3, "｜", 3));
}

typedef struct line_ctx {
    cl_rules *r;
    const cl_text_opts *o;
    cl_buf *out;
    cJSON *byline;
    cl_stats *st;
    size_t (*seen)[2]; /* kept lines, for duplicates: offset in out, length */
    size_t nseen, capseen;
    int closed;   /* a closing notice was met */
    unsigned char *marks; /* fix_mojibake's scratch, one per code point */
    size_t capmarks;
} line_ctx;

/* Has the line s[0..n) been kept before?  The kept lines are in c->out
 * (unless it ran out of memory: then the text is lost anyway). */
static int seen_before(const line_ctx *c, const char *s, size_t n)
{
    for (size_t i = 0; i < c->nseen && !c->out->oom; i++)
        if (c->seen[i][1] == n && !memcmp(c->out->p + c->seen[i][0], s, n))
            return 1;
    return 0;
}

/* Remembers the line kept at c->out->p[off..off+n). */
static void remember(line_ctx *c, size_t off, size_t n)
{
    if (c->nseen == c->capseen) {
        size_t cap = c->capseen ? c->capseen * 2 : 32;
        size_t(*grown)[2] = realloc(c->seen, cap * sizeof *grown);
        if (!grown)
            return; /* a later copy of it is kept too */
        c->seen = grown;
        c->capseen = cap;
    }
    c->seen[c->nseen][0] = off;
    c->seen[c->nseen][1] = n;
    c->nseen++;
}

/* Decides what becomes of one repaired line (UTF-8 in lb) and appends it to
 * the output when it stays.  `pos` is its offset in the document. */
static void line_fate(line_ctx *c, cl_buf *lb, size_t pos, size_t total)
{
    size_t cps = cl_utf8_count(lb->p, lb->len);
    cl_rules *r = c->r;
    if (lb->len == 0)
        return;
    if (!c->closed && cps <= 40 && pos * 2 >= total &&
        rx_test(r, r->closing, lb->p, lb->len)) {
        c->closed = 1;
        c->st->boilerplate_removed++;
        return;
    }
    if (cps <= 80 && rx_test(r, r->byline, lb->p, lb->len)) {
        if (byline_is_empty(lb->p, lb->len)) {
            c->st->boilerplate_removed++;
        } else {
            c->st->bylines++;
            if (c->byline)
                cJSON_AddItemToArray(c->byline, cJSON_CreateString(lb->p));
        }
        return;
    }
    if (c->closed) { /* the closing notice took the rest (bylines aside) */
        c->st->boilerplate_removed++;
        return;
    }
    if ((cps <= 150 && rx_test(r, r->notice, lb->p, lb->len)) ||
        (cps <= 80 && rx_test(r, r->notice_any, lb->p, lb->len)) ||
        (cps <= 150 && rx_test(r, r->extra, lb->p, lb->len))) {
        c->st->boilerplate_removed++;
        return;
    }
    if (cps > 150)
        c->st->boilerplate_removed += strip_tail_notices(r, lb);
    if (c->o->min_paragraph && cps < c->o->min_paragraph)
        return;
    if (cps >= 6 && seen_before(c, lb->p, lb->len)) {
        c->st->duplicates++;
        return;
    }
    if (c->out->len)
        cl_buf_putc(c->out, '\n');
    if (cps >= 6 && !c->out->oom)
        remember(c, c->out->len, lb->len);
    cl_buf_put(c->out, lb->p, lb->len);
    c->st->paragraphs++;
}

/* Makes a scratch buffer empty for the next text (a failed one anew). */
static void scratch_reset(cl_buf *b)
{
    if (b->oom)
        cl_buf_free(b);
    b->len = 0;
    if (b->p)
        b->p[0] = 0;
}

/* Lets a scratch buffer go when a large text made it large. */
static void scratch_trim(cl_buf *b)
{
    if (b->cap > (4u << 20))
        cl_buf_free(b);
}

/* Grows c->marks to hold n marks; -1 when out of memory. */
static int marks_reserve(line_ctx *c, size_t n)
{
    unsigned char *m;
    if (n <= c->capmarks)
        return 0;
    if (!(m = realloc(c->marks, n)))
        return -1;
    c->marks = m;
    c->capmarks = n;
    return 0;
}

/* Steps 4-6 for each of the nl lines of s that doc_load decoded. */
static int clean_lines(line_ctx *c, const doc_info *d, const char *s, size_t nl)
{
    cpvec line = c->r->line; /* given back at the end */
    cl_buf lb = c->r->lb;
    int rc = 0;
    scratch_reset(&lb);
    for (size_t j = 0; j < nl; j++) {
        const line_rec *lr = &c->r->recs[j];
        size_t i = lr->b0, e = lr->b1, marked;
        int seen = lr->seen;
        cpvec trig = {lr->nt ? c->r->alltrig.v + lr->t0 : NULL, lr->nt, lr->nt};
        /* the line's code points as doc_load left them, changed in place
         * (each line is worked on once); a mojibake repair works on a copy
         * in `line`, which it may grow */
        cpvec own = {c->r->all.v + lr->v0, lr->nv, lr->nv}, *lp = &own;
        if (marks_reserve(c, lr->nv + 1) < 0) {
            rc = TJ_ENOMEM;
            break;
        }
        marked = may_mark(seen, d) ? mark_line(own.v, own.n, d, c->marks) : 0;
        lb.len = 0;
        if (!marked && (seen & CP_SAME)) {
            /* at most punctuation and spaces: the bytes stay, patched */
            if (seen & (CP_PUNCT | CP_SPACE)) {
                fix_punct(&own, &trig, c->st);
                patch_line(&own, &trig, s + i, e - i, &lb);
            } else {
                cl_buf_put(&lb, s + i, e - i);
            }
        } else {
            /* metadata lines keep their names as written (no mojibake
             * pass); a line without marks has nothing for it anyway */
            if (marked &&
                !(e - i <= 240 && rx_test(c->r, c->r->byline, s + i, e - i))) {
                line.n = 0;
                if (cpvec_put(&line, own.v, own.n) < 0) {
                    rc = TJ_ENOMEM;
                    break;
                }
                lp = &line;
                if (fix_mojibake(c->r, c->o, lp, c->marks, c->st) < 0)
                    continue;
            }
            /* the repaired spans may bring punctuation and spaces */
            if (marked || (seen & CP_PUNCT))
                fix_punct(lp, marked ? NULL : &trig, c->st);
            if (marked || (seen & CP_SPACE))
                fix_spaces(lp);
            for (size_t k = 0; marked && c->o->moji == CL_MOJI_NONE &&
                               k < lp->n; k++) /* put_lost's marks */
                if (lp->v[k] == LOST_MARK)
                    lp->v[k] = '?';
            encode_line(lp, &lb);
        }
        if (lb.oom) {
            rc = TJ_ENOMEM;
            break;
        }
        line_fate(c, &lb, i, d->total);
    }
    c->r->line = line;
    c->r->lb = lb;
    scratch_trim(&c->r->lb);
    return rc;
}

/* ---- the whole ------------------------------------------------------------------ */

/* Runs rx_replace of `re` from *cur into *tmp and makes *tmp the current
 * text when something matched (an unmatched text stays where it is).
 * `needle`: a string every match holds, or NULL; when the text holds none
 * the regex is not run.  Returns the number of matches. */
static long rx_step(cl_rules *r, pcre2_code *re, const char *needle,
                    cl_buf **cur, cl_buf **tmp, repl_fn fn)
{
    cl_buf *t;
    long k;
    const char *s = (*cur)->p ? (*cur)->p : "";
    if (needle && !memmem(s, (*cur)->len, needle, strlen(needle)))
        return 0;
    (*tmp)->len = 0;
    k = rx_replace(r, re, s, (*cur)->len, *tmp, fn, re == r->remnant);
    if (k > 0) {
        t = *cur;
        *cur = *tmp;
        *tmp = t;
    }
    return k;
}

/* Copies s[0..n) to out with every pinyin annotation (after hanzi, or
 * anywhere when `any`) replaced by fn's output (nothing when fn is NULL).
 * Returns the number of annotations. */
static long pin_replace(cl_rules *r, int any, const char *s, size_t n,
                        cl_buf *out, repl_fn fn)
{
    pin_cursor c;
    size_t start = 0, ms, me;
    long count = 0;
    pin_init(&c, s, n, any);
    while (pin_match(r, &c, start, any, &ms, &me)) {
        PCRE2_SIZE ov[2] = {ms, me};
        cl_buf_put(out, s + start, ms - start);
        count++;
        if (fn)
            fn(s, ov, 1, out);
        start = me;
    }
    if (start < n)
        cl_buf_put(out, s + start, n - start);
    return count;
}

/* Step 3 on *cur: pinyin annotations after hanzi, or after anything once
 * the document holds three or more.  Every match ends in ')' or '）'.
 * The text with them removed becomes *cur when there were some. */
static long strip_pinyin(cl_rules *r, cl_buf **cur, cl_buf **tmp)
{
    const char *s = (*cur)->p ? (*cur)->p : "";
    size_t n = (*cur)->len;
    int any;
    long k;
    cl_buf *t;
    if (!memchr(s, ')', n) && !memmem(s, n, "）", strlen("）")))
        return 0;
    k = count_pinyin_upto(r, s, n, 0, 3);
    if (k == 0) /* none after hanzi, and fewer than three: none to strip */
        return 0;
    any = k >= 3;
    (*tmp)->len = 0;
    k = pin_replace(r, any, s, n, *tmp, any ? repl_pinyin : NULL);
    if (k > 0) {
        t = *cur;
        *cur = *tmp;
        *tmp = t;
    }
    return k;
}

int cl_clean_text(cl_rules *r, const cl_text_opts *o, const char *in,
                  size_t n, cl_buf *out, cJSON *byline, cl_stats *st)
{
    cl_buf *cur = &r->a, *tmp = &r->b;
    line_ctx c = {.r = r, .o = o, .out = out, .byline = byline, .st = st,
                  .marks = r->marks, .capmarks = r->capmarks};
    doc_info d;
    int rc = TJ_ENOMEM;
    size_t k[SV_N] = {0};
    long nk, nl;
    scratch_reset(cur);
    scratch_reset(tmp);
    cl_buf_reserve(cur, n); /* the text rarely grows: no realloc chain */
    cl_buf_reserve(tmp, n);
    cl_buf_reserve(out, n);
    st->chars_in += (long)cl_utf8_count(in, n);
    normalize_chars(in, n, cur, st, 1);                    /* 1 */
    if (cur->oom)
        goto done;
    /* without '&' the text has no entity: no copy into tmp to throw away */
    nk = cur->len && memchr(cur->p, '&', cur->len)
             ? decode_entities(cur->p, cur->len, tmp)
             : 0;
    st->entities_decoded += nk;
    st->tags_removed += nk;
    if (nk > 0) { /* "&amp;nbsp;" needs a second round */
        cur->len = 0;
        st->tags_removed += decode_entities(tmp->p, tmp->len, cur);
    } else {
        tmp->len = 0;
    }                                                      /* 2 */
    st->tags_removed += rx_step(r, r->tag, "<", &cur, &tmp, repl_tag);
    st->tags_removed += rx_step(r, r->remnant, ">", &cur, &tmp, repl_remnant);
    st->pinyin_removed += strip_pinyin(r, &cur, &tmp);     /* 3 */
    if (cur->oom || tmp->oom)
        goto done;
    if ((nl = doc_load(r, cur->p ? cur->p : "", cur->len, &d, k)) < 0)
        goto done;
    rc = clean_lines(&c, &d, cur->p ? cur->p : "", (size_t)nl); /* 4-6 */
    if (out->oom)
        rc = TJ_ENOMEM;
    st->chars_out += (long)cl_utf8_count(out->p ? out->p : "", out->len);
done:
    free(c.seen);
    r->marks = c.marks;
    r->capmarks = c.capmarks;
    scratch_trim(&r->a);
    scratch_trim(&r->b);
    if (r->all.cap > (1u << 20)) { /* a large text: let its code points go */
        free(r->all.v);
        r->all = (cpvec){0};
    }
    return rc;
}
