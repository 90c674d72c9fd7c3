/**
 * Shared vocabulary of `@masa-rl/grpo-loss`.
 *
 * Layout convention for every token-level array in this package: a flat,
 * row-major `[batch, seq]` matrix (`index = row * seqLen + col`), where
 * `seqLen` is the padded response length and `batch` the number of sequences.
 * The response mask holds 1 for tokens that count (the response up to and
 * including EOS) and 0 for padding.
 */

/** Any array of numbers the functions read: typed arrays or plain arrays. */
export type NumberArrayLike = ArrayLike<number>;

/**
 * How the token matrix of losses becomes one scalar (verl `actor.loss_agg_mode`).
 *
 * With `m` the response mask, `L` the per-token loss, `n_i = Σ_t m_it` and
 * `S = #{i : n_i > 0}`:
 * - `token-mean`: `Σ m·L / Σ m` (DAPO; MASA's scripts);
 * - `seq-mean-token-mean`: `(1/S) Σ_i [Σ_t m_it L_it / (n_i + 1e-8)]` (original GRPO);
 * - `seq-mean-token-sum`: `(1/S) Σ_i Σ_t m_it L_it`;
 * - `seq-mean-token-sum-norm`: `Σ m·L / lossScaleFactor`, where the factor defaults to
 *   `seqLen` (Dr.GRPO). Note verl divides by the factor only, not by the number of sequences.
 */
export type LossAggMode =
  | 'token-mean'
  | 'seq-mean-token-mean'
  | 'seq-mean-token-sum'
  | 'seq-mean-token-sum-norm';

/** Every {@link LossAggMode}, for validation and docs. */
export const LOSS_AGG_MODES: readonly LossAggMode[] = [
  'token-mean',
  'seq-mean-token-mean',
  'seq-mean-token-sum',
  'seq-mean-token-sum-norm',
];

/** The base KL estimators, under verl's `kl_penalty` / `kl_loss_type` names. */
export type KlPenaltyBase = 'kl' | 'k1' | 'abs' | 'mse' | 'k2' | 'low_var_kl' | 'k3';

/**
 * A KL estimator name as verl spells it. A trailing `+` (e.g. `k3+`) keeps the
 * estimator's value but takes the gradient of k2 (straight-through), as verl
 * documents for `kl_penalty`.
 */
export type KlPenalty = KlPenaltyBase | `${KlPenaltyBase}+`;

/** Every base KL estimator name; each is also valid with a trailing `+`. */
export const KL_PENALTY_BASES: readonly KlPenaltyBase[] = ['kl', 'k1', 'abs', 'mse', 'k2', 'low_var_kl', 'k3'];

/**
 * Outcome advantage estimators (verl `algorithm.adv_estimator`, plus `dr-grpo`).
 * - `grpo`: `(r − mean) / (std + ε)` per uid group (std unbiased, n−1);
 * - `dr-grpo`: `r − mean` (verl: `adv_estimator=grpo` with `norm_adv_by_std_in_grpo=false`);
 * - `rloo`: `r − mean of the other members of the group`.
 */
export type AdvantageEstimator = 'grpo' | 'dr-grpo' | 'rloo';

/** Every {@link AdvantageEstimator}. */
export const ADVANTAGE_ESTIMATORS: readonly AdvantageEstimator[] = ['grpo', 'dr-grpo', 'rloo'];

/**
 * Ids that go into error messages and details so a failure can be traced to a
 * training step and batch (e.g. `{ step: 12, miniBatch: 1, microBatch: 3 }`).
 */
export type ErrorContext = Readonly<Record<string, string | number>>;
