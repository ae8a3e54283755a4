#!/usr/bin/env bash
# The GPU check in one command: every backend primitive and dtype against the CPU, gradients
# (the parity suite), training runs of the digits MLP, a small ResNet and a GPT on the device
# against the CPU (float32, and float16 autocast with a GradScaler), and timings of matmul and
# bandwidth-bound ops as fractions of an H200's peak; it ends with "N passed, M failed".
#
#   Scripts/gpu-check.sh build   here (Swift toolchain, no GPU needed): builds CUDACheck as a
#                                static x86-64 binary with the CUDA trait into gpu-check/
#                                (stripped and xz-compressed)
#   Scripts/gpu-check.sh run     on the GPU machine, from the repository root: runs
#                                gpu-check/CUDACheck on cuda:0 within 8 minutes, loading the CUDA
#                                13 runtime, cuBLAS, NVRTC and NCCL from the nvidia-* wheels of
#                                the machine's python3 (or CUDA_LIB_DIRS, colon-separated)
#   Scripts/gpu-check.sh test    here: the same checks on the test device (Device.test(0))
#
# With the device tool: build here, then run `Scripts/gpu-check.sh run` there with
# carry: ["gpu-check"] (gpu-check/ is ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
build)
  source Scripts/cuda-env.sh
  # shellcheck disable=SC2086
  swift build -c release --static-swift-stdlib --traits CUDA $CUDA_SWIFT_FLAGS --product CUDACheck --build-path .build-cuda-release
  mkdir -p gpu-check
  # Stripped and xz-compressed (about 16 MB instead of 68), so that it fits the device tool's
  # 64 MiB carry limit together with the working tree.
  strip -o gpu-check/CUDACheck .build-cuda-release/release/CUDACheck
  xz -T0 -9 -f gpu-check/CUDACheck
  ls -la gpu-check/CUDACheck.xz
  ;;
run)
  if [ -z "${CUDA_LIB_DIRS:-}" ]; then
    site="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    CUDA_LIB_DIRS="$site/nvidia/cu13/lib:$site/nvidia/nccl/lib:$site/nvidia/cublas/lib:$site/nvidia/cuda_runtime/lib:$site/nvidia/cuda_nvrtc/lib"
  fi
  export LD_LIBRARY_PATH="$CUDA_LIB_DIRS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  missing=""
  for lib in libcudart.so.13 libcublas.so.13 libnvrtc.so.13 libnccl.so.2; do
    found=""
    IFS=: read -ra dirs <<< "$LD_LIBRARY_PATH"
    for d in "${dirs[@]}"; do [ -e "$d/$lib" ] && found=1; done
    ldconfig -p 2> /dev/null | grep -q "$lib" && found=1
    [ -n "$found" ] || missing="$missing $lib"
  done
  if [ -n "$missing" ]; then
    echo "gpu-check: cannot find$missing; set CUDA_LIB_DIRS to the folders holding them"
    echo "0 passed, 1 failed"
    exit 1
  fi
  binary="${TMPDIR:-/tmp}/CUDACheck"
  python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' gpu-check/CUDACheck.xz "$binary"
  chmod +x "$binary"
  timeout 480 "$binary" --device cuda:0
  ;;
test)
  swift build --product CUDACheck
  "$(swift build --show-bin-path)/CUDACheck" --device test:0
  ;;
*)
  echo "usage: Scripts/gpu-check.sh build|run|test"
  exit 2
  ;;
esac
