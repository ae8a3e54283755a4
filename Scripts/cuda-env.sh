# Source this to get the CUDA 13 headers and libraries from PyPI wheels into .venv and the
# flags that build with the CUDA trait:
#   source Scripts/cuda-env.sh
#   swift build --traits CUDA $CUDA_SWIFT_FLAGS          (with MPI too: --traits CUDA,MPI)
# It sets CUDA_ROOT (headers in include/, libraries in lib/), CUDA_SWIFT_FLAGS and
# LD_LIBRARY_PATH, and makes unversioned libX.so links in .build-cuda-libs for the linker.
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install -q nvidia-cuda-runtime nvidia-cuda-crt nvidia-cuda-cccl nvidia-cublas nvidia-cuda-nvrtc nvidia-nccl-cu13
CUDA_ROOT="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/nvidia/cu13"
export CUDA_ROOT
mkdir -p .build-cuda-libs
for lib in cudart cublas cublasLt nvrtc; do
  ln -sf "$CUDA_ROOT/lib/lib$lib.so.13" ".build-cuda-libs/lib$lib.so"
done
# NCCL (collectives on CUDA tensors) comes from its own wheel, in nvidia/nccl.
NCCL_ROOT="$(dirname "$CUDA_ROOT")/nccl"
export NCCL_ROOT
ln -sf "$NCCL_ROOT/lib/libnccl.so.2" ".build-cuda-libs/libnccl.so"
export CUDA_SWIFT_FLAGS="-Xcc -I$CUDA_ROOT/include -Xcc -I$NCCL_ROOT/include -Xlinker -L$PWD/.build-cuda-libs -Xlinker -rpath -Xlinker $CUDA_ROOT/lib -Xlinker -rpath -Xlinker $NCCL_ROOT/lib"
export LD_LIBRARY_PATH="$CUDA_ROOT/lib:$NCCL_ROOT/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
