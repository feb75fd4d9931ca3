/*
 * options.h - a stage's `with:` block checked and converted against the
 * stage's option table into its config struct.
 */
#ifndef TJ_OPTIONS_H
#define TJ_OPTIONS_H
#include "node.h"

/* A converted config and every allocation behind its strings and lists. */
typedef struct tj_config {
    void *data; /* desc->config_size bytes */
    void **allocs;
    size_t nallocs;
    tj_node **nodes; /* parsed defaults that values point into */
    size_t nnodes;
} tj_config;

/* Validates `with` (a mapping or NULL) against desc->options and fills a new
 * config.  `at` locates the stage for errors about missing options.  Errors:
 * unknown option (with did-you-mean and the allowed names), wrong type, bad
 * value, value not allowed, missing required option; each message starts
 * with file:line:col and names the stage instance.  Converted strings
 * point into `with`, which must outlive the config. */
int tj__options_convert(const tj_stage_desc *desc, const char *stage,
                        const tj_node *with, const tj_node *at,
                        tj_config *out, tj_err *err);
void tj__config_free(tj_config *cfg);

/* Converters shared with other parts of the host (schedules, CLI). */
int tj__parse_size(const char *s, int64_t *out);
int tj__parse_duration(const char *s, double *out);
int tj__parse_bool(const char *s, int *out);

/* Name of an option type ("string", "size", ...). */
const char *tj__opt_type_name(tj_opt_type t);
#endif
