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

// Every buffer is in PyTorch's layout (batch-major rows, features along the row), so a step's
// block of each is contiguous and every product over all steps is a plain strided product.
// A thread owns hidden units a ..< b: its rows of the four gate blocks of W_hh, packed once,
// multiply the whole previous state each step (`local`, feature-major: [4n][B]); the result
// is transposed into batch-major rows before the gate arithmetic. Rows of a step's input
// gates had been T*B floats apart in a feature-major layout: a cache miss (and, when
// written, a read for ownership) on every row.
VECTORISED int ck_lstm_recurrence_forward_f32(int thread, int threads, ck_barrier *barrier, int64_t steps, int64_t batch,
                                              int64_t hidden, const float *w_hh, const float *input_gates, const float *b_hh,
                                              const float *c0, int reverse, float *acts, float *cs, float *tanh_cs,
                                              float *states) {
  int64_t a, b;
  slice_of(thread, threads, hidden, &a, &b);
  const int64_t n = b - a, gates = 4 * hidden;
  float *rows = n > 0 ? malloc(sizeof(float) * (size_t)(4 * n * hidden)) : NULL;
  float *weights = n > 0 ? malloc(sizeof(float) * (size_t)ck_sgemm_packed_a_floats(4 * n, hidden)) : NULL;
  float *local = n > 0 ? malloc(sizeof(float) * (size_t)(8 * n * batch)) : NULL;
  const int failed = n > 0 && (!rows || !weights || !local);
  if (!failed && n > 0) {
    for (int g = 0; g < 4; ++g)
      memcpy(rows + g * n * hidden, w_hh + (g * hidden + a) * hidden, sizeof(float) * (size_t)(n * hidden));
    ck_sgemm_pack_a(4 * n, hidden, rows, hidden, 1, weights);
  }
  free(rows);
  float *transposed = local ? local + 4 * n * batch : NULL;
  const int64_t state = batch * hidden;
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = reverse ? steps - 1 - s : s;
    // The state before step t is slot t (forward) or t + 1 (reverse) of `states`; the new
    // state goes to the other.
    const float *h = states + (reverse ? t + 1 : t) * state;
    float *h_new = states + (reverse ? t : t + 1) * state;
    const int64_t previous = reverse ? t + 1 : t - 1;
    const float *c_prev = previous >= 0 && previous < steps ? cs + previous * state : c0;
    float *act = acts + t * batch * gates, *c = cs + t * state, *tc = tanh_cs + t * state;
    if (n > 0 && !failed) {
      // local[r][k] = sum_j W(r, j) h[k][j]: the state read transposed (its rows are columns).
      ck_sgemm_prepacked_a(4 * n, batch, hidden, weights, h, 1, hidden, local, batch, 0);
      ck_transpose_f32(local, 4 * n, batch, 0, 4 * n, transposed);
      for (int64_t k = 0; k < batch; ++k) {
        const float *lt = transposed + k * 4 * n, *x = input_gates + (t * batch + k) * gates;
        float *row = act + k * gates;
        for (int g = 0; g < 4; ++g) {
          const int64_t o = g * hidden + a;
          float *out = row + o;
          const float *in = lt + g * n, *xg = x + o;
          if (b_hh) {
            const float *bias = b_hh + o;
#pragma clang loop vectorize(assume_safety)
            for (int64_t j = 0; j < n; ++j) out[j] = in[j] + xg[j] + bias[j];
          } else {
#pragma clang loop vectorize(assume_safety)
            for (int64_t j = 0; j < n; ++j) out[j] = in[j] + xg[j];
          }
          if (g == 2) ck_tanh_f32(n, out, out);
          else ck_sigmoid_f32(n, out, out);
        }
        const float *i = row + a, *f = row + hidden + a, *gg = row + 2 * hidden + a, *o = row + 3 * hidden + a;
        const float *cp = c_prev + k * hidden + a;
        float *cj = c + k * hidden + a, *tj = tc + k * hidden + a, *hj = h_new + k * hidden + a;
#pragma clang loop vectorize(assume_safety)
        for (int64_t j = 0; j < n; ++j) cj[j] = f[j] * cp[j] + i[j] * gg[j];
        ck_tanh_f32(n, cj, tj);
#pragma clang loop vectorize(assume_safety)
        for (int64_t j = 0; j < n; ++j) hj[j] = o[j] * tj[j];
      }
    }
    // Every member reaches every barrier, even one that failed, so none waits forever.
    ck_barrier_wait(barrier, threads);
  }
  free(weights);
  free(local);
  return failed ? -1 : 0;
}

