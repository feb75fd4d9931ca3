/* ring.c - SPSC rings and futex event counts (contract in ring.h). */
#include "ring.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

tj_ring *tj__ring_new(size_t capacity, tj_waiter *consumer_wait,
                      tj_waiter *producer_wait)
{
    size_t cap = 2;
    while (cap < capacity)
        cap <<= 1;
    tj_ring *r = aligned_alloc(TJ_CACHELINE, sizeof *r);
    if (!r)
        return NULL;
    r->slots = calloc(cap, sizeof *r->slots);
    if (!r->slots) {
        free(r);
        return NULL;
    }
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->closed, 0);
    r->cached_head = r->cached_tail = 0;
    r->mask = cap - 1;
    r->consumer_wait = consumer_wait;
    r->producer_wait = producer_wait;
    return r;
}

void tj__ring_free(tj_ring *r)
{
    if (r) {
        free(r->slots);
        free(r);
    }
}

size_t tj__ring_push(tj_ring *r, void *const *items, size_t n)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t cap = r->mask + 1;
    if (tail - r->cached_head + n > cap)
        r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t room = cap - (tail - r->cached_head);
    if (n > room)
        n = room;
    for (size_t i = 0; i < n; i++)
        r->slots[(tail + i) & r->mask] = items[i];
    if (n) {
        atomic_store_explicit(&r->tail, tail + n, memory_order_release);
        if (r->consumer_wait)
            tj__waiter_wake(r->consumer_wait);
    }
    return n;
}

size_t tj__ring_pop(tj_ring *r, void **out, size_t max)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (r->cached_tail - head < max)
        r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    size_t n = r->cached_tail - head;
    if (n > max)
        n = max;
    for (size_t i = 0; i < n; i++)
        out[i] = r->slots[(head + i) & r->mask];
    if (n) {
        atomic_store_explicit(&r->head, head + n, memory_order_release);
        if (r->producer_wait)
            tj__waiter_wake(r->producer_wait);
    }
    return n;
}

void tj__ring_close(tj_ring *r)
{
    atomic_store_explicit(&r->closed, 1, memory_order_release);
    if (r->consumer_wait)
        tj__waiter_wake(r->consumer_wait);
}

bool tj__ring_finished(tj_ring *r)
{
    if (!atomic_load_explicit(&r->closed, memory_order_acquire))
        return false;
    return atomic_load_explicit(&r->tail, memory_order_acquire) ==
           atomic_load_explicit(&r->head, memory_order_relaxed);
}

size_t tj__ring_fill(const tj_ring *r)
{
    return atomic_load_explicit(&r->tail, memory_order_relaxed) -
           atomic_load_explicit(&r->head, memory_order_relaxed);
}

size_t tj__ring_capacity(const tj_ring *r) { return r->mask + 1; }

unsigned tj__waiter_prepare(tj_waiter *w)
{
    unsigned s = atomic_load(&w->seq);
    atomic_fetch_add(&w->sleepers, 1); /* seq_cst: pairs with wake's load */
    return s;
}

void tj__waiter_wait(tj_waiter *w, unsigned snapshot, int timeout_ms)
{
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    syscall(SYS_futex, (unsigned *)&w->seq, FUTEX_WAIT_PRIVATE, snapshot,
            timeout_ms >= 0 ? &ts : NULL, NULL, 0);
}

void tj__waiter_done(tj_waiter *w) { atomic_fetch_sub(&w->sleepers, 1); }

void tj__waiter_wake(tj_waiter *w)
{
    /* the full fence orders our earlier publish before reading sleepers */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&w->sleepers, memory_order_relaxed)) {
        atomic_fetch_add(&w->seq, 1);
        syscall(SYS_futex, (unsigned *)&w->seq, FUTEX_WAKE_PRIVATE, INT_MAX,
                NULL, NULL, 0);
    }
}
