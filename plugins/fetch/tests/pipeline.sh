#!/usr/bin/env bash
# fetch -> decode -> export (jsonl) against the loopback fixture server:
# every fixture case through a real `taojin run`, each asserting the record
# fields; the failures asserted from the dead-letter file.
source "$TJ_TOP/tests/lib.sh"
source "$TJ_TOP/tests/httpd/httpd.sh"
httpd_start || { not_ok "fixture server starts"; finish; }

H=$HTTPD
cat > "$TMP/news.yaml" <<YAML
name: fetch-decode-fixtures
dead_letter: $TMP/failed.jsonl
stages:
  - use: fetch
    on_error: dead_letter
    with:
      urls: [$H/utf8.html, $H/gbk.html, $H/gzip.html, $H/deflate.html,
             $H/liar.html, $H/meta.html, $H/nolabel.html, $H/big5.html,
             $H/utf16.html, $H/missing, $H/flaky, $H/busy, $H/redirect/3,
             $H/slow, $H/big, $H/bomb.gz, $H/truncated.gz]
      feeds: [$H/feed.rss, $H/feed.atom]
      timeout: 1s
      retries: 1
      backoff: 100ms
      max_bytes: 1M
  - use: decode
    on_error: dead_letter
    with: {max_inflated: 8M}
  - use: export
    with: {format: jsonl, path: "-"}
YAML

"$TAOJIN" run "$TMP/news.yaml" --no-progress > "$TMP/out.jsonl" 2> "$TMP/err.txt"
rc=$?
assert_eq 3 "$rc" "run completes with failed records (exit 3)"

# One pass over the output: every field of every record to a file
# $TMP/rec/<url path with / as _>/<field>, every failure to
# $TMP/fail/<url path>; then lookups are plain reads.
python3 - "$TMP" "$H" <<'PY'
import json, os, sys
tmp, base = sys.argv[1], sys.argv[2]
def key(url):
    return url[len(base):].replace("/", "_") if url.startswith(base) else "_other"
for name, path in (("rec", "out.jsonl"), ("fail", "failed.jsonl")):
    os.makedirs(os.path.join(tmp, name), exist_ok=True)
    for line in open(os.path.join(tmp, path), encoding="utf-8"):
        r = json.loads(line)
        if name == "fail":
            with open(os.path.join(tmp, "fail", key(r["record"]["url"])), "w") as f:
                f.write(r["stage"] + ": " + r["error"])
            continue
        d = os.path.join(tmp, "rec", key(r["url"]))
        os.makedirs(d, exist_ok=True)
        for k, v in r.items():
            with open(os.path.join(d, k), "w", encoding="utf-8") as f:
                f.write(v if isinstance(v, str) else json.dumps(v))
PY
# field URL-PATH NAME: a field of the output record for $H/PATH.
field() {
    local f="$TMP/rec/${1//\//_}/$2"
    if [ -f "$f" ]; then cat "$f"; else printf '(absent)'; fi
}
# failure URL-PATH: "stage: error" of the dead-letter entry for $H/PATH.
failure() {
    local f="$TMP/fail/${1//\//_}"
    if [ -f "$f" ]; then cat "$f"; else printf '(no failure)'; fi
}

simplified=$(httpd_get /_expect/simplified)
traditional=$(httpd_get /_expect/traditional)
meta=$(httpd_get /_expect/meta)

check() { # PATH CHARSET SOURCE EXPECTED-BODY
    assert_eq "$2" "$(field "$1" charset)" "$1: charset"
    assert_eq "$3" "$(field "$1" charset_source)" "$1: charset_source"
    assert_eq "0" "$(field "$1" decode_errors)" "$1: decode_errors"
    assert_eq "$4" "$(field "$1" body)" "$1: body decodes to the expected text"
}
check /utf8.html    UTF-8      header   "$simplified"
check /gbk.html     GB18030    header   "$simplified"
check /gzip.html    GB18030    header   "$simplified"
check /deflate.html UTF-8      header   "$simplified"
check /liar.html    BIG5-HKSCS detected "$traditional"
check /meta.html    GB18030    meta     "$meta"
check /nolabel.html GB18030    detected "$simplified"
check /big5.html    BIG5-HKSCS header   "$traditional"
check /utf16.html   UTF-16LE   bom      "$simplified"

assert_eq 200 "$(field /utf8.html status)" "utf8: status"
assert_eq "$H/utf8.html" "$(field /utf8.html final_url)" "utf8: final_url"
assert_eq '"taojin-utf8-v1"' "$(field /utf8.html etag)" "utf8: etag"
assert_eq "Wed, 05 Mar 2025 02:05:00 GMT" "$(field /utf8.html last_modified)" "utf8: last_modified"
assert_eq "text/html; charset=utf-8" "$(field /utf8.html content_type)" "utf8: content_type"
fetched=$(field /utf8.html fetched_at)
[[ "$fetched" =~ ^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z$ ]] \
    && ok "fetched_at is ISO 8601 UTC ($fetched)" || not_ok "fetched_at is ISO 8601 UTC ($fetched)"
assert_eq "(absent)" "$(field /gzip.html content_encoding)" "gzip: content_encoding gone once inflated"

assert_eq 200 "$(field /flaky status)" "500 then 200: status after one retry"
assert_eq "恢复了" "$(field /flaky body)" "500 then 200: body"
assert_eq 2 "$(httpd_count /flaky)" "500 then 200: two requests"
assert_eq "不忙了" "$(field /busy body)" "429 + Retry-After then 200: body"
assert_eq "$H/utf8.html" "$(field /redirect/3 final_url)" "redirect chain: final_url"
assert_eq "$simplified" "$(field /redirect/3 body)" "redirect chain: body"

assert_eq "fetch: GET $H/missing: HTTP 404" "$(failure /missing)" "404 is a record error naming URL and cause"
assert_contains "$(failure /slow)" "fetch: GET $H/slow: Operation timed out" "slow response: timeout error"
assert_contains "$(failure /slow)" "(after 1 retry)" "slow response: retried once"
assert_eq "fetch: GET $H/big: body exceeds max_bytes (1048576 bytes)" "$(failure /big)" "body over max_bytes"
assert_contains "$(failure /bomb.gz)" "decode: $H/bomb.gz: gzip body inflates past max_inflated" "gzip bomb is a record error"
assert_contains "$(failure /truncated.gz)" "decode: $H/truncated.gz: corrupt gzip body: truncated" "truncated gzip is a record error"

assert_eq "2025-03-05T10:05:00+08:00" "$(field /article/1 feed_published_at)" "rss item 1: feed_published_at"
assert_eq "2025-03-06T01:00:00Z" "$(field /article/2 feed_published_at)" "rss item 2 (relative link): feed_published_at"
assert_eq "2025-03-07T08:30:00+08:00" "$(field /article/3 feed_published_at)" "atom entry 3: feed_published_at"
assert_eq "2025-03-08T00:00:00Z" "$(field /article/4 feed_published_at)" "atom entry 4: feed_published_at"
assert_contains "$(field /article/2 body)" "第2篇文章。" "feed item page decoded (GBK meta)"
assert_eq "GB18030" "$(field /article/3 charset)" "feed item page charset"

lines=$(wc -l < "$TMP/out.jsonl")
assert_eq 16 "$lines" "12 pages + 4 feed items exported"
failed=$(wc -l < "$TMP/failed.jsonl")
assert_eq 5 "$failed" "5 failed records in the dead-letter file"
finish
