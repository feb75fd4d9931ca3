# export: zlib for .gz files, SQLite, libpq for PostgreSQL.
export_LIBS   := -lz $(shell pkg-config --libs sqlite3 libpq 2>/dev/null || echo -lsqlite3 -lpq)
export_CFLAGS := $(shell pkg-config --cflags sqlite3 libpq 2>/dev/null)
