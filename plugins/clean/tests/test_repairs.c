/*
 * test_repairs.c - the clean stage on small cases, on the five seed
 * documents as plain text, and on HTML pages built around them
 * (tests/fixtures/portal.html, blog.html: nav, share bars, related links,
 * comments, ICP footers, byline blocks, JSON-LD).
 */
#include "clean_test.h" /* before cmocka.h: its fail() macro */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static const char *const NO_OPTS[] = {NULL};

/* Cleans `in` as plain text and returns the body (static buffer). */
static char *clean_text_body(const char *const *opts, const char *in)
{
    static char buf[1 << 16];
    tj_record *r = clean_run(opts, in, "text/plain");
    assert_non_null(r);
    snprintf(buf, sizeof buf, "%s", field(r, "body"));
    tj_record_free(r);
    return buf;
}

#define EXPECT_TEXT(in, want) assert_string_equal(clean_text_body(NO_OPTS, in), want)

/* ---- small cases ------------------------------------------------------------ */

static void test_pinyin(void **st)
{
    (void)st;
    EXPECT_TEXT("對(duì)於這個(gè)問(wèn)題", "對於這個問題");
    /* ordinary parentheses stay */
    EXPECT_TEXT("GB200 NVL72( 在NVLink域中支持72個GPU)的出貨量",
                "GB200 NVL72( 在NVLink域中支持72個GPU)的出貨量");
    EXPECT_TEXT("英伟达(NVDA.US)股价", "英伟达(NVDA.US)股价");
    EXPECT_TEXT("注释(chain of thought)很长", "注释(chain of thought)很长");
}

static void test_radicals_and_width(void **st)
{
    (void)st;
    EXPECT_TEXT("今年收⼊将从37亿美元增⻓⾄125亿美元",
                "今年收入将从37亿美元增长至125亿美元");
    EXPECT_TEXT("Ａｐｐｌｅ发布ｉＰｈｏｎｅ１６。", "Apple发布iPhone16。");
    /* Chinese punctuation stays full-width */
    EXPECT_TEXT("他说：“好。”", "他说：“好。”");
}

static void test_punctuation(void **st)
{
    (void)st;
    EXPECT_TEXT("英伟达暴跌8。5%。", "英伟达暴跌8.5%。");
    EXPECT_TEXT("下午2!00-2!40分成交", "下午2:00-2:40分成交");
    EXPECT_TEXT("接连遭受重锤,产业链;股价:下跌!", "接连遭受重锤，产业链；股价：下跌！");
    EXPECT_TEXT("这是真的吗?AI很热", "这是真的吗？AI很热");
    EXPECT_TEXT("共1,000家公司", "共1,000家公司");
    EXPECT_TEXT("  多余   的   空格  ", "多余 的 空格");
}

static void test_markup(void **st)
{
    (void)st;
    EXPECT_TEXT("想必生意也不好做?!?br/>撰文正文第二段", "想必生意也不好做。\n撰文正文第二段");
    EXPECT_TEXT("“想必生意也不好做?!?br/>", "“想必生意也不好做。”");
    EXPECT_TEXT("「AI的估值遠被高估?!?/p>", "「AI的估值遠被高估。」");
    EXPECT_TEXT("<p>第一段&nbsp;文字</p><p>第二段&amp;amp;</p>", "第一段 文字\n第二段&");
    EXPECT_TEXT("价格&lt;100元&gt;", "价格<100元>");
}

static void test_lost_and_mojibake(void **st)
{
    char *moj;
    (void)st;
    /* UTF-8 read as GBK, then repaired */
    moj = strdup("涓枃缃戠珯"); /* "中文网站" */
    assert_non_null(moj);
    {
        char in[256];
        snprintf(in, sizeof in, "我们今天要说的是一个关于乱码的故事，这是一个%s的例子。", moj);
        assert_string_equal(clean_text_body(NO_OPTS, in),
                            "我们今天要说的是一个关于乱码的故事，这是一个中文网站的例子。");
    }
    free(moj);
    /* a '?' inside hanzi is a lost character; a question stays one */
    EXPECT_TEXT("雙方聯合?發並上線", "雙方聯合發並上線");
    EXPECT_TEXT("為什麼?", "為什麼？");
    /* U+FFFD goes with drop_mojibake=span, stays with none */
    EXPECT_TEXT("损坏\xef\xbf\xbd\xef\xbf\xbd的字", "损坏的字");
    {
        const char *keep[] = {"drop_mojibake=none", NULL};
        assert_string_equal(clean_text_body(keep, "雙方聯合?發"), "雙方聯合?發");
    }
}

