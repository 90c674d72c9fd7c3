import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { parseMetaPrediction } from './meta-prediction.js';
import { computeMetaReward, type ComputeMetaRewardOptions } from './meta-reward.js';
import { computeSolutionStats, type SolutionRollout } from './solution-stats.js';

/** A rollout with a given score and length whose text contains the given words. */
function rollout(score: number, length: number, ...words: string[]): SolutionRollout {
  return { score, length, text: `work ${words.join(' and ')} done` };
}

function reward(text: string, rollouts: SolutionRollout[], options: Partial<ComputeMetaRewardOptions> & { parseMode?: 'robust' | 'parity' } = {}) {
  const { parseMode = options.mode === 'parity' ? 'parity' : 'robust', ...rest } = options;
  return computeMetaReward({
    parsed: parseMetaPrediction(text, { mode: parseMode }),
    stats: computeSolutionStats({ rollouts }),
    notionExcludeText: 'Compute the remainder of 2^100 divided by 7.',
    ...rest,
  });
}

describe('MASA-SPEC §6.5 worked example', () => {
  // G = 16, 6 correct with lengths {1800, 2000, 2400, 2600, 2950, 3100}.
  // "modular arithmetic" appears in 4 correct and 5 incorrect responses (c = −1),
  // "Chinese remainder theorem" in 3 correct and 0 incorrect (c = +3).
  const M = 'modular arithmetic';
  const C = 'Chinese remainder theorem';
  const rollouts = [
    rollout(1, 1800, M, C),
    rollout(1, 2000, M, C),
    rollout(1, 2400, M, C),
    rollout(1, 2600, M),
    rollout(1, 2950),
    rollout(1, 3100),
    ...[0, 1, 2, 3, 4].map(() => rollout(0, 4000, M)),
    ...[0, 1, 2, 3, 4].map(() => rollout(0, 8192)),
  ];
  const text = `<meta>…</meta>{"math_notion": ["${M}", "${C}"], "pass_rate": 4, "solution_length": 2500}`;

  for (const mode of ['parity', 'default'] as const) {
    it(`gives s_diff = 0.01^0.125 = 0.562, s_len = 1, s_notion = 0.5, r = 0.687 (${mode})`, () => {
      const result = reward(text, rollouts, { mode });
      // 0.01^|0.375 − 0.5| = 10^(−0.25)
      expect(result.passRateScore).toBeCloseTo(0.5623413251903491, 12);
      expect(result.lengthScore).toBe(1);
      expect(result.notionScore).toBe(0.5);
      expect(result.notions).toEqual([
        { notion: M, count: -1 },
        { notion: C, count: 3 },
      ]);
      // (0.5 + 0.5623413 + 1) / 3
      expect(result.score).toBeCloseTo(0.6874471083967831, 12);
      expect(result.score.toFixed(3)).toBe('0.687');
    });
  }
});

