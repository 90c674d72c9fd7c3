#!/usr/bin/env bash
# GPU benchmarks in one go: on a machine with an NVIDIA GPU, obtain onnxruntime's
# CUDA execution provider, check it with `masa doctor`, then run the training-step
# and rollout benchmarks with device 'cuda' and write bench/gpu/RESULTS.md (the same
# kind of file as bench/RESULTS.md). See bench/gpu/README.md for the two routes to
# the provider and the trade-off between them.
#
#   bash bench/gpu/run.sh [--route auto|present|nuget|npm-1.29] [--provider-dir DIR]
#                         [--quick] [--repeat N] [--out FILE] [--only LIST] [--no-build]
#   bash bench/gpu/run.sh --prepare-offline     # on a machine that reaches the npm registry
#
# Routes to the provider (auto tries them in this order):
#   present   the libraries are already next to onnxruntime-node's binary, or in
#             --provider-dir / $MASA_ORT_CUDA_DIR (copied in; they must match its version)
#   nuget     onnxruntime-node 1.30.0's own installer (ONNXRUNTIME_NODE_INSTALL=cuda12),
#             which downloads them from NuGet: needs network, CUDA 12 + cuDNN 9
#   npm-1.29  onnxruntime-node 1.29.0 + the CUDA 13 provider libraries of the npm package
#             com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9, swapped in for this run
#             only (restored on exit): needs the npm registry, or bench/.out/gpu/ filled
#             beforehand by --prepare-offline; CUDA 13 + cuDNN 9
#
# --only picks benchmarks (default train-step,rollout); --no-build uses the packages'
# dist/ as they are (a checkout carried to a machine without pnpm or network).
#
# Exit status: 0 results written; 2 usage; 3 no NVIDIA GPU; 4 no CUDA provider;
# 5 the provider is present but masa doctor says CUDA does not work; 6 setup failed;
# 1 a benchmark failed (RESULTS.md says which).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
work="$root/bench/.out/gpu"

route=auto
provider_dir=${MASA_ORT_CUDA_DIR:-}
out=bench/gpu/RESULTS.md
bench_flags=()
prepare_only=0
only=train-step,rollout
build=1

prefix=bench/gpu
usage_lines=2,27
# shellcheck source=bench/gpu/common.sh
source "$here/common.sh"

while [ $# -gt 0 ]; do
  case "$1" in
    --route) route=${2:?--route needs a value}; shift 2 ;;
    --provider-dir) provider_dir=${2:?--provider-dir needs a folder}; shift 2 ;;
    --quick) bench_flags+=(--quick); shift ;;
    --repeat) bench_flags+=(--repeat "${2:?--repeat needs a number}"); shift 2 ;;
    --out) out=${2:?--out needs a file}; shift 2 ;;
    --only) only=${2:?--only needs a comma-separated list of benchmarks}; shift 2 ;;
    --no-build) build=0; shift ;;
    --prepare-offline) prepare_only=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage; fail 2 "unknown argument '$1'" ;;
  esac
done
case "$route" in auto | present | nuget | npm-1.29) ;; *) fail 2 "--route must be auto, present, nuget or npm-1.29, got '$route'" ;; esac

# ---- onnxruntime-node as @masa-rl/onnx resolves it.
ort_link="$root/packages/onnx/node_modules/onnxruntime-node"
[ -e "$ort_link" ] || fail 6 "packages/onnx/node_modules/onnxruntime-node is missing: run pnpm install first"
ort_dir=$(readlink -f "$ort_link")
ort_version=$(node -p "require('$ort_dir/package.json').version")
bin_dir="$ort_dir/bin/napi-v6/linux/x64"
providers=(libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so)
have_providers() { [ -f "$1/${providers[0]}" ] && [ -f "$1/${providers[1]}" ]; }

