/* A software prefetch, for the kernels' reads whose addresses no hardware prefetcher can guess
 * (tiles scattered over a buffer larger than L2). Static inline: Swift inlines it. */
#ifndef SWIFTW_PREFETCH_H
#define SWIFTW_PREFETCH_H

static inline void swiftw_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
