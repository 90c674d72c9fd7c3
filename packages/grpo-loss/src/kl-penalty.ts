import { MasaError } from '@masa-rl/core';
import { checkFiniteWhereMasked, checkLength, checkResponseMask } from './input-checks.js';
import { KL_PENALTY_BASES, type ErrorContext, type KlPenalty, type KlPenaltyBase, type NumberArrayLike } from './types.js';

/** verl clamps `ref − logp` to ±20 before `exp` in k3. */
export const K3_LOG_RATIO_CLAMP = 20;
/** verl clamps the k3 estimate itself to ±10. */
export const K3_VALUE_CLAMP = 10;

/** A parsed {@link KlPenalty} name. */
export interface ParsedKlPenalty {
  /** The estimator giving the value. */
  base: KlPenaltyBase;
  /** True for a trailing `+`: the gradient is k2's, `logp − ref`. */
  straightThrough: boolean;
}

/** Parses and validates a KL estimator name; CONFIG_INVALID lists the valid ones. */
export function parseKlPenalty(name: string): ParsedKlPenalty {
  const straightThrough = name.endsWith('+');
  const base = straightThrough ? name.slice(0, -1) : name;
  if (!(KL_PENALTY_BASES as readonly string[]).includes(base)) {
    throw new MasaError(
      'CONFIG_INVALID',
      `unknown KL estimator "${name}" (verl actor.kl_loss_type): use one of ${KL_PENALTY_BASES.join(', ')}, ` +
        'optionally with a trailing "+" for the straight-through k2 gradient ("full" is not supported)',
      { details: { field: 'klLossType', value: name } },
    );
  }
  return { base: base as KlPenaltyBase, straightThrough };
}

/**
 * One token's KL estimate between the policy and the reference, with
 * `d = logp − refLogp` (the value of a `+` name is its base's value):
 * - `kl` / `k1`: `d`
 * - `abs`: `|d|`
 * - `mse` / `k2`: `d² / 2`
 * - `low_var_kl` / `k3`: `x = clamp(−d, −20, 20)`, `clamp(eˣ − x − 1, −10, 10)`
 */
export function klPenaltyValue(logp: number, refLogp: number, base: KlPenaltyBase): number {
  const diff = logp - refLogp;
  switch (base) {
    case 'kl':
    case 'k1':
      return diff;
    case 'abs':
      return Math.abs(diff);
    case 'mse':
    case 'k2':
      return 0.5 * diff * diff;
    case 'low_var_kl':
    case 'k3': {
      const x = Math.min(Math.max(-diff, -K3_LOG_RATIO_CLAMP), K3_LOG_RATIO_CLAMP);
      const estimate = Math.exp(x) - x - 1;
      return Math.min(Math.max(estimate, -K3_VALUE_CLAMP), K3_VALUE_CLAMP);
    }
  }
}

/**
 * `d(estimate)/d(logp)` for one token, as PyTorch's autograd gives it (a
 * clamp passes the gradient when its input is inside or on the bounds):
 * - `kl` / `k1`: `1`
 * - `abs`: `sign(d)` (0 at d = 0)
 * - `mse` / `k2`, and every `+` name: `d`
 * - `low_var_kl` / `k3`: `1 − eˣ` while neither clamp is active, else 0
 */
export function klPenaltyGradient(logp: number, refLogp: number, penalty: ParsedKlPenalty): number {
  const diff = logp - refLogp;
  if (penalty.straightThrough) return diff;
  switch (penalty.base) {
    case 'kl':
    case 'k1':
      return 1;
    case 'abs':
      return Math.sign(diff);
    case 'mse':
    case 'k2':
      return diff;
    case 'low_var_kl':
    case 'k3': {
      const x = -diff;
      if (x < -K3_LOG_RATIO_CLAMP || x > K3_LOG_RATIO_CLAMP) return 0;
      const ratio = Math.exp(x);
      const estimate = ratio - x - 1;
      if (estimate < -K3_VALUE_CLAMP || estimate > K3_VALUE_CLAMP) return 0;
      return 1 - ratio;
    }
  }
}

/** Options of {@link computeKlPenalty}. */
export interface KlPenaltyOptions {
  /** Current policy log-probs of the sampled tokens, flat `[batch, seqLen]`. */
  logp: NumberArrayLike;
  /** Reference policy log-probs, same shape. */
  refLogp: NumberArrayLike;
  /** Flat `[batch, seqLen]` 0/1 response mask; padding is left at 0. */
  responseMask: NumberArrayLike;
  /** Padded response length. */
  seqLen: number;
  /**
   * The estimator (verl `actor.kl_loss_type`).
   * @default 'low_var_kl'
   */
  klPenalty?: KlPenalty;
  /** Step / batch ids to put in error messages. */
  context?: ErrorContext | undefined;
}

/** Result of {@link computeKlPenalty}. */
export interface KlPenaltyResult {
  /** Per-token estimates, flat `[batch, seqLen]`, 0 on padding. */
  values: Float64Array;
  /** Per-token `d(value)/d(logp)`, flat `[batch, seqLen]`, 0 on padding. */
  gradients: Float64Array;
}

/**
 * Per-token KL estimates against a reference policy (verl `kl_penalty`), with
 * their derivatives with respect to `logp`. Aggregate the values with
 * `aggregateLoss` to get verl's `kl_loss`.
 */
export function computeKlPenalty({
  logp,
  refLogp,
  responseMask,
  seqLen,
  klPenalty = 'low_var_kl',
  context,
}: KlPenaltyOptions): KlPenaltyResult {
  const penalty = parseKlPenalty(klPenalty);
  checkResponseMask(responseMask, seqLen, context);
  checkLength('logp', logp, responseMask.length, 'same shape as responseMask', context);
  checkLength('refLogp', refLogp, responseMask.length, 'same shape as responseMask', context);
  checkFiniteWhereMasked('logp', logp, responseMask, seqLen, context);
  checkFiniteWhereMasked('refLogp', refLogp, responseMask, seqLen, context);
  const values = new Float64Array(responseMask.length); // [batch, seqLen]
  const gradients = new Float64Array(responseMask.length); // [batch, seqLen]
  for (let index = 0; index < responseMask.length; index++) {
    if (responseMask[index] !== 1) continue;
    const current = logp[index] as number;
    const reference = refLogp[index] as number;
    values[index] = klPenaltyValue(current, reference, penalty.base);
    gradients[index] = klPenaltyGradient(current, reference, penalty);
  }
  return { values, gradients };
}
