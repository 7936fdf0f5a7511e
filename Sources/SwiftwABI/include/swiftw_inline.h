/* Small helpers the Swift kernels take from C, static inline so that Swift inlines them: a
 * software prefetch (for reads scattered over megabytes, which no hardware prefetcher guesses)
 * the three atomic operations of the curvature kernel's task queue, and a spin-wait hint for the
 * helper threads (Workers.swift). */
#ifndef SWIFTW_INLINE_H
#define SWIFTW_INLINE_H
#include <stdint.h>

static inline void swiftw_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/* Swift's SIMD4<Double>. */
typedef double swiftw_double4 __attribute__((ext_vector_type(4)));

/* A store that bypasses the caches (for whole lines read back only much later): no read for
 * ownership of the line. `address` must be 32-byte aligned (the type says so to the compiler:
 * a misaligned one faults); swiftw's scratch is 64-byte aligned, `streamCopy` aligns first. Write
 * whole 64-byte lines with it: a line only partly streamed leaves as a partial write. */
static inline void swiftw_stream(double *address, swiftw_double4 value) {
    __builtin_nontemporal_store(value, (swiftw_double4 *)address);
}

/* Orders earlier streaming stores before later stores (a release of streamed data). */
static inline void swiftw_stream_fence(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_sfence();
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* In a spin-wait loop: a short wait that saves power and leaves a sibling hyper-thread the core. */
static inline void swiftw_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

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
