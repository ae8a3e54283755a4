// Vectorised contiguous float32 kernels, with AVX-512 variants chosen at run time and
// portable loops otherwise (which the compiler vectorises for the baseline ISA).
#include "CKernels.h"

#include <immintrin.h>
#include <math.h>

#include "vectorised.h"

// out[i] = x[i*xs] OP y[i*ys] with xs, ys in {0, 1}.
#define BINARY_KERNEL(NAME, OP, VOP)                                                              \
  __attribute__((target("avx512f"))) static void NAME##_avx512(int64_t n, const float *x, int64_t xs, \
                                                               const float *y, int64_t ys, float *out) { \
    int64_t i = 0;                                                                                \
    __m512 xb = _mm512_set1_ps(x[0]), yb = _mm512_set1_ps(y[0]);                                 \
    for (; i + 16 <= n; i += 16) {                                                                \
      __m512 a = xs ? _mm512_loadu_ps(x + i) : xb;                                                \
      __m512 b = ys ? _mm512_loadu_ps(y + i) : yb;                                                \
      _mm512_storeu_ps(out + i, VOP(a, b));                                                       \
    }                                                                                             \
    for (; i < n; ++i) out[i] = x[i * xs] OP y[i * ys];                                           \
  }                                                                                               \
  void ck_##NAME(int64_t n, const float *x, int64_t xs, const float *y, int64_t ys, float *out) {  \
    if (n <= 0) return;                                                                           \
    if (ck_isa() == 2) { NAME##_avx512(n, x, xs, y, ys, out); return; }                           \
    if (xs && ys) { for (int64_t i = 0; i < n; ++i) out[i] = x[i] OP y[i]; }                      \
    else if (xs) { float c = y[0]; for (int64_t i = 0; i < n; ++i) out[i] = x[i] OP c; }          \
    else if (ys) { float c = x[0]; for (int64_t i = 0; i < n; ++i) out[i] = c OP y[i]; }          \
    else { for (int64_t i = 0; i < n; ++i) out[i] = x[0] OP y[0]; }                               \
  }

BINARY_KERNEL(add_f32, +, _mm512_add_ps)
BINARY_KERNEL(sub_f32, -, _mm512_sub_ps)
BINARY_KERNEL(mul_f32, *, _mm512_mul_ps)
BINARY_KERNEL(div_f32, /, _mm512_div_ps)

// exp with a range reduction to [-ln2/2, ln2/2], Cephes' polynomial, and vscalefps for 2^n
// (which also gives 0 and infinity past the ends of the range).
__attribute__((target("avx512f"))) static __m512 exp512(__m512 x) {
  const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
  const __m512 ln2hi = _mm512_set1_ps(0.693359375f);
  const __m512 ln2lo = _mm512_set1_ps(-2.12194440e-4f);
  // Lanes below -104 (-inf among them: masked attention scores) are 0. They are computed as
  // exp(0) and zeroed at the end, because a vscalefps result that underflows costs a
  // microcode assist, about 25 times the lane's normal time. NaN compares false and passes.
  const __mmask16 zero = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-104.0f), _CMP_LT_OQ);
  x = _mm512_mask_blend_ps(zero, x, _mm512_setzero_ps());
  // Clamped with the bound first: max/min return their second operand when either is NaN,
  // so a NaN passes through every step unchanged (no separate NaN mask and blend).
  __m512 v = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-104.0f), x));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(v, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, ln2hi, v);
  r = _mm512_fnmadd_ps(n, ln2lo, r);
  __m512 p = _mm512_set1_ps(1.9875691500E-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507E-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073E-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894E-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459E-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201E-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_scalef_ps((__mmask16)~zero, p, n);
}

