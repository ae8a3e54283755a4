// A packed, blocked SGEMM (the BLIS/GotoBLAS scheme): B is packed in KC x NR column
// panels, A in MC x KC row panels of MR rows, and a register-blocked micro-kernel computes
// each MR x NR tile of C. The micro-kernel is chosen at run time from the CPU's features;
// AVX-512 and AVX2 variants are compiled with target attributes, so no global flags.
#include "CKernels.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "avx512.h"

// Blocking for a core with 48 KiB L1 and 2 MiB L2: a 12 x KC panel of A (12 KiB) stays in L1
// while it sweeps a KC x NC block of packed B (1 MiB) held in L2.
#define KC 256
#define MC 168
#define NC 1024

// The instruction set, detected once when the library is loaded (a constructor runs before
// any thread of the program can call a kernel), so that reading it is race-free. It was a
// lazily initialised static, which ThreadSanitizer reported as a data race.
static int detected_isa = 0;

// CKERNELS_ISA=avx2 or =portable caps the choice, so the tests can run the narrower kernels
// on a machine that has AVX-512 (it never raises it above what the CPU has).
__attribute__((constructor)) static void detect_isa(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) detected_isa = 2;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) detected_isa = 1;
  else detected_isa = 0;
  const char *cap = getenv("CKERNELS_ISA");
  if (cap && strcmp(cap, "avx2") == 0 && detected_isa > 1) detected_isa = 1;
  if (cap && strcmp(cap, "portable") == 0) detected_isa = 0;
}

int ck_isa(void) { return detected_isa; }

// AVX-512 packing of the two common layouts (the format pack_panels below describes). Lines adjacent in memory
// (s_line == 1) are copied with masked vector moves; lines contiguous along k (s_k == 1, e.g.
// a row-major A) are read 16 lines x 16 steps at a time and transposed in registers.
__attribute__((target("avx512f")))
static void pack_panels_avx512(int64_t count, int64_t kc, const float *x, int64_t s_line, int64_t s_k, float *out, int w) {
  if (s_line == 1) {
    // Lines adjacent in memory: step kk of every line is one run of `count` floats. Sixteen
    // steps at a time are dealt out panel by panel, so the rows are read from L1 and each
    // panel is written in one sequential run. Reading panel by panel over all of kc touched a
    // new row on every load (a page apart for long rows, which the prefetchers do not follow);
    // dealing one step to every panel wrote to addresses w * kc floats apart, the same L1 set
    // for every panel.
    const int64_t panels = (count + w - 1) / w, panel_floats = (int64_t)w * kc;
    for (int64_t k0 = 0; k0 < kc; k0 += 16) {
      const int64_t steps = kc - k0 < 16 ? kc - k0 : 16;
      for (int64_t kk = k0 + 16; kk < k0 + 16 + steps && kk < kc; ++kk) {
        for (int64_t q = 0; q < count; q += 16) _mm_prefetch((const char *)(x + kk * s_k + q), _MM_HINT_T0);
      }
      for (int64_t p = 0; p < panels; ++p) {
        const float *src = x + k0 * s_k + p * w;
        float *dst = out + p * panel_floats + k0 * w;
        // The masks are the same for every step: w is 12 or 32, so at most two vectors a step.
        const __mmask16 load0 = first_lanes(count - p * w), load1 = first_lanes(count - p * w - 16);
        const __mmask16 store0 = first_lanes(w), store1 = first_lanes(w - 16);
        for (int64_t kk = 0; kk < steps; ++kk, src += s_k, dst += w) {
          _mm512_mask_storeu_ps(dst, store0, _mm512_maskz_loadu_ps(load0, src));
          if (w > 16) _mm512_mask_storeu_ps(dst + 16, store1, _mm512_maskz_loadu_ps(load1, src + 16));
        }
      }
    }
    return;
  }
  for (int64_t p = 0; p < count; p += w) {
    int64_t lines = count - p < w ? count - p : w;
    const float *panel = x + p * s_line;
    // s_k == 1 (callers check): lines contiguous along k, transposed 16 x 16 at a time.
    for (int64_t k0 = 0; k0 < kc; k0 += 16) {
      int64_t steps = kc - k0 < 16 ? kc - k0 : 16;
      __mmask16 km = first_lanes(steps);
      for (int g = 0; g < w; g += 16) {
        __m512 r[16];
        for (int i = 0; i < 16; ++i) {
          r[i] = g + i < lines ? _mm512_maskz_loadu_ps(km, panel + (g + i) * s_line + k0) : _mm512_setzero_ps();
        }
        transpose16_avx512(r);
        for (int64_t j = 0; j < steps; ++j) _mm512_mask_storeu_ps(out + (k0 + j) * w + g, first_lanes(w - g), r[j]);
      }
    }
    out += (int64_t)w * kc;
  }
}

