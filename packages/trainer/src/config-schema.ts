/**
 * The training configuration schema. Key names follow verl (the MASA reference
 * is a verl fork) wherever verl has one; masa-rl's own keys live under `masa.*`
 * and are marked "masa-rl" below. Defaults are the paper / reference values of
 * MASA-SPEC §11 unless a comment says otherwise.
 */
import { KL_LOSS_TYPES } from '@masa-rl/core';
import * as z from 'zod';

const positive = () => z.number().positive();
const nonNegative = () => z.number().nonnegative();
const positiveInt = () => z.number().int().positive();
const fraction = () => z.number().min(0).max(1);
const fileList = () => z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** The algorithms the trainer runs. */
export const ALGORITHM_NAMES = ['grpo', 'dapo', 'masa', 'masa-efficient', 'dapo-masa'] as const;
export type AlgorithmName = (typeof ALGORITHM_NAMES)[number];

/** verl `loss_agg_mode` values. */
export const LOSS_AGG_MODES = ['token-mean', 'seq-mean-token-sum', 'seq-mean-token-mean', 'seq-mean-token-sum-norm'] as const;
export type LossAggMode = (typeof LOSS_AGG_MODES)[number];

/** verl `kl_loss_type` values (defined with the `PolicyBackend` interface in core). */
export { KL_LOSS_TYPES };
export type { KlLossType } from '@masa-rl/core';

const dataSchema = z
  .strictObject({
    /** Training data: a file path (or several), or a dataset name the app resolves. Required. */
    train_files: fileList().describe('training data file(s); required'),
    /** Validation data; `null` disables validation. */
    val_files: fileList().nullable().default(null),
    /** Prompts per training step (B). */
    train_batch_size: positiveInt().default(128),
    /** Longest prompt in tokens; a longer prompt is an error (verl `truncation: error`). */
    max_prompt_length: positiveInt().default(2048),
    /** Token budget of each response (Lr). */
    max_response_length: positiveInt().default(8192),
    /** Shuffle the training data each epoch. */
    shuffle: z.boolean().default(true),
    /** Seed of the epoch shuffles (the reference uses 1). */
    seed: z.number().int().default(1),
    /** Drop the last incomplete batch of an epoch (verl always does for training). */
    drop_last: z.boolean().default(true),
  })
  .describe('data');

const optimSchema = z.strictObject({
  /** Peak learning rate. */
  lr: nonNegative().default(1e-6),
  /** Linear warm-up steps; -1 means use `lr_warmup_steps_ratio`. */
  lr_warmup_steps: z.number().int().min(-1).default(20),
  /** Warm-up as a fraction of the total training steps (used when `lr_warmup_steps` is -1). */
  lr_warmup_steps_ratio: fraction().default(0),
  /** After warm-up: `constant` or `cosine` decay to `min_lr_ratio × lr`. */
  warmup_style: z.enum(['constant', 'cosine']).default('constant'),
  /** Floor of the cosine schedule, as a fraction of `lr`. */
  min_lr_ratio: fraction().default(0),
  weight_decay: nonNegative().default(0.1),
  betas: z.tuple([fraction(), fraction()]).default([0.9, 0.999]),
  eps: positive().default(1e-8),
  /**
   * masa-rl parity flag: reproduce verl's quirk where the warm-up scheduler
   * starts at factor 0 and advances after each step, so the first training step
   * runs with lr = 0 (MASA-SPEC §7.4, §14 #24). Off by default.
   */
  zero_lr_first_step: z.boolean().default(false),
});

const actorSchema = z.strictObject({
  optim: optimSchema.prefault({}),
  /** Gradient-norm clip (global L2). */
  grad_clip: positive().default(1.0),
  clip_ratio_low: fraction().default(0.2),
  clip_ratio_high: nonNegative().default(0.28),
  /** Dual-clip constant for negative advantages (> 1). */
  clip_ratio_c: z.number().gt(1).default(10),
  loss_agg_mode: z.enum(LOSS_AGG_MODES).default('token-mean'),
  /** Prompts per optimiser step (multiplied by `rollout.n` to count sequences, as verl does); `null`: `data.train_batch_size` (the reference's 128 = 128). */
  ppo_mini_batch_size: positiveInt().nullable().default(null),
  /** Sequences per micro-batch when `use_dynamic_bsz` is false. */
  ppo_micro_batch_size_per_gpu: positiveInt().nullable().default(null),
  /** Pack micro-batches by a token budget instead of a sequence count. */
  use_dynamic_bsz: z.boolean().default(true),
  /** Token budget (prompt + response) of one update micro-batch. */
  ppo_max_token_len_per_gpu: positiveInt().default(36_000),
  ppo_epochs: positiveInt().default(1),
  /**
   * PPO's old log-probs from the policy (verl's way): the update's first mini-batch takes its own, gradient stopped
   * (nothing has moved before its optimiser step), and the later mini-batches' are scored before that step. `false`
   * takes the rollout engine's own log-probs of the sampled tokens instead — the same policy and temperature, so the
   * same numbers up to float rounding (~1e-6) — and skips that scoring (a tenth of a step on the embedded default).
   * Needs sampling without top-p or top-k, whose log-probs are those of a truncated distribution.
   */
  recompute_old_log_prob: z.boolean().default(true),
  /** Shuffle sequences inside the update (verl `actor.shuffle`). */
  shuffle: z.boolean().default(false),
  use_kl_loss: z.boolean().default(false),
  kl_loss_coef: nonNegative().default(0),
  kl_loss_type: z.enum(KL_LOSS_TYPES).default('low_var_kl'),
  entropy_coeff: z.number().default(0),
});

