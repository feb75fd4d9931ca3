# dedupe: utf8proc for normalising text; SHA-256 from the fetch stage's
# header-only sha256.h.
dedupe_CFLAGS := -Iplugins/fetch $(shell pkg-config --cflags libutf8proc 2>/dev/null)
dedupe_LIBS   := $(shell pkg-config --libs libutf8proc 2>/dev/null || echo -lutf8proc)
dedupe_DEPS   := plugins/fetch/sha256.h