// Packs a count x kc block into panels of w lines: line i (i < count) is element
// x[i*s_line + kk*s_k] for kk < kc, and panel p holds, for each kk, the w values of lines
// p*w ... p*w + w - 1 (zero past the last line). A is packed by rows (lines = rows of A);
// B by columns (lines = columns of B), which is the same packing of the transposed operand.
static void pack_panels(int64_t count, int64_t kc, const float *x, int64_t s_line, int64_t s_k, float *out, int w) {
  if (ck_isa() == 2 && (s_line == 1 || s_k == 1)) {
    pack_panels_avx512(count, kc, x, s_line, s_k, out, w);
    return;
  }
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

// Writes an mr x nr tile held in `tile` into C, clipped to rows x cols: added to C when
// accumulate, else plus `bias` (the tile's first column's entry of a row added to every row;
// NULL for none).
// The three cases are separate loops: one loop choosing its start per element read C even
// when it only stores (the compiler loads unconditionally; C is valid memory) and cost 10% of
// a causal attention step, whose diagonal blocks end in partial tiles.
static void store_tile(const float *tile, int nr, int64_t rows, int64_t cols, float *c, int64_t scm, int accumulate,
                       const float *bias) {
  for (int64_t r = 0; r < rows; ++r) {
    float *row = c + r * scm;
    const float *values = tile + r * nr;
    if (accumulate) {
      for (int64_t j = 0; j < cols; ++j) row[j] += values[j];
    } else if (bias) {
      for (int64_t j = 0; j < cols; ++j) row[j] = bias[j] + values[j];
    } else {
      for (int64_t j = 0; j < cols; ++j) row[j] = values[j];
    }
  }
}

// ---- AVX-512: 12 x 32 tiles, 24 zmm accumulators -------------------------------------------
#define MR512 12
#define NR512 32

// A's element (row r, step kk) is ap[r * a_row + kk * a_step]: packed panels have a_row = 1,
// a_step = MR; rows read in place from a row-major A have a_row = its row stride, a_step = 1.
__attribute__((target("avx512f"), always_inline))
// Only the first `live` rows (a constant: 4, 8 or 12) and the first `live_cols` columns (16 or
// 32) are computed, so an edge panel of a few rows or columns does not cost a full tile.
static inline void tile_avx512(int64_t kc, const float *ap, int64_t a_row, int64_t a_step, const float *bp, float *c,
                               int64_t scm, int64_t rows, int64_t cols, int accumulate, const float *bias,
                               const int live, const int live_cols) {
  __m512 acc[MR512][2];
  for (int r = 0; r < MR512; ++r) { acc[r][0] = _mm512_setzero_ps(); acc[r][1] = _mm512_setzero_ps(); }
  const float *p0 = ap, *p1 = ap + 3 * a_row, *p2 = ap + 6 * a_row, *p3 = ap + 9 * a_row;
  // The C tile is fetched while the products accumulate, and B a few steps ahead.
  for (int r = 0; r < live; ++r) {
    _mm_prefetch((const char *)(c + r * scm), _MM_HINT_T0);
    _mm_prefetch((const char *)(c + r * scm + 16), _MM_HINT_T0);
  }
  // Not unrolled: unrolling makes the compiler hoist broadcasts and spill accumulators.
#pragma clang loop unroll(disable)
  for (int64_t kk = 0; kk < kc; ++kk) {
    _mm_prefetch((const char *)(bp + 8 * NR512), _MM_HINT_T0);
    __m512 b0 = _mm512_loadu_ps(bp);
    __m512 b1 = live_cols > 16 ? _mm512_loadu_ps(bp + 16) : b0;
    // Rows are addressed from four bases (rows 3q, 3q+1, 3q+2 at base q + 0, a_row, 2 a_row),
    // which fits x86 addressing without a register per row.
#define ROW(r, value)                                          \
  if (r < live) {                                              \
    __m512 av = _mm512_set1_ps(value);                         \
    acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);            \
    if (live_cols > 16) acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]); \
  }
    ROW(0, p0[0]) ROW(1, p0[a_row]) ROW(2, p0[2 * a_row])
    ROW(3, p1[0]) ROW(4, p1[a_row]) ROW(5, p1[2 * a_row])
    ROW(6, p2[0]) ROW(7, p2[a_row]) ROW(8, p2[2 * a_row])
    ROW(9, p3[0]) ROW(10, p3[a_row]) ROW(11, p3[2 * a_row])
