/*
 * ring.h - bounded single-producer / single-consumer rings of pointers.
 *
 * Contract (the kfifo / rte_ring model):
 *  - Exactly one thread pushes and exactly one thread pops a given ring.
 *  - Capacity is a power of two; head and tail are free-running counters,
 *    so fill = tail - head and no slot is wasted.
 *  - The producer publishes slots with a release store of `tail`; the
 *    consumer frees them with a release store of `head`.  Each side caches
 *    the other's counter and re-reads it only when the cache says full or
 *    empty, so a batch costs two atomic operations, not two per item.
 *  - Neither side ever blocks inside the ring: blocking is done by the
 *    caller on a tj_waiter (an event count on a futex) that the other side
 *    wakes after it makes progress.  Wake-ups are only issued when someone
 *    is waiting, so the hot path has no system call.
 */
#ifndef TJ_RING_H
#define TJ_RING_H
#include "core.h"

#define TJ_CACHELINE 64

typedef struct tj_waiter {
    _Alignas(TJ_CACHELINE) atomic_uint seq;
    atomic_int sleepers;
} tj_waiter;

typedef struct tj_ring {
    _Alignas(TJ_CACHELINE) atomic_size_t head; /* consumer position */
    size_t cached_tail;                        /* consumer's view of tail */
    _Alignas(TJ_CACHELINE) atomic_size_t tail; /* producer position */
    size_t cached_head;                        /* producer's view of head */
    _Alignas(TJ_CACHELINE) size_t mask;
    void **slots;
    atomic_int closed;        /* producer will push no more */
    tj_waiter *consumer_wait; /* woken after a push or close */
    tj_waiter *producer_wait; /* woken after a pop */
} tj_ring;

/* Creates a ring of at least `capacity` slots (rounded up to a power of
 * two, minimum 2).  Wake-ups go to the given waiters (either may be NULL).
 * NULL when out of memory. */
tj_ring *tj__ring_new(size_t capacity, tj_waiter *consumer_wait,
                      tj_waiter *producer_wait);
/* Frees the ring (not what its slots point to).  NULL is a no-op. */
void tj__ring_free(tj_ring *r);
/* Producer: pushes up to n items, returns how many went in (0 when full).
 * Wakes the consumer's waiter when something went in. */
size_t tj__ring_push(tj_ring *r, void *const *items, size_t n);
/* Consumer: pops up to max items into out, returns the count (0 when
 * empty).  Wakes the producer's waiter when something came out. */
size_t tj__ring_pop(tj_ring *r, void **out, size_t max);
/* Producer: no more pushes; wakes the consumer. */
void tj__ring_close(tj_ring *r);
/* Consumer: true once the ring is closed and drained. */
bool tj__ring_finished(tj_ring *r);
/* Items in the ring right now (approximate from a third thread). */
size_t tj__ring_fill(const tj_ring *r);
size_t tj__ring_capacity(const tj_ring *r);

/* Waiting: snapshot = tj__waiter_prepare(w); re-check the condition; if
 * still unmet tj__waiter_wait(w, snapshot, timeout_ms); then
 * tj__waiter_done(w).  Never misses a wake that follows the snapshot. */
unsigned tj__waiter_prepare(tj_waiter *w);
void tj__waiter_wait(tj_waiter *w, unsigned snapshot, int timeout_ms);
void tj__waiter_done(tj_waiter *w);
/* Wakes every thread waiting on w (cheap when nobody waits). */
void tj__waiter_wake(tj_waiter *w);
#endif