static void test_boilerplate_rules(void **st)
{
    (void)st;
    EXPECT_TEXT("正文第一段。\n本文链接:http://x.cn/1.html\n正文第二段。",
                "正文第一段。\n正文第二段。");
    /* an article sentence that merely mentions such words stays */
    EXPECT_TEXT("该公司表示，版权所有人有权要求下架，未经许可不得转载的规定明年生效。",
                "该公司表示，版权所有人有权要求下架，未经许可不得转载的规定明年生效。");
    EXPECT_TEXT("法院认为被告侵犯了原告的著作权，并判决赔偿。",
                "法院认为被告侵犯了原告的著作权，并判决赔偿。");
    {
        const char *opts[] = {"boilerplate=[本站提醒, 点击阅读原文]", NULL};
        assert_string_equal(clean_text_body(opts, "正文一。\n本站提醒：理性投资\n正文二。"),
                            "正文一。\n正文二。");
    }
    /* a closing notice in the second half takes the rest */
    EXPECT_TEXT("正文第一段落的内容。\n正文第二段落的内容。\n正文第三段落的内容。\n版权声明\n本文来自网络。\n联系我们",
                "正文第一段落的内容。\n正文第二段落的内容。\n正文第三段落的内容。");
}

/* A paragraph repeated (a pull quote, a reprint's second copy) is kept
 * once; a line of under six characters ("图片", "（完）") may repeat; a
 * line that is only the start of a kept one is no repeat of it. */
static void test_duplicate_lines(void **st)
{
    (void)st;
    EXPECT_TEXT("第一段落写的是这件事。\n第二段落写的是那件事。\n"
                "第一段落写的是这件事。\n第二段落写的是那件事。\n第三段。",
                "第一段落写的是这件事。\n第二段落写的是那件事。\n第三段。");
    EXPECT_TEXT("图片\n正文第一段落。\n图片\n正文第二段落。",
                "图片\n正文第一段落。\n图片\n正文第二段落。");
    EXPECT_TEXT("正文第一段落写得很长。\n正文第一段落\n正文第一段落写得很长。",
                "正文第一段落写得很长。\n正文第一段落");
}

static void test_bylines(void **st)
{
    tj_record *r;
    cJSON *page, *by;
    (void)st;
    r = clean_run(NO_OPTS,
                  "- 发布时间:2025-03-05 10:05\n- 作者:利来w66\n- 来源:\n"
                  "撰文|劉一鳴\n(文/湯普濟 呂棟)\n正文在这里。",
                  "text/plain");
    assert_non_null(r);
    assert_string_equal(field(r, "body"), "正文在这里。");
    page = cJSON_Parse(field(r, "page"));
    by = cJSON_GetObjectItemCaseSensitive(page, "byline");
    assert_int_equal(cJSON_GetArraySize(by), 4);
    assert_string_equal(cJSON_GetArrayItem(by, 1)->valuestring, "- 作者：利来w66");
    assert_string_equal(cJSON_GetArrayItem(by, 3)->valuestring, "(文/湯普濟 呂棟)");
    cJSON_Delete(page);
    tj_record_free(r);
}

static void test_options(void **st)
{
    char *err = NULL;
    const char *bad[] = {"drop_mojibake=some", NULL};
    const char *neg[] = {"min_paragraph=-1", NULL};
    const char *minp[] = {"min_paragraph=5", NULL};
    const tj_stage_desc *d = taojin_stage_entry(tj__host_api());
    (void)st;
    assert_null(tj_harness_new(d, bad, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "drop_mojibake"));
    free(err);
    err = NULL;
    assert_null(tj_harness_new(d, neg, &err));
    assert_non_null(strstr(err, "min_paragraph"));
    free(err);
    assert_string_equal(clean_text_body(minp, "短\n这一段足够长了。"), "这一段足够长了。");
    {
        const char *text_mode[] = {"mode=text", NULL};
        tj_record *r = clean_run(text_mode, "<p>甲</p><p>乙</p>", NULL);
        assert_string_equal(field(r, "body"), "甲\n乙");
        assert_true(quality_of(r, "tags_removed") >= 4);
        tj_record_free(r);
    }
}

/* ---- the seeds ---------------------------------------------------------------- */

typedef struct seed {
    const char *file;
    const char *sentences[8]; /* must survive, verbatim */
    const char *byline;       /* one expected page.byline entry or NULL */
} seed;