#undef ROW
    p0 += a_step;
    p1 += a_step;
    p2 += a_step;
    p3 += a_step;
    bp += NR512;
  }
  if (rows == MR512 && cols == NR512 && live == MR512 && live_cols == NR512) {
    for (int r = 0; r < MR512; ++r) {
      float *row = c + r * scm;
      if (accumulate) {
        acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_loadu_ps(row));
        acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_loadu_ps(row + 16));
      } else if (bias) {
        acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_loadu_ps(bias));
        acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_loadu_ps(bias + 16));
      }
      _mm512_storeu_ps(row, acc[r][0]);
      _mm512_storeu_ps(row + 16, acc[r][1]);
    }
  } else {
    float tile[MR512 * NR512];
    for (int r = 0; r < live; ++r) {
      _mm512_storeu_ps(tile + r * NR512, acc[r][0]);
      _mm512_storeu_ps(tile + r * NR512 + 16, acc[r][1]);
    }
    store_tile(tile, NR512, rows, cols, c, scm, accumulate, bias);
  }
}

__attribute__((target("avx512f")))
static void kernel_avx512(int64_t kc, const float *ap, const float *bp, float *c, int64_t scm,
                          int64_t rows, int64_t cols, int accumulate, const float *bias) {
  if (cols <= 16) {
    if (rows <= 4) tile_avx512(kc, ap, 1, MR512, bp, c, scm, rows, cols, accumulate, bias, 4, 16);
    else if (rows <= 8) tile_avx512(kc, ap, 1, MR512, bp, c, scm, rows, cols, accumulate, bias, 8, 16);
    else tile_avx512(kc, ap, 1, MR512, bp, c, scm, rows, cols, accumulate, bias, MR512, 16);
  } else if (rows <= 4) tile_avx512(kc, ap, 1, MR512, bp, c, scm, rows, cols, accumulate, bias, 4, NR512);
  else if (rows <= 8) tile_avx512(kc, ap, 1, MR512, bp, c, scm, rows, cols, accumulate, bias, 8, NR512);
  else tile_avx512(kc, ap, 1, MR512, bp, c, scm, rows, cols, accumulate, bias, MR512, NR512);
}

// A full 12-row panel read straight from a row-major A (no packing).
__attribute__((target("avx512f")))
static void kernel_avx512_rows(int64_t kc, const float *a, int64_t lda, const float *bp, float *c, int64_t scm,
                               int64_t cols, int accumulate, const float *bias) {
  if (cols <= 16) tile_avx512(kc, a, lda, 1, bp, c, scm, MR512, cols, accumulate, bias, MR512, 16);
  else tile_avx512(kc, a, lda, 1, bp, c, scm, MR512, cols, accumulate, bias, MR512, NR512);
}

// ---- AVX2: 6 x 16 tiles, 12 ymm accumulators ------------------------------------------------
#define MR256 6
#define NR256 16

