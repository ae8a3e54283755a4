// A packed, blocked SGEMM (the BLIS/GotoBLAS scheme): B is packed in KC x NR column
// panels, A in MC x KC row panels of MR rows, and a register-blocked micro-kernel computes
// each MR x NR tile of C. The micro-kernel is chosen at run time from the CPU's features;
// AVX-512 and AVX2 variants are compiled with target attributes, so no global flags.
#include "CKernels.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define KC 384
#define MC 168
#define NC 3072

int ck_isa(void) {
  static int isa = -1;
  if (isa < 0) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) isa = 2;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = 1;
    else isa = 0;
  }
  return isa;
}

// Packs a count x kc block into panels of w lines: line i (i < count) is element
// x[i*s_line + kk*s_k] for kk < kc, and panel p holds, for each kk, the w values of lines
// p*w ... p*w + w - 1 (zero past the last line). A is packed by rows (lines = rows of A);
// B by columns (lines = columns of B), which is the same packing of the transposed operand.
static void pack_panels(int64_t count, int64_t kc, const float *x, int64_t s_line, int64_t s_k, float *out, int w) {
  for (int64_t p = 0; p < count; p += w) {
    int64_t lines = count - p < w ? count - p : w;
    if (s_k == 1 && s_line != 1) {
      // Each line is contiguous: read it in one pass, scatter it down the panel.
      for (int64_t i = 0; i < w; ++i) {
        float *dst = out + i;
        if (i < lines) {
          const float *src = x + (p + i) * s_line;
          for (int64_t kk = 0; kk < kc; ++kk) dst[kk * w] = src[kk];
        } else {
          for (int64_t kk = 0; kk < kc; ++kk) dst[kk * w] = 0;
        }
      }
      out += (int64_t)w * kc;
      continue;
    }
    for (int64_t kk = 0; kk < kc; ++kk) {
      const float *src = x + p * s_line + kk * s_k;
      int64_t i = 0;
      if (s_line == 1) {
        memcpy(out, src, (size_t)lines * sizeof(float));
        i = lines;
      } else {
        for (; i < lines; ++i) out[i] = src[i * s_line];
      }
      for (; i < w; ++i) out[i] = 0;
      out += w;
    }
  }
}

static void pack_a(int64_t mc, int64_t kc, const float *a, int64_t sam, int64_t sak, float *out, int mr) {
  pack_panels(mc, kc, a, sam, sak, out, mr);
}

static void pack_b(int64_t kc, int64_t nc, const float *b, int64_t sbk, int64_t sbn, float *out, int nr) {
  pack_panels(nc, kc, b, sbn, sbk, out, nr);
}

// Writes (or adds, when accumulate) an mr x nr tile held in `tile` into C, clipped to rows x cols.
static void store_tile(const float *tile, int nr, int64_t rows, int64_t cols, float *c, int64_t scm, int accumulate) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < cols; ++j) {
      c[r * scm + j] = accumulate ? c[r * scm + j] + tile[r * nr + j] : tile[r * nr + j];
    }
  }
}

// ---- AVX-512: 12 x 32 tiles, 24 zmm accumulators -------------------------------------------
#define MR512 12
#define NR512 32

__attribute__((target("avx512f")))
static void kernel_avx512(int64_t kc, const float *ap, const float *bp, float *c, int64_t scm,
                          int64_t rows, int64_t cols, int accumulate) {
  __m512 acc[MR512][2];
  for (int r = 0; r < MR512; ++r) { acc[r][0] = _mm512_setzero_ps(); acc[r][1] = _mm512_setzero_ps(); }
  for (int64_t kk = 0; kk < kc; ++kk) {
    __m512 b0 = _mm512_loadu_ps(bp);
    __m512 b1 = _mm512_loadu_ps(bp + 16);
    for (int r = 0; r < MR512; ++r) {
      __m512 av = _mm512_set1_ps(ap[r]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
    ap += MR512;
    bp += NR512;
  }
  if (rows == MR512 && cols == NR512) {
    for (int r = 0; r < MR512; ++r) {
      float *row = c + r * scm;
      if (accumulate) {
        acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_loadu_ps(row));
        acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_loadu_ps(row + 16));
      }
      _mm512_storeu_ps(row, acc[r][0]);
      _mm512_storeu_ps(row + 16, acc[r][1]);
    }
  } else {
    float tile[MR512 * NR512];
    for (int r = 0; r < MR512; ++r) {
      _mm512_storeu_ps(tile + r * NR512, acc[r][0]);
      _mm512_storeu_ps(tile + r * NR512 + 16, acc[r][1]);
    }
    store_tile(tile, NR512, rows, cols, c, scm, accumulate);
  }
}

