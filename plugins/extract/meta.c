/*
 * meta.c - title, author, editor, source and published_at of an article.
 *
 * Inputs are the clean body (one paragraph per line) and clean's page hints
 * (see the common record conventions): <title>, h1/h2, meta tags, JSON-LD,
 * <time> values, the short blocks just before the content ("before"), the
 * metadata lines clean moved out of the body ("byline").  Each field takes
 * the first candidate that passes its checks, in a fixed order of trust
 * documented in README.md; a field stays unknown rather than guessed.
 */
#include "entities.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CP 400 /* characters of <title>/h1 compared by the LCS rule */

/* ---- page access ---------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* A name from a JSON-LD value: a string, {"name": ...} or the first of an
 * array; `is_org` is set for an Organization. */
static const char *jname(const cJSON *v, int *is_org)
{
    if (cJSON_IsArray(v))
        v = cJSON_GetArrayItem(v, 0);
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsObject(v)) {
        const char *type = jstr(v, "@type");
        if (is_org && type && strcmp(type, "Person") != 0)
            *is_org = 1;
        return jstr(v, "name");
    }
    return NULL;
}

/* Looks a meta tag up by name, ignoring case and surrounding blanks. */
static const char *meta_get(const cJSON *page, const char *name)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(page, "meta");
    const cJSON *it;
    size_t nl = strlen(name);
    cJSON_ArrayForEach(it, meta)
    {
        if (!cJSON_IsString(it) || !it->string)
            continue;
        size_t kl = strlen(it->string);
        const char *k = ext_trim(it->string, &kl);
        if (kl == nl && strncasecmp(k, name, nl) == 0 && it->valuestring[0])
            return it->valuestring;
    }
    return NULL;
}

/* ---- small text helpers ------------------------------------------------ */

typedef struct span {
    const char *s;
    size_t n;
} span;

static size_t to_cps(const char *s, size_t n, uint32_t *cp, size_t *off,
                     size_t max)
{
    size_t k = 0, l;
    for (size_t i = 0; i < n && k < max; i += l) {
        off[k] = i;
        cp[k++] = ext_utf8_next(s + i, n - i, &l);
    }
    off[k] = k < max ? n : off[k];
    return k;
}

/* Non-zero when none of the k characters decoded by to_cps was an
 * undecodable byte (U+FFFD read from a single byte). */
static int whole_chars(const uint32_t *cp, const size_t *off, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (cp[i] == 0xFFFD && off[i + 1] - off[i] == 1)
            return 0;
    return 1;
}

/* Longest common substring of a and b in characters (GNE's title rule);
 * returns its length and its span in a. */
static size_t lcs(const char *a, size_t an, const char *b, size_t bn,
                  span *out)
{
    static __thread uint32_t ca[MAX_CP], cb[MAX_CP];
    static __thread size_t oa[MAX_CP + 1], ob[MAX_CP + 1];
    static __thread uint16_t row[2][MAX_CP + 1];
    size_t na = to_cps(a, an, ca, oa, MAX_CP);
    size_t nb = to_cps(b, bn, cb, ob, MAX_CP);
    size_t best = 0, end = 0;
    /* b inside a (the usual <title> = h1 + site): the answer is b, at its
     * first place in a, when both are read whole and decode cleanly (so
     * equal characters are equal bytes) */
    const char *at;
    if (nb && nb <= na && na < MAX_CP && whole_chars(ca, oa, na) &&
        whole_chars(cb, ob, nb) && (at = memmem(a, an, b, bn))) {
        out->s = at;
        out->n = bn;
        return nb;
    }
    memset(row, 0, sizeof row);
    for (size_t i = 1; i <= na; i++) {
        uint16_t *cur = row[i & 1], *prev = row[(i - 1) & 1];
        cur[0] = 0;
        for (size_t j = 1; j <= nb; j++) {
            cur[j] = ca[i - 1] == cb[j - 1] ? (uint16_t)(prev[j - 1] + 1) : 0;
            if (cur[j] > best)
                best = cur[j], end = i;
        }
    }
    if (best) {
        out->s = a + oa[end - best];
        out->n = oa[end] - oa[end - best];
    }
    return best;
}

