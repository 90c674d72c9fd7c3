/**
 * The grading pool: verdicts come back in order, a grade past its deadline
 * scores 0 as `timeout` and its worker is replaced, a throwing or crashing
 * or out-of-memory worker gives `error`, and the pool keeps working.
 */
import { MasaError } from '@masa-rl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGradePool, type GradePool } from './worker-pool.js';
import { ensureBuilt } from './test/ensure-built.js';

describe('createGradePool', () => {
  let pool: GradePool;

  beforeAll(() => {
    ensureBuilt();
    pool = createGradePool({ size: 2, deadlineMs: 2000, memoryMb: 64, _internal: { testHooks: true } });
  });

  afterAll(async () => {
    await pool.close();
  });

  it('grades math and choice requests like the synchronous grader, in input order', async () => {
    const verdicts = await pool.gradeAll([
      { kind: 'math', gold: '\\frac{1}{2}', pred: '0.5' },
      { kind: 'math', gold: '12345', pred: '12346' },
      { kind: 'math', gold: '12345', pred: '12346', mode: 'masa-parity' },
      { kind: 'choice', gold: 'C', response: 'so the answer is (C).' },
      { kind: 'math', gold: '3', response: 'We get \\boxed{3}.' },
    ]);
    expect(verdicts.map((v) => v.equal)).toEqual([true, false, true, true, true]);
    expect(verdicts.every((v) => v.status === 'ok')).toBe(true);
    expect(verdicts[4]?.extracted).toBe('3');
    expect(verdicts[0]?.reason).toBe('number-exact');
  });

  it('stops a grade at its deadline, scores it 0 as timeout, and replaces the worker', async () => {
    const before = pool.stats();
    const start = performance.now();
    const verdict = await pool.grade({ kind: 'math', gold: '1', pred: '1' }, { deadlineMs: 250, _internal: { hook: 'spin' } });
    const elapsed = performance.now() - start;
    expect(verdict).toMatchObject({ equal: false, status: 'timeout', reason: 'timeout' });
    expect(verdict.ms).toBeGreaterThanOrEqual(245);
    expect(elapsed).toBeLessThan(250 + 1000);
    const after = pool.stats();
    expect(after.timeouts).toBe(before.timeouts + 1);
    expect(after.restarts).toBe(before.restarts + 1);
    // The replacement worker grades normally.
    expect((await pool.grade({ kind: 'math', gold: '2', pred: '2.0' })).equal).toBe(true);
  });

  it('turns a throw inside the worker into status error', async () => {
    const verdict = await pool.grade({ kind: 'math', gold: '1', pred: '1' }, { _internal: { hook: 'throw' } });
    expect(verdict).toMatchObject({ equal: false, status: 'error' });
    expect(verdict.error).toContain('thrown from the worker');
  });

  it('survives a worker that exits or runs out of its heap limit', async () => {
    const exited = await pool.grade({ kind: 'math', gold: '1', pred: '1' }, { _internal: { hook: 'exit' } });
    expect(exited).toMatchObject({ equal: false, status: 'error', reason: 'worker-crashed' });
    const oom = await pool.grade({ kind: 'math', gold: '1', pred: '1' }, { deadlineMs: 30_000, _internal: { hook: 'allocate' } });
    expect(oom).toMatchObject({ equal: false, status: 'error', reason: 'worker-crashed' });
    expect(oom.error).toMatch(/memory/i);
    expect((await pool.grade({ kind: 'math', gold: 'x^2', pred: 'x\\cdot x' })).equal).toBe(true);
  });

  it('refuses test hooks unless the pool enables them', async () => {
    const plain = createGradePool({ size: 1 });
    try {
      const verdict = await plain.grade({ kind: 'math', gold: '1', pred: '1' }, { _internal: { hook: 'spin' } });
      expect(verdict.status).toBe('error');
      expect(verdict.error).toContain('disabled');
    } finally {
      await plain.close();
    }
  });

  it('rejects work after close with ABORTED, and bad options with ARGUMENT_INVALID', async () => {
    const closing = createGradePool({ size: 1 });
    await closing.close();
    await expect(closing.grade({ kind: 'math', gold: '1', pred: '1' })).rejects.toSatisfy((error: unknown) => MasaError.hasCode(error, 'ABORTED'));
    expect(() => createGradePool({ size: 0 })).toThrow(MasaError);
    expect(() => createGradePool({ deadlineMs: 0 })).toThrow(MasaError);
  });
});
