# dedupe: utf8proc for normalising text.  SHA-256 is digest.c's own (SHA-NI
# when the CPU has it); fetch's header-only sha256.h is the reference the
# tests and the fuzz target check it against.
dedupe_CFLAGS := -Iplugins/fetch $(shell pkg-config --cflags libutf8proc 2>/dev/null)
dedupe_LIBS   := $(shell pkg-config --libs libutf8proc 2>/dev/null || echo -lutf8proc)
dedupe_DEPS   := plugins/fetch/sha256.h
