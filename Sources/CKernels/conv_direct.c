// Direct 2-D convolution over a channel-blocked layout, in AVX-512 registers, for stride-1
// geometries with one group, at least 16 input and more than 16 output channels (a ResNet's
// 3 x 3 layers and, through the flipped weight, their input gradients).
//
// The image is copied once into blocks of 16 channels with its padding written out as zeros
// (`[C/16][H + 2ph][W + 2pw][16]`), and the weight into `[O/(16 OBT)][C/16][kh][kw][16 in]
// [OBT][16 out]`: a tile's weights for one input block are one contiguous run.
// An output tile is OBT blocks of 16 output channels times Q pixels of one output row, OBT x Q
// <= 28 accumulators: for every input channel and tap, OBT weight vectors are loaded and each
// of the Q input values is broadcast once and used OBT times. Nothing is packed per product and
// no column matrix exists; the accumulators see every input channel before they are stored, and
// each is scattered into the NCHW output (one pixel's 16 channels, a plane apart).
#include "CKernels.h"

#include <string.h>

#define LANES 16
// Accumulators per tile (of 32 registers: the rest hold the weights and the broadcast).
#define TILE_ACCUMULATORS 28

static inline int64_t blocks_of(int64_t n) { return (n + LANES - 1) / LANES; }

// Partial sums of one work item stay within this many floats (in L2 with its input rows).
#define BAND_FLOATS (1 << 15)

// How a geometry is tiled: output blocks per tile (2 or 4), pixels per tile, tiles per row,
// and output rows per work item (a band).
typedef struct {
  int64_t obt, q, row_tiles, out_blocks, in_blocks, padded_h, padded_w, band_rows, bands;
} direct_plan;

static direct_plan plan_for(const ck_conv2d_geometry *g) {
  direct_plan p;
  p.in_blocks = blocks_of(g->channels);
  // Narrow rows take four output blocks per tile (28 accumulators for a 7-pixel row), wide
  // ones two blocks of up to 14 pixels, the row split into tiles of near-equal width.
  const int64_t raw_out_blocks = blocks_of(g->out_channels);
  p.obt = (g->out_w <= TILE_ACCUMULATORS / 4 && raw_out_blocks % 4 == 0) ? 4 : 2;
  const int64_t widest = TILE_ACCUMULATORS / p.obt;
  p.row_tiles = (g->out_w + widest - 1) / widest;
  p.q = (g->out_w + p.row_tiles - 1) / p.row_tiles;
  p.out_blocks = (raw_out_blocks + p.obt - 1) / p.obt * p.obt;
  p.padded_h = g->height + 2 * g->ph;
  p.padded_w = g->width + 2 * g->pw;
  const int64_t row_floats = p.row_tiles * p.q * p.obt * LANES;
  p.bands = (g->out_h * row_floats + BAND_FLOATS - 1) / BAND_FLOATS;
  p.band_rows = (g->out_h + p.bands - 1) / p.bands;
  p.bands = (g->out_h + p.band_rows - 1) / p.band_rows;
  return p;
}

int ck_conv2d_direct_applies(const ck_conv2d_geometry *g) {
#if defined(__x86_64__)
  return ck_isa() == 2 && g->groups == 1 && g->sh == 1 && g->sw == 1 && g->kh * g->kw > 1 && g->channels >= LANES &&
         g->out_channels > LANES && g->out_h > 0 && g->out_w > 0 &&
         // The scatters and the weight's gathers take 32-bit offsets of up to 15 planes or
         // weight rows.
         g->out_h * g->out_w < (1 << 26) &&
         g->channels * g->out_channels * g->kh * g->kw < (1 << 26) &&
         g->out_h == g->height + 2 * g->ph - g->dh * (g->kh - 1) && g->out_w == g->width + 2 * g->pw - g->dw * (g->kw - 1);
#else
  (void)g;
  return 0;
#endif
}

int64_t ck_conv2d_direct_input_floats(const ck_conv2d_geometry *g) {
  const direct_plan p = plan_for(g);
  // A row's last tile may run past the row (its extra pixels are computed and not stored), so
  // the block ends with one tile's worth of slack.
  return p.in_blocks * p.padded_h * p.padded_w * LANES + (p.q + g->dw * g->kw) * LANES;
}

int64_t ck_conv2d_direct_weight_floats(const ck_conv2d_geometry *g) {
  const direct_plan p = plan_for(g);
  return p.out_blocks * p.in_blocks * g->kh * g->kw * LANES * LANES;
}

