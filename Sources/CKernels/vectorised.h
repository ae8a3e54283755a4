// VECTORISED builds a plain C function for AVX-512, AVX2 and the baseline, and the loader
// picks the best for the CPU (the package has no global instruction-set flags). The choice is
// an ifunc resolved before ThreadSanitizer's runtime starts, which crashes instrumented
// programs at load, so sanitizer builds get the baseline only.
#ifndef CKERNELS_VECTORISED_H
#define CKERNELS_VECTORISED_H

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define CKERNELS_SANITIZED 1
#endif
#endif

#ifdef CKERNELS_SANITIZED
#define VECTORISED
#else
#define VECTORISED __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

#endif
