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
 */
#ifndef TJ_HARNESS_H
#define TJ_HARNESS_H
#include "taojin/stage.h"
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
typedef struct tj_harness tj_harness;

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
#ifdef __cplusplus
}
#endif
#endif