int64_t ck_conv2d_direct_weight_blocks(const ck_conv2d_geometry *g) { return plan_for(g).out_blocks; }

int64_t ck_conv2d_direct_work_items(const ck_conv2d_geometry *g) {
  const direct_plan p = plan_for(g);
  return p.out_blocks / p.obt * p.bands;
}

int64_t ck_conv2d_direct_scratch_floats(const ck_conv2d_geometry *g) {
  const direct_plan p = plan_for(g);
  return p.band_rows * p.row_tiles * p.q * p.obt * LANES;
}

// ---- Weight gradient ---------------------------------------------------------------------
//
// dW[o][c][i][j] = sum over images and output pixels of dy[o][pixel] x[c][pixel + tap (i, j)],
// with the 16 input channels of one block in a vector: a unit is WG_OUTPUTS output channels
// times one input block, and its accumulators (outputs x 9 taps of 16 channels) are registers
// through every pixel it sums. Per output pixel a unit loads the 9 taps' input vectors (rows the
// previous pixels already brought to L1) and broadcasts the WG_OUTPUTS gradients, for 9 x
// WG_OUTPUTS multiply-adds; no column matrix exists and dy is read in place. Each unit owns its
// slice of the gradient, so threads split units and nothing is reduced afterwards.

// Output channels per unit: 3 x 9 accumulators, 3 broadcasts and an input vector fill 31 of the
// 32 registers.
#define WG_OUTPUTS 3
// The packed input of the images a pass sums stays within this many floats per input block,
// so a block's rows are in L2 for every unit that reads it.
#define WG_PASS_FLOATS (1 << 17)
// Pixels the registers sum before they are added to a unit's running sums (whole output rows).
#define WG_CHUNK_PIXELS 128

int ck_conv2d_direct_weight_gradient_applies(const ck_conv2d_geometry *g) {
#if defined(__x86_64__)
  return ck_isa() == 2 && g->groups == 1 && g->kh == 3 && g->kw == 3 && g->dh == 1 && g->dw == 1 && g->channels >= LANES &&
         g->out_channels > 0 && g->out_h > 0 && g->out_w > 0 && g->out_h == (g->height + 2 * g->ph - 3) / g->sh + 1 &&
         g->out_w == (g->width + 2 * g->pw - 3) / g->sw + 1;
#else
  (void)g;
  return 0;
#endif
}

int64_t ck_conv2d_direct_weight_gradient_units(const ck_conv2d_geometry *g) {
  return blocks_of(g->channels) * ((g->out_channels + WG_OUTPUTS - 1) / WG_OUTPUTS);
}

int64_t ck_conv2d_direct_weight_gradient_pass_images(const ck_conv2d_geometry *g) {
  const int64_t block = (g->height + 2 * g->ph) * (g->width + 2 * g->pw) * LANES;
  const int64_t images = WG_PASS_FLOATS / block;
  return images > 1 ? images : 1;
}

#if defined(__x86_64__)
#include <immintrin.h>

// first_lanes(n): lanes 0 ..< n of 16, none for n <= 0 (the blocks that pad the output
// channels to a whole tile); transpose16_avx512.
#include "avx512.h"

__attribute__((target("avx512f")))
void ck_conv2d_direct_pack_input_f32(const ck_conv2d_geometry *g, const float *x, float *packed, int64_t cb0, int64_t cb1) {
  const direct_plan p = plan_for(g);
  const int64_t plane = g->height * g->width, row = p.padded_w * LANES;
  for (int64_t cb = cb0; cb < cb1; ++cb) {
    float *block = packed + cb * p.padded_h * row;
    const int64_t channels = g->channels - cb * LANES < LANES ? g->channels - cb * LANES : LANES;
    const float *source = x + cb * LANES * plane;
    for (int64_t h = 0; h < p.padded_h; ++h) {
      float *out = block + h * row;
      const int64_t ih = h - g->ph;
      if (ih < 0 || ih >= g->height) {
        memset(out, 0, (size_t)row * sizeof(float));
        continue;
      }
      memset(out, 0, (size_t)(g->pw * LANES) * sizeof(float));
      // 16 pixels of the block's 16 channel rows, read along the rows and transposed in
      // registers into 16 pixels of 16 channels (channels past the last read as zeros).
      for (int64_t w0 = 0; w0 < g->width; w0 += LANES) {
        const int64_t count = g->width - w0 < LANES ? g->width - w0 : LANES;
        const __mmask16 live = first_lanes(count);
        __m512 v[LANES];
        for (int c = 0; c < LANES; ++c) {
          v[c] = c < channels ? _mm512_maskz_loadu_ps(live, source + c * plane + ih * g->width + w0) : _mm512_setzero_ps();
        }
        transpose16_avx512(v);
        for (int64_t j = 0; j < count; ++j) _mm512_storeu_ps(out + (g->pw + w0 + j) * LANES, v[j]);
      }
      memset(out + (g->pw + g->width) * LANES, 0, (size_t)(g->pw * LANES) * sizeof(float));
    }
  }
  if (cb1 == p.in_blocks) {
    // The slack after the last block reads as zeros.
    const int64_t body = p.in_blocks * p.padded_h * row;
    memset(packed + body, 0, (size_t)(ck_conv2d_direct_input_floats(g) - body) * sizeof(float));
  }
}

