/*
 * httpd_client.h - starts and stops tests/httpd/server.py for the fetch
 * stage's cmocka programs (one copy of what both need).  Include once, after
 * the system headers; it defines base ("http://127.0.0.1:PORT") and tmpdir
 * (a scratch directory holding the port file, removed by httpd_stop).
 */
#ifndef HTTPD_CLIENT_H
#define HTTPD_CLIENT_H
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static pid_t server_pid;
static char base[64]; /* http://127.0.0.1:PORT */
static char tmpdir[256];

/* Creates tmpdir from `pattern` (mkdtemp), starts the server on a free
 * loopback port and waits (up to 10 s) for it to say which.  0 or -1. */
static int httpd_start(const char *pattern)
{
    char pf[300], top[1024], seeds[1024];
    const char *t = getenv("TJ_TOP"), *shared = getenv("TJ_SHARED");
    snprintf(tmpdir, sizeof tmpdir, "%s", pattern);
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(top, sizeof top, "%s/tests/httpd/server.py", t ? t : ".");
    snprintf(pf, sizeof pf, "%s/port", tmpdir);
    snprintf(seeds, sizeof seeds, "%s/seeds", shared ? shared : "../shared");
    char *argv[] = {"python3", top, "--port-file", pf, "--seeds", seeds,
                    "--max-seconds", "300", NULL};
    if (posix_spawnp(&server_pid, "python3", NULL, NULL, argv, environ))
        return -1;
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(pf, "r");
        int port = 0;
        if (f && fscanf(f, "%d", &port) == 1 && port > 0) {
            fclose(f);
            snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
            return 0;
        }
        if (f)
            fclose(f);
        usleep(50000);
    }
    return -1;
}

/* Stops the server and removes tmpdir.  0 or -1. */
static int httpd_stop(void)
{
    char cmd[400];
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}
#endif
