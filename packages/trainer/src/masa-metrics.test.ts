/**
 * Issue 7 acceptance 2 (and the fake-backend half of acceptance 3): gating,
 * cutoff and the meta-awareness metrics on a scripted engine whose pass rates
 * and predictions are fixed per question, so every number below is a hand
 * count from the table, not the code's output.
 */
import { rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MasaError, type Problem, type RolloutEngine, type RolloutRequest, type RolloutResult } from '@masa-rl/core';
import { parseMetaPrediction } from '@masa-rl/meta-gating';
import { afterEach, describe, expect, it } from 'vitest';
import { makeConfig, tempRunDir } from './__tests__/arith-task.js';
import type { TrainEvent } from './events.js';
import { resolveConfig } from './config.js';
import { GATING_AUDIT_UID_SUFFIX } from './masa.js';
import { computeMasaStepMetrics } from './masa-metrics.js';
import type { PolicyBackend } from '@masa-rl/core';
import { createBoxedMatchReward } from './reward.js';
import { createFakeBackend } from './test/fake-backend.js';
import { createScriptedEngine } from './test/scripted-engine.js';
import { train } from './train.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/**
 * Eight questions, G = 4 solution rollouts, M = 3 meta rollouts (the third never parses).
 * right: correct samples out of 4 (sample indices below `right`, or even ones for 2/4);
 * passRates / lengths: the two valid meta predictions.
 * σ_PG 0.1, ε 1/16: [8, 8] gates all-right, [0, 0] all-wrong, anything else survives.
 */
const TABLE = [
  { right: 4, passRates: [8, 8], lengths: [20, 20] }, // q0 gated, truly all right: TP
  { right: 0, passRates: [0, 0], lengths: [20, 20] }, // q1 gated, truly all wrong: TP
  { right: 2, passRates: [8, 8], lengths: [20, 20] }, // q2 gated, truly mixed: FP
  { right: 0, passRates: [0, 0], lengths: [20, 20] }, // q3 gated: TP
  { right: 2, passRates: [4, 4], lengths: [7, 7] }, // q4 kept, mixed: TN; budget ceil(1.5 × 7) = 11
  { right: 4, passRates: [4, 4], lengths: [9, 10] }, // q5 kept, truly all right: FN; budget ceil(1.5 × 9.5) = 15
  { right: 1, passRates: [2, 6], lengths: [90, 110] }, // q6 kept, mixed: TN; budget min(128, 150) = 128
  { right: 0, passRates: [4, 4], lengths: [5, 5] }, // q7 kept, truly all wrong: FN; budget ceil(1.5 × 5) = 8
] as const;
const GATED = [0, 1, 2, 3];
const KEPT = [4, 5, 6, 7];
const BUDGETS: Record<number, number> = { 4: 11, 5: 15, 6: 128, 7: 8 };

const problems: Problem[] = TABLE.map((_, i) => ({ id: `q${i}`, question: `Question ${i}.`, answer: String(i + 1) }));
const indexOf = (text: string): number => Number(/Question (\d)\./.exec(text)?.[1]);
/** A solution: the boxed answer first, then 20 characters of padding, 29 characters in all. */
const solutionText = (i: number, sample: number): string => {
  const right = TABLE[i]?.right ?? 0;
  const correct = right === 2 ? sample % 2 === 0 : sample < right;
  return `\\boxed{${correct ? i + 1 : 9}}${'x'.repeat(20)}`;
};
const metaText = (i: number, sample: number): string => {
  const row = TABLE[i] as (typeof TABLE)[number];
  if (sample === 2) return 'no idea';
  return `{"math_notion": ["q"], "pass_rate": ${row.passRates[sample] as number}, "solution_length": ${row.lengths[sample] as number}}`;
};

interface Recorded {
  request: RolloutRequest;
  result: RolloutResult;
}

/** A clock that only moves inside the engine: each generation call takes 1 s. */
const clock = { ms: 0 };

