/* The interrupt flag of swiftw_abi.h. */
#include <stdatomic.h>
#include "swiftw_abi.h"

static atomic_int interrupt_flag;

void swiftw_interrupt_set(int32_t value) { atomic_store_explicit(&interrupt_flag, value, memory_order_relaxed); }

int32_t swiftw_interrupt_get(void) { return atomic_load_explicit(&interrupt_flag, memory_order_relaxed); }
