/**
 * Issue 2, acceptance 5: 10,000 random and adversarial strings (deep nesting,
 * huge exponents, 100000!, unbalanced braces, megabyte inputs) through
 * extraction and grading. No crash, no item over its deadline + 1 s, memory
 * bounded (each worker has a heap limit; the main process does not grow).
 */
import { createRng } from '@masa-rl/core';
import type { GradeVerdict } from '@masa-rl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GradeRequest } from './grade.js';
import { createGradePool, type GradePool } from './worker-pool.js';
import { ensureBuilt } from './test/ensure-built.js';

const TOKENS = [
  '\\frac{', '}', '{', '(', ')', '[', ']', '\\{', '\\}', '\\left(', '\\right)', '\\sqrt', '\\sqrt[3]{', '^', '_', '^{', '\\pi', 'x', 'y', 'n',
  '1', '2', '9', '0', '.', ',', ' ', '+', '-', '=', '<', '\\le', '\\pm', '\\infty', '\\boxed{', '\\text{', '%', '\\%', '$', '!', '|',
  '\\cup', '\\begin{pmatrix}', '\\end{pmatrix}', '\\\\', '&', 'i', 'e', '\\sin', '\\log_{', '\\binom{', 'The answer is ', 'Answer:', '\n',
  'a', 'A', '(B)', '\\textbf{', '°', 'π', '\u0000', '😀',
];

function adversarialInputs(): string[] {
  const megabyte = 1 << 20;
  return [
    '{'.repeat(5000) + '1' + '}'.repeat(5000),
    '('.repeat(5000) + '1' + ')'.repeat(5000),
    '\\frac{'.repeat(2000) + '1' + '}{2}'.repeat(2000),
    '\\sqrt{'.repeat(3000) + '2' + '}'.repeat(3000),
    '10^{10^{10}}',
    '2^{2^{2^{2^{2}}}}',
    '9^{9^{9^{9}}}',
    '100000!',
    '(10^{6})!',
    '\\binom{10^{9}}{10^{5}}',
    '\\sum_{k=1}^{10^6} k',
    '\\frac{1}{2',
    '}}}}{{{{',
    '\\boxed{'.repeat(100_000),
    '1'.repeat(megabyte),
    '\\text{'.repeat(megabyte / 6),
    `${'. '.repeat(megabyte / 2)}x`,
    `${' '.repeat(megabyte)}x`,
    '$'.repeat(megabyte),
    Array.from({ length: 50_000 }, (_, i) => i).join(','),
    `\\begin{pmatrix}${'1 & '.repeat(20_000)}1\\end{pmatrix}`,
    `\\boxed{${'x+'.repeat(200_000)}1}`,
    `The answer is ${'('.repeat(100_000)}`,
    'x_{'.repeat(50_000),
    '\\left('.repeat(30_000),
    `${'1,'.repeat(64)}1`,
    `\\{${'1\\pm'.repeat(200)}1\\}`,
  ];
}

describe('10,000 random and adversarial strings through extraction and grading', () => {
  let pool: GradePool;
  const DEADLINE_MS = 2000;
  const SHORT_DEADLINE_MS = 400;

  beforeAll(() => {
    ensureBuilt();
    pool = createGradePool({ size: 2, deadlineMs: DEADLINE_MS, memoryMb: 256 });
  });

  afterAll(async () => {
    await pool.close();
  });

  it('never crashes, never runs past its deadline + 1 s, keeps memory bounded', async () => {
    const rng = createRng('adversarial-grading');
    const golds = ['\\frac{1}{2}', '42', '(3,4]', 'x^2+1', '\\text{(B)}', '204_5', '1,2,3', 'x=5', '\\begin{pmatrix}1\\\\2\\end{pmatrix}', 'B'];
    const jobs: Array<{ request: GradeRequest; deadlineMs: number }> = [];
    const adversarial = adversarialInputs();
    for (const [k, text] of adversarial.entries()) {
      const gold = golds[k % golds.length] as string;
      jobs.push({ request: { kind: 'math', gold, response: text }, deadlineMs: SHORT_DEADLINE_MS });
      jobs.push({ request: { kind: 'math', gold: text.slice(0, 30_000), pred: gold, mode: k % 2 === 0 ? 'correct' : 'masa-parity' }, deadlineMs: SHORT_DEADLINE_MS });
      jobs.push({ request: { kind: 'choice', gold: 'B', response: text, mode: k % 2 === 0 ? 'masa-parity' : 'correct' }, deadlineMs: SHORT_DEADLINE_MS });
    }
    while (jobs.length < 10_000) {
      const length = rng.int(0, 40);
      let text = '';
      for (let t = 0; t < length; t++) text += rng.pick(TOKENS);
      const gold = rng.pick(golds);
      const roll = rng.next();
      const request: GradeRequest =
        roll < 0.45
          ? { kind: 'math', gold, response: text, mode: rng.next() < 0.8 ? 'correct' : 'masa-parity' }
          : roll < 0.9
            ? { kind: 'math', gold, pred: text, mode: rng.next() < 0.8 ? 'correct' : 'masa-parity' }
            : { kind: 'choice', gold: 'B', response: text, mode: rng.next() < 0.5 ? 'correct' : 'masa-parity' };
      jobs.push({ request, deadlineMs: DEADLINE_MS });
    }
    const rssBefore = process.memoryUsage().rss;
    const verdicts: GradeVerdict[] = await Promise.all(jobs.map((job) => pool.grade(job.request, { deadlineMs: job.deadlineMs })));
    const rssAfter = process.memoryUsage().rss;

    expect(verdicts).toHaveLength(10_000);
    const late: string[] = [];
    verdicts.forEach((verdict, index) => {
      expect(['ok', 'timeout', 'error']).toContain(verdict.status);
      expect(typeof verdict.equal).toBe('boolean');
      if (verdict.status !== 'ok') expect(verdict.equal).toBe(false);
      const deadline = (jobs[index] as { deadlineMs: number }).deadlineMs;
      if (verdict.ms > deadline + 1000) late.push(`${index}: ${verdict.ms.toFixed(0)} ms (${verdict.status})`);
    });
    expect(late).toEqual([]);
    // The cheap random strings all finish well inside their deadline.
    const randomTimeouts = verdicts.slice(adversarial.length * 3).filter((v) => v.status !== 'ok').length;
    expect(randomTimeouts).toBe(0);
    // The main process holds no grading state: its resident memory grows by far less than the inputs' worst case.
    expect(rssAfter - rssBefore).toBeLessThan(400 * 1024 * 1024);
    const stats = pool.stats();
    // eslint-disable-next-line no-console -- the counts are part of the acceptance report
    console.info(`adversarial grading: ${stats.graded} graded, ${stats.timeouts} timeouts, ${stats.errors} errors, ${stats.restarts} worker restarts`);
  }, 120_000);
});
