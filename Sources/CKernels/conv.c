// 2-D convolution over NCHW float32 images, without materialising im2col's matrix.
//
// Forward, per image and group: y[O_g, P] = W_g[O_g, K] cols[K, P] with K = C_g kh kw and
// P = out_h out_w; the SGEMM reads W_g in place and packs its B panels straight from the image
// (`pack_columns`, by the column runs of conv_columns.c), so the columns only ever exist one
// cache-sized block at a time. Input gradient: for stride 1, the forward convolution of dy
// with the flipped weight; otherwise column gradients W_gᵀ dy for a block of pixels, added
// back into the image (col2im) before the next block. Weight gradient: dy times a block of
// columns, in the weight's layout or transposed. Depthwise geometries (one input channel per
// group) have direct loops instead: a GEMM with one row per group would spend its time packing.
#include "CKernels.h"
#include "conv_columns.h"
#include "conv_depthwise.h"

#include <stdlib.h>
#include <string.h>

// The loops below are plain C that the compiler vectorises; each is built for AVX-512, AVX2
// and the baseline, and the loader picks the best for the CPU (the package has no global
// instruction-set flags).
#include "vectorised.h"

// Columns are made and consumed in blocks of at most this many floats (1 MiB).
#define BLOCK_FLOATS (1 << 18)

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

typedef struct {
  const ck_conv2d_geometry *g;
  const float *x;    // the group's first input channel in the first image
  int64_t image_in;  // floats from one image to the next
  int64_t p_base;    // the column of the GEMM's column 0
} column_source;

// The SGEMM's B packer: panels of nr columns of the column matrix, where column j is pixel
// j % P of image j / P (several images side by side; a panel may span them).
static void pack_columns(const void *context, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float *out, int nr) {
  const column_source *s = (const column_source *)context;
  for (int64_t q = 0; q < nc; q += nr) {
    conv_gather_columns(s->g, s->x, s->image_in, k0, kc, s->p_base + j0 + q, min64(nr, nc - q), out + q * kc, nr, nr);
  }
}

static inline int is_depthwise(const ck_conv2d_geometry *g) { return g->groups == g->channels && g->groups > 1; }

// Per-thread scratch for column blocks, grown as needed and kept.
static __thread float *tl_columns;
static __thread size_t tl_column_floats;

static float *column_scratch(size_t floats) {
  if (tl_column_floats < floats) {
    free(tl_columns);
    tl_columns = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
    tl_column_floats = tl_columns ? floats : 0;
  }
  return tl_columns;
}

// How many pixels a block of `rows` column rows may span (a multiple of 32, at least 32).
static int64_t block_pixels(int64_t rows) { return max64(32, BLOCK_FLOATS / max64(rows, 1) / 32 * 32); }

// ---- Depthwise: direct loops over each output row -----------------------------------------

// Output channel o reads input channel o / multiplier; out rows oh of pixels p0 ..< p1.
VECTORISED static void depthwise_forward(const ck_conv2d_geometry *g, const float *x, const float *weight, const float *bias, float *y,
                              int64_t p0, int64_t p1) {
  const int64_t mult = g->out_channels / g->groups, plane = g->height * g->width, pixels = g->out_h * g->out_w;
  for (int64_t o = 0; o < g->out_channels; ++o) {
    const float *src = x + (o / mult) * plane, *w = weight + o * g->kh * g->kw;
    float *out = y + o * pixels;
    const float b = bias ? bias[o] : 0;
    for (int64_t p = p0; p < p1; ++p) out[p] = b;
    for (int64_t p = p0; p < p1;) {
      const int64_t oh = p / g->out_w, ow = p % g->out_w, count = min64(g->out_w - ow, p1 - p);
      float *dst = out + p;
      for (int64_t i = 0; i < g->kh; ++i) {
        const int64_t ih = oh * g->sh - g->ph + i * g->dh;
        if (ih < 0 || ih >= g->height) continue;
        const float *line = src + ih * g->width;
        for (int64_t j = 0; j < g->kw; ++j) {
          const float wv = w[i * g->kw + j];
          const int64_t iw0 = ow * g->sw - g->pw + j * g->dw;
          int64_t lo, hi;
          conv_valid_taps(iw0, g->sw, g->width, count, &lo, &hi);
          if (g->sw == 1) {
            const float *s = line + iw0;
            for (int64_t t = lo; t < hi; ++t) dst[t] += wv * s[t];
          } else {
            for (int64_t t = lo; t < hi; ++t) dst[t] += wv * line[iw0 + t * g->sw];
          }
        }
      }
      p += count;
    }
  }
}

