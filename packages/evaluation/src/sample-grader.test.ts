import type { GradeVerdict, Problem } from '@masa-rl/core';
import type { GradeCodeOptions, GradePool, GradePoolOptions, GradeRequest } from '@masa-rl/scoring';
import { describe, expect, it } from 'vitest';
import { createSampleGrader } from './sample-grader.js';

const verdict = (equal: boolean): GradeVerdict => ({ equal, reason: equal ? 'yes' : 'no', ms: 0, status: 'ok' });

function recordingPool(): { pool: (options: GradePoolOptions) => GradePool; requests: GradeRequest[]; options: GradePoolOptions[] } {
  const requests: GradeRequest[] = [];
  const options: GradePoolOptions[] = [];
  const pool = (poolOptions: GradePoolOptions): GradePool => {
    options.push(poolOptions);
    return {
      grade: async (request) => {
        requests.push(request);
        return verdict(request.response === request.gold);
      },
      gradeAll: async () => [],
      stats: () => ({ graded: 0, timeouts: 0, errors: 0, restarts: 0 }),
      close: async () => undefined,
      [Symbol.asyncDispose]: async () => undefined,
    };
  };
  return { pool, requests, options };
}

describe('createSampleGrader', () => {
  it('sends math and choice problems to the pool with the mode, labels and the logic rule', async () => {
    const { pool, requests, options } = recordingPool();
    const grader = createSampleGrader({ mode: 'masa-parity', deadlineMs: 750, workers: 2, _internal: { createGradePool: pool } });
    const choice: Problem = { id: 'c1', question: '?', answer: 'B', choices: [{ label: 'A', text: 'x' }, { label: 'B', text: 'y' }] };
    const verdicts = await Promise.all(grader.grade(choice, { name: 'folio', domain: 'logic', answerKind: 'choice' }, ['B', 'A']));
    expect(verdicts.map((v) => v.equal)).toEqual([true, false]);
    await Promise.all(grader.grade({ id: 'm1', question: '?', answer: '3' }, { name: 'math500', domain: 'math', answerKind: 'math' }, ['3']));
    expect(requests).toEqual([
      { kind: 'choice', gold: 'B', response: 'B', mode: 'masa-parity', logic: true, labels: 'AB' },
      { kind: 'choice', gold: 'B', response: 'A', mode: 'masa-parity', logic: true, labels: 'AB' },
      { kind: 'math', gold: '3', response: '3', mode: 'masa-parity', logic: false },
    ]);
    // One pool, created on first use with the deadline and size.
    expect(options).toEqual([{ deadlineMs: 750, size: 2 }]);
    await grader.close();
  });

  it('runs code one program at a time through the sandbox, with the tests and the time limit', async () => {
    const calls: GradeCodeOptions[] = [];
    let running = 0;
    let most = 0;
    const gradeCode = async (options: GradeCodeOptions): Promise<GradeVerdict> => {
      calls.push(options);
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolveWait) => setTimeout(resolveWait, 5));
      running -= 1;
      return verdict(options.response.includes('ok'));
    };
    const grader = createSampleGrader({ codeTimeoutMs: 1234, _internal: { gradeCode, createGradePool: () => { throw new Error('no pool for code'); } } });
    const problem: Problem = { id: 'p11', question: 'write f', answer: 'def f(): pass', meta: { tests: ['assert f() is None'] } };
    const verdicts = await Promise.all(grader.grade(problem, { name: 'mbpp', domain: 'coding', answerKind: 'code' }, ['ok 1', 'bad', 'ok 2']));
    expect(verdicts.map((v) => v.equal)).toEqual([true, false, true]);
    expect(most).toBe(1);
    expect(calls.map((call) => [call.response, call.tests, call.timeoutMs, call.mode])).toEqual([
      ['ok 1', ['assert f() is None'], 1234, 'correct'],
      ['bad', ['assert f() is None'], 1234, 'correct'],
      ['ok 2', ['assert f() is None'], 1234, 'correct'],
    ]);
    expect(() => grader.grade({ id: 'p12', question: '?', answer: '' }, { name: 'mbpp', domain: 'coding', answerKind: 'code' }, ['x'])).toThrow(/mbpp problem p12 has no meta\.tests/);
    await grader.close();
  });
});