# ---- npm-1.29 inputs: two tarballs from the npm registry, kept in bench/.out/gpu/.
fetch_npm_route() {
  mkdir -p "$work/tarballs"
  local spec
  for spec in "onnxruntime-node@$ORT_129" "onnxruntime-common@$ORT_129" "$GPU_PACKAGE"; do
    local name=${spec%@*}
    if [ ! -f "$work/tarballs/$name-${spec##*@}.tgz" ]; then
      say "npm pack $spec (into bench/.out/gpu/tarballs) …"
      (cd "$work/tarballs" && npm pack --silent "$spec" >/dev/null) || return 1
    fi
  done
}

if [ "$prepare_only" = 1 ]; then
  fetch_npm_route || fail 6 "could not download the npm-1.29 route's packages (is the npm registry reachable?)"
  say "ready: copy bench/.out/gpu/ to the GPU machine's checkout, then run bash bench/gpu/run.sh --route npm-1.29 there"
  exit 0
fi

# ---- 1. A GPU, or stop here.
if ! command -v nvidia-smi >/dev/null 2>&1; then
  fail 3 "no NVIDIA GPU: nvidia-smi is not installed on this machine, so there is nothing for the CUDA execution provider to run on. Run this script on a machine with an NVIDIA GPU and its driver; bench/RESULTS.md (pnpm bench) covers the CPU."
fi
if ! gpus=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1) || [ -z "$gpus" ]; then
  fail 3 "no NVIDIA GPU: nvidia-smi is installed but lists no GPU (${gpus:-no output}); check the driver (nvidia-smi) and that the GPU is visible to this container"
fi
driver_cuda=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -n1)
say "GPU: $gpus (driver supports CUDA ${driver_cuda:-unknown}); onnxruntime-node $ort_version"

# ---- 2. The CUDA execution provider.
restore_link=
cleanup() {
  if [ -n "$restore_link" ]; then
    ln -sfn "$restore_link" "$ort_link"
    say "restored packages/onnx/node_modules/onnxruntime-node -> $restore_link"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

use_present() {
  if have_providers "$bin_dir"; then
    say "provider libraries already in $bin_dir"
    return 0
  fi
  if [ -n "$provider_dir" ]; then
    have_providers "$provider_dir" || fail 4 "--provider-dir / MASA_ORT_CUDA_DIR ($provider_dir) does not hold ${providers[*]}"
    say "copying the provider libraries from $provider_dir (they must be built for onnxruntime $ort_version)"
    cp "$provider_dir/${providers[0]}" "$provider_dir/${providers[1]}" "$bin_dir/"
    return 0
  fi
  return 1
}

use_nuget() {
  say "running onnxruntime-node $ort_version's installer (ONNXRUNTIME_NODE_INSTALL=cuda12: downloads Microsoft.ML.OnnxRuntime.Gpu.Linux $ort_version from NuGet) …"
  if ! ONNXRUNTIME_NODE_INSTALL=cuda12 node "$ort_dir/script/install.js"; then
    say "the NuGet installer failed (no network to api.nuget.org?)"
    return 1
  fi
  have_providers "$bin_dir" || { say "the installer finished but ${providers[0]} is not in $bin_dir"; return 1; }
}

use_npm_129() {
  fetch_npm_route || { say "the npm-1.29 packages are neither in bench/.out/gpu/tarballs nor downloadable (run --prepare-offline where the npm registry is reachable and copy bench/.out/gpu/ here)"; return 1; }
  local target="$work/ort-$ORT_129/node_modules"
  if [ ! -f "$target/onnxruntime-node/package.json" ]; then
    say "unpacking onnxruntime-node $ORT_129 and the CUDA 13 provider libraries into bench/.out/gpu/ort-$ORT_129 …"
    rm -rf "$work/ort-$ORT_129" "$work/unpack"
    mkdir -p "$target" "$work/unpack"
    local name
    for name in onnxruntime-node onnxruntime-common; do
      mkdir -p "$work/unpack/$name"
      tar xzf "$work/tarballs/$name-$ORT_129.tgz" -C "$work/unpack/$name"
      mv "$work/unpack/$name/package" "$target/$name"
    done
    mkdir -p "$work/unpack/gpu"
    tar xzf "$work/tarballs/$GPU_TARBALL" -C "$work/unpack/gpu"
    local library
    for library in "${providers[@]}"; do
      local found
      found=$(find "$work/unpack/gpu" -name "$library" -type f | head -n1)
      [ -n "$found" ] || { say "$GPU_PACKAGE has no $library"; return 1; }
      cp "$found" "$target/onnxruntime-node/bin/napi-v6/linux/x64/"
    done
    rm -rf "$work/unpack"
  fi
  restore_link=$(readlink "$ort_link")
  ln -sfn "$target/onnxruntime-node" "$ort_link"
  ort_dir="$target/onnxruntime-node"
  ort_version=$ORT_129
  bin_dir="$ort_dir/bin/napi-v6/linux/x64"
  say "packages/onnx now resolves onnxruntime-node $ORT_129 with the CUDA 13 provider (for this run only)"
}

chosen=
case "$route" in
  present) use_present && chosen=present ;;
  nuget)
    if use_present; then chosen=present
    elif use_nuget; then chosen=nuget
    fi ;;
  npm-1.29) use_npm_129 && chosen=npm-1.29 ;;
  auto)
    if use_present; then chosen=present
    elif use_nuget; then chosen=nuget
    elif use_npm_129; then chosen=npm-1.29
    fi ;;
