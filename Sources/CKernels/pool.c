// 2-D max and average pooling over float32 `[N, C, H, W]` addressed through strides, so one
// kernel serves NCHW and channels-last tensors. Work is split by (image, channel) planes,
// which never share an input or output element; when channels are innermost in every
// operand the loops put the channel innermost too, and vectorise over it.
#include "CKernels.h"

#include <math.h>
#include <stdlib.h>

#include "vectorised.h"

/// Window rows [begin, end) of output row `o` and its share of the divisor.
typedef struct {
  int64_t begin, end, divisor;
} window_span;

/// The span of output position `o` along a dim of `size` inputs; `kind` as ck_pool2d_geometry.
static window_span span_of(const ck_pool2d_geometry *g, int vertical, int64_t o) {
  const int64_t size = vertical ? g->height : g->width, out = vertical ? g->out_h : g->out_w;
  window_span s;
  if (g->kind == CK_POOL_ADAPTIVE_AVERAGE) {
    s.begin = (o * size) / out;
    s.end = ((o + 1) * size + out - 1) / out;
    s.divisor = s.end - s.begin;
    return s;
  }
  const int64_t k = vertical ? g->kh : g->kw, stride = vertical ? g->sh : g->sw, pad = vertical ? g->ph : g->pw;
  const int64_t dilation = vertical ? g->dh : g->dw;
  int64_t begin = o * stride - pad;
  if (g->kind == CK_POOL_MAX) {
    int64_t end = begin + (k - 1) * dilation + 1;
    if (end > size) end = size;
    while (begin < 0) begin += dilation;
    s.begin = begin;
    s.end = end;
    s.divisor = 1;
    return s;
  }
  // Average: the window clipped to the padded input counts toward the divisor when padding
  // does; the part past it (ceil mode's extension) never does.
  int64_t end = begin + k;
  if (end > size + pad) end = size + pad;
  const int64_t padded = end - begin;
  if (begin < 0) begin = 0;
  if (end > size) end = size;
  s.begin = begin;
  s.end = end;
  s.divisor = g->count_include_pad ? padded : (end > begin ? end - begin : 0);
  return s;
}

/// Every output row's and column's span, in one allocation (NULL without memory).
static window_span *spans_of(const ck_pool2d_geometry *g) {
  window_span *spans = malloc((size_t)(g->out_h + g->out_w) * sizeof(window_span));
  if (!spans) return NULL;
  for (int64_t o = 0; o < g->out_h; ++o) spans[o] = span_of(g, 1, o);
  for (int64_t o = 0; o < g->out_w; ++o) spans[g->out_h + o] = span_of(g, 0, o);
  return spans;
}

/// A window's sum (or gradient) over its divisor, as PyTorch divides: adaptive windows by
/// their height and then their width, the others by the divisor (the override when set).
static inline float divided(const ck_pool2d_geometry *g, float sum, window_span rows, window_span cols) {
  if (g->kind == CK_POOL_ADAPTIVE_AVERAGE) return sum / (float)rows.divisor / (float)cols.divisor;
  return sum / (g->divisor_override ? (float)g->divisor_override : (float)(rows.divisor * cols.divisor));
}

/// Whether the channel is the unit-stride dim of both strided operands.
static int channels_innermost(const ck_pool2d_geometry *g, const int64_t *a, const int64_t *b) {
  return g->channels > 1 && a[1] == 1 && b[1] == 1;
}

/// The channel range [c0, c1) of image n inside planes [p0, p1) (planes run n * C + c).
static void channel_range(const ck_pool2d_geometry *g, int64_t n, int64_t p0, int64_t p1, int64_t *c0, int64_t *c1) {
  *c0 = p0 > n * g->channels ? p0 - n * g->channels : 0;
  *c1 = p1 < (n + 1) * g->channels ? p1 - n * g->channels : g->channels;
}