static int is_sep_at(const char *s, size_t n, size_t *len)
{
    static const char *seps[] = {"_", "|", "｜", " - ", " — ", " – ", "——",
                                 " :: ", NULL};
    switch ((unsigned char)s[0]) { /* the separators' first bytes */
    case '_': case '|': case ' ': case 0xEF: case 0xE2:
        break;
    default:
        return 0;
    }
    for (size_t k = 0; seps[k]; k++)
        if (ext_starts_tab(s, n, seps[k])) {
            *len = strlen(seps[k]);
            return 1;
        }
    return 0;
}

/* Splits a <title> on site separators; returns the number of segments
 * (at most max) and the index of the longest in *primary. */
static size_t title_segments(const char *t, size_t n, span *seg, size_t max,
                             size_t *primary)
{
    size_t k = 0, start = 0, l;
    for (size_t i = 0; i <= n;) {
        if (i == n || is_sep_at(t + i, n - i, &l)) {
            size_t len = i - start;
            const char *s = ext_trim(t + start, &len);
            if (len && k < max)
                seg[k++] = (span){s, len};
            if (i == n)
                break;
            i += l;
            start = i;
            continue;
        }
        i++;
    }
    /* "标题-站名": a bare dash splits off a short last part when nothing
     * else did */
    if (k == 1) {
        const char *d = NULL;
        for (size_t i = 0; i + 1 < seg[0].n; i++)
            if (seg[0].s[i] == '-')
                d = seg[0].s + i;
        size_t tail = d ? seg[0].n - (size_t)(d + 1 - seg[0].s) : 0;
        if (d && d > seg[0].s && tail && ext_utf8_count(d + 1, tail) <= 16 &&
            ext_utf8_count(seg[0].s, (size_t)(d - seg[0].s)) >= 6 && max > 1) {
            seg[1] = (span){d + 1, tail};
            seg[0].n = (size_t)(d - seg[0].s);
            k = 2;
        }
    }
    *primary = 0;
    for (size_t i = 1; i < k; i++)
        if (ext_utf8_count(seg[i].s, seg[i].n) >
            ext_utf8_count(seg[*primary].s, seg[*primary].n))
            *primary = i;
    return k;
}

static int inside(span in, span part)
{
    return part.s >= in.s && part.s + part.n <= in.s + in.n;
}

/* ---- title ---------------------------------------------------------------- */

void ext_title_strip_tickers(char *t)
{
    size_t n = strlen(t);
    /* trailing (nvda.us) / （NVDA.US） */
    size_t e = n;
    while (e && t[e - 1] == ' ')
        e--;
    size_t close = 0;
    if (e >= 1 && t[e - 1] == ')')
        close = 1;
    else if (e >= 3 && !memcmp(t + e - 3, "）", 3))
        close = 3;
    if (close) {
        size_t j = e - close, k = j;
        while (k && (isalnum((unsigned char)t[k - 1]) || t[k - 1] == '.'))
            k--;
        size_t open = k >= 1 && t[k - 1] == '(' ? 1
                      : k >= 3 && !memcmp(t + k - 3, "（", 3) ? 3 : 0;
        const char *dot = memchr(t + k, '.', j - k);
        if (open && dot && j - k <= 10 && dot > t + k && j - (size_t)(dot - t) == 3) {
            size_t s = k - open;
            while (s && t[s - 1] == ' ')
                s--;
            t[s] = '\0';
            n = s;
        }
    }
    /* leading NVDA.US */
    size_t i = 0;
    while (i < n && i < 8 && isalnum((unsigned char)t[i]))
        i++;
    if (i && i + 3 < n && t[i] == '.' && isalpha((unsigned char)t[i + 1]) &&
        isalpha((unsigned char)t[i + 2]) && t[i + 3] == ' ') {
        size_t s = i + 3;
        while (s < n && t[s] == ' ')
            s++;
        memmove(t, t + s, n - s + 1);
    }
}

static const char *const byline_words[] = {
    "作者", "来源", "來源", "编辑", "編輯", "撰文", "记者", "記者", "文/",
    "文／", "发布时间", "發布時間", "發佈時間", "责任编辑", "責任編輯", NULL};

static int has_byline_word(const char *s, size_t n)
{
    static ext_words ws = {byline_words, {0}, 0};
    return ext_words_in(&ws, s, n);
}

/* The first body line when it reads like a title: 4..80 characters, no
 * sentence-ending 。 and no trailing comma or colon, not a byline. */
