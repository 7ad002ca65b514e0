#!/usr/bin/env bash
# The GPU path, checked and measured in under five minutes on a machine with an NVIDIA
# GPU and CuPy (pip install -e .[cuda,test,bench]; torch with CUDA for the comparison):
#   1. every backend test on CuPy (tests/conftest.py adds the `cupy` variant there),
#      which covers the CuPy-only kernels in minigan/functional/_cuda.py;
#   2. one DCGAN and CGAN training step, minigan on CuPy against PyTorch on CUDA.
#     bash benchmarks/gpu_check.sh              # both
#     bash benchmarks/gpu_check.sh --json gpu.json   # also keep the benchmark's JSON
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if ! python -c "import cupy, sys; sys.exit(cupy.cuda.runtime.getDeviceCount() == 0)" 2>/dev/null; then
    echo "error: gpu_check.sh needs CuPy and an NVIDIA GPU (python -c 'import cupy' failed or found no device)" >&2
    exit 2
fi
echo "== the backend tests on cupy (at most 200 s)"
timeout 200 python -m pytest -q -m cupy -p no:cacheprovider
echo "== one training step: minigan on cupy against torch on cuda (at most 90 s)"
timeout 90 python benchmarks/bench_dcgan.py --backend cupy --repeats 10 --warmup 3 \
    --memory-steps 2 "$@"
