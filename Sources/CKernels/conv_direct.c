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
         // The gathers and scatters take 32-bit offsets of up to 15 planes or weight rows.
         g->height * g->width < (1 << 26) && g->out_h * g->out_w < (1 << 26) &&
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

#if defined(__x86_64__)
#include <immintrin.h>

// Lanes 0 ..< n of 16 (none for n <= 0: the blocks that pad the output channels to a whole
// tile).
static inline __mmask16 first_lanes(int64_t n) {
  return n >= LANES ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

__attribute__((target("avx512f")))
void ck_conv2d_direct_pack_input_f32(const ck_conv2d_geometry *g, const float *x, float *packed, int64_t cb0, int64_t cb1) {
  const direct_plan p = plan_for(g);
  const int64_t plane = g->height * g->width, row = p.padded_w * LANES;
  const __m512i channel_offsets = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                                     _mm512_set1_epi32((int)plane));
  for (int64_t cb = cb0; cb < cb1; ++cb) {
    float *block = packed + cb * p.padded_h * row;
    const __mmask16 live = first_lanes(g->channels - cb * LANES);
    const float *source = x + cb * LANES * plane;
    for (int64_t h = 0; h < p.padded_h; ++h) {
      float *out = block + h * row;
      const int64_t ih = h - g->ph;
      if (ih < 0 || ih >= g->height) {
        memset(out, 0, (size_t)row * sizeof(float));
        continue;
      }
      memset(out, 0, (size_t)(g->pw * LANES) * sizeof(float));
      for (int64_t w = 0; w < g->width; ++w) {
        const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, channel_offsets, source + ih * g->width + w, 4);
        _mm512_storeu_ps(out + (g->pw + w) * LANES, v);
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

#endif
