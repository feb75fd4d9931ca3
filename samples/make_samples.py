#!/usr/bin/env python3
"""Builds samples/ from the five seed documents in ../shared/seeds.

Each seed becomes one page of a small news site, wrapped the way real sites
serve them (navigation, share bar, related links with their own dates,
comments, ICP footer) and stored in a different encoding:

  site/000.html      UTF-8, <meta charset="utf-8">, og: and JSON-LD metadata
  site/001.html.gz   GB18030 bytes labelled gb2312 (http-equiv), gzip-compressed
  site/002.html      Big5-HKSCS, <meta charset="big5">
  site/003.html      UTF-8 without any charset label
  site/004.html      GB18030 bytes under a lying <meta charset="utf-8">
  text/*.txt         the seeds as plain text (UTF-8, and one GB18030 file)

The output is committed; rerun this only to change the samples.
"""
import gzip, html, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "..", "..", "shared", "seeds")

PAGES = [
    # seed, file, encoding, charset label, title, byline, meta
    ("000_3a9d7dad56717aba", "000.html", "utf-8", "meta-utf-8", None,
     "2025-02-28 09:12 来源：智通财经 作者：周文杰",
     {"og:site_name": "智通财经", "article:published_time": "2025-02-28T09:12:00+08:00"}),
    ("001_f9ad9877f45503c9", "001.html.gz", "gb18030", "http-equiv-gb2312", None, None, {}),
    ("002_c1f8f78e0f282b01", "002.html", "big5hkscs", "meta-big5",
     "英偉達市值蒸發後的下一步", "2025/02/04 16:20 來源：鉅亨網 記者 林昭儀", {}),
    ("003_3c827aacadbfe797", "003.html", "utf-8", None,
     "英偉達出貨預期遭大幅下調，國產算力集體支持DeepSeek", None, {}),
    ("004_af2bd45b0935e29e", "004.html", "gb18030", "meta-utf-8-lie",
     "英偉達的財報，救不了AI信仰", "2025年02月06日 10:32 來源：鈦媒體", {}),
]

NAV = """<nav class="main-nav"><a href="/">首页</a> | <a href="/finance">财经</a> |
<a href="/tech">科技</a> | <a href="/stock">股票</a> | <a href="/login">登录</a></nav>
<div class="breadcrumb"><a href="/">首页</a> &gt; <a href="/finance">财经</a> &gt; 正文</div>"""
SHARE = """<div class="share-bar">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a></div>"""
RELATED = """<aside class="related-news"><h3>相关阅读</h3><ul>
<li><a href="/a/1.html">苹果发布新款iPad</a> <span>2024-11-02 08:00</span></li>
<li><a href="/a/2.html">特斯拉四季度交付量创新高</a> <span>2024-12-30 17:45</span></li>
<li><a href="/a/3.html">美联储维持利率不变</a> <span>2025-01-29 03:00</span></li>
</ul></aside>"""
COMMENTS = """<div id="comments" class="comment-box"><h3>网友评论</h3>
<p>用户8812：写得好，支持！</p><p>用户0931：英伟达还能买吗？</p></div>"""
FOOTER = """<footer class="site-footer"><p>关于我们 | 联系我们 | 广告服务</p>
<p>Copyright © 2025 news.example 版权所有 京ICP备12345678号-1 京公网安备11010502030000号</p></footer>"""


def s2t(text):
    """Traditional chrome for the Big5 page (opencc, as installed)."""
    return subprocess.run(["opencc", "-c", "s2t"], input=text.encode(),
                          capture_output=True, check=True).stdout.decode()


def paragraphs(text):
    return "\n".join("<p>%s</p>" % html.escape(line, quote=False)
                     for line in text.split("\n") if line.strip())


def page(seed, title, byline, meta, label, trad=False):
    text = open(os.path.join(SEEDS, seed + ".txt"), encoding="utf-8").read()
    lines = [l for l in text.split("\n")]
    if title is None:  # 000 and 001 start with their own title line
        title = lines[0].strip()
        text = "\n".join(lines[1:])
    head = ['<!DOCTYPE html>', '<html lang="zh-CN"><head>']
    if label == "meta-utf-8" or label == "meta-utf-8-lie":
        head.append('<meta charset="utf-8">')
    elif label == "http-equiv-gb2312":
        head.append('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
    elif label == "meta-big5":
        head.append('<meta charset="big5">')
    suffix = "_財經頻道_新聞網" if trad else "_财经频道_新闻网"
    head.append("<title>%s%s</title>" % (html.escape(title), suffix))
    for k, v in meta.items():
        attr = "property" if ":" in k else "name"
        head.append('<meta %s="%s" content="%s">' % (attr, k, html.escape(v)))
    if seed.startswith("000"):
        ld = {"@context": "https://schema.org", "@type": "NewsArticle",
              "headline": title, "datePublished": "2025-02-28T09:12:00+08:00",
              "publisher": {"@type": "Organization", "name": "智通财经"}}
        head.append('<script type="application/ld+json">%s</script>'
                    % json.dumps(ld, ensure_ascii=False))
    head.append("<style>body{font-family:sans-serif}</style>")
    head.append('<script>var _hmt = _hmt || []; window.ads = "广告";</script>')
    head.append("</head><body>")
    nav, share, related, comments, footer = NAV, SHARE, RELATED, COMMENTS, FOOTER
    if trad:
        nav, share, related, comments, footer = (s2t(x) for x in
                                                 (NAV, SHARE, RELATED, COMMENTS, FOOTER))
    body = [nav, '<div class="container"><div class="article">',
            "<h1>%s</h1>" % html.escape(title)]
    if byline:
        body.append('<div class="article-info">%s</div>' % html.escape(byline))
    body.append(share)
    body.append('<div class="article-content">%s</div>' % paragraphs(text))
    body.append(share)
    body.append("</div>")
    body.append(related)
    body.append(comments)
    body.append("</div>")
    body.append(footer)
    body.append("</body></html>")
    return "\n".join(head + body) + "\n"


def main():
    os.makedirs(os.path.join(HERE, "site"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "text"), exist_ok=True)
    for seed, name, enc, label, title, byline, meta in PAGES:
        doc = page(seed, title, byline, meta, label, trad=enc == "big5hkscs")
        if enc == "big5hkscs":
            # the one Simplified character and the sign Big5 lacks
            doc = doc.replace("阅", "閱").replace("©", "(C)")
        data = doc.encode(enc)
        path = os.path.join(HERE, "site", name)
        if name.endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        open(path, "wb").write(data)
    for seed, *_ in PAGES:
        src = open(os.path.join(SEEDS, seed + ".txt"), encoding="utf-8").read()
        open(os.path.join(HERE, "text", seed[:3] + ".txt"), "w", encoding="utf-8").write(src)
    gb = open(os.path.join(SEEDS, PAGES[2][0] + ".txt"), encoding="utf-8").read()
    open(os.path.join(HERE, "text", "002-gb18030.txt"), "wb").write(gb.encode("gb18030"))
    print("samples written to", HERE)


if __name__ == "__main__":
    sys.exit(main())
