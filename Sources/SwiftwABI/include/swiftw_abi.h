/* The C ABI between the CPython shim and the Swift bridge.
 *
 * Every exported kernel has the signature `swiftw_kernel`: the shim hands over the positional
 * arguments of the Python call, buffers first-class as `swiftw_array` (in call order) and numbers
 * as doubles (in call order), and gets back a status. The bridge validates everything it reads. */
#ifndef SWIFTW_ABI_H
#define SWIFTW_ABI_H
#include <stdint.h>

#define SWIFTW_MAX_NDIM 4
#define SWIFTW_MESSAGE_SIZE 512

/* A C-contiguous buffer. format: 'd' float64, 'f' float32, 'q' int64, 'i' int32, 'B' uint8,
 * anything else '?'. */
typedef struct {
    void *data;
    int64_t ndim;
    int64_t shape[SWIFTW_MAX_NDIM];
    int64_t itemsize;
    int32_t format;
    int32_t readonly;
} swiftw_array;

/* Status codes; the shim maps each to one Python exception. */
enum {
    SWIFTW_OK = 0,
    SWIFTW_TYPE_ERROR = 1,
    SWIFTW_VALUE_ERROR = 2,
    SWIFTW_INDEX_ERROR = 3,
    SWIFTW_MEMORY_ERROR = 4,
    SWIFTW_INTERRUPTED = 5,
    SWIFTW_OVERFLOW_ERROR = 6
};

typedef struct {
    int32_t code;
    char message[SWIFTW_MESSAGE_SIZE];
} swiftw_status;

typedef int32_t (*swiftw_kernel)(const swiftw_array *arrays, int64_t narrays,
                                 const double *numbers, int64_t nnumbers,
                                 swiftw_status *status);

/* The interrupt flag: set asynchronously (by the shim's SIGINT handler) to ask running kernels
 * to stop at their next checkpoint; read by the kernels. Lock-free atomics, safe in a signal
 * handler. */
void swiftw_interrupt_set(int32_t value);
int32_t swiftw_interrupt_get(void);

/* The number of CPUs this process may run on now (its affinity mask), at least 1. */
int32_t swiftw_available_cpus(void);

#endif
