/* CPython shim for swiftw: the module `swiftw._swiftw`.
 *
 * No numerics and no validation of meaning here. Each kernel is called as
 * `_swiftw.<name>(*args)` where every argument is either a number (float or int) or an object
 * exporting a C-contiguous buffer. One helper acquires buffers (`acquire`), one maps a status to
 * an exception (`raise_status`); `call_kernel` releases the GIL around the Swift call and
 * releases every buffer on every path.
 *
 * Written against the stable ABI of CPython 3.11 (the first with the buffer protocol in it), so
 * one build serves every later CPython. */
#define PY_SSIZE_T_CLEAN
#define Py_LIMITED_API 0x030B0000
#include <Python.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include "swiftw_module.h"
#include "swiftw_xla_ffi.h"

#define MAX_ARGS 64

/* Buffer acquisition: C-contiguous, with format and shape, never a copy. */
static int acquire(PyObject *obj, Py_buffer *view, swiftw_array *out) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0) {
        return -1;
    }
    if (view->ndim > SWIFTW_MAX_NDIM) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "arrays of more than %d dimensions are not supported",
                     SWIFTW_MAX_NDIM);
        return -1;
    }
    const char *f = view->format ? view->format : "B";
    if (*f == '@' || *f == '=' || *f == '<') f++;
    int32_t format = '?';
    if (f[0] != '\0' && f[1] == '\0') {
        switch (f[0]) {
        case 'd': format = 'd'; break;
        case 'f': format = 'f'; break;
        case 'q': case 'l': format = view->itemsize == 8 ? 'q' : (view->itemsize == 4 ? 'i' : '?'); break;
        case 'i': format = view->itemsize == 4 ? 'i' : '?'; break;
        case 'B': case '?': format = 'B'; break;
        }
    }
    memset(out, 0, sizeof *out);
    out->data = view->buf;
    out->ndim = view->ndim;
    for (int d = 0; d < view->ndim; d++) out->shape[d] = view->shape[d];
    out->itemsize = view->itemsize;
    out->format = format;
    out->readonly = view->readonly;
    return 0;
}

/* Error mapping: one exception type per status code, the bridge's message verbatim. */
static PyObject *raise_status(const swiftw_status *status) {
    PyObject *type;
    switch (status->code) {
    case SWIFTW_TYPE_ERROR: type = PyExc_TypeError; break;
    case SWIFTW_VALUE_ERROR: type = PyExc_ValueError; break;
    case SWIFTW_INDEX_ERROR: type = PyExc_IndexError; break;
    case SWIFTW_MEMORY_ERROR: type = PyExc_MemoryError; break;
    case SWIFTW_INTERRUPTED: type = PyExc_KeyboardInterrupt; break;
    case SWIFTW_OVERFLOW_ERROR: type = PyExc_OverflowError; break;
    default: type = PyExc_RuntimeError; break;
    }
    PyErr_SetString(type, status->message);
    return NULL;
}

/* Ctrl-C while a kernel runs without the GIL: for the duration of the calls in flight, SIGINT
 * also sets the kernels' interrupt flag (then chains to the handler Python installed, which
 * records the signal for the interpreter). Kernels stop at their next checkpoint; the call then
 * runs the Python signal handlers, which raise KeyboardInterrupt. */
static pthread_mutex_t interrupt_lock = PTHREAD_MUTEX_INITIALIZER;
static int calls_in_flight = 0;
static int handler_installed = 0;
static struct sigaction python_action;

static void on_sigint(int signum) {
    swiftw_interrupt_set(1);
    if (python_action.sa_flags & SA_SIGINFO) return; /* not Python's kind of handler: never installed */
    if (python_action.sa_handler != SIG_DFL && python_action.sa_handler != SIG_IGN) {
        python_action.sa_handler(signum);
    }
}

void swiftw_interrupts_begin(void) {
    pthread_mutex_lock(&interrupt_lock);
    if (calls_in_flight++ == 0) {
        swiftw_interrupt_set(0);
        struct sigaction current;
        if (sigaction(SIGINT, NULL, &current) == 0 && !(current.sa_flags & SA_SIGINFO)
            && current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN) {
            struct sigaction ours = current;
            ours.sa_handler = on_sigint;
            python_action = current;
            handler_installed = sigaction(SIGINT, &ours, NULL) == 0;
        }
    }
    pthread_mutex_unlock(&interrupt_lock);
}