__attribute__((target("avx512f"))) static void exp_avx512(int64_t n, const float *x, float *out) {
  int64_t i = 0;
  // Long runs read 1 KiB ahead: the polynomial keeps the core busy enough that the hardware
  // prefetcher falls behind on arrays larger than the caches (10% at 10^7 elements); for
  // runs that fit in L2 the extra instruction only costs.
  if (n >= (1 << 20)) {
    for (; i + 16 <= n; i += 16) {
      _mm_prefetch((const char *)(x + i + 256), _MM_HINT_T0);
      _mm512_storeu_ps(out + i, exp512(_mm512_loadu_ps(x + i)));
    }
  }
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, exp512(_mm512_loadu_ps(x + i)));
  if (i < n) {
    __mmask16 tail = (__mmask16)((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(out + i, tail, exp512(_mm512_maskz_loadu_ps(tail, x + i)));
  }
}

void ck_exp_f32(int64_t n, const float *x, float *out) {
  if (n <= 0) return;
  if (ck_isa() == 2) { exp_avx512(n, x, out); return; }
  for (int64_t i = 0; i < n; ++i) out[i] = expf(x[i]);
}

// Sums blocks of 4096 in four float vector accumulators, then adds the block sums in double:
// float speed with the accuracy of a cascade.
__attribute__((target("avx512f"))) static double sum_avx512(int64_t n, const float *x) {
  double total = 0;
  int64_t i = 0;
  while (i < n) {
    int64_t end = n - i < 4096 ? n : i + 4096;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    for (; i + 64 <= end; i += 64) {
      a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
      a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
      a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32));
      a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
    }
    // The block's tail: whole vectors, then one masked load (a scalar tail is a serial chain
    // of adds, which for rows of ~1000 cost as much as the vector part).
    for (; i + 16 <= end; i += 16) a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
    if (i < end) {
      a1 = _mm512_add_ps(a1, _mm512_maskz_loadu_ps((__mmask16)((1u << (end - i)) - 1), x + i));
      i = end;
    }
    total += _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  }
  return total;
}

// The same blocks as sum_avx512 in 64 running lanes of plain C, which the compiler
// vectorises for AVX2 and the baseline. (One running float per block, as before, was a serial
// chain of adds whose error over a 4096 block showed in the AVX2-capped tests: 5e-4 on a sum
// of 70001 normals, where the lanes give what AVX-512 gives.)
VECTORISED static double sum_lanes(int64_t n, const float *x) {
  double total = 0;
  for (int64_t i = 0; i < n;) {
    const int64_t end = n - i < 4096 ? n : i + 4096;
    float lanes[64] = {0};
    for (; i + 64 <= end; i += 64) {
      for (int l = 0; l < 64; ++l) lanes[l] += x[i + l];
    }
    for (; i < end; ++i) lanes[i % 64] += x[i];
    float block = 0;
    for (int l = 0; l < 64; ++l) block += lanes[l];
    total += block;
  }
  return total;
}

double ck_sum_f32(int64_t n, const float *x) {
  if (n <= 0) return 0;
  if (ck_isa() == 2) return sum_avx512(n, x);
  return sum_lanes(n, x);
}

// out[j] = sum over r of x[r*ld + j], for j < width: blocks of 64 columns are summed down
// all rows in registers and stored once.
__attribute__((target("avx512f"))) static void sum_rows_avx512(int64_t rows, int64_t width, const float *x, int64_t ld, float *out) {
  int64_t j = 0;
  for (; j + 64 <= width; j += 64) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    const float *p = x + j;
    for (int64_t r = 0; r < rows; ++r, p += ld) {
      a0 = _mm512_add_ps(a0, _mm512_loadu_ps(p));
      a1 = _mm512_add_ps(a1, _mm512_loadu_ps(p + 16));
      a2 = _mm512_add_ps(a2, _mm512_loadu_ps(p + 32));
      a3 = _mm512_add_ps(a3, _mm512_loadu_ps(p + 48));
    }
    _mm512_storeu_ps(out + j, a0);
    _mm512_storeu_ps(out + j + 16, a1);
    _mm512_storeu_ps(out + j + 32, a2);
    _mm512_storeu_ps(out + j + 48, a3);
  }
  for (; j < width; j += 16) {
    __mmask16 m = width - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (width - j)) - 1);
    __m512 a = _mm512_setzero_ps();
    const float *p = x + j;
    for (int64_t r = 0; r < rows; ++r, p += ld) a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(m, p));
    _mm512_mask_storeu_ps(out + j, m, a);
  }
}