static char *title_from_text(const char *body, size_t n)
{
    int seen = 0;
    for (size_t i = 0; i < n && seen < 3;) {
        const char *nl = memchr(body + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - body - i) : n - i;
        const char *line = ext_trim(body + i, &len);
        i += (nl ? (size_t)(nl - body - i) + 1 : n - i);
        if (!len)
            continue;
        seen++;
        if (has_byline_word(line, len))
            continue;
        size_t cps = ext_utf8_count_max(line, len, 81);
        if (cps < 4 || cps > 80 || memmem(line, len, "。", 3))
            return NULL;
        static const char *bad_end[] = {"，", "：", "；", ",", ":", ";", "、",
                                        NULL};
        for (size_t k = 0; bad_end[k]; k++) {
            size_t bl = strlen(bad_end[k]);
            if (len >= bl && !memcmp(line + len - bl, bad_end[k], bl))
                return NULL;
        }
        return ext_clean_dup(line, len);
    }
    return NULL;
}

/* Title from the page hints, or NULL; fills the site segments of <title>
 * (every segment but the article's) into site[] / *nsite. */
static char *title_from_page(const cJSON *page, span *site, size_t *nsite)
{
    const char *t = page ? jstr(page, "title") : NULL;
    size_t tn = t ? strlen(t) : 0, primary = 0, nseg = 0;
    span seg[16], best = {0};
    size_t bestlen = 0;
    *nsite = 0;
    if (t) {
        t = ext_trim(t, &tn);
        nseg = title_segments(t, tn, seg, 16, &primary);
        for (size_t i = 0; i < nseg; i++)
            if (i != primary)
                site[(*nsite)++] = seg[i];
    }
    static const char *heads[] = {"h1", "h2"};
    for (size_t h = 0; t && h < 2; h++) {
        const cJSON *it, *list = cJSON_GetObjectItemCaseSensitive(page, heads[h]);
        cJSON_ArrayForEach(it, list)
        {
            span m;
            if (!cJSON_IsString(it))
                continue;
            size_t l = lcs(t, tn, it->valuestring, strlen(it->valuestring), &m);
            /* a common part lying in a site segment only is the logo */
            if (l > 4 && l > bestlen) {
                int in_site = 0;
                for (size_t i = 0; i < nseg && nseg > 1; i++)
                    if (i != primary && inside(seg[i], m))
                        in_site = 1;
                if (!in_site)
                    best = m, bestlen = l;
            }
        }
    }
    if (bestlen)
        return ext_clean_dup(best.s, best.n);
    const char *alt = page ? meta_get(page, "og:title") : NULL;
    if (!alt && page)
        alt = jstr(cJSON_GetObjectItemCaseSensitive(page, "jsonld"), "headline");
    if (!alt && page)
        alt = meta_get(page, "twitter:title");
    if (alt)
        return ext_clean_dup(alt, strlen(alt));
    if (nseg)
        return ext_clean_dup(seg[primary].s, seg[primary].n);
    const cJSON *h1 = page ? cJSON_GetObjectItemCaseSensitive(page, "h1") : NULL;
    const cJSON *first = cJSON_GetArrayItem(h1, 0);
    if (cJSON_IsString(first) && first->valuestring[0])
        return ext_clean_dup(first->valuestring, strlen(first->valuestring));
    return NULL;
}

/* ---- names ---------------------------------------------------------------- */

static const char *const stop_names[] = {
    "搜索", "未知", "佚名", "匿名", "admin", "Admin", "管理员", "小编",
    "本站", "网友", "網友", "编辑", "編輯", "责任编辑", "責任編輯", "来源",
    "來源", "作者", "首页", "首頁", "登录", "登錄", "注册", "註冊", "分享",
    "评论", "評論", "更多", "返回", "原创", "原創", "转载", "轉載", "网络",
    "網絡", "互联网", "客户端", "新闻", "新聞", "频道", "頻道", "专题",
    "推荐", "热门", "熱門", "相关", "收藏", "打印", "关闭", "字号", "字號",
    "举报", "unknown", "Unknown", "name", "null", "None", "本报", "本報",
    "综合", "綜合", "整理", "供稿", "投稿", "网易", "新浪", "腾讯", "搜狐",
    "凤凰网", "今日头条", "头条", "报道", "報導", "摄影", "攝影",
    "通讯员", "通訊員", "实习生", "實習生", NULL};

/* Characters that make a free-text "name" a phrase (记者了解到, 记者获悉). */
static const char *const not_name_chars[] = {
    "了", "到", "悉", "从", "從", "在", "对", "對", "说", "說", "问", "問",
    "的", "是", "与", "與", "将", "將", "已", "称", "稱", "表", "示", "发现",
    "發現", "采访", "採訪", "看", "据", "據", "等", "介绍", "介紹", "获",
    "獲", "透露", NULL};

