/* The LAPACK/BLAS routines swiftw borrows from SciPy (scipy.linalg.cython_lapack / cython_blas).
 *
 * Fortran calling convention as SciPy's Cython wrappers expose it: every argument by pointer,
 * matrices column-major, 32-bit integers, no hidden string lengths. The Python package reads the
 * addresses from SciPy's PyCapsules at import (in every process) and hands them to Swift with
 * `_swiftw.set_lapack`; a symmetric C-ordered matrix is its own Fortran-ordered transpose. */
#ifndef SWIFTW_LAPACK_H
#define SWIFTW_LAPACK_H

/* Cholesky factor A = L L^T (uplo 'L') in place; info > 0: leading minor `info` not positive. */
typedef void (*swiftw_dpotrf_fn)(char *uplo, int *n, double *a, int *lda, int *info);
/* Band Cholesky factor A = L L^T (uplo 'L'), A in LAPACK band storage with kd sub-diagonals. */
typedef void (*swiftw_dpbtrf_fn)(char *uplo, int *n, int *kd, double *ab, int *ldab, int *info);
/* x := op(A)^-1 x, A triangular, x a vector with stride incx (level 2: no packing of A). */
typedef void (*swiftw_dtrsv_fn)(char *uplo, char *trans, char *diag, int *n, double *a, int *lda,
                                double *x, int *incx);
/* B := alpha op(A)^-1 B (side 'L') or alpha B op(A)^-1 (side 'R'), A triangular. */
typedef void (*swiftw_dtrsm_fn)(char *side, char *uplo, char *transa, char *diag, int *m, int *n,
                                double *alpha, double *a, int *lda, double *b, int *ldb);
/* C := alpha A A^T + beta C (trans 'N'), the triangle `uplo` of C only. */
typedef void (*swiftw_dsyrk_fn)(char *uplo, char *trans, int *n, int *k, double *alpha,
                                double *a, int *lda, double *beta, double *c, int *ldc);

/* C := alpha op(A) op(B) + beta C. */
typedef void (*swiftw_dgemm_fn)(char *transa, char *transb, int *m, int *n, int *k, double *alpha,
                                double *a, int *lda, double *b, int *ldb, double *beta, double *c,
                                int *ldc);

#endif