function makeEngine(): { engine: RolloutEngine; recorded: Recorded[] } {
  const inner = createScriptedEngine({
    respond: ({ promptText, sampleIndex }) =>
      promptText.startsWith('Meta: ') ? metaText(indexOf(promptText), sampleIndex) : solutionText(indexOf(promptText), sampleIndex),
  });
  const recorded: Recorded[] = [];
  return {
    recorded,
    engine: {
      ...inner,
      async doGenerate(requests, options) {
        const results = await inner.doGenerate(requests, options);
        clock.ms += 1000;
        requests.forEach((request, index) => recorded.push({ request, result: results[index] as RolloutResult }));
        return results;
      },
    },
  };
}

function spyBackend(inner: PolicyBackend, prompts: string[]): PolicyBackend {
  return {
    ...inner,
    forwardBackward: (batch, loss) => {
      for (const sequence of batch.sequences) prompts.push(String.fromCharCode(...sequence.promptTokenIds));
      return inner.forwardBackward(batch, loss);
    },
  };
}

const OVERRIDES = [
  'data.train_batch_size=8',
  'data.max_response_length=128',
  'actor_rollout_ref.actor.ppo_max_token_len_per_gpu=256',
  'actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=256',
  'trainer.total_training_steps=1',
  'masa.meta_n=3',
  'masa.meta_prompt_template=tiny',
  'masa.calibration_steps=0',
  'masa.cutoff_factor=1.5',
];

async function run(algo: 'masa' | 'masa-efficient', extra: string[] = []) {
  const dir = tempRunDir();
  dirs.push(dir);
  const { engine, recorded } = makeEngine();
  const trainedPrompts: string[] = [];
  const events: TrainEvent[] = [];
  const result = await train({
    config: makeConfig([...OVERRIDES, ...extra], algo),
    engine,
    backend: spyBackend(createFakeBackend({ seed: 3 }), trainedPrompts),
    train: { name: 'table', problems },
    reward: createBoxedMatchReward(),
    runDir: dir,
    now: () => clock.ms,
    onEvent: (event) => events.push(event),
  });
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, number>);
  return { metrics: result.lastMetrics ?? { step: 0 }, line: lines.at(-1) ?? {}, recorded, trainedPrompts, events };
}

const solutionRequests = (recorded: Recorded[]) => recorded.filter(({ request }) => !(request.messages?.[0]?.content ?? '').startsWith('Meta: '));
// Hand counts shared by several tests.
const TRAINED_SOLUTION_TOKENS = 4 * 11 + 4 * 15 + 4 * 29 + 4 * 8; // 252
const CUTOFF_UPPER_BOUND = 4 * (128 - 11) + 4 * (128 - 15) + 4 * (128 - 8); // 1400
const META_TOKENS = TABLE.reduce((sum, _, i) => sum + [0, 1, 2].reduce((s, k) => s + metaText(i, k).length, 0), 0);