static const char *const site_suffixes[] = {
    "网", "網", "报", "報", "社", "台", "新闻", "新聞", "媒体", "媒體",
    "频道", "頻道", "官网", "官網", "客户端", "杂志", "雜誌", "财经",
    "財經", "专栏", "專欄", ".com", ".cn", ".net", NULL};

/* Words that make a name an outlet's desk, not a person. */
static const char *const site_words[] = {"综合", "綜合", "自媒体", "自媒體",
                                         NULL};

static int ends_with(const char *s, size_t n, const char *suf)
{
    size_t l = strlen(suf);
    return n >= l && !memcmp(s + n - l, suf, l);
}

static int is_stop_name(const char *s, size_t n)
{
    for (size_t k = 0; n && stop_names[k]; k++)
        if (stop_names[k][0] == s[0] && strlen(stop_names[k]) == n &&
            !memcmp(s, stop_names[k], n))
            return 1;
    return 0;
}

static int looks_like_site(const char *s, size_t n)
{
    for (size_t k = 0; site_suffixes[k]; k++)
        if (ends_with(s, n, site_suffixes[k]))
            return 1;
    for (size_t k = 0; site_words[k]; k++)
        if (memmem(s, n, site_words[k], strlen(site_words[k])))
            return 1;
    return memchr(s, '@', n) || memmem(s, n, "http", 4) || memmem(s, n, "www.", 4);
}

typedef struct sites {
    span seg[16];
    size_t n;
} sites;

/* Non-zero when name equals or is part of a known site name. */
static int is_site_name(const sites *st, const char *s, size_t n)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->seg[i].n >= n && memmem(st->seg[i].s, st->seg[i].n, s, n))
            return 1;
    return 0;
}

/* Checks and trims one candidate person name (author or editor) in place
 * of [*s, *n); returns non-zero when it is acceptable.  `strict` (names
 * from free text) limits Han-only names to 2..8 characters. */
static int person_ok(const char **s, size_t *n, const sites *st, int strict)
{
    const char *p = ext_trim(*s, n);
    size_t len = *n;
    /* 杨倩_NF5619: a staff code after the name */
    const char *us = memchr(p, '_', len);
    if (us && us > p) {
        int code = 1;
        for (const char *q = us + 1; q < p + len; q++)
            code &= isalnum((unsigned char)*q) != 0;
        if (code)
            len = (size_t)(us - p);
    }
    static const char *tails[] = {"报道", "報導", "報道", "摄", "攝", "撰稿",
                                  NULL};
    for (size_t k = 0; tails[k]; k++)
        if (ends_with(p, len, tails[k]) && len > strlen(tails[k]))
            len -= strlen(tails[k]);
    p = ext_trim(p, &len);
    size_t cps = ext_utf8_count(p, len);
    if (cps < 2 || cps > 40 || is_stop_name(p, len) || looks_like_site(p, len) ||
        is_site_name(st, p, len))
        return 0;
    size_t han = 0, l;
    for (size_t i = 0; i < len; i += l) {
        uint32_t c = ext_utf8_next(p + i, len - i, &l);
        if (c >= '0' && c <= '9')
            return 0; /* person names carry no digits (利来w66) */
        han += ext_is_han(c);
    }
    if (strict && han == cps && cps > 8)
        return 0;
    static ext_words phrase = {not_name_chars, {0}, 0};
    if (strict && han == cps && ext_words_in(&phrase, p, len))
        return 0;
    *s = p, *n = len;
    return 1;
}

/* ---- bylines ------------------------------------------------------------- */

typedef struct byline {
    ext_buf authors; /* ", "-separated */
    char *editor, *source;
    ext_dt date;
    int has_date;
} byline;

static const char *const stop_words[] = {
    "来源", "來源", "作者", "编辑", "編輯", "责任编辑", "責任編輯", "责编",
    "責編", "时间", "時間", "发布", "發布", "發佈", "日期", "记者", "記者",
    "摄影", "攝影", "校对", "校對", "审核", "審核", "出品", "原标题",
    "原標題", "撰文", "阅读", "閱讀", "字号", "字號", "分享", "评论",
    "評論", NULL};

/* Length of the value after a marker: up to a delimiter, a digit or the
 * next marker word. */