describe('MASA-SPEC §6.4 edge-case table', () => {
  it('no parseable JSON object: everything 0', () => {
    for (const text of ['', 'I cannot say.', '{ "math_notion": oops }']) {
      const result = reward(text, [rollout(1, 50, 'carry'), rollout(0, 70)], { mode: 'parity' });
      expect(result).toMatchObject({ score: 0, notionScore: 0, passRateScore: 0, lengthScore: 0 });
    }
  });

  it('JSON ok, 0 of G correct: s_notion 0, s_len 0, s_diff = 0.01^(pass_rate/8), r = 1/3 for pass_rate 0', () => {
    const allWrong = [rollout(0, 60, 'carry'), rollout(0, 80, 'carry'), rollout(0, 90)];
    const zero = reward('{"math_notion": ["carry", "borrow"], "pass_rate": 0, "solution_length": 80}', allWrong, { mode: 'parity' });
    expect(zero).toMatchObject({ notionScore: 0, lengthScore: 0, passRateScore: 1 });
    expect(zero.score).toBeCloseTo(1 / 3, 15);
    const two = reward('{"math_notion": ["carry"], "pass_rate": 2, "solution_length": 80}', allWrong, { mode: 'parity' });
    // 0.01^(2/8) = 10^(−0.5)
    expect(two.passRateScore).toBeCloseTo(0.31622776601683794, 12);
    expect(two.score).toBeCloseTo(0.10540925533894598, 12);
  });

  it('all G correct: notions in ≥ 1 response score, strict range over all lengths, s_diff = 0.01^(1 − pass_rate/8)', () => {
    const allRight = [rollout(1, 60, 'carry'), rollout(1, 80), rollout(1, 100)];
    const inside = reward('{"math_notion": ["carry", "borrow"], "pass_rate": 6, "solution_length": 80}', allRight, { mode: 'parity' });
    expect(inside.notionScore).toBe(0.5); // carry: c = 1 > 0; borrow: c = 0
    expect(inside.passRateScore).toBeCloseTo(0.31622776601683794, 12);
    expect(inside.lengthScore).toBe(1); // 60 < 80 < 100
    expect(inside.score).toBeCloseTo(0.605409255338946, 12);
    const edge = reward('{"math_notion": ["carry"], "pass_rate": 8, "solution_length": 60}', allRight, { mode: 'parity' });
    expect(edge.lengthScore).toBe(0); // 60 is not strictly above the minimum
    expect(edge.passRateScore).toBe(1);
    expect(reward('{"math_notion": ["carry"], "pass_rate": 8, "solution_length": 60}', allRight).lengthScore).toBe(1); // inclusive default
  });

  it('exactly one correct rollout: s_len = 0 under strict bounds, so r ≤ 2/3; inclusive bounds fix it', () => {
    // G = 4, one correct of length 70: p = 1/4 = 2/8.
    const one = [rollout(1, 70, 'carry'), rollout(0, 90), rollout(0, 95), rollout(0, 99)];
    const text = '{"math_notion": ["carry"], "pass_rate": 2, "solution_length": 70}';
    const parity = reward(text, one, { mode: 'parity' });
    expect(parity).toMatchObject({ notionScore: 1, passRateScore: 1, lengthScore: 0 });
    expect(parity.score).toBeCloseTo(2 / 3, 15);
    const inclusive = reward(text, one);
    expect(inclusive.lengthScore).toBe(1);
    expect(inclusive.score).toBe(1);
    // Explicit override in parity mode.
    expect(reward(text, one, { mode: 'parity', lengthBounds: 'inclusive' }).lengthScore).toBe(1);
    expect(reward(text, one, { lengthBounds: 'strict' }).lengthScore).toBe(0);
  });

  it('pass_rate given as 4.0 or "4" scores 0; true counts as 1', () => {
    const rollouts = [rollout(1, 50), rollout(0, 60)];
    for (const value of ['4.0', '"4"', '4e0', '[4]', 'null']) {
      expect(reward(`{"math_notion": [], "pass_rate": ${value}}`, rollouts, { mode: 'parity' }).passRateScore).toBe(0);
    }
    // p = 1/2, true → 1/8: 0.01^(3/8)
    expect(reward('{"math_notion": [], "pass_rate": true}', rollouts, { mode: 'parity' }).passRateScore).toBeCloseTo(0.1778279410038923, 12);
  });

  it('solution_length outside 128..8192 is just the range test', () => {
    const long = [rollout(1, 9000), rollout(1, 9500), rollout(0, 10)];
    expect(reward('{"math_notion": [], "solution_length": 9200}', long, { mode: 'parity' }).lengthScore).toBe(1);
    const short = [rollout(1, 50), rollout(1, 100)];
    expect(reward('{"math_notion": [], "solution_length": 60}', short, { mode: 'parity' }).lengthScore).toBe(1);
    expect(reward('{"math_notion": [], "solution_length": 60.0}', short, { mode: 'parity' }).lengthScore).toBe(0);
  });

  it('every notion a substring of the meta prompt: s_notion 0', () => {
    const rollouts = [rollout(1, 50, 'step', 'integer'), rollout(0, 60)];
    const metaPrompt = 'You are a helpful assistant. Reason step by step … - pass_rate (integer from 0 to 8) … Problem: 2+2';
    const result = reward('{"math_notion": ["steps", "integer", ""], "pass_rate": 4}', rollouts, { mode: 'parity', notionExcludeText: metaPrompt });
    expect(result.notionScore).toBe(0);
    expect(result.notions).toEqual([]);
    expect(result.score).toBeCloseTo(1 / 3, 15); // pass_rate 4/8 = p exactly
  });

  it('notions with LaTeX backslashes or a "}" make the whole object unparseable in parity (r = 0); robust mode scores them', () => {
    const rollouts = [rollout(1, 50, '\\sqrt{2}'), rollout(0, 60)];
    for (const notion of ['\\\\sqrt{2}', '\\sqrt{2}']) {
      const text = `{"math_notion": ["${notion}"], "pass_rate": 4, "solution_length": 50}`;
      expect(reward(text, rollouts, { mode: 'parity' }).score).toBe(0);
      const robust = reward(text, rollouts);
      expect(robust.notionScore).toBe(1);
      expect(robust.passRateScore).toBe(1);
      expect(robust.lengthScore).toBe(1); // inclusive: 50 ≤ 50 ≤ 50
      expect(robust.score).toBe(1);
    }
  });
});