describe('masa-efficient on a scripted engine with known pass rates (issue 7, acceptance 2)', () => {
  it('gated questions never reach the solution branch; budgets are min(Lr, ceil(l_LC × l̂)); cut rollouts finish with cutoff', async () => {
    const { metrics, recorded, trainedPrompts } = await run('masa-efficient', ['masa.gating_audit_fraction=0']);
    const solutions = solutionRequests(recorded);
    // Requests by prompt: each kept question once, no gated one.
    expect(solutions.map(({ request }) => indexOf(request.messages?.[0]?.content ?? '')).sort()).toEqual(KEPT);
    for (const { request, result } of solutions) {
      const i = indexOf(request.messages?.[0]?.content ?? '');
      const budget = BUDGETS[i] as number;
      expect(request.maxNewTokens).toBe(budget);
      expect(request.budgetIsCutoff === true).toBe(budget < 128);
      for (const sample of result.samples) {
        // Every solution has 29 characters (tokens): cut to the budget when it is smaller.
        expect(sample.tokenIds.length).toBe(Math.min(29, budget));
        expect(sample.finishReason).toBe(budget < 29 ? 'cutoff' : 'stop');
      }
    }
    // Nothing of a gated question is trained on, neither solutions nor meta rows.
    for (const i of GATED) expect(trainedPrompts.some((prompt) => prompt.includes(`Question ${i}.`))).toBe(false);
    expect(trainedPrompts.length).toBe(KEPT.length * (4 + 3));
    expect(metrics).toMatchObject({
      'gating/live': 1,
      'gating/questions': 8,
      'gating/gated': 4,
      'gating/fraction': 0.5,
      'gating/audited': 0,
      'gating/false_negatives': 2, // q5, q7
      'gating/true_negatives': 2, // q4, q6
      'tokens/cutoff_rollouts': 12,
      'tokens/solution': TRAINED_SOLUTION_TOKENS,
      'tokens/saved_by_cutoff': CUTOFF_UPPER_BOUND,
      // 4 gated × G 4 × mean trained rollout length 252 / 16.
      'tokens/saved_by_gating': 4 * 4 * (TRAINED_SOLUTION_TOKENS / 16),
      'tokens/audit': 0,
      'tokens/meta': META_TOKENS,
    });
    // Without an audit the gated questions' truth is unknown: no precision is claimed.
    expect(metrics['gating/precision']).toBeUndefined();
  });

  it('audits every gated question at fraction 1: precision and recall equal the hand count, audits are never trained on', async () => {
    const { metrics, recorded, trainedPrompts } = await run('masa-efficient', ['masa.gating_audit_fraction=1']);
    const audits = solutionRequests(recorded).filter(({ request }) => request.id.endsWith(GATING_AUDIT_UID_SUFFIX));
    expect(audits.map(({ request }) => indexOf(request.messages?.[0]?.content ?? '')).sort()).toEqual(GATED);
    for (const i of GATED) expect(trainedPrompts.some((prompt) => prompt.includes(`Question ${i}.`))).toBe(false);
    // TP = 3 (q0, q1, q3), FP = 1 (q2), FN = 2 (q5, q7), TN = 2.
    const precision = 3 / 4;
    const recall = (precision * 4) / (precision * 4 + 2);
    expect(metrics['gating/audited']).toBe(4);
    expect(metrics['gating/true_positives']).toBe(3);
    expect(metrics['gating/false_positives']).toBe(1);
    expect(metrics['gating/precision']).toBeCloseTo(precision, 12);
    expect(metrics['gating/recall']).toBeCloseTo(0.6, 12);
    expect(metrics['gating/recall']).toBeCloseTo(recall, 12);
    expect(metrics['gating/f1']).toBeCloseTo(2 / 3, 12);
    // Audited questions are generated, so they save nothing; their 4 × 4 × 29 tokens are counted apart.
    expect(metrics['tokens/saved_by_gating']).toBe(0);
    expect(metrics['tokens/audit']).toBe(4 * 4 * 29);
  });

  it('audits ceil(fraction × gated) questions drawn by a seeded generator, and precision matches the sample', async () => {
    const first = await run('masa-efficient', ['masa.gating_audit_fraction=0.3']);
    const second = await run('masa-efficient', ['masa.gating_audit_fraction=0.3']);
    const audited = (recorded: Recorded[]) =>
      solutionRequests(recorded)
        .filter(({ request }) => request.id.endsWith(GATING_AUDIT_UID_SUFFIX))
        .map(({ request }) => indexOf(request.messages?.[0]?.content ?? ''));
    const picked = audited(first.recorded);
    expect(picked).toHaveLength(Math.ceil(0.3 * 4)); // 2
    expect(audited(second.recorded)).toEqual(picked);
    // By hand from the table: q2 is the only gated question with mixed outcomes.
    const truePositives = picked.filter((i) => i !== 2).length;
    const precision = truePositives / picked.length;
    expect(first.metrics['gating/precision']).toBeCloseTo(precision, 12);
    if (precision > 0) expect(first.metrics['gating/recall']).toBeCloseTo((precision * 4) / (precision * 4 + 2), 12);
    // Two unaudited gated questions × G × mean generated rollout length (trained + audited).
    expect(first.metrics['tokens/saved_by_gating']).toBeCloseTo(2 * 4 * ((TRAINED_SOLUTION_TOKENS + 2 * 4 * 29) / 24), 9);
    // The audit has its own generator: training is the same as without it.
    const without = await run('masa-efficient', ['masa.gating_audit_fraction=0']);
    expect(first.metrics['actor/pg_loss']).toBe(without.metrics['actor/pg_loss']);
    expect(first.trainedPrompts).toEqual(without.trainedPrompts);
  });

  it('parity mode forces the audit off', async () => {
    const { metrics } = await run('masa-efficient', ['masa.gating_audit_fraction=1', 'masa.parity=true', 'masa.solution_length_max=128']);
    expect(metrics['gating/audited']).toBe(0);
    expect(metrics['gating/gated']).toBe(4);
  });
});