__attribute__((target("avx512f")))
void ck_conv2d_direct_pack_weight_f32(const ck_conv2d_geometry *g, const float *weight, int flipped, float *packed, int64_t ob0,
                                      int64_t ob1) {
  const direct_plan p = plan_for(g);
  const int64_t taps = g->kh * g->kw, c_all = g->channels, o_all = g->out_channels;
  // Output channel o, input channel c, tap t of this geometry's weight is, in the source,
  // weight[o][c][t], or for the flipped weight of an input gradient weight[c][o][taps - 1 - t].
  const int64_t o_stride = flipped ? taps : c_all * taps, c_stride = flipped ? o_all * taps : taps;
  const __m512i lane_offsets = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                                  _mm512_set1_epi32((int)o_stride));
  for (int64_t ob = ob0; ob < ob1; ++ob) {
    const __mmask16 live = first_lanes(o_all - ob * LANES);
    for (int64_t cb = 0; cb < p.in_blocks; ++cb) {
      for (int64_t t = 0; t < taps; ++t) {
        // A tile's OBT blocks side by side: [group][cb][t][i][OBT][16].
        float *out = packed + (((ob / p.obt * p.in_blocks + cb) * taps + t) * LANES * p.obt + ob % p.obt) * LANES;
        const int64_t source_tap = flipped ? taps - 1 - t : t;
        for (int64_t i = 0; i < LANES; ++i) {
          const int64_t c = cb * LANES + i;
          __m512 v = _mm512_setzero_ps();
          if (live && c < c_all) {
            v = _mm512_mask_i32gather_ps(v, live, lane_offsets, weight + ob * LANES * o_stride + c * c_stride + source_tap, 4);
          }
          _mm512_storeu_ps(out + i * p.obt * LANES, v);
        }
      }
    }
  }
}

// Where a tile's results go once every input block is summed: `y` at the tile's first output
// block and pixel, `pixels` floats between output channels, the first `width` pixels and the
// channels below `channels` (from the tile's first) stored, plus `bias` (at the tile's first
// channel; NULL for none).
typedef struct {
  float *y;
  const float *bias;
  int64_t pixels, width, channels;
} tile_output;