VECTORISED static void depthwise_backward_input(const ck_conv2d_geometry *g, const float *weight, const float *dy, float *dx, int64_t c0, int64_t c1) {
  const int64_t mult = g->out_channels / g->groups, plane = g->height * g->width, pixels = g->out_h * g->out_w;
  memset(dx + c0 * plane, 0, (size_t)((c1 - c0) * plane) * sizeof(float));
  for (int64_t o = c0 * mult; o < c1 * mult; ++o) {
    float *dst = dx + (o / mult) * plane;
    const float *w = weight + o * g->kh * g->kw, *grad = dy + o * pixels;
    for (int64_t oh = 0; oh < g->out_h; ++oh) {
      const float *src = grad + oh * g->out_w;
      for (int64_t i = 0; i < g->kh; ++i) {
        const int64_t ih = oh * g->sh - g->ph + i * g->dh;
        if (ih < 0 || ih >= g->height) continue;
        float *line = dst + ih * g->width;
        for (int64_t j = 0; j < g->kw; ++j) {
          const float wv = w[i * g->kw + j];
          const int64_t iw0 = -g->pw + j * g->dw;
          int64_t lo, hi;
          conv_valid_taps(iw0, g->sw, g->width, g->out_w, &lo, &hi);
          if (g->sw == 1) {
            float *d = line + iw0;
            for (int64_t t = lo; t < hi; ++t) d[t] += wv * src[t];
          } else {
            for (int64_t t = lo; t < hi; ++t) line[iw0 + t * g->sw] += wv * src[t];
          }
        }
      }
    }
  }
}

// Adds to the weight gradient in the transposed layout of ck_conv2d_backward_weight_f32.
VECTORISED static void depthwise_backward_weight(const ck_conv2d_geometry *g, const float *x, const float *dy, float *dweight_t,
                                                 int64_t p0, int64_t p1) {
  const int64_t mult = g->out_channels / g->groups, plane = g->height * g->width, pixels = g->out_h * g->out_w;
  const int64_t taps = g->kh * g->kw;
  for (int64_t o = 0; o < g->out_channels; ++o) {
    const float *src = x + (o / mult) * plane, *grad = dy + o * pixels;
    float *dw = dweight_t + (o / mult) * taps * mult + o % mult;
    for (int64_t i = 0; i < g->kh; ++i) {
      for (int64_t j = 0; j < g->kw; ++j) {
        // Sixteen running sums, so the products vectorise (a fixed order: deterministic).
        float acc[16] = {0};
        for (int64_t p = p0; p < p1;) {
          const int64_t oh = p / g->out_w, ow = p % g->out_w, count = min64(g->out_w - ow, p1 - p);
          const int64_t ih = oh * g->sh - g->ph + i * g->dh;
          if (ih >= 0 && ih < g->height) {
            const float *line = src + ih * g->width, *gr = grad + p;
            const int64_t iw0 = ow * g->sw - g->pw + j * g->dw;
            int64_t lo, hi;
            conv_valid_taps(iw0, g->sw, g->width, count, &lo, &hi);
            int64_t t = lo;
            if (g->sw == 1) {
              const float *s = line + iw0;
              for (; t + 16 <= hi; t += 16) {
                for (int l = 0; l < 16; ++l) acc[l] += gr[t + l] * s[t + l];
              }
              for (; t < hi; ++t) acc[0] += gr[t] * s[t];
            } else {
              for (; t < hi; ++t) acc[t & 15] += gr[t] * line[iw0 + t * g->sw];
            }
          }
          p += count;
        }
        float sum = 0;
        for (int l = 0; l < 16; ++l) sum += acc[l];
        dw[(i * g->kw + j) * mult] += sum;
      }
    }
  }
}