esac
if [ -z "$chosen" ]; then
  fail 4 "no CUDA execution provider for onnxruntime-node $ort_version (route '$route'). Put ${providers[*]} built for $ort_version into $bin_dir, pass --provider-dir, or give this machine network access (nuget) or the npm-1.29 packages (--prepare-offline elsewhere). bench/gpu/README.md explains each route."
fi

# ---- 3. The CUDA libraries the provider links, found where they usually live.
cuda_major=12
[ "${ort_version#1.29.}" != "$ort_version" ] && cuda_major=13
if ! ldconfig -p 2>/dev/null | grep -q "libcudart.so.$cuda_major "; then
  for dir in /usr/local/cuda/lib64 /usr/local/cuda-"$cuda_major"*/lib64 /usr/local/cuda-"$cuda_major"*/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu /opt/nvidia/*/lib; do
    if [ -e "$dir/libcudart.so.$cuda_major" ]; then
      export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      say "added $dir to LD_LIBRARY_PATH (libcudart.so.$cuda_major)"
      break
    fi
  done
fi

# ---- 4. masa doctor must say CUDA works before any figure is trusted.
if [ "$build" = 1 ]; then
  say "building the CLI and the benchmarked packages …"
  TURBO_TELEMETRY_DISABLED=1 pnpm exec turbo run build --filter=@masa-rl/cli... --filter=@masa-rl/rollout... --output-logs=errors-only >&2 ||
    fail 6 "the build failed (output above)"
else
  for built in apps/cli/dist/bin.js packages/rollout/dist/index.js packages/onnx/dist/index.js; do
    [ -f "$built" ] || fail 6 "--no-build, but $built is missing: build first (pnpm build) or drop --no-build"
  done
fi
doctor_json="$work/doctor.json"
mkdir -p "$work"
node apps/cli/dist/bin.js doctor >&2 || true
node apps/cli/dist/bin.js doctor --json >"$doctor_json" 2>/dev/null || true
cuda_status=$(node -e "const r=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));const c=r.checks.find((x)=>x.name==='cuda');process.stdout.write(c?c.status:'unknown')" "$doctor_json" 2>/dev/null || echo unknown)
if [ "$cuda_status" != ok ]; then
  fail 5 "masa doctor says the CUDA execution provider does not work here (route '$chosen'; see its 'cuda' line above for what is missing)"
fi

# ---- 5. The benchmarks on the GPU.
say "running the benchmarks ($only) on the CUDA execution provider (route '$chosen') …"
node bench/run.mjs --device cuda --only "$only" --no-setup --no-build --out "$out" "${bench_flags[@]}"
