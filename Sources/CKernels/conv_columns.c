// im2col and col2im for conv.c, as column runs: the work that depends on the output pixel
// (which input row and columns a tap reads, where padding cuts it) is worked out once per
// chunk of 32 columns and tap, and reused for every input channel, so the copy per column
// row is a few (masked) vector moves with no division and no branch per pixel.
//
// Column j of the column matrix is output pixel j % P of image j / P (P = out_h out_w), so a
// chunk may span several output rows and images; row k is input channel k / (kh kw) at tap
// k % (kh kw).
#include "conv_columns.h"

#include <stdlib.h>
#include <string.h>

#include "vectorised.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define CHUNK 32

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

// Columns lane ..< lane + count of a chunk that read, for one tap, the input elements
// offset + t sw (t = 0 ..< count) of a channel (offsets from the channel's start in image 0).
// `low` and `high` are the run's lanes as masks of a chunk's two 16-lane halves.
typedef struct {
  int32_t lane, count;
  int64_t offset;
  uint16_t low, high;
} column_run;

// Per-thread scratch for a chunk's runs (taps x at most CHUNK + 1 runs), grown as needed.
static __thread column_run *tl_runs;
static __thread int64_t tl_run_capacity;

static column_run *run_scratch(int64_t count) {
  if (tl_run_capacity < count) {
    free(tl_runs);
    tl_runs = malloc((size_t)count * sizeof(column_run));
    tl_run_capacity = tl_runs ? count : 0;
  }
  return tl_runs;
}

// The runs of columns j0 ..< j0 + n (n <= CHUNK) for every tap: tap t's runs are
// runs[t * (CHUNK + 1) ..< + counts[t]]. One run per output row the chunk touches, cut to the
// taps that land inside the input; rows the tap takes into the padding have none.
static void chunk_runs(const ck_conv2d_geometry *g, int64_t image_in, int64_t j0, int64_t n, column_run *runs, int32_t *counts) {
  const int64_t pixels = g->out_h * g->out_w, taps = g->kh * g->kw;
  for (int64_t t = 0; t < taps; ++t) counts[t] = 0;
  for (int64_t col = j0; col < j0 + n;) {
    const int64_t image = col / pixels, p = col % pixels, oh = p / g->out_w, ow = p % g->out_w;
    const int64_t length = min64(g->out_w - ow, j0 + n - col);
    for (int64_t i = 0; i < g->kh; ++i) {
      const int64_t ih = oh * g->sh - g->ph + i * g->dh;
      if (ih < 0 || ih >= g->height) continue;
      for (int64_t jj = 0; jj < g->kw; ++jj) {
        // The output columns whose tap lands inside the row: lo ..< hi of the run.
        const int64_t iw0 = ow * g->sw - g->pw + jj * g->dw;
        int64_t lo, hi;
        conv_valid_taps(iw0, g->sw, g->width, length, &lo, &hi);
        if (hi <= lo) continue;
        const int64_t tap = i * g->kw + jj, lane = col - j0 + lo, count = hi - lo;
        const uint32_t mask = (count >= 32 ? 0xFFFFFFFFu : ((1u << count) - 1)) << lane;
        runs[tap * (CHUNK + 1) + counts[tap]++] = (column_run){
            (int32_t)lane, (int32_t)count, image * image_in + ih * g->width + iw0 + lo * g->sw, (uint16_t)mask,
            (uint16_t)(mask >> 16)};
      }
    }
    col += length;
  }
}

// ---- Portable copies -------------------------------------------------------------------------

// Rows k0 ..< k0 + kc of one chunk: `lanes` floats per row at out + (k - k0) ld, zero where
// no run reads (padding, and lanes past the chunk's columns).
VECTORISED static void gather_rows(const ck_conv2d_geometry *g, const float *x, const column_run *runs, const int32_t *counts,
                                   int64_t k0, int64_t kc, float *out, int64_t ld, int64_t lanes) {
  const int64_t taps = g->kh * g->kw, plane = g->height * g->width, sw = g->sw;
  int64_t c = k0 / taps, tap = k0 % taps;
  for (int64_t kk = 0; kk < kc; ++kk) {
    float *dst = out + kk * ld;
    memset(dst, 0, (size_t)lanes * sizeof(float));
    const float *src = x + c * plane;
    const column_run *r = runs + tap * (CHUNK + 1);
    for (int32_t q = 0; q < counts[tap]; ++q) {
      float *d = dst + r[q].lane;
      const float *s = src + r[q].offset;
      if (sw == 1) {
        for (int32_t t = 0; t < r[q].count; ++t) d[t] = s[t];
      } else {
        for (int32_t t = 0; t < r[q].count; ++t) d[t] = s[t * sw];
      }
    }
    if (++tap == taps) { tap = 0; ++c; }
  }
}

