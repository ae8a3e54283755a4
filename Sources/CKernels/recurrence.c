// A whole LSTM direction's recurrence on a team of threads: each thread owns a slice of the
// hidden units, computes its rows of every gate block (a product with its rows of W_hh) and
// the gate arithmetic for its units, and a barrier per step publishes the new state. One
// parallel region per sequence instead of one per step and op.
#include "CKernels.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

// The gate loops are plain C built per instruction set (they had been baseline SSE2 code:
// the LSTM backward's elementwise loop alone was 6% of a training step).
#include "vectorised.h"

void ck_barrier_init(ck_barrier *barrier) {
  atomic_store(&barrier->arrived, 0);
  atomic_store(&barrier->phase, 0);
}

void ck_barrier_wait(ck_barrier *barrier, int threads) {
  if (threads <= 1) return;
  int phase = atomic_load_explicit(&barrier->phase, memory_order_acquire);
  if (atomic_fetch_add_explicit(&barrier->arrived, 1, memory_order_acq_rel) == threads - 1) {
    atomic_store_explicit(&barrier->arrived, 0, memory_order_relaxed);
    atomic_store_explicit(&barrier->phase, phase + 1, memory_order_release);
  } else {
    while (atomic_load_explicit(&barrier->phase, memory_order_acquire) == phase) {
    }
  }
}

static void slice_of(int thread, int threads, int64_t hidden, int64_t *begin, int64_t *end) {
  int64_t chunk = (hidden + threads - 1) / threads;
  *begin = thread * chunk < hidden ? thread * chunk : hidden;
  *end = *begin + chunk < hidden ? *begin + chunk : hidden;
}

VECTORISED int ck_lstm_recurrence_forward_f32(int thread, int threads, ck_barrier *barrier, int64_t steps, int64_t batch, int64_t hidden,
                                   const float *w_hh, const float *input_gates, const float *b_hh, const float *h0, const float *c0,
                                   int reverse, float *acts, float *cs, float *tanh_cs, float *hs, float *previous_h) {
  int64_t a, b;
  slice_of(thread, threads, hidden, &a, &b);
  int64_t n = b - a, row_stride = steps * batch, gates = 4 * hidden;
  // This thread's rows of the four gate blocks, contiguous: one product per step.
  float *weights = n > 0 ? malloc(sizeof(float) * (size_t)(4 * n * hidden)) : NULL;
  float *local = n > 0 ? malloc(sizeof(float) * (size_t)(4 * n * batch)) : NULL;
  int failed = n > 0 && (!weights || !local);
  if (!failed)
    for (int g = 0; g < 4; ++g)
      if (n > 0) memcpy(weights + g * n * hidden, w_hh + (g * hidden + a) * hidden, sizeof(float) * (size_t)(n * hidden));
  const float *h = h0, *c_prev = c0;
  for (int64_t s = 0; s < steps; ++s) {
    int64_t t = reverse ? steps - 1 - s : s;
    float *act = acts + t * gates * batch, *c = cs + t * hidden * batch, *tc = tanh_cs + t * hidden * batch;
    float *h_new = hs + t * hidden * batch;
    if (n > 0 && !failed) {
      for (int64_t j = a; j < b; ++j) memcpy(previous_h + j * row_stride + t * batch, h + j * batch, sizeof(float) * (size_t)batch);
      ck_sgemm(4 * n, batch, hidden, weights, hidden, 1, h, batch, 1, local, batch);
      for (int g = 0; g < 4; ++g) {
        for (int64_t j = a; j < b; ++j) {
          int64_t r = g * hidden + j;
          const float *in = local + (g * n + j - a) * batch;
          float *row = act + r * batch;
          const float *x = input_gates + r * row_stride + t * batch;
          float bias = b_hh ? b_hh[r] : 0.0f;
          for (int64_t k = 0; k < batch; ++k) row[k] = in[k] + x[k] + bias;
        }
        // This thread's rows of a gate block are contiguous: one activation call for all.
        float *block = act + (g * hidden + a) * batch;
        if (g == 2) ck_tanh_f32(n * batch, block, block);
        else ck_sigmoid_f32(n * batch, block, block);
      }
      // The slice's rows of c, tanh(c) and h are contiguous too (n x batch floats).
      const int64_t first = a * batch, count = n * batch;
      const float *i = act + first, *f = act + hidden * batch + first, *g = act + 2 * hidden * batch + first,
                  *o = act + 3 * hidden * batch + first, *cp = c_prev + first;
      float *cj = c + first, *tj = tc + first, *hj = h_new + first;
      for (int64_t k = 0; k < count; ++k) cj[k] = f[k] * cp[k] + i[k] * g[k];
      ck_tanh_f32(count, cj, tj);
      for (int64_t k = 0; k < count; ++k) hj[k] = o[k] * tj[k];
    }
    // Every member reaches every barrier, even one that failed, so none waits forever.
    ck_barrier_wait(barrier, threads);
    h = h_new;
    c_prev = c;
  }
  free(weights);
  free(local);
  return failed ? -1 : 0;
}

