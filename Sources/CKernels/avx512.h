// AVX-512 helpers that several kernel files share (x86-64 only).
#ifndef CKERNELS_AVX512_H
#define CKERNELS_AVX512_H

#include <immintrin.h>
#include <stdint.h>

// The mask of the first n of 16 lanes (n clamped to 0 ... 16).
static inline __attribute__((unused)) __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? (__mmask16)0xFFFF : (n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1));
}

// Transposes the 16 x 16 floats in r[0 ..< 16] (row i in r[i]) in registers.
__attribute__((target("avx512f")))
static inline __attribute__((always_inline, unused)) void transpose16_avx512(__m512 r[16]) {
  __m512 a[16], b[16];
  for (int i = 0; i < 8; ++i) {
    a[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; ++g) {
    __m512d a0 = _mm512_castps_pd(a[4 * g]), a1 = _mm512_castps_pd(a[4 * g + 1]);
    __m512d a2 = _mm512_castps_pd(a[4 * g + 2]), a3 = _mm512_castps_pd(a[4 * g + 3]);
    b[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
    b[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
    b[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
    b[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
  }
  // b[4g + c], 128-bit lane l, holds column 4l + c of rows 4g ... 4g + 3.
  for (int c = 0; c < 4; ++c) {
    __m512 p0 = _mm512_shuffle_f32x4(b[c], b[4 + c], 0x44);
    __m512 p1 = _mm512_shuffle_f32x4(b[c], b[4 + c], 0xEE);
    __m512 p2 = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0x44);
    __m512 p3 = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0xEE);
    r[c] = _mm512_shuffle_f32x4(p0, p2, 0x88);
    r[4 + c] = _mm512_shuffle_f32x4(p0, p2, 0xDD);
    r[8 + c] = _mm512_shuffle_f32x4(p1, p3, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(p1, p3, 0xDD);
  }
}

#endif