// One tile over one input block: OBT x Q accumulators, started at zero (`first`) or from the
// partial sums in `sums` (Q x OBT vectors), given every tap and input channel of the block,
// then kept in `sums` or, after the last block (`out` not NULL), scattered into the NCHW
// output (each accumulator is one pixel's 16 output channels, a plane apart). `x` is the
// block's padded input at the output row and the tile's first column; `w` the packed weight
// of the tile's first output block and this input block.
__attribute__((target("avx512f"), always_inline)) static inline void tile_kernel(const direct_plan *p, const ck_conv2d_geometry *g,
                                                                                const float *x, const float *w, float *sums,
                                                                                int first, const tile_output *out,
                                                                                const int obt, const int q) {
  // Every loop over b and k is unrolled (their bounds are constants here), so the array
  // is registers; left as loops, the accumulators lived on the stack at a third of the speed.
  __m512 acc[4][TILE_ACCUMULATORS / 2];
#pragma clang loop unroll(full)
  for (int k = 0; k < q; ++k) {
#pragma clang loop unroll(full)
    for (int b = 0; b < obt; ++b) acc[b][k] = first ? _mm512_setzero_ps() : _mm512_load_ps(sums + (k * obt + b) * LANES);
  }
  const int64_t row = p->padded_w * LANES;
  for (int64_t i = 0; i < g->kh; ++i) {
    for (int64_t j = 0; j < g->kw; ++j) {
      const float *xs = x + i * g->dh * row + j * g->dw * LANES;
      const float *ws = w + (i * g->kw + j) * LANES * obt * LANES;
      for (int c = 0; c < LANES; ++c) {
        __m512 wv[4];
#pragma clang loop unroll(full)
        for (int b = 0; b < obt; ++b) wv[b] = _mm512_loadu_ps(ws + (c * obt + b) * LANES);
#pragma clang loop unroll(full)
        for (int k = 0; k < q; ++k) {
          const __m512 xv = _mm512_set1_ps(xs[k * LANES + c]);
#pragma clang loop unroll(full)
          for (int b = 0; b < obt; ++b) acc[b][k] = _mm512_fmadd_ps(wv[b], xv, acc[b][k]);
        }
      }
    }
  }
  if (!out) {
#pragma clang loop unroll(full)
    for (int k = 0; k < q; ++k) {
#pragma clang loop unroll(full)
      for (int b = 0; b < obt; ++b) _mm512_store_ps(sums + (k * obt + b) * LANES, acc[b][k]);
    }
    return;
  }
  const __m512i planes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                            _mm512_set1_epi32((int)out->pixels));
#pragma clang loop unroll(full)
  for (int b = 0; b < obt; ++b) {
    const int64_t left = out->channels - b * LANES;
    if (left <= 0) break;
    const __mmask16 live = first_lanes(left);
    const __m512 add = out->bias ? _mm512_maskz_loadu_ps(live, out->bias + b * LANES) : _mm512_setzero_ps();
    float *at = out->y + b * LANES * out->pixels;
#pragma clang loop unroll(full)
    for (int k = 0; k < q; ++k) {
      if (k < out->width) _mm512_mask_i32scatter_ps(at + k, live, planes, _mm512_add_ps(acc[b][k], add), 4);
    }
  }
}

typedef void (*tile_function)(const direct_plan *, const ck_conv2d_geometry *, const float *, const float *, float *, int,
                              const tile_output *);

#define TILE(OBT, Q)                                                                                                       \
  __attribute__((target("avx512f"))) static void tile_##OBT##_##Q(const direct_plan *p, const ck_conv2d_geometry *g,       \
                                                                   const float *x, const float *w, float *sums, int first,  \
                                                                   const tile_output *out) {                                \
    tile_kernel(p, g, x, w, sums, first, out, OBT, Q);                                                                      \
  }
TILE(2, 1) TILE(2, 2) TILE(2, 3) TILE(2, 4) TILE(2, 5) TILE(2, 6) TILE(2, 7)
TILE(2, 8) TILE(2, 9) TILE(2, 10) TILE(2, 11) TILE(2, 12) TILE(2, 13) TILE(2, 14)
TILE(4, 1) TILE(4, 2) TILE(4, 3) TILE(4, 4) TILE(4, 5) TILE(4, 6) TILE(4, 7)

static const tile_function two_block_tiles[15] = {NULL,       tile_2_1,  tile_2_2,  tile_2_3,  tile_2_4,
                                                  tile_2_5,   tile_2_6,  tile_2_7,  tile_2_8,  tile_2_9,
                                                  tile_2_10,  tile_2_11, tile_2_12, tile_2_13, tile_2_14};
static const tile_function four_block_tiles[8] = {NULL, tile_4_1, tile_4_2, tile_4_3, tile_4_4, tile_4_5, tile_4_6, tile_4_7};

