# Shared by bench/gpu/run.sh and kit.sh (sourced): messages on stderr with the script's prefix,
# failure with a distinct exit status, and the usage text from the script's header comment.
# The sourcing script sets `prefix` (e.g. bench/gpu) and `usage_lines` (e.g. 2,27).

# The npm-1.29 route: onnxruntime-node 1.29.0 and the npm package that carries its CUDA 13 provider.
ORT_129=1.29.0
GPU_PACKAGE=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
GPU_TARBALL="${GPU_PACKAGE%@*}-${GPU_PACKAGE#*@}.tgz" # as npm pack names it
say() { printf '%s: %s\n' "$prefix" "$*" >&2; }
fail() {
  local status=$1
  shift
  printf '%s: %s\n' "$prefix" "$*" >&2
  exit "$status"
}
usage() { sed -n "${usage_lines}p" "$0" | sed 's/^# \{0,1\}//' >&2; }