__attribute__((target("avx2,fma")))
static void kernel_avx2(int64_t kc, const float *ap, const float *bp, float *c, int64_t scm,
                        int64_t rows, int64_t cols, int accumulate, const float *bias) {
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
  store_tile(tile, NR256, rows, cols, c, scm, accumulate, bias);
}

// ---- Portable: 4 x 8 tiles -------------------------------------------------------------------
#define MRC 4
#define NRC 8

static void kernel_portable(int64_t kc, const float *ap, const float *bp, float *c, int64_t scm,
                            int64_t rows, int64_t cols, int accumulate, const float *bias) {
  float tile[MRC * NRC] = {0};
  for (int64_t kk = 0; kk < kc; ++kk) {
    for (int r = 0; r < MRC; ++r) {
      for (int j = 0; j < NRC; ++j) tile[r * NRC + j] += ap[r] * bp[j];
    }
    ap += MRC;
    bp += NRC;
  }
  store_tile(tile, NRC, rows, cols, c, scm, accumulate, bias);
}

// Transposes 16 x 16 tiles in registers: each strip of 16 source rows is read along its rows
// and written as 16-float runs of the destination's rows (masked at the edges).
__attribute__((target("avx512f")))
static void transpose_avx512(const float *src, int64_t rows, int64_t cols, int64_t r0, int64_t r1, float *dst) {
  for (int64_t r = r0; r < r1; r += 16) {
    const int64_t lines = r1 - r < 16 ? r1 - r : 16;
    const __mmask16 line_mask = first_lanes(lines);
    for (int64_t c = 0; c < cols; c += 16) {
      const int64_t steps = cols - c < 16 ? cols - c : 16;
      const __mmask16 step_mask = first_lanes(steps);
      __m512 v[16];
      for (int i = 0; i < 16; ++i) v[i] = i < lines ? _mm512_maskz_loadu_ps(step_mask, src + (r + i) * cols + c) : _mm512_setzero_ps();
      transpose16_avx512(v);
      for (int64_t j = 0; j < steps; ++j) _mm512_mask_storeu_ps(dst + (c + j) * rows + r, line_mask, v[j]);
    }
  }
}

void ck_transpose_f32(const float *src, int64_t rows, int64_t cols, int64_t r0, int64_t r1, float *dst) {
  if (r1 <= r0) return;
  if (ck_isa() == 2) {
    transpose_avx512(src, rows, cols, r0, r1, dst);
    return;
  }
  // 32 x 32 tiles, so that both sides move a cache line at a time.
  for (int64_t rt = r0; rt < r1; rt += 32) {
    const int64_t re = r1 - rt < 32 ? r1 : rt + 32;
    for (int64_t ct = 0; ct < cols; ct += 32) {
      const int64_t ce = cols - ct < 32 ? cols : ct + 32;
      for (int64_t c = ct; c < ce; ++c) {
        for (int64_t r = rt; r < re; ++r) dst[c * rows + r] = src[r * cols + c];
      }
    }
  }
}

int ck_sgemm_mr(void) { return ck_isa() == 2 ? MR512 : (ck_isa() == 1 ? MR256 : MRC); }
int ck_sgemm_nr(void) { return ck_isa() == 2 ? NR512 : (ck_isa() == 1 ? NR256 : NRC); }

static __thread float *tl_bpack, *tl_apack, *tl_split;
static __thread size_t tl_bbytes, tl_abytes, tl_split_bytes;

static float *thread_buffer(float **buffer, size_t *size, size_t needed) {
  if (*size < needed) {
    free(*buffer);
    *buffer = aligned_alloc(64, needed);
    *size = needed;
  }
  return *buffer;
}

// The strided B of ck_sgemm, as a packer for the driver below.
typedef struct {
  const float *b;
  int64_t sbk, sbn;
} strided_b;

static void pack_strided_b(const void *context, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float *out, int nr) {
  const strided_b *s = (const strided_b *)context;
  pack_b(kc, nc, s->b + k0 * s->sbk + j0 * s->sbn, s->sbk, s->sbn, out, nr);
}

