// Blockwise ("flash") attention for one (batch, head) slice, float32 and float64. Scores are made a
// block of queries by a block of keys at a time with the packed SGEMM, and the softmax is
// kept online (a running maximum and sum per query), so memory stays O(block^2) whatever
// the sequence lengths. The backward pass recomputes the probabilities from the saved
// log-sum-exp of each row (FlashAttention-2's scheme).
#include "CKernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vectorised.h"

// The per-type kernels are inlined into the two entry points, which are built for AVX-512,
// AVX2 and the baseline (VECTORISED), so the score, softmax and accumulation loops between
// the GEMMs vectorise for the CPU at hand.
#define ATTENTION_INLINE static inline __attribute__((always_inline))

enum { BLOCK_Q = 64, BLOCK_K = 128 };

static void *scratch(size_t bytes) { return aligned_alloc(64, (bytes + 63) / 64 * 64); }

// C[m,n] = A[m,k] B[k,n] in double, with ck_sgemm's stride convention (the float64 path,
// which gradcheck exercises, runs the same blockwise algorithm through this).
static void dgemm_plain(int64_t m, int64_t n, int64_t k, const double *a, int64_t sam, int64_t sak, const double *b,
                        int64_t sbk, int64_t sbn, double *c, int64_t scm) {
  for (int64_t i = 0; i < m; ++i) {
    double *row = c + i * scm;
    for (int64_t j = 0; j < n; ++j) row[j] = 0;
    for (int64_t p = 0; p < k; ++p) {
      double x = a[i * sam + p * sak];
      if (x != 0) for (int64_t j = 0; j < n; ++j) row[j] += x * b[p * sbk + j * sbn];
    }
  }
}

static void exp_row_f64(int64_t n, const double *x, double *out) {
  for (int64_t i = 0; i < n; ++i) out[i] = exp(x[i]);
}

