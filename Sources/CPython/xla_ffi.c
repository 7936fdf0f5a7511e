/* XLA FFI handlers: swiftw's kernels as custom calls inside `jax.jit` (CPU), for swiftw.jax.
 *
 * A second shim onto the same bridge ABI as module.c, so it lives beside it: XLA's buffers
 * become `swiftw_array`s (zero copy), attributes become the kernel's numbers, the kernel's status
 * becomes an XLA error carrying swiftw's message. No numerics and no validation of meaning: the
 * Swift bridge checks every buffer and index. Leading dimensions beyond a kernel's own are a
 * batch (jax.vmap with vmap_method="broadcast_all"): one call runs the kernel per item, each
 * item on swiftw's threads. Built only where jaxlib's C header is on the include path. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "swiftw_module.h"
#include "swiftw_xla_ffi.h"

static int64_t token;
static pthread_once_t token_once = PTHREAD_ONCE_INIT;

static void make_token(void) {
    uint64_t bits = 0;
    if (getrandom(&bits, sizeof bits, 0) != (ssize_t)sizeof bits) {
        bits = (uint64_t)time(NULL) * 6364136223846793005ull ^ (uint64_t)getpid();
    }
    token = (int64_t)(bits >> 11) + 1; /* positive, below 2^53: exact as the double the kernels' numbers are */
}

int64_t swiftw_xla_ffi_token(void) {
    pthread_once(&token_once, make_token);
    return token;
}

#if __has_include("xla/ffi/api/c_api.h")
#include "xla/ffi/api/c_api.h"

static XLA_FFI_Error *fail(const XLA_FFI_Api *api, XLA_FFI_Error_Code code, const char *message) {
    XLA_FFI_Error_Create_Args args;
    memset(&args, 0, sizeof args);
    args.struct_size = XLA_FFI_Error_Create_Args_STRUCT_SIZE;
    args.message = message;
    args.errc = code;
    return api->XLA_FFI_Error_Create(&args);
}

static XLA_FFI_Error_Code code_of(int32_t status) {
    switch (status) {
    case SWIFTW_TYPE_ERROR: case SWIFTW_VALUE_ERROR: return XLA_FFI_Error_Code_INVALID_ARGUMENT;
    case SWIFTW_INDEX_ERROR: case SWIFTW_OVERFLOW_ERROR: return XLA_FFI_Error_Code_OUT_OF_RANGE;
    case SWIFTW_MEMORY_ERROR: return XLA_FFI_Error_Code_RESOURCE_EXHAUSTED;
    case SWIFTW_INTERRUPTED: return XLA_FFI_Error_Code_CANCELLED;
    default: return XLA_FFI_Error_Code_INTERNAL;
    }
}

static int32_t format_of(XLA_FFI_DataType dtype) {
    switch (dtype) {
    case XLA_FFI_DataType_F64: return 'd';
    case XLA_FFI_DataType_F32: return 'f';
    case XLA_FFI_DataType_S64: return 'q';
    case XLA_FFI_DataType_S32: return 'i';
    default: return '?';
    }
}

static int64_t itemsize_of(XLA_FFI_DataType dtype) {
    return dtype == XLA_FFI_DataType_F32 || dtype == XLA_FFI_DataType_S32 ? 4 : 8;
}

/* The scalar attribute `name` as a double (the kernels take numbers as doubles). */
static int attribute(const XLA_FFI_CallFrame *frame, const char *name, double *value) {
    size_t length = strlen(name);
    for (int64_t i = 0; i < frame->attrs.size; i++) {
        const XLA_FFI_ByteSpan *key = frame->attrs.names[i];
        if (frame->attrs.types[i] != XLA_FFI_AttrType_SCALAR || key->len != length
            || memcmp(key->ptr, name, length) != 0) continue;
        const XLA_FFI_Scalar *scalar = frame->attrs.attrs[i];
        switch (scalar->dtype) {
        case XLA_FFI_DataType_S64: *value = (double)*(const int64_t *)scalar->value; return 0;
        case XLA_FFI_DataType_S32: *value = (double)*(const int32_t *)scalar->value; return 0;
        case XLA_FFI_DataType_F64: *value = *(const double *)scalar->value; return 0;
        default: return -1;
        }
    }
    return -1;
}