describe('the metrics line of one MASA step (issue 7, acceptance 3 on the fake backend)', () => {
  it('has every meta-awareness field, with the hand-computed calibration and length error', async () => {
    const { line } = await run('masa');
    const fields = [
      'meta/parse_rate',
      'meta/score/mean',
      'meta/score/notion',
      'meta/score/pass_rate',
      'meta/score/length',
      'meta/calibration/mae',
      'meta/calibration/bias',
      'meta/length_error/correct',
      'meta/length_error/incorrect',
      ...Array.from({ length: 9 }, (_, c) => `meta/calibration/reliability/${c}/count`),
      'gating/live',
      'gating/fraction',
      'gating/precision',
      'gating/recall',
      'gating/f1',
      'gating/audited',
      'tokens/saved_by_gating',
      'tokens/saved_by_cutoff',
      'tokens/rollout',
      'timing_s/gen',
      'timing_s/meta_gen',
      'timing_s/reward',
      'timing_s/meta_reward',
      'timing_s/gating_audit',
      'timing_s/old_log_prob',
      'timing_s/update_actor',
    ];
    for (const field of fields) expect(typeof line[field], field).toBe('number');
    expect(line['meta/parse_rate']).toBeCloseTo(2 / 3, 12); // the third meta sample never parses
    // Plain MASA solves everything with Lr = 128: every solution is 29 tokens, pass rates as in the table.
    // |p̂ − p| per valid prediction: q0 0,0; q1 0,0; q2 .5,.5; q3 0,0; q4 0,0; q5 .5,.5; q6 0,.5; q7 .5,.5.
    expect(line['meta/calibration/mae']).toBeCloseTo(3.5 / 16, 12);
    expect(line['meta/calibration/count']).toBe(16);
    // Reliability: predicted 8 → q0 (1), q2 (.5), q4 → 4: q4 (.5), q5 (1), q7 (0).
    expect(line['meta/calibration/reliability/8/count']).toBe(4);
    expect(line['meta/calibration/reliability/8/true_pass_rate']).toBeCloseTo(0.75, 12);
    expect(line['meta/calibration/reliability/4/count']).toBe(6);
    expect(line['meta/calibration/reliability/4/true_pass_rate']).toBeCloseTo(0.5, 12);
    expect(line['meta/calibration/reliability/0/true_pass_rate']).toBe(0);
    expect(line['meta/calibration/reliability/3/true_pass_rate']).toBeUndefined();
    // Standardised length error, only questions with spread in predicted length: q5 (9, 10: mean 9.5, σ 0.5)
    // and q6 (90, 110: mean 100, σ 10). Correct: q5 (29 − 9.5) / 0.5 = 39, q6 (29 − 100) / 10 = −7.1. Incorrect: q6 only.
    expect(line['meta/length_error/correct']).toBeCloseTo((39 - 7.1) / 2, 12);
    expect(line['meta/length_error/incorrect']).toBeCloseTo(-7.1, 12);
    // Shadow gating (nothing skipped, everything solved): exact counts, TP 3 FP 1 FN 2.
    expect(line['gating/live']).toBe(0);
    expect(line['gating/fraction']).toBe(0.5);
    expect(line['gating/precision']).toBeCloseTo(0.75, 12);
    expect(line['gating/recall']).toBeCloseTo(0.6, 12);
    expect(line['tokens/saved_by_gating']).toBe(0);
    expect(line['tokens/rollout']).toBe(8 * 4 * 29 + META_TOKENS);
  });

  it('masa-efficient spends fewer rollout tokens than masa on the same seed, and its metrics say how many', async () => {
    const plain = await run('masa');
    const efficient = await run('masa-efficient', ['masa.gating_audit_fraction=0']);
    // Measured: masa generates 8 × 4 × 29 solution tokens, masa-efficient 252; both generate the same meta rollouts.
    const spent = { masa: plain.metrics['tokens/rollout'] as number, efficient: efficient.metrics['tokens/rollout'] as number };
    expect(spent.masa - spent.efficient).toBe(8 * 4 * 29 - TRAINED_SOLUTION_TOKENS); // 676 tokens saved
    // The metrics' account: gating 4 × 4 × 15.75 (an estimate) plus the cutoff's upper bound.
    expect(efficient.metrics['tokens/saved']).toBe(252 + CUTOFF_UPPER_BOUND);
    expect(efficient.metrics['tokens/saved']).toBeGreaterThanOrEqual(spent.masa - spent.efficient);
  });
});

