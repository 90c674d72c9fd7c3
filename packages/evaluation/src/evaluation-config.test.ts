import { describe, expect, it } from 'vitest';
import { findConfigDifference, type EvaluationConfig } from './evaluation-config.js';

const config: EvaluationConfig = {
  formatVersion: 1,
  model: { path: '/m', backend: 'ort', baseUrl: null, apiModel: null },
  selection: { domain: 'math' },
  datasets: [
    { name: 'aime2024', domain: 'math', file: null },
    { name: 'math500', domain: 'math', file: null },
  ],
  sampling: { n: 32, temperature: 0.6, topP: 1, maxNewTokens: 16384, contextTokens: null, seed: 0 },
  prompt: { mode: 'corrected', format: 'messages' },
  grading: { mode: 'correct', deadlineMs: 2000, codeTimeoutMs: 10000 },
  run: { limit: null, batchProblems: 2, ks: [1, 8, 32] },
};

describe('findConfigDifference', () => {
  it('finds nothing for an equal config (a JSON round trip included) and ignores run settings', () => {
    expect(findConfigDifference(JSON.parse(JSON.stringify(config)), config)).toBeUndefined();
    expect(findConfigDifference({ ...config, run: { limit: 5, batchProblems: 9, ks: [1] } }, config)).toBeUndefined();
  });

  it('names the first differing key with a dotted path', () => {
    expect(findConfigDifference({ ...config, sampling: { ...config.sampling, seed: 3 } }, config)).toEqual({ key: 'sampling.seed', stored: 3, current: 0 });
    expect(findConfigDifference({ ...config, prompt: { ...config.prompt, mode: 'parity' } }, config)).toEqual({ key: 'prompt.mode', stored: 'parity', current: 'corrected' });
    expect(findConfigDifference({ ...config, datasets: [config.datasets[0], { name: 'math500', domain: 'math', file: '/x.jsonl' }] }, config)).toEqual({
      key: 'datasets[1].file',
      stored: '/x.jsonl',
      current: null,
    });
    expect(findConfigDifference({ ...config, datasets: [config.datasets[0]] }, config)?.key).toBe('datasets');
    const { grading: _grading, ...withoutGrading } = config;
    expect(findConfigDifference(withoutGrading, config)).toEqual({ key: 'grading', stored: undefined, current: config.grading });
    expect(findConfigDifference(null, config)).toEqual({ key: '', stored: null, current: expect.any(Object) });
  });
});
