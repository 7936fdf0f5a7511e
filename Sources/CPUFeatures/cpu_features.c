/* swiftw._cpu_features: what this x86-64 CPU and its operating system let a program use.
 *
 * swiftw ships its kernels compiled twice (x86-64-v3: AVX2 + FMA; x86-64-v4: AVX-512), and the
 * package picks one at import. That choice has to be made before either build is loaded, so it
 * lives in this separate, tiny module compiled for baseline x86-64. A feature counts only when the
 * CPU reports it (CPUID) and the operating system saves its registers (XGETBV), since a CPU with
 * AVX-512 under an OS that does not enable it still faults on the first zmm instruction.
 * Built by setuptools as an ordinary C extension on the stable ABI; not part of the Swift package. */
#define PY_SSIZE_T_CLEAN
#define Py_LIMITED_API 0x030B0000
#include <Python.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <stdint.h>

static uint64_t xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static int add(PyObject *dict, const char *name, int value) {
    PyObject *flag = PyBool_FromLong(value);
    int status = flag ? PyDict_SetItemString(dict, name, flag) : -1;
    Py_XDECREF(flag);
    return status;
}

static PyObject *features(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0, a7 = 0, b7 = 0, c7 = 0, d7 = 0;
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf >= 1) __get_cpuid(1, &a1, &b1, &c1, &d1);
    if (max_leaf >= 7) __get_cpuid_count(7, 0, &a7, &b7, &c7, &d7);
    int osxsave = (c1 >> 27) & 1;
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    int ymm_state = (xcr0 & 0x6) == 0x6;           /* SSE and AVX registers saved */
    int zmm_state = ymm_state && (xcr0 & 0xE0) == 0xE0; /* opmask and both halves of zmm */
    PyObject *dict = PyDict_New();
    if (dict == NULL) return NULL;
    if (add(dict, "avx", ymm_state && ((c1 >> 28) & 1)) || add(dict, "fma", ymm_state && ((c1 >> 12) & 1))
        || add(dict, "f16c", ymm_state && ((c1 >> 29) & 1)) || add(dict, "movbe", (c1 >> 22) & 1)
        || add(dict, "avx2", ymm_state && ((b7 >> 5) & 1)) || add(dict, "bmi1", (b7 >> 3) & 1)
        || add(dict, "bmi2", (b7 >> 8) & 1) || add(dict, "avx512f", zmm_state && ((b7 >> 16) & 1))
        || add(dict, "avx512dq", zmm_state && ((b7 >> 17) & 1))
        || add(dict, "avx512cd", zmm_state && ((b7 >> 28) & 1))
        || add(dict, "avx512bw", zmm_state && ((b7 >> 30) & 1))
        || add(dict, "avx512vl", zmm_state && ((b7 >> 31) & 1))) {
        Py_DECREF(dict);
        return NULL;
    }
    return dict;
}
#else
static PyObject *features(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    return PyDict_New();
}
#endif

static PyMethodDef methods[] = {
    {"features", features, METH_NOARGS,
     "features() -> dict[str, bool]: the x86-64 features this CPU reports and the OS enables."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cpu_features", "CPU features for choosing swiftw's kernel build.", -1, methods,
};

PyMODINIT_FUNC PyInit__cpu_features(void) { return PyModule_Create(&module); }
