// NCCL, for collectives on CUDA tensors (with the CUDA trait; headers and library from the
// nvidia-nccl-cu13 wheel, see Scripts/cuda-env.sh).
#include <cuda_runtime_api.h>
#include <nccl.h>
