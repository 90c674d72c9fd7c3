#!/usr/bin/env node
// The machine's ceilings, measured now, for the rooflines the benchmarks are
// compared against:
//   - read bandwidth for a working set of each --bytes size (decode at batch 1
//     reads every weight once per token: tokens/s ≤ bandwidth ÷ weight bytes);
//   - fp32 GEMM throughput of ONNX Runtime on one thread (--gemm N: an N×N×N
//     MatMul; decode at large batch is bound by 2 FLOPs per parameter per token).
//
//   node bench/lib/roofline.mjs [--bytes 536870912,8924160] [--gemm 2048] [--reps 5] [--json]
//
// Bandwidth: bandwidth.c compiled with the system C compiler (cached in
// bench/.out/), best of --reps, as STREAM reports. Without a C compiler it falls
// back to ONNX Runtime's ReduceSum over the same buffer (slower than the
// hardware allows; the result says which method was used).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gemmSamples } from './gemm-probe.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const importOnnx = () => import(join(root, 'packages', 'onnx', 'dist', 'index.js'));

/** Compiles the probe once per source version; returns the binary path or the compilers' errors. */
function compileProbe() {
  const source = join(here, 'bandwidth.c');
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const folder = join(root, 'bench', '.out', 'roofline');
  const binary = join(folder, `bandwidth-${hash}`);
  if (existsSync(binary)) return { binary };
  mkdirSync(folder, { recursive: true });
  const errors = [];
  for (const compiler of ['cc', 'gcc', 'clang']) {
    const result = spawnSync(compiler, ['-O3', '-march=native', '-ffast-math', '-o', binary, source], { encoding: 'utf8' });
    if (result.status === 0) return { binary };
    errors.push(`${compiler}: ${result.error?.message ?? result.stderr.trim().split('\n')[0]}`);
  }
  return { error: errors.join('; ') };
}

async function ortBandwidth(bytes, reps) {
  const onnx = await importOnnx();
  const n = Math.floor(bytes / 4);
  const graph = onnx.createGraph();
  graph.output('sum', onnx.reduceSum(graph.input('x', 'float32', [n])));
  const session = await onnx.createSession({ model: graph });
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = i & 7;
  const feeds = { x: onnx.createTensorValue('float32', [n], data) };
  const sweeps = Math.ceil(2 ** 30 / (n * 4));
  await session.run(feeds);
  const samples = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    for (let s = 0; s < sweeps; s++) await session.run(feeds);
    samples.push((sweeps * n * 4) / ((performance.now() - start) / 1000) / 1e9);
  }
  await session.release();
  return samples;
}

const { values } = parseArgs({
  options: {
    bytes: { type: 'string', default: String(512 * 2 ** 20) },
    gemm: { type: 'string' },
    reps: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const sizes = values.bytes.split(',').filter((text) => text !== '').map(Number);
const reps = Number(values.reps);
const gemm = values.gemm === undefined ? undefined : Number(values.gemm);
if (sizes.some((size) => !Number.isInteger(size) || size < 4096) || !Number.isInteger(reps) || reps < 1 || (gemm !== undefined && !(Number.isInteger(gemm) && gemm >= 64))) {
  process.stderr.write('bench/lib/roofline: --bytes takes whole numbers ≥ 4096 (comma-separated), --reps a whole number ≥ 1, --gemm a size ≥ 64\n');
  process.exit(2);
}

const result = { bandwidth: [], gemm: undefined };
const probe = sizes.length > 0 ? compileProbe() : undefined;
if (probe !== undefined && !('binary' in probe)) {
  process.stderr.write(`bench/lib/roofline: no C compiler (${probe.error}); measuring bandwidth with ONNX Runtime's ReduceSum instead (slower than the hardware allows)\n`);
}
for (const bytes of sizes) {
  let samples;
  let method;
  if (probe !== undefined && 'binary' in probe) {
    const run = spawnSync(probe.binary, [String(bytes), String(reps)], { encoding: 'utf8' });
    if (run.status !== 0) {
      process.stderr.write(`bench/lib/roofline: the bandwidth probe failed: ${run.stderr}\n`);
      process.exit(1);
    }
    samples = run.stdout.trim().split('\n').map((line) => Number(line.split(' ')[0]));
    method = 'C sequential read, best of reps';
  } else {
    samples = await ortBandwidth(bytes, reps);
    method = 'ONNX Runtime ReduceSum (no C compiler), best of reps';
  }
  result.bandwidth.push({ bytes, gbPerSecond: Math.max(...samples), samples, method });
}
if (gemm !== undefined) {
  const samples = await gemmSamples(root, gemm, reps);
  result.gemm = { n: gemm, gflopsPerSecond: Math.max(...samples), samples, method: 'ONNX Runtime MatMul, one thread, best of reps' };
}
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  for (const entry of result.bandwidth) {
    process.stdout.write(`read bandwidth, ${(entry.bytes / 2 ** 20).toFixed(1)} MiB working set: ${entry.gbPerSecond.toFixed(2)} GB/s (${entry.samples.map((s) => s.toFixed(2)).join(', ')}; ${entry.method})\n`);
  }
  if (result.gemm) process.stdout.write(`fp32 GEMM ${gemm}³: ${result.gemm.gflopsPerSecond.toFixed(1)} GFLOP/s (${result.gemm.samples.map((s) => s.toFixed(1)).join(', ')})\n`);
}
