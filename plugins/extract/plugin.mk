# extract: PCRE2 (user rules, JIT) and cJSON (page hints, entities); the
# data files are embedded by data.c with .incbin, so objects depend on them.
extract_LIBS   := $(shell pkg-config --libs libpcre2-8 libcjson 2>/dev/null || echo -lpcre2-8 -lcjson) -lm
extract_CFLAGS := $(shell pkg-config --cflags libpcre2-8 libcjson 2>/dev/null)
extract_DEPS   := plugins/extract/data/organizations.tsv plugins/extract/data/script_chars.txt \
                  $(wildcard plugins/extract/*.h)