static size_t value_len(const char *s, size_t n, int stop_at_blank)
{
    size_t i = 0, l;
    static const char *const delims[] = {")", "）", "]", "】", "|", "｜",
                                         "丨", ",", "，", ";", "；", "。",
                                         "(", "（", "[", "【", "/", NULL};
    static ext_words delim_ws = {delims, {0}, 0}, stop_ws = {stop_words, {0}, 0};
    int glued = 0; /* the previous character belongs to a name */
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        /* a digit after a blank starts a date; glued to a name (利来w66)
         * it stays, and the name check refuses it */
        if ((c >= '0' && c <= '9' && !glued) || c == '\n')
            break;
        if (ext_is_space(s + i, n - i, &l)) {
            if (stop_at_blank)
                break;
            glued = 0;
            i += l;
            continue;
        }
        glued = 1;
        uint32_t cp = ext_utf8_next(s + i, n - i, &l);
        if (ext_words_at(&delim_ws, s + i, n - i, cp) ||
            (i > 0 && ext_words_at(&stop_ws, s + i, n - i, cp)))
            break;
        i += l;
    }
    return i;
}

static size_t skip_colon(const char *s, size_t n, int allow_bare)
{
    static const char *cols[] = {"：", ":", "|", "｜", "丨", "/", "／", NULL};
    size_t i = 0, l;
    while (i < n && ext_is_space(s + i, n - i, &l))
        i += l;
    for (size_t k = 0; cols[k]; k++)
        if (ext_starts_tab(s + i, n - i, cols[k])) {
            i += strlen(cols[k]);
            while (i < n && ext_is_space(s + i, n - i, &l))
                i += l;
            return i;
        }
    return allow_bare && i > 0 ? i : allow_bare == 2 ? i : (size_t)-1;
}

/* Adds the names of a value (split on blanks, 、 and ，) to b->authors. */
static void add_names(byline *b, const char *s, size_t n, const sites *st)
{
    size_t i = 0, l;
    while (i < n) {
        size_t st_i = i;
        while (i < n && !ext_is_space(s + i, n - i, &l) &&
               !ext_starts(s + i, n - i, "、") && !ext_starts(s + i, n - i, "，")) {
            ext_utf8_next(s + i, n - i, &l);
            i += l;
        }
        const char *name = s + st_i;
        size_t nl = i - st_i;
        /* Latin names keep their blanks: Paul Singer */
        if (nl && isalpha((unsigned char)name[0]))
            while (i + 1 < n && s[i] == ' ' && isupper((unsigned char)s[i + 1])) {
                i++;
                while (i < n && isalpha((unsigned char)s[i]))
                    i++;
                nl = i - st_i;
            }
        if (nl && person_ok(&name, &nl, st, 1)) {
            if (b->authors.len)
                ext_buf_puts(&b->authors, ", ");
            ext_buf_add(&b->authors, name, nl);
        }
        while (i < n && (ext_is_space(s + i, n - i, &l) ||
                         ext_starts(s + i, n - i, "、") ||
                         ext_starts(s + i, n - i, "，")))
            i += ext_is_space(s + i, n - i, &l) ? l : 3;
    }
}

typedef enum { M_AUTHOR, M_REPORTER, M_WEN, M_EDITOR, M_SOURCE } mkind;

static const struct { const char *w; mkind k; } markers[] = {
    {"责任编辑", M_EDITOR}, {"責任編輯", M_EDITOR}, {"责编", M_EDITOR},
    {"責編", M_EDITOR}, {"编辑", M_EDITOR}, {"編輯", M_EDITOR},
    {"作者", M_AUTHOR}, {"撰文", M_AUTHOR}, {"撰稿", M_AUTHOR},
    {"记者", M_REPORTER}, {"記者", M_REPORTER}, {"文", M_WEN},
    {"来源", M_SOURCE}, {"來源", M_SOURCE}, {"出处", M_SOURCE},
    {"出處", M_SOURCE}};

/* Parses one metadata line: names after 作者/撰文/文//记者, the editor, the
 * source and the first date. */
