import type { Problem } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { createBoxedMatchReward, createGraderReward, evaluateReward, lastBoxed } from './reward.js';

const problem: Problem = { id: 'p1', question: 'What is 6 * 7?', answer: '42' };
const input = (text: string) => ({ problem, dataset: 'd', completion: { text } });

describe('rewards', () => {
  it('finds the last brace-balanced \\boxed{}', () => {
    expect(lastBoxed('\\boxed{1} then \\boxed{\\frac{1}{2}}.')).toBe('\\frac{1}{2}');
    expect(lastBoxed('no box')).toBeUndefined();
    expect(lastBoxed('\\boxed{unclosed')).toBeUndefined();
  });

  it('scores exact boxed matches', async () => {
    const reward = createBoxedMatchReward();
    expect(await evaluateReward(reward, input('so \\boxed{ 42 }'))).toEqual({ score: 1, acc: 1, extra: { extracted: ' 42 ' } });
    expect((await evaluateReward(reward, input('\\boxed{41}'))).score).toBe(0);
    expect((await evaluateReward(reward, input('42'))).score).toBe(0);
  });

  it('wraps a grader and keeps its verdict details', async () => {
    const reward = createGraderReward({ grade: async ({ response }) => ({ equal: response.includes('42'), reason: 'numeric', status: 'ok' }) });
    expect(await evaluateReward(reward, input('it is 42'))).toEqual({ score: 1, acc: 1, extra: { reason: 'numeric', status: 'ok' } });
    const boolean = createGraderReward({ grade: () => false });
    expect(await evaluateReward(boolean, input('x'))).toEqual({ score: 0, acc: 0, extra: {} });
  });

  it('normalises numbers, objects and failures without throwing', async () => {
    expect(await evaluateReward(() => 0.25, input(''))).toEqual({ score: 0.25, acc: 0.25, extra: {} });
    expect(await evaluateReward(() => ({ score: 0.5, acc: 1, note: 'x' }), input(''))).toEqual({ score: 0.5, acc: 1, extra: { note: 'x' } });
    expect(await evaluateReward(() => { throw new Error('boom'); }, input(''))).toEqual({ score: 0, acc: 0, extra: {}, error: 'boom' });
    expect((await evaluateReward(() => Number.NaN, input(''))).error).toBe('reward is NaN');
    expect((await evaluateReward(() => ({ score: 'high' }) as never, input(''))).error).toMatch(/finite number or \{ score: number \}/);
  });
});
