/* util.c - errors, growable buffers, logging and the clock. */
#include "core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <pthread.h>
#include <libgen.h>
#include <sys/stat.h>

int tj__log_level = TJ_LOG_INFO;

/* Formats the message into err when given and returns `code` unchanged. */
int tj__errf(tj_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    if (err) {
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Returns the static text of a TJ_E* code ("unknown error" otherwise). */
const char *tj__strerror(int code)
{
    switch (code) {
#define TJ__ERR_CASE(name, num, text)                                          \
    case num:                                                                  \
        return text;
        TJ_ERRNO_MAP(TJ__ERR_CASE)
#undef TJ__ERR_CASE
    }
    return "unknown error";
}

/* Appends n bytes, growing geometrically; keeps a NUL after the data. */
int tj__buf_add(tj_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return TJ_ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

/* Appends printf-formatted text. */
int tj__buf_addf(tj_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return TJ_EINVAL;
    if ((size_t)n < sizeof small)
        return tj__buf_add(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return TJ_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = tj__buf_add(b, big, (size_t)n);
    free(big);
    return rc;
}

/* Frees the buffer's memory and leaves it empty and reusable. */
void tj__buf_free(tj_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Writes "taojin: LEVEL: [who: ]message" to stderr as one line. */
void tj__logv(tj_log_level level, const char *who, const char *fmt,
              va_list ap)
{
    if ((int)level > tj__log_level)
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    pthread_mutex_lock(&log_lock);
    if (who)
        fprintf(stderr, "taojin: %s: %s: %s\n", level_names[level], who, msg);
    else
        fprintf(stderr, "taojin: %s: %s\n", level_names[level], msg);
    pthread_mutex_unlock(&log_lock);
}

void tj__log(tj_log_level level, const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tj__logv(level, who, fmt, ap);
    va_end(ap);
}

/* Maps "error|warn|info|debug" to a level; -1 when unknown. */
int tj__parse_log_level(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    if (strcasecmp(s, "warning") == 0)
        return TJ_LOG_WARN;
    return -1;
}

uint64_t tj__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Creates the directories above path (like mkdir -p on its dirname). */
int tj__mkdir_parent(const char *path)
{
    char *copy = strdup(path), *dir = copy ? dirname(copy) : NULL;
    for (char *p = dir ? dir + 1 : NULL; p && *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(dir, 0755);
            *p = '/';
        }
    int rc = dir && (mkdir(dir, 0755) == 0 || errno == EEXIST) ? 0 : TJ_EIO;
    free(copy);
    return rc;
}