describe('phase timings', () => {
  it('splits a combined call between the branches by generated tokens, and times meta, solution and audit calls apart', async () => {
    const plain = await run('masa');
    const solutionTokens = 8 * 4 * 29;
    expect(plain.metrics['timing_s/meta_gen']).toBeCloseTo(META_TOKENS / (META_TOKENS + solutionTokens), 12);
    expect(plain.metrics['timing_s/gen']).toBeCloseTo(solutionTokens / (META_TOKENS + solutionTokens), 12);
    expect(plain.metrics['timing_s/gating_audit']).toBe(0);
    // meta call, solution call, audit call: one second each.
    const efficient = await run('masa-efficient', ['masa.gating_audit_fraction=1']);
    expect(efficient.metrics).toMatchObject({ 'timing_s/meta_gen': 1, 'timing_s/gen': 1, 'timing_s/gating_audit': 1, 'timing_s/collect': 3 });
  });
});

describe('computeMasaStepMetrics edge cases', () => {
  const gate = { stdThreshold: 0.1, tolerance: 0.0625, minValid: 2 };
  const confident = [0, 1].map(() => parseMetaPrediction('{"math_notion": ["q"], "pass_rate": 8, "solution_length": 10}'));

  it('estimates the gating saving from the budgets when every question was gated and none audited, and claims no precision', () => {
    const metrics = computeMasaStepMetrics({
      questions: [{ parsed: confident, gated: true }, { parsed: confident, gated: true }],
      gatingMode: 'live',
      gate,
      rolloutsPerQuestion: 4,
      maxResponseTokens: 64,
      metaTokens: 100,
      gatedBudgets: [20, 30],
    });
    // 2 gated × G 4 × mean budget 25.
    expect(metrics['tokens/saved_by_gating']).toBe(200);
    expect(metrics['tokens/rollout']).toBe(100);
    expect(metrics['gating/fraction']).toBe(1);
    expect(metrics['meta/parse_rate']).toBe(1);
    for (const key of ['gating/precision', 'gating/recall', 'gating/f1', 'meta/calibration/mae', 'meta/score/mean', 'meta/length_error/correct']) {
      expect(metrics[key], key).toBeUndefined();
    }
    expect(Object.values(metrics).every(Number.isFinite)).toBe(true);
  });

  it('scores the cutoff masa-efficient would have applied in shadow mode, apart for correct and incorrect rollouts', () => {
    const lengths = (a: number, b: number) => [a, b].map((length) => parseMetaPrediction(`{"math_notion": ["q"], "pass_rate": 4, "solution_length": ${length}}`));
    const rollout = (tokens: number, correct: boolean) => ({ tokens, correct, finishReason: 'stop' as const });
    const metrics = computeMasaStepMetrics({
      questions: [
        // l̂ = 10, l_LC 1.5 → budget 15: cut 20 (5 over, correct), 31 (16 over, incorrect); 15 is not over.
        { parsed: lengths(8, 12), gated: false, solution: [rollout(20, true), rollout(15, true), rollout(31, false), rollout(9, false)] },
        // l̂ = 40 → budget min(64, 60) = 60: nothing is over.
        { parsed: lengths(40, 40), gated: false, solution: [rollout(59, false), rollout(60, true)] },
        // No valid prediction → budget Lr = 64.
        { parsed: [parseMetaPrediction('no json')], gated: false, solution: [rollout(64, false)] },
        // The gate would skip this one (both predict 8 of 8): masa-efficient would never solve it, so no cutoff counts.
        { parsed: confident, gated: false, solution: [rollout(63, true), rollout(63, true)] },
      ],
      gatingMode: 'shadow',
      gate,
      rolloutsPerQuestion: 4,
      maxResponseTokens: 64,
      metaTokens: 0,
      cutoffFactor: 1.5,
    });
    expect(metrics).toMatchObject({
      'cutoff/shadow/rollouts_correct': 3,
      'cutoff/shadow/rollouts_incorrect': 4,
      'cutoff/shadow/cut_correct': 1,
      'cutoff/shadow/cut_incorrect': 1,
      'cutoff/shadow/tokens_correct': 5,
      'cutoff/shadow/tokens_incorrect': 16,
    });
    // The sweep scores only factors below the configured 1.5. At l_LC 1 the budgets are 10, 40 and 64:
    // correct 20 (10 over), 15 (5), 60 (20); incorrect 31 (21), 59 (19).
    expect(metrics).toMatchObject({
      'cutoff/shadow/l=1/cut_correct': 3,
      'cutoff/shadow/l=1/tokens_correct': 35,
      'cutoff/shadow/l=1/cut_incorrect': 2,
      'cutoff/shadow/l=1/tokens_incorrect': 40,
      // l_LC 1.25: budgets 13, 50, 64 → correct 20 (7), 15 (2), 60 (10); incorrect 31 (18), 59 (9).
      'cutoff/shadow/l=1.25/cut_correct': 3,
      'cutoff/shadow/l=1.25/tokens_correct': 19,
      'cutoff/shadow/l=1.25/cut_incorrect': 2,
      'cutoff/shadow/l=1.25/tokens_incorrect': 27,
    });
    expect(metrics['cutoff/shadow/l=1.5/cut_correct']).toBeUndefined();
    const live = computeMasaStepMetrics({ questions: [], gatingMode: 'live', gate, rolloutsPerQuestion: 4, maxResponseTokens: 64, metaTokens: 0 });
    expect(Object.keys(live).some((key) => key.startsWith('cutoff/shadow'))).toBe(false);
  });

  it('gives finite numbers and no undefined fields for an empty step', () => {
    const metrics = computeMasaStepMetrics({ questions: [], gatingMode: 'shadow', gate, rolloutsPerQuestion: 4, maxResponseTokens: 64, metaTokens: 0 });
    expect(metrics).toMatchObject({ 'gating/questions': 0, 'gating/fraction': 0, 'tokens/rollout': 0, 'tokens/saved': 0 });
    expect(Object.values(metrics).every(Number.isFinite)).toBe(true);
  });

  it('rejects a gating audit fraction outside [0, 1] naming the key', () => {
    let caught: unknown;
    try {
      resolveConfig({ overrides: ['data.train_files=x', 'masa.gating_audit_fraction=1.5'], algo: 'masa-efficient' });
    } catch (error: unknown) {
      caught = error;
    }
    expect(MasaError.hasCode(caught, 'CONFIG_INVALID')).toBe(true);
    expect((caught as Error).message).toContain('masa.gating_audit_fraction');
  });
});
