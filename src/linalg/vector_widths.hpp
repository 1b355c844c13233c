#pragma once
// glibc 2.35 and later ship vector variants of the elementary functions (libmvec, within 4 ulp):
// a file that declares the ones it calls with SSLDYN_VECTOR_VARIANT (under #if SSLDYN_LIBMVEC)
// lets its loops under `#pragma omp simd` (the file compiled with -fopenmp-simd) take 2, 4 or 8
// entries per call, several times faster than the scalar function. Functions marked
// SSLDYN_VECTOR_WIDTHS are compiled for AVX-512 and AVX2 as well as the baseline and picked at
// load time, so the wide variants are used where the machine has them (the bits of the results
// then depend on the machine's vector width, as those of the BLAS kernels do).
#include <cmath>

#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__clang__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define SSLDYN_LIBMVEC 1
#define SSLDYN_VECTOR_VARIANT __attribute__((simd("notinbranch")))
#define SSLDYN_VECTOR_WIDTHS __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SSLDYN_LIBMVEC 0
#define SSLDYN_VECTOR_WIDTHS
#endif
