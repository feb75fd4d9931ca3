/*
 * state.h - a pipeline's state database (SQLite): a key-value store stages
 * use through tj_state_get/tj_state_put (fetch validators, article keys)
 * and the run history.  Thread-safe: one connection behind a mutex, WAL
 * mode, synchronous=NORMAL (a committed write survives a process kill).
 */
#ifndef TJ_STATE_H
#define TJ_STATE_H
#include "core.h"

typedef struct tj_state tj_state;

/* Opens (creating the file, its directory and the tables) the database at
 * path.  Errors name the path. */
int tj__state_open(const char *path, tj_state **out, tj_err *err);
void tj__state_close(tj_state *st);
/* Value of (ns, key) as a malloc()ed string; TJ_ENOENT when absent. */
int tj__state_get(tj_state *st, const char *ns, const char *key, char **out);
/* Stores (ns, key) = value; value NULL deletes. */
int tj__state_put(tj_state *st, const char *ns, const char *key,
                  const char *value);
/* Entries in namespace ns (every namespace when NULL), or TJ_EIO. */
int64_t tj__state_count(tj_state *st, const char *ns);

/* Run history. */
int tj__state_run_begin(tj_state *st, const char *pipeline, int64_t *run_id);
int tj__state_run_end(tj_state *st, int64_t run_id, const char *status,
                      const char *stats_json, const char *error);
/* Start time (Unix seconds) of the last run that began, or -1 if none. */
double tj__state_last_run_start(tj_state *st);
/* Appends the last `limit` runs as JSON array (json) or a table. */
int tj__state_history(tj_state *st, int limit, bool json, tj_buf *out);
#endif
