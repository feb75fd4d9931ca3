# clean: libxml2 (HTML parser), PCRE2 (rules), utf8proc (code points),
# cJSON (page hints, JSON-LD).  iconv comes with glibc.
clean_CFLAGS := $(shell pkg-config --cflags libxml-2.0 libpcre2-8 libutf8proc libcjson)
clean_LIBS   := $(shell pkg-config --libs libxml-2.0 libpcre2-8 libutf8proc libcjson) -lm
