#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// The instruction set the kernels use on this CPU: 2 = AVX-512, 1 = AVX2+FMA, 0 = portable C.
int ck_isa(void);

/// C[m,n] = A[m,k] * B[k,n] for float32, where every operand is addressed through its strides
/// (in elements): A[i,p] = a[i*sam + p*sak], B[p,j] = b[p*sbk + j*sbn], C[i,j] = c[i*scm + j] (unit
/// column stride for C). Blocks are packed, so transposed operands cost no extra copy.
/// Single-threaded: callers split C into disjoint row or column ranges.
void ck_sgemm(int64_t m, int64_t n, int64_t k,
              const float *a, int64_t sam, int64_t sak,
              const float *b, int64_t sbk, int64_t sbn,
              float *c, int64_t scm);

/// ck_sgemm that adds the product to C when `accumulate` is nonzero.
void ck_sgemm_accumulating(int64_t m, int64_t n, int64_t k, const float *a, int64_t sam, int64_t sak,
                           const float *b, int64_t sbk, int64_t sbn, float *c, int64_t scm, int accumulate);

/// C = A * B + bias, `bias` (n floats, or NULL for none) added to every row in the first
/// store of each tile, so C is written once (a linear layer's bias with no pass of its own).
void ck_sgemm_bias(int64_t m, int64_t n, int64_t k, const float *a, int64_t sam, int64_t sak, const float *b, int64_t sbk,
                   int64_t sbn, const float *bias, float *c, int64_t scm);

/// Packs rows k0 ..< k0+kc and columns j0 ..< j0+nc of a GEMM's B into panels of nr columns:
/// panel q holds, for each of the kc rows, the nr values of columns j0+q*nr ..< j0+q*nr+nr
/// (zero past column j0+nc).
typedef void (*ck_pack_b_fn)(const void *context, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float *out, int nr);

/// ck_sgemm with B supplied by a packer (so B need not exist as a matrix: convolution packs it
/// straight from the image); when `accumulate`, C += A B instead of C = A B.
void ck_sgemm_packing_b(int64_t m, int64_t n, int64_t k, const float *a, int64_t sam, int64_t sak,
                        ck_pack_b_fn pack_b, const void *context, float *c, int64_t scm, int accumulate);

/// ck_sgemm_packing_b whose C columns come in groups of `group` placed `group_stride` floats
/// apart (column j of row i is at `c[i scm + (j / group) group_stride + j % group]`): several
/// images' pixels side by side in one product, written straight into each image's output.
void ck_sgemm_packing_b_grouped(int64_t m, int64_t n, int64_t k, const float *a, int64_t sam, int64_t sak,
                                ck_pack_b_fn pack_b, const void *context, float *c, int64_t scm, int64_t group,
                                int64_t group_stride, int accumulate);

/// The number of floats `ck_sgemm_pack_a` writes for an m x k A.
int64_t ck_sgemm_packed_a_floats(int64_t m, int64_t k);

/// Packs A (A[i,p] = a[i*sam + p*sak]) once, for a matrix used in many products (a recurrent
/// weight, multiplied once per time step): `out` holds ck_sgemm_packed_a_floats(m, k) floats.
void ck_sgemm_pack_a(int64_t m, int64_t k, const float *a, int64_t sam, int64_t sak, float *out);

/// ck_sgemm_accumulating with A packed by ck_sgemm_pack_a (same m and k): the kernel reads A
/// in the order it multiplies, instead of from mr rows a row stride apart.
void ck_sgemm_prepacked_a(int64_t m, int64_t n, int64_t k, const float *packed_a, const float *b, int64_t sbk,
                          int64_t sbn, float *c, int64_t scm, int accumulate);

/// The float32 multiply-add peak of one core with the instruction set the kernels chose, in
/// GFLOP/s, measured for about `seconds` (independent fused multiply-add chains, no memory
/// traffic): what the benchmark reports set a kernel's GFLOP/s against.
double ck_fma_peak_gflops(double seconds);

/// The height (rows of C) and width (columns) of the SGEMM micro-kernel's tile on this CPU:
/// splitting C at multiples of them keeps every thread's tiles full.
int ck_sgemm_mr(void);
int ck_sgemm_nr(void);
/// `dst[c * rows + r] = src[r * cols + c]` for the source rows r0 ..< r1 of a row-major
/// `rows x cols` matrix (so disjoint row ranges can run on separate threads).
void ck_transpose_f32(const float *src, int64_t rows, int64_t cols, int64_t r0, int64_t r1, float *dst);

