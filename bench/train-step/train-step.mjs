#!/usr/bin/env node
// One training step (forward + weighted log-likelihood loss + backward + AdamW)
// of a Qwen3-shaped decoder: masa-rl (ONNX Runtime graph from @masa-rl/onnx +
// AdamW in JS) against the same model in plain PyTorch on the CPU, one thread
// each, in the same run. Both start from the same weights and batch; the
// script checks that their losses agree before it trusts the timings.
//
//   pnpm --filter @masa-rl/onnx build && bash bench/train-step/setup.sh
//   node bench/train-step/train-step.mjs [--model small|tiny] [--batch 8] [--seq 256] [--steps 8] [--warmup 2]
//        [--device cpu|cuda] [--torch-device cpu|cuda] [--skip-torch] [--json]
//
// --json prints one JSON object (medians, every step's time, the ratio and its
// anchor) as the last line of stdout; bench/run.mjs reads it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createRng } from '../../packages/core/dist/index.js';
import { createAdamW, createSession, createTensorValue, grad, graphStats } from '../../packages/onnx/dist/index.js';
import { CONFIGS, buildDecoderLoss, parameterSpecs } from './decoder.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'small' },
    batch: { type: 'string', default: '8' },
    seq: { type: 'string', default: '256' },
    steps: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    'skip-torch': { type: 'boolean', default: false },
    device: { type: 'string', default: 'cpu' },
    'torch-device': { type: 'string', default: 'cpu' },
    json: { type: 'boolean', default: false },
  },
});
const config = CONFIGS[args.model];
if (!config) throw new Error(`unknown --model ${args.model}; choose ${Object.keys(CONFIGS).join(', ')}`);
for (const flag of ['device', 'torch-device']) {
  if (args[flag] !== 'cpu' && args[flag] !== 'cuda') throw new Error(`--${flag} must be cpu or cuda, got ${args[flag]}`);
}
const device = args.device;
const torchDevice = args['torch-device'];
const batch = Number(args.batch);
const seq = Number(args.seq);
const steps = Number(args.steps);
const warmup = Number(args.warmup);
const hyper = { learningRate: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };
const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// ---- Shared data: weights and one batch, written for the PyTorch side too.
const rng = createRng('bench-train-step');
const specs = parameterSpecs(config);
const weights = specs.map((spec) => {
  const count = spec.dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  const std = spec.kind === 'matrix' ? 1 / Math.sqrt(spec.dims[0]) : spec.kind === 'embedding' ? 0.02 : 0;
  for (let i = 0; i < count; i++) data[i] = spec.kind === 'norm' ? 1 : std * rng.normal();
  return data;
});
const ids = new BigInt64Array(batch * seq);
const targets = new BigInt64Array(batch * seq);
const mask = new BigInt64Array(batch * seq);
const positions = new BigInt64Array(batch * seq);
const tokenWeights = new Float32Array(batch * seq);
let realTokens = 0;
for (let b = 0; b < batch; b++) {
  const pad = b % 2 === 0 ? 0 : rng.int(1, Math.max(1, Math.floor(seq / 8))); // left padding on odd rows
  for (let t = 0; t < seq; t++) {
    const i = b * seq + t;
    const real = t >= pad;
    ids[i] = BigInt(real ? rng.int(0, config.vocab - 1) : 0);
    targets[i] = BigInt(rng.int(0, config.vocab - 1));
    mask[i] = real ? 1n : 0n;
    positions[i] = BigInt(real ? t - pad : 0);
    if (real) realTokens++;
  }
}
for (let i = 0; i < tokenWeights.length; i++) tokenWeights[i] = mask[i] === 1n ? 1 / realTokens : 0;

