/**
 * The training side of a policy, Tinker-shaped: score sequences, accumulate
 * gradients of a loss, take an optimiser step, save and restore state. The
 * local ONNX Runtime backend (`@masa-rl/trainer`, on `@masa-rl/model`)
 * implements it; a remote trainer service can implement the same verbs. The
 * training loop only ever talks to this interface.
 */

/** verl's `kl_loss_type` values (KL estimators of the policy against the reference). */
export const KL_LOSS_TYPES = ['kl', 'k1', 'abs', 'mse', 'k2', 'low_var_kl', 'k3'] as const;
export type KlLossType = (typeof KL_LOSS_TYPES)[number];

/** One sequence as the policy sees it: prompt tokens, then the sampled response tokens. */
export interface PolicySequence {
  promptTokenIds: readonly number[];
  responseTokenIds: readonly number[];
}

/** A batch to score with {@link PolicyBackend.logprobs}. */
export interface LogprobBatch {
  sequences: readonly PolicySequence[];
  /** Logits are divided by this before the softmax (the rollout temperature, as verl does). */
  temperature: number;
}

/**
 * One sequence of a training micro-batch. The loss of the batch is
 * `Σ_i lossWeight_i · Σ_t ℓ_it` over the response tokens t of each sequence i,
 * where `ℓ` is the per-token loss of the {@link LossSpec}. The trainer sets
 * `lossWeight` so that the micro-batch losses of a mini-batch add up to the
 * configured aggregation (`loss_agg_mode`) over the *whole* mini-batch: for
 * `token-mean`, `1 / (response tokens in the mini-batch)`. Backends never
 * normalise on their own.
 */
export interface TrainSequence extends PolicySequence {
  /** Per-token loss weight of this sequence (see above). */
  lossWeight: number;
  /** Sequence advantage, broadcast to every response token (policy loss only). */
  advantage?: number;
  /**
   * Log-probs of the response tokens under the policy that sampled them (π_old), one per response token (policy loss
   * only; not read when the loss is {@link PolicyLossSpec.onPolicy}).
   */
  oldLogprobs?: readonly number[];
  /** Log-probs under the reference policy, when a KL loss is on. */
  refLogprobs?: readonly number[];
}

/** verl's clipped PPO policy loss plus optional entropy bonus and KL loss. */
export interface PolicyLossSpec {
  kind: 'policy';
  /** Logits ÷ temperature, as for the old log-probs. */
  temperature: number;
  clipRatioLow: number;
  clipRatioHigh: number;
  /** Dual-clip constant (> 1). */
  clipRatioC: number;
  /** `ℓ −= entropyCoeff · H_t` (0 disables). */
  entropyCoeff: number;
  /** `ℓ += coef · KL_t` against `refLogprobs`, or `null`. */
  kl: { coef: number; type: KlLossType } | null;
  /**
   * π_old is the policy being trained — the batch takes one optimiser step, so nothing has moved since it was sampled:
   * the loss uses the current log-probs with their gradient stopped as the old ones (ratio exactly 1, verl's actor with
   * one mini-batch and one PPO epoch), and sequences need no `oldLogprobs`.
   * @default false
   */
  onPolicy?: boolean;
}

/** Negative log-likelihood of the response tokens (behaviour cloning / SFT): `ℓ_t = −log p_t`. */
export interface CrossEntropyLossSpec {
  kind: 'cross-entropy';
  /** @default 1 */
  temperature?: number;
}

export type LossSpec = PolicyLossSpec | CrossEntropyLossSpec;

/** A training micro-batch. */
export interface TrainBatch {
  sequences: readonly TrainSequence[];
}

export interface ForwardBackwardResult {
  /** This micro-batch's contribution `Σ_i w_i Σ_t ℓ_it` (the mini-batch loss is the sum over its micro-batches). */
  loss: number;
  /** Response tokens in the micro-batch. */
  tokens: number;
  /**
   * Token means over this micro-batch (`pg_clipfrac`, `ppo_kl`, `entropy` …);
   * the trainer averages them over micro-batches weighted by `tokens`.
   */
  metrics: Record<string, number>;
}

export interface OptimStepOptions {
  /** Learning rate of this step (from the schedule). */
  lr: number;
  /** Clip the global gradient L2 norm to this before the update. */
  maxGradNorm: number;
  weightDecay: number;
  betas: readonly [number, number];
  eps: number;
}

export interface OptimStepResult {
  /** Global L2 norm of the accumulated gradient before clipping. */
  gradNorm: number;
  /** True when the backend skipped the update (e.g. a non-finite norm); weights untouched. */
  skipped: boolean;
}

/** Named binary blobs of backend state other than the weights (optimiser moments, step counters). */
export type BackendState = Record<string, Uint8Array>;

/**
 * What the trainer needs from a trainable policy.
 *
 * Gradient contract: `forwardBackward` adds to an accumulated gradient;
 * `gradNorm` reads its global L2 norm without changing anything; `optimStep`
 * applies AdamW (with clipping) and clears the accumulated gradient.
 */
export interface PolicyBackend {
  readonly specificationVersion: 'v1';
  /** Human-readable name for logs (`ort-cpu`, `fake`). */
  readonly name: string;
  /**
   * Log-probabilities of each response token (one array per sequence, the
   * length of its response). `policy: 'reference'` scores with the frozen
   * initial weights (needed only for a KL loss).
   */
  logprobs(batch: LogprobBatch, options?: { policy?: 'current' | 'reference' }): Promise<number[][]>;
  /** Computes the loss of a micro-batch and accumulates its gradients. */
  forwardBackward(batch: TrainBatch, loss: LossSpec): Promise<ForwardBackwardResult>;
  /** Global L2 norm of the accumulated gradient (read-only). */
  gradNorm(): Promise<number>;
  /** One optimiser step on the accumulated gradient, which is then cleared. */
  optimStep(options: OptimStepOptions): Promise<OptimStepResult>;
  /** Optimiser moments and counters, to store in a checkpoint. */
  getState(): Promise<BackendState>;
  /** Restores what {@link PolicyBackend.getState} returned. */
  loadState(state: BackendState): Promise<void>;
  /** Writes the current weights into `dir` (created if missing). */
  saveWeights(dir: string): Promise<void>;
  /** Loads weights written by {@link PolicyBackend.saveWeights}. */
  loadWeights(dir: string): Promise<void>;
}