static void parse_byline(const char *s, size_t n, const sites *st,
                         const ext_dref *ref, byline *b)
{
    size_t l;
    uint32_t prev = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cur = ext_utf8_next(s + i, n - i, &l);
        switch (cur) { /* the markers' first characters */
        case 0x8D23: case 0x8CAC: case 0x7F16: case 0x7DE8: case 0x4F5C:
        case 0x64B0: case 0x8BB0: case 0x8A18: case 0x6587: case 0x6765:
        case 0x4F86: case 0x51FA: /* 责責编編作撰记記文来來出 */
            break;
        default:
            prev = cur;
            i += l;
            continue;
        }
        for (size_t k = 0; k < sizeof markers / sizeof markers[0]; k++) {
            if (!ext_starts_tab(s + i, n - i, markers[k].w))
                continue;
            size_t wl = strlen(markers[k].w);
            mkind kind = markers[k].k;
            /* 文/ only after a non-Han character (not 本文/...) */
            if (kind == M_WEN && ext_is_han(prev))
                break;
            size_t c = skip_colon(s + i + wl, n - i - wl,
                                  kind == M_REPORTER ? 2 : kind == M_WEN ? 0 : 1);
            if (c == (size_t)-1)
                break;
            const char *v = s + i + wl + c;
            size_t vl = value_len(v, n - i - wl - c, kind == M_SOURCE ||
                                                      kind == M_EDITOR);
            size_t tl = vl;
            const char *tv = ext_trim(v, &tl);
            if (kind == M_SOURCE) {
                if (!b->source && tl && !is_stop_name(tv, tl))
                    b->source = strndup(tv, tl);
            } else if (kind == M_EDITOR) {
                if (!b->editor && tl && person_ok(&tv, &tl, st, 1))
                    b->editor = strndup(tv, tl);
            } else if (tl) {
                add_names(b, tv, tl, st);
            }
            i += wl + c + vl;
            goto next;
        }
        prev = ext_utf8_next(s + i, n - i, &l);
        i += l;
    next:;
    }
    if (!b->has_date) {
        size_t ml;
        if (ext_date_find(s, n, ref, &b->date, &ml) >= 0)
            b->has_date = 1;
    }
}

static void byline_free(byline *b)
{
    ext_buf_free(&b->authors);
    free(b->editor);
    free(b->source);
}

/* ---- the article ----------------------------------------------------------- */

typedef struct lines {
    span *v;
    size_t n, cap;
} lines;

static void lines_add(lines *ls, const char *s, size_t n)
{
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 32;
        span *p = realloc(ls->v, cap * sizeof *p);
        if (!p)
            return;
        ls->v = p, ls->cap = cap;
    }
    ls->v[ls->n++] = (span){s, n};
}

static void add_json_lines(lines *ls, const cJSON *page, const char *key,
                           int reverse)
{
    const cJSON *arr = page ? cJSON_GetObjectItemCaseSensitive(page, key) : NULL;
    int count = cJSON_GetArraySize(arr);
    for (int k = 0; k < count; k++) {
        const cJSON *it = cJSON_GetArrayItem(arr, reverse ? count - 1 - k : k);
        if (cJSON_IsString(it))
            lines_add(ls, it->valuestring, strlen(it->valuestring));
    }
}

/* The first `head` and last `tail` short lines of the body. */
static void add_body_lines(lines *ls, const char *body, size_t n, size_t head,
                           size_t tail)
{
    size_t count = 0, total = 0;
    for (size_t i = 0; i < n && count < head;) {
        const char *nl = memchr(body + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - body) - i : n - i;
        if (len && ext_utf8_count_max(body + i, len, 81) <= 80)
            lines_add(ls, body + i, len);
        if (len)
            count++;
        i += len + 1;
    }
    for (size_t e = n; e > 0 && total < tail;) {
        const char *nl = e ? memrchr(body, '\n', e) : NULL;
        size_t st = nl ? (size_t)(nl - body) + 1 : 0;
        if (e > st && ext_utf8_count_max(body + st, e - st, 81) <= 80)
            lines_add(ls, body + st, e - st);
        if (e > st)
            total++;
        if (st == 0)
            break;
        e = st - 1;
    }
}

static const char *const date_meta[] = {
    "article:published_time", "og:article:published_time",
    "og:published_time", "published_time", "article:published",
    "datePublished", "pubdate", "publishdate", "publish_date", "publish-date",
    "PubDate", "og:time", "apub:time", "dc.date.issued", "dcterms.issued",
    "dc.date", "dcterms.created", "sailthru.date", "parsely-pub-date",
    "weibo: article:create_at", "date", NULL};

static const char *const date_words[] = {
    "发布", "發布", "發佈", "时间", "時間", "日期", "来源", "來源", "作者",
    "编辑", "編輯", "原创", "原創", "记者", "記者", "更新", NULL};

/* A line is a metadata line (its date may be the article's) when it is
 * short or names a byline keyword. */