/// Contiguous float32 elementwise kernels: out[i] = op(x[i], y[i]) over n elements; y may be a
/// single broadcast scalar (y_stride 0) or a full array (y_stride 1); so may x.
void ck_add_f32(int64_t n, const float *x, int64_t xs, const float *y, int64_t ys, float *out);
void ck_sub_f32(int64_t n, const float *x, int64_t xs, const float *y, int64_t ys, float *out);
void ck_mul_f32(int64_t n, const float *x, int64_t xs, const float *y, int64_t ys, float *out);
void ck_div_f32(int64_t n, const float *x, int64_t xs, const float *y, int64_t ys, float *out);

/// out[i] = exp(x[i]) (within 2 ulp of the correctly rounded value), contiguous float32.
void ck_exp_f32(int64_t n, const float *x, float *out);

/// The sum of n contiguous float32 values, accumulated in float lanes and blocks (as
/// PyTorch's vectorised cascade sum) and returned as double.
double ck_sum_f32(int64_t n, const float *x);

/// out[j] = the sum over r < rows of x[r*ld + j], for j < width (a reduction over leading
/// dims, summed in registers down each block of columns).
void ck_sum_rows_f32(int64_t rows, int64_t width, const float *x, int64_t ld, float *out);

/// Softmax / log-softmax of `rows` contiguous rows of `cols` floats (stable: shifted by
/// each row's max).
void ck_softmax_f32(int64_t rows, int64_t cols, const float *x, float *out);
void ck_log_softmax_f32(int64_t rows, int64_t cols, const float *x, float *out);

/// out[i] = condition[i] ? x[i*xs] : y[i*ys] for n elements of any 4-byte type (copied as
/// bits); `condition` holds one byte per element (0 = false), xs and ys are 0 or 1.
void ck_select32(int64_t n, const void *condition, const void *x, int64_t xs, const void *y, int64_t ys, void *out);

/// y[i] += alpha * x[i] over n contiguous floats.
void ck_axpy_f32(int64_t n, float alpha, const float *x, float *y);

/// sigmoid and tanh over contiguous float32 (vector forms within a few ulp of libm's).
void ck_sigmoid_f32(int64_t n, const float *x, float *out);
void ck_tanh_f32(int64_t n, const float *x, float *out);

/// One LSTM step, feature-major and contiguous float32: `gates` `[4H, B]` holds the hidden
/// projection on entry; the input projection (rows `input_row_stride` apart) and the bias
/// (per row, or NULL) are added, and on return it holds the activations i, f, g, o; then
/// `c = f c_prev + i g`, `tanh_c = tanh(c)`, `h = o tanh_c` (all `[H, B]`).
void ck_lstm_cell_forward_f32(int64_t hidden, int64_t batch, float *gates, const float *input_gates, int64_t input_row_stride,
                              const float *bias, const float *c_prev, float *c, float *tanh_c, float *h);

/// The step's backward: from the activations, `tanh_c`, `c_prev`, the gradient `dh` of
/// `h` and `dc_next` of `c`, the pre-activation gate gradients `dgates` `[4H, B]` and `dc_prev`.
void ck_lstm_cell_backward_f32(int64_t hidden, int64_t batch, const float *gates, const float *tanh_c, const float *c_prev,
                               const float *dh, const float *dc_next, float *dgates, float *dc_prev);

/// A spinning barrier for a team of threads that run one parallel region together.
typedef struct {
  _Atomic int arrived;
  _Atomic int phase;
} ck_barrier;
void ck_barrier_init(ck_barrier *barrier);
void ck_barrier_wait(ck_barrier *barrier, int threads);

/// One LSTM direction's forward recurrence (no projection, float32, PyTorch's batch-major
/// layouts), run by `threads` threads together (each call is one thread of the team; all must
/// run at once): `input_gates` `[T*B, 4H]` (row t*B + k, input bias included), `w_hh` `[4H, H]`,
/// `b_hh` `[4H]` or NULL, `c0` `[B, H]`; `states` `[T+1][B][H]` holds h0 in slot 0 (slot T when
/// `reverse`) on entry and receives step t's new state in slot t + 1 (slot t when `reverse`),
/// so the outputs and the states before each step are both contiguous. Writes per step t the
/// activated gates `acts` `[T][B][4H]`, `cs` and `tanh_cs` `[T][B][H]`. Returns 0, or -1 when a
/// thread could not get its scratch memory.
int ck_lstm_recurrence_forward_f32(int thread, int threads, ck_barrier *barrier, int64_t steps, int64_t batch, int64_t hidden,
                                   const float *w_hh, const float *input_gates, const float *b_hh, const float *c0, int reverse,
                                   float *acts, float *cs, float *tanh_cs, float *states);