VECTORISED void ck_lstm_recurrence_backward_f32(int thread, int threads, ck_barrier *barrier, int64_t steps, int64_t batch, int64_t hidden,
                                     const float *w_hh_t, const float *acts, const float *cs, const float *tanh_cs, const float *c0,
                                     const float *d_out, int reverse, float *dh, float *dc, float *d_gates) {
  int64_t a, b;
  slice_of(thread, threads, hidden, &a, &b);
  int64_t row_stride = steps * batch, gates = 4 * hidden;
  for (int64_t s = steps - 1; s >= 0; --s) {
    int64_t t = reverse ? steps - 1 - s : s;
    int64_t previous = reverse ? t + 1 : t - 1;
    const float *act = acts + t * gates * batch, *tc = tanh_cs + t * hidden * batch;
    const float *c_prev = (previous >= 0 && previous < steps) ? cs + previous * hidden * batch : c0;
    const float *dout = d_out + t * hidden * batch;
    for (int64_t j = a; j < b; ++j) {
      const float *i = act + j * batch, *f = act + (hidden + j) * batch, *g = act + (2 * hidden + j) * batch,
                  *o = act + (3 * hidden + j) * batch, *cp = c_prev + j * batch, *tj = tc + j * batch, *dj = dout + j * batch;
      float *dhj = dh + j * batch, *dcj = dc + j * batch;
      float *di = d_gates + j * row_stride + t * batch, *df = d_gates + (hidden + j) * row_stride + t * batch;
      float *dg = d_gates + (2 * hidden + j) * row_stride + t * batch, *dO = d_gates + (3 * hidden + j) * row_stride + t * batch;
      // The rows read and written here all start at the same offset modulo 4 KiB (the
      // buffers are page-aligned and their rows a power of two apart), so a store followed by
      // a load of another row was taken for a dependence (4K aliasing) on nearly every load.
      // The results go to a local block first, then out in whole rows.
      for (int64_t k0 = 0; k0 < batch; k0 += 64) {
        const int64_t width = batch - k0 < 64 ? batch - k0 : 64;
        float out[5][64];
        for (int64_t q = 0; q < width; ++q) {
          const int64_t k = k0 + q;
          float h_grad = dhj[k] + dj[k];
          float c_grad = dcj[k] + h_grad * o[k] * (1.0f - tj[k] * tj[k]);
          out[0][q] = c_grad * g[k] * i[k] * (1.0f - i[k]);
          out[1][q] = c_grad * cp[k] * f[k] * (1.0f - f[k]);
          out[2][q] = c_grad * i[k] * (1.0f - g[k] * g[k]);
          out[3][q] = h_grad * tj[k] * o[k] * (1.0f - o[k]);
          out[4][q] = c_grad * f[k];
        }
        memcpy(di + k0, out[0], sizeof(float) * (size_t)width);
        memcpy(df + k0, out[1], sizeof(float) * (size_t)width);
        memcpy(dg + k0, out[2], sizeof(float) * (size_t)width);
        memcpy(dO + k0, out[3], sizeof(float) * (size_t)width);
        memcpy(dcj + k0, out[4], sizeof(float) * (size_t)width);
      }
    }
    ck_barrier_wait(barrier, threads);
    if (b > a) ck_sgemm(b - a, batch, gates, w_hh_t + a * gates, gates, 1, d_gates + t * batch, row_stride, 1, dh + a * batch, batch);
  }
}
