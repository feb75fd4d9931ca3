#!/usr/bin/python3
"""Reference for the news pipeline benchmark: the same job done the short
way a Python user would write it, with lxml and the opencc CLI.

    news_ref.py OUT.jsonl FILE...

Per file: gunzip if needed, charset from <meta> else UTF-8 else GB18030,
lxml.html parse, main text = the <div> holding the most <p> text, title
from <title>; then one `opencc -c t2s` call over all texts (so the CLI's
start-up is paid once), and one JSON line per document."""
import gzip, json, re, subprocess, sys
import lxml.html

META = re.compile(rb'charset=["\']?([A-Za-z0-9_-]+)', re.I)


def decode(raw):
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    m = META.search(raw[:4096])
    for enc in ([m.group(1).decode()] if m else []) + ["utf-8", "gb18030", "big5hkscs"]:
        enc = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}.get(enc.lower(), enc)
        try:
            return raw.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("utf-8", "replace")


def main_text(doc):
    best, best_len = None, 0
    for div in doc.iter("div"):
        n = sum(len(p.text_content()) for p in div.findall("p"))
        if n > best_len:
            best, best_len = div, n
    if best is None:
        return doc.text_content()
    return "\n".join(p.text_content().strip() for p in best.findall("p"))


def main():
    out, files = sys.argv[1], sys.argv[2:]
    docs = []
    for f in files:
        text = decode(open(f, "rb").read())
        doc = lxml.html.fromstring(text.encode("utf-8"),
                                   parser=lxml.html.HTMLParser(encoding="utf-8"))
        title = doc.findtext(".//title") or ""
        docs.append({"url": "file://" + f, "title": title, "body": main_text(doc)})
    sep = "\n\x1e\n"
    joined = sep.join(d["title"] + "\n" + d["body"] for d in docs)
    conv = subprocess.run(["opencc", "-c", "t2s"], input=joined.encode(),
                          capture_output=True, check=True).stdout.decode()
    parts = conv.split(sep)
    with open(out, "w", encoding="utf-8") as fp:
        for d, p in zip(docs, parts):
            title, _, body = p.partition("\n")
            d["title"], d["body"] = title, body
            fp.write(json.dumps(d, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
