/* Ring hand-off throughput: one producer thread, one consumer thread,
 * pointers only (no records), batched and unbatched.  Prints records/s and
 * ns/record; measures, never asserts. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ring.h"

typedef struct {
    tj_ring *r;
    tj_waiter *pw;
    size_t batch;
    uint64_t total;
} arg_t;

static void *produce(void *p)
{
    arg_t *a = p;
    void *buf[256];
    for (size_t i = 0; i < 256; i++)
        buf[i] = (void *)(uintptr_t)(i + 1);
    uint64_t sent = 0;
    while (sent < a->total) {
        size_t want = a->batch, done = 0;
        while (done < want) {
            size_t got = tj__ring_push(a->r, buf + done, want - done);
            if (!got) {
                unsigned s = tj__waiter_prepare(a->pw);
                got = tj__ring_push(a->r, buf + done, want - done);
                if (!got)
                    tj__waiter_wait(a->pw, s, 10);
                tj__waiter_done(a->pw);
            }
            done += got;
        }
        sent += want;
    }
    tj__ring_close(a->r);
    return NULL;
}

static void run(const char *label, size_t batch, uint64_t total)
{
    tj_waiter cw = {0}, pw = {0};
    tj_ring *r = tj__ring_new(4096, &cw, &pw);
    arg_t a = {r, &pw, batch, total};
    pthread_t t;
    uint64_t t0 = tj__now_ns(), got = 0;
    pthread_create(&t, NULL, produce, &a);
    void *out[256];
    for (;;) {
        size_t n = tj__ring_pop(r, out, batch);
        if (!n) {
            if (tj__ring_finished(r))
                break;
            unsigned s = tj__waiter_prepare(&cw);
            n = tj__ring_pop(r, out, batch);
            if (!n && !tj__ring_finished(r))
                tj__waiter_wait(&cw, s, 10);
            tj__waiter_done(&cw);
        }
        got += n;
    }
    pthread_join(t, NULL);
    double secs = (double)(tj__now_ns() - t0) / 1e9;
    printf("  %-28s %8.1f M records/s  %6.2f ns/record  (%llu records)\n", label,
           (double)got / secs / 1e6, secs * 1e9 / (double)got, (unsigned long long)got);
    tj__ring_free(r);
}

int main(int argc, char **argv)
{
    uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000000ull;
    printf("SPSC ring hand-off (target >= 50 M records/s batched):\n");
    run("batched (64 per op)", 64, total);
    run("batched (256 per op)", 256, total);
    run("unbatched (1 per op)", 1, total / 10);
    return 0;
}
