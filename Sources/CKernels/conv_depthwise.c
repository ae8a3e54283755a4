// Depthwise convolution (one input channel per group) with stride 1, in AVX-512 registers:
// a run of up to 64 output pixels of one row is four accumulators that take every tap before
// they are stored once, and the weight gradient keeps one accumulator per tap, so each input
// vector is loaded once per tap and nothing is re-read from memory between taps. Padding is a
// lane mask on the loads (masked-off lanes read nothing).
#include "conv_depthwise.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define MAX_TAPS 32

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

// Lanes lo ..< hi of 16 (clamped).
static inline __mmask16 lanes(int64_t lo, int64_t hi) {
  lo = max64(lo, 0);
  hi = min64(hi, 16);
  return hi <= lo ? 0 : (__mmask16)(((1u << (hi - lo)) - 1) << lo);
}

int conv_depthwise_avx512_applies(const ck_conv2d_geometry *g) {
  return ck_isa() == 2 && g->sh == 1 && g->sw == 1 && g->kh * g->kw <= MAX_TAPS;
}

// One output plane, stride 1: out[oh][ow] = init (or out's own value, when accumulate)
// + Σ w[i kw + j] src[oh - ph + i dh][ow - pw + j dw] over the taps that land inside the
// height x width source, for output pixels p0 ..< p1 of an out_w-wide plane.
__attribute__((target("avx512f")))
static void plane(const float *src, int64_t height, int64_t width, const float *w, int64_t kh, int64_t kw, int64_t ph, int64_t pw,
                  int64_t dh, int64_t dw, float init, int accumulate, float *out, int64_t out_w, int64_t p0, int64_t p1) {
  for (int64_t p = p0; p < p1;) {
    const int64_t oh = p / out_w, ow0 = p % out_w, count = min64(out_w - ow0, p1 - p);
    for (int64_t v = 0; v < count; v += 64) {
      // Up to four vectors of this row: lanes of vector q are columns ow0 + v + 16 q + l.
      const int64_t n = min64(64, count - v);
      float *dst = out + p + v;
      __m512 acc[4];
      __mmask16 store[4];
      // The lanes each tap column j reads depend on j only, not on the tap row: worked out once.
      __mmask16 reads[4][MAX_TAPS];
      for (int q = 0; q < 4; ++q) {
        store[q] = lanes(0, n - 16 * q);
        acc[q] = accumulate ? _mm512_maskz_loadu_ps(store[q], dst + 16 * q) : _mm512_set1_ps(init);
        for (int64_t j = 0; j < kw; ++j) {
          const int64_t first = ow0 + v - pw + j * dw + 16 * q;  // the source column of lane 0
          reads[q][j] = store[q] & lanes(-first, width - first);
        }
      }
      for (int64_t i = 0; i < kh; ++i) {
        const int64_t ih = oh - ph + i * dh;
        if (ih < 0 || ih >= height) continue;
        const float *line = src + ih * width + ow0 + v - pw;
        for (int64_t j = 0; j < kw; ++j) {
          const __m512 wv = _mm512_set1_ps(w[i * kw + j]);
          for (int q = 0; q < 4; ++q) {
            acc[q] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(reads[q][j], line + j * dw + 16 * q), acc[q]);
          }
        }
      }
      for (int q = 0; q < 4; ++q) _mm512_mask_storeu_ps(dst + 16 * q, store[q], acc[q]);
    }
    p += count;
  }
}

__attribute__((target("avx512f")))
void conv_depthwise_forward_avx512(const ck_conv2d_geometry *g, const float *x, const float *weight, const float *bias, float *y,
                                   int64_t p0, int64_t p1) {
  const int64_t mult = g->out_channels / g->groups, planes = g->height * g->width, pixels = g->out_h * g->out_w;
  for (int64_t o = 0; o < g->out_channels; ++o) {
    plane(x + (o / mult) * planes, g->height, g->width, weight + o * g->kh * g->kw, g->kh, g->kw, g->ph, g->pw, g->dh, g->dw,
          bias ? bias[o] : 0, 0, y + o * pixels, g->out_w, p0, p1);
  }
}