void ck_sgemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t sam, int64_t sak,
              const float *b, int64_t sbk, int64_t sbn, float *c, int64_t scm) {
  ck_sgemm_accumulating(m, n, k, a, sam, sak, b, sbk, sbn, c, scm, 0);
}

void ck_sgemm_accumulating(int64_t m, int64_t n, int64_t k, const float *a, int64_t sam, int64_t sak,
                           const float *b, int64_t sbk, int64_t sbn, float *c, int64_t scm, int accumulate) {
  strided_b context = {b, sbk, sbn};
  ck_sgemm_packing_b(m, n, k, a, sam, sak, pack_strided_b, &context, c, scm, accumulate);
}

void ck_sgemm_packing_b(int64_t m, int64_t n, int64_t k, const float *a, int64_t sam, int64_t sak,
                        ck_pack_b_fn pack_b_block, const void *context, float *c, int64_t scm, int accumulate) {
  ck_sgemm_packing_b_grouped(m, n, k, a, sam, sak, pack_b_block, context, c, scm, n > 0 ? n : 1, 0, accumulate);
}

// The k block of the drivers: k cut into equal blocks of at most KC, so no block is left
// with a few steps.
static inline int64_t k_block(int64_t k) { return (k + (k + KC - 1) / KC - 1) / ((k + KC - 1) / KC); }

// The offset in C of column j when columns come in groups of `group` placed `group_stride` apart.
static inline int64_t column_offset(int64_t j, int64_t group, int64_t group_stride) {
  return j / group * group_stride + j % group;
}

