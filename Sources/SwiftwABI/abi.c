/* The interrupt flag and the CPU count of swiftw_abi.h. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdatomic.h>
#include "swiftw_abi.h"

static atomic_int interrupt_flag;

void swiftw_interrupt_set(int32_t value) { atomic_store_explicit(&interrupt_flag, value, memory_order_relaxed); }

int32_t swiftw_interrupt_get(void) { return atomic_load_explicit(&interrupt_flag, memory_order_relaxed); }

int32_t swiftw_available_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    int count = CPU_COUNT(&set);
    return count > 0 ? count : 1;
}