// ---- General: GEMMs per group -------------------------------------------------------------

void ck_conv2d_forward_f32(const ck_conv2d_geometry *g, const float *x, const float *weight, const float *bias, float *y,
                           int64_t p0, int64_t p1) {
  if (p1 <= p0) return;
  if (is_depthwise(g)) {
#if defined(__x86_64__)
    if (conv_depthwise_avx512_applies(g)) {
      conv_depthwise_forward_avx512(g, x, weight, bias, y, p0, p1);
      return;
    }
#endif
    depthwise_forward(g, x, weight, bias, y, p0, p1);
    return;
  }
  const int64_t cg = g->channels / g->groups, og = g->out_channels / g->groups, k = cg * g->kh * g->kw;
  const int64_t pixels = g->out_h * g->out_w, plane = g->height * g->width;
  for (int64_t group = 0; group < g->groups; ++group) {
    float *out = y + group * og * pixels + p0;
    const float *w = weight + group * og * k;
    if (g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0) {
      // A 1x1 convolution is a plain product with the image's channels as rows.
      ck_sgemm(og, p1 - p0, k, w, k, 1, x + group * cg * plane + p0, plane, 1, out, pixels);
    } else {
      column_source source = {g, x + group * cg * plane, 0, p0};
      ck_sgemm_packing_b(og, p1 - p0, k, w, k, 1, pack_columns, &source, out, pixels, 0);
    }
    if (bias) {
      for (int64_t o = 0; o < og; ++o) {
        const float b = bias[group * og + o];
        float *row = out + o * pixels;
        for (int64_t p = 0; p < p1 - p0; ++p) row[p] += b;
      }
    }
  }
}

void ck_conv2d_forward_images_f32(const ck_conv2d_geometry *g, const float *x, const float *weight, const float *bias, float *y,
                                  int64_t images) {
  if (images <= 0) return;
  const int64_t pixels = g->out_h * g->out_w, plane = g->height * g->width;
  const int64_t cg = g->channels / g->groups, og = g->out_channels / g->groups, k = cg * g->kh * g->kw, columns = images * pixels;
  // Image by image where batching does not apply.
  if (is_depthwise(g) || images == 1) {
    for (int64_t image = 0; image < images; ++image) {
      ck_conv2d_forward_f32(g, x + image * g->channels * plane, weight, bias, y + image * g->out_channels * pixels, 0, pixels);
    }
    return;
  }
  for (int64_t group = 0; group < g->groups; ++group) {
    // The product's columns are the images' pixels side by side, written straight into each
    // image's output (groups of `pixels` columns, an image's output apart).
    column_source source = {g, x + group * cg * plane, g->channels * plane, 0};
    float *out = y + group * og * pixels;
    ck_sgemm_packing_b_grouped(og, columns, k, weight + group * og * k, k, 1, pack_columns, &source, out, pixels, pixels,
                               g->out_channels * pixels, 0);
    if (bias) {
      for (int64_t image = 0; image < images; ++image) {
        for (int64_t o = 0; o < og; ++o) {
          const float b = bias[group * og + o];
          float *row = out + image * g->out_channels * pixels + o * pixels;
          for (int64_t p = 0; p < pixels; ++p) row[p] += b;
        }
      }
    }
  }
}

int ck_conv2d_input_gradient_is_convolution(const ck_conv2d_geometry *g) {
  return !is_depthwise(g) && g->sh == 1 && g->sw == 1 && g->ph <= g->dh * (g->kh - 1) && g->pw <= g->dw * (g->kw - 1);
}