// The kernels, written once for an element type T.
#define DEFINE_ATTENTION(T, SUFFIX, GEMM, EXPROW, EXPF, LOGF) \
/* A row's maximum (NaN ignored, -inf when empty) and sum, in 16 lanes so that they vectorise. */\
ATTENTION_INLINE T row_max_##SUFFIX(const T *row, int64_t n) {\
  T lanes[16];\
  for (int l = 0; l < 16; ++l) lanes[l] = -INFINITY;\
  int64_t c = 0;\
  for (; c + 16 <= n; c += 16)\
    for (int l = 0; l < 16; ++l) lanes[l] = row[c + l] > lanes[l] ? row[c + l] : lanes[l];\
  T best = -INFINITY;\
  for (int l = 0; l < 16; ++l) best = lanes[l] > best ? lanes[l] : best;\
  for (; c < n; ++c) best = row[c] > best ? row[c] : best;\
  return best;\
}\
\
ATTENTION_INLINE T row_sum_##SUFFIX(const T *row, int64_t n) {\
  T lanes[16] = {0};\
  int64_t c = 0;\
  for (; c + 16 <= n; c += 16)\
    for (int l = 0; l < 16; ++l) lanes[l] += row[c + l];\
  T sum = 0;\
  for (int l = 0; l < 16; ++l) sum += lanes[l];\
  for (; c < n; ++c) sum += row[c];\
  return sum;\
}\
\
/* The scaled, masked scores of a (rows x cols) block in place; -inf where masked or above */\
/* the causal diagonal (key > query). */\
ATTENTION_INLINE void finish_scores_##SUFFIX(T *s, int64_t rows, int64_t cols, int64_t i0, int64_t j0, T scale,\
                          const T *mask, int64_t mask_row, int64_t mask_col, int causal) {\
  for (int64_t r = 0; r < rows; ++r) {\
    T *row = s + r * cols;\
    /* Separate passes, so that each loop vectorises. */\
    for (int64_t c = 0; c < cols; ++c) row[c] *= scale;\
    if (mask) {\
      const T *m = mask + (i0 + r) * mask_row + j0 * mask_col;\
      for (int64_t c = 0; c < cols; ++c) row[c] += m[c * mask_col];\
    }\
    if (causal) {\
      int64_t first = i0 + r - j0 + 1; /* the first key after the query */\
      for (int64_t c = first < 0 ? 0 : first; c < cols; ++c) row[c] = -INFINITY;\
    }\
  }\
}\
\
\
ATTENTION_INLINE int attention_forward_##SUFFIX(int64_t L, int64_t S, int64_t E, int64_t Ev, const T *q, int64_t ldq, const T *k,\
                             int64_t ldk, const T *v, int64_t ldv, const T *mask, int64_t mask_row,\
                             int64_t mask_col, int causal, T scale, T *out, int64_t ldo, T *lse,\
                             int64_t q_begin, int64_t q_end) {\
  T *s = scratch(sizeof(T) * BLOCK_Q * BLOCK_K);\
  T *pv = scratch(sizeof(T) * BLOCK_Q * (size_t)Ev);\
  T *acc = scratch(sizeof(T) * BLOCK_Q * (size_t)Ev);\
  T runmax[BLOCK_Q], runsum[BLOCK_Q];\
  if (!s || !pv || !acc) {\
    free(s), free(pv), free(acc);\
    return -1;\
  }\
  for (int64_t i0 = q_begin; i0 < q_end; i0 += BLOCK_Q) {\
    int64_t rows = q_end - i0 < BLOCK_Q ? q_end - i0 : BLOCK_Q;\
    for (int64_t r = 0; r < rows; ++r) runmax[r] = -INFINITY, runsum[r] = 0;\
    memset(acc, 0, sizeof(T) * (size_t)(rows * Ev));\
    int64_t keys = causal ? (i0 + rows < S ? i0 + rows : S) : S;\
    for (int64_t j0 = 0; j0 < keys; j0 += BLOCK_K) {\
      int64_t cols = keys - j0 < BLOCK_K ? keys - j0 : BLOCK_K;\
      GEMM(rows, cols, E, q + i0 * ldq, ldq, 1, k + j0 * ldk, 1, ldk, s, cols);\
      finish_scores_##SUFFIX(s, rows, cols, i0, j0, scale, mask, mask_row, mask_col, causal);\
      for (int64_t r = 0; r < rows; ++r) {\
        T *row = s + r * cols;\
        T best = row_max_##SUFFIX(row, cols);\
        T newmax = best > runmax[r] ? best : runmax[r];\
        if (newmax == -INFINITY) {  /* every key so far is masked for this query */\
          memset(row, 0, sizeof(T) * (size_t)cols);\
          continue;\
        }\
        for (int64_t c = 0; c < cols; ++c) row[c] -= newmax;\
        EXPROW(cols, row, row);\
        T sum = row_sum_##SUFFIX(row, cols);\
        T correction = runmax[r] == -INFINITY ? 0 : EXPF(runmax[r] - newmax);\
        runsum[r] = runsum[r] * correction + sum;\
        runmax[r] = newmax;\
        if (correction != 1) {\
          T *a = acc + r * Ev;\
          for (int64_t c = 0; c < Ev; ++c) a[c] *= correction;\
        }\
      }\
      GEMM(rows, Ev, cols, s, cols, 1, v + j0 * ldv, ldv, 1, pv, Ev);\
      for (int64_t x = 0; x < rows * Ev; ++x) acc[x] += pv[x];\
    }\
    for (int64_t r = 0; r < rows; ++r) {\
      T *o = out + (i0 + r) * ldo;\
      /* A query with every key masked gets zeros (PyTorch's safe softmax) and lse -inf. */\
      T inverse = runsum[r] > 0 ? 1 / runsum[r] : 0;\
      for (int64_t c = 0; c < Ev; ++c) o[c] = acc[r * Ev + c] * inverse;\
      lse[i0 + r] = runsum[r] > 0 ? runmax[r] + LOGF(runsum[r]) : -INFINITY;\
    }\
  }\
  free(s), free(pv), free(acc);\
  return 0;\
}\
\
ATTENTION_INLINE int attention_backward_##SUFFIX(int64_t L, int64_t S, int64_t E, int64_t Ev, const T *q, int64_t ldq,\
                              const T *k, int64_t ldk, const T *v, int64_t ldv, const T *mask,\
                              int64_t mask_row, int64_t mask_col, int causal, T scale, const T *out,\
                              int64_t ldo, const T *dout, int64_t lddo, const T *lse, T *dq, int64_t lddq,\
                              T *dk, int64_t lddk, T *dv, int64_t lddv) {\
  int64_t width = E > Ev ? E : Ev;\
  T *p = scratch(sizeof(T) * BLOCK_Q * BLOCK_K);\
  T *dp = scratch(sizeof(T) * BLOCK_Q * BLOCK_K);\
  T *tmp = scratch(sizeof(T) * (size_t)((BLOCK_Q > BLOCK_K ? BLOCK_Q : BLOCK_K) * width));\
  T *dkacc = scratch(sizeof(T) * BLOCK_K * (size_t)E);\
  T *dvacc = scratch(sizeof(T) * BLOCK_K * (size_t)Ev);\
  T *delta = scratch(sizeof(T) * (size_t)(L > 0 ? L : 1));\
  if (!p || !dp || !tmp || !dkacc || !dvacc || !delta) {\
    free(p), free(dp), free(tmp), free(dkacc), free(dvacc), free(delta);\
    return -1;\
  }\
  /* D_i = dO_i . O_i, the softmax backward's row term. */\
  for (int64_t i = 0; i < L; ++i) {\
    T d = 0;\
    for (int64_t c = 0; c < Ev; ++c) d += dout[i * lddo + c] * out[i * ldo + c];\
    delta[i] = d;\
  }\
  for (int64_t i = 0; i < L; ++i) memset(dq + i * lddq, 0, sizeof(T) * (size_t)E);\
  for (int64_t j0 = 0; j0 < S; j0 += BLOCK_K) {\
    int64_t cols = S - j0 < BLOCK_K ? S - j0 : BLOCK_K;\
    memset(dkacc, 0, sizeof(T) * (size_t)(cols * E));\
    memset(dvacc, 0, sizeof(T) * (size_t)(cols * Ev));\
    /* Under the causal mask, queries before the block's first key see none of it. */\
    for (int64_t i0 = causal ? (j0 / BLOCK_Q) * BLOCK_Q : 0; i0 < L; i0 += BLOCK_Q) {\
      int64_t rows = L - i0 < BLOCK_Q ? L - i0 : BLOCK_Q;\
      GEMM(rows, cols, E, q + i0 * ldq, ldq, 1, k + j0 * ldk, 1, ldk, p, cols);\
      finish_scores_##SUFFIX(p, rows, cols, i0, j0, scale, mask, mask_row, mask_col, causal);\
      for (int64_t r = 0; r < rows; ++r) {\
        T *row = p + r * cols;\
        T l = lse[i0 + r];\
        if (l == -INFINITY) {\
          memset(row, 0, sizeof(T) * (size_t)cols);\
          continue;\
        }\
        for (int64_t c = 0; c < cols; ++c) row[c] -= l;\
        EXPROW(cols, row, row);\
      }\
      /* dV += Pᵀ dO. */\
      GEMM(cols, Ev, rows, p, 1, cols, dout + i0 * lddo, lddo, 1, tmp, Ev);\
      for (int64_t x = 0; x < cols * Ev; ++x) dvacc[x] += tmp[x];\
      /* dP = dO Vᵀ, dS = P (dP - D). */\
      GEMM(rows, cols, Ev, dout + i0 * lddo, lddo, 1, v + j0 * ldv, 1, ldv, dp, cols);\
      for (int64_t r = 0; r < rows; ++r) {\
        T d = delta[i0 + r];\
        for (int64_t c = 0; c < cols; ++c) dp[r * cols + c] = p[r * cols + c] * (dp[r * cols + c] - d);\
      }\
      /* dQ += scale dS K, dK += scale dSᵀ Q. */\
      GEMM(rows, E, cols, dp, cols, 1, k + j0 * ldk, ldk, 1, tmp, E);\
      for (int64_t r = 0; r < rows; ++r) {\
        T *g = dq + (i0 + r) * lddq;\
        for (int64_t c = 0; c < E; ++c) g[c] += scale * tmp[r * E + c];\
      }\
      GEMM(cols, E, rows, dp, 1, cols, q + i0 * ldq, ldq, 1, tmp, E);\
      for (int64_t x = 0; x < cols * E; ++x) dkacc[x] += tmp[x];\
    }\
    for (int64_t c = 0; c < cols; ++c) {\
      for (int64_t e = 0; e < E; ++e) dk[(j0 + c) * lddk + e] = scale * dkacc[c * E + e];\
      for (int64_t e = 0; e < Ev; ++e) dv[(j0 + c) * lddv + e] = dvacc[c * Ev + e];\
    }\
  }\
  free(p), free(dp), free(tmp), free(dkacc), free(dvacc), free(delta);\
  return 0;\
}