void ck_sum_rows_f32(int64_t rows, int64_t width, const float *x, int64_t ld, float *out) {
  if (width <= 0) return;
  if (ck_isa() == 2) { sum_rows_avx512(rows, width, x, ld, out); return; }
  for (int64_t j = 0; j < width; ++j) out[j] = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float *p = x + r * ld;
    for (int64_t j = 0; j < width; ++j) out[j] += p[j];
  }
}

// Row-wise (log-)softmax of contiguous rows: one pass for the max, one for the sum of exps,
// one to write; the exps go through the vectorised exp.
static void softmax_rows(int64_t rows, int64_t cols, const float *x, float *out, int take_log) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *in = x + r * cols;
    float *o = out + r * cols;
    float m = -INFINITY;
    for (int64_t j = 0; j < cols; ++j) m = in[j] > m || in[j] != in[j] ? in[j] : m;
    if (m != m || isinf(m)) m = isinf(m) && m < 0 ? 0 : m;  // all -inf rows, or NaN: no shift
    for (int64_t j = 0; j < cols; ++j) o[j] = in[j] - m;
    ck_exp_f32(cols, o, o);
    double total = 0;
    for (int64_t j = 0; j < cols; ++j) total += o[j];
    if (take_log) {
      float shift = m + (float)log(total);
      for (int64_t j = 0; j < cols; ++j) o[j] = in[j] - shift;
    } else {
      float scale = (float)(1.0 / total);
      for (int64_t j = 0; j < cols; ++j) o[j] *= scale;
    }
  }
}

void ck_softmax_f32(int64_t rows, int64_t cols, const float *x, float *out) { softmax_rows(rows, cols, x, out, 0); }
void ck_log_softmax_f32(int64_t rows, int64_t cols, const float *x, float *out) { softmax_rows(rows, cols, x, out, 1); }

// y[i] += alpha * x[i] over n contiguous floats.
__attribute__((target("avx512f"))) static void axpy_avx512(int64_t n, float alpha, const float *x, float *y) {
  __m512 a = _mm512_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

void ck_axpy_f32(int64_t n, float alpha, const float *x, float *y) {
  if (n <= 0) return;
  if (ck_isa() == 2) { axpy_avx512(n, alpha, x, y); return; }
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// out[i] = c[i] ? x[i*xs] : y[i*ys] on 4-byte bit patterns, xs, ys in {0, 1}.
__attribute__((target("avx512f"))) static void select32_avx512(int64_t n, const uint8_t *c, const uint32_t *x, int64_t xs,
                                                               const uint32_t *y, int64_t ys, uint32_t *out) {
  __m512i xb = _mm512_set1_epi32((int)x[0]), yb = _mm512_set1_epi32((int)y[0]);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i flags = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(c + i)));
    __m512i a = xs ? _mm512_loadu_si512(x + i) : xb;
    __m512i b = ys ? _mm512_loadu_si512(y + i) : yb;
    _mm512_storeu_si512(out + i, _mm512_mask_blend_epi32(_mm512_test_epi32_mask(flags, flags), b, a));
  }
  for (; i < n; ++i) out[i] = c[i] ? x[i * xs] : y[i * ys];
}

void ck_select32(int64_t n, const void *condition, const void *x, int64_t xs, const void *y, int64_t ys, void *out) {
  const uint8_t *c = condition;
  const uint32_t *a = x, *b = y;
  uint32_t *o = out;
  if (n <= 0) return;
  if (ck_isa() == 2) { select32_avx512(n, c, a, xs, b, ys, o); return; }
  for (int64_t i = 0; i < n; ++i) {
    uint32_t keep = 0u - (uint32_t)(c[i] != 0);
    o[i] = (a[i * xs] & keep) | (b[i * ys] & ~keep);
  }
}

// erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7, the approximation
// PyTorch's vectorised CPU erf uses): 1 - t (a1 + t (a2 + ...)) exp(-x^2), t = 1 / (1 + p|x|).
__attribute__((target("avx512f"))) static __m512 erf512(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  __m512 ax = _mm512_abs_ps(x);
  __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(_mm512_set1_ps(0.3275911f), ax, one));
  __m512 r = _mm512_set1_ps(1.061405429f);
  r = _mm512_fmadd_ps(r, t, _mm512_set1_ps(-1.453152027f));
  r = _mm512_fmadd_ps(r, t, _mm512_set1_ps(1.421413741f));
  r = _mm512_fmadd_ps(r, t, _mm512_set1_ps(-0.284496736f));
  r = _mm512_fmadd_ps(r, t, _mm512_set1_ps(0.254829592f));
  r = _mm512_mul_ps(r, t);
  __m512 e = exp512(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), ax), ax));
  __m512 y = _mm512_fnmadd_ps(r, e, one);
  // Copy x's sign onto y (a NaN x gives NaN through the arithmetic above).
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y),
                                             _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u))));
}

static float erf_scalar(float x) {
  float ax = fabsf(x), t = 1.0f / (1.0f + 0.3275911f * ax);
  float r = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
  float y = 1.0f - r * expf(-ax * ax);
  return copysignf(y, x);
}

__attribute__((target("avx512f"))) static void gelu_avx512(int64_t n, const float *x, float *out) {
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), root = _mm512_set1_ps(0.70710678118654752f);
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    __m512 y = _mm512_mul_ps(_mm512_mul_ps(v, half), _mm512_add_ps(one, erf512(_mm512_mul_ps(v, root))));
    _mm512_mask_storeu_ps(out + i, m, y);
  }
}

void ck_gelu_f32(int64_t n, const float *x, float *out) {
  if (n <= 0) return;
  if (ck_isa() == 2) { gelu_avx512(n, x, out); return; }
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * 0.5f * (1.0f + erf_scalar(x[i] * 0.70710678118654752f));
}

__attribute__((target("avx512f"))) static void gelu_backward_avx512(int64_t n, const float *x, const float *g, float *out) {
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), root = _mm512_set1_ps(0.70710678118654752f);
  const __m512 norm = _mm512_set1_ps(0.39894228040143268f), minushalf = _mm512_set1_ps(-0.5f);
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    __m512 cdf = _mm512_mul_ps(half, _mm512_add_ps(one, erf512(_mm512_mul_ps(v, root))));
    __m512 pdf = _mm512_mul_ps(exp512(_mm512_mul_ps(_mm512_mul_ps(v, v), minushalf)), norm);
    __m512 d = _mm512_fmadd_ps(v, pdf, cdf);
    _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, g + i), d));
  }
}

void ck_gelu_backward_f32(int64_t n, const float *x, const float *g, float *out) {
  if (n <= 0) return;
  if (ck_isa() == 2) { gelu_backward_avx512(n, x, g, out); return; }
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i], cdf = 0.5f * (1.0f + erf_scalar(v * 0.70710678118654752f));
    float pdf = expf(-0.5f * v * v) * 0.39894228040143268f;
    out[i] = g[i] * (cdf + v * pdf);
  }
}

VECTORISED void ck_relu_f32(int64_t n, const float *x, float *out) {
  // NaN <= 0 is false, so NaN passes through (as in PyTorch); -0 becomes +0.
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] <= 0.0f ? 0.0f : x[i];
}

VECTORISED void ck_relu_backward_f32(int64_t n, const float *y, const float *g, float *out) {
  for (int64_t i = 0; i < n; ++i) out[i] = y[i] <= 0.0f ? 0.0f : g[i];
}