ck_conv2d_geometry ck_conv2d_input_gradient_geometry(const ck_conv2d_geometry *g) {
  return (ck_conv2d_geometry){
      .channels = g->out_channels, .height = g->out_h, .width = g->out_w, .out_channels = g->channels, .groups = g->groups,
      .kh = g->kh, .kw = g->kw, .sh = 1, .sw = 1, .ph = g->dh * (g->kh - 1) - g->ph, .pw = g->dw * (g->kw - 1) - g->pw,
      .dh = g->dh, .dw = g->dw, .out_h = g->height, .out_w = g->width};
}

// The flip of channels cb ..< cb + count (one group) for a kernel of `taps` taps: a constant
// for 3 x 3 and 1 x 1, so each run is a fixed sequence of moves rather than a loop.
static inline __attribute__((always_inline)) void flip_channels(const float *weight, float *flipped, int64_t og, int64_t cg,
                                                                 int64_t group, int64_t cb, int64_t first, int64_t count,
                                                                 const int64_t taps) {
  for (int64_t o = 0; o < og; ++o) {
    const float *from = weight + ((group * og + o) * cg + first) * taps;
    for (int64_t c = 0; c < count; ++c) {
      float *to = flipped + ((cb + c) * og + o) * taps;
      for (int64_t t = 0; t < taps; ++t) to[t] = from[c * taps + taps - 1 - t];
    }
  }
}

void ck_conv2d_flip_weight_f32(const ck_conv2d_geometry *g, const float *weight, float *flipped, int64_t c0, int64_t c1) {
  const int64_t cg = g->channels / g->groups, og = g->out_channels / g->groups, taps = g->kh * g->kw;
  // Sixteen channels at a time: each weight row gives one run of 16 channels' taps, and the 16
  // flipped rows are each written in order, so neither side jumps a cache line per element.
  for (int64_t cb = c0, count; cb < c1; cb += count) {
    const int64_t group = cb / cg, first = cb % cg;
    count = min64(min64(16, c1 - cb), cg - first);
    if (taps == 9) flip_channels(weight, flipped, og, cg, group, cb, first, count, 9);
    else if (taps == 1) flip_channels(weight, flipped, og, cg, group, cb, first, count, 1);
    else flip_channels(weight, flipped, og, cg, group, cb, first, count, taps);
  }
}

void ck_conv2d_backward_input_f32(const ck_conv2d_geometry *g, const float *weight, const float *weight_t, const float *dy, float *dx,
                                  int64_t c0, int64_t c1) {
  if (c1 <= c0) return;
  if (is_depthwise(g)) {
#if defined(__x86_64__)
    if (conv_depthwise_avx512_applies(g)) {
      conv_depthwise_backward_input_avx512(g, weight, dy, dx, c0, c1);
      return;
    }
#endif
    depthwise_backward_input(g, weight, dy, dx, c0, c1);
    return;
  }
  const int64_t cg = g->channels / g->groups, og = g->out_channels / g->groups, taps = g->kh * g->kw, k = cg * taps;
  const int64_t pixels = g->out_h * g->out_w, plane = g->height * g->width;
  // (Stride-1 geometries, 1x1 ones among them, take ck_conv2d_input_gradient_is_convolution's path.)
  memset(dx + c0 * plane, 0, (size_t)((c1 - c0) * plane) * sizeof(float));
  for (int64_t group = c0 / cg; group * cg < c1; ++group) {
    // This group's channels within c0 ..< c1, as column rows r0 ..< r1.
    const int64_t a = max64(c0, group * cg) - group * cg, b = min64(c1, (group + 1) * cg) - group * cg;
    // Wᵀ (made once per backward by the caller) is row-major, so the GEMM reads it in place.
    const int64_t r0 = a * taps, rows = (b - a) * taps;
    const float *wt = weight_t + group * k * og + r0 * og;
    const float *grad = dy + group * og * pixels;
    float *dgroup = dx + group * cg * plane;
    const int64_t block = block_pixels(rows);
    float *cols = column_scratch((size_t)(rows * block));
    for (int64_t p = 0; p < pixels; p += block) {
      const int64_t np = min64(block, pixels - p);
      ck_sgemm(rows, np, og, wt, og, 1, grad + p, pixels, 1, cols, np);
      conv_scatter_columns(g, dgroup, r0, rows, p, np, cols, np);
    }
  }
}

