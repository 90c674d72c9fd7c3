#!/usr/bin/env node
// Regenerates datasets/synthetic/{train,validation,test}.jsonl, the fixed files of the
// synthetic arithmetic-chain task (TINY-TASK §1), deterministically from one seed.
//
//   pnpm --filter @masa-rl/datasets build
//   node packages/datasets/scripts/generate-synthetic.mjs
//   node packages/datasets/scripts/update-manifest.mjs --write   # refresh rows / sha256
//
// Problems are drawn from the harder RL mix and filed by a hash of their statement
// (arithSplitOf), so validation/test problems never occur in any training data.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateArithSplits, writeProblemsJsonl } from '../dist/index.js';

export const SEED = 'masa-rl synthetic-arith v1';
export const MIX = 'rl-hard';
export const SIZES = { train: 20_000, validation: 200, test: 500 };

const folder = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'datasets', 'synthetic');
const splits = generateArithSplits({ seed: SEED, sizes: SIZES, mix: MIX });
for (const [split, problems] of Object.entries(splits)) {
  await writeProblemsJsonl(join(folder, `${split}.jsonl`), problems);
  process.stderr.write(`wrote ${problems.length} problems to datasets/synthetic/${split}.jsonl\n`);
}