describe('notion score details', () => {
  const rollouts = [rollout(1, 50, 'carry'), rollout(1, 60, 'carry', 'borrow'), rollout(0, 70, 'borrow'), rollout(0, 80, 'borrow')];

  it('normalises a comma-separated string (trim, then strip [ and ])', () => {
    // "[carry, borrow]" → ["carry", "borrow"]: carry c = +2, borrow c = 1 − 2 = −1.
    const result = reward('{"math_notion": "[carry, borrow]"}', rollouts, { mode: 'parity' });
    expect(result.notions).toEqual([
      { notion: 'carry', count: 2 },
      { notion: 'borrow', count: -1 },
    ]);
    expect(result.notionScore).toBe(0.5);
    // A string without a comma is one notion.
    expect(reward('{"math_notion": "carry"}', rollouts, { mode: 'parity' }).notionScore).toBe(1);
  });

  it('values Python cannot handle score 0 with a reason', () => {
    for (const value of ['null', '3', 'true', '{"a": "carry"}', '[","]', '["carry", 1]', '["carry", ["borrow"]]']) {
      // Robust parsing so that the object value (which holds a "}") parses too.
      const result = reward(`{"math_notion": ${value}, "pass_rate": 4}`, rollouts, { mode: 'parity', parseMode: 'robust' });
      expect(result.notionScore, value).toBe(0);
      expect(result.notionError, value).toBeTypeOf('string');
      expect(result.passRateScore, value).toBe(1); // the other sub-scores still count
    }
  });

  it('singularises predictions, then de-duplicates', () => {
    const result = reward('{"math_notion": ["carries", "carry", "Borrows"]}', [rollout(1, 50, 'carrying', 'Borrowed')], { mode: 'parity' });
    expect(result.notions).toEqual([
      { notion: 'carry', count: 1 },
      { notion: 'Borrow', count: 1 },
    ]);
  });

  it('counts occurrences case-sensitively; c = 0 does not score', () => {
    const result = reward('{"math_notion": ["Carry", "borrow"]}', [rollout(1, 50, 'carry', 'borrow'), rollout(0, 60, 'borrow')], {
      mode: 'parity',
    });
    expect(result.notions).toEqual([
      { notion: 'Carry', count: 0 },
      { notion: 'borrow', count: 0 },
    ]);
    expect(result.notionScore).toBe(0);
  });

  it('filters against the exclude text case-insensitively by default and case-sensitively in parity', () => {
    const text = '{"math_notion": ["Remainder", "Fermat little theorem"]}';
    const hits = [rollout(1, 50, 'Remainder', 'Fermat little theorem')];
    // The problem text says "remainder" in lower case.
    expect(reward(text, hits).notions.map((entry) => entry.notion)).toEqual(['Fermat little theorem']);
    expect(reward(text, hits, { mode: 'parity' }).notions.map((entry) => entry.notion)).toEqual(['Remainder', 'Fermat little theorem']);
    expect(reward(text, hits, { notionExcludeCaseInsensitive: false }).notions).toHaveLength(2);
  });
});

