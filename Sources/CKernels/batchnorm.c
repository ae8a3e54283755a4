// Batch normalization over NCHW float32 (contiguous): per channel, statistics in two passes
// (mean, then the squared deviations, summed in double) and the normalisation in a third; the
// backward's two per-channel sums in one pass and the input gradient in another.
#include "CKernels.h"

#include <math.h>

#include "vectorised.h"

// Row sums in sixteen running lanes, added in a fixed order: the compiler vectorises them
// without reassociating (a plain `partial += row[i]` ran as a chain of scalar adds, four
// cycles an element), and the result is the same on every run.
#define LANES 16

static inline __attribute__((always_inline)) float lanes_total(const float acc[LANES]) {
  float total = 0;
  for (int l = 0; l < LANES; ++l) total += acc[l];
  return total;
}

// Σ row[i].
static inline __attribute__((always_inline)) float row_sum(const float *row, int64_t hw) {
  float acc[LANES] = {0};
  int64_t i = 0;
  for (; i + LANES <= hw; i += LANES) {
    for (int l = 0; l < LANES; ++l) acc[l] += row[i + l];
  }
  for (; i < hw; ++i) acc[i % LANES] += row[i];
  return lanes_total(acc);
}

// Σ (row[i] - mu)².
static inline __attribute__((always_inline)) float row_squared_deviations(const float *row, int64_t hw, float mu) {
  float acc[LANES] = {0};
  int64_t i = 0;
  for (; i + LANES <= hw; i += LANES) {
    for (int l = 0; l < LANES; ++l) {
      const float d = row[i + l] - mu;
      acc[l] += d * d;
    }
  }
  for (; i < hw; ++i) {
    const float d = row[i] - mu;
    acc[i % LANES] += d * d;
  }
  return lanes_total(acc);
}

// Σ grad[i] and Σ grad[i] (row[i] - mu).
static inline __attribute__((always_inline)) void row_gradient_sums(const float *row, const float *grad, int64_t hw, float mu,
                                                                     float *sum, float *centered) {
  float s[LANES] = {0}, sc[LANES] = {0};
  int64_t i = 0;
  for (; i + LANES <= hw; i += LANES) {
    for (int l = 0; l < LANES; ++l) {
      s[l] += grad[i + l];
      sc[l] += grad[i + l] * (row[i + l] - mu);
    }
  }
  for (; i < hw; ++i) {
    s[i % LANES] += grad[i];
    sc[i % LANES] += grad[i] * (row[i] - mu);
  }
  *sum = lanes_total(s);
  *centered = lanes_total(sc);
}

VECTORISED void ck_batch_norm_forward_f32(int64_t n, int64_t channels, int64_t hw, const float *x, const float *weight,
                                          const float *bias, double eps, int compute_stats, float *mean, float *var, float *y,
                                          int64_t c0, int64_t c1) {
  const int64_t count = n * hw;
  for (int64_t c = c0; c < c1; ++c) {
    if (compute_stats) {
      double sum = 0;
      for (int64_t b = 0; b < n; ++b) sum += row_sum(x + (b * channels + c) * hw, hw);
      const float mu = (float)(sum / (double)count);
      double squares = 0;
      for (int64_t b = 0; b < n; ++b) squares += row_squared_deviations(x + (b * channels + c) * hw, hw, mu);
      mean[c] = mu;
      var[c] = (float)(squares / (double)count);
    }
    const float invstd = (float)(1.0 / sqrt((double)var[c] + eps));
    const float scale = (weight ? weight[c] : 1.0f) * invstd;
    const float shift = (bias ? bias[c] : 0.0f) - mean[c] * scale;
    for (int64_t b = 0; b < n; ++b) {
      const float *row = x + (b * channels + c) * hw;
      float *out = y + (b * channels + c) * hw;
      for (int64_t i = 0; i < hw; ++i) out[i] = row[i] * scale + shift;
    }
  }
}

VECTORISED void ck_batch_norm_backward_f32(int64_t n, int64_t channels, int64_t hw, const float *x, const float *dy,
                                           const float *mean, const float *var, double eps, const float *weight, float *dx,
                                           float *dweight, float *dbias, int64_t c0, int64_t c1) {
  const int64_t count = n * hw;
  for (int64_t c = c0; c < c1; ++c) {
    const float mu = mean[c];
    const float invstd = (float)(1.0 / sqrt((double)var[c] + eps));
    double sum_dy = 0, sum_dy_centered = 0;
    for (int64_t b = 0; b < n; ++b) {
      float s, sc;
      row_gradient_sums(x + (b * channels + c) * hw, dy + (b * channels + c) * hw, hw, mu, &s, &sc);
      sum_dy += s;
      sum_dy_centered += sc;
    }
    const float w = weight ? weight[c] : 1.0f;
    if (dweight) dweight[c] = (float)(sum_dy_centered * invstd);
    if (dbias) dbias[c] = (float)sum_dy;
    if (!dx) continue;
    // dx = w invstd (dy - mean(dy) - xhat mean(dy xhat)), xhat = (x - mu) invstd.
    const float mean_dy = (float)(sum_dy / (double)count);
    const float k = (float)(sum_dy_centered / (double)count) * invstd * invstd;
    const float scale = w * invstd;
    for (int64_t b = 0; b < n; ++b) {
      const float *row = x + (b * channels + c) * hw, *grad = dy + (b * channels + c) * hw;
      float *out = dx + (b * channels + c) * hw;
      for (int64_t i = 0; i < hw; ++i) out[i] = (grad[i] - mean_dy - (row[i] - mu) * k) * scale;
    }
  }
}
