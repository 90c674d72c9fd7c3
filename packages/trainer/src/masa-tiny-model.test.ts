/**
 * Issue 7 acceptance 3 on a real tiny model: the committed `models/tiny-arith` (0.57M parameters,
 * trained on the embedded arithmetic task, so its meta JSON parses) through the ORT policy
 * backend and the ORT rollout engine reading the backend's weights in place. One MASA step
 * writes a metrics line with every meta-awareness field; `masa-efficient` on the same seed
 * generates fewer rollout tokens than `masa`, and its metrics say how many it saved.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTokenizer } from '@masa-rl/model';
import { createOrtEngine } from '@masa-rl/rollout';
import { afterAll, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { createOrtPolicyBackend } from './ort/ort-policy-backend.js';
import { CHAR_TOKEN_IDS } from './recipes/char-tokenizer.js';
import { tinyEvaluationProblems } from './recipes/tiny.js';
import { tinySolutionMessages } from './recipes/tiny-sft-data.js';
import { createBoxedMatchReward } from './reward.js';
import { train } from './train.js';

const modelDir = fileURLToPath(new URL('../../../models/tiny-arith/', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const problems = tinyEvaluationProblems().slice(0, 8);

async function runOneStep(algo: 'masa' | 'masa-efficient'): Promise<Record<string, number>> {
  const runDir = await mkdtemp(join(tmpdir(), `masa-tiny-${algo}-`));
  dirs.push(runDir);
  const tokenizer = await loadTokenizer({ model: modelDir });
  await using backend = await createOrtPolicyBackend({ modelDir, keepReference: false });
  await using engine = createOrtEngine({ config: backend.config, weights: backend.weights, tokenizer, maxBatchSize: 64 });
  const config = resolveConfig({
    overrides: [
      'data.train_files=tiny-arith',
      'data.train_batch_size=8',
      'data.max_prompt_length=96',
      'data.max_response_length=160',
      'actor_rollout_ref.rollout.n=4',
      'actor_rollout_ref.actor.optim.lr=1e-5',
      'actor_rollout_ref.actor.optim.lr_warmup_steps=0',
      'actor_rollout_ref.actor.ppo_max_token_len_per_gpu=4096',
      'actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=4096',
      'trainer.total_training_steps=1',
      'trainer.test_freq=-1',
      'trainer.save_freq=-1',
      'trainer.val_before_train=false',
      'trainer.seed=7',
      'masa.meta_n=4',
      'masa.meta_prompt_template=tiny',
      'masa.calibration_steps=0',
      // A tight cutoff (l_LC = 1) so that one step shows both savings.
      'masa.cutoff_factor=1',
      // Looser gating than the paper's (σ_PG 0.1, ε 1/16) so that this small model's predictions gate a few questions.
      'masa.gating_std=0.2',
      'masa.gating_tolerance=0.3',
      'masa.gating_audit_fraction=0.5',
    ],
    algo,
  });
  const result = await train({
    config,
    engine,
    backend,
    train: { name: 'tiny-arith', problems },
    reward: createBoxedMatchReward(),
    buildPrompt: ({ problem }) => ({ messages: tinySolutionMessages(problem.question) }),
    requestDefaults: { stopTokenIds: [CHAR_TOKEN_IDS.imEnd] },
    runDir,
  });
  const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0] as string) as Record<string, number>;
  expect(line).toEqual(result.lastMetrics);
  return line;
}

it('one MASA step on models/tiny-arith writes every meta-awareness field; masa-efficient saves rollout tokens on the same seed', async () => {
  const masa = await runOneStep('masa');
  const always = [
    'meta/parse_rate',
    'meta/score/mean',
    'meta/score/notion',
    'meta/score/pass_rate',
    'meta/score/length',
    'meta/calibration/count',
    'meta/calibration/mae',
    'meta/calibration/bias',
    ...Array.from({ length: 9 }, (_, c) => `meta/calibration/reliability/${c}/count`),
    'gating/live',
    'gating/fraction',
    'gating/gated',
    'gating/audited',
    'tokens/solution',
    'tokens/meta',
    'tokens/rollout',
    'tokens/saved_by_gating',
    'tokens/saved_by_cutoff',
    'timing_s/gen',
    'timing_s/meta_gen',
    'timing_s/reward',
    'timing_s/meta_reward',
    'timing_s/gating_audit',
    'timing_s/old_log_prob',
    'timing_s/update_actor',
  ];
  for (const field of always) expect(typeof masa[field], field).toBe('number');
  // The trained checkpoint's meta JSON parses (≥ 90% in its recorded evaluation).
  expect(masa['meta/parse_rate']).toBeGreaterThan(0.5);
  expect(masa['meta/calibration/count']).toBeGreaterThan(0);
  // Real generation takes time, split between the two branches of the combined call.
  expect(masa['timing_s/gen']).toBeGreaterThan(0);
  expect(masa['timing_s/meta_gen']).toBeGreaterThan(0);
  // Precision/recall and the length errors exist only when the step's data define them (see the README).
  const reliability = Array.from({ length: 9 }, (_, c) => masa[`meta/calibration/reliability/${c}/count`] as number);
  expect(reliability.reduce((a, b) => a + b, 0)).toBe(masa['meta/calibration/count']);

  const efficient = await runOneStep('masa-efficient');
  expect(efficient['gating/live']).toBe(1);
  // With this seed the gate fires on a few questions; ceil(0.5 × gated) of them are audited.
  expect(efficient['gating/gated']).toBeGreaterThan(0);
  expect(efficient['gating/audited']).toBe(Math.ceil(0.5 * (efficient['gating/gated'] as number)));
  expect(typeof efficient['gating/precision']).toBe('number');
  expect(efficient['tokens/saved_by_gating']).toBeGreaterThan(0);
  expect(efficient['tokens/rollout']).toBe((efficient['tokens/solution'] as number) + (efficient['tokens/meta'] as number) + (efficient['tokens/audit'] as number));
  const saved = (efficient['tokens/saved_by_gating'] as number) + (efficient['tokens/saved_by_cutoff'] as number);
  expect(efficient['tokens/saved']).toBe(saved);
  expect(saved).toBeGreaterThan(0);
  // Measured on the same seed: fewer solution tokens generated than plain MASA.
  expect(efficient['tokens/solution'] as number).toBeLessThan(masa['tokens/solution'] as number);
  expect(efficient['tokens/rollout'] as number).toBeLessThan(masa['tokens/rollout'] as number);
  console.log(
    `tiny-arith, one step: masa ${masa['tokens/rollout']} rollout tokens, masa-efficient ${efficient['tokens/rollout']}` +
      ` (gated ${efficient['gating/gated']} of 8, audited ${efficient['gating/audited']}, precision ${efficient['gating/precision']}, recall ${efficient['gating/recall']}, masa shadow precision ${masa['gating/precision']}; metrics: saved_by_gating ${efficient['tokens/saved_by_gating']}, saved_by_cutoff ≤ ${efficient['tokens/saved_by_cutoff']})`,
  );
}, 60_000);
