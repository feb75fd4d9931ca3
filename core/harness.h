/*
 * harness.h - drive one stage in-process, on the caller's thread: for
 * stage tests (cmocka) and fuzz targets.  Include after or instead of
 * taojin/stage.h; link with the core library.
 *
 *   const tj_stage_desc *d = taojin_stage_entry(tj__host_api());
 *   tj_harness *h = tj_harness_new(d, (const char *[]){"k=v", NULL}, &err);
 *   tj_harness_process(h, rec);          // ownership of rec moves in
 *   tj_record *out = tj_harness_next(h); // emitted records, caller frees
 *   tj_harness_free(h);
 *
 * A stage that keeps state (tj_state_get/tj_state_put) gets none from
 * tj_harness_new, as under a pipeline without `state:`; to give it the
 * real database, as `taojin run` does:
 *
 *   tj_harness_state *db = tj_harness_state_new(&err);
 *   tj_harness *h = tj_harness_new_with_state(d, opts, db, &err);
 *   ... tj_harness_free(h); (more harnesses on db: later runs)
 *   tj_harness_state_get(db, "ns", "key", &value); (what the runs stored)
 *   tj_harness_state_free(db);
 */
#ifndef TJ_HARNESS_H
#define TJ_HARNESS_H
#include "taojin/stage.h"
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
typedef struct tj_harness tj_harness;
typedef struct tj_harness_state tj_harness_state;

/* The host's function table (the one taojin hands every stage). */
const tj_host_api *tj__host_api(void);
/* The entry point of the stage linked into the test program. */
const tj_stage_desc *taojin_stage_entry(const tj_host_api *api);

/* Converts "name=value" options (values in YAML flow syntax: "[a, b]",
 * "{k: v}", or plain text) through the stage's option table and runs init.
 * On failure returns NULL and, when err is given, a malloc()ed message the
 * caller frees (the same text `taojin run` would print). */
tj_harness *tj_harness_new(const tj_stage_desc *desc, const char *const *opts,
                           char **err);
/* Like tj_harness_new, but the stage's tj_state_get/tj_state_put reach the
 * state database db (from tj_harness_state_new), attached before init as
 * `taojin run` attaches a pipeline's: init's probe finds it.  db NULL
 * means no state database (tj_state_get/put answer TJ_EINVAL), exactly
 * tj_harness_new.  The harness does not own db: it must outlive the
 * harness and every record the harness emitted that is finished later
 * (acknowledgements may write to it). */
tj_harness *tj_harness_new_with_state(const tj_stage_desc *desc,
                                      const char *const *opts,
                                      tj_harness_state *db, char **err);
/* Runs process on rec (ownership moves in); returns its result. */
int tj_harness_process(tj_harness *h, tj_record *rec);
/* Sources: one produce call (1 more, 0 end of input, <0 fatal). */
int tj_harness_produce(tj_harness *h);
/* Runs flush (end of input). */
int tj_harness_flush(tj_harness *h);
/* Oldest emitted record not yet taken, or NULL.  The caller owns it. */
tj_record *tj_harness_next(tj_harness *h);
/* The message of the last failure: the last call's tj_error text, else
 * the last record failed with tj_fail (or by on_error), else "". */
const char *tj_harness_error(tj_harness *h);
/* A counter: "in", "out", "dropped", "failed" or a stage's tj_count name. */
int64_t tj_harness_counter(tj_harness *h, const char *name);
/* Makes tj_should_stop() return non-zero from now on. */
void tj_harness_stop(tj_harness *h);
/* Runs fini and frees everything, including records not taken. */
void tj_harness_free(tj_harness *h);

/* Makes a fresh, empty state database: the SQLite store of core/state.c
 * that `taojin run` opens for a pipeline, in a new directory under
 * $TMPDIR (else /tmp).  It may serve any number of harnesses, one after
 * another (successive runs of a pipeline) or side by side.  Returns NULL
 * on failure and, when err is given, a malloc()ed message the caller
 * frees.  Free it with tj_harness_state_free. */
tj_harness_state *tj_harness_state_new(char **err);
/* Reads db directly, as a stage's tj_state_get does: 0 with *value the
 * stored text, TJ_ENOENT (and *value NULL) when (ns, key) is absent,
 * another negative TJ_E* code on failure.  *value belongs to db: valid
 * until the next tj_harness_state_get on db or tj_harness_state_free.
 * For checking what a run stored. */
int tj_harness_state_get(tj_harness_state *db, const char *ns,
                         const char *key, const char **value);
/* Writes (ns, key) = value into db directly, as a stage's tj_state_put
 * does (value NULL deletes).  0 or a negative TJ_E* code.  For planting
 * what an earlier run would have stored. */
int tj_harness_state_put(tj_harness_state *db, const char *ns,
                         const char *key, const char *value);
/* How many entries db holds in namespace ns, or in all namespaces when ns
 * is NULL; a negative TJ_E* code on failure. */
int64_t tj_harness_state_count(tj_harness_state *db, const char *ns);
/* Closes db and removes its directory.  Free the harnesses using it (and
 * finish their records) first.  NULL is a no-op. */
void tj_harness_state_free(tj_harness_state *db);
#ifdef __cplusplus
}
#endif
#endif