/// Its backward, by the same team: `w_hh` `[4H, H]`, the saved activations and cells,
/// `d_out` `[T][B][H]`; `dh` and `dc` `[B, H]` hold the final states' gradients on entry and
/// the initial states' on return; `d_gates` `[T*B, 4H]` receives the pre-activation gate
/// gradients. Returns 0, or -1 when a thread could not get its scratch memory.
int ck_lstm_recurrence_backward_f32(int thread, int threads, ck_barrier *barrier, int64_t steps, int64_t batch, int64_t hidden,
                                    const float *w_hh, const float *acts, const float *cs, const float *tanh_cs, const float *c0,
                                    const float *d_out, int reverse, float *dh, float *dc, float *d_gates);

/// GELU, `x * (1 + erf(x / sqrt 2)) / 2`, and its gradient `g * (cdf + x * pdf)`, with the
/// vectorised erf PyTorch's CPU kernel uses (Abramowitz-Stegun 7.1.26, error below 1.5e-7);
/// contiguous float32.
void ck_gelu_f32(int64_t n, const float *x, float *out);
void ck_gelu_backward_f32(int64_t n, const float *x, const float *g, float *out);

/// ReLU: `max(x, 0)`, with NaN passed through and -0 written as +0 (PyTorch's results);
/// contiguous float32.
void ck_relu_f32(int64_t n, const float *x, float *out);
/// ReLU's gradient from its output: `out = y <= 0 ? 0 : g` (PyTorch's threshold_backward: a
/// NaN output passes the gradient); contiguous float32.
void ck_relu_backward_f32(int64_t n, const float *y, const float *g, float *out);

/// Blockwise attention forward for one (batch, head), for float32 (`element_size` 4) or
/// float64 (8) operands: out[i] = softmax_j(scale q_i . k_j + mask[i, j]) v_j for queries
/// q_begin..<q_end, keeping an online softmax per query, and lse[i] = log sum_j exp(...)
/// (-inf, with zero output, for a query whose keys are all masked). Rows are addressed with
/// row strides (unit element stride); the additive mask (NULL for none) with row and column
/// strides (0 to broadcast); `causal` masks keys after the query. Returns 0, or -1 when
/// scratch memory cannot be had.
int ck_attention_forward(int element_size, int64_t L, int64_t S, int64_t E, int64_t Ev, const void *q, int64_t ldq,
                         const void *k, int64_t ldk, const void *v, int64_t ldv, const void *mask, int64_t mask_row,
                         int64_t mask_col, int causal, double scale, void *out, int64_t ldo, void *lse, int64_t q_begin,
                         int64_t q_end);

/// The gradients dq, dk, dv (overwritten) of `ck_attention_forward` for one (batch, head),
/// from the output, its gradient and the saved lse. Returns 0, or -1 without memory.
int ck_attention_backward(int element_size, int64_t L, int64_t S, int64_t E, int64_t Ev, const void *q, int64_t ldq,
                          const void *k, int64_t ldk, const void *v, int64_t ldv, const void *mask, int64_t mask_row,
                          int64_t mask_col, int causal, double scale, const void *out, int64_t ldo, const void *dout,
                          int64_t lddo, const void *lse, void *dq, int64_t lddq, void *dk, int64_t lddk, void *dv, int64_t lddv);

/// The geometry of a 2-D convolution over one image, for the ck_conv2d kernels: the input is
/// `[channels, height, width]` contiguous float32, the weight `[out_channels, channels /
/// groups, kh, kw]` contiguous, the output `[out_channels, out_h, out_w]` contiguous.
typedef struct {
  int64_t channels, height, width, out_channels, groups;
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  int64_t out_h, out_w;
} ck_conv2d_geometry;

/// Output pixels p0 ..< p1 (row-major over out_h x out_w) of every output channel of one image:
/// per group, the weight rows times the image's columns packed straight from the image
/// (implicit im2col), plus `bias` (or NULL). Depthwise geometries (one input channel per
/// group) run a direct kernel instead.
void ck_conv2d_forward_f32(const ck_conv2d_geometry *g, const float *x, const float *weight, const float *bias, float *y,
                           int64_t p0, int64_t p1);