int ck_conv2d_weight_gradient_is_transposed(const ck_conv2d_geometry *g) {
  return is_depthwise(g) || g->out_channels / g->groups < 128;
}

void ck_conv2d_backward_weight_f32(const ck_conv2d_geometry *g, const float *x, const float *dy, float *dweight, int64_t p0, int64_t p1) {
  if (p1 <= p0) return;
  if (is_depthwise(g)) {
#if defined(__x86_64__)
    if (conv_depthwise_avx512_applies(g)) {
      conv_depthwise_backward_weight_avx512(g, x, dy, dweight, p0, p1);
      return;
    }
#endif
    depthwise_backward_weight(g, x, dy, dweight, p0, p1);
    return;
  }
  const int64_t cg = g->channels / g->groups, og = g->out_channels / g->groups, k = cg * g->kh * g->kw;
  const int64_t pixels = g->out_h * g->out_w, plane = g->height * g->width;
  const int pointwise = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
  const int transposed = ck_conv2d_weight_gradient_is_transposed(g);
  // At least 256 pixels per block, so each product has a deep inner dimension and the
  // gradient is not read and written back for a few pixels at a time.
  const int64_t block = max64(block_pixels(k), 256);
  float *cols = pointwise ? NULL : column_scratch((size_t)(k * block));
  for (int64_t group = 0; group < g->groups; ++group) {
    const float *grad = dy + group * og * pixels, *image = x + group * cg * plane;
    float *dw = dweight + group * k * og;
    for (int64_t p = p0; p < p1; p += block) {
      const int64_t np = min64(block, p1 - p);
      const float *columns = image + p;
      int64_t ld = plane;
      if (!pointwise) {
        conv_gather_columns(g, image, 0, 0, k, p, np, cols, np, np);
        columns = cols;
        ld = np;
      }
      if (transposed) {
        // dWᵀ[K, O_g] += cols[K, P] dyᵀ[P, O_g]: the columns are read in place as the GEMM's
        // A and only dy (O_g rows, not K) is packed.
        ck_sgemm_accumulating(k, og, np, columns, ld, 1, grad + p, 1, pixels, dw, og, 1);
      } else {
        // dW[O_g, K] += dy[O_g, P] colsᵀ[P, K]: dy is read in place and the columns packed,
        // which costs one copy per 2 O_g flops but leaves no transpose of the gradient.
        ck_sgemm_accumulating(og, k, np, grad + p, pixels, 1, columns, 1, ld, dw, k, 1);
      }
    }
  }
}

void ck_conv2d_weight_gradient_f32(const ck_conv2d_geometry *g, const float *dweight_t, float *dweight, int64_t r0, int64_t r1) {
  const int64_t og = g->out_channels / g->groups, k = g->channels / g->groups * g->kh * g->kw;
  for (int64_t group = 0; group < g->groups; ++group) ck_transpose_f32(dweight_t + group * k * og, k, og, r0, r1, dweight + group * og * k);
}

void ck_conv2d_transpose_weight_f32(const ck_conv2d_geometry *g, const float *weight, float *weight_t, int64_t o0, int64_t o1) {
  const int64_t og = g->out_channels / g->groups, k = g->channels / g->groups * g->kh * g->kw;
  for (int64_t group = 0; group < g->groups; ++group) ck_transpose_f32(weight + group * og * k, og, k, o0, o1, weight_t + group * k * og);
}