// dx[c][ih][iw] = Σ_o Σ_taps w_o[i][j] dy_o[ih + ph - i dh][iw + pw - j dw]: the forward
// plane with the taps flipped and padding dh (kh - 1) - ph (which may be negative).
__attribute__((target("avx512f")))
void conv_depthwise_backward_input_avx512(const ck_conv2d_geometry *g, const float *weight, const float *dy, float *dx, int64_t c0,
                                          int64_t c1) {
  const int64_t mult = g->out_channels / g->groups, planes = g->height * g->width, pixels = g->out_h * g->out_w;
  const int64_t taps = g->kh * g->kw;
  float flipped[MAX_TAPS];
  for (int64_t c = c0; c < c1; ++c) {
    for (int64_t m = 0; m < mult; ++m) {
      const int64_t o = c * mult + m;
      for (int64_t t = 0; t < taps; ++t) flipped[t] = weight[o * taps + taps - 1 - t];
      plane(dy + o * pixels, g->out_h, g->out_w, flipped, g->kh, g->kw, g->dh * (g->kh - 1) - g->ph, g->dw * (g->kw - 1) - g->pw,
            g->dh, g->dw, 0, m > 0, dx + c * planes, g->width, 0, planes);
    }
  }
}

// One channel's weight gradient: one accumulator per tap over output pixels p0 ..< p1, each dy
// vector loaded once and multiplied with the source vector of every tap. With kh and kw
// constants (3 x 3) the accumulators stay in registers; indexed at run time they live on the
// stack.
__attribute__((target("avx512f"), always_inline))
static inline void channel_weight_gradient(const ck_conv2d_geometry *g, const float *src, const float *grad, int64_t p0, int64_t p1,
                                           const int64_t kh, const int64_t kw, float *sums) {
  __m512 acc[MAX_TAPS];
  for (int64_t t = 0; t < kh * kw; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t p = p0; p < p1;) {
    const int64_t oh = p / g->out_w, ow0 = p % g->out_w, count = min64(g->out_w - ow0, p1 - p);
    for (int64_t v = 0; v < count; v += 16) {
      const __mmask16 valid = lanes(0, count - v);
      const __m512 gv = _mm512_maskz_loadu_ps(valid, grad + p + v);
      __mmask16 reads[MAX_TAPS];
      for (int64_t j = 0; j < kw; ++j) {
        const int64_t first = ow0 + v - g->pw + j * g->dw;
        reads[j] = valid & lanes(-first, g->width - first);
      }
      for (int64_t i = 0; i < kh; ++i) {
        const int64_t ih = oh - g->ph + i * g->dh;
        if (ih < 0 || ih >= g->height) continue;
        const float *line = src + ih * g->width + ow0 + v - g->pw;
        for (int64_t j = 0; j < kw; ++j) {
          acc[i * kw + j] = _mm512_fmadd_ps(gv, _mm512_maskz_loadu_ps(reads[j], line + j * g->dw), acc[i * kw + j]);
        }
      }
    }
    p += count;
  }
  for (int64_t t = 0; t < kh * kw; ++t) sums[t] = _mm512_reduce_add_ps(acc[t]);
}

// Adds to the transposed layout of ck_conv2d_backward_weight_f32
// (`dweight_t[(c taps + t) mult + o % mult]`).
__attribute__((target("avx512f")))
void conv_depthwise_backward_weight_avx512(const ck_conv2d_geometry *g, const float *x, const float *dy, float *dweight_t, int64_t p0,
                                           int64_t p1) {
  const int64_t mult = g->out_channels / g->groups, planes = g->height * g->width, pixels = g->out_h * g->out_w;
  const int64_t taps = g->kh * g->kw;
  for (int64_t o = 0; o < g->out_channels; ++o) {
    const float *src = x + (o / mult) * planes, *grad = dy + o * pixels;
    float sums[MAX_TAPS];
    if (g->kh == 3 && g->kw == 3) channel_weight_gradient(g, src, grad, p0, p1, 3, 3, sums);
    else channel_weight_gradient(g, src, grad, p0, p1, g->kh, g->kw, sums);
    float *dw = dweight_t + (o / mult) * taps * mult + o % mult;
    for (int64_t t = 0; t < taps; ++t) dw[t * mult] += sums[t];
  }
}

#else

int conv_depthwise_avx512_applies(const ck_conv2d_geometry *g) {
  (void)g;
  return 0;
}

#endif