VECTORISED int ck_pool2d_forward_f32(const ck_pool2d_geometry *g, const float *x, float *y, int64_t *indices, int64_t p0, int64_t p1) {
  window_span *spans = spans_of(g);
  if (!spans) return -1;
  const int64_t *xs = g->input_strides, *ys = g->output_strides;
  const int max = g->kind == CK_POOL_MAX;
  if (channels_innermost(g, xs, ys)) {
    for (int64_t n = p0 / g->channels; n * g->channels < p1; ++n) {
      int64_t c0, c1;
      channel_range(g, n, p0, p1, &c0, &c1);
      for (int64_t oh = 0; oh < g->out_h; ++oh) {
        const window_span rows = spans[oh];
        for (int64_t ow = 0; ow < g->out_w; ++ow) {
          const window_span cols = spans[g->out_h + ow];
          float *restrict out = y + n * ys[0] + oh * ys[2] + ow * ys[3];
          int64_t *restrict at = max ? indices + n * ys[0] + oh * ys[2] + ow * ys[3] : NULL;
          if (max) {
            const int64_t first = rows.begin * g->width + cols.begin;
            for (int64_t c = c0; c < c1; ++c) {
              out[c] = -INFINITY;
              at[c] = first;
            }
          } else {
            for (int64_t c = c0; c < c1; ++c) out[c] = 0;
          }
          for (int64_t ih = rows.begin; ih < rows.end; ih += max ? g->dh : 1) {
            for (int64_t iw = cols.begin; iw < cols.end; iw += max ? g->dw : 1) {
              const float *restrict in = x + n * xs[0] + ih * xs[2] + iw * xs[3];
              if (max) {
                const int64_t where = ih * g->width + iw;
                for (int64_t c = c0; c < c1; ++c) {
                  const float v = in[c];
                  const int take = (v > out[c]) | (v != v);
                  out[c] = take ? v : out[c];
                  at[c] = take ? where : at[c];
                }
              } else {
                for (int64_t c = c0; c < c1; ++c) out[c] += in[c];
              }
            }
          }
          if (!max) {
            const int empty = rows.end <= rows.begin || cols.end <= cols.begin;
            for (int64_t c = c0; c < c1; ++c) out[c] = empty ? 0 : divided(g, out[c], rows, cols);
          }
        }
      }
    }
    free(spans);
    return 0;
  }
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t n = p / g->channels, c = p % g->channels;
    const float *plane = x + n * xs[0] + c * xs[1];
    float *out = y + n * ys[0] + c * ys[1];
    int64_t *at = max ? indices + n * ys[0] + c * ys[1] : NULL;
    for (int64_t oh = 0; oh < g->out_h; ++oh) {
      const window_span rows = spans[oh];
      for (int64_t ow = 0; ow < g->out_w; ++ow) {
        const window_span cols = spans[g->out_h + ow];
        const int64_t o = oh * ys[2] + ow * ys[3];
        if (max) {
          float best = -INFINITY;
          int64_t where = rows.begin * g->width + cols.begin;
          for (int64_t ih = rows.begin; ih < rows.end; ih += g->dh) {
            for (int64_t iw = cols.begin; iw < cols.end; iw += g->dw) {
              const float v = plane[ih * xs[2] + iw * xs[3]];
              if (v > best || v != v) {
                best = v;
                where = ih * g->width + iw;
              }
            }
          }
          out[o] = best;
          at[o] = where;
        } else {
          float sum = 0;
          for (int64_t ih = rows.begin; ih < rows.end; ++ih)
            for (int64_t iw = cols.begin; iw < cols.end; ++iw) sum += plane[ih * xs[2] + iw * xs[3]];
          out[o] = rows.end > rows.begin && cols.end > cols.begin ? divided(g, sum, rows, cols) : 0;
        }
      }
    }
  }
  free(spans);
  return 0;
}

VECTORISED int ck_pool2d_backward_f32(const ck_pool2d_geometry *g, const float *dy, const int64_t *indices, float *dx, int64_t p0,
                                      int64_t p1) {
  window_span *spans = spans_of(g);
  if (!spans) return -1;
  // dx is addressed with the input's strides, dy and the indices with the output's.
  const int64_t *xs = g->input_strides, *ys = g->output_strides;
  const int max = g->kind == CK_POOL_MAX;
  if (channels_innermost(g, xs, ys)) {
    for (int64_t n = p0 / g->channels; n * g->channels < p1; ++n) {
      int64_t c0, c1;
      channel_range(g, n, p0, p1, &c0, &c1);
      for (int64_t ih = 0; ih < g->height; ++ih)
        for (int64_t iw = 0; iw < g->width; ++iw) {
          float *restrict in = dx + n * xs[0] + ih * xs[2] + iw * xs[3];
          for (int64_t c = c0; c < c1; ++c) in[c] = 0;
        }
      for (int64_t oh = 0; oh < g->out_h; ++oh) {
        const window_span rows = spans[oh];
        for (int64_t ow = 0; ow < g->out_w; ++ow) {
          const window_span cols = spans[g->out_h + ow];
          const float *restrict grad = dy + n * ys[0] + oh * ys[2] + ow * ys[3];
          if (max) {
            const int64_t *at = indices + n * ys[0] + oh * ys[2] + ow * ys[3];
            for (int64_t c = c0; c < c1; ++c) {
              const int64_t where = at[c];
              dx[n * xs[0] + (where / g->width) * xs[2] + (where % g->width) * xs[3] + c] += grad[c];
            }
            continue;
          }
          for (int64_t ih = rows.begin; ih < rows.end; ++ih)
            for (int64_t iw = cols.begin; iw < cols.end; ++iw) {
              float *restrict in = dx + n * xs[0] + ih * xs[2] + iw * xs[3];
              for (int64_t c = c0; c < c1; ++c) in[c] += divided(g, grad[c], rows, cols);
            }
        }
      }
    }
    free(spans);
    return 0;
  }
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t n = p / g->channels, c = p % g->channels;
    float *plane = dx + n * xs[0] + c * xs[1];
    const float *grad = dy + n * ys[0] + c * ys[1];
    const int64_t *at = max ? indices + n * ys[0] + c * ys[1] : NULL;
    for (int64_t ih = 0; ih < g->height; ++ih)
      for (int64_t iw = 0; iw < g->width; ++iw) plane[ih * xs[2] + iw * xs[3]] = 0;
    for (int64_t oh = 0; oh < g->out_h; ++oh) {
      const window_span rows = spans[oh];
      for (int64_t ow = 0; ow < g->out_w; ++ow) {
        const int64_t o = oh * ys[2] + ow * ys[3];
        if (max) {
          const int64_t where = at[o];
          plane[(where / g->width) * xs[2] + (where % g->width) * xs[3]] += grad[o];
          continue;
        }
        const window_span cols = spans[g->out_h + ow];
        const float share = divided(g, grad[o], rows, cols);
        for (int64_t ih = rows.begin; ih < rows.end; ++ih)
          for (int64_t iw = cols.begin; iw < cols.end; ++iw) plane[ih * xs[2] + iw * xs[3]] += share;
      }
    }
  }
  free(spans);
  return 0;
}
