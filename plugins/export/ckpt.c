/*
 * ckpt.c - checkpoints the SQLite WAL from a thread of its own, so that
 * their syncs overlap the next batches instead of stalling the writer.
 *
 * A checkpoint copies the WAL's pages into the database: it syncs the WAL,
 * writes the pages and syncs the database.  SQLite's automatic checkpoint
 * runs inside the COMMIT that crosses the threshold, so the writer waits
 * for both syncs: on a run of fresh upserts that was a third of the wall
 * time.  Here the writer's WAL hook only wakes a thread holding a second
 * connection to the file, which runs a PASSIVE checkpoint (it never blocks
 * the writer) and then syncs the database file, while the writer goes on.
 *
 * The WAL starts again from its beginning only when a write transaction
 * begins with every frame copied, which never happens while the thread
 * lags behind a writer that does not pause.  So once a pass has left
 * little behind (ckpt_on_commit), the writer copies that rest itself (a
 * small checkpoint with short syncs) and the next transaction restarts the
 * WAL.  If the disk cannot keep up and the WAL reaches CKPT_MAX_FACTOR
 * times the threshold, the writer waits for the thread and checkpoints
 * itself, as SQLite's automatic checkpoint would have.
 *
 * Durability is unchanged: commits are as durable as before (WAL,
 * synchronous=NORMAL) and checkpoints sync as before.  Their errors are
 * ignored, as SQLite ignores those of its automatic checkpoint: the WAL
 * still holds the data and the next checkpoint, or the close, retries.
 */
#include "export.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>

/* The writer copies the rest itself when at most limit / CKPT_TAIL_DIV
 * frames are left; more go to the thread again. */
#define CKPT_TAIL_DIV 4
/* The WAL size, in thresholds, at which the writer stops for a checkpoint. */
#define CKPT_MAX_FACTOR 4

int ex_ckpt_passes;

struct ex_ckpt {
    sqlite3 *db; /* the writer's connection: the hook runs in its thread */
    sqlite3 *bg; /* the thread's own connection to the same file */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int limit;      /* WAL frames that start a checkpoint */
    int backfilled; /* frames of the current WAL copied by the thread */
    bool want, busy, stop;
};

/* One pass of the thread: a PASSIVE checkpoint, then a sync of the
 * database file.  SQLite syncs the database only after a checkpoint that
 * copied the whole WAL, which a pass never does while the writer goes on;
 * without this sync the writer's next checkpoint would wait for every page
 * the pass wrote.  Returns the WAL's frames copied so far, -1 on error. */
static int ckpt_pass(ex_ckpt *c)
{
    int nlog = -1, ncopied = -1;
    if (sqlite3_wal_checkpoint_v2(c->bg, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                  &nlog, &ncopied) != SQLITE_OK)
        return -1;
    sqlite3_file *f = NULL;
    if (sqlite3_file_control(c->bg, NULL, SQLITE_FCNTL_FILE_POINTER, &f) !=
            SQLITE_OK ||
        !f || !f->pMethods ||
        f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) != SQLITE_OK)
        return -1;
    return ncopied;
}

/* The thread: runs a pass each time it is asked and records how far it
 * got, until told to stop. */
static void *ckpt_main(void *arg)
{
    ex_ckpt *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->want && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        c->want = false;
        c->busy = true;
        pthread_mutex_unlock(&c->mu);
        int ncopied = ckpt_pass(c);
        pthread_mutex_lock(&c->mu);
        c->busy = false;
        __atomic_add_fetch(&ex_ckpt_passes, 1, __ATOMIC_RELAXED);
        if (ncopied > 0)
            c->backfilled = ncopied;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* The writer checkpoints itself; when that copies everything, the WAL
 * restarts at the next transaction.  Called with the mutex held and the
 * thread idle. */
static void ckpt_here(ex_ckpt *c)
{
    sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                              NULL);
    c->backfilled = 0;
}

/* The WAL hook: runs in the writer after each commit, with the WAL's size
 * in frames.  Wakes the thread, copies a small rest itself, or waits when
 * the WAL has grown too large.  Always SQLITE_OK: the commit is done. */
static int ckpt_on_commit(void *arg, sqlite3 *db, const char *name, int nframe)
{
    ex_ckpt *c = arg;
    (void)db;
    (void)name;
    if (nframe < c->limit)
        return SQLITE_OK;
    pthread_mutex_lock(&c->mu);
    if (nframe >= CKPT_MAX_FACTOR * c->limit) {
        while (c->want || c->busy)
            pthread_cond_wait(&c->cv, &c->mu);
        ckpt_here(c);
    } else if (!c->want && !c->busy) {
        if (nframe < c->backfilled)
            c->backfilled = 0; /* restarted by another connection */
        if (nframe - c->backfilled <= c->limit / CKPT_TAIL_DIV) {
            ckpt_here(c);
        } else {
            c->want = true;
            pthread_cond_signal(&c->cv);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return SQLITE_OK;
}

/* Starts the thread with every signal blocked, so that signals keep going
 * to the host's threads (which decide how a run stops).  0 or -1. */
static int ckpt_spawn(ex_ckpt *c)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&c->thread, NULL, ckpt_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc ? -1 : 0;
}

/* Opens the thread's connection, with the writer's synchronous setting,
 * and reads the schema once so that it has the WAL open before its first
 * checkpoint.  0 or -1. */
static int ckpt_connect(ex_ckpt *c, const char *path)
{
    if (sqlite3_open_v2(path, &c->bg,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return -1;
    return sqlite3_exec(c->bg,
                        "PRAGMA synchronous=NORMAL;"
                        "SELECT count(*) FROM sqlite_schema",
                        NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : -1;
}

ex_ckpt *ex_ckpt_start(sqlite3 *db, const char *path, int limit)
{
    ex_ckpt *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->db = db;
    c->limit = limit > CKPT_TAIL_DIV ? limit : CKPT_TAIL_DIV;
    if (pthread_mutex_init(&c->mu, NULL))
        goto fail_mu;
    if (pthread_cond_init(&c->cv, NULL))
        goto fail_cv;
    if (ckpt_connect(c, path) || ckpt_spawn(c))
        goto fail;
    sqlite3_wal_hook(db, ckpt_on_commit, c);
    return c;
fail:
    sqlite3_close(c->bg);
    pthread_cond_destroy(&c->cv);
fail_cv:
    pthread_mutex_destroy(&c->mu);
fail_mu:
    free(c);
    return NULL;
}

void ex_ckpt_stop(ex_ckpt *c)
{
    if (!c)
        return;
    sqlite3_wal_autocheckpoint(c->db, c->limit); /* replaces the hook */
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    sqlite3_close(c->bg);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