// The transpose of gather_rows: adds each row's runs into the input gradient `dx`.
VECTORISED static void scatter_rows(const ck_conv2d_geometry *g, float *dx, const column_run *runs, const int32_t *counts, int64_t k0,
                                    int64_t kc, const float *cols, int64_t ld) {
  const int64_t taps = g->kh * g->kw, plane = g->height * g->width, sw = g->sw;
  int64_t c = k0 / taps, tap = k0 % taps;
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float *src = cols + kk * ld;
    float *dst = dx + c * plane;
    const column_run *r = runs + tap * (CHUNK + 1);
    for (int32_t q = 0; q < counts[tap]; ++q) {
      const float *s = src + r[q].lane;
      float *d = dst + r[q].offset;
      if (sw == 1) {
        for (int32_t t = 0; t < r[q].count; ++t) d[t] += s[t];
      } else {
        for (int32_t t = 0; t < r[q].count; ++t) d[t * sw] += s[t];
      }
    }
    if (++tap == taps) { tap = 0; ++c; }
  }
}

// ---- AVX-512: a row of a chunk is two registers ---------------------------------------------
#if defined(__x86_64__)

// Bits 0 ..< 8 of m moved to the even bits 0, 2, ..., 14 (the source elements a stride-2 run
// reads for those lanes).
static inline __mmask16 even_bits(uint32_t m) {
  m &= 0xFF;
  m = (m | (m << 4)) & 0x0F0F;
  m = (m | (m << 2)) & 0x3333;
  m = (m | (m << 1)) & 0x5555;
  return (__mmask16)m;
}

// Lanes `mask` of v from s[l * stride] (l = lane): stride 1 or 2.
__attribute__((target("avx512f"), always_inline))
static inline __m512 load_lanes(__m512 v, __mmask16 mask, const float *s, int64_t stride) {
  // A masked load with no lane set costs less than a branch that mispredicts.
  if (stride == 1) return _mm512_mask_loadu_ps(v, mask, s);
  if (!mask) return v;
  const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512 low = _mm512_maskz_loadu_ps(even_bits(mask), s), high = _mm512_maskz_loadu_ps(even_bits(mask >> 8), s + 16);
  return _mm512_mask_mov_ps(v, mask, _mm512_permutex2var_ps(low, evens, high));
}

// Adds lanes `mask` of v to d[l * stride] (l = lane): stride 1 or 2.
__attribute__((target("avx512f"), always_inline))
static inline void add_lanes(__m512 v, __mmask16 mask, float *d, int64_t stride) {
  if (!mask) return;
  if (stride == 1) {
    _mm512_mask_storeu_ps(d, mask, _mm512_add_ps(_mm512_maskz_loadu_ps(mask, d), v));
    return;
  }
  // Lane l goes to element 2l: the first eight lanes spread over d[0 ..< 16], the rest over d[16 ..< 32].
  const __m512i spread_low = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  const __m512i spread_high = _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
  const __mmask16 m0 = even_bits(mask), m1 = even_bits(mask >> 8);
  if (m0) _mm512_mask_storeu_ps(d, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, d), _mm512_permutexvar_ps(spread_low, v)));
  if (m1) {
    _mm512_mask_storeu_ps(d + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, d + 16), _mm512_permutexvar_ps(spread_high, v)));
  }
}

__attribute__((target("avx512f"), always_inline))
static inline void gather_rows_strided(const ck_conv2d_geometry *g, const float *x, const column_run *runs, const int32_t *counts,
                                       int64_t k0, int64_t kc, float *out, int64_t ld, int64_t lanes, const int64_t sw) {
  const int64_t taps = g->kh * g->kw, plane = g->height * g->width;
  const __mmask16 store_low = (__mmask16)(lanes >= 16 ? 0xFFFF : (1u << lanes) - 1);
  const __mmask16 store_high = (__mmask16)(lanes >= 32 ? 0xFFFF : (lanes <= 16 ? 0 : (1u << (lanes - 16)) - 1));
  int64_t c = k0 / taps, tap = k0 % taps;
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float *src = x + c * plane;
    const column_run *r = runs + tap * (CHUNK + 1);
    __m512 low = _mm512_setzero_ps(), high = _mm512_setzero_ps();
    for (int32_t q = 0; q < counts[tap]; ++q) {
      // Lane l of the chunk reads s[l sw]; masked-off lanes read nothing.
      const float *s = src + (r[q].offset - r[q].lane * sw);
      low = load_lanes(low, r[q].low, s, sw);
      high = load_lanes(high, r[q].high, s + 16 * sw, sw);
    }
    _mm512_mask_storeu_ps(out + kk * ld, store_low, low);
    _mm512_mask_storeu_ps(out + kk * ld + 16, store_high, high);
    if (++tap == taps) { tap = 0; ++c; }
  }
}

