#!/usr/bin/env python3
"""Builds record-level fixtures for the five seeds: JSON lines holding
`body` and `page` as clean would produce them (metadata lines moved into
page.byline / page.before, a <title> with a site suffix, an h1), plus the
expected article fields under "expect".

Usage: mkseeds.py SEEDS_DIR > seeds.jsonl
"""
import json
import os
import re
import sys

# clean removes the pinyin a converter site appended: 對(duì)於 -> 對於
PINYIN = re.compile(r"(?<=[\u4e00-\u9fff])\([a-z\u00e0-\u01dc\u00fc]{1,7}\)")

d = sys.argv[1]
files = sorted(os.listdir(d))


def body_of(name, skip=0, drop=()):
    lines = open(os.path.join(d, name), encoding="utf-8").read().split("\n")
    lines = [PINYIN.sub("", l).strip() for l in lines[skip:]]
    return "\n".join(l for l in lines if l and l not in drop)


out = []
# 000: a GB18030 page; title with ticker noise and a site suffix; the
# byline block under the h1 (clean keeps it in "before").
t000 = "NVDA.US 英伟达 AI GPU 泡沫分裂从如今末尾? 走向崩塌 庞大叙事 (nvda.us)"
out.append({
    "name": "000",
    "record": {
        "url": "http://example.cn/a/000.html",
        "fetched_at": "2025-03-06T08:00:00+08:00",
        "body": body_of(files[0], skip=1),
        "page": {"title": t000 + "_智通财经网",
                 "h1": [t000],
                 "before": ["首页 > 美股 > 正文",
                            "2025-03-05 10:05 来源：钛媒体 作者：刘一鸣"],
                 "after": ["相关阅读", "2025-03-27 09:00 英伟达再跌"]}},
    "expect": {"title": "英伟达 AI GPU 泡沫分裂从如今末尾? 走向崩塌 庞大叙事",
               "author": "刘一鸣", "source": "钛媒体",
               "published_at": "2025-03-05T10:05:00+08:00"}})
# 001: metadata list lines left in the body; the 作者 is a casino brand.
out.append({
    "name": "001",
    "record": {
        "fetched_at": "2025-03-06T08:00:00+08:00",
        "body": body_of(files[1]),
        "page": {"title": "DeepSeek冲击下段永平为什么更看好英伟达?-利来w66",
                 "byline": ["- 分类:木材知识", "- 作者:利来w66", "- 来源:",
                            "- 发布时间:2025-03-05 10:05", "- 访问量:"]}},
    "expect": {"title": "DeepSeek冲击下段永平为什么更看好英伟达?",
               "author": None, "source": None,
               "published_at": "2025-03-05T10:05:00+08:00"}})
# 002: Big5 page, Traditional text; byline under the title with 來源/編輯.
out.append({
    "name": "002",
    "record": {
        "fetched_at": "2025-03-06T08:00:00+08:00",
        "body": body_of(files[2]),
        "page": {"title": "大摩大幅下調GB200出貨量 英偉達還能撐多久 | 科技新報",
                 "h1": ["大摩大幅下調GB200出貨量 英偉達還能撐多久"],
                 "before": ["2025/03/05 10:05 來源：科技新報 作者：劉一鳴 編輯：翟文婷"]}},
    "expect": {"title": "大摩大幅下調GB200出貨量 英偉達還能撐多久",
               "author": "劉一鳴", "source": "科技新報", "editor": "翟文婷",
               "published_at": "2025-03-05T10:05:00+08:00"}})
# 003: the byline (文/湯普濟 呂棟) stays the first body line.
out.append({
    "name": "003",
    "record": {
        "fetched_at": "2025-03-06T08:00:00+08:00",
        "body": body_of(files[3]),
        "page": {"title": "英偉達出貨預期遭大幅下調,國產算力集體支持DeepSeek-觀察者網",
                 "meta": {"og:title": "英偉達出貨預期遭大幅下調,國產算力集體支持DeepSeek"},
                 "before": ["2025年03月05日 10:05"]}},
    "expect": {"title": "英偉達出貨預期遭大幅下調,國產算力集體支持DeepSeek",
               "author": "湯普濟, 呂棟", "source": None,
               "published_at": "2025-03-05T10:05:00+08:00"}})
# 004: 撰文|劉一鳴 and 編輯|翟文婷 at the top of the body.
out.append({
    "name": "004",
    "record": {
        "fetched_at": "2025-03-06T08:00:00+08:00",
        "body": body_of(files[4]),
        "page": {"title": "DeepSeek衝擊下，段永平為什麼更看好英偉達？_網易科技",
                 "h1": ["DeepSeek衝擊下，段永平為什麼更看好英偉達？"],
                 "time": ["2025-03-05T10:05:00+08:00"]}},
    "expect": {"title": "DeepSeek衝擊下，段永平為什麼更看好英偉達？",
               "author": "劉一鳴", "editor": "翟文婷",
               "published_at": "2025-03-05T10:05:00+08:00"}})
# 000 as plain text (no page at all): first line is the title.
out.append({
    "name": "000-plain",
    "record": {"fetched_at": "2025-03-06T08:00:00+08:00",
               "body": body_of(files[0])},
    "expect": {"title": "英伟达 AI GPU 泡沫分裂从如今末尾? 走向崩塌 庞大叙事"}})
for o in out:
    rec = o["record"]
    if "page" in rec:
        rec["page"] = json.dumps(rec["page"], ensure_ascii=False)
    print(json.dumps(o, ensure_ascii=False))