void ck_conv2d_direct_forward_f32(const ck_conv2d_geometry *g, int64_t images, const float *packed_x, const float *packed_w,
                                  const float *bias, float *y, float *scratch, int64_t i0, int64_t i1) {
  const direct_plan p = plan_for(g);
  const tile_function kernel = p.obt == 4 ? four_block_tiles[p.q] : two_block_tiles[p.q];
  const int64_t pixels = g->out_h * g->out_w, row = p.padded_w * LANES, taps = g->kh * g->kw;
  const int64_t x_block = p.padded_h * row, w_block = taps * LANES * LANES, tile_floats = p.q * p.obt * LANES;
  const int64_t image_in = ck_conv2d_direct_input_floats(g), image_out = g->out_channels * pixels;
  // An item is a group of output blocks, an image and a band of its output rows, numbered
  // group by group: a thread's run of items reuses one group's weights (OBT blocks for every
  // input block, in L2) image after image. An item's tiles take one input block at a time, so
  // that block's weights (OBT x 16 x 16 per tap) stay in L1 for all of them, and keep their
  // partial sums in `scratch` between blocks.
  for (int64_t item = i0; item < i1; ++item) {
    const int64_t group = item / (images * p.bands), image = item / p.bands % images, oh0 = item % p.bands * p.band_rows;
    const int64_t oh1 = oh0 + p.band_rows < g->out_h ? oh0 + p.band_rows : g->out_h;
    const int64_t o0 = group * p.obt * LANES;
    const float *x = packed_x + image * image_in;
    for (int64_t cb = 0; cb < p.in_blocks; ++cb) {
      const float *w = packed_w + (group * p.in_blocks + cb) * p.obt * w_block;
      const int last = cb == p.in_blocks - 1;
      float *sums = scratch;
      for (int64_t oh = oh0; oh < oh1; ++oh) {
        for (int64_t ow0 = 0; ow0 < g->out_w; ow0 += p.q, sums += tile_floats) {
          const tile_output out = {.y = y + image * image_out + o0 * pixels + oh * g->out_w + ow0,
                                   .bias = bias ? bias + o0 : NULL,
                                   .pixels = pixels,
                                   .width = p.q < g->out_w - ow0 ? p.q : g->out_w - ow0,
                                   .channels = g->out_channels - o0};
          kernel(&p, g, x + cb * x_block + oh * row + ow0 * LANES, w, sums, cb == 0, last ? &out : NULL);
        }
      }
    }
  }
}

// One unit's R output channels (R <= WG_OUTPUTS) over `images` packed images from `x` (the
// unit's input block of the first; images `image_in` floats apart) and their gradients from
// `dy` (the unit's first output channel of the first image; `image_out` apart), summed into
// `dw` (R x 9 vectors of 16 channels). The registers sum WG_CHUNK_PIXELS or so pixels from
// zero before they are added to `dw`: blocked sums, whose rounding error grows with the chunk
// and the number of chunks rather than with every pixel.
__attribute__((target("avx512f"), always_inline)) static inline void weight_gradient_unit(
    const direct_plan *p, const ck_conv2d_geometry *g, const float *x, int64_t image_in, const float *dy, int64_t image_out,
    int64_t images, __m512 *dw, const int r) {
  for (int i = 0; i < r * 9; ++i) dw[i] = _mm512_setzero_ps();
  const int64_t row = p->padded_w * LANES, step = g->sw * LANES, pixels = g->out_h * g->out_w;
  const int64_t chunk_rows = g->out_w >= WG_CHUNK_PIXELS ? 1 : WG_CHUNK_PIXELS / g->out_w;
  for (int64_t image = 0; image < images; ++image) {
    const float *grad = dy + image * image_out;
    for (int64_t oh0 = 0; oh0 < g->out_h; oh0 += chunk_rows) {
      const int64_t oh1 = oh0 + chunk_rows < g->out_h ? oh0 + chunk_rows : g->out_h;
      __m512 acc[WG_OUTPUTS][9];
#pragma clang loop unroll(full)
      for (int o = 0; o < r; ++o) {
#pragma clang loop unroll(full)
        for (int t = 0; t < 9; ++t) acc[o][t] = _mm512_setzero_ps();
      }
      for (int64_t oh = oh0; oh < oh1; ++oh) {
        const float *x0 = x + image * image_in + oh * g->sh * row, *x1 = x0 + row, *x2 = x1 + row;
        const float *d = grad + oh * g->out_w;
        for (int64_t ow = 0; ow < g->out_w; ++ow, x0 += step, x1 += step, x2 += step) {
          __m512 b[WG_OUTPUTS];
#pragma clang loop unroll(full)
          for (int o = 0; o < r; ++o) b[o] = _mm512_set1_ps(d[o * pixels + ow]);
          const float *rows[3] = {x0, x1, x2};
#pragma clang loop unroll(full)
          for (int t = 0; t < 9; ++t) {
            const __m512 v = _mm512_loadu_ps(rows[t / 3] + t % 3 * LANES);
#pragma clang loop unroll(full)
            for (int o = 0; o < r; ++o) acc[o][t] = _mm512_fmadd_ps(b[o], v, acc[o][t]);
          }
        }
      }
#pragma clang loop unroll(full)
      for (int o = 0; o < r; ++o) {
#pragma clang loop unroll(full)
        for (int t = 0; t < 9; ++t) dw[o * 9 + t] = _mm512_add_ps(dw[o * 9 + t], acc[o][t]);
      }
    }
  }
}