// The one driver of every product: B from its packer, A read from its strides or, when
// `packed_a` is given, from panels packed once by ck_sgemm_pack_a (the layout is described
// there; the MC blocks start on panel boundaries because MC is a multiple of every MR).
_Static_assert(MC % MR512 == 0 && MC % MR256 == 0 && MC % MRC == 0, "an MC block must start on a panel boundary");
static void sgemm_driver(int64_t m, int64_t n, int64_t k, const float *a, int64_t sam, int64_t sak,
                         const float *packed_a, ck_pack_b_fn pack_b_block, const void *context, float *c, int64_t scm,
                         int64_t group, int64_t group_stride, int accumulate, const float *bias) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) c[i * scm + column_offset(j, group, group_stride)] = bias ? bias[j] : 0;
      }
    }
    return;
  }
  int isa = ck_isa();
  int mr = ck_sgemm_mr(), nr = ck_sgemm_nr();
  void (*kernel)(int64_t, const float *, const float *, float *, int64_t, int64_t, int64_t, int, const float *) =
      isa == 2 ? kernel_avx512 : (isa == 1 ? kernel_avx2 : kernel_portable);
  int direct = isa == 2 && sak == 1 && !packed_a;
  const int64_t padded = (m + mr - 1) / mr * mr;
  int64_t nc_max = NC < n ? NC : n;
  // Packing buffers live per thread and only grow: fresh large allocations would pay for
  // page faults on every call.
  size_t bbytes = ((size_t)(((nc_max + nr - 1) / nr) * nr * KC) * sizeof(float) + 127) / 64 * 64;
  size_t abytes = ((size_t)(((MC + mr - 1) / mr) * mr * KC) * sizeof(float) + 127) / 64 * 64;
  float *bpack = thread_buffer(&tl_bpack, &tl_bbytes, bbytes);
  float *apack = thread_buffer(&tl_apack, &tl_abytes, abytes);
  // Tiles whose columns cross from one group into the next are computed into a dense side
  // matrix, `split` (m rows of nr columns per such tile, kept over every k block), and copied
  // out once per column block: copying them in and out around every k block had cost more than
  // the grouping saved.
  for (int64_t jc = 0; jc < n; jc += NC) {
    int64_t nc = n - jc < NC ? n - jc : NC;
    // The split tiles of this column block, numbered in order: tile jr / nr is split when its
    // columns cross a group boundary.
    int64_t splits = 0;
    int32_t split_index[NC / 8 + 1];
    for (int64_t jr = 0; jr < nc; jr += nr) {
      const int64_t j = jc + jr, cols = nc - jr < nr ? nc - jr : nr;
      split_index[jr / nr] = group < n && j % group + cols > group ? (int32_t)splits++ : -1;
    }
    float *split = splits ? thread_buffer(&tl_split, &tl_split_bytes, ((size_t)(m * splits * nr) * sizeof(float) + 63) / 64 * 64) : NULL;
    if (splits && accumulate) {
      for (int64_t jr = 0; jr < nc; jr += nr) {
        if (split_index[jr / nr] < 0) continue;
        const int64_t j = jc + jr, cols = nc - jr < nr ? nc - jr : nr;
        float *tile = split + split_index[jr / nr] * m * nr;
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t q = 0; q < cols; ++q) tile[i * nr + q] = c[i * scm + column_offset(j + q, group, group_stride)];
        }
      }
    }
    int64_t kblock = k_block(k);
    for (int64_t pc = 0; pc < k; pc += kblock) {
      int64_t kc = k - pc < kblock ? k - pc : kblock;
      pack_b_block(context, pc, kc, jc, nc, bpack, nr);
      for (int64_t ic = 0; ic < m; ic += MC) {
        int64_t mcur = m - ic < MC ? m - ic : MC;
        // A row-major A is read in place by the AVX-512 kernel, so only a last partial panel
        // is packed (padded with zero rows); otherwise the whole block is packed.
        int64_t full = direct ? mcur / mr * mr : 0;
        const float *apanels = packed_a ? packed_a + padded * pc + ic * kc : apack;
        if (!packed_a && full < mcur) pack_a(mcur - full, kc, a + (ic + full) * sam + pc * sak, sam, sak, apack, mr);
        // One panel of A (in L1) against every panel of B (in L2).
        for (int64_t ir = 0; ir < mcur; ir += mr) {
          int64_t rows = mcur - ir < mr ? mcur - ir : mr;
          const float *arow = packed_a ? NULL : a + (ic + ir) * sam + pc * sak;
          for (int64_t jr = 0; jr < nc; jr += nr) {
            int64_t cols = nc - jr < nr ? nc - jr : nr;
            int add = accumulate || pc > 0;
            // The bias enters with the first k block's store (C is never written without it).
            const float *tile_bias = add || !bias ? NULL : bias + jc + jr;
            const int32_t s_index = split_index[jr / nr];
            float *ctile = s_index >= 0 ? split + (s_index * m + ic + ir) * nr
                                        : c + (ic + ir) * scm + column_offset(jc + jr, group, group_stride);
            const int64_t ldc = s_index >= 0 ? nr : scm;
            if (ir < full) kernel_avx512_rows(kc, arow, sam, bpack + jr * kc, ctile, ldc, cols, add, tile_bias);
            else kernel(kc, apanels + (ir - full) * kc, bpack + jr * kc, ctile, ldc, rows, cols, add, tile_bias);
          }
        }
      }
    }
    for (int64_t jr = 0; jr < nc && splits; jr += nr) {
      if (split_index[jr / nr] < 0) continue;
      const int64_t j = jc + jr, cols = nc - jr < nr ? nc - jr : nr;
      const float *tile = split + split_index[jr / nr] * m * nr;
      for (int64_t i = 0; i < m; ++i) {
        // Each group's run of the tile's columns is one copy.
        for (int64_t q = 0; q < cols;) {
          const int64_t run = group - (j + q) % group < cols - q ? group - (j + q) % group : cols - q;
          memcpy(c + i * scm + column_offset(j + q, group, group_stride), tile + i * nr + q, (size_t)run * sizeof(float));
          q += run;
        }
      }
    }
  }
}

void ck_sgemm_packing_b_grouped(int64_t m, int64_t n, int64_t k, const float *a, int64_t sam, int64_t sak,
                                ck_pack_b_fn pack_b_block, const void *context, float *c, int64_t scm, int64_t group,
                                int64_t group_stride, int accumulate) {
  sgemm_driver(m, n, k, a, sam, sak, NULL, pack_b_block, context, c, scm, group, group_stride, accumulate, NULL);
}

