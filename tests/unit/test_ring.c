/* SPSC rings: capacity rounding, wrap-around, batches, close, and a
 * two-thread stress test that checks every item arrives once, in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "ring.h"

static void test_capacity_and_wrap(void **st)
{
    tj_ring *r = tj__ring_new(5, NULL, NULL);
    assert_int_equal(tj__ring_capacity(r), 8);
    void *items[8], *out[8];
    for (uintptr_t i = 0; i < 8; i++)
        items[i] = (void *)(i + 1);
    for (int round = 0; round < 5; round++) { /* crosses the wrap point */
        assert_int_equal(tj__ring_push(r, items, 3), 3);
        assert_int_equal(tj__ring_fill(r), 3);
        assert_int_equal(tj__ring_pop(r, out, 8), 3);
        assert_ptr_equal(out[0], items[0]);
        assert_ptr_equal(out[2], items[2]);
    }
    assert_int_equal(tj__ring_push(r, items, 8), 8);
    assert_int_equal(tj__ring_push(r, items, 1), 0); /* full */
    assert_int_equal(tj__ring_pop(r, out, 2), 2);
    assert_int_equal(tj__ring_push(r, items, 5), 2); /* partial */
    assert_false(tj__ring_finished(r));
    tj__ring_close(r);
    assert_false(tj__ring_finished(r)); /* closed but not drained */
    assert_int_equal(tj__ring_pop(r, out, 8), 8);
    assert_true(tj__ring_finished(r));
    tj__ring_free(r);
    tj__ring_free(NULL);
}


typedef struct {
    uintptr_t total;
    tj_ring *r;
    tj_waiter *cw, *pw;
    size_t batch;
} stress_arg;

static void *producer(void *p)
{
    stress_arg *a = p;
    void *buf[64];
    uintptr_t next = 1;
    while (next <= a->total) {
        size_t n = 0;
        while (n < a->batch && next + n <= a->total) {
            buf[n] = (void *)(next + n);
            n++;
        }
        size_t done = 0;
        while (done < n) {
            size_t got = tj__ring_push(a->r, buf + done, n - done);
            if (!got) {
                unsigned s = tj__waiter_prepare(a->pw);
                got = tj__ring_push(a->r, buf + done, n - done);
                if (!got)
                    tj__waiter_wait(a->pw, s, 100);
                tj__waiter_done(a->pw);
            }
            done += got;
        }
        next += n;
    }
    tj__ring_close(a->r);
    return NULL;
}

/* Pushes `total` sequential values from another thread through a ring of
 * `cap` slots in batches of `batch`; checks order and count. */
static void run_stress(size_t batch, size_t cap, uintptr_t total)
{
    tj_waiter cw = {0}, pw = {0};
    tj_ring *r = tj__ring_new(cap, &cw, &pw);
    stress_arg a = {total, r, &cw, &pw, batch};
    pthread_t t;
    pthread_create(&t, NULL, producer, &a);
    uintptr_t expect = 1;
    void *out[64];
    int order_ok = 1;
    for (;;) {
        size_t n = tj__ring_pop(r, out, batch);
        if (!n) {
            if (tj__ring_finished(r))
                break;
            unsigned s = tj__waiter_prepare(&cw);
            n = tj__ring_pop(r, out, batch);
            if (!n && !tj__ring_finished(r))
                tj__waiter_wait(&cw, s, 100);
            tj__waiter_done(&cw);
        }
        for (size_t i = 0; i < n; i++)
            order_ok &= (uintptr_t)out[i] == expect++;
    }
    pthread_join(t, NULL);
    assert_true(order_ok);
    assert_int_equal(expect - 1, total);
    tj__ring_free(r);
}

static void test_stress_unbatched_tiny_ring(void **st) { run_stress(1, 2, 100000); }
static void test_stress_batched(void **st) { run_stress(64, 1024, 4000000); }
static void test_stress_batched_small_ring(void **st) { run_stress(7, 16, 500000); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_and_wrap),
        cmocka_unit_test(test_stress_unbatched_tiny_ring),
        cmocka_unit_test(test_stress_batched),
        cmocka_unit_test(test_stress_batched_small_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
