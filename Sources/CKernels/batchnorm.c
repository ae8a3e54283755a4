// Batch normalization over NCHW float32 (contiguous): per channel, statistics in two passes
// (mean, then the squared deviations, summed in double) and the normalisation in a third; the
// backward's two per-channel sums in one pass and the input gradient in another.
#include "CKernels.h"

#include <math.h>

#include "vectorised.h"

VECTORISED void ck_batch_norm_forward_f32(int64_t n, int64_t channels, int64_t hw, const float *x, const float *weight,
                                          const float *bias, double eps, int compute_stats, float *mean, float *var, float *y,
                                          int64_t c0, int64_t c1) {
  const int64_t count = n * hw;
  for (int64_t c = c0; c < c1; ++c) {
    if (compute_stats) {
      double sum = 0;
      for (int64_t b = 0; b < n; ++b) {
        const float *row = x + (b * channels + c) * hw;
        float partial = 0;
        for (int64_t i = 0; i < hw; ++i) partial += row[i];
        sum += partial;
      }
      const float mu = (float)(sum / (double)count);
      double squares = 0;
      for (int64_t b = 0; b < n; ++b) {
        const float *row = x + (b * channels + c) * hw;
        float partial = 0;
        for (int64_t i = 0; i < hw; ++i) {
          const float d = row[i] - mu;
          partial += d * d;
        }
        squares += partial;
      }
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
      const float *row = x + (b * channels + c) * hw, *grad = dy + (b * channels + c) * hw;
      float s = 0, sc = 0;
      for (int64_t i = 0; i < hw; ++i) {
        s += grad[i];
        sc += grad[i] * (row[i] - mu);
      }
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
