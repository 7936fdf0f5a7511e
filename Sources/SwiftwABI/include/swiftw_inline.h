/* Small helpers the Swift kernels take from C, static inline so that Swift inlines them: a
 * software prefetch (for reads scattered over megabytes, which no hardware prefetcher guesses)
 * and the three atomic operations of the curvature kernel's task queue. */
#ifndef SWIFTW_INLINE_H
#define SWIFTW_INLINE_H
#include <stdint.h>

static inline void swiftw_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/* Returns the old value. */
static inline int64_t swiftw_fetch_add(int64_t *counter, int64_t value) {
    return __atomic_fetch_add(counter, value, __ATOMIC_ACQ_REL);
}

static inline void swiftw_store_release(int64_t *flag, int64_t value) {
    __atomic_store_n(flag, value, __ATOMIC_RELEASE);
}

static inline int64_t swiftw_load_acquire(const int64_t *flag) {
    return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

#endif
