// Layer normalization over the rows of a contiguous float32 [rows, width] matrix: per row, the
// mean and the squared deviations in two passes over the cached row (partial sums in float
// lanes, the row's total in double), then the normalisation; the backward's two row sums in
// one pass and the input gradient in another. Weight and bias gradients are column sums over
// rows, accumulated per thread into the caller's double buffers.
#include "CKernels.h"

#include <math.h>

#include "vectorised.h"

// Row sums run in 16 float lanes (so the loops vectorise without reassociating a single
// accumulator), added up in double.
enum { LN_LANES = 16 };

static inline float ln_mean(const float *row, int64_t width) {
  float acc[LN_LANES] = {0};
  int64_t i = 0;
  for (; i + LN_LANES <= width; i += LN_LANES)
    for (int k = 0; k < LN_LANES; ++k) acc[k] += row[i + k];
  double total = 0;
  for (int k = 0; k < LN_LANES; ++k) total += acc[k];
  for (; i < width; ++i) total += row[i];
  return (float)(total / (double)width);
}

static inline double ln_squares(const float *row, float mu, int64_t width) {
  float acc[LN_LANES] = {0};
  int64_t i = 0;
  for (; i + LN_LANES <= width; i += LN_LANES)
    for (int k = 0; k < LN_LANES; ++k) {
      const float d = row[i + k] - mu;
      acc[k] += d * d;
    }
  double total = 0;
  for (int k = 0; k < LN_LANES; ++k) total += acc[k];
  for (; i < width; ++i) total += (double)((row[i] - mu) * (row[i] - mu));
  return total;
}

VECTORISED void ck_layer_norm_forward_f32(int64_t width, const float *x, const float *weight, const float *bias,
                                          double eps, float *mean, float *rstd, float *y, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float *row = x + r * width;
    float *out = y + r * width;
    const float mu = ln_mean(row, width);
    const float inv = (float)(1.0 / sqrt(ln_squares(row, mu, width) / (double)width + eps));
    mean[r] = mu;
    rstd[r] = inv;
    if (weight && bias) {
      for (int64_t i = 0; i < width; ++i) out[i] = (row[i] - mu) * inv * weight[i] + bias[i];
    } else if (weight) {
      for (int64_t i = 0; i < width; ++i) out[i] = (row[i] - mu) * inv * weight[i];
    } else if (bias) {
      for (int64_t i = 0; i < width; ++i) out[i] = (row[i] - mu) * inv + bias[i];
    } else {
      for (int64_t i = 0; i < width; ++i) out[i] = (row[i] - mu) * inv;
    }
  }
}

VECTORISED void ck_layer_norm_backward_f32(int64_t width, const float *x, const float *dy, const float *mean,
                                           const float *rstd, const float *weight, float *dx, double *dweight,
                                           double *dbias, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float *row = x + r * width, *grad = dy + r * width;
    const float mu = mean[r], inv = rstd[r];
    if (dweight) {
      for (int64_t i = 0; i < width; ++i) dweight[i] += (double)(grad[i] * ((row[i] - mu) * inv));
    }
    if (dbias) {
      for (int64_t i = 0; i < width; ++i) dbias[i] += (double)grad[i];
    }
    if (!dx) continue;
    // g = dy w; dx = inv (g - mean(g) - xhat mean(g xhat)), xhat = (x - mu) inv.
    float acc_g[LN_LANES] = {0}, acc_gx[LN_LANES] = {0};
    int64_t i = 0;
    for (; i + LN_LANES <= width; i += LN_LANES)
      for (int k = 0; k < LN_LANES; ++k) {
        const float g = weight ? grad[i + k] * weight[i + k] : grad[i + k];
        acc_g[k] += g;
        acc_gx[k] += g * ((row[i + k] - mu) * inv);
      }
    double sum_g = 0, sum_g_xhat = 0;
    for (int k = 0; k < LN_LANES; ++k) {
      sum_g += acc_g[k];
      sum_g_xhat += acc_gx[k];
    }
    for (; i < width; ++i) {
      const float g = weight ? grad[i] * weight[i] : grad[i];
      sum_g += g;
      sum_g_xhat += g * ((row[i] - mu) * inv);
    }
    const float mean_g = (float)(sum_g / (double)width), mean_g_xhat = (float)(sum_g_xhat / (double)width);
    float *out = dx + r * width;
    for (int64_t i = 0; i < width; ++i) {
      const float g = weight ? grad[i] * weight[i] : grad[i];
      out[i] = inv * (g - mean_g - (row[i] - mu) * inv * mean_g_xhat);
    }
  }
}
