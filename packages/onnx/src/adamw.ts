/**
 * AdamW (decoupled weight decay, Loshchilov & Hutter 2019) over parameter
 * `Float32Array`s updated in place, with PyTorch's update order and bias
 * correction. Reports the global gradient norm, optionally clips it, and skips
 * the whole step (weights, moments and step count untouched) when the norm is
 * not finite.
 */
import { MasaError } from '@masa-rl/core';

/** Options of {@link createAdamW}. */
export interface AdamWOptions {
  /** The parameters, updated in place by `step()`. Feed the same arrays to the session (zero-copy). */
  parameters: readonly Float32Array[];
  /**
   * Default learning rate (a step may override it).
   * @default 1e-3
   */
  learningRate?: number;
  /** @default 0.9 */
  beta1?: number;
  /** @default 0.999 */
  beta2?: number;
  /** @default 1e-8 */
  epsilon?: number;
  /**
   * Decoupled weight decay coefficient.
   * @default 0.01
   */
  weightDecay?: number;
  /**
   * Per-parameter switch for weight decay (false for norms and biases).
   * @default all true
   */
  weightDecayMask?: readonly boolean[];
  /**
   * Clip the global L2 norm of the gradients to this value; no clipping when left out.
   * @default undefined
   */
  maxGradNorm?: number;
}

/** Options of {@link AdamW.step}. */
export interface AdamWStepOptions {
  /** Learning rate for this step (schedules pass it here). @default the optimizer's learningRate */
  learningRate?: number;
}

/** What one step did. */
export interface AdamWStepResult {
  /** Steps taken so far (after this one). */
  readonly step: number;
  /** Global L2 norm of the gradients before clipping (NaN/Infinity when the step was skipped). */
  readonly gradNorm: number;
  /** Factor the gradients were multiplied by (1 without clipping). */
  readonly clipScale: number;
  /** True when the norm was not finite and nothing changed. */
  readonly skipped: boolean;
}

/** Serialisable optimizer state: step count and both moments per parameter. */
export interface AdamWState {
  readonly step: number;
  readonly firstMoments: readonly Float32Array[];
  readonly secondMoments: readonly Float32Array[];
}

/** An AdamW optimizer bound to a list of parameters. */
export interface AdamW {
  /** Steps taken so far. */
  readonly stepCount: number;
  /** Applies one update from `gradients` (one array per parameter, same lengths). */
  step(gradients: readonly Float32Array[], options?: AdamWStepOptions): AdamWStepResult;
  /** A copy of the state, for checkpoints. */
  getState(): AdamWState;
  /** Restores a state from {@link AdamW.getState}; resumes bit-identically. */
  loadState(state: AdamWState): void;
}

function checkRange(name: string, value: number, low: number, high: number, inclusiveHigh = false): void {
  const ok = Number.isFinite(value) && value >= low && (inclusiveHigh ? value <= high : value < high);
  if (!ok) {
    throw new MasaError('CONFIG_INVALID', `AdamW: ${name} must be in [${low}, ${high}${inclusiveHigh ? ']' : ')'}, got ${value}`);
  }
}

/** Σ g² in float64. A plain function of locals so V8 keeps the loop tight. */
function sumOfSquares(gradient: Float32Array): number {
  let total = 0;
  // Hot loop: i < gradient.length, so every read is in bounds.
  for (let i = 0; i < gradient.length; i++) {
    const g = gradient[i]!;
    total += g * g;
  }
  return total;
}

/** One AdamW update of one parameter array, in place (PyTorch's order: decay, moments, step). */
function adamwKernel(
  parameter: Float32Array,
  gradient: Float32Array,
  m: Float32Array,
  v: Float32Array,
  gradientScale: number,
  decay: number,
  oneMinusBeta1: number,
  beta2: number,
  oneMinusBeta2: number,
  stepSize: number,
  biasCorrection2Sqrt: number,
  epsilon: number,
): void {
  const count = parameter.length;
  // Hot loop: the four arrays have `count` elements (checked by the caller).
  for (let i = 0; i < count; i++) {
    const g = gradient[i]! * gradientScale;
    const mi = m[i]! + (g - m[i]!) * oneMinusBeta1;
    const vi = v[i]! * beta2 + g * g * oneMinusBeta2;
    m[i] = mi;
    v[i] = vi;
    parameter[i] = parameter[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) / biasCorrection2Sqrt + epsilon);
  }
}

