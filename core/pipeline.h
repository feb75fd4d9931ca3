/*
 * pipeline.h - a pipeline file turned into a checked specification.
 */
#ifndef TJ_PIPELINE_H
#define TJ_PIPELINE_H
#include "ctx.h"
#include "node.h"
#include "options.h"
#include "plugin.h"
#include "cron.h"

typedef struct tj_stage_spec {
    char *use;           /* stage name or .so path */
    char *name;          /* instance name */
    int workers;         /* replicas, >= 1 */
    bool ordered;        /* keep input order across workers */
    tj_on_error on_error;
    tj_node *with;       /* the with: mapping (owned by the tree) */
    const tj_node *at;   /* where the stage is declared */
    const tj_plugin *plugin;
    tj_config config;    /* converted options */
} tj_stage_spec;

typedef struct tj_pipeline {
    char *file;  /* path as given */
    char *dir;   /* directory of the file */
    char *name;
    char *description;
    size_t buffer; /* ring capacity in records */
    char *dead_letter;
    char *state_path; /* `state:`, or state/<name>.db when scheduled */
    bool scheduled;   /* `schedule:` given; then `cron` holds it */
    tj_cron cron;
    double jitter;           /* seconds of random delay per start */
    bool catch_up;           /* run once for ticks missed while down */
    double shutdown_timeout; /* seconds to drain on SIGTERM */
    tj_node *root; /* the whole document (schedule keys etc. read later) */
    tj_plugin_path path;
    tj_stage_spec *stages;
    size_t nstages;
} tj_pipeline;

/* One command-line override: STAGE.OPTION=VALUE. */
typedef struct tj_override {
    const char *stage, *option, *value;
} tj_override;

/* Reads the file, checks its structure, applies overrides, loads each
 * stage and converts its options.  Every error names file:line:col (or the
 * --set argument) and is returned with TJ_ECONFIG or TJ_ELOAD. */
int tj__pipeline_load(const char *file, const tj_override *ov, size_t nov,
                      tj_pipeline **out, tj_err *err);
/* Same from text already in memory (tests, fuzzing); no plugin loading
 * when load_stages is false. */
int tj__pipeline_parse(const char *text, size_t len, const char *file,
                       const tj_override *ov, size_t nov, bool load_stages,
                       tj_pipeline **out, tj_err *err);
void tj__pipeline_free(tj_pipeline *p);
/* Parses "stage.option=value"; TJ_EINVAL when malformed.  Points into arg
 * (which it modifies). */
int tj__override_parse(char *arg, tj_override *ov);
#endif