static const seed SEEDS[] = {
    {"seeds/000_3a9d7dad56717aba.txt",
     {"市值高达2.78万亿美元的英伟达(NVDA.US)",
      "截至周三美股收盘，英伟达股价跌近6%，市值一夜蒸发约1700亿美元",
      "DeepSeek每百万输入token仅需2.19美元，而OpenAI的GPT-4高达60美元。",
      "高盛相同调整了AI训练主机的销售额预期",
      "现任总裁为黄仁勋。", NULL},
     NULL},
    {"seeds/001_f9ad9877f45503c9.txt",
     {"英伟达暴跌8.5%。", "2月27日下战书2:00-2:40分", "一年50.43%的收益率",
      "比上一季度超出跨越25.3亿美元", "估计本年收入将从37亿美元，增长至跨越125亿美元",
      "成本下降了99.9%", "将是核心所正在。", NULL},
     "- 作者：利来w66"},
    {"seeds/002_c1f8f78e0f282b01.txt",
     {"隨著DeepSeek的不斷火爆，人們對于構建大模型",
      "英偉達的累計跌幅達23.8%，總市值累計蒸發8931億美元(約合人民幣6.5萬億元)",
      "進而帶來一個完美地平衡。", NULL},
     NULL},
    {"seeds/003_3c827aacadbfe797.txt",
     {"將英偉達人工智能芯片GB200 NVL72( 在NVLink域中支持72個GPU)的2025年出貨量",
      "國產算力集體支持DeepSeek", "GB200于2024年3月18日正式發布。",
      "促進應用加速落地。", NULL},
     "(文/湯普濟 呂棟)"},
    {"seeds/004_af2bd45b0935e29e.txt",
     {"“英偉達定位于「賣鏟子」，但如果客戶們都淘不到金，想必鏟子的生意也不好做。”",
      "英偉達暴跌8.5%。", "2月27日下午2:00-2:40分",
      "「相對于AI為用戶實際創造的價值，AI的估值遠被高估。」",
      "一年50.43%的收益率", "成本下降了99.9%", "將是焦點所在。", NULL},
     "撰文|劉一鳴"},
};

/* What must never be left in a clean body. */
static const char *const FORBIDDEN[] = {
    "(duì)", "(wèi)", "br/>", "/p>", "<", ">", "&nbsp;", "&amp;",
    "版权声明", "版權聲明", "未经许可", "未經授權", "本文链接", "本文鏈接",
    "本文来自网络", "本文系", "聲明:本網站", "聲明：本網站", "扫二维码",
    "熱門跟貼", "ICP备", "公网安备", "分享到", "【概要描述】", "磅礴号",
    "- 作者", "撰文|", "(文/", "\xef\xbf\xbd", NULL};

/* Fails if any Kangxi radical or radicals-supplement look-alike is left. */
static void assert_no_radicals(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(n - i), &c);
        if (k <= 0)
            fail_msg("invalid UTF-8 in output at %zu", i);
        if (c >= 0x2E80 && c <= 0x2FDF)
            fail_msg("radical U+%04X left at byte %zu", (unsigned)c, i);
        i += (size_t)k;
    }
}

/* Any "(toned-pinyin)" annotation left? */
static int pinyin_left(const char *s)
{
    static const char *const toned[] = {"ā", "á", "ǎ", "à", "ē", "é", "ě", "è",
                                        "ī", "í", "ǐ", "ì", "ō", "ó", "ǒ", "ò",
                                        "ū", "ú", "ǔ", "ù", "ǖ", "ǘ", "ǚ", "ǜ", NULL};
    for (int i = 0; toned[i]; i++)
        if (strstr(s, toned[i]))
            return 1;
    return 0;
}

static void check_seed_output(const seed *sd, const tj_record *r, const char *how,
                              const char *title)
{
    const char *body = field(r, "body");
    cJSON *page = cJSON_Parse(field(r, "page"));
    for (int i = 0; FORBIDDEN[i]; i++)
        if (strstr(body, FORBIDDEN[i]))
            fail_msg("%s %s: '%s' left in the body", sd->file, how, FORBIDDEN[i]);
    assert_false(pinyin_left(body));
    assert_no_radicals(body);
    for (int i = 0; sd->sentences[i]; i++)
        if (!strstr(body, sd->sentences[i]) &&
            !(title && strstr(clean_text_body(NO_OPTS, title), sd->sentences[i])))
            fail_msg("%s %s: sentence lost: %s", sd->file, how, sd->sentences[i]);
    if (sd->byline) {
        cJSON *e, *by = cJSON_GetObjectItemCaseSensitive(page, "byline");
        int found = 0;
        cJSON_ArrayForEach(e, by) found |= !strcmp(e->valuestring, sd->byline);
        if (!found)
            fail_msg("%s %s: byline '%s' missing in %s", sd->file, how, sd->byline,
                     field(r, "page"));
    }
    printf("# %s %-5s chars %zu, quality %s\n", sd->file + 6, how,
           count_cps(body), field(r, "quality"));
    cJSON_Delete(page);
}

