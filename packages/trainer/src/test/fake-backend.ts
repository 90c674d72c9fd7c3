/**
 * A deterministic {@link PolicyBackend} for tests: a handful of float64
 * pseudo-weights, log-probs that depend on the tokens and the weights, the real
 * clipped PPO token loss (from `@masa-rl/grpo-loss`) with exact gradients, and
 * torch-style AdamW with global-norm clipping. Weights move with the data, so
 * a resumed run that misses any piece of state ends somewhere else.
 *
 * Model: token t at response position j has logit `z = w[(7·t + 13·j) mod P]`
 * and `log p = log σ(z / T)`, so `d log p / d w = (1 − σ(z / T)) / T`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MasaError, createRng } from '@masa-rl/core';
import { createPolicyTokenResult, klPenaltyGradient, klPenaltyValue, parseKlPenalty, policyLossToken } from '@masa-rl/grpo-loss';
import type {
  BackendState,
  ForwardBackwardResult,
  LogprobBatch,
  LossSpec,
  OptimStepOptions,
  OptimStepResult,
  PolicyBackend,
  TrainBatch,
} from '@masa-rl/core';

export interface FakeBackendOptions {
  /** Number of pseudo-weights P. @default 8 */
  parameters?: number;
  /** Seed of the initial weights. @default 0 */
  seed?: number;
  /** Inject failures, counted in `forwardBackward` calls (1-based). */
  faults?: {
    /** This call returns a NaN loss (and poisons the gradient). */
    nanLossAtCall?: number;
    /** This call leaves a NaN in the gradient but returns a finite loss. */
    nanGradAtCall?: number;
  };
}

export interface FakeBackend extends PolicyBackend {
  /** A copy of the current weights. */
  weights(): Float64Array;
  /** Calls so far, per verb. */
  readonly counters: { logprobs: number; forwardBackward: number; gradNorm: number; optimStep: number };
  /** Every `optimStep` call's options, in order. */
  readonly optimCalls: OptimStepOptions[];
}

const WEIGHTS_FILE = 'weights.bin';
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