const samplingSchema = {
  temperature: positive().default(1.0),
  top_p: z.number().gt(0).max(1).default(1.0),
  /** -1 (or 0) disables top-k. */
  top_k: z.number().int().min(-1).default(-1),
};

const rolloutSchema = z.strictObject({
  /** Solution rollouts per prompt (G). */
  n: positiveInt().default(16),
  ...samplingSchema,
  /** Token budget of one log-prob micro-batch (old and reference log-probs). */
  log_prob_max_token_len_per_gpu: positiveInt().default(96_000),
  /**
   * masa-rl (ORT backend): the rollout engine holds the weights frozen in its sessions (ORT pre-packs them) and
   * rebuilds them after each optimiser step, instead of reading the live arrays at every run. Faster decoding for
   * models past a few million parameters (1.4× at the Qwen3-0.6B shape, batch 32) for one rebuild per step, and what
   * a CUDA device needs (fed weights cross to the GPU at every run); frozen and fed weights round differently.
   */
  freeze_weights: z.boolean().default(false),
  /** Sampling used for in-training validation (MASA-SPEC §5.2: top_p 0.7, n 1). */
  val_kwargs: z
    .strictObject({
      n: positiveInt().default(1),
      temperature: positive().default(1.0),
      top_p: z.number().gt(0).max(1).default(0.7),
      top_k: z.number().int().min(-1).default(-1),
      do_sample: z.boolean().default(true),
    })
    .prefault({}),
});

const actorRolloutRefSchema = z.strictObject({
  model: z
    .strictObject({
      /** Model folder or name; resolved by the app. */
      path: z.string().nullable().default(null),
    })
    .prefault({}),
  actor: actorSchema.prefault({}),
  rollout: rolloutSchema.prefault({}),
});

const algorithmSchema = z.strictObject({
  /** masa-rl: which training algorithm runs. */
  name: z.enum(ALGORITHM_NAMES).default('grpo'),
  adv_estimator: z.enum(['grpo', 'rloo']).default('grpo'),
  norm_adv_by_std_in_grpo: z.boolean().default(true),
  /** DAPO dynamic sampling (on by default for `dapo` and `dapo-masa`). */
  filter_groups: z
    .strictObject({
      enable: z.boolean().default(false),
      /** Which per-sequence value must vary inside a group: `acc` (0/1 correctness), `score` or `seq_reward`. */
      metric: z.enum(['acc', 'score', 'seq_reward']).default('acc'),
      /** Cap on generation rounds per step; 0 means no cap. */
      max_num_gen_batches: z.number().int().nonnegative().default(10),
      /** masa-rl: a group whose metric has standard deviation ≤ this counts as zero-variance. */
      std_tolerance: nonNegative().default(1e-6),
    })
    .prefault({}),
});

const trainerSchema = z.strictObject({
  project_name: z.string().default('masa-rl'),
  experiment_name: z.string().default('default'),
  /** Run folder (config, metrics, samples, checkpoints). */
  default_local_dir: z.string().default('runs/default'),
  total_epochs: positiveInt().default(1),
  /** Overrides `floor(#prompts / batch) × total_epochs` when set. */
  total_training_steps: positiveInt().nullable().default(null),
  /** Validate every N steps and at the last step; -1 disables. */
  test_freq: z.number().int().min(-1).default(5),
  /** Checkpoint every N steps and at the last step; -1 disables. */
  save_freq: z.number().int().min(-1).default(10),
  val_before_train: z.boolean().default(true),
  /** Keep only the newest K checkpoints; `null` keeps all. */
  max_actor_ckpt_to_keep: positiveInt().nullable().default(null),
  /** `auto` resumes from the newest complete checkpoint in the run folder, `disable` starts fresh, `resume_path` uses `resume_from_path`. */
  resume_mode: z.enum(['auto', 'disable', 'resume_path']).default('auto'),
  resume_from_path: z.string().nullable().default(null),
  /** masa-rl: seed of every random choice of the loop (uids, sampling seeds, feed-in picks). */
  seed: z.number().int().default(1),
  /** masa-rl: completions written to `samples.jsonl` per step (0 disables). */
  samples_per_step: z.number().int().nonnegative().default(4),
  /**
   * masa-rl: ONNX Runtime threads inside one operator, for rollouts and
   * training steps alike. 1 gives the same numbers on every machine; another
   * count changes float rounding (and so, over steps, the samples drawn), as
   * in any multithreaded BLAS. More threads pay off on idle cores only
   * (packages/trainer/README.md, "Threads").
   */
  threads: positiveInt().default(1),
});

