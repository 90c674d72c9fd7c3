// The example of README.md, kept runnable: if this file changes, update the README.
import { createRng } from '@masa-rl/core';
import { expect, it } from 'vitest';
import {
  appendNotionHint,
  buildMetaPrompt,
  computeCutoffBudget,
  computeMetaReward,
  computeSolutionStats,
  decidePredictiveGate,
  parseMetaPrediction,
  pickNotionHint,
  selectExpertMetaTrajectory,
} from './index.js';

it('runs the README example', () => {
  const problem = 'Compute (47 + 38) * 3 - 19.';

  // 1. The meta prompt for a question (system + user turn, §4.2).
  const messages = buildMetaPrompt({ solutionPrompt: problem, maxSolutionLength: 256 });

  // 2. M meta rollouts come back from the model; parse them (robust by default).
  const metaTexts = [
    '<meta>Two operations, one carry.</meta>\n{"math_notion": ["carry", "multiplication"], "pass_rate": 5, "solution_length": 100}',
    '<meta>Hard.</meta>\n{ "math_notion": ["carries"], "pass_rate": 4, "solution_length": 120 }',
  ];
  const parsed = metaTexts.map((text) => parseMetaPrediction(text));

  // 3. masa-efficient: gate the question and cap its solution rollouts.
  const gate = decidePredictiveGate({ predictions: parsed });
  const budget = computeCutoffBudget({ predictions: parsed, maxNewTokens: 256 });

  // 4. G solution rollouts, graded 0/1 by @masa-rl/scoring, give the true statistics…
  const stats = computeSolutionStats({
    rollouts: [
      { text: '47 + 38: 7+8=15 carry 1, 4+3+1=8, so 85. 85 * 3 = 255. 255 - 19 = 236. The answer is \\boxed{236}.', score: 1, length: 96 },
      { text: '47 + 38 = 85. Multiplication: 85 * 3 = 255. 255 - 19 = 236. The answer is \\boxed{236}.', score: 1, length: 88 },
      { text: '47 + 38 = 75. 75 * 3 = 225. 225 - 19 = 206. The answer is \\boxed{206}.', score: 0, length: 72 },
      { text: '47 + 38 = 85. 85 * 3 = 245. 245 - 19 = 226. The answer is \\boxed{226}.', score: 0, length: 72 },
    ],
  });

  // 5. …against which each meta rollout is rewarded (§6.3).
  const candidates = parsed.map((prediction) => ({
    parsed: prediction,
    reward: computeMetaReward({ parsed: prediction, stats, notionExcludeText: problem }),
  }));
  const rewards = candidates.map((candidate) => candidate.reward);

  // 6. Optional extras: a notion hint for a solution prompt, and an expert target for behaviour cloning.
  const hint = pickNotionHint({ predictions: parsed, rng: createRng(1) });
  const hinted = appendNotionHint({ solutionPrompt: problem, hint });
  const expert = selectExpertMetaTrajectory({ candidates, stats });

  expect(messages[1]?.content).toContain('- solution_length (integer from 128 to 256)');
  expect(gate).toMatchObject({ gate: false, reason: 'uncertain', validCount: 2 });
  expect(budget.maxNewTokens).toBe(220); // 2 × mean(100, 120)
  // p = 1/2: s_diff = 0.01^|0.5 − 5/8| = 0.01^0.125; length 100 outside [88, 96] → 0;
  // carry: +1 (in one correct response) scores; "multiplication" counts 0, because
  // matching is case-sensitive and the response says "Multiplication"; s_notion = 1/2.
  expect(rewards[0]?.notionScore).toBe(0.5);
  expect(rewards[0]?.lengthScore).toBe(0);
  expect(rewards[0]?.passRateScore).toBeCloseTo(0.5623413251903491, 12);
  expect(rewards[0]?.score).toBeCloseTo((0.5 + 0.5623413251903491) / 3, 12);
  // carries → carry: s_notion 1; pass_rate 4/8 = p: 1; length 120 outside [88, 96]: 0 → r = 2/3.
  expect(rewards[1]?.score).toBeCloseTo(2 / 3, 15);
  expect(hinted.startsWith(`${problem}\n\n The problem could be solved using following math notions: [`)).toBe(true);
  // Expert: the second rollout (2/3 > 0.354); true pass count 4, mean correct length 92.
  expect(expert.selected?.target).toBe('<meta>Hard.</meta>\n{"math_notion": ["carries"], "pass_rate": 4, "solution_length": 92}');
});
