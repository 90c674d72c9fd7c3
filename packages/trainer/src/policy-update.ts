/**
 * The update half of a step, on a {@link PolicyBackend}: old (and reference)
 * log-probs right after generation, GRPO advantages per uid, and the PPO
 * update in mini-batches (one optimiser step each) of token-budget
 * micro-batches with exact loss weights. Any non-finite loss, log-prob or
 * gradient norm stops the step before the optimiser touches the weights.
 */
import { MasaError, type Rng } from '@masa-rl/core';
import { computeAdvantages } from '@masa-rl/grpo-loss';
import { computeLossWeights, splitIntoChunks, splitMicroBatches } from './batching.js';
import type { LossAggMode, TrainerConfig } from './config-schema.js';
import type { LossSpec, PolicyBackend, PolicyLossSpec, PolicySequence, TrainSequence } from '@masa-rl/core';

/** A sequence going into the update, with its GRPO group. */
export interface UpdateSequence extends PolicySequence {
  uid: string;
  reward: number;
}

export interface LogprobPassOptions {
  backend: PolicyBackend;
  sequences: readonly PolicySequence[];
  temperature: number;
  /** Token budget per call (`rollout.log_prob_max_token_len_per_gpu`). */
  maxTokens: number;
  policy: 'current' | 'reference';
  step: number;
  /** Each sequence's position in the step's batch, for error messages. @default its index in `sequences` */
  positions?: readonly number[];
}

/**
 * Scores all sequences with the backend in token-budget chunks and checks the
 * answer (one finite log-prob per response token).
 *
 * @throws MasaError `NUMERIC_INSTABILITY`, `ENGINE_FAILED`
 */
/**
 * PPO's old log-probs taken from the rollout itself (`actor.recompute_old_log_prob: false`): the engine's log-prob of
 * each sampled token, one per response token.
 *
 * @throws MasaError `ENGINE_FAILED` when the engine gave a different number of log-probs than tokens, or a
 *   non-finite one (an engine that does not report them, such as a server without `logprobs`).
 */
export function rolloutLogprobs(record: { responseTokenIds: readonly number[]; samplingLogprobs: readonly number[] }, step: number): number[] {
  const { responseTokenIds, samplingLogprobs } = record;
  if (samplingLogprobs.length !== responseTokenIds.length || samplingLogprobs.some((value) => !Number.isFinite(value) || value > 0)) {
    throw new MasaError(
      'ENGINE_FAILED',
      `step ${step}: the rollout engine returned ${samplingLogprobs.length} log-probs for ${responseTokenIds.length} tokens${samplingLogprobs.length === responseTokenIds.length ? ', not all finite and ≤ 0' : ''}; with actor_rollout_ref.actor.recompute_old_log_prob: false it must report one per sampled token (or set it to true)`,
      { details: { step } },
    );
  }
  return [...samplingLogprobs];
}

export async function computeLogprobs(options: LogprobPassOptions): Promise<number[][]> {
  const { backend, sequences, temperature, maxTokens, policy, step } = options;
  const position = (index: number): number => options.positions?.[index] ?? index;
  const chunks = splitMicroBatches({
    sequenceTokens: sequences.map((sequence) => sequence.promptTokenIds.length + sequence.responseTokenIds.length),
    maxTokens,
    budgetKey: 'actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu',
  });
  const out: number[][] = new Array<number[]>(sequences.length);
  for (const indices of chunks) {
    const batch = indices.map((index) => sequences[index] as PolicySequence);
    const result = await backend.logprobs({ sequences: batch, temperature }, { policy });
    if (result.length !== batch.length) {
      throw new MasaError('ENGINE_FAILED', `step ${step}: backend ${backend.name} returned ${result.length} log-prob rows for ${batch.length} sequences`, {
        details: { step },
      });
    }
    indices.forEach((index, row) => {
      const values = result[row] as number[];
      const expected = (sequences[index] as PolicySequence).responseTokenIds.length;
      if (values.length !== expected) {
        throw new MasaError('ENGINE_FAILED', `step ${step}: backend ${backend.name} returned ${values.length} log-probs for a response of ${expected} tokens (sequence ${position(index)})`, {
          details: { step, sequence: position(index) },
        });
      }
      const bad = values.findIndex((value) => !Number.isFinite(value));
      if (bad >= 0) {
        throw new MasaError(
          'NUMERIC_INSTABILITY',
          `step ${step}: the ${policy} policy gives log-prob ${values[bad]} to token ${bad} of sequence ${position(index)}; no weights were updated. Resume from the last checkpoint, lower actor_rollout_ref.actor.optim.lr, or check the model`,
          { details: { step, sequence: position(index), token: bad, policy } },
        );
      }
      out[index] = values;
    });
  }
  return out;
}