const folder = mkdtempSync(join(tmpdir(), 'masa-train-step-'));
const manifest = { config, batch, seq, hyper, parameters: [], inputs: {} };
specs.forEach((spec, index) => {
  const file = `param-${index}.bin`;
  writeFileSync(join(folder, file), weights[index]);
  manifest.parameters.push({ name: spec.name, dims: spec.dims, kind: spec.kind, file });
});
for (const [name, data] of Object.entries({ input_ids: ids, targets, attention_mask: mask, position_ids: positions, token_weights: tokenWeights })) {
  writeFileSync(join(folder, `${name}.bin`), data);
  manifest.inputs[name] = { file: `${name}.bin`, dtype: data instanceof Float32Array ? 'float32' : 'int64' };
}
writeFileSync(join(folder, 'manifest.json'), JSON.stringify(manifest));

// ---- masa-rl side.
const buildStart = performance.now();
const { loss, parameters } = buildDecoderLoss(config);
const { graph, gradientNames } = grad({ loss, wrt: parameters });
const stats = graphStats(graph);
// With device 'cuda' and no usable CUDA provider this throws RUNTIME_UNAVAILABLE
// with the install instructions: a GPU figure is never silently a CPU one.
let session;
try {
  session = await createSession({ model: graph, device });
} catch (error) {
  log(`bench/train-step: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
const buildMs = performance.now() - buildStart;
const feeds = {
  input_ids: createTensorValue('int64', [batch, seq], ids),
  targets: createTensorValue('int64', [batch, seq], targets),
  attention_mask: createTensorValue('int64', [batch, seq], mask),
  position_ids: createTensorValue('int64', [batch, seq], positions),
  token_weights: createTensorValue('float32', [batch, seq], tokenWeights),
};
specs.forEach((spec, index) => {
  feeds[spec.name] = createTensorValue('float32', spec.dims, weights[index]);
});
const optimizer = createAdamW({ parameters: weights, ...hyper, weightDecayMask: specs.map((spec) => spec.kind !== 'norm') });
const parameterCount = weights.reduce((a, w) => a + w.length, 0);
log(`model ${args.model} on ${session.device}: ${(parameterCount / 1e6).toFixed(2)}M parameters, ${batch}×${seq} = ${batch * seq} tokens; graph ${stats.liveNodes} nodes, built + loaded in ${buildMs.toFixed(0)} ms`);

let firstLoss;
async function masaStep() {
  const t0 = performance.now();
  const out = await session.run(feeds);
  const t1 = performance.now();
  firstLoss ??= out.loss.data[0];
  optimizer.step(gradientNames.map((name) => out[name].data));
  const t2 = performance.now();
  return { runMs: t1 - t0, optimizerMs: t2 - t1, stepMs: t2 - t0 };
}

// ---- PyTorch side: a child process that runs one step per request, so the two
// sides alternate step by step and share the machine's ups and downs.
function findPython() {
  const which = spawnSync('bash', ['-c', 'which -a python3; echo /usr/bin/python3'], { encoding: 'utf8' });
  for (const candidate of [...new Set(which.stdout.split('\n').filter(Boolean))]) {
    if (spawnSync(candidate, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}
const python = args['skip-torch'] ? undefined : findPython();
const torchSkipped = args['skip-torch']
  ? 'skipped by --skip-torch'
  : python === undefined
    ? 'no python3 can import torch: run bash bench/train-step/setup.sh'
    : undefined;
if (torchSkipped !== undefined) log(`PyTorch side skipped: ${torchSkipped}`);
let torchProcess;
let torchLines;
if (python) {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' };
  torchProcess = spawn(python, [join(here, 'torch_step.py'), folder, 'serve', torchDevice], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  torchLines = createInterface({ input: torchProcess.stdout })[Symbol.asyncIterator]();
}
async function torchStep() {
  torchProcess.stdin.write('step\n');
  const { value, done } = await torchLines.next();
  if (done) throw new Error('torch_step.py stopped early (see its error above)');
  return JSON.parse(value);
}

const masa = { runMs: [], optimizerMs: [], stepMs: [] };
const torch = { stepMs: [], loss: undefined, version: undefined };
const ratios = [];
for (let i = 0; i < warmup; i++) {
  await masaStep();
  if (python) {
    const first = await torchStep();
    torch.loss ??= first.loss;
    torch.version = first.torch_version;
  }
}
for (let i = 0; i < steps; i++) {
  // Alternate who goes first, so neither side always runs right after the other.
  let ours;
  let theirs;
  if (i % 2 === 0 || !python) {
    ours = await masaStep();
    if (python) theirs = await torchStep();
  } else {
    theirs = await torchStep();
    ours = await masaStep();
  }
  for (const key of Object.keys(masa)) masa[key].push(ours[key]);
  if (theirs) {
    torch.stepMs.push(theirs.ms);
    ratios.push(ours.stepMs / theirs.ms);
  }
  log(`step ${i + 1}: masa-rl ${ours.stepMs.toFixed(0)} ms${theirs ? `, PyTorch ${theirs.ms.toFixed(0)} ms` : ''}`);
}
if (torchProcess) {
  torchProcess.stdin.end();
  await new Promise((resolve) => torchProcess.on('close', resolve));
}
await session.release();
if (!process.env.KEEP) rmSync(folder, { recursive: true, force: true });
else log(`kept ${folder}`);

// ---- AdamW alone on exactly 10M parameters (10 tensors of 1M), as the issue asks.
const adamwParameters = Array.from({ length: 10 }, () => Float32Array.from({ length: 1_000_000 }, () => rng.normal() * 0.02));
const adamwGradients = adamwParameters.map((p) => Float32Array.from(p, () => rng.normal() * 1e-3));
const adamw10M = createAdamW({ parameters: adamwParameters, ...hyper });
adamw10M.step(adamwGradients);
const adamwTimes = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  adamw10M.step(adamwGradients);
  adamwTimes.push(performance.now() - t0);
}

const report = {
  model: args.model,
  device: session.device,
  parameters: parameterCount,
  tokens: batch * seq,
  batch,
  seq,
  masa: {
    stepMs: median(masa.stepMs),
    forwardBackwardMs: median(masa.runMs),
    adamwMs: median(masa.optimizerMs),
    firstLoss,
    graphNodes: stats.liveNodes,
    adamw10MParametersMs: median(adamwTimes),
    stepMsAll: masa.stepMs,
  },
  torch: python
    ? { stepMs: median(torch.stepMs), firstLoss: torch.loss, version: torch.version, device: torchDevice, python, stepMsAll: torch.stepMs }
    : undefined,
  torchSkipped,
  threads: { onnxruntimeIntraOp: 1, torch: 1 },
};
if (report.torch) {
  report.ratio = report.masa.stepMs / report.torch.stepMs;
  report.medianPairedRatio = median(ratios);
  report.pairedRatios = ratios;
  report.lossRelativeDifference = Math.abs(firstLoss - torch.loss) / Math.abs(torch.loss);
}
if (args.json) console.log(JSON.stringify(report));
else {
  console.log(`train step, ${report.model} (${(parameterCount / 1e6).toFixed(2)}M params), ${batch}×${seq} tokens, 1 thread`);
  console.log(`  masa-rl : ${report.masa.stepMs.toFixed(0)} ms/step (forward+backward ${report.masa.forwardBackwardMs.toFixed(0)} ms, AdamW ${report.masa.adamwMs.toFixed(0)} ms), loss ${firstLoss.toFixed(6)}`);
  console.log(`  AdamW alone, 10.0M parameters (with grad-norm clipping): ${report.masa.adamw10MParametersMs.toFixed(0)} ms/step`);
  if (report.torch) {
    console.log(`  PyTorch : ${report.torch.stepMs.toFixed(0)} ms/step (torch ${report.torch.version}), loss ${report.torch.firstLoss.toFixed(6)}`);
    console.log(`  losses agree to ${report.lossRelativeDifference.toExponential(1)} relative`);
    console.log(`  ratio masa-rl / PyTorch = ${report.ratio.toFixed(2)}× (median of per-step ratios ${report.medianPairedRatio.toFixed(2)}×; target ≤ 1.00×)`);
  }
}