describe('pass-rate score options and extremes', () => {
  const rollouts = [rollout(1, 50), rollout(0, 60), rollout(0, 60), rollout(0, 60)]; // p = 0.25

  it('uses the configured base and scale', () => {
    // 0.02^|0.25 − 8/16|
    const result = reward('{"pass_rate": 8}', rollouts, { passRateBase: 0.02, passRateScale: 16 });
    expect(result.passRateScore).toBeCloseTo(0.3760603093086394, 12);
  });

  it('does not clamp: a prediction of 16 is two units of distance away from p = 0', () => {
    const allWrong = [rollout(0, 60), rollout(0, 60)];
    expect(reward('{"pass_rate": 16}', allWrong).passRateScore).toBeCloseTo(0.0001, 15);
    expect(reward('{"pass_rate": -8}', allWrong).passRateScore).toBeCloseTo(0.01, 15);
  });

  it('a 400-digit pass_rate or a 1e400 length scores 0 without an exception', () => {
    const result = reward(`{"math_notion": [], "pass_rate": 9${'9'.repeat(400)}, "solution_length": 1${'0'.repeat(400)}}`, [rollout(1, 50), rollout(1, 70)]);
    expect(result).toMatchObject({ passRateScore: 0, lengthScore: 0, score: 0 });
  });
});

describe('adversarial meta outputs score 0 without an exception', () => {
  const rollouts = [rollout(1, 50, 'carry'), rollout(0, 70)];
  const texts = [
    'no json here',
    'x'.repeat(1_000_000),
    '{'.repeat(100_000),
    `{"math_notion": ${'['.repeat(100_000)}`,
    '{"math_notion": ['.repeat(60_000),
    `{"math_notion": [], "pass_rate": ${'7'.repeat(5000)}}`,
  ];
  for (const mode of ['parity', 'default'] as const) {
    it(`in ${mode} mode`, () => {
      for (const text of texts) {
        const started = performance.now();
        const result = reward(text, rollouts, { mode });
        expect(result.score).toBe(0);
        expect(performance.now() - started).toBeLessThan(1000);
      }
    });
  }
});

describe('computeMetaReward input checks', () => {
  const stats = computeSolutionStats({ rollouts: [rollout(1, 50)] });
  const parsed = parseMetaPrediction('{"pass_rate": 8}');

  it('rejects a bad base or scale with CONFIG_INVALID', () => {
    for (const passRateBase of [0, -1, 2, Number.NaN]) {
      expect(() => computeMetaReward({ parsed, stats, notionExcludeText: '', passRateBase })).toThrow(MasaError);
    }
    try {
      computeMetaReward({ parsed, stats, notionExcludeText: '', passRateScale: 0 });
    } catch (error: unknown) {
      expect(MasaError.hasCode(error, 'CONFIG_INVALID')).toBe(true);
    }
  });

  it('rejects a missing exclude text or parse result with ARGUMENT_INVALID', () => {
    const call = (options: unknown) => () => computeMetaReward(options as ComputeMetaRewardOptions);
    expect(call({ parsed, stats })).toThrow(/notionExcludeText/);
    expect(call({ parsed: null, stats, notionExcludeText: '' })).toThrow(/parseMetaPrediction/);
    expect(call({ parsed, stats: {}, notionExcludeText: '' })).toThrow(/computeSolutionStats/);
  });
});
