#!/usr/bin/env node
// Where one decode step of masa-rl's rollout engine spends its time, and the bound that sets on decode speed.
//
//   pnpm --filter @masa-rl/rollout build && node bench/rollout/step-profile.mjs [--model tiny|small|0.6b|all]
//        [--batch 32] [--length N] [--weights initializers|inputs] [--threads 1] [--steps 60] [--json]
//
// It builds the engine's decode graph (experimental_buildDecodeGraph: the graph createOrtEngine runs every step) for
// one of bench/rollout's models, feeds a cache of N used slots in the engine's capacity (N × 1.25, in steps of 16;
// default: the average length of run.mjs's batch-32 runs — 48 for tiny/small, 24 for the 0.6B shape), and
//   1. times the step (median of --steps runs, --threads ORT threads (default one), no profiling),
//   2. runs it again under ONNX Runtime's profiler and sums the kernels' own times into
//      - linear layers: the projections, the MLP and the LM head (MatMul nodes whose left operand has rank ≤ 3),
//      - attention products: the two products over the cache (rank-5 operands),
//      - everything else (norms, rotary, softmax, TopK, splits, …; the largest are listed),
//   3. measures the machine's fp32 GEMM peak in the same process right before and after the plain run (2048³ MatMul, one
//      thread, best of 5, the higher of the two: the compute ceiling of run.mjs and pnpm bench) and reports the linear
//      layers' rate against it.
//
// The bound: if everything but the linear layers were free, a step would take their kernel time. At batch 32 that is
// the most this runtime's GEMMs allow, whatever the rest of the engine does; "of the ceiling" reads it the way run.mjs
// reads decode rates (GEMM peak ÷ 2 FLOPs per parameter per token). Kernel times under the profiler come out a little
// longer than in a plain run (run.mjs's rates are the plain ones).
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gemmSamples } from '../lib/gemm-probe.mjs';
import { median } from '../lib/stats.mjs';
import { decodeStepFeeds, engineSessionOptions, loadOrt } from './decode-feeds.mjs';
import { MODEL_FLAGS, createBenchModelFor } from './models.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const outDir = join(root, 'bench', '.out', 'rollout', 'step-profile');
const importPackage = (name) => import(join(root, 'packages', name, 'dist', 'index.js'));
const ort = loadOrt(root);

const DEFAULT_LENGTH = { tiny: 48, small: 48, '0.6b': 24 };

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'all' },
    batch: { type: 'string', default: '32' },
    length: { type: 'string' },
    weights: { type: 'string', default: 'initializers' },
    steps: { type: 'string', default: '60' },
    threads: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const names = values.model === 'all' ? ['tiny', 'small'] : [values.model];
const batch = Number(values.batch);
const steps = Number(values.steps);
const threads = Number(values.threads);
const usage = (message) => {
  process.stderr.write(`bench/rollout/step-profile: ${message}\n`);
  process.exit(2);
};
if (names.some((name) => !(name in MODEL_FLAGS))) usage(`--model takes tiny, small, 0.6b or all, got ${values.model}`);
if (!Number.isInteger(batch) || batch < 1) usage(`--batch takes a whole number ≥ 1, got ${values.batch}`);
if (!Number.isInteger(threads) || threads < 1) usage(`--threads takes a whole number ≥ 1, got ${values.threads}`);
if (!Number.isInteger(steps) || steps < 5) usage(`--steps takes a whole number ≥ 5, got ${values.steps}`);
if (values.weights !== 'initializers' && values.weights !== 'inputs') usage(`--weights takes initializers or inputs, got ${values.weights}`);
if (values.length !== undefined && !(Number.isInteger(Number(values.length)) && Number(values.length) >= 1)) usage(`--length takes a whole number ≥ 1, got ${values.length}`);

/** The 2048³ fp32 GEMM probe of bench/lib/roofline.mjs, in this process: GFLOP/s, best of 5. */
const gemmPeak = async () => Math.max(...(await gemmSamples(root, 2048, 5)));