static int meta_line(const char *s, size_t n)
{
    size_t cps = ext_utf8_count_max(s, n, 121);
    if (cps <= 40)
        return 1;
    if (cps > 120)
        return 0;
    static ext_words ws = {date_words, {0}, 0};
    return ext_words_in(&ws, s, n);
}

static int parse_iso_like(const char *s, const ext_dref *ref, ext_dt *dt)
{
    size_t n = strlen(s);
    s = ext_trim(s, &n);
    return n && ext_date_parse(s, n, ref, 1, dt) > 0;
}

/* Non-zero when the line is a date and nothing else. */
static int bare_date(const char *s, size_t n, const ext_dref *ref, ext_dt *dt)
{
    size_t ml;
    s = ext_trim(s, &n);
    return ext_date_find(s, n, ref, dt, &ml) == 0 && ml == n;
}

/* Several different bare dates in one group are a list of related items
 * (clean may file them as metadata lines), not the article's byline. */
static int bare_date_list(const lines *ls, const ext_dref *ref)
{
    ext_dt a, b;
    int seen = 0;
    for (size_t i = 0; i < ls->n; i++) {
        if (!bare_date(ls->v[i].s, ls->v[i].n, ref, &b))
            continue;
        if (seen && (a.y != b.y || a.mo != b.mo || a.d != b.d))
            return 1;
        a = b, seen = 1;
    }
    return 0;
}

static int lines_date(const lines *ls, const ext_dref *ref, ext_dt *dt)
{
    size_t ml;
    int skip_bare = bare_date_list(ls, ref);
    for (size_t i = 0; i < ls->n; i++) {
        if (!meta_line(ls->v[i].s, ls->v[i].n) ||
            (skip_bare && bare_date(ls->v[i].s, ls->v[i].n, ref, dt)))
            continue;
        if (ext_date_find(ls->v[i].s, ls->v[i].n, ref, dt, &ml) >= 0)
            return 1;
    }
    return 0;
}

/* Candidate k of published_at, most trusted first: meta tags, JSON-LD
 * datePublished, <time datetime>, the byline next to the title (clean's
 * "before" blocks, nearest first), the lines clean moved out of the body,
 * the first lines of the body, the feed's date, a lone date line among the
 * first three blocks after the content.  Returns 1 and fills *dt
 * when candidate k exists. */
static int date_candidate(int k, const ext_meta_in *in, const ext_dref *ref,
                          const lines *const *groups, ext_dt *dt)
{
    const cJSON *page = in->page, *it;
    switch (k) {
    case 0:
        for (size_t i = 0; page && date_meta[i]; i++) {
            const char *v = meta_get(page, date_meta[i]);
            if (v && parse_iso_like(v, ref, dt))
                return 1;
        }
        return 0;
    case 1: {
        const char *ld = page ? jstr(cJSON_GetObjectItemCaseSensitive(
                                         page, "jsonld"), "datePublished")
                              : NULL;
        return ld && parse_iso_like(ld, ref, dt);
    }
    case 2: {
        const cJSON *times = cJSON_GetObjectItemCaseSensitive(page, "time");
        cJSON_ArrayForEach(it, times)
        {
            if (cJSON_IsString(it) && parse_iso_like(it->valuestring, ref, dt))
                return 1;
        }
        return 0;
    }
    case 3: case 4: case 5:
        return lines_date(groups[k - 3], ref, dt);
    case 6:
        return in->feed_published_at &&
               parse_iso_like(in->feed_published_at, ref, dt);
    case 7:
        /* last resort: a lone date line just after the content (gallery
         * pages put the byline there) */
        for (size_t i = 0; i < groups[3]->n && i < 3; i++)
            if (bare_date(groups[3]->v[i].s, groups[3]->v[i].n, ref, dt))
                return 1;
        return 0;
    }
    return 0;
}

/* The first candidate wins; a date-only winner borrows the time of the next
 * candidate written for the same day. */
static void find_date(const ext_meta_in *in, const ext_dref *ref,
                      const lines *const *groups, ext_meta *m)
{
    ext_dt best = {0}, dt;
    int found = 0;
    for (int k = 0; k < 8; k++) {
        if (!date_candidate(k, in, ref, groups, &dt))
            continue;
        if (!found) {
            best = dt, found = 1;
            if (best.has_time)
                break;
            continue;
        }
        if (dt.has_time && dt.y == best.y && dt.mo == best.mo && dt.d == best.d)
            best = dt;
        break;
    }
    if (found) {
        m->published = best;
        ext_dt_iso(&best, in->zone_min, m->published_at);
    }
}

