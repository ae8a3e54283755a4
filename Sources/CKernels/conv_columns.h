// The column matrix of a convolution (im2col) and its transpose (col2im), for conv.c.
#ifndef CKERNELS_CONV_COLUMNS_H
#define CKERNELS_CONV_COLUMNS_H

#include "CKernels.h"

// The steps t (0 <= t < count) of a run of output columns starting at input column iw0 and
// stepping sw that land inside 0 ..< width: t_lo ..< t_hi.
static inline void conv_valid_taps(int64_t iw0, int64_t sw, int64_t width, int64_t count, int64_t *t_lo, int64_t *t_hi) {
  int64_t lo = iw0 >= 0 ? 0 : (-iw0 + sw - 1) / sw;
  int64_t hi = iw0 >= width ? 0 : (width - iw0 + sw - 1) / sw;
  if (lo > count) lo = count;
  if (hi > count) hi = count;
  *t_lo = lo;
  *t_hi = hi > lo ? hi : lo;
}

// Rows k0 ..< k0 + kc and columns j0 ..< j0 + n of the column matrix of the images at `x`
// (`image_in` floats apart; column j is output pixel j % P of image j / P), written to
// out[(k - k0) ld + (j - j0)] for `lanes` >= n columns: padding and the columns past n read as
// zero.
void conv_gather_columns(const ck_conv2d_geometry *g, const float *x, int64_t image_in, int64_t k0, int64_t kc, int64_t j0, int64_t n,
                         float *out, int64_t ld, int64_t lanes);

// The transpose for one image: adds cols[(k - k0) ld + (j - j0)] (rows k0 ..< k0 + kc, columns
// j0 ..< j0 + n) back into the input gradient `dx` where gathering would have read it.
void conv_scatter_columns(const ck_conv2d_geometry *g, float *dx, int64_t k0, int64_t kc, int64_t j0, int64_t n, const float *cols,
                          int64_t ld);

#endif
