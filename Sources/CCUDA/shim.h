// The CUDA runtime, cuBLAS and NVRTC C APIs. Include paths come from the command line
// (-Xcc -I<cuda>/include); see the README's CUDA section.
#include <cuda_runtime_api.h>
#include <cublas_v2.h>
#include <nvrtc.h>