void ck_sgemm_bias(int64_t m, int64_t n, int64_t k, const float *a, int64_t sam, int64_t sak, const float *b, int64_t sbk,
                   int64_t sbn, const float *bias, float *c, int64_t scm) {
  strided_b context = {b, sbk, sbn};
  sgemm_driver(m, n, k, a, sam, sak, NULL, pack_strided_b, &context, c, scm, n > 0 ? n : 1, 0, 0, bias);
}

// ---- A packed once, for many products --------------------------------------------------------
// The layout: k cut into the driver's blocks; block pc's panels of mr rows follow each other
// (panel ir / mr at ir * kc), and each block starts round_up(m, mr) * pc floats in.

int64_t ck_sgemm_packed_a_floats(int64_t m, int64_t k) {
  const int64_t mr = ck_sgemm_mr();
  return (m + mr - 1) / mr * mr * (k > 0 ? k : 0);
}

void ck_sgemm_pack_a(int64_t m, int64_t k, const float *a, int64_t sam, int64_t sak, float *out) {
  if (m <= 0 || k <= 0) return;
  const int64_t mr = ck_sgemm_mr(), padded = (m + mr - 1) / mr * mr, kblock = k_block(k);
  for (int64_t pc = 0; pc < k; pc += kblock) {
    const int64_t kc = k - pc < kblock ? k - pc : kblock;
    pack_a(m, kc, a + pc * sak, sam, sak, out + padded * pc, (int)mr);
  }
}

void ck_sgemm_prepacked_a(int64_t m, int64_t n, int64_t k, const float *packed_a, const float *b, int64_t sbk,
                          int64_t sbn, float *c, int64_t scm, int accumulate) {
  strided_b context = {b, sbk, sbn};
  sgemm_driver(m, n, k, NULL, 0, 0, packed_a, pack_strided_b, &context, c, scm, n > 0 ? n : 1, 0, accumulate, NULL);
}

// ---- The multiply-add peak, for benchmark reports -----------------------------------------

static double seconds_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

// 24 independent chains of fused multiply-adds (more than latency x ports on any core here),
// `rounds` times; returns the flops done. The asm barrier keeps the loop from being folded.
__attribute__((target("avx512f")))
static double fma_chains_avx512(int64_t rounds) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps((float)i * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-4f);
  for (int64_t r = 0; r < rounds; ++r) {
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]), "+v"(acc[4]), "+v"(acc[5]));
  }
  float sink = 0;
  for (int i = 0; i < 24; ++i) sink += _mm512_reduce_add_ps(acc[i]);
  __asm__ volatile("" ::"x"(sink));
  return (double)rounds * 24 * 32;
}

__attribute__((target("avx2,fma")))
static double fma_chains_avx2(int64_t rounds) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps((float)i * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-4f);
  for (int64_t r = 0; r < rounds; ++r) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]));
  }
  float out[8], sink = 0;
  for (int i = 0; i < 12; ++i) {
    _mm256_storeu_ps(out, acc[i]);
    for (int l = 0; l < 8; ++l) sink += out[l];
  }
  __asm__ volatile("" ::"x"(sink));
  return (double)rounds * 12 * 16;
}

double ck_fma_peak_gflops(double seconds) {
  double flops = 0, start = seconds_now(), elapsed = 0;
  while (elapsed < seconds) {
    if (ck_isa() == 2) flops += fma_chains_avx512(1 << 20);
    else if (ck_isa() == 1) flops += fma_chains_avx2(1 << 20);
    else {
      // The portable kernels' scalar multiply-adds.
      volatile float acc = 1;
      for (int i = 0; i < (1 << 20); ++i) acc = acc * 0.999f + 1e-4f;
      flops += 2.0 * (1 << 20);
    }
    elapsed = seconds_now() - start;
  }
  return flops / elapsed / 1e9;
}