// ---- AVX2: 6 x 16 tiles, 12 ymm accumulators ------------------------------------------------
#define MR256 6
#define NR256 16

__attribute__((target("avx2,fma")))
static void kernel_avx2(int64_t kc, const float *ap, const float *bp, float *c, int64_t scm,
                        int64_t rows, int64_t cols, int accumulate) {
  __m256 acc[MR256][2];
  for (int r = 0; r < MR256; ++r) { acc[r][0] = _mm256_setzero_ps(); acc[r][1] = _mm256_setzero_ps(); }
  for (int64_t kk = 0; kk < kc; ++kk) {
    __m256 b0 = _mm256_loadu_ps(bp);
    __m256 b1 = _mm256_loadu_ps(bp + 8);
    for (int r = 0; r < MR256; ++r) {
      __m256 av = _mm256_broadcast_ss(ap + r);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
    ap += MR256;
    bp += NR256;
  }
  float tile[MR256 * NR256];
  for (int r = 0; r < MR256; ++r) {
    _mm256_storeu_ps(tile + r * NR256, acc[r][0]);
    _mm256_storeu_ps(tile + r * NR256 + 8, acc[r][1]);
  }
  store_tile(tile, NR256, rows, cols, c, scm, accumulate);
}

// ---- Portable: 4 x 8 tiles -------------------------------------------------------------------
#define MRC 4
#define NRC 8

static void kernel_portable(int64_t kc, const float *ap, const float *bp, float *c, int64_t scm,
                            int64_t rows, int64_t cols, int accumulate) {
  float tile[MRC * NRC] = {0};
  for (int64_t kk = 0; kk < kc; ++kk) {
    for (int r = 0; r < MRC; ++r) {
      for (int j = 0; j < NRC; ++j) tile[r * NRC + j] += ap[r] * bp[j];
    }
    ap += MRC;
    bp += NRC;
  }
  store_tile(tile, NRC, rows, cols, c, scm, accumulate);
}

static __thread float *tl_bpack, *tl_apack;
static __thread size_t tl_bbytes, tl_abytes;

static float *thread_buffer(float **buffer, size_t *size, size_t needed) {
  if (*size < needed) {
    free(*buffer);
    *buffer = aligned_alloc(64, needed);
    *size = needed;
  }
  return *buffer;
}

void ck_sgemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t sam, int64_t sak,
              const float *b, int64_t sbk, int64_t sbn, float *c, int64_t scm) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) memset(c + i * scm, 0, (size_t)n * sizeof(float));
    return;
  }
  int isa = ck_isa();
  int mr = isa == 2 ? MR512 : (isa == 1 ? MR256 : MRC);
  int nr = isa == 2 ? NR512 : (isa == 1 ? NR256 : NRC);
  void (*kernel)(int64_t, const float *, const float *, float *, int64_t, int64_t, int64_t, int) =
      isa == 2 ? kernel_avx512 : (isa == 1 ? kernel_avx2 : kernel_portable);
  int64_t nc_max = NC < n ? NC : n;
  // Packing buffers live per thread and only grow: fresh large allocations would pay for
  // page faults on every call.
  size_t bbytes = ((size_t)(((nc_max + nr - 1) / nr) * nr * KC) * sizeof(float) + 127) / 64 * 64;
  size_t abytes = ((size_t)(((MC + mr - 1) / mr) * mr * KC) * sizeof(float) + 127) / 64 * 64;
  float *bpack = thread_buffer(&tl_bpack, &tl_bbytes, bbytes);
  float *apack = thread_buffer(&tl_apack, &tl_abytes, abytes);
  for (int64_t jc = 0; jc < n; jc += NC) {
    int64_t nc = n - jc < NC ? n - jc : NC;
    for (int64_t pc = 0; pc < k; pc += KC) {
      int64_t kc = k - pc < KC ? k - pc : KC;
      pack_b(kc, nc, b + pc * sbk + jc * sbn, sbk, sbn, bpack, nr);
      for (int64_t ic = 0; ic < m; ic += MC) {
        int64_t mcur = m - ic < MC ? m - ic : MC;
        pack_a(mcur, kc, a + ic * sam + pc * sak, sam, sak, apack, mr);
        for (int64_t jr = 0; jr < nc; jr += nr) {
          int64_t cols = nc - jr < nr ? nc - jr : nr;
          for (int64_t ir = 0; ir < mcur; ir += mr) {
            int64_t rows = mcur - ir < mr ? mcur - ir : mr;
            kernel(kc, apack + ir * kc, bpack + jr * kc, c + (ic + ir) * scm + jc + jr, scm, rows, cols, pc > 0);
          }
        }
      }
    }
  }
}