void swiftw_interrupts_end(void) {
    pthread_mutex_lock(&interrupt_lock);
    if (--calls_in_flight == 0 && handler_installed) {
        sigaction(SIGINT, &python_action, NULL);
        handler_installed = 0;
    }
    pthread_mutex_unlock(&interrupt_lock);
}

static PyObject *call_kernel(swiftw_kernel kernel, PyObject *args) {
    Py_ssize_t n = PyTuple_Size(args);
    if (n > MAX_ARGS) {
        PyErr_Format(PyExc_ValueError, "at most %d arguments", MAX_ARGS);
        return NULL;
    }
    Py_buffer views[MAX_ARGS];
    swiftw_array arrays[MAX_ARGS];
    double numbers[MAX_ARGS];
    int64_t narrays = 0, nnumbers = 0;
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GetItem(args, i); /* borrowed */
        if (PyFloat_Check(item) || PyLong_Check(item)) {
            double value = PyFloat_AsDouble(item);
            if (value == -1.0 && PyErr_Occurred()) goto done;
            numbers[nnumbers++] = value;
        } else {
            if (acquire(item, &views[narrays], &arrays[narrays]) != 0) goto done;
            narrays++;
        }
    }
    swiftw_status status;
    status.code = SWIFTW_OK;
    status.message[0] = '\0';
    swiftw_interrupts_begin();
    Py_BEGIN_ALLOW_THREADS
    kernel(arrays, narrays, numbers, nnumbers, &status);
    Py_END_ALLOW_THREADS
    swiftw_interrupts_end();
    if (status.code == SWIFTW_INTERRUPTED && PyErr_CheckSignals() != 0) {
        /* the Python handler raised (KeyboardInterrupt by default) */
    } else if (status.code != SWIFTW_OK) {
        raise_status(&status);
    } else {
        Py_INCREF(Py_None);
        result = Py_None;
    }
done:
    for (int64_t i = 0; i < narrays; i++) PyBuffer_Release(&views[i]);
    return result;
}

#define SWIFTW_WRAP(name) \
    static PyObject *py_##name(PyObject *self, PyObject *args) { \
        (void)self; return call_kernel(swiftw_##name, args); }
SWIFTW_KERNELS(SWIFTW_WRAP)

static PyObject *py_get_num_threads(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    return PyLong_FromLongLong(swiftw_get_num_threads());
}

/* {target name: PyCapsule of its XLA FFI handler} for jax.ffi.register_ffi_target; {} when built
 * without jaxlib's header. */
static PyObject *py_xla_ffi_handlers(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    int64_t count = 0;
    const swiftw_xla_handler *table = swiftw_xla_ffi_handlers(&count);
    PyObject *dict = PyDict_New();
    for (int64_t i = 0; dict != NULL && i < count; i++) {
        PyObject *capsule = PyCapsule_New(table[i].handler, NULL, NULL);
        if (capsule == NULL || PyDict_SetItemString(dict, table[i].name, capsule) != 0) Py_CLEAR(dict);
        Py_XDECREF(capsule);
    }
    return dict;
}

static PyObject *py_xla_ffi_token(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    return PyLong_FromLongLong(swiftw_xla_ffi_token());
}

#define SWIFTW_ENTRY(name) {#name, py_##name, METH_VARARGS, NULL},
static PyMethodDef methods[] = {
    SWIFTW_KERNELS(SWIFTW_ENTRY)
    {"get_num_threads", py_get_num_threads, METH_NOARGS, NULL},
    {"xla_ffi_handlers", py_xla_ffi_handlers, METH_NOARGS, NULL},
    {"xla_ffi_token", py_xla_ffi_token, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_swiftw",
    "Swift kernels of swiftw; call them through the swiftw package, which validates arguments.",
    -1, methods,
};

PyMODINIT_FUNC PyInit__swiftw(void) { return PyModule_Create(&module); }