/** GRPO (or RLOO) advantages per sequence, grouped by uid, with grpo-loss semantics. */
export function computeSequenceAdvantages(config: TrainerConfig, sequences: readonly UpdateSequence[], step: number): Float64Array {
  const { advantages } = computeAdvantages({
    rewards: sequences.map((sequence) => sequence.reward),
    uids: sequences.map((sequence) => sequence.uid),
    estimator: config.algorithm.adv_estimator,
    normAdvByStdInGrpo: config.algorithm.norm_adv_by_std_in_grpo,
    context: { step },
  });
  return advantages;
}

/** The policy loss of the config. */
export function policyLossSpec(config: TrainerConfig): PolicyLossSpec {
  const actor = config.actor_rollout_ref.actor;
  return {
    kind: 'policy',
    temperature: config.actor_rollout_ref.rollout.temperature,
    clipRatioLow: actor.clip_ratio_low,
    clipRatioHigh: actor.clip_ratio_high,
    clipRatioC: actor.clip_ratio_c,
    entropyCoeff: actor.entropy_coeff,
    kl: actor.use_kl_loss ? { coef: actor.kl_loss_coef, type: actor.kl_loss_type } : null,
  };
}

export interface PolicyUpdateOptions {
  backend: PolicyBackend;
  config: TrainerConfig;
  /** Sequences in batch order, each with an advantage and, for a policy loss, old log-probs (or see `scoreOldLogprobs`). */
  sequences: readonly Omit<TrainSequence, 'lossWeight'>[];
  loss: LossSpec;
  /** Sequences per mini-batch (one optimiser step each). */
  miniBatchSize: number;
  lr: number;
  /** Optimiser settings; @default from `actor_rollout_ref.actor.optim` and `grad_clip` */
  maxGradNorm?: number;
  step: number;
  /** Shuffles sequences when `actor.shuffle` is on. */
  rng: Rng;
  /** Names the phase in errors. @default 'policy update' */
  phase?: string;
  /** Overrides `actor.loss_agg_mode` (behaviour cloning uses `token-mean`). */
  lossAggMode?: LossAggMode;
  /** Overrides `actor.ppo_epochs`. */
  epochs?: number;
  /**
   * PPO's old log-probs of the given sequences (indices into `sequences`) under the policy before this update, for a
   * policy loss whose sequences carry none. The update calls it once, before its first optimiser step, for the
   * sequences outside its first mini-batch (all of them with more than one epoch): the first mini-batch trains on the
   * policy that sampled it, so it takes the update's own log-probs, gradient stopped (`PolicyLossSpec.onPolicy`), as
   * verl's actor does with a single mini-batch.
   */
  scoreOldLogprobs?: (indices: readonly number[]) => Promise<readonly (readonly number[])[]>;
}

export interface PolicyUpdateResult {
  optimizerSteps: number;
  skippedSteps: number;
  microBatches: number;
  /** One per optimiser step. */
  losses: number[];
  gradNorms: number[];
  /** Backend metrics averaged over micro-batches, weighted by tokens. */
  metrics: Record<string, number>;
}

/**
 * Mini-batches of `miniBatchSize` sequences (for `ppo_epochs`), each split
 * into micro-batches (token budget or sequence count) whose loss weights make
 * their sum the configured aggregation over the mini-batch; then one
 * optimiser step per mini-batch.
 *
 * @throws MasaError `NUMERIC_INSTABILITY` naming the step, mini-batch and
 * micro-batch; `optimStep` is not called for that mini-batch.
 */