/* One kernel's custom call: `arrays` buffers (results first, then arguments, the kernel's
 * order), each with `ranks[i]` trailing dimensions of its own; the numbers are the last `scalars`
 * arguments (float64 scalars per batch item, traced values such as a coefficient), then the
 * attributes `names` in order. Every call carries this process's token: an operator's handle is
 * valid here only. */
typedef struct {
    swiftw_kernel kernel;
    int64_t results, arguments;
    const int64_t *ranks;
    const char *const *names;
    int64_t nnumbers;
    int64_t scalars;
} call_spec;

static XLA_FFI_Error *run(XLA_FFI_CallFrame *frame, const call_spec *spec) {
    const XLA_FFI_Api *api = frame->api;
    if (frame->extension_start != NULL && frame->extension_start->type == XLA_FFI_Extension_Metadata) {
        XLA_FFI_Metadata_Extension *extension = (XLA_FFI_Metadata_Extension *)frame->extension_start;
        extension->metadata->api_version.struct_size = XLA_FFI_Api_Version_STRUCT_SIZE;
        extension->metadata->api_version.extension_start = NULL;
        extension->metadata->api_version.major_version = XLA_FFI_API_MAJOR;
        extension->metadata->api_version.minor_version = XLA_FFI_API_MINOR;
        extension->metadata->traits = 0;
        return NULL;
    }
    if (frame->stage != XLA_FFI_ExecutionStage_EXECUTE) return NULL;
    if (frame->rets.size != spec->results || frame->args.size != spec->arguments) {
        return fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT, "swiftw: wrong number of buffers in the custom call");
    }
    double token_given = 0;
    if (attribute(frame, "token", &token_given) != 0 || token_given != (double)swiftw_xla_ffi_token()) {
        return fail(api, XLA_FFI_Error_Code_FAILED_PRECONDITION,
                    "swiftw: this compiled call holds a CurvatureOperator of another process; trace it again here");
    }
    double numbers[8];
    for (int64_t i = 0; i < spec->nnumbers; i++) {
        if (attribute(frame, spec->names[i], &numbers[spec->scalars + i]) != 0) {
            return fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT, "swiftw: a scalar attribute is missing");
        }
    }
    int64_t count = spec->results + spec->arguments;
    const XLA_FFI_Buffer *buffers[8];
    swiftw_array arrays[8];
    int64_t batch = -1, strides[8];
    for (int64_t i = 0; i < count; i++) {
        buffers[i] = i < spec->results ? frame->rets.rets[i] : frame->args.args[i - spec->results];
        int64_t own = spec->ranks[i], lead = buffers[i]->rank - own, items = 1, size = 1;
        if (lead < 0) return fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT, "swiftw: a buffer has too few dimensions");
        for (int64_t d = 0; d < lead; d++) items *= buffers[i]->dims[d];
        if (batch >= 0 && items != batch) {
            return fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT, "swiftw: the buffers' batch dimensions differ");
        }
        batch = items;
        memset(&arrays[i], 0, sizeof arrays[i]);
        if (own > SWIFTW_MAX_NDIM) return fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT, "swiftw: too many dimensions");
        arrays[i].ndim = own;
        for (int64_t d = 0; d < own; d++) {
            arrays[i].shape[d] = buffers[i]->dims[lead + d];
            size *= buffers[i]->dims[lead + d];
        }
        arrays[i].itemsize = itemsize_of(buffers[i]->dtype);
        arrays[i].format = format_of(buffers[i]->dtype);
        arrays[i].readonly = i >= spec->results;
        strides[i] = size * arrays[i].itemsize;
    }
    swiftw_status status;
    status.code = SWIFTW_OK;
    status.message[0] = '\0';
    int64_t kernel_arrays = count - spec->scalars;
    for (int64_t i = kernel_arrays; i < count; i++) {
        if (buffers[i]->dtype != XLA_FFI_DataType_F64 || strides[i] != 8) {
            return fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT, "swiftw: a scalar argument is not one float64");
        }
    }
    swiftw_interrupts_begin();
    for (int64_t item = 0; item < batch && status.code == SWIFTW_OK; item++) {
        for (int64_t i = 0; i < count; i++) arrays[i].data = (char *)buffers[i]->data + item * strides[i];
        for (int64_t k = 0; k < spec->scalars; k++) numbers[k] = *(const double *)arrays[kernel_arrays + k].data;
        spec->kernel(arrays, kernel_arrays, numbers, spec->scalars + spec->nnumbers, &status);
    }
    swiftw_interrupts_end();
    if (status.code == SWIFTW_OK) return NULL;
    char message[SWIFTW_MESSAGE_SIZE + 16];
    snprintf(message, sizeof message, "swiftw: %s", status.message);
    return fail(api, code_of(status.code), message);
}