/// Every output pixel of `images` consecutive images (`x` and `y` at the first): per group,
/// one product whose columns are all the images' pixels side by side, so the weight streams
/// through the cache once for the batch instead of once per image (what small images, with
/// few pixels per weight, need), written straight into each image's output
/// (ck_sgemm_packing_b_grouped), plus `bias` (or NULL).
void ck_conv2d_forward_images_f32(const ck_conv2d_geometry *g, const float *x, const float *weight, const float *bias, float *y,
                                  int64_t images);

/// Whether the direct kernels over the channel-blocked layout (conv_direct.c) take this
/// geometry: an AVX-512 CPU, one group, stride 1, a kernel larger than 1 x 1, at least 16 input
/// and more than 16 output channels. Where they do, a forward (or an input gradient through
/// the flipped weight) is: the weight packed once (ck_conv2d_direct_pack_weight_f32), each
/// image packed (ck_conv2d_direct_pack_input_f32), then its tiles (ck_conv2d_direct_forward_f32).
int ck_conv2d_direct_applies(const ck_conv2d_geometry *g);
/// Floats of one image in the blocked, padded layout (with the slack the last tile reads).
int64_t ck_conv2d_direct_input_floats(const ck_conv2d_geometry *g);
/// Floats of the packed weight, and its blocks of 16 output channels (the unit of packing).
int64_t ck_conv2d_direct_weight_floats(const ck_conv2d_geometry *g);
int64_t ck_conv2d_direct_weight_blocks(const ck_conv2d_geometry *g);
/// Work items per image (groups of output blocks x bands of output rows: the unit of
/// ck_conv2d_direct_forward_f32's work), and the floats of scratch each thread running them needs.
int64_t ck_conv2d_direct_work_items(const ck_conv2d_geometry *g);
int64_t ck_conv2d_direct_scratch_floats(const ck_conv2d_geometry *g);
/// Whether the direct weight gradient (conv_direct.c) takes this geometry: an AVX-512 CPU, one
/// group, a 3 x 3 kernel without dilation, at least 16 input channels, any stride and padding.
/// It sums over the images packed by ck_conv2d_direct_pack_input_f32 and reads dy in place.
int ck_conv2d_direct_weight_gradient_applies(const ck_conv2d_geometry *g);
/// Its units of work (input-channel blocks x groups of three output channels), each of which
/// writes its own slice of the gradient.
int64_t ck_conv2d_direct_weight_gradient_units(const ck_conv2d_geometry *g);
/// Images it sums per pass over a thread's units (their packed rows of one block stay in L2).
int64_t ck_conv2d_direct_weight_gradient_pass_images(const ck_conv2d_geometry *g);
#if defined(__x86_64__)
/// Input-channel blocks cb0 ..< cb1 of one NCHW image into `packed` ([C/16][H + 2ph][W + 2pw][16],
/// zeros in the padding and past the last channel).
void ck_conv2d_direct_pack_input_f32(const ck_conv2d_geometry *g, const float *x, float *packed, int64_t cb0, int64_t cb1);
/// Output-channel blocks ob0 ..< ob1 of the weight into `packed` ([O/(16 T)][C/16][kh][kw][16 in]
/// [T][16 out], T the blocks a tile computes). With `flipped`, `weight` is the forward weight of the convolution whose input
/// gradient `g` is (ck_conv2d_input_gradient_geometry), and is flipped and transposed here.
void ck_conv2d_direct_pack_weight_f32(const ck_conv2d_geometry *g, const float *weight, int flipped, float *packed, int64_t ob0,
                                      int64_t ob1);
/// Work items i0 ..< i1 (of `images` x ck_conv2d_direct_work_items) of the NCHW output `y` of
/// `images` images, from their packed inputs (ck_conv2d_direct_input_floats apart) and the
/// packed weight, plus `bias` (or NULL); `scratch` (64-byte aligned,
/// ck_conv2d_direct_scratch_floats) holds an item's partial sums.
void ck_conv2d_direct_forward_f32(const ck_conv2d_geometry *g, int64_t images, const float *packed_x, const float *packed_w,
                                  const float *bias, float *y, float *scratch, int64_t i0, int64_t i1);
