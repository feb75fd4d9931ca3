#!/usr/bin/env python3
"""Loopback HTTP server for the fetch/decode tests (Python standard library).

    server.py [--port-file FILE] [--seeds DIR] [--max-seconds N]
              [--tls-cert PEM --tls-key PEM]

Binds 127.0.0.1 on a free port (port 0), writes the port to --port-file
(or to stdout without one), and serves fixtures with chosen headers until killed or for
--max-seconds (default 600) at most, so it can never outlive a test run by
much.  With --tls-cert/--tls-key it speaks HTTPS.  Fixture texts come from ../shared/seeds (--seeds), cut to the
characters the target charset can hold.

Fixtures (GET):
  /utf8.html        UTF-8, charset=utf-8; ETag + Last-Modified, 304 on
                    If-None-Match / If-Modified-Since
  /gbk.html         GBK bytes, charset=gbk
  /gzip.html        the GBK page gzipped (Content-Encoding: gzip)
  /deflate.html     the UTF-8 page, zlib-deflated (Content-Encoding: deflate)
  /liar.html        Big5 bytes, header says charset=utf-8
  /meta.html        GBK bytes, charset only in <meta> (header: text/html)
  /nolabel.html     GBK bytes, no label anywhere (text/html)
  /big5.html        Big5 bytes, charset=big5
  /utf16.html       UTF-16LE with BOM (header: text/html)
  /missing          404
  /flaky            500 on the first request, 200 after (per-path counter)
  /busy             429 + Retry-After: 1 on the first request, 200 after
  /redirect/N       302 chain of N hops ending at /utf8.html
  /slow             waits 3 s before answering
  /big              2 MiB body with Content-Length
  /big-chunked      2 MiB body, chunked (no Content-Length)
  /bomb.gz          gzip of 80 MiB of zeros, Content-Encoding: gzip
  /truncated.gz     first half of a gzip body, Content-Encoding: gzip
  /feed.rss         RSS 2.0: two items (one relative link) with pubDate
  /feed.atom        Atom: two entries with published/updated
  /article/N        small GBK article page with a <meta charset>
  /_expect/NAME     the UTF-8 text a fixture must decode to (simplified,
                    traditional, gbk-page, utf16)
  /_headers         JSON of the request's headers (names lower-cased)
  /_stats           JSON {path: request count}
  /_reset           clears the counters

Changing articles (scheduling and incremental tests; ?delay=MS on any of
them waits MS milliseconds before answering):
  /p/NAME           UTF-8 article page NAME at its current version, with
                    ETag "NAME-vN" and a Last-Modified per version; 304 on
                    a matching If-None-Match (or If-Modified-Since alone)
  /plain/NAME       the same page without ETag/Last-Modified (always 200)
  /mirror/NAME      the same article text in another page (other <title>,
                    other spacing and punctuation width): a duplicate
  /_set/NAME?v=N    makes NAME's current version N (default 1)
  /_codes           JSON {path: {status: count}} of the answers given
                    (path without its query)
"""
import argparse
import email.utils
import glob
import gzip
import json
import os
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAST_MODIFIED = "Wed, 05 Mar 2025 02:05:00 GMT"
ETAG = '"taojin-utf8-v1"'


def encodable(text, charset):
    """The characters of text that charset can encode, in order.  For Big5,
    only codes every Big5 table agrees on: not the ETEN extension C6A1-C8FE
    (kana, symbols), which tables map differently."""
    out = []
    for ch in text:
        try:
            b = ch.encode(charset)
        except UnicodeEncodeError:
            continue
        if charset == "big5" and len(b) == 2 and (
                (b[0] == 0xC6 and b[1] >= 0xA1) or b[0] in (0xC7, 0xC8)):
            continue
        out.append(ch)
    return "".join(out)


def seed_text(seeds, prefix, limit):
    files = sorted(glob.glob(os.path.join(seeds, prefix + "_*.txt")))
    if not files:
        return "新闻 人工智能板块大涨。" * 40
    with open(files[0], encoding="utf-8") as f:
        return f.read()[:limit]