function toBytes(values: Float64Array): Uint8Array {
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

function fromBytes(bytes: Uint8Array, expected: number, what: string): Float64Array<ArrayBuffer> {
  if (bytes.byteLength !== expected * 8) {
    throw new MasaError('CHECKPOINT_INVALID', `fake backend ${what}: expected ${expected * 8} bytes, got ${bytes.byteLength}`);
  }
  const copy = new Uint8Array(bytes); // own ArrayBuffer, aligned
  return new Float64Array(copy.buffer);
}

/** Creates a fake backend. */
export function createFakeBackend(options: FakeBackendOptions = {}): FakeBackend {
  const { parameters = 8, seed = 0, faults = {} } = options;
  const rng = createRng(seed);
  let weights = Float64Array.from({ length: parameters }, () => 0.1 * rng.normal()); // [P]
  const reference = Float64Array.from(weights); // [P]
  let grad = new Float64Array(parameters); // [P]
  let adamM = new Float64Array(parameters); // [P]
  let adamV = new Float64Array(parameters); // [P]
  let adamStep = 0;
  const counters = { logprobs: 0, forwardBackward: 0, gradNorm: 0, optimStep: 0 };
  const optimCalls: OptimStepOptions[] = [];

  const slot = (token: number, position: number): number => (((7 * token + 13 * position) % parameters) + parameters) % parameters;
  const tokenLogprob = (w: Float64Array, token: number, position: number, temperature: number): number =>
    Math.log(sigmoid((w[slot(token, position)] as number) / temperature));

  const norm = (): number => {
    let sum = 0;
    for (const g of grad) sum += g * g;
    return Math.sqrt(sum);
  };

  return {
    specificationVersion: 'v1',
    name: 'fake',
    counters,
    optimCalls,
    weights: () => Float64Array.from(weights),

    async logprobs(batch: LogprobBatch, logprobOptions) {
      counters.logprobs += 1;
      const w = logprobOptions?.policy === 'reference' ? reference : weights;
      return batch.sequences.map((sequence) =>
        sequence.responseTokenIds.map((token, position) => tokenLogprob(w, token, position, batch.temperature)),
      );
    },

    async forwardBackward(batch: TrainBatch, loss: LossSpec): Promise<ForwardBackwardResult> {
      counters.forwardBackward += 1;
      const call = counters.forwardBackward;
      const temperature = loss.temperature ?? 1;
      const kl = loss.kind === 'policy' && loss.kl !== null ? { coef: loss.kl.coef, penalty: parseKlPenalty(loss.kl.type) } : null;
      const token = createPolicyTokenResult();
      let total = 0;
      let tokens = 0;
      let clipped = 0;
      let klSum = 0;
      for (const sequence of batch.sequences) {
        const { responseTokenIds, lossWeight } = sequence;
        for (let position = 0; position < responseTokenIds.length; position++) {
          const id = responseTokenIds[position] as number;
          const k = slot(id, position);
          const z = (weights[k] as number) / temperature;
          const logp = Math.log(sigmoid(z));
          const dLogpDw = (1 - sigmoid(z)) / temperature;
          let value: number;
          let dValueDLogp: number;
          if (loss.kind === 'cross-entropy') {
            value = -logp;
            dValueDLogp = -1;
          } else {
            // On-policy: π_old is the current policy (its log-prob, a constant of the loss).
            const old = loss.onPolicy === true ? logp : sequence.oldLogprobs?.[position];
            if (old === undefined || sequence.advantage === undefined) {
              throw new MasaError('ARGUMENT_INVALID', 'fake backend: a policy loss needs advantage and oldLogprobs for every response token (or onPolicy)');
            }
            policyLossToken(logp, old, sequence.advantage, loss, token);
            value = token.loss;
            dValueDLogp = token.dLossDLogp;
            if (token.clipped) clipped += 1;
            if (kl !== null) {
              const ref = sequence.refLogprobs?.[position];
              if (ref === undefined) throw new MasaError('ARGUMENT_INVALID', 'fake backend: a KL loss needs refLogprobs');
              const klValue = klPenaltyValue(logp, ref, kl.penalty.base);
              klSum += klValue;
              value += kl.coef * klValue;
              dValueDLogp += kl.coef * klPenaltyGradient(logp, ref, kl.penalty);
            }
          }
          total += lossWeight * value;
          grad[k] = (grad[k] as number) + lossWeight * dValueDLogp * dLogpDw;
          tokens += 1;
        }
      }
      if (faults.nanLossAtCall === call) {
        total = Number.NaN;
        grad[0] = Number.NaN;
      }
      if (faults.nanGradAtCall === call) grad[0] = Number.NaN;
      const metrics: Record<string, number> = {};
      if (loss.kind === 'policy' && tokens > 0) {
        metrics['pg_clipfrac'] = clipped / tokens;
        if (kl !== null) metrics['kl_loss'] = klSum / tokens;
      }
      return { loss: total, tokens, metrics };
    },

    async gradNorm() {
      counters.gradNorm += 1;
      return norm();
    },

    async optimStep(step: OptimStepOptions): Promise<OptimStepResult> {
      counters.optimStep += 1;
      optimCalls.push({ ...step, betas: [step.betas[0], step.betas[1]] });
      const gradNorm = norm();
      if (!Number.isFinite(gradNorm)) {
        grad = new Float64Array(parameters);
        return { gradNorm, skipped: true };
      }
      // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is < 1.
      const clip = Math.min(1, step.maxGradNorm / (gradNorm + 1e-6));
      const [beta1, beta2] = step.betas;
      adamStep += 1;
      const next = Float64Array.from(weights);
      for (let i = 0; i < parameters; i++) {
        const g = (grad[i] as number) * clip;
        next[i] = (next[i] as number) * (1 - step.lr * step.weightDecay);
        adamM[i] = beta1 * (adamM[i] as number) + (1 - beta1) * g;
        adamV[i] = beta2 * (adamV[i] as number) + (1 - beta2) * g * g;
        const mHat = (adamM[i] as number) / (1 - beta1 ** adamStep);
        const vHat = (adamV[i] as number) / (1 - beta2 ** adamStep);
        next[i] = (next[i] as number) - (step.lr * mHat) / (Math.sqrt(vHat) + step.eps);
      }
      weights = next;
      grad = new Float64Array(parameters);
      return { gradNorm, skipped: false };
    },

    async getState(): Promise<BackendState> {
      return {
        'adam-m.bin': toBytes(adamM),
        'adam-v.bin': toBytes(adamV),
        'adam-step.json': new TextEncoder().encode(JSON.stringify({ step: adamStep })),
      };
    },

    async loadState(state: BackendState) {
      const m = state['adam-m.bin'];
      const v = state['adam-v.bin'];
      const step = state['adam-step.json'];
      if (m === undefined || v === undefined || step === undefined) {
        throw new MasaError('CHECKPOINT_INVALID', 'fake backend state needs adam-m.bin, adam-v.bin and adam-step.json');
      }
      adamM = fromBytes(m, parameters, 'adam-m.bin');
      adamV = fromBytes(v, parameters, 'adam-v.bin');
      adamStep = (JSON.parse(new TextDecoder().decode(step)) as { step: number }).step;
      grad = new Float64Array(parameters);
    },

    async saveWeights(dir: string) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, WEIGHTS_FILE), toBytes(weights));
    },

    async loadWeights(dir: string) {
      weights = fromBytes(new Uint8Array(await readFile(join(dir, WEIGHTS_FILE))), parameters, WEIGHTS_FILE);
    },
  };
}
