# fetch: libcurl (multi interface) for HTTP(S)/file://, libxml2 for feeds,
# cJSON for the entries it keeps in the state database.
fetch_CFLAGS := $(shell pkg-config --cflags libcurl libxml-2.0 libcjson 2>/dev/null)
fetch_LIBS   := $(shell pkg-config --libs libcurl libxml-2.0 libcjson 2>/dev/null || echo -lcurl -lxml2 -lcjson) -lm
