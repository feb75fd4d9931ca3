/*
 * out.c - the atomic file writer behind the jsonl and csv formats.
 *
 * Output goes to a temporary file beside the target (".NAME.tmp-XXXXXX" in
 * the same directory, so the final rename(2) is atomic) and replaces the
 * target only in ex_out_finish, after fsync.  A failed or crashed run leaves
 * the target untouched; the temporary is removed by ex_out_close (a crash
 * leaves only the hidden temporary).  With `append` the target is written in
 * place, synced at each checkpoint, and truncated back to the last
 * checkpoint when the run fails.  A ".gz" target is gzip: one member for a
 * whole file, one member per checkpoint when appending.
 */
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define OUT_CHUNK (1u << 20) /* bytes buffered before a write(2) */

/* Makes the writer fail for good with a message naming the target, the
 * temporary file and the system's reason; returns TJ_EFULL for a full disk
 * or file size limit, TJ_EIO otherwise. */
static int out_fail(ex_out *out, int err, const char *what)
{
    out->failed = true;
    if (out->tmp)
        snprintf(out->err, sizeof out->err, "cannot %s %s (temporary %s): %s",
                 what, out->path, out->tmp, strerror(err));
    else
        snprintf(out->err, sizeof out->err, "cannot %s %s: %s", what,
                 out->to_stdout ? "standard output" : out->path,
                 strerror(err));
    out->code =
        err == ENOSPC || err == EFBIG || err == EDQUOT ? TJ_EFULL : TJ_EIO;
    return out->code;
}

