#!/usr/bin/env bash
# make demo: runs pipelines/news.yaml on the bundled sample site and shows
# what happened.  Output goes to out/demo/ (override with NEWS_OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEWS_OUT=${NEWS_OUT:-out/demo}
rm -rf "$NEWS_OUT"
mkdir -p "$NEWS_OUT"
echo "== taojin demo: pipelines/news.yaml on samples/site (5 pages: UTF-8, GB18030+gzip, Big5, unlabelled, lying label)"
echo
build/taojin run pipelines/news.yaml --no-progress --stats-json "$NEWS_OUT/stats.json"
echo
python3 - "$NEWS_OUT" <<'PY'
import json, sys
out = sys.argv[1]
stats = json.load(open(f"{out}/stats.json"))
recs = [json.loads(l) for l in open(f"{out}/news.jsonl", encoding="utf-8")]
first, last = stats["stages"][0], stats["stages"][-1]
print(f"records in: {first['out']}   records out: {len(recs)}   status: {stats['status']}")
print()
print("charsets (what the bytes really were, and how we knew):")
for r in recs:
    name = r["url"].rsplit("/", 1)[-1]
    print(f"  {name:14} {r.get('charset','?'):11} via {r.get('charset_source','?'):9} "
          f"-> convert {r.get('convert_config','?')}")
print()
keys = ["pinyin_removed", "boilerplate_removed", "tags_removed", "normalized_chars",
        "mojibake_spans", "lost_chars"]
tot = {k: sum(r.get("quality", {}).get(k, 0) for r in recs) for k in keys}
print("repairs made by clean, all pages together:")
print("  pinyin annotations removed  %5d   (對(duì)於 -> 對於)" % tot["pinyin_removed"])
print("  boilerplate lines removed   %5d   (reprint notices, ICP, share prompts)" % tot["boilerplate_removed"])
print("  HTML remnants removed       %5d   (做?!?br/> -> 做。)" % tot["tags_removed"])
print("  characters normalised       %5d   (收⼊ -> 收入, 8。5%% -> 8.5%%, full-width)" % tot["normalized_chars"])
print("  mojibake spans found        %5d" % tot["mojibake_spans"])
print("  lost characters flagged     %5d   (連?攻堅)" % tot["lost_chars"])
print()
print("articles:")
for r in recs:
    print(f"  {r.get('published_at') or '-':25} {(r.get('author') or '-'):12} {r.get('title')}")
print()
r = next((x for x in recs if x["url"].endswith("004.html")), recs[0])
body = r.get("body", "")
show = dict(r)
show["body"] = body[:300] + ("..." if len(body) > 300 else "")
ents = show.get("entities", {})
for k, v in list(ents.items()):
    if isinstance(v, list) and len(v) > 4:
        ents[k] = v[:4] + [f"... {len(v) - 4} more"]
print("one record in full (body cut to 300 characters, entity lists to 4):")
print(json.dumps(show, ensure_ascii=False, indent=2))
PY
echo
echo "output:"
echo "  SQLite:      $NEWS_OUT/news.db   (table articles, one row per url)"
echo "  JSON Lines:  $NEWS_OUT/news.jsonl"
echo "  counters:    $NEWS_OUT/stats.json"
echo "  state:       $NEWS_OUT/state.db  (validators and article keys: run again and nothing is re-exported)"
echo
echo "try:"
echo "  sqlite3 $NEWS_OUT/news.db \"SELECT published_at, author, title FROM articles ORDER BY published_at\""
echo "  sqlite3 $NEWS_OUT/news.db \"SELECT title, json_extract(entities, '\$.tickers') FROM articles\""
echo "  build/taojin history cn-news --state $NEWS_OUT/state.db"