/// Units u0 ..< u1 (of ck_conv2d_direct_weight_gradient_units) of the weight gradient
/// [O][C][3][3], overwritten, over `images` images: their packed inputs (ck_conv2d_direct_input_floats
/// apart) and their NCHW output gradients `dy`.
void ck_conv2d_direct_weight_gradient_f32(const ck_conv2d_geometry *g, int64_t images, const float *packed_x, const float *dy,
                                          float *dweight, int64_t u0, int64_t u1);
#endif

/// Whether the input gradient is itself a convolution (ck_conv2d_input_gradient_geometry, with
/// the weight from ck_conv2d_flip_weight_f32) rather than column gradients added back into
/// place: stride 1, padding within the kernel's reach (`ph <= dh (kh - 1)`, the same for the
/// width), not depthwise. As a forward convolution it runs several small images to a product
/// and gathers its columns instead of scattering them.
int ck_conv2d_input_gradient_is_convolution(const ck_conv2d_geometry *g);

/// The convolution whose output is the input gradient: `dy` (out_channels x out_h x out_w) in,
/// the input's shape out, the same kernel, dilation and groups, stride 1, padding
/// `dilation (kernel - 1) - padding`.
ck_conv2d_geometry ck_conv2d_input_gradient_geometry(const ck_conv2d_geometry *g);

/// The weight of that convolution, `[channels, out_channels / groups, kh, kw]`:
/// `flipped[g C_g + c][o][i][j] = weight[g O_g + o][c][kh - 1 - i][kw - 1 - j]`, for channels
/// c0 ..< c1 (call it on disjoint ranges covering 0 ..< channels).
void ck_conv2d_flip_weight_f32(const ck_conv2d_geometry *g, const float *weight, float *flipped, int64_t c0, int64_t c1);

/// The input gradient of one image for input channels c0 ..< c1 (written, not added), where
/// ck_conv2d_input_gradient_is_convolution is false (strided or depthwise geometries):
/// column gradients `weightᵀ dy` in blocks of pixels, added back into place (col2im).
/// `weight_t` is the weight transposed per group by ck_conv2d_transpose_weight_f32 (made once
/// per backward); depthwise geometries read `weight`.
void ck_conv2d_backward_input_f32(const ck_conv2d_geometry *g, const float *weight, const float *weight_t, const float *dy, float *dx,
                                  int64_t c0, int64_t c1);

/// `weight_t[group][r][o] = weight[group * O_g + o][r]`: the layout ck_conv2d_backward_input_f32
/// reads and ck_conv2d_backward_weight_f32 accumulates.
/// Rows o0 ..< o1 of each group's `O_g` rows: call it on disjoint ranges covering 0 ..< O_g.
void ck_conv2d_transpose_weight_f32(const ck_conv2d_geometry *g, const float *weight, float *weight_t, int64_t o0, int64_t o1);

/// Whether ck_conv2d_backward_weight_f32 accumulates the weight gradient transposed per group
/// (`[groups, channels / groups * kh * kw, out_channels / groups]`, converted once by
/// ck_conv2d_weight_gradient_f32) or in the weight's own layout `[out_channels, channels /
/// groups, kh, kw]`. Narrow layers (fewer than 128 output channels per group) and depthwise
/// ones accumulate transposed: their products would spend too long packing the columns.
int ck_conv2d_weight_gradient_is_transposed(const ck_conv2d_geometry *g);

/// Adds one image's weight gradient over output pixels p0 ..< p1 to `dweight`, in the layout
/// ck_conv2d_weight_gradient_is_transposed names: the image's columns times `dy` transposed.
/// Sum every image into it; a transposed sum is converted once with
/// ck_conv2d_weight_gradient_f32.
void ck_conv2d_backward_weight_f32(const ck_conv2d_geometry *g, const float *x, const float *dy, float *dweight, int64_t p0, int64_t p1);

/// Writes the weight gradient `[out_channels, channels / groups, kh, kw]` from its transposed
/// accumulator (see ck_conv2d_backward_weight_f32), for rows r0 ..< r1 of each group's
/// `channels / groups * kh * kw` accumulator rows: call it on disjoint ranges covering them all.
void ck_conv2d_weight_gradient_f32(const ck_conv2d_geometry *g, const float *dweight_t, float *dweight, int64_t r0, int64_t r1);

