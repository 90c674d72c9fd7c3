# Shared by bench/gpu/run.sh and kit.sh (sourced): messages on stderr with the script's prefix,
# failure with a distinct exit status, and the usage text from the script's header comment.
# The sourcing script sets `prefix` (e.g. bench/gpu) and `usage_lines` (e.g. 2,27).
say() { printf '%s: %s\n' "$prefix" "$*" >&2; }
fail() {
  local status=$1
  shift
  printf '%s: %s\n' "$prefix" "$*" >&2
  exit "$status"
}
usage() { sed -n "${usage_lines}p" "$0" | sed 's/^# \{0,1\}//' >&2; }
