import { MasaError } from '@masa-rl/core';
import { checkLossAggMode } from './aggregation.js';
import { checkConfigNumber } from './input-checks.js';
import { parseKlPenalty } from './kl-penalty.js';
import type { KlPenalty, LossAggMode } from './types.js';

/**
 * Actor loss settings, camelCase versions of verl's `actor_rollout_ref.actor.*`
 * keys (each field names its key). Defaults are MASA's shipped scripts and
 * paper (clip 0.2 / 0.28, dual clip 10, token-mean, no KL, no entropy bonus),
 * which differ from verl's own defaults where noted.
 */
export interface PolicyLossConfig {
  /**
   * Lower clip range ε_low: the ratio is clipped at `1 − ε_low` (verl `clip_ratio_low`).
   * @default 0.2
   */
  clipRatioLow?: number;
  /**
   * Upper clip range ε_high: the ratio is clipped at `1 + ε_high` (verl
   * `clip_ratio_high`; verl's default is 0.2, MASA and DAPO use 0.28).
   * @default 0.28
   */
  clipRatioHigh?: number;
  /**
   * Dual-clip bound c > 1: for A < 0 the token loss is capped at `−A·c`
   * (verl `clip_ratio_c`; verl's default is 3.0, MASA's scripts set 10).
   * @default 10
   */
  clipRatioC?: number;
  /**
   * Aggregation of token losses (verl `loss_agg_mode`).
   * @default 'token-mean'
   */
  lossAggMode?: LossAggMode;
  /**
   * Divisor of `seq-mean-token-sum-norm` (verl `loss_scale_factor`); unset
   * means the padded response length `seqLen`.
   * @default undefined
   */
  lossScaleFactor?: number;
  /**
   * Entropy bonus coefficient: the loss gets `− entropyCoeff · agg(entropy)`
   * (verl `entropy_coeff`).
   * @default 0
   */
  entropyCoeff?: number;
  /**
   * Add a KL penalty against a reference policy to the loss (verl `use_kl_loss`).
   * @default false
   */
  useKlLoss?: boolean;
  /**
   * KL coefficient β: the loss gets `+ β · agg(kl)` when `useKlLoss` (verl `kl_loss_coef`).
   * @default 0.001
   */
  klLossCoef?: number;
  /**
   * KL estimator (verl `kl_loss_type`).
   * @default 'low_var_kl'
   */
  klLossType?: KlPenalty;
}

/** A {@link PolicyLossConfig} with every default filled in. */
export interface ResolvedPolicyLossConfig {
  clipRatioLow: number;
  clipRatioHigh: number;
  clipRatioC: number;
  lossAggMode: LossAggMode;
  /** Absent: `seqLen` of the batch at hand. */
  lossScaleFactor?: number;
  entropyCoeff: number;
  useKlLoss: boolean;
  klLossCoef: number;
  klLossType: KlPenalty;
}

/** The defaults (MASA shipped scripts, see {@link PolicyLossConfig}). */
export const DEFAULT_POLICY_LOSS_CONFIG: Readonly<ResolvedPolicyLossConfig> = Object.freeze({
  clipRatioLow: 0.2,
  clipRatioHigh: 0.28,
  clipRatioC: 10,
  lossAggMode: 'token-mean',
  entropyCoeff: 0,
  useKlLoss: false,
  klLossCoef: 0.001,
  klLossType: 'low_var_kl',
});

/** The verl key (under `actor_rollout_ref.actor.`) of each config field. */
export const VERL_POLICY_LOSS_KEYS: Readonly<Record<keyof PolicyLossConfig, string>> = Object.freeze({
  clipRatioLow: 'clip_ratio_low',
  clipRatioHigh: 'clip_ratio_high',
  clipRatioC: 'clip_ratio_c',
  lossAggMode: 'loss_agg_mode',
  lossScaleFactor: 'loss_scale_factor',
  entropyCoeff: 'entropy_coeff',
  useKlLoss: 'use_kl_loss',
  klLossCoef: 'kl_loss_coef',
  klLossType: 'kl_loss_type',
});

/**
 * Fills in defaults and validates a loss config. Throws CONFIG_INVALID for an
 * unknown key (a verl snake_case key gets its camelCase name in the message),
 * a value out of range (e.g. `clipRatioC <= 1`, which verl also rejects), an
 * unknown `lossAggMode` or `klLossType`.
 */
export function resolvePolicyLossConfig(config: PolicyLossConfig = {}): ResolvedPolicyLossConfig {
  const known = Object.keys(VERL_POLICY_LOSS_KEYS);
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) {
      const camel = known.find((name) => VERL_POLICY_LOSS_KEYS[name as keyof PolicyLossConfig] === key);
      throw new MasaError(
        'CONFIG_INVALID',
        camel === undefined
          ? `unknown loss config key "${key}": the keys are ${known.join(', ')}`
          : `loss config key "${key}" is verl's spelling: write it as "${camel}"`,
        { details: { field: key } },
      );
    }
  }
  const resolved: ResolvedPolicyLossConfig = { ...DEFAULT_POLICY_LOSS_CONFIG };
  for (const [key, value] of Object.entries(config) as [keyof PolicyLossConfig, unknown][]) {
    if (value !== undefined) (resolved as unknown as Record<string, unknown>)[key] = value;
  }
  checkConfigNumber('clipRatioLow', 'clip_ratio_low', resolved.clipRatioLow, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  checkConfigNumber('clipRatioHigh', 'clip_ratio_high', resolved.clipRatioHigh, (v) => v >= 0, 'a number >= 0');
  checkConfigNumber('clipRatioC', 'clip_ratio_c', resolved.clipRatioC, (v) => v > 1, 'a number > 1 (dual-clip bound)');
  checkConfigNumber('entropyCoeff', 'entropy_coeff', resolved.entropyCoeff, () => true, 'a finite number');
  checkConfigNumber('klLossCoef', 'kl_loss_coef', resolved.klLossCoef, (v) => v >= 0, 'a number >= 0');
  if (resolved.lossScaleFactor !== undefined) {
    checkConfigNumber('lossScaleFactor', 'loss_scale_factor', resolved.lossScaleFactor, (v) => v > 0, 'a number > 0');
  }
  if (typeof resolved.useKlLoss !== 'boolean') {
    throw new MasaError('CONFIG_INVALID', `useKlLoss (verl use_kl_loss) must be true or false, got ${String(resolved.useKlLoss)}`, {
      details: { field: 'useKlLoss' },
    });
  }
  checkLossAggMode(resolved.lossAggMode);
  parseKlPenalty(resolved.klLossType);
  return resolved;
}
