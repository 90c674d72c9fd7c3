#!/usr/bin/env node
// Cost of drawing one token from one row of logits with @masa-rl/rollout's sampler, by
// setting, on a Qwen-sized vocabulary (151,936 ids), against a full sort of the row (what a
// naive top-k/top-p does). Rows are random normal logits (σ = 2); medians of 5 rounds.
//
//   pnpm --filter @masa-rl/rollout build && node bench/rollout/sampler.mjs [--vocab 151936]
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { createSampler } = await import(join(root, 'packages', 'rollout', 'dist', 'index.js'));
const { createRng } = await import(join(root, 'packages', 'core', 'dist', 'index.js'));

const vocabFlag = process.argv.indexOf('--vocab');
const vocab = vocabFlag >= 0 ? Number(process.argv[vocabFlag + 1]) : 151_936;
const rng = createRng('sampler-bench');
const rows = Array.from({ length: 8 }, () => Float32Array.from({ length: vocab }, () => 2 * rng.normal()));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function time(label, run, perRound = 50) {
  for (let i = 0; i < 10; i++) run(i);
  const rounds = [];
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    for (let i = 0; i < perRound; i++) run(i);
    rounds.push((performance.now() - started) / perRound);
  }
  process.stdout.write(`${label.padEnd(44)} ${median(rounds).toFixed(3)} ms/row\n`);
}

const heap = createSampler({ vocabSize: vocab });
const quick = createSampler({ vocabSize: vocab, heapTopKLimit: 1 });
const settings = (temperature, topK, topP) => ({ temperature, topK, topP });
process.stdout.write(`vocabulary ${vocab}\n`);
time('greedy (argmax)', (i) => heap.sample(rows[i % 8], settings(0, 0, 1), rng));
for (const k of [50, 300, 4000]) {
  time(`top-k ${k}, heap`, (i) => heap.sample(rows[i % 8], settings(1, k, 1), rng));
  time(`top-k ${k}, quickselect`, (i) => quick.sample(rows[i % 8], settings(1, k, 1), rng));
}
time('full softmax (T = 1, no filter)', (i) => heap.sample(rows[i % 8], settings(1, 0, 1), rng));
time('full softmax + raw logprob (T = 0.7)', (i) => heap.sample(rows[i % 8], settings(0.7, 0, 1), rng, { returnRawLogprob: true }));
time('top-p 0.9 (mass quickselect)', (i) => heap.sample(rows[i % 8], settings(1, 0, 0.9), rng));
time('top-k 50 then top-p 0.9', (i) => heap.sample(rows[i % 8], settings(1, 50, 0.9), rng));
time('reference: full sort of the row', (i) => {
  const row = rows[i % 8];
  const order = Int32Array.from({ length: vocab }, (_, id) => id);
  order.sort((a, b) => row[b] - row[a] || a - b);
}, 5);