static void test_seeds_text(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof SEEDS / sizeof SEEDS[0]; i++) {
        char *path = shared_path(SEEDS[i].file), *text = slurp(path, NULL);
        tj_record *r;
        assert_non_null(text);
        r = clean_run(NO_OPTS, text, "text/plain");
        assert_non_null(r);
        check_seed_output(&SEEDS[i], r, "text", NULL);
        if (i == 2 || i == 3 || i == 4)
            assert_true(quality_of(r, "pinyin_removed") > 100);
        if (i == 4) {
            assert_true(quality_of(r, "mojibake_spans") >= 5);
            assert_true(quality_of(r, "tags_removed") >= 5);
            assert_true(quality_of(r, "score") < 0.95);
        }
        if (i == 1)
            assert_true(quality_of(r, "normalized_chars") > 10);
        tj_record_free(r);
        free(text);
        free(path);
    }
}

/* Builds an HTML page from a template: the seed's first line is the title,
 * every other line a <p>. */
static char *build_page(const char *tmpl, const char *text, char **title_out)
{
    const char *nl;
    while (*text == '\n')
        text++;
    nl = strchr(text, '\n');
    size_t tl = nl ? (size_t)(nl - text) : strlen(text), cap;
    char *title = strndup(text, tl), *art, *out, *p;
    const char *s = nl ? nl + 1 : "";
    size_t al = 0;
    art = malloc(strlen(s) * 2 + 64);
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l) {
            al += (size_t)sprintf(art + al, "<p>");
            memcpy(art + al, s, l);
            al += l;
            al += (size_t)sprintf(art + al, "</p>\n");
        }
        s += l + (e != NULL);
    }
    art[al] = 0;
    cap = strlen(tmpl) + al + 8 * tl + 64;
    out = malloc(cap);
    out[0] = 0;
    for (const char *t = tmpl; *t;) {
        if (!strncmp(t, "@@TITLE@@", 9)) {
            strcat(out, title);
            t += 9;
        } else if (!strncmp(t, "@@ARTICLE@@", 11)) {
            strcat(out, art);
            t += 11;
        } else {
            p = out + strlen(out);
            p[0] = *t++;
            p[1] = 0;
        }
    }
    free(art);
    *title_out = title;
    return out;
}

static void test_seeds_html(void **st)
{
    static const char *const PAGE_JUNK[] = {
        "首页", "登录", "网站地图", "微博", "QQ空间", "相关阅读", "推荐阅读",
        "台积电产能吃紧", "网友甲", "热门排行", "低价云服务器", "Copyright",
        "不应出现的脚本文字", "国产GPU厂商纷纷宣布适配", NULL};
    (void)st;
    for (size_t i = 0; i < sizeof SEEDS / sizeof SEEDS[0]; i++) {
        const char *tname = i % 2 ? "plugins/clean/tests/fixtures/blog.html"
                                  : "plugins/clean/tests/fixtures/portal.html";
        char *tp = top_path(tname), *tmpl = slurp(tp, NULL);
        char *sp = shared_path(SEEDS[i].file), *text = slurp(sp, NULL);
        char *title, *html;
        tj_record *r;
        cJSON *page, *j;
        assert_non_null(tmpl);
        assert_non_null(text);
        html = build_page(tmpl, text, &title);
        r = clean_run(NO_OPTS, html, "text/html; charset=utf-8");
        assert_non_null(r);
        check_seed_output(&SEEDS[i], r, "html", title);
        for (int k = 0; PAGE_JUNK[k]; k++)
            if (strstr(field(r, "body"), PAGE_JUNK[k]))
                fail_msg("%s html: page junk '%s' in body", SEEDS[i].file, PAGE_JUNK[k]);
        page = cJSON_Parse(field(r, "page"));
        assert_non_null(page);
        j = cJSON_GetObjectItemCaseSensitive(page, "jsonld");
        if (i % 2 == 0) {
            assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(page, "title")->valuestring,
                                   "_科技频道_示例新闻网"));
            assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(page, "h1"), 0)->valuestring,
                                title);
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(
                                    cJSON_GetObjectItemCaseSensitive(page, "meta"), "og:title")->valuestring,
                                title);
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "author")->valuestring, "刘一鸣");
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "publisher")->valuestring, "钛媒体");
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "datePublished")->valuestring,
                                "2025-03-05T10:05:00+08:00");
            assert_non_null(strstr(field(r, "page"), "2025-03-05 10:05 来源：钛媒体 作者：刘一鸣"));
            assert_non_null(strstr(field(r, "page"), "责任编辑：王小明"));
        } else {
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "author")->valuestring,
                                "汤普济, 吕栋");
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "publisher")->valuestring, "观察者网");
            assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(page, "time"), 0)->valuestring,
                                "2025-02-06T08:30:00+08:00");
            assert_non_null(strstr(field(r, "page"), "来源：观察者网"));
        }
        cJSON_Delete(page);
        tj_record_free(r);
        free(html);
        free(title);
        free(text);
        free(sp);
        free(tmpl);
        free(tp);
    }
}

