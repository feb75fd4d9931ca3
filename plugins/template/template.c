/*
 * template.c - a copy-me transform stage.  Follow the numbered steps.
 *
 * This one, `template`, adds a field holding the length of another field:
 *
 *     - use: template
 *       with: {field: body, into: body_length}
 *
 * Build it out of tree with one command (see docs/writing-stages.md):
 *
 *     cc -shared -fPIC -O2 $(pkg-config --cflags taojin) \
 *        -o my_stage.so template.c
 */
#include <stdlib.h>
#include <taojin/stage.h>

/* 1. The options, as a struct the host fills in.  Each field's type follows
 *    the option type: STRING -> const char *, INT/SIZE -> int64_t,
 *    BOOL -> int, DOUBLE/DURATION -> double, LIST -> tj_list, MAP -> tj_map. */
typedef struct template_config {
    const char *field;
    const char *into;
    int skip_empty;
} template_config;

/* 2. The option table: name, type, default (as text), required, allowed
 *    values ("a|b"), description, where the value lands.  The host checks
 *    the pipeline's `with:` against it and prints it in `taojin stages`. */
static const tj_option template_options[] = {
    {"field", TJ_OPT_STRING, "body", 0, NULL, "field to measure",
     offsetof(template_config, field)},
    {"into", TJ_OPT_STRING, "length", 0, NULL, "field that receives the length",
     offsetof(template_config, into)},
    {"skip_empty", TJ_OPT_BOOL, "false", 0, NULL,
     "drop records whose field is missing or empty",
     offsetof(template_config, skip_empty)},
    TJ_OPTION_END};

/* 3. Per-instance state.  With `workers: N` there are N instances, each on
 *    its own thread: keep mutable state here, never in globals. */
typedef struct template_state {
    const template_config *cfg;
    int64_t seen;
} template_state;

/* 4. init: validate what the table cannot, allocate state.  On failure
 *    return tj_error(ctx, "...") - the host prints it with the file. */
static int template_init(tj_ctx *ctx, const void *config, void **state)
{
    template_state *s = calloc(1, sizeof *s);
    if (!s)
        return tj_error(ctx, "out of memory");
    s->cfg = config;
    *state = s;
    return 0;
}

/* 5. process: one record.  tj_emit passes it on; not emitting drops it;
 *    returning tj_error(...) fails it under the stage's on_error policy. */
static int template_process(tj_ctx *ctx, void *state, tj_record *rec)
{
    template_state *s = state;
    size_t len = 0;
    const char *value = tj_record_get(rec, s->cfg->field, &len);
    if (!value && s->cfg->skip_empty)
        return 0; /* dropped: its source is told so */
    if (tj_record_set_int(rec, s->cfg->into, (int64_t)len) != 0)
        return tj_error(ctx, "cannot set field '%s'", s->cfg->into);
    s->seen++;
    tj_count(ctx, "measured", 1); /* shows in --stats-json and metrics */
    return tj_emit(ctx, rec);
}

/* 6. flush (optional): end of input; emit anything buffered. */
static int template_flush(tj_ctx *ctx, void *state)
{
    template_state *s = state;
    tj_log(ctx, TJ_LOG_DEBUG, "measured %lld records", (long long)s->seen);
    return 0;
}

/* 7. fini: free the state. */
static void template_fini(void *state) { free(state); }

/* 8. The descriptor, and the one exported symbol. */
static const tj_stage_desc template_stage = {
    .abi_version = TJ_ABI_VERSION,
    .struct_size = sizeof(tj_stage_desc),
    .name = "template",
    .description = "Copy-me example: stores the length of a field",
    .kind = TJ_TRANSFORM,
    .options = template_options,
    .config_size = sizeof(template_config),
    .init = template_init,
    .process = template_process,
    .flush = template_flush,
    .fini = template_fini,
};

TJ_STAGE_DEFINE(template_stage)