async function profileModel(name) {
  const { experimental_buildDecodeGraph: buildDecodeGraph } = await importPackage('rollout');
  const { MAX_INLINE_MODEL_BYTES, createExternalDataFile, saveModel, serializeGraph } = await importPackage('onnx');
  const { config, weights, parameters, linearParameters } = await createBenchModelFor(root, name);
  const frozen = values.weights === 'initializers';
  const graph = buildDecodeGraph(config, frozen ? weights : 'inputs');
  // Past protobuf's 2 GiB (the 0.6B shape, frozen) the weights go to ONNX external data, as the engine does.
  let model;
  if (frozen && parameters * 4 > MAX_INLINE_MODEL_BYTES) {
    mkdirSync(outDir, { recursive: true });
    model = join(outDir, `${name}.onnx`);
    const data = createExternalDataFile({ path: join(outDir, `${name}.onnx.data`) });
    await saveModel({ model: graph, path: model, externalData: data });
    data.close();
  } else model = serializeGraph(graph);

  const length = values.length === undefined ? DEFAULT_LENGTH[name] : Number(values.length);
  const { feeds, capacity } = await decodeStepFeeds({ root, config, batch, length, tensor: (dtype, dims, data) => new ort.Tensor(dtype, data, dims), ...(frozen ? {} : { weights }) });

  const options = engineSessionOptions(threads);
  const time = async (session, runs) => {
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await session.run(feeds);
      samples.push(performance.now() - started);
    }
    return samples;
  };
  // The GEMM peak moves with the machine's state (another tenant, clock speed): measured right before and right after
  // the plain run, and the higher of the two is the ceiling (the lower ratio).
  const peakBefore = await gemmPeak();
  const plain = await ort.InferenceSession.create(model, options);
  const stepMs = median(await time(plain, steps));
  await plain.release();
  const peakGflops = Math.max(peakBefore, await gemmPeak());

  mkdirSync(outDir, { recursive: true });
  const prefix = join(outDir, `ort-${name}-${process.pid}`);
  const profiled = await ort.InferenceSession.create(model, { ...options, enableProfiling: true, profileFilePrefix: prefix });
  const profiledRuns = steps + 3;
  await time(profiled, steps);
  profiled.endProfiling();
  await profiled.release();
  const file = readdirSync(outDir).find((entry) => join(outDir, entry).startsWith(prefix) && entry.endsWith('.json'));
  const events = JSON.parse(readFileSync(join(outDir, file), 'utf8'));
  rmSync(join(outDir, file));
  if (typeof model === 'string') rmSync(outDir, { recursive: true, force: true });

  const sums = { linear: 0, attention: 0, other: 0 };
  const otherByOp = new Map();
  for (const event of events) {
    if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time')) continue;
    const op = event.args.op_name;
    const shapes = (event.args.input_type_shape ?? []).map((entry) => Object.values(entry)[0]);
    const microseconds = event.dur / profiledRuns;
    if (op === 'MatMul' || op === 'FusedMatMul' || op === 'Gemm') {
      if ((shapes[0]?.length ?? 0) <= 3) sums.linear += microseconds;
      else sums.attention += microseconds;
    } else {
      sums.other += microseconds;
      otherByOp.set(op, (otherByOp.get(op) ?? 0) + microseconds);
    }
  }
  const ms = (microseconds) => Number((microseconds / 1000).toFixed(3));
  const linearFlops = 2 * batch * linearParameters;
  const linearGflops = linearFlops / (sums.linear / 1e6) / 1e9;
  const ceilingTokS = (peakGflops * 1e9) / (2 * parameters);
  const boundTokS = batch / (sums.linear / 1e6);
  return {
    model: name,
    parameters,
    linearParameters,
    weightMode: values.weights,
    threads,
    batch,
    cacheLength: length,
    cacheCapacity: capacity,
    stepMs: Number(stepMs.toFixed(3)),
    tokS: Math.round(batch / (stepMs / 1000)),
    profiledMs: { linear: ms(sums.linear), attention: ms(sums.attention), other: ms(sums.other) },
    otherLargestMs: Object.fromEntries([...otherByOp].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([op, microseconds]) => [op, ms(microseconds)])),
    gemmPeakGflops: Number(peakGflops.toFixed(1)),
    linearGflops: Number(linearGflops.toFixed(1)),
    linearOfPeak: Number((linearGflops / peakGflops).toFixed(3)),
    ceilingTokS: Number(ceilingTokS.toFixed(1)),
    stepOfCeiling: Number((batch / (stepMs / 1000) / ceilingTokS).toFixed(3)),
    linearOnlyBoundTokS: Math.round(boundTokS),
    linearOnlyBoundOfCeiling: Number((boundTokS / ceilingTokS).toFixed(3)),
  };
}

for (const name of names) {
  const row = await profileModel(name);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(row)}\n`);
    continue;
  }
  const { profiledMs: p } = row;
  const total = p.linear + p.attention + p.other;
  const share = (part) => `${((part / total) * 100).toFixed(0)}%`;
  process.stdout.write(
    `${name} (${(row.parameters / 1e6).toFixed(1)}M, ${row.weightMode}, ${row.threads} thread${row.threads > 1 ? 's' : ''}) batch ${row.batch}, cache ${row.cacheLength} of ${row.cacheCapacity} slots:\n` +
      `  step ${row.stepMs} ms = ${row.tokS} tok/s = ${row.stepOfCeiling} of the ${row.threads > 1 ? 'one-thread ' : ''}compute ceiling (${row.ceilingTokS} tok/s at ${row.gemmPeakGflops} GFLOP/s)\n` +
      `  profiled kernels: linear layers ${p.linear} ms (${share(p.linear)}), attention products ${p.attention} ms (${share(p.attention)}), the rest ${p.other} ms (${share(p.other)}: ` +
      `${Object.entries(row.otherLargestMs).map(([op, value]) => `${op} ${value}`).join(', ')})\n` +
      `  linear layers at ${row.linearGflops} GFLOP/s = ${row.linearOfPeak} of the 2048³ peak; with everything else free: ${row.linearOnlyBoundTokS} tok/s = ${row.linearOnlyBoundOfCeiling} of the ceiling\n`,
  );
}