/* Is `text` among the strings of page.before? */
static int in_before(tj_record *r, const char *text)
{
    cJSON *page = cJSON_Parse(field(r, "page")), *it;
    int found = 0;
    assert_non_null(page);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(page, "before"))
        found |= strcmp(it->valuestring, text) == 0;
    cJSON_Delete(page);
    return found;
}

/* The short dated blocks right after the first h1 go to page.before; a
 * block of more than 120 bytes (its text collapsed and trimmed) does not,
 * however its text is spread over children and blanks. */
static void test_near_title(void **st)
{
    static const char *const body =
        "<p>国产芯片厂商今日发布新一代产品，性能较上代提升百分之四十，"
        "功耗下降三成。</p><p>业内人士认为，这标志着国产芯片进入新阶段。"
        "</p><p>该产品预计于明年第一季度量产，首批订单已超过十万片。</p>";
    char a120[121], a121[122], html[4096];
    (void)st;
    memset(a120, 'x', 112);
    memcpy(a120 + 112, " 2025-03", 9); /* 120 bytes, with digits */
    assert_int_equal(strlen(a120), 120);
    memcpy(a121, a120, 120);
    a121[120] = '9', a121[121] = 0;
    const char *const cases[][2] = {
        /* sibling markup, its text (NULL: not kept) */
        {"<div>2025-03-05 10:05 来源：示例网</div>", "2025-03-05 10:05 来源：示例网"},
        {"<div> \n<span>%s</span>\n </div>", a120},
        {"<div><span>%s</span> </div>", a120},
        {"<div><b>%.60s</b>\n<i>%s</i></div>", NULL},
        {"<div>%s</div>", NULL},
        {"<div>没有数字的短块</div>", NULL},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char sib[1024];
        const char *arg = k == 4 ? a121 : a120;
        if (k == 3)
            snprintf(sib, sizeof sib, cases[k][0], a120, a120);
        else
            snprintf(sib, sizeof sib, cases[k][0], arg);
        snprintf(html, sizeof html,
                 "<html><head><title>t</title></head><body><h1>标题</h1>%s"
                 "<div class=\"article\">%s</div></body></html>",
                 sib, body);
        tj_record *r = clean_run(NO_OPTS, html, "text/html; charset=utf-8");
        assert_non_null(r);
        if (cases[k][1])
            assert_true(in_before(r, cases[k][1]));
        else
            assert_false(strstr(field(r, "page"), "\"before\"") &&
                         in_before(r, k == 3 ? a120 : arg));
        tj_record_free(r);
    }
}

static void test_empty_and_odd_input(void **st)
{
    (void)st;
    EXPECT_TEXT("", "");
    EXPECT_TEXT("\n\n  \n", "");
    {
        tj_record *r = clean_run(NO_OPTS, "<html><body></body></html>", NULL);
        assert_non_null(r);
        assert_string_equal(field(r, "body"), "");
        assert_true(quality_of(r, "score") == 0);
        tj_record_free(r);
    }
    {
        tj_record *in = NULL;
        char *err = NULL;
        tj_harness *h = tj_harness_new(taojin_stage_entry(tj__host_api()), NO_OPTS, &err);
        in = tj_record_new();
        tj_record_set_int(in, "status", 200);
        assert_int_equal(tj_harness_process(h, in), 0);
        in = tj_harness_next(h); /* passed on untouched */
        assert_non_null(in);
        assert_int_equal(tj_harness_counter(h, "no_body"), 1);
        tj_record_free(in);
        tj_harness_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pinyin),
        cmocka_unit_test(test_radicals_and_width),
        cmocka_unit_test(test_punctuation),
        cmocka_unit_test(test_duplicate_lines),
        cmocka_unit_test(test_markup),
        cmocka_unit_test(test_lost_and_mojibake),
        cmocka_unit_test(test_boilerplate_rules),
        cmocka_unit_test(test_bylines),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_seeds_text),
        cmocka_unit_test(test_seeds_html),
        cmocka_unit_test(test_near_title),
        cmocka_unit_test(test_empty_and_odd_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