// sigmoid as 1 / (1 + exp(-x)) (PyTorch's vectorised form), and tanh by Cephes' tanhf: an odd
// polynomial below |x| = 0.625, 1 - 2 / (exp(2|x|) + 1) above; both within a few ulp.
__attribute__((target("avx512f"))) static __m512 sigmoid512(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

__attribute__((target("avx512f"))) static __m512 tanh512(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
  __m512 ax = _mm512_abs_ps(x);
  __m512 z = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-5.70498872745E-3f);
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954E-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531E-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036E-1f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422E-1f));
  __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
  __m512 large = _mm512_sub_ps(one, _mm512_div_ps(two, _mm512_add_ps(exp512(_mm512_mul_ps(two, ax)), one)));
  large = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(large),
                                              _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u))));
  __mmask16 useSmall = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ);
  // NaN compares false, so it takes the large branch, where the arithmetic keeps it NaN.
  return _mm512_mask_blend_ps(useSmall, large, small);
}

#define UNARY_VECTOR_KERNEL(NAME, VECTOR, SCALAR)                                                   \
  __attribute__((target("avx512f"))) static void NAME##_avx512(int64_t n, const float *x, float *out) { \
    for (int64_t i = 0; i < n; i += 16) {                                                          \
      __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);              \
      _mm512_mask_storeu_ps(out + i, m, VECTOR(_mm512_maskz_loadu_ps(m, x + i)));                  \
    }                                                                                              \
  }                                                                                                \
  void ck_##NAME##_f32(int64_t n, const float *x, float *out) {                                    \
    if (n <= 0) return;                                                                            \
    if (ck_isa() == 2) { NAME##_avx512(n, x, out); return; }                                       \
    for (int64_t i = 0; i < n; ++i) out[i] = SCALAR(x[i]);                                         \
  }

static float sigmoid_scalar(float x) { return 1.0f / (1.0f + expf(-x)); }

UNARY_VECTOR_KERNEL(sigmoid, sigmoid512, sigmoid_scalar)
UNARY_VECTOR_KERNEL(tanh, tanh512, tanhf)

// One LSTM step's gate arithmetic, feature-major ([4H, B] gates in row blocks i, f, g, o;
// [H, B] states): the scalar loop is written plainly and vectorises; sigmoid and tanh go
// through the vector kernels a row at a time.
void ck_lstm_cell_forward_f32(int64_t hidden, int64_t batch, float *gates, const float *input_gates, int64_t input_row_stride,
                              const float *bias, const float *c_prev, float *c, float *tanh_c, float *h) {
  for (int64_t r = 0; r < 4 * hidden; ++r) {
    float *row = gates + r * batch;
    const float *x = input_gates + r * input_row_stride;
    float b = bias ? bias[r] : 0.0f;
    for (int64_t j = 0; j < batch; ++j) row[j] += x[j] + b;
    if (r >= 2 * hidden && r < 3 * hidden) ck_tanh_f32(batch, row, row);
    else ck_sigmoid_f32(batch, row, row);
  }
  const float *i = gates, *f = gates + hidden * batch, *g = gates + 2 * hidden * batch, *o = gates + 3 * hidden * batch;
  int64_t n = hidden * batch;
  for (int64_t k = 0; k < n; ++k) c[k] = f[k] * c_prev[k] + i[k] * g[k];
  ck_tanh_f32(n, c, tanh_c);
  for (int64_t k = 0; k < n; ++k) h[k] = o[k] * tanh_c[k];
}

void ck_lstm_cell_backward_f32(int64_t hidden, int64_t batch, const float *gates, const float *tanh_c, const float *c_prev,
                               const float *dh, const float *dc_next, float *dgates, float *dc_prev) {
  int64_t n = hidden * batch;
  const float *i = gates, *f = gates + n, *g = gates + 2 * n, *o = gates + 3 * n;
  float *di = dgates, *df = dgates + n, *dg = dgates + 2 * n, *dout = dgates + 3 * n;
  for (int64_t k = 0; k < n; ++k) {
    float t = tanh_c[k];
    float dc = dc_next[k] + dh[k] * o[k] * (1.0f - t * t);
    di[k] = dc * g[k] * i[k] * (1.0f - i[k]);
    df[k] = dc * c_prev[k] * f[k] * (1.0f - f[k]);
    dg[k] = dc * i[k] * (1.0f - g[k] * g[k]);
    dout[k] = dh[k] * t * o[k] * (1.0f - o[k]);
    dc_prev[k] = dc * f[k];
  }
}
