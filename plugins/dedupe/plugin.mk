# dedupe: utf8proc for normalising text.  SHA-256 is fetch's header-only
# sha256.h (SHA-NI when the CPU has it), so fetch and dedupe share one
# implementation.
dedupe_CFLAGS := -Iplugins/fetch $(shell pkg-config --cflags libutf8proc 2>/dev/null)
dedupe_LIBS   := $(shell pkg-config --libs libutf8proc 2>/dev/null || echo -lutf8proc)
dedupe_DEPS   := plugins/fetch/sha256.h