const masaSchema = z.strictObject({
  /** Meta rollouts per prompt (M): 8 in the v2 paper, 16 in the released script. */
  meta_n: positiveInt().default(8),
  /**
   * masa-rl: meta predictions per validation problem for held-out calibration
   * (`val-meta/<dataset>/…`, sampled with the validation generator, so training
   * is unchanged). Unset: `meta_n`; 0 turns meta validation off.
   */
  val_meta_n: z.number().int().nonnegative().optional(),
  /** masa-efficient: plain MASA steps before gating and cutoff start (k). */
  calibration_steps: z.number().int().nonnegative().default(80),
  /** Gate a question when the std of its predicted pass rates is below this (σ_PG). */
  gating_std: nonNegative().default(0.1),
  /** Tolerance ε on "mean predicted pass rate is 0 or 1" (0 = literal). */
  gating_tolerance: fraction().default(0.0625),
  /** Fewer valid pass-rate predictions than this never gate. */
  gating_min_valid: positiveInt().default(2),
  /**
   * masa-rl: share of the questions gated in a step that are solved anyway,
   * for the gating metrics only (never trained on), so gating precision is
   * measured rather than assumed: `ceil(fraction × gated)` questions drawn
   * with a generator of their own (`trainer.seed`, step, round), so auditing
   * never changes training. 0 turns the audit off; parity mode forces 0.
   */
  gating_audit_fraction: fraction().default(0.1),
  /** Length cutoff factor l_LC: a solution's budget is ceil(l_LC × predicted length). */
  cutoff_factor: positive().default(2),
  /** Base of the pass-rate score `base^|p − pass_rate/8|`. */
  difficulty_base: z.number().gt(0).lt(1).default(0.01),
  /** Length-score bounds: `inclusive` (paper equation) or `strict` (reference code); `null`: strict in parity mode, else inclusive. */
  length_bounds: z.enum(['inclusive', 'strict']).nullable().default(null),
  /**
   * Reference behaviour of the meta branch: meta prompt artefacts and range
   * bound, the reference extractor's quirks, strict length bounds, notions
   * filtered against the whole meta prompt (case-sensitive).
   */
  parity: z.boolean().default(false),
  /** Upper end L of the `solution_length` range in the meta prompt; `null`: `data.max_response_length` (parity: `data.max_prompt_length`, as the reference). */
  solution_length_max: positiveInt().nullable().default(null),
  /** Meta prompt layout: `reference` (system line + instructions + keys + `Problem: `) or `tiny` (`Meta: ` + solution prompt, the embedded tiny task). */
  meta_prompt_template: z.enum(['reference', 'tiny']).default('reference'),
  /**
   * Count `ppo_mini_batch_size` in prompts × `rollout.n` sequences as verl
   * does, which gives MASA batches (solutions + meta rows) more than one
   * optimiser step per training step (MASA-SPEC §7.3). `false`: one optimiser
   * step over the whole batch per mini-batch of prompts.
   */
  two_optimizer_steps: z.boolean().default(true),
  /** Append a hint with the predicted notions to solution prompts (v2 "notion feed-in"). */
  notion_feedin: z.boolean().default(false),
  /** Behaviour cloning on expert meta trajectories (v1 meta-SFT, cleaned; MASA-SPEC §9.2). */
  expert_sft: z
    .strictObject({
      enable: z.boolean().default(false),
      /** `total-reward`: highest meta reward per question; `notion-score`: highest notion score (reference). */
      selection: z.enum(['total-reward', 'notion-score']).default('total-reward'),
      min_notion_score: fraction().default(0.2),
      /** Examples per behaviour-cloning step (S). */
      batch_size: positiveInt().default(64),
      lr: nonNegative().default(1e-5),
      grad_clip: positive().default(1.0),
    })
    .prefault({}),
});

const customRewardSchema = z.strictObject({
  /** Module that exports the reward function (resolved by the app). */
  path: z.string().nullable().default(null),
  name: z.string().nullable().default(null),
});

/** The whole training configuration. Unknown keys are errors at every level. */
export const trainerConfigSchema = z.strictObject({
  data: dataSchema.prefault({} as never),
  actor_rollout_ref: actorRolloutRefSchema.prefault({}),
  algorithm: algorithmSchema.prefault({}),
  trainer: trainerSchema.prefault({}),
  masa: masaSchema.prefault({}),
  custom_reward_function: customRewardSchema.prefault({}),
});

/** The parsed (mutable) configuration shape. */
export type TrainerConfigShape = z.output<typeof trainerConfigSchema>;

type DeepReadonly<T> = T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** A resolved, frozen training configuration. */
export type TrainerConfig = DeepReadonly<TrainerConfigShape>;