DEFINE_ATTENTION(float, f32, ck_sgemm, ck_exp_f32, expf, logf)
DEFINE_ATTENTION(double, f64, dgemm_plain, exp_row_f64, exp, log)

VECTORISED int ck_attention_forward(int element_size, int64_t L, int64_t S, int64_t E, int64_t Ev, const void *q, int64_t ldq,
                         const void *k, int64_t ldk, const void *v, int64_t ldv, const void *mask, int64_t mask_row,
                         int64_t mask_col, int causal, double scale, void *out, int64_t ldo, void *lse, int64_t q_begin,
                         int64_t q_end) {
  if (element_size == 4)
    return attention_forward_f32(L, S, E, Ev, q, ldq, k, ldk, v, ldv, mask, mask_row, mask_col, causal, (float)scale, out, ldo, lse,
                                 q_begin, q_end);
  return attention_forward_f64(L, S, E, Ev, q, ldq, k, ldk, v, ldv, mask, mask_row, mask_col, causal, scale, out, ldo, lse, q_begin,
                               q_end);
}

VECTORISED int ck_attention_backward(int element_size, int64_t L, int64_t S, int64_t E, int64_t Ev, const void *q, int64_t ldq,
                          const void *k, int64_t ldk, const void *v, int64_t ldv, const void *mask, int64_t mask_row,
                          int64_t mask_col, int causal, double scale, const void *out, int64_t ldo, const void *dout,
                          int64_t lddo, const void *lse, void *dq, int64_t lddq, void *dk, int64_t lddk, void *dv, int64_t lddv) {
  if (element_size == 4)
    return attention_backward_f32(L, S, E, Ev, q, ldq, k, ldk, v, ldv, mask, mask_row, mask_col, causal, (float)scale, out, ldo, dout,
                                  lddo, lse, dq, lddq, dk, lddk, dv, lddv);
  return attention_backward_f64(L, S, E, Ev, q, ldq, k, ldk, v, ldv, mask, mask_row, mask_col, causal, scale, out, ldo, dout, lddo,
                                lse, dq, lddq, dk, lddk, dv, lddv);
}
