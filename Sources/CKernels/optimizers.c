// One Adam or AdamW step over contiguous float32 parameters, in one pass: the parameter, its
// gradient and the two moment estimates are read once and written once, where the composed
// update makes about a dozen passes and temporaries. The arithmetic is PyTorch's single-tensor
// Adam: lerp of the first moment (as an FMA, as PyTorch's vectorised lerp), addcmul of the
// second, addcdiv of the update; nothing else is contracted.
#include "CKernels.h"

#include <math.h>

#include "vectorised.h"

#pragma clang fp contract(off)

VECTORISED void ck_adam_step_f32(int64_t n, float *param, const float *grad, float *exp_avg, float *exp_avg_sq,
                                 float *max_exp_avg_sq, const ck_adam_hyper *h) {
  const float decay = (float)(1.0 - h->lr * h->weight_decay), l2 = (float)h->weight_decay;
  const float w1 = (float)(1.0 - h->beta1), beta2 = (float)h->beta2, w2 = (float)(1.0 - h->beta2);
  const float bc2_sqrt = (float)h->bias_correction2_sqrt, eps = (float)h->eps;
  const float step_size = (float)(-h->lr / h->bias_correction1);
  const int decoupled = h->decoupled, weight_decay = h->weight_decay != 0;
  for (int64_t i = 0; i < n; ++i) {
    float p = param[i], g = grad[i];
    if (weight_decay) {
      if (decoupled) {
        p = p * decay;
      } else {
        g = g + l2 * p;
      }
    }
    const float m = fmaf(w1, g - exp_avg[i], exp_avg[i]);
    const float v = exp_avg_sq[i] * beta2 + w2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    float second = v;
    if (max_exp_avg_sq) {
      const float previous = max_exp_avg_sq[i];
      second = (previous > v || previous != previous) ? previous : v; /* NaN propagates, as torch.maximum */
      max_exp_avg_sq[i] = second;
    }
    // The elementwise builtin sets no errno, so the loop vectorises (sqrtf would not).
    const float denom = __builtin_elementwise_sqrt(second) / bc2_sqrt + eps;
    param[i] = p + step_size * m / denom;
  }
}
