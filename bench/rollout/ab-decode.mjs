#!/usr/bin/env node
// Is a change to the engine's decode graph faster? Two builds of @masa-rl/rollout's decode graph, the same model,
// weights and feeds, timed in one process in alternating blocks of steps (A B, then B A), so that the machine's
// drift (clock, another tenant) falls on both alike. On these VMs two separate runs of the same graph differ by
// ±10%, which hides the few percent a graph change is worth; the ratio of neighbouring blocks does not.
//
//   node bench/rollout/ab-decode.mjs --save before       # snapshot the current build (packages/rollout/dist)
//   … edit packages/rollout/src/rollout-graph.ts, pnpm --filter @masa-rl/rollout build …
//   node bench/rollout/ab-decode.mjs --against before [--model tiny|small|0.6b] [--threads 1]
//        [--weights initializers|inputs] [--batch 32] [--length 48] [--rounds 30] [--block 20] [--json]
//
// Prints the median step of each build and the median (with quartiles) of the per-round ratio current ÷ saved:
// below 1 is faster. Also the largest logit difference between the two on the same feeds (both compute the same
// function; a graph change that rounds differently shows there). Snapshots live in packages/rollout/.ab/<name>/
// (ignored by git), where the build's own imports resolve.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median, quantileSorted } from '../lib/stats.mjs';
import { decodeStepFeeds, engineSessionOptions, loadOrt } from './decode-feeds.mjs';
import { MODEL_FLAGS, createBenchModelFor } from './models.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'packages', 'rollout', 'dist');
const snapshots = join(root, 'packages', 'rollout', '.ab');

const usage = (message) => {
  process.stderr.write(`bench/rollout/ab-decode: ${message}\nusage: node bench/rollout/ab-decode.mjs --save NAME | --against NAME [--model tiny] [--threads 1] [--weights initializers] [--batch 32] [--length 48] [--rounds 30] [--block 20] [--json]\n`);
  process.exit(2);
};
let values;
try {
  ({ values } = parseArgs({
    options: {
      save: { type: 'string' },
      against: { type: 'string' },
      model: { type: 'string', default: 'tiny' },
      threads: { type: 'string', default: '1' },
      weights: { type: 'string', default: 'initializers' },
      batch: { type: 'string', default: '32' },
      length: { type: 'string', default: '48' },
      rounds: { type: 'string', default: '30' },
      block: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
    },
  }));
} catch (error) {
  usage(error instanceof Error ? error.message : String(error));
}
const validName = (name) => /^[A-Za-z0-9_.-]+$/.test(name) && name !== '.' && name !== '..';
if (!existsSync(join(dist, 'index.js'))) usage('packages/rollout/dist is not built: pnpm --filter @masa-rl/rollout build');

if (values.save !== undefined) {
  if (!validName(values.save)) usage(`--save takes a name of letters, digits, '.', '_' and '-', got '${values.save}'`);
  const target = join(snapshots, values.save);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(snapshots, { recursive: true });
  cpSync(dist, target, { recursive: true });
  process.stderr.write(`bench/rollout/ab-decode: saved packages/rollout/dist as '${values.save}' (packages/rollout/.ab/${values.save})\n`);
  process.exit(0);
}
if (values.against === undefined) usage('say --save NAME (snapshot the current build) or --against NAME (time the current build against it)');
if (!validName(values.against) || !existsSync(join(snapshots, values.against, 'index.js'))) usage(`no snapshot '${values.against}': make it first with --save ${values.against}`);
const int = (flag, low) => {
  const number = Number(values[flag]);
  if (!Number.isInteger(number) || number < low) usage(`--${flag} takes a whole number ≥ ${low}, got ${values[flag]}`);
  return number;
};
const [threads, batch, length, rounds, block] = [int('threads', 1), int('batch', 1), int('length', 1), int('rounds', 4), int('block', 1)];
if (!(values.model in MODEL_FLAGS)) usage(`--model takes tiny, small or 0.6b, got ${values.model}`);
if (values.weights !== 'initializers' && values.weights !== 'inputs') usage(`--weights takes initializers or inputs, got ${values.weights}`);

const ort = loadOrt(root);
const { serializeGraph } = await import(pathToFileURL(join(root, 'packages', 'onnx', 'dist', 'index.js')).href);
const saved = await import(pathToFileURL(join(snapshots, values.against, 'index.js')).href);
const current = await import(pathToFileURL(join(dist, 'index.js')).href);

const { config, weights } = await createBenchModelFor(root, values.model);
const frozen = values.weights === 'initializers';
const { feeds, capacity } = await decodeStepFeeds({ root, config, batch, length, tensor: (dtype, dims, data) => new ort.Tensor(dtype, data, dims), ...(frozen ? {} : { weights }) });
const options = engineSessionOptions(threads);
const open = (build) => ort.InferenceSession.create(serializeGraph(build.experimental_buildDecodeGraph(config, frozen ? weights : 'inputs')), options);
const sessions = { saved: await open(saved), current: await open(current) };

const [a, b] = [(await sessions.saved.run(feeds)).logits.data, (await sessions.current.run(feeds)).logits.data];
let maxLogitDifference = 0;
for (let i = 0; i < a.length; i++) maxLogitDifference = Math.max(maxLogitDifference, Math.abs(a[i] - b[i]));

/** Mean milliseconds of a step over `block` consecutive steps. */
const time = async (session) => {
  const started = performance.now();
  for (let i = 0; i < block; i++) await session.run(feeds);
  return (performance.now() - started) / block;
};
for (let i = 0; i < 2; i++) for (const session of Object.values(sessions)) await time(session); // warm-up
const savedMs = [];
const currentMs = [];
const ratios = [];
for (let round = 0; round < rounds; round++) {
  let x;
  let y;
  if (round % 2 === 0) {
    x = await time(sessions.saved);
    y = await time(sessions.current);
  } else {
    y = await time(sessions.current);
    x = await time(sessions.saved);
  }
  savedMs.push(x);
  currentMs.push(y);
  ratios.push(y / x);
}
for (const session of Object.values(sessions)) await session.release();

const sorted = [...ratios].sort((p, q) => p - q);
const row = {
  model: values.model,
  weights: values.weights,
  threads,
  batch,
  cacheLength: length,
  cacheCapacity: capacity,
  rounds,
  block,
  savedStepMs: Number(median(savedMs).toFixed(3)),
  currentStepMs: Number(median(currentMs).toFixed(3)),
  ratio: Number(median(ratios).toFixed(3)),
  ratioQuartiles: [Number(quantileSorted(sorted, 0.25).toFixed(3)), Number(quantileSorted(sorted, 0.75).toFixed(3))],
  maxLogitDifference,
};
if (values.json) process.stdout.write(`${JSON.stringify(row)}\n`);
else {
  process.stdout.write(
    `${row.model} (${row.weights}, ${threads} thread${threads > 1 ? 's' : ''}) batch ${batch}, cache ${length} of ${capacity} slots, ${rounds} rounds of ${block} steps:\n` +
      `  '${values.against}' ${row.savedStepMs} ms, current ${row.currentStepMs} ms a step; current ÷ '${values.against}' ${row.ratio} (quartiles ${row.ratioQuartiles.join('–')}; below 1 is faster)\n` +
      `  largest logit difference between the two: ${maxLogitDifference.toExponential(2)}\n`,
  );
}