static char *dup_ok(const char *s, const sites *st, int person)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    const char *p = ext_trim(s, &n);
    if (!n)
        return NULL;
    if (person && !person_ok(&p, &n, st, 0))
        return NULL;
    if (!person && is_stop_name(p, n))
        return NULL;
    return ext_clean_dup(p, n);
}

int ext_meta_extract(const ext_meta_in *in, ext_meta *m)
{
    const cJSON *page = in->page;
    const cJSON *jsonld = page ? cJSON_GetObjectItemCaseSensitive(page, "jsonld")
                               : NULL;
    sites st = {0};
    lines near = {0}, moved = {0}, head = {0}, all = {0};
    byline b = {0};
    ext_dref ref = {0, 0, in->zone_min, 0};
    ext_dt fa;
    memset(m, 0, sizeof *m);
    if (in->fetched_at && parse_iso_like(in->fetched_at, &ref, &fa))
        ref.now = ext_dt_epoch(&fa, in->zone_min), ref.has_now = 1;

    m->title = title_from_page(page, st.seg, &st.n);
    if (!m->title)
        m->title = title_from_text(in->body, in->body_len);
    if (m->title)
        ext_title_strip_tickers(m->title);
    const char *site_name = page ? meta_get(page, "og:site_name") : NULL;
    if (site_name && st.n < 16)
        st.seg[st.n++] = (span){site_name, strlen(site_name)};

    add_json_lines(&near, page, "before", 1);
    add_json_lines(&moved, page, "byline", 0);
    add_body_lines(&head, in->body, in->body_len, 8, 8);
    lines after = {0};
    add_json_lines(&after, page, "after", 0);
    if (after.n > 5)
        after.n = 5; /* 责任编辑 sits right after the text; further on are
                        related links */
    const lines *groups[] = {&moved, &near, &head, &after};
    for (int g = 0; g < 4; g++)
        for (size_t i = 0; i < groups[g]->n; i++)
            if (meta_line(groups[g]->v[i].s, groups[g]->v[i].n))
                lines_add(&all, groups[g]->v[i].s, groups[g]->v[i].n);
    for (size_t i = 0; i < all.n; i++) {
        byline one = {0};
        parse_byline(all.v[i].s, all.v[i].n, &st, &ref, &one);
        if (!b.authors.len && one.authors.len)
            b.authors = one.authors, one.authors = (ext_buf){0};
        if (!b.editor)
            b.editor = one.editor, one.editor = NULL;
        if (!b.source)
            b.source = one.source, one.source = NULL;
        byline_free(&one);
    }

    /* source: 来源 in a byline, og:site_name, JSON-LD publisher */
    if (b.source)
        m->source = ext_clean_dup(b.source, strlen(b.source));
    else if (site_name)
        m->source = dup_ok(site_name, &st, 0);
    else if (jsonld)
        m->source = dup_ok(jname(cJSON_GetObjectItemCaseSensitive(jsonld,
                                                                  "publisher"),
                                 NULL), &st, 0);
    if (m->source && st.n < 16)
        st.seg[st.n++] = (span){m->source, strlen(m->source)};

    /* author: JSON-LD, meta, bylines */
    int is_org = 0;
    const char *ja = jsonld ? jname(cJSON_GetObjectItemCaseSensitive(jsonld,
                                                                     "author"),
                                    &is_org) : NULL;
    if (ja && !is_org)
        m->author = dup_ok(ja, &st, 1);
    static const char *author_meta[] = {"author", "article:author",
                                        "dc.creator", "sailthru.author",
                                        "byl", NULL};
    for (size_t k = 0; !m->author && page && author_meta[k]; k++)
        m->author = dup_ok(meta_get(page, author_meta[k]), &st, 1);
    if (!m->author && b.authors.len)
        m->author = strdup(b.authors.p);
    if (b.editor)
        m->editor = strdup(b.editor);

    const lines *dgroups[] = {&near, &moved, &head, &after};
    find_date(in, &ref, dgroups, m);
    byline_free(&b);
    free(near.v);
    free(moved.v);
    free(head.v);
    free(all.v);
    free(after.v);
    return 0;
}

void ext_meta_free(ext_meta *m)
{
    free(m->title);
    free(m->author);
    free(m->editor);
    free(m->source);
    m->title = m->author = m->editor = m->source = NULL;
}