/* Writes all of p[0..n) to the file descriptor. */
static int write_all(ex_out *out, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(out->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return out_fail(out, errno, "write");
        if (w == 0)
            return out_fail(out, ENOSPC, "write");
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Compresses p[0..n) with `flush` and writes what deflate produces. */
static int deflate_out(ex_out *out, const char *p, size_t n, int flush)
{
    z_stream *zs = out->zs;
    unsigned char chunk[1 << 16];
    zs->next_in = (unsigned char *)p;
    zs->avail_in = (uInt)n;
    do {
        zs->next_out = chunk;
        zs->avail_out = sizeof chunk;
        int zr = deflate(zs, flush);
        if (zr == Z_STREAM_ERROR) {
            out->failed = true;
            snprintf(out->err, sizeof out->err, "gzip error writing %s",
                     out->path);
            return out->code = TJ_EIO;
        }
        size_t have = sizeof chunk - zs->avail_out;
        if (have && write_all(out, (char *)chunk, have))
            return out->code;
    } while (zs->avail_out == 0 || (flush == Z_FINISH && zs->avail_in));
    return 0;
}

/* Pushes the buffer to the file (through deflate when gz). */
static int drain(ex_out *out, int flush)
{
    int rc;
    if (out->gz)
        rc = deflate_out(out, out->buf.data, out->buf.len, flush);
    else
        rc = write_all(out, out->buf.data, out->buf.len);
    out->buf.len = 0;
    return rc;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

void ex_mkdir_parent(const char *path)
{
    char *d = strdup(path);
    char *dir = d ? dirname(d) : NULL;
    for (char *p = dir ? dir + 1 : NULL; p && *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(dir, 0755);
            *p = '/';
        }
    if (dir)
        mkdir(dir, 0755);
    free(d);
}

/* Creates the hidden temporary beside out->path. */
static int open_temp(ex_out *out)
{
    char *d = strdup(out->path), *b = strdup(out->path);
    int rc = TJ_ENOMEM;
    if (!d || !b)
        goto fail;
    const char *dir = dirname(d), *base = basename(b);
    size_t n = strlen(dir) + strlen(base) + 32;
    if (!(out->tmp = malloc(n)))
        goto fail;
    snprintf(out->tmp, n, "%s/.%s.tmp-XXXXXX", dir, base);
    ex_mkdir_parent(out->path);
    out->fd = mkstemp(out->tmp);
    if (out->fd < 0) {
        int e = errno;
        snprintf(out->err, sizeof out->err,
                 "cannot create a file in directory %s (for %s): %s", dir,
                 out->path, strerror(e));
        free(out->tmp);
        out->tmp = NULL;
        rc = TJ_EIO;
        goto fail;
    }
    fchmod(out->fd, 0644); /* mkstemp made it 0600 */
    rc = 0;
fail:
    free(d);
    free(b);
    return rc;
}

int ex_out_open(ex_out *out, const char *path, bool append, int gz_level)
{
    memset(out, 0, sizeof *out);
    out->fd = -1;
    out->append = append;
    out->to_stdout = strcmp(path, "-") == 0;
    out->gz = !out->to_stdout && ends_with(path, ".gz");
    out->gz_level = gz_level;
    if (!(out->path = strdup(path)))
        return TJ_ENOMEM;
    int rc;
    if (out->to_stdout) {
        out->fd = STDOUT_FILENO;
    } else if (append) {
        out->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (out->fd < 0)
            return out_fail(out, errno, "open for appending");
        struct stat sb;
        if (fstat(out->fd, &sb) == 0)
            out->committed = sb.st_size;
    } else if ((rc = open_temp(out))) {
        out->failed = true;
        return out->code = rc;
    }
    if (out->gz) {
        z_stream *zs = calloc(1, sizeof *zs);
        if (!zs || deflateInit2(zs, gz_level, Z_DEFLATED, 15 + 16, 8,
                                Z_DEFAULT_STRATEGY) != Z_OK) {
            free(zs);
            snprintf(out->err, sizeof out->err, "cannot start gzip for %s",
                     path);
            return TJ_ENOMEM;
        }
        out->zs = zs;
    }
    return 0;
}

off_t ex_out_initial_size(const ex_out *out) { return out->committed; }

int ex_out_write(ex_out *out, const void *p, size_t n)
{
    if (out->failed)
        return out->code;
    if (ex_buf_add(&out->buf, p, n))
        return TJ_ENOMEM;
    if (out->buf.len >= OUT_CHUNK)
        return drain(out, Z_NO_FLUSH);
    return 0;
}

/* fsync that tolerates descriptors that cannot be synced (pipes, ttys). */
static int sync_fd(ex_out *out)
{
    if (fsync(out->fd) == 0 || errno == EINVAL || errno == EROFS ||
        errno == ENOTSUP)
        return 0;
    return out_fail(out, errno, "sync");
}

int ex_out_checkpoint(ex_out *out)
{
    if (out->failed)
        return out->code;
    if (out->tmp)
        return 0;
    int rc = drain(out, out->gz ? Z_FINISH : Z_NO_FLUSH);
    if (!rc && out->gz)
        deflateReset(out->zs); /* the next batch starts a new member */
    if (!rc && !out->to_stdout)
        rc = sync_fd(out);
    if (!rc && !out->to_stdout)
        out->committed = lseek(out->fd, 0, SEEK_END);
    return rc;
}

/* Syncs the directory holding path so the rename itself is durable. */
static void sync_dir(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return;
    int fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(d);
}

int ex_out_finish(ex_out *out)
{
    if (out->failed)
        return out->code;
    if (!out->tmp) {
        int rc = ex_out_checkpoint(out);
        out->finished = !rc;
        return rc;
    }
    int rc = drain(out, out->gz ? Z_FINISH : Z_NO_FLUSH);
    if (!rc)
        rc = sync_fd(out);
    if (rc)
        return rc;
    if (close(out->fd) != 0) {
        out->fd = -1;
        return out_fail(out, errno, "close");
    }
    out->fd = -1;
    if (rename(out->tmp, out->path) != 0)
        return out_fail(out, errno, "rename the temporary over");
    sync_dir(out->path);
    free(out->tmp);
    out->tmp = NULL;
    out->finished = true;
    return 0;
}

void ex_out_close(ex_out *out)
{
    if (out->fd >= 0 && !out->to_stdout) {
        /* Appending: drop what no checkpoint committed (best effort). */
        if (out->append && !out->finished && ftruncate(out->fd, out->committed))
            out->failed = true;
        close(out->fd);
    }
    out->fd = -1;
    if (out->tmp)
        unlink(out->tmp);
    if (out->zs) {
        deflateEnd(out->zs);
        free(out->zs);
    }
    free(out->tmp);
    free(out->path);
    ex_buf_free(&out->buf);
    out->tmp = out->path = NULL;
    out->zs = NULL;
}