VECTORISED int ck_lstm_recurrence_backward_f32(int thread, int threads, ck_barrier *barrier, int64_t steps, int64_t batch,
                                               int64_t hidden, const float *w_hh, const float *acts, const float *cs,
                                               const float *tanh_cs, const float *c0, const float *d_out, int reverse,
                                               float *dh, float *dc, float *d_gates) {
  int64_t a, b;
  slice_of(thread, threads, hidden, &a, &b);
  const int64_t n = b - a, gates = 4 * hidden, state = batch * hidden;
  // Columns a ..< b of W_hh (rows of its transpose), packed once for every step's product.
  float *weights = n > 0 ? malloc(sizeof(float) * (size_t)ck_sgemm_packed_a_floats(n, gates)) : NULL;
  float *local = n > 0 ? malloc(sizeof(float) * (size_t)(2 * n * batch)) : NULL;
  const int failed = n > 0 && (!weights || !local);
  if (!failed && n > 0) ck_sgemm_pack_a(n, gates, w_hh + a, 1, hidden, weights);
  float *transposed = local ? local + n * batch : NULL;
  for (int64_t s = steps - 1; s >= 0; --s) {
    const int64_t t = reverse ? steps - 1 - s : s;
    const int64_t previous = reverse ? t + 1 : t - 1;
    const float *act = acts + t * batch * gates, *tc = tanh_cs + t * state;
    const float *c_prev = previous >= 0 && previous < steps ? cs + previous * state : c0;
    const float *dout = d_out + t * state;
    float *dg_step = d_gates + t * batch * gates;
    if (n > 0 && !failed) {
      for (int64_t k = 0; k < batch; ++k) {
        const float *row = act + k * gates;
        const float *i = row + a, *f = row + hidden + a, *g = row + 2 * hidden + a, *o = row + 3 * hidden + a;
        const float *cp = c_prev + k * hidden + a, *tj = tc + k * hidden + a, *dj = dout + k * hidden + a;
        float *dhj = dh + k * hidden + a, *dcj = dc + k * hidden + a;
        float *out = dg_step + k * gates;
        float *di = out + a, *df = out + hidden + a, *dg = out + 2 * hidden + a, *dO = out + 3 * hidden + a;
        // The rows are distinct buffers: vectorise without runtime overlap checks (with them
        // the compiler had kept this loop scalar).
#pragma clang loop vectorize(assume_safety)
        for (int64_t j = 0; j < n; ++j) {
          const float h_grad = dhj[j] + dj[j];
          const float c_grad = dcj[j] + h_grad * o[j] * (1.0f - tj[j] * tj[j]);
          di[j] = c_grad * g[j] * i[j] * (1.0f - i[j]);
          df[j] = c_grad * cp[j] * f[j] * (1.0f - f[j]);
          dg[j] = c_grad * i[j] * (1.0f - g[j] * g[j]);
          dO[j] = h_grad * tj[j] * o[j] * (1.0f - o[j]);
          dcj[j] = c_grad * f[j];
        }
      }
    }
    // The step's gate gradients are complete once every member is here.
    ck_barrier_wait(barrier, threads);
    if (n > 0 && !failed) {
      // dh[k][j] = sum_r d_gates[k][r] W_hh(r, j), for this thread's j: local [n][B].
      ck_sgemm_prepacked_a(n, batch, gates, weights, dg_step, 1, gates, local, batch, 0);
      ck_transpose_f32(local, n, batch, 0, n, transposed);
      for (int64_t k = 0; k < batch; ++k) memcpy(dh + k * hidden + a, transposed + k * n, sizeof(float) * (size_t)n);
    }
    // The next step's elementwise pass reads only this thread's units of dh, but its gate
    // gradients must not overwrite a row another member's product is still reading: the rows
    // differ (step t - 1), so no second barrier is needed.
  }
  free(weights);
  free(local);
  return failed ? -1 : 0;
}