// The two strides with vector loads, each its own loop.
__attribute__((target("avx512f")))
static void gather_rows_avx512(const ck_conv2d_geometry *g, const float *x, const column_run *runs, const int32_t *counts,
                               int64_t k0, int64_t kc, float *out, int64_t ld, int64_t lanes) {
  if (g->sw == 1) gather_rows_strided(g, x, runs, counts, k0, kc, out, ld, lanes, 1);
  else gather_rows_strided(g, x, runs, counts, k0, kc, out, ld, lanes, 2);
}

__attribute__((target("avx512f")))
static void scatter_rows_avx512(const ck_conv2d_geometry *g, float *dx, const column_run *runs, const int32_t *counts, int64_t k0,
                                int64_t kc, const float *cols, int64_t ld, int64_t lanes) {
  const int64_t taps = g->kh * g->kw, plane = g->height * g->width, sw = g->sw;
  const __mmask16 load_low = (__mmask16)(lanes >= 16 ? 0xFFFF : (1u << lanes) - 1);
  const __mmask16 load_high = (__mmask16)(lanes >= 32 ? 0xFFFF : (lanes <= 16 ? 0 : (1u << (lanes - 16)) - 1));
  int64_t c = k0 / taps, tap = k0 % taps;
  for (int64_t kk = 0; kk < kc; ++kk) {
    const __m512 low = _mm512_maskz_loadu_ps(load_low, cols + kk * ld);
    const __m512 high = _mm512_maskz_loadu_ps(load_high, cols + kk * ld + 16);
    float *dst = dx + c * plane;
    const column_run *r = runs + tap * (CHUNK + 1);
    for (int32_t q = 0; q < counts[tap]; ++q) {
      float *d = dst + (r[q].offset - r[q].lane * sw);
      add_lanes(low, r[q].low, d, sw);
      add_lanes(high, r[q].high, d + 16 * sw, sw);
    }
    if (++tap == taps) { tap = 0; ++c; }
  }
}

static inline int use_avx512(const ck_conv2d_geometry *g) { return ck_isa() == 2 && (g->sw == 1 || g->sw == 2); }

#else
static inline int use_avx512(const ck_conv2d_geometry *g) { (void)g; return 0; }
#endif

// ---- Entry points ----------------------------------------------------------------------------

void conv_gather_columns(const ck_conv2d_geometry *g, const float *x, int64_t image_in, int64_t k0, int64_t kc, int64_t j0, int64_t n,
                         float *out, int64_t ld, int64_t lanes) {
  const int64_t taps = g->kh * g->kw;
  column_run *runs = run_scratch(taps * (CHUNK + 1));
  int32_t counts_on_stack[64], *counts = taps <= 64 ? counts_on_stack : malloc((size_t)taps * sizeof(int32_t));
  for (int64_t c0 = 0; c0 < lanes; c0 += CHUNK) {
    const int64_t width = min64(CHUNK, lanes - c0), columns = max64(0, min64(CHUNK, n - c0));
    chunk_runs(g, image_in, j0 + c0, columns, runs, counts);
#if defined(__x86_64__)
    if (use_avx512(g)) {
      gather_rows_avx512(g, x, runs, counts, k0, kc, out + c0, ld, width);
      continue;
    }
#endif
    gather_rows(g, x, runs, counts, k0, kc, out + c0, ld, width);
  }
  if (counts != counts_on_stack) free(counts);
}

void conv_scatter_columns(const ck_conv2d_geometry *g, float *dx, int64_t k0, int64_t kc, int64_t j0, int64_t n, const float *cols,
                          int64_t ld) {
  const int64_t taps = g->kh * g->kw;
  column_run *runs = run_scratch(taps * (CHUNK + 1));
  int32_t counts_on_stack[64], *counts = taps <= 64 ? counts_on_stack : malloc((size_t)taps * sizeof(int32_t));
  for (int64_t c0 = 0; c0 < n; c0 += CHUNK) {
    const int64_t width = min64(CHUNK, n - c0);
    chunk_runs(g, 0, j0 + c0, width, runs, counts);
#if defined(__x86_64__)
    if (use_avx512(g)) {
      scatter_rows_avx512(g, dx, runs, counts, k0, kc, cols + c0, ld, width);
      continue;
    }
#endif
    scatter_rows(g, dx, runs, counts, k0, kc, cols + c0, ld);
  }
  if (counts != counts_on_stack) free(counts);
}
