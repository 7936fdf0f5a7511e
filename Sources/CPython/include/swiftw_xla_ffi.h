/* XLA FFI handlers of swiftw's kernels (xla_ffi.c), for `swiftw.jax`: what the module exports
 * as PyCapsules. Empty when built without jaxlib's header `xla/ffi/api/c_api.h`. */
#ifndef SWIFTW_XLA_FFI_H
#define SWIFTW_XLA_FFI_H
#include <stdint.h>

typedef struct {
    const char *name;  /* the target name swiftw.jax registers it under */
    void *handler;     /* an XLA_FFI_Handler */
} swiftw_xla_handler;

/* The handlers and their number (0 without the header). */
const swiftw_xla_handler *swiftw_xla_ffi_handlers(int64_t *count);

/* A random number fixed for this process: compiled calls carry it beside an operator's handle,
 * so a call compiled in another process (a persistent compilation cache) fails, never reads a
 * different operator of the same handle. */
int64_t swiftw_xla_ffi_token(void);

/* Ctrl-C during kernels run outside the CPython shim (module.c): begin before, end after. */
void swiftw_interrupts_begin(void);
void swiftw_interrupts_end(void);
#endif
