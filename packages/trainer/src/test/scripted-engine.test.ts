import { describe, expect, it } from 'vitest';
import { createScriptedEngine } from './scripted-engine.js';

describe('createScriptedEngine', () => {
  const engine = createScriptedEngine({ respond: ({ promptText, sampleIndex, rng }) => `${promptText}:${sampleIndex}:${rng.int(0, 9)}` });

  it('is deterministic per seed, records calls, and tokenizes by char code', async () => {
    const request = { id: 'a', messages: [{ role: 'user' as const, content: 'hi' }], n: 3, maxNewTokens: 100, seed: 5 };
    const [first] = await engine.doGenerate([request]);
    const [second] = await engine.doGenerate([request]);
    expect(first).toEqual(second);
    expect(first?.promptTokenIds).toEqual([104, 105]);
    expect(first?.samples.map((sample) => sample.text.slice(0, 5))).toEqual(['hi:0:', 'hi:1:', 'hi:2:']);
    expect(first?.samples[0]?.tokenIds).toEqual(Array.from(first?.samples[0]?.text ?? '', (c) => c.charCodeAt(0)));
    expect(engine.calls.length).toBe(2);
  });

  it('truncates at the budget with length, or cutoff when the budget is a MASA cutoff', async () => {
    const [plain, cut] = await engine.doGenerate([
      { id: 'p', promptTokenIds: [120], maxNewTokens: 3 },
      { id: 'c', promptTokenIds: [120], maxNewTokens: 3, budgetIsCutoff: true },
    ]);
    expect(plain?.samples[0]).toMatchObject({ text: 'x:0', finishReason: 'length', logprobs: [-0.5, -0.5, -0.5] });
    expect(cut?.samples[0]?.finishReason).toBe('cutoff');
  });
});
