/*
 * builtin.c - two stages compiled into the host for `taojin exec`:
 * `stdin` (a source) and `stdout` (a sink).  In body mode all of stdin is
 * one record's `body` and each record's `body` goes to stdout; in jsonl
 * mode each line is one JSON record (see json.c for the mapping).
 */
#include "builtin.h"
#include "ctx.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct io_config {
    const char *mode;
} io_config;

typedef struct io_state {
    const char *mode;
    FILE *fp;
    long line;
    bool done;
} io_state;

static const tj_option io_options[] = {
    {"mode", TJ_OPT_STRING, "body", 0, "body|jsonl",
     "body: all of stdin is one record's body; jsonl: one JSON record a line",
     offsetof(io_config, mode)},
    TJ_OPTION_END};

static int io_init(tj_ctx *ctx, const void *config, void **state)
{
    io_state *s = calloc(1, sizeof *s);
    if (!s)
        return TJ_ENOMEM;
    s->mode = ((const io_config *)config)->mode;
    *state = s;
    return 0;
}

static void io_fini(void *state) { free(state); }

/* Reads stdin to the end into one record. */
static int produce_body(tj_ctx *ctx, io_state *s)
{
    tj_buf b = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (tj__buf_add(&b, chunk, got))
            return TJ_ENOMEM;
    tj_record *r = tj__record_new();
    int rc = r ? tj__record_take_bytes(r, "body", b.data ? b.data : calloc(1, 1),
                                       b.len)
               : TJ_ENOMEM;
    if (rc) {
        tj__record_free(r);
        return rc;
    }
    tj__record_set_bytes(r, "url", "stdin:", 6);
    return tj__host_api()->emit(ctx, r) ? TJ_ECANCELED : 0;
}

static int stdin_produce(tj_ctx *ctx, void *state)
{
    io_state *s = state;
    if (strcmp(s->mode, "body") == 0)
        return produce_body(ctx, s) ? -1 : 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return 0;
    }
    s->line++;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    if (n == 0) {
        free(line);
        return 1;
    }
    tj_record *r = NULL;
    tj_err e;
    if (tj__record_from_json(line, (size_t)n, &r, &e)) {
        char msg[1200];
        snprintf(msg, sizeof msg, "stdin:%ld: %s", s->line, e.msg);
        r = tj__record_new();
        tj__record_set_bytes(r, "line", line, (size_t)n);
        tj__host_api()->fail(ctx, r, msg);
    } else {
        tj__host_api()->emit(ctx, r);
    }
    free(line);
    return 1;
}

static int stdout_process(tj_ctx *ctx, void *state, tj_record *rec)
{
    io_state *s = state;
    if (strcmp(s->mode, "body") == 0) {
        size_t len;
        const char *body = tj__record_get(rec, "body", &len);
        if (body && fwrite(body, 1, len, stdout) != len)
            return TJ_EIO;
        return 0;
    }
    tj_buf b = {0};
    int rc = tj__record_to_json(rec, &b);
    if (!rc)
        rc = tj__buf_add(&b, "\n", 1);
    if (!rc && fwrite(b.data, 1, b.len, stdout) != b.len)
        rc = TJ_EIO;
    tj__buf_free(&b);
    return rc;
}

static int stdout_flush(tj_ctx *ctx, void *state)
{
    return fflush(stdout) == 0 ? 0 : TJ_EIO;
}

const tj_stage_desc tj__stdin_stage = {
    .abi_version = TJ_ABI_VERSION,
    .struct_size = sizeof(tj_stage_desc),
    .name = "stdin",
    .description = "Reads records from standard input (built in)",
    .kind = TJ_SOURCE,
    .options = io_options,
    .config_size = sizeof(io_config),
    .init = io_init,
    .produce = stdin_produce,
    .fini = io_fini,
};

const tj_stage_desc tj__stdout_stage = {
    .abi_version = TJ_ABI_VERSION,
    .struct_size = sizeof(tj_stage_desc),
    .name = "stdout",
    .description = "Writes records to standard output (built in)",
    .kind = TJ_SINK,
    .options = io_options,
    .config_size = sizeof(io_config),
    .init = io_init,
    .process = stdout_process,
    .flush = stdout_flush,
    .fini = io_fini,
};
