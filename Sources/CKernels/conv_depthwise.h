// Depthwise convolution kernels in AVX-512 registers, for conv.c.
#ifndef CKERNELS_CONV_DEPTHWISE_H
#define CKERNELS_CONV_DEPTHWISE_H

#include "CKernels.h"

// Whether the kernels below take a depthwise geometry: AVX-512, stride 1, at most 32 taps.
int conv_depthwise_avx512_applies(const ck_conv2d_geometry *g);

#if defined(__x86_64__)
// The same contracts as conv.c's depthwise_forward, depthwise_backward_input and
// depthwise_backward_weight.
void conv_depthwise_forward_avx512(const ck_conv2d_geometry *g, const float *x, const float *weight, const float *bias, float *y,
                                   int64_t p0, int64_t p1);
void conv_depthwise_backward_input_avx512(const ck_conv2d_geometry *g, const float *weight, const float *dy, float *dx, int64_t c0,
                                          int64_t c1);
void conv_depthwise_backward_weight_avx512(const ck_conv2d_geometry *g, const float *x, const float *dy, float *dweight_t, int64_t p0,
                                           int64_t p1);
#endif

#endif