class Fixtures:
    def __init__(self, seeds):
        simp = encodable(seed_text(seeds, "000", 1500), "gbk")
        trad = encodable(seed_text(seeds, "002", 1500), "big5")
        page = ("<html><head><title>测试</title></head><body><p>"
                + simp + "</p></body></html>")
        meta_page = ('<html><head><meta charset="gb2312"><title>测试</title>'
                     "</head><body><p>" + simp + "</p></body></html>")
        trad_page = ("<html><head><title>測試</title></head><body><p>"
                     + trad + "</p></body></html>")
        self.lock = threading.Lock()
        self.bomb_gz = None
        self.expect = {"simplified": page, "meta": meta_page,
                       "traditional": trad_page, "utf16": page}
        gbk = page.encode("gbk")
        utf8 = page.encode("utf-8")
        whole = gzip.compress(gbk)
        html = "text/html"
        self.pages = {
            "/utf8.html": (200, html + "; charset=utf-8", {}, utf8),
            "/gbk.html": (200, html + "; charset=gbk", {}, gbk),
            "/gzip.html": (200, html + "; charset=gbk",
                           {"Content-Encoding": "gzip"}, whole),
            "/deflate.html": (200, html + "; charset=utf-8",
                              {"Content-Encoding": "deflate"},
                              zlib.compress(utf8)),
            "/liar.html": (200, html + "; charset=utf-8", {},
                           trad_page.encode("big5")),
            "/meta.html": (200, html, {}, meta_page.encode("gbk")),
            "/nolabel.html": (200, html, {}, gbk),
            "/big5.html": (200, html + "; charset=big5", {},
                           trad_page.encode("big5")),
            "/utf16.html": (200, html, {}, b"\xff\xfe" + page.encode("utf-16-le")),
            "/big": (200, "application/octet-stream", {}, b"x" * (2 << 20)),
            "/truncated.gz": (200, html + "; charset=gbk",
                              {"Content-Encoding": "gzip"},
                              whole[: len(whole) // 2]),
        }

    def bomb(self):
        """80 MiB of zeros gzipped to ~80 KB, made on first use (1 s)."""
        with self.lock:
            if self.bomb_gz is None:
                self.bomb_gz = gzip.compress(b"\0" * (80 << 20), 6)
        return self.bomb_gz

    def feed_rss(self, base):
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>测试频道</title><link>{base}/</link>
<item><title>一</title><link>{base}/article/1</link>
<pubDate>Wed, 05 Mar 2025 10:05:00 +0800</pubDate></item>
<item><title>二</title><link>/article/2</link>
<pubDate>Thu, 06 Mar 2025 01:00:00 GMT</pubDate></item>
</channel></rss>""".encode()

    def feed_atom(self, base):
        return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>测试</title>
<entry><title>三</title><link rel="alternate" type="text/html" href="{base}/article/3"/>
<link rel="self" href="{base}/entries/3.xml"/>
<published>2025-03-07T08:30:00+08:00</published></entry>
<entry><title>四</title><link href="{base}/article/4"/>
<updated>2025-03-08T00:00:00Z</updated></entry>
</feed>""".encode()


def article_text(seeds, name, version):
    """The paragraphs of article NAME at VERSION: a slice of seed 000 chosen
    by the name (so different names are different articles) and a line
    naming the version."""
    text = seed_text(seeds, "000", 6000)
    paras = [p.strip() for p in text.split("\n") if len(p.strip()) > 20]
    if not paras:
        paras = ["人工智能板块今日大涨，多只个股涨停。" * 3]
    k = sum(name.encode()) % len(paras)
    chosen = [paras[(k + i) % len(paras)] for i in range(3)]
    chosen.append(f"本文编号{name}，第{version}版。这是文章{name}的正文内容，"
                  f"用于测试定时抓取与去重。")
    return chosen


def article_page(paras, title, mirror=False):
    if mirror:  # same words, other layout: spacing and ASCII punctuation
        body = "\n".join("<p>  " + p.replace("，", ", ").replace("。", ". ")
                         + "  </p>" for p in paras)
        return ('<html><head><meta charset="utf-8"><title>转载：' + title
                + "</title></head><body><div class=\"content\">\n" + body
                + "\n</div></body></html>")
    body = "".join("<p>" + p + "</p>" for p in paras)
    return ('<html><head><meta charset="utf-8"><title>' + title
            + "</title></head><body><article>" + body
            + "</article></body></html>")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "taojin-test/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def count(self):
        with self.server.lock:
            n = self.server.counts.get(self.path, 0) + 1
            self.server.counts[self.path] = n
        return n

    def reply(self, status, ctype, body, headers=None):
        self.note(status)
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def note(self, status):
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            per = self.server.codes.setdefault(path, {})
            per[str(status)] = per.get(str(status), 0) + 1

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_stats":
            with self.server.lock:
                body = json.dumps(self.server.counts).encode()
            return self.reply(200, "application/json", body)
        if path == "/_reset":
            with self.server.lock:
                self.server.counts.clear()
                self.server.codes.clear()
            return self.reply(200, "text/plain", b"ok\n")
        if path == "/_codes":
            with self.server.lock:
                body = json.dumps(self.server.codes).encode()
            return self.reply(200, "application/json", body)
        if path.startswith("/_set/"):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            with self.server.lock:
                self.server.versions[path[len("/_set/"):]] = int(
                    query.get("v", ["1"])[0])
            return self.reply(200, "text/plain", b"ok\n")
        n = self.count()
        if path == "/_headers":
            body = json.dumps({k.lower(): v for k, v in self.headers.items()})
            return self.reply(200, "application/json", body.encode())
        fx = self.server.fixtures
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if path.startswith("/_expect/"):
            text = fx.expect.get(path[len("/_expect/"):])
            if text is None:
                return self.reply(404, "text/plain", b"no such expectation\n")
            return self.reply(200, "text/plain; charset=utf-8", text.encode())
        if path == "/utf8.html":
            return self.conditional(fx)
        for prefix in ("/p/", "/plain/", "/mirror/"):
            if path.startswith(prefix) and len(path) > len(prefix):
                return self.article(prefix, path[len(prefix):])
        if path in fx.pages:
            status, ctype, headers, body = fx.pages[path]
            return self.reply(status, ctype, body, headers)
        if path == "/bomb.gz":
            return self.reply(200, "text/html", fx.bomb(),
                              {"Content-Encoding": "gzip"})
        if path == "/flaky":
            if n == 1:
                return self.reply(500, "text/plain", b"try again\n")
            return self.reply(200, "text/plain; charset=utf-8", "恢复了".encode())
        if path == "/busy":
            if n == 1:
                return self.reply(429, "text/plain", b"slow down\n",
                                  {"Retry-After": "1"})
            return self.reply(200, "text/plain; charset=utf-8", "不忙了".encode())
        if path.startswith("/redirect/"):
            hops = int(path.rsplit("/", 1)[1] or 0)
            target = "/utf8.html" if hops <= 1 else f"/redirect/{hops - 1}"
            return self.reply(302, "text/plain", b"moved\n", {"Location": target})
        if path == "/slow":
            time.sleep(3)
            return self.reply(200, "text/plain", b"too late\n")
        if path == "/big-chunked":
            return self.chunked(b"y" * (2 << 20))
        if path == "/feed.rss":
            return self.reply(200, "application/rss+xml", fx.feed_rss(base))
        if path == "/feed.atom":
            return self.reply(200, "application/atom+xml", fx.feed_atom(base))
        if path.startswith("/article/"):
            num = path.rsplit("/", 1)[1]
            page = (f'<html><head><meta charset="gbk"><title>文章{num}</title>'
                    f"</head><body><p>第{num}篇文章。</p></body></html>")
            return self.reply(200, "text/html", page.encode("gbk"))
        return self.reply(404, "text/plain", b"not found\n")

    def conditional(self, fx):
        status, ctype, headers, body = fx.pages["/utf8.html"]
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        hdrs = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
        if (inm and ETAG in inm) or (not inm and ims == LAST_MODIFIED):
            self.note(304)
            self.send_response(304)
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        return self.reply(status, ctype, body, hdrs)

    def article(self, prefix, name):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        delay = float(query.get("delay", ["0"])[0]) / 1000
        if delay > 0:
            time.sleep(delay)
        with self.server.lock:
            version = self.server.versions.get(name, 1)
        seeds = self.server.seeds
        page = article_page(article_text(seeds, name, version), "文章" + name,
                            mirror=prefix == "/mirror/").encode("utf-8")
        ctype = "text/html; charset=utf-8"
        if prefix != "/p/":
            return self.reply(200, ctype, page)
        etag = f'"{name}-v{version}"'
        modified = email.utils.formatdate(1741140300 + 3600 * version,
                                          usegmt=True)
        hdrs = {"ETag": etag, "Last-Modified": modified}
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if (inm and etag in inm) or (not inm and ims == modified):
            self.note(304)
            self.send_response(304)
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        return self.reply(200, ctype, page, hdrs)

    def chunked(self, body):
        self.note(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for i in range(0, len(body), 65536):
                part = body[i:i + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up past max_bytes: expected


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients that hang up early (timeouts, max_bytes) are expected.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file")
    ap.add_argument("--seeds", default=os.path.join(here, "..", "..", "..",
                                                     "shared", "seeds"))
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate")
    ap.add_argument("--tls-key", help="... and this PEM key")
    args = ap.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.lock = threading.Lock()
    server.counts = {}
    server.codes = {}
    server.versions = {}
    server.seeds = args.seeds
    server.fixtures = Fixtures(args.seeds)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.rename(tmp, args.port_file)  # readers never see a partial file
    if not args.port_file:
        print(port, flush=True)
    threading.Timer(args.max_seconds, server.shutdown).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    server.server_close()
    os._exit(0)  # the Timer thread must not keep us alive


if __name__ == "__main__":
    sys.exit(main())
