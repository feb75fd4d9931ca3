# decode: zlib for Content-Encoding, uchardet for detection; iconv is glibc.
decode_CFLAGS := $(shell pkg-config --cflags uchardet zlib 2>/dev/null)
decode_LIBS   := $(shell pkg-config --libs uchardet zlib 2>/dev/null || echo -luchardet -lz)
