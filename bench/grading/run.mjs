#!/usr/bin/env node
// Math-grading throughput benchmark (issue 2, acceptance 8).
//
//   pnpm --filter @masa-rl/scoring build && node bench/grading/run.mjs [--rounds 3] [--json]
//
// Grades MATH-500 golds against value-preserving rewrites (and against
// last-digit changes, which need the full comparison) through a grading pool
// of ONE worker thread, so the numbers are per core, and also in-process
// without the pool. Prints pairs/s, p50/p99 time per pair, and whether the
// target of 1,000 pairs/s was reached. Not part of the test suite.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET = 1000;

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1]) || 3;
const asJson = args.includes('--json');

let scoring;
let testing;
try {
  scoring = await import(join(root, 'packages/scoring/dist/index.js'));
  testing = await import(join(root, 'packages/scoring/dist/test.js'));
} catch (error) {
  process.stderr.write(`bench/grading: build the package first: pnpm --filter @masa-rl/scoring build (${error.message})\n`);
  process.exit(1);
}
const { createGradePool, mathEqual } = scoring;
const { rewriteGold, changeLastDigit, readGolds } = testing;

const golds = readGolds(root, 'math500');

/** Pairs for one round: every gold against a rewrite, and (where it has a digit) against a changed digit. */
function pairsFor(round) {
  const rewrites = golds.map((gold, i) => ({ gold, pred: rewriteGold(gold, i + round).text, expect: true }));
  const changed = golds.flatMap((gold) => {
    const pred = changeLastDigit(gold);
    return pred === undefined ? [] : [{ gold, pred, expect: false }];
  });
  return { rewrites, changed };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function stats(label, times, wallMs, wrong) {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    label,
    pairs: times.length,
    pairsPerSecond: (times.length / wallMs) * 1000,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1],
    wrongVerdicts: wrong,
  };
}

async function poolRound(pool, pairs, label) {
  const start = performance.now();
  const verdicts = await pool.gradeAll(pairs.map(({ gold, pred }) => ({ kind: 'math', gold, pred })));
  const wall = performance.now() - start;
  const wrong = verdicts.filter((v, i) => v.equal !== pairs[i].expect || v.status !== 'ok').length;
  return stats(label, verdicts.map((v) => v.ms), wall, wrong);
}

function syncRound(pairs, label) {
  const times = [];
  let wrong = 0;
  const start = performance.now();
  for (const { gold, pred, expect } of pairs) {
    const t = performance.now();
    const decision = mathEqual(gold, pred);
    times.push(performance.now() - t);
    if (decision.equal !== expect) wrong++;
  }
  return stats(label, times, performance.now() - start, wrong);
}

const results = [];
// One worker = one core. Warm it up on pairs that are not in the benchmark.
const pool = createGradePool({ size: 1, deadlineMs: 2000 });
await pool.gradeAll([
  { kind: 'math', gold: '\\frac{1}{7}', pred: '1/7' },
  { kind: 'math', gold: '(1,2]', pred: '(1,2)' },
  { kind: 'math', gold: 'x^2-1', pred: '(x-1)(x+1)' },
]);
for (let round = 0; round < rounds; round++) {
  const { rewrites, changed } = pairsFor(round);
  results.push({ round, ...(await poolRound(pool, rewrites, 'pool(1 worker): gold vs rewrite')) });
  results.push({ round, ...(await poolRound(pool, changed, 'pool(1 worker): gold vs changed digit')) });
}
await pool.close();
mathEqual('1', '1');
for (let round = 0; round < rounds; round++) {
  const { rewrites, changed } = pairsFor(round);
  results.push({ round, ...syncRound(rewrites, 'in-process: gold vs rewrite') });
  results.push({ round, ...syncRound(changed, 'in-process: gold vs changed digit') });
}

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} logical cores, Node ${process.version}, load average ${loadavg()[0]?.toFixed(2)} at the end`;
// The figure that counts: the first (cold-cache) round through the pool, every pair of it.
const headline = results.filter((r) => r.round === 0 && r.label.startsWith('pool'));
const pairsTotal = headline.reduce((a, r) => a + r.pairs, 0);
const secondsTotal = headline.reduce((a, r) => a + r.pairs / r.pairsPerSecond, 0);
const headlineRate = pairsTotal / secondsTotal;
const p99 = Math.max(...headline.map((r) => r.p99Ms));
const reached = headlineRate >= TARGET;

if (asJson) {
  process.stdout.write(`${JSON.stringify({ machine, target: TARGET, headline: { pairsPerSecond: headlineRate, p99Ms: p99, reached }, results })}\n`);
} else {
  process.stdout.write(`math grading benchmark — ${machine}\n`);
  process.stdout.write(`${golds.length} MATH-500 golds; ${rounds} round(s); later rounds reuse the parse cache of the golds\n\n`);
  for (const r of results) {
    process.stdout.write(
      `round ${r.round}  ${r.label.padEnd(40)} ${String(r.pairs).padStart(4)} pairs  ${r.pairsPerSecond.toFixed(0).padStart(6)} pairs/s  p50 ${r.p50Ms.toFixed(3)} ms  p99 ${r.p99Ms.toFixed(2)} ms  max ${r.maxMs.toFixed(1)} ms${r.wrongVerdicts ? `  WRONG VERDICTS: ${r.wrongVerdicts}` : ''}\n`,
    );
  }
  process.stdout.write(
    `\nheadline (round 0 through the pool, one worker): ${headlineRate.toFixed(0)} pairs/s, p99 ${p99.toFixed(2)} ms per pair — target ${TARGET} pairs/s: ${reached ? 'REACHED' : 'NOT REACHED'}\n`,
  );
}