/** Creates an AdamW optimizer. Moments start at zero. */
export function createAdamW(options: AdamWOptions): AdamW {
  const {
    parameters,
    learningRate = 1e-3,
    beta1 = 0.9,
    beta2 = 0.999,
    epsilon = 1e-8,
    weightDecay = 0.01,
    weightDecayMask,
    maxGradNorm,
  } = options;
  checkRange('learningRate', learningRate, 0, Number.MAX_VALUE);
  checkRange('beta1', beta1, 0, 1);
  checkRange('beta2', beta2, 0, 1);
  checkRange('epsilon', epsilon, 0, Number.MAX_VALUE);
  checkRange('weightDecay', weightDecay, 0, Number.MAX_VALUE);
  if (maxGradNorm !== undefined && !(maxGradNorm > 0 && Number.isFinite(maxGradNorm))) {
    throw new MasaError('CONFIG_INVALID', `AdamW: maxGradNorm must be a positive number, got ${maxGradNorm}`);
  }
  if (weightDecayMask !== undefined && weightDecayMask.length !== parameters.length) {
    throw new MasaError('CONFIG_INVALID', `AdamW: weightDecayMask has ${weightDecayMask.length} entries for ${parameters.length} parameters`);
  }
  parameters.forEach((parameter, index) => {
    if (!(parameter instanceof Float32Array)) throw new MasaError('CONFIG_INVALID', `AdamW: parameter ${index} is not a Float32Array`);
  });
  let stepCount = 0;
  let firstMoments = parameters.map((parameter) => new Float32Array(parameter.length));
  let secondMoments = parameters.map((parameter) => new Float32Array(parameter.length));

  const checkGradients = (gradients: readonly Float32Array[]): void => {
    if (gradients.length !== parameters.length) {
      throw new MasaError('ARGUMENT_INVALID', `AdamW.step: ${gradients.length} gradients for ${parameters.length} parameters`);
    }
    gradients.forEach((gradient, index) => {
      if (!(gradient instanceof Float32Array) || gradient.length !== (parameters[index] as Float32Array).length) {
        throw new MasaError(
          'ARGUMENT_INVALID',
          `AdamW.step: gradient ${index} must be a Float32Array of ${(parameters[index] as Float32Array).length} elements`,
        );
      }
    });
  };

  return {
    get stepCount() {
      return stepCount;
    },
    step(gradients, stepOptions = {}) {
      checkGradients(gradients);
      const lr = stepOptions.learningRate ?? learningRate;
      checkRange('learningRate', lr, 0, Number.MAX_VALUE);
      let squares = 0;
      for (const gradient of gradients) squares += sumOfSquares(gradient);
      const gradNorm = Math.sqrt(squares);
      if (!Number.isFinite(gradNorm)) return { step: stepCount, gradNorm, clipScale: 1, skipped: true };
      const clipScale = maxGradNorm !== undefined && gradNorm > maxGradNorm ? maxGradNorm / (gradNorm + 1e-6) : 1;
      stepCount += 1;
      const biasCorrection1 = 1 - beta1 ** stepCount;
      const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** stepCount);
      const stepSize = lr / biasCorrection1;
      const oneMinusBeta1 = 1 - beta1;
      const oneMinusBeta2 = 1 - beta2;
      parameters.forEach((parameter, index) => {
        const gradient = gradients[index] as Float32Array;
        const m = firstMoments[index] as Float32Array;
        const v = secondMoments[index] as Float32Array;
        const decay = weightDecayMask === undefined || weightDecayMask[index] ? 1 - lr * weightDecay : 1;
        adamwKernel(parameter, gradient, m, v, clipScale, decay, oneMinusBeta1, beta2, oneMinusBeta2, stepSize, biasCorrection2Sqrt, epsilon);
      });
      return { step: stepCount, gradNorm, clipScale, skipped: false };
    },
    getState() {
      return {
        step: stepCount,
        firstMoments: firstMoments.map((m) => m.slice()),
        secondMoments: secondMoments.map((v) => v.slice()),
      };
    },
    loadState(state) {
      const invalid = (why: string): MasaError =>
        new MasaError('CHECKPOINT_INVALID', `AdamW.loadState: ${why}; load the optimizer state saved with these parameters`);
      if (!Number.isInteger(state.step) || state.step < 0) throw invalid(`step must be a non-negative integer, got ${state.step}`);
      for (const [label, moments] of [
        ['firstMoments', state.firstMoments],
        ['secondMoments', state.secondMoments],
      ] as const) {
        if (moments.length !== parameters.length) throw invalid(`${label} has ${moments.length} entries for ${parameters.length} parameters`);
        moments.forEach((moment, index) => {
          if (!(moment instanceof Float32Array) || moment.length !== (parameters[index] as Float32Array).length) {
            throw invalid(`${label}[${index}] must be a Float32Array of ${(parameters[index] as Float32Array).length} elements`);
          }
        });
      }
      stepCount = state.step;
      firstMoments = state.firstMoments.map((m) => m.slice());
      secondMoments = state.secondMoments.map((v) => v.slice());
    },
  };
}