export async function runPolicyUpdate(options: PolicyUpdateOptions): Promise<PolicyUpdateResult> {
  const { backend, config, loss, miniBatchSize, lr, step, rng, scoreOldLogprobs, phase = 'policy update' } = options;
  let sequences = options.sequences;
  const actor = config.actor_rollout_ref.actor;
  const lossAggMode = options.lossAggMode ?? actor.loss_agg_mode;
  const epochs = options.epochs ?? actor.ppo_epochs;
  const maxGradNorm = options.maxGradNorm ?? actor.grad_clip;
  const result: PolicyUpdateResult = { optimizerSteps: 0, skippedSteps: 0, microBatches: 0, losses: [], gradNorms: [], metrics: {} };
  const metricSums = new Map<string, number>();
  let metricTokens = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = Array.from({ length: sequences.length }, (_, i) => i);
    if (actor.shuffle) rng.shuffle(order);
    const minis = splitIntoChunks(order.length, miniBatchSize).map((chunk) => chunk.map((i) => order[i] as number));
    // Old log-probs that the sequences lack: the first mini-batch's are its own (on-policy), the others' are scored
    // now, before any weight moves.
    let onPolicyMini = -1;
    if (epoch === 0 && loss.kind === 'policy' && scoreOldLogprobs !== undefined) {
      const lacking = (index: number): boolean => (sequences[index] as Omit<TrainSequence, 'lossWeight'>).oldLogprobs === undefined;
      if (epochs === 1 && (minis[0] ?? []).every(lacking)) onPolicyMini = 0;
      const first = new Set(onPolicyMini === 0 ? minis[0] : []);
      const missing = sequences.flatMap((_, index) => (lacking(index) && !first.has(index) ? [index] : []));
      if (missing.length > 0) {
        const scored = await scoreOldLogprobs(missing);
        const filled = [...sequences];
        missing.forEach((index, k) => (filled[index] = { ...(filled[index] as Omit<TrainSequence, 'lossWeight'>), oldLogprobs: scored[k] as number[] }));
        sequences = filled;
      }
    }
    for (let m = 0; m < minis.length; m++) {
      const mini = (minis[m] as number[]).map((index) => sequences[index] as Omit<TrainSequence, 'lossWeight'>);
      const miniBatchLoss = m === onPolicyMini && loss.kind === 'policy' ? { ...loss, onPolicy: true } : loss;
      const weights = computeLossWeights({
        responseLengths: mini.map((sequence) => sequence.responseTokenIds.length),
        mode: lossAggMode,
        normLength: config.data.max_response_length,
      });
      const micros = splitMicroBatches({
        sequenceTokens: mini.map((sequence) => sequence.promptTokenIds.length + sequence.responseTokenIds.length),
        ...(actor.use_dynamic_bsz
          ? { maxTokens: actor.ppo_max_token_len_per_gpu }
          : { maxSequences: actor.ppo_micro_batch_size_per_gpu ?? mini.length }),
      });
      let miniLoss = 0;
      const where = (j: number): string =>
        `step ${step}, ${phase}, mini-batch ${m + 1}/${minis.length}${epochs > 1 ? ` (ppo epoch ${epoch + 1})` : ''}, micro-batch ${j + 1}/${micros.length}`;
      for (let j = 0; j < micros.length; j++) {
        const indices = micros[j] as number[];
        const batch = indices.map((i): TrainSequence => ({ ...(mini[i] as Omit<TrainSequence, 'lossWeight'>), lossWeight: weights[i] as number }));
        const output = await backend.forwardBackward({ sequences: batch }, miniBatchLoss);
        result.microBatches += 1;
        if (!Number.isFinite(output.loss)) {
          throw new MasaError(
            'NUMERIC_INSTABILITY',
            `${where(j)}: the loss is ${output.loss}; the optimiser step was not taken and no weights changed. Resume from the last checkpoint with a lower actor_rollout_ref.actor.optim.lr, or inspect this step's samples`,
            { details: { step, phase, miniBatch: m + 1, microBatch: j + 1, loss: output.loss } },
          );
        }
        const norm = await backend.gradNorm();
        if (!Number.isFinite(norm)) {
          throw new MasaError(
            'NUMERIC_INSTABILITY',
            `${where(j)}: the gradient norm is ${norm}; the optimiser step was not taken and no weights changed. Resume from the last checkpoint with a lower actor_rollout_ref.actor.optim.lr, or inspect this step's samples`,
            { details: { step, phase, miniBatch: m + 1, microBatch: j + 1, gradNorm: norm } },
          );
        }
        miniLoss += output.loss;
        for (const [name, value] of Object.entries(output.metrics)) {
          metricSums.set(name, (metricSums.get(name) ?? 0) + value * output.tokens);
        }
        metricTokens += output.tokens;
      }
      const stepResult = await backend.optimStep({
        lr,
        maxGradNorm,
        weightDecay: actor.optim.weight_decay,
        betas: actor.optim.betas,
        eps: actor.optim.eps,
      });
      result.optimizerSteps += 1;
      if (stepResult.skipped) result.skippedSteps += 1;
      result.losses.push(miniLoss);
      result.gradNorms.push(stepResult.gradNorm);
    }
  }
  for (const [name, sum] of metricSums) result.metrics[name] = metricTokens === 0 ? 0 : sum / metricTokens;
  return result;
}
