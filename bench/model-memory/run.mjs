#!/usr/bin/env node
// Qwen3-0.6B-shaped model (28 layers, hidden 1,024, vocab 151,936, 16 q / 8 kv heads,
// head_dim 128, intermediate 3,072, tied) with random weights: write it as a real
// Hugging Face folder (bf16 safetensors), then, in a fresh process, load it (streamed
// into float32 arrays), build the decode graph with the weights as zero-copy inputs,
// prefill a prompt and decode greedily. Reports the peak resident memory against the
// size of one float32 copy of the weights.
//
//   pnpm --filter @masa-rl/model build && node bench/model-memory/run.mjs [--tokens N] [--fresh] [--json]
//
// --json prints the whole report (the figures and their anchor, one weight copy) as one
// JSON line on stdout instead of the text summary; bench/run.mjs reads it.
//
// The model folder lives in bench/.out/model-memory/ (git-ignored) and is reused across
// runs; --fresh regenerates it. Not part of the test suite (it needs ~3 GB of RAM and
// about a minute).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const outDir = join(root, 'bench', '.out', 'model-memory');
const modelDir = join(outDir, 'qwen3-0.6b-random');
const modelPackage = join(root, 'packages', 'model', 'dist', 'index.js');

const QWEN3_0_6B = {
  architecture: 'qwen3',
  hiddenSize: 1024,
  layers: 28,
  heads: 16,
  kvHeads: 8,
  headDim: 128,
  intermediateSize: 3072,
  vocabSize: 151936,
  tie: true,
  ropeTheta: 1_000_000,
  maxPositionEmbeddings: 40960,
  eosTokenId: 151645,
  bosTokenId: 151643,
};

function peakRssBytes() {
  return process.resourceUsage().maxRSS * 1024;
}
function rssBytes() {
  return process.memoryUsage().rss;
}
const gib = (bytes) => `${(bytes / 2 ** 30).toFixed(3)} GiB`;

async function create() {
  const { createRandomModel, countParameters } = await import(modelPackage);
  mkdirSync(modelDir, { recursive: true });
  const started = performance.now();
  const { config } = await createRandomModel({ modelDir, ...QWEN3_0_6B, seed: 'qwen3-0.6b', dtype: 'BF16' });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ phase: 'create', parameters: countParameters(config), seconds, peakRss: peakRssBytes() })}\n`);
}

async function decode(newTokens) {
  const baseline = rssBytes();
  const model = await import(modelPackage);
  const afterImports = rssBytes();
  const t0 = performance.now();
  const loaded = await model.loadModel({ modelDir, dtype: 'float32' });
  const loadSeconds = (performance.now() - t0) / 1000;
  const weightBytes = [...loaded.weights.values()].reduce((sum, data) => sum + data.byteLength, 0);
  const afterLoad = rssBytes();
  const peakAfterLoad = peakRssBytes();
  const runner = model.createModelRunner({ config: loaded.config, weights: loaded.weights });
  const prompt = Array.from({ length: 16 }, (_, i) => 1000 + 37 * i);
  const t1 = performance.now();
  const padded = model.leftPadBatch({ sequences: [prompt] });
  let result = await runner.step(padded);
  const prefillSeconds = (performance.now() - t1) / 1000;
  const tokens = [];
  const t2 = performance.now();
  for (let i = 0; i < newTokens; i++) {
    let best = 0;
    for (let v = 1; v < loaded.config.vocabSize; v++) if (result.logits[v] > result.logits[best]) best = v;
    tokens.push(best);
    const length = result.cache.length + 1;
    result = await runner.step({
      batch: 1,
      seq: 1,
      inputIds: BigInt64Array.of(BigInt(best)),
      attentionMask: new BigInt64Array(length).fill(1n),
      positionIds: BigInt64Array.of(BigInt(length - 1)),
      cache: result.cache,
    });
  }
  const decodeSeconds = (performance.now() - t2) / 1000;
  const peak = peakRssBytes();
  await runner.release();
  process.stdout.write(
    `${JSON.stringify({
      phase: 'decode',
      parameters: model.countParameters(loaded.config),
      weightBytes,
      baselineRss: baseline,
      rssAfterImports: afterImports,
      rssAfterLoad: afterLoad,
      peakRssAfterLoad: peakAfterLoad,
      peakRss: peak,
      loadSeconds,
      prefillSeconds,
      promptTokens: prompt.length,
      decodeSeconds,
      newTokens,
      tokensPerSecond: newTokens / decodeSeconds,
      generated: tokens,
      warnings: loaded.warnings,
    })}\n`,
  );
}

function runChild(args) {
  const child = spawnSync(process.execPath, ['--max-old-space-size=4096', fileURLToPath(import.meta.url), ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    maxBuffer: 1 << 24,
  });
  if (child.status !== 0) {
    process.stderr.write(child.stderr);
    throw new Error(`child ${args[0]} failed with status ${child.status}`);
  }
  const line = child.stdout.trim().split('\n').at(-1);
  return JSON.parse(line);
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child-create') return create();
  if (argv[0] === '--child-decode') return decode(Number(argv[1]));
  if (!existsSync(modelPackage)) {
    throw new Error(`build the model package first: pnpm --filter @masa-rl/model build (missing ${modelPackage})`);
  }
  const tokensFlag = argv.indexOf('--tokens');
  const newTokens = tokensFlag >= 0 ? Number(argv[tokensFlag + 1]) : 8;
  if (argv.includes('--fresh')) rmSync(modelDir, { recursive: true, force: true });
  let created = null;
  if (!existsSync(join(modelDir, 'model.safetensors'))) created = runChild(['--child-create']);
  const result = runChild(['--child-decode', String(newTokens)]);
  const overWeights = result.peakRss - result.rssAfterImports;
  const report = {
    model: 'Qwen3-0.6B shape, random weights, bf16 on disk, float32 in memory',
    created,
    ...result,
    peakOverBaselineInWeightCopies: overWeights / result.weightBytes,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'result.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const lines = [
    `parameters            ${result.parameters.toLocaleString('en-US')}`,
    `float32 weights       ${gib(result.weightBytes)}  (one copy)`,
    `rss after imports     ${gib(result.rssAfterImports)}`,
    `rss after load        ${gib(result.rssAfterLoad)}  (load ${result.loadSeconds.toFixed(1)} s)`,
    `peak rss (whole run)  ${gib(result.peakRss)}  = imports + ${(overWeights / result.weightBytes).toFixed(2)} × weights`,
    `prefill               ${result.promptTokens} tokens in ${result.prefillSeconds.toFixed(2)} s`,
    `decode                ${result.newTokens} tokens in ${result.decodeSeconds.toFixed(2)} s = ${result.tokensPerSecond.toFixed(2)} tok/s (anchor: transformers.js 6.3–6.7 tok/s, roofline ≈ 7.6)`,
  ];
  if (created !== null) lines.unshift(`created the folder in ${created.seconds.toFixed(1)} s (peak rss ${gib(created.peakRss)})`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