static const char *const operator_numbers[] = {"handle", "pixels", "method"};

/* F (.., S, S) of pix_indexes (.., M, B) int64, pix_weights (.., M, B) float64. */
static XLA_FFI_Error *curvature(XLA_FFI_CallFrame *frame) {
    static const int64_t ranks[] = {2, 2, 2};
    static const call_spec spec = {swiftw_operator_curvature, 1, 2, ranks, operator_numbers, 3, 0};
    return run(frame, &spec);
}

/* The weights' cotangent (.., M, B) of pix_indexes, pix_weights and F's cotangent (.., S, S). */
static XLA_FFI_Error *curvature_vjp(XLA_FFI_CallFrame *frame) {
    static const int64_t ranks[] = {2, 2, 2, 2};
    static const call_spec spec = {swiftw_operator_curvature_vjp, 1, 3, ranks, operator_numbers, 2, 0};
    return run(frame, &spec);
}

static const char *const solve_numbers[] = {"positive_only", "max_iterations", "strategy"};

/* The reconstruction (.., S) and (log det A, iterations, zeros) (.., 3) of A (.., S, S), d (.., S). */
static XLA_FFI_Error *positive_only(XLA_FFI_CallFrame *frame) {
    static const int64_t ranks[] = {1, 1, 2, 1};
    static const call_spec spec = {swiftw_positive_only, 2, 2, ranks, solve_numbers, 3, 0};
    return run(frame, &spec);
}

static const char *const regularization_numbers[] = {"rows_end_at_sizes"};

/* log det H (.., 1) of neighbors (S, P) int64, neighbors_sizes (S,) int64 and the coefficient
 * (.., a float64 scalar): H's banded Cholesky in Swift. */
static XLA_FFI_Error *log_det_regularization(XLA_FFI_CallFrame *frame) {
    static const int64_t ranks[] = {1, 2, 1, 0};
    static const call_spec spec = {swiftw_log_det_regularization, 1, 3, ranks, regularization_numbers, 1, 1};
    return run(frame, &spec);
}

static const swiftw_xla_handler handlers[] = {
    {"swiftw_curvature_matrix", (void *)curvature},
    {"swiftw_curvature_matrix_vjp", (void *)curvature_vjp},
    {"swiftw_positive_only", (void *)positive_only},
    {"swiftw_log_det_regularization", (void *)log_det_regularization},
};

const swiftw_xla_handler *swiftw_xla_ffi_handlers(int64_t *count) {
    *count = (int64_t)(sizeof handlers / sizeof handlers[0]);
    return handlers;
}

#else

const swiftw_xla_handler *swiftw_xla_ffi_handlers(int64_t *count) {
    *count = 0;
    return NULL;
}

#endif
