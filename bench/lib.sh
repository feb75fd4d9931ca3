# bench/lib.sh - what the news benchmarks share; source it with TOP set to
# the checkout.

# make_corpus DIR N: N documents in DIR, the sample site's pages in turn.
make_corpus() {
    mkdir -p "$1"
    local i=0 f
    while [ $i -lt "$2" ]; do
        for f in "$TOP"/samples/site/*; do
            [ $i -ge "$2" ] && break
            cp "$f" "$1/$i-$(basename "$f")"
            i=$((i + 1))
        done
    done
}

# news_head CORPUS: the stages of pipelines/news.yaml before extract, as
# YAML list items, reading the documents in CORPUS.
news_head() {
    cat <<YAML
  - use: fetch
    with: {paths: ["$1/*"]}
  - use: decode
  - use: clean
    workers: 2
  - use: convert-traditional
    with: {config: auto}
  - use: dedupe
    with: {keep_duplicates: true}
YAML
}