#define WG_UNIT(R)                                                                                                        \
  __attribute__((target("avx512f"))) static void weight_gradient_unit_##R(                                               \
      const direct_plan *p, const ck_conv2d_geometry *g, const float *x, int64_t image_in, const float *dy,              \
      int64_t image_out, int64_t images, __m512 *dw) {                                                                    \
    weight_gradient_unit(p, g, x, image_in, dy, image_out, images, dw, R);                                                \
  }
WG_UNIT(1) WG_UNIT(2) WG_UNIT(3)

typedef void (*weight_gradient_function)(const direct_plan *, const ck_conv2d_geometry *, const float *, int64_t,
                                         const float *, int64_t, int64_t, __m512 *);
static const weight_gradient_function weight_gradient_units[WG_OUTPUTS + 1] = {NULL, weight_gradient_unit_1,
                                                                               weight_gradient_unit_2, weight_gradient_unit_3};

__attribute__((target("avx512f")))
void ck_conv2d_direct_weight_gradient_f32(const ck_conv2d_geometry *g, int64_t images, const float *packed_x, const float *dy,
                                          float *dweight, int64_t u0, int64_t u1) {
  const direct_plan p = plan_for(g);
  const int64_t groups = (g->out_channels + WG_OUTPUTS - 1) / WG_OUTPUTS, pixels = g->out_h * g->out_w;
  const int64_t image_in = ck_conv2d_direct_input_floats(g), image_out = g->out_channels * pixels;
  const int64_t block = p.padded_h * p.padded_w * LANES, pass = ck_conv2d_direct_weight_gradient_pass_images(g);
  const __mmask16 taps = 0x1FF;
  if (images <= 0) {
    // No image to sum: the units' slices are zero (every pass below writes them).
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t cb = u / groups, o0 = u % groups * WG_OUTPUTS;
      const int64_t r = g->out_channels - o0 < WG_OUTPUTS ? g->out_channels - o0 : WG_OUTPUTS;
      const int64_t channels = g->channels - cb * LANES < LANES ? g->channels - cb * LANES : LANES;
      for (int64_t o = 0; o < r; ++o) memset(dweight + ((o0 + o) * g->channels + cb * LANES) * 9, 0, (size_t)(channels * 9) * sizeof(float));
    }
    return;
  }
  // Units are numbered input block by input block, so a thread's run of units reads one
  // block's rows for every group of output channels; the images are summed a pass at a time
  // (whose rows of a block stay in L2 while the units run), each pass adding to the gradient.
  for (int64_t image = 0; image < images; image += pass) {
    const int64_t count = images - image < pass ? images - image : pass;
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t cb = u / groups, o0 = u % groups * WG_OUTPUTS;
      const int r = (int)(g->out_channels - o0 < WG_OUTPUTS ? g->out_channels - o0 : WG_OUTPUTS);
      const int64_t channels = g->channels - cb * LANES < LANES ? g->channels - cb * LANES : LANES;
      __m512 sums[WG_OUTPUTS * 9];
      weight_gradient_units[r](&p, g, packed_x + image * image_in + cb * block, image_in, dy + image * image_out + o0 * pixels,
                               image_out, count, sums);
      // An output channel's 9 tap vectors (16 channels each) transposed in registers into 16
      // channels of 9 taps: dW[o][c][0 ..< 9] is 9 contiguous floats, written with one masked
      // store (16-lane scatters, 9 floats apart, had cost 4% of a ResNet-18 step).
      for (int o = 0; o < r; ++o) {
        float *at = dweight + ((o0 + o) * g->channels + cb * LANES) * 9;
        __m512 v[LANES];
        for (int t = 0; t < LANES; ++t) v[t] = t < 9 ? sums[o * 9 + t] : _mm512_setzero_ps();
        transpose16_avx512(v);
        for (int64_t c = 0; c < channels; ++c) {
          const __m512 sum = image > 0 ? _mm512_add_ps(v[c], _mm512_maskz_loadu_ps(taps, at + c * 9)) : v[c];
          _mm512_mask_storeu_ps(at + c * 9, taps, sum);
        }
      }
    }
  }
}

#endif
