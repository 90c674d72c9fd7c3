#!/usr/bin/env bash
# Installs what the train-step benchmark needs beyond the workspace: PyTorch for
# the CPU from Debian (python3-torch) with OpenBLAS as its BLAS. Idempotent: does
# nothing when an interpreter can already `import torch` and BLAS is OpenBLAS.
set -euo pipefail

find_python() {
  # The first python3 on PATH may be a pyenv build that cannot see Debian's
  # packages, so try every candidate and keep the first that imports torch.
  local candidate
  for candidate in $(which -a python3 2>/dev/null) /usr/bin/python3; do
    if "$candidate" -c 'import torch' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# Debian's torch links the generic libblas.so.3 (reference BLAS, ~5 GFLOP/s).
# libopenblas0-pthread registers OpenBLAS as the libblas.so.3 alternative, which
# is what the anchors in shared/docs/ENVIRONMENT.md were measured with.
blas_is_openblas() {
  local target
  target=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
  [[ "$target" == *openblas* ]]
}

if python=$(find_python) && blas_is_openblas; then
  echo "torch found: $python ($("$python" -c 'import torch; print(torch.__version__)')), BLAS: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
  exit 0
fi

echo "installing python3-torch and OpenBLAS (pthread) with apt…"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y python3-torch libopenblas0-pthread

python=$(find_python) || { echo "python3-torch installed but no interpreter imports torch" >&2; exit 1; }
blas_is_openblas || echo "warning: libblas.so.3 is not OpenBLAS ($(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)); PyTorch matmuls will be slow" >&2
echo "torch found: $python ($("$python" -c 'import torch; print(torch.__version__)')), BLAS: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