/// Batch normalization of channels c0 ..< c1 of contiguous `[n, channels, hw]` float32: with
/// `compute_stats`, the batch mean and biased variance are written to `mean` and `var`;
/// otherwise those are read (running statistics). `y = (x - mean) / sqrt(var + eps) * weight +
/// bias`; weight and bias may be NULL.
void ck_batch_norm_forward_f32(int64_t n, int64_t channels, int64_t hw, const float *x, const float *weight, const float *bias,
                               double eps, int compute_stats, float *mean, float *var, float *y, int64_t c0, int64_t c1);

/// The backward of a training-mode ck_batch_norm_forward_f32 (batch statistics `mean`, `var`):
/// `dx`, `dweight` and `dbias` (each may be NULL) for channels c0 ..< c1.
void ck_batch_norm_backward_f32(int64_t n, int64_t channels, int64_t hw, const float *x, const float *dy, const float *mean,
                                const float *var, double eps, const float *weight, float *dx, float *dweight, float *dbias,
                                int64_t c0, int64_t c1);

/// Layer normalization of rows r0 ..< r1 of contiguous `[rows, width]` float32: each row's mean
/// and 1 / sqrt(biased variance + eps) go to `mean[r]` and `rstd[r]`, and `y = (x - mean) rstd
/// weight + bias` (weight and bias `[width]`, either may be NULL).
void ck_layer_norm_forward_f32(int64_t width, const float *x, const float *weight, const float *bias, double eps,
                               float *mean, float *rstd, float *y, int64_t r0, int64_t r1);

/// The backward of ck_layer_norm_forward_f32 for rows r0 ..< r1: `dx` (may be NULL) is written;
/// `dweight` and `dbias` (`[width]` doubles, either may be NULL) are added to, so each thread
/// passes its own zeroed buffers and the caller sums them.
void ck_layer_norm_backward_f32(int64_t width, const float *x, const float *dy, const float *mean, const float *rstd,
                                const float *weight, float *dx, double *dweight, double *dbias, int64_t r0, int64_t r1);

/// The hyperparameters of one Adam step (see ck_adam_step_f32); the bias corrections are
/// 1 - beta1^step and sqrt(1 - beta2^step).
typedef struct {
  double lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2_sqrt;
  int decoupled;
} ck_adam_hyper;

/// One Adam step (AdamW when `h->decoupled`) over `n` contiguous float32 elements: updates
/// `param`, `exp_avg`, `exp_avg_sq` and, with AMSGrad, `max_exp_avg_sq` (NULL otherwise) in
/// place from `grad`.
void ck_adam_step_f32(int64_t n, float *param, const float *grad, float *exp_avg, float *exp_avg_sq,
                      float *max_exp_avg_sq, const ck_adam_hyper *h);

/// Which pooling a ck_pool2d_geometry describes.
typedef enum { CK_POOL_MAX = 0, CK_POOL_AVERAGE = 1, CK_POOL_ADAPTIVE_AVERAGE = 2 } ck_pool_kind;

/// A 2-D pooling of float32 `[batch, channels, height, width]` into `[batch, channels, out_h,
/// out_w]`, both addressed through element strides (n, c, h, w), so NCHW and channels-last
/// tensors need no copy. Max windows start at `o * s - p` and take `k` taps `d` apart; average
/// windows (d = 1) divide by the window clipped to the padded input (`count_include_pad`), or
/// to the input, or by `divisor_override` when nonzero; adaptive windows run from
/// floor(o * in / out) to ceil((o + 1) * in / out).
typedef struct {
  ck_pool_kind kind;
  int64_t batch, channels, height, width, out_h, out_w;
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  int count_include_pad;
  int64_t divisor_override;
  int64_t input_strides[4], output_strides[4];
} ck_pool2d_geometry;

/// Pools planes p0 ..< p1 (plane n * channels + c) of `x` into `y`; max pooling also writes
/// where each maximum came from (h * width + w, PyTorch's indices; a NaN wins) into `indices`,
/// laid out as `y`. Returns 0, or -1 without scratch memory.
int ck_pool2d_forward_f32(const ck_pool2d_geometry *g, const float *x, float *y, int64_t *indices, int64_t p0, int64_t p1);

/// The input gradient `dx` (input strides; written, not added) of planes p0 ..< p1 from `dy`
/// (output strides): max pooling routes each gradient to its index, average pooling spreads
/// it over its window. Returns 0, or -1 without scratch memory.
int ck_pool2d_backward_f32(const ck_pool2d_geometry *g, const float *dy, const int64_t *indices, float *dx, int64_t p0, int64_t p1);

#endif
