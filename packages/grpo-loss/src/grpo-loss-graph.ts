/**
 * The graph form of the actor loss: the same formulas as `computeGrpoLoss`
 * (`policyLossToken`, `klPenaltyValue`, `Σ W ⊙ L`), written op for op with the
 * `@masa-rl/onnx` builder so the trainer can append it to the model graph and
 * let `grad()` carry `dLoss/dlogp` back into the parameters.
 *
 * Only ops that the onnx package's autodiff differentiates sit on the loss
 * path: Where, Sub, Neg, Mul, Add, Clip (constant bounds), Exp, Max, Min, Abs,
 * ReduceSum, and stopGradient (Identity) for the straight-through KL variants.
 */
import { MasaError } from '@masa-rl/core';
import {
  abs,
  add,
  and,
  cast,
  clip,
  div,
  equal,
  exp,
  greater,
  less,
  max,
  min,
  mul,
  neg,
  not,
  reduceMax,
  reduceMin,
  reduceSum,
  stopGradient,
  sub,
  where,
  type DType,
  type Dim,
  type Graph,
  type Tensor,
  type TensorValue,
} from '@masa-rl/onnx';
import type { ActorMetrics } from './grpo-loss.js';
import { K3_LOG_RATIO_CLAMP, K3_VALUE_CLAMP, parseKlPenalty } from './kl-penalty.js';
import { resolvePolicyLossConfig, type PolicyLossConfig, type ResolvedPolicyLossConfig } from './loss-config.js';
import { LOG_RATIO_CLAMP } from './policy-loss.js';

/** Options of {@link buildGrpoLossGraph}. Every tensor is `[batch, seq]` of one float dtype (except the mask). */
export interface GrpoLossGraphOptions {
  /** Current policy log-probs of the sampled tokens (the model's output: gradients flow into it). */
  logp: Tensor;
  /** Log-probs under the policy that generated the batch (verl `old_log_probs`); a constant of the step. */
  oldLogp: Tensor;
  /** Per-token advantages (see `broadcastToTokens`). */
  advantages: Tensor;
  /**
   * The aggregation weights `W` from `computeAggregationWeights` (times a
   * micro-batch weight, if any): the loss is `Σ W ⊙ L`. Fed as an input, so
   * `lossAggMode`, `lossScaleFactor` and micro-batch weighting stay in
   * TypeScript and one graph serves every mode. Entries on padding are ignored.
   */
  tokenWeights: Tensor;
  /**
   * Response mask: a bool tensor, or a numeric one where exactly `1` marks a
   * response token (as in the TS form). Padding entries of every other input
   * are never read: they are replaced by 0 with `Where` before any arithmetic,
   * so a NaN or `-inf` there reaches neither the loss nor any gradient.
   */
  responseMask: Tensor;
  /** Reference policy log-probs (verl `ref_log_prob`); required when `config.useKlLoss`. */
  refLogp?: Tensor | undefined;
  /**
   * Per-token entropies of the current policy (verl `entropys`); required when
   * `config.entropyCoeff ≠ 0`. When given, the entropy metric is built; when
   * it is a function of the model's logits, gradients flow into it.
   */
  entropy?: Tensor | undefined;
  /**
   * Loss settings; unset fields take MASA's defaults. `lossAggMode` and
   * `lossScaleFactor` are not read here: they are already inside `tokenWeights`.
   * @default {}
   */
  config?: PolicyLossConfig | undefined;
  /**
   * Prefix of the names in {@link GrpoLossGraph.metricOutputs}.
   * @default 'metrics.'
   */
  metricOutputPrefix?: string;
}

/** Scalar metric tensors of one loss evaluation, under the names of the TS form's `PolicyLossMetrics`. */
export interface GrpoLossGraphMetrics {
  /** Fraction of response tokens where the ε clip binds (`L2 > L1`; verl `actor/pg_clipfrac`). */
  pgClipfrac: Tensor;
  /** Fraction of response tokens where the dual clip binds (verl `actor/pg_clipfrac_lower`). */
  pgClipfracLower: Tensor;
  /** The part of `pgClipfrac` with `A > 0`. */
  pgClipfracRatioHigh: Tensor;
  /** The part of `pgClipfrac` with `A ≤ 0`. */
  pgClipfracRatioLow: Tensor;
  /** `mean(−clamp(logp − oldLogp, ±20))` over response tokens (verl `actor/ppo_kl`). */
  ppoKl: Tensor;
  /** Mean, min and max of ρ over response tokens (0 when there is none). */
  ratioMean: Tensor;
  ratioMin: Tensor;
  ratioMax: Tensor;
  /** Number of response tokens, as a float. */
  validTokens: Tensor;
}

/** What {@link buildGrpoLossGraph} adds to the graph. Scalars have shape `[]`. */
export interface GrpoLossGraph {
  /** `pgLoss − entropyCoeff·entropyLoss + klLossCoef·klLoss` (extra terms only when enabled): differentiate this. */
  loss: Tensor;
  /** `Σ W ⊙ L_pg` (verl `pg_loss`). */
  pgLoss: Tensor;
  /** `Σ W ⊙ kl`; present only when `useKlLoss`. */
  klLoss?: Tensor;
  /** `Σ W ⊙ H`; present only when an entropy tensor was given. */
  entropyLoss?: Tensor;
  /** `[batch, seq]` token losses `L_pg − entropyCoeff·H + β·kl` (each term only when enabled), 0 on padding. */
  tokenLosses: Tensor;
  /** Metric scalars. */
  metrics: GrpoLossGraphMetrics;
  /**
   * Every scalar (`loss`, `pgLoss`, the metrics, `klLoss`, `entropy`) keyed by
   * its output name (`metricOutputPrefix` + the `ActorMetrics` field): pass it
   * as `grad({ outputs })` or to `graph.output`, then read the run's values
   * back with {@link readGrpoLossMetrics}.
   */
  metricOutputs: Readonly<Record<string, Tensor>>;
  /** The prefix of the names in `metricOutputs`. */
  metricOutputPrefix: string;
  /** The config with defaults filled in. */
  config: ResolvedPolicyLossConfig;
}

/** Names of the graph inputs that {@link declareGrpoLossInputs} declares. */
export const GRPO_LOSS_INPUT_NAMES = Object.freeze({
  logp: 'logp',
  oldLogp: 'old_logp',
  advantages: 'advantages',
  tokenWeights: 'token_weights',
  responseMask: 'response_mask',
  refLogp: 'ref_logp',
  entropy: 'entropy',
});

/** Options of {@link declareGrpoLossInputs}. */
export interface DeclareGrpoLossInputsOptions {
  /**
   * The current policy's log-probs when the graph already computes them (the
   * model's output in a training graph); when left out, an input `logp` is declared.
   * @default a new input
   */
  logp?: Tensor;
  /**
   * The old log-probs when the graph computes them: `stopGradient(logp)` for an on-policy update (one optimiser step
   * per batch, so π_old is the current policy: ratio exactly 1, as verl's actor does then); when left out, an input
   * `old_logp` is declared.
   * @default a new input
   */
  oldLogp?: Tensor;
  /**
   * Float dtype of the declared inputs.
   * @default logp.dtype when logp is given, else 'float32'
   */
  dtype?: DType;
  /**
   * Rows dimension (a number or a symbol name).
   * @default logp.shape[0] when logp is given, else 'batch'
   */
  batch?: Dim;
  /**
   * Columns dimension (padded response length).
   * @default logp.shape[1] when logp is given, else 'seq'
   */
  seq?: Dim;
  /**
   * Declare `ref_logp` (needed with `useKlLoss`).
   * @default false
   */
  refLogp?: boolean;
  /**
   * `true` declares an input `entropy` (needed with `entropyCoeff ≠ 0`); a
   * tensor (the model's per-token entropies) is used as it is.
   * @default false
   */
  entropy?: boolean | Tensor;
  /**
   * Dtype of `response_mask`: `'bool'` takes a 0/1 `Uint8Array` without a copy.
   * @default 'bool'
   */
  maskDType?: DType;
}

/** The tensors of {@link declareGrpoLossInputs}: spread them into {@link buildGrpoLossGraph}'s options. */
export interface GrpoLossInputs {
  logp: Tensor;
  oldLogp: Tensor;
  advantages: Tensor;
  tokenWeights: Tensor;
  responseMask: Tensor;
  refLogp?: Tensor;
  entropy?: Tensor;
}

/**
 * Declares the per-token inputs of the loss on `graph` under the names of
 * {@link GRPO_LOSS_INPUT_NAMES}, all `[batch, seq]`; `logp`, `oldLogp` (and
 * `entropy`) may instead be tensors the graph already computes.
 */
export function declareGrpoLossInputs(graph: Graph, options: DeclareGrpoLossInputsOptions = {}): GrpoLossInputs {
  const { logp, oldLogp, refLogp = false, entropy = false, maskDType = 'bool' } = options;
  const dtype = options.dtype ?? logp?.dtype ?? 'float32';
  const shape = [options.batch ?? logp?.shape[0] ?? 'batch', options.seq ?? logp?.shape[1] ?? 'seq'];
  const names = GRPO_LOSS_INPUT_NAMES;
  return {
    logp: logp ?? graph.input(names.logp, dtype, shape),
    oldLogp: oldLogp ?? graph.input(names.oldLogp, dtype, shape),
    advantages: graph.input(names.advantages, dtype, shape),
    tokenWeights: graph.input(names.tokenWeights, dtype, shape),
    responseMask: graph.input(names.responseMask, maskDType, shape),
    ...(refLogp ? { refLogp: graph.input(names.refLogp, dtype, shape) } : {}),
    ...(entropy === true ? { entropy: graph.input(names.entropy, dtype, shape) } : entropy === false ? {} : { entropy }),
  };
}

const FLOAT_DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16'];

function checkTokenTensor(graph: Graph, field: string, tensor: Tensor, dtype: DType | undefined, reference: Tensor): void {
  if (tensor.graph !== graph) {
    throw new MasaError(
      'GRAPH_INVALID',
      `buildGrpoLossGraph: ${field} belongs to graph '${tensor.graph.name}', not to '${graph.name}': build every input in the graph you pass`,
      { details: { field } },
    );
  }
  if (tensor.rank !== 2) {
    throw new MasaError(
      'GRAPH_INVALID',
      `buildGrpoLossGraph: ${field} must be a [batch, seq] tensor, got shape [${tensor.shape.join(', ')}] (reshape it to [batch, seq])`,
      { details: { field, shape: tensor.shape } },
    );
  }
  tensor.shape.forEach((dim, axis) => {
    const expected = reference.shape[axis];
    if (typeof dim === 'number' && typeof expected === 'number' && dim !== expected) {
      throw new MasaError(
        'GRAPH_INVALID',
        `buildGrpoLossGraph: ${field} has shape [${tensor.shape.join(', ')}] but logp has [${reference.shape.join(', ')}]: every token tensor must be [batch, seq]`,
        { details: { field, shape: tensor.shape, expected: reference.shape } },
      );
    }
  });
  if (dtype !== undefined && tensor.dtype !== dtype) {
    throw new MasaError(
      'GRAPH_INVALID',
      `buildGrpoLossGraph: ${field} is ${tensor.dtype} but logp is ${dtype}: cast it (cast(${field}, '${dtype}')) or declare it as ${dtype}`,
      { details: { field, dtype: tensor.dtype, expected: dtype } },
    );
  }
}

/**
 * Appends the actor loss of `computeGrpoLoss` to `graph`, op for op:
 *
 * ```
 * m  = responseMask (bool, or == 1)         x̃ = Where(m, x, 0) for every token input x
 * δ  = Clip(l̃ogp − õldLogp, −20, 20)        ρ = Exp(δ)
 * L1 = (−Ã)·ρ                               L2 = (−Ã)·Clip(ρ, 1 − ε_low, 1 + ε_high)
 * Lc = Max(L1, L2)                          L_pg = Where(Ã < 0, Min(Lc, (−Ã)·c), Lc)
 * pgLoss = ReduceSum(W̃ ⊙ L_pg)
 * kl  (useKlLoss): d = l̃ogp − r̃ef; k1 d, abs |d|, k2 (0.5·d)·d,
 *     k3 Clip(Exp(x) − x − 1, −10, 10) with x = Clip(−d, −20, 20);
 *     `+` names: stopGradient(value) + (k2 − stopGradient(k2))
 * loss = pgLoss − entropyCoeff·ReduceSum(W̃ ⊙ H̃) + β·ReduceSum(W̃ ⊙ kl)
 * ```
 *
 * Because padding is zeroed before the arithmetic (not multiplied by the mask
 * after it), the backward graph's `Where` sends exactly 0 to padded `logp`
 * and `entropy` entries whatever they hold. The gradient conventions are the
 * TS form's (and PyTorch's): a Clip passes the gradient inside and on its
 * bounds, Max/Min split it half and half on an exact tie, `|d|` has
 * derivative 0 at 0.
 *
 * The graph cannot throw on a non-finite response-token input as the TS form
 * does: such a value makes `loss` NaN or infinite, and the caller must check
 * the loss it reads back (NUMERIC_INSTABILITY with step and batch ids).
 *
 * Throws CONFIG_INVALID for a bad config, ARGUMENT_INVALID when `useKlLoss`
 * has no `refLogp` or `entropyCoeff ≠ 0` has no `entropy`, and GRAPH_INVALID
 * for tensors of another graph, another dtype, or a rank other than 2.
 */
export function buildGrpoLossGraph(graph: Graph, options: GrpoLossGraphOptions): GrpoLossGraph {
  const {
    logp,
    oldLogp,
    advantages,
    tokenWeights,
    responseMask,
    refLogp,
    entropy,
    config,
    metricOutputPrefix = 'metrics.',
  } = options;
  const resolved = resolvePolicyLossConfig(config);
  const klPenalty = resolved.useKlLoss ? parseKlPenalty(resolved.klLossType) : undefined;
  if (klPenalty !== undefined && refLogp === undefined) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      "buildGrpoLossGraph: useKlLoss is true but no refLogp tensor was given: pass the reference policy's log-probs or set useKlLoss false",
      { details: { field: 'refLogp' } },
    );
  }
  if (resolved.entropyCoeff !== 0 && entropy === undefined) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `buildGrpoLossGraph: entropyCoeff is ${resolved.entropyCoeff} but no entropy tensor was given: pass entropy or set entropyCoeff 0`,
      { details: { field: 'entropy' } },
    );
  }
  checkTokenTensor(graph, 'logp', logp, undefined, logp);
  const dtype = logp.dtype;
  if (!FLOAT_DTYPES.includes(dtype)) {
    throw new MasaError('GRAPH_INVALID', `buildGrpoLossGraph: logp must be a float tensor, got ${dtype}`, {
      details: { field: 'logp', dtype },
    });
  }
  checkTokenTensor(graph, 'oldLogp', oldLogp, dtype, logp);
  checkTokenTensor(graph, 'advantages', advantages, dtype, logp);
  checkTokenTensor(graph, 'tokenWeights', tokenWeights, dtype, logp);
  checkTokenTensor(graph, 'responseMask', responseMask, undefined, logp);
  if (refLogp !== undefined) checkTokenTensor(graph, 'refLogp', refLogp, dtype, logp);
  if (entropy !== undefined) checkTokenTensor(graph, 'entropy', entropy, dtype, logp);

  // The mask, and every token input with padding replaced by 0 before any arithmetic.
  const valid = responseMask.dtype === 'bool' ? responseMask : equal(responseMask, 1); // [batch, seq] bool
  const onTokens = (tensor: Tensor): Tensor => where(valid, tensor, 0);
  const currentLogp = onTokens(logp); // [batch, seq]
  const previousLogp = onTokens(oldLogp); // [batch, seq]
  const advantage = onTokens(advantages); // [batch, seq]
  const weights = onTokens(tokenWeights); // [batch, seq]

  // Policy loss (policyLossToken).
  const logRatio = clip(sub(currentLogp, previousLogp), { min: -LOG_RATIO_CLAMP, max: LOG_RATIO_CLAMP }); // [batch, seq]
  const ratio = exp(logRatio); // [batch, seq]
  const negativeAdvantage = neg(advantage); // [batch, seq]
  const loss1 = mul(negativeAdvantage, ratio);
  const loss2 = mul(negativeAdvantage, clip(ratio, { min: 1 - resolved.clipRatioLow, max: 1 + resolved.clipRatioHigh }));
  const lossClip = max(loss1, loss2);
  const loss3 = mul(negativeAdvantage, resolved.clipRatioC);
  const advantageNegative = less(advantage, 0); // [batch, seq] bool
  const policyTokenLoss = where(advantageNegative, min(lossClip, loss3), lossClip); // [batch, seq]
  const pgLoss = reduceSum(mul(weights, policyTokenLoss), { keepdims: false }); // []
  // KL penalty against the reference policy (klPenaltyValue / klPenaltyGradient).
  let klValue: Tensor | undefined; // [batch, seq]
  let klLoss: Tensor | undefined;
  if (klPenalty !== undefined && refLogp !== undefined) {
    const diff = sub(currentLogp, onTokens(refLogp)); // [batch, seq]
    const k2 = (): Tensor => mul(mul(diff, 0.5), diff);
    switch (klPenalty.base) {
      case 'kl':
      case 'k1':
        klValue = diff;
        break;
      case 'abs':
        klValue = abs(diff);
        break;
      case 'mse':
      case 'k2':
        klValue = k2();
        break;
      case 'low_var_kl':
      case 'k3': {
        const x = clip(neg(diff), { min: -K3_LOG_RATIO_CLAMP, max: K3_LOG_RATIO_CLAMP });
        klValue = clip(sub(sub(exp(x), x), 1), { min: -K3_VALUE_CLAMP, max: K3_VALUE_CLAMP });
        break;
      }
    }
    if (klPenalty.straightThrough) {
      // The estimator's value with k2's gradient: v + (k2 − k2) is exactly v in the forward pass.
      const surrogate = k2();
      klValue = add(stopGradient(klValue), sub(surrogate, stopGradient(surrogate)));
    }
    klLoss = reduceSum(mul(weights, klValue), { keepdims: false }); // []
  }

  // Entropy bonus.
  let entropyOnTokens: Tensor | undefined; // [batch, seq]
  let entropyLoss: Tensor | undefined;
  if (entropy !== undefined) {
    entropyOnTokens = onTokens(entropy);
    entropyLoss = reduceSum(mul(weights, entropyOnTokens), { keepdims: false }); // []
  }

  // Totals, in the TS form's order: pg − coeff·entropy + β·kl.
  let tokenLoss = policyTokenLoss; // [batch, seq]
  let loss = pgLoss; // []
  if (klValue !== undefined) tokenLoss = add(tokenLoss, mul(klValue, resolved.klLossCoef));
  if (entropyOnTokens !== undefined && entropyLoss !== undefined && resolved.entropyCoeff !== 0) {
    tokenLoss = sub(tokenLoss, mul(entropyOnTokens, resolved.entropyCoeff));
    loss = sub(loss, mul(entropyLoss, resolved.entropyCoeff));
  }
  if (klLoss !== undefined) loss = add(loss, mul(klLoss, resolved.klLossCoef));

  // Metrics (computePolicyLoss): masked means over response tokens, 0 when there is none.
  const validTokens = reduceSum(cast(valid, dtype), { keepdims: false }); // []
  const denominator = max(validTokens, 1);
  const anyToken = greater(validTokens, 0);
  const fraction = (condition: Tensor): Tensor =>
    div(reduceSum(cast(and(valid, condition), dtype), { keepdims: false }), denominator);
  const tokenMean = (values: Tensor): Tensor => div(reduceSum(where(valid, values, 0), { keepdims: false }), denominator);
  const clipped = greater(loss2, loss1);
  const advantagePositive = greater(advantage, 0);
  const metrics: GrpoLossGraphMetrics = {
    pgClipfrac: fraction(clipped),
    pgClipfracLower: fraction(and(advantageNegative, greater(lossClip, loss3))),
    pgClipfracRatioHigh: fraction(and(clipped, advantagePositive)),
    pgClipfracRatioLow: fraction(and(clipped, not(advantagePositive))),
    ppoKl: tokenMean(neg(logRatio)),
    ratioMean: tokenMean(ratio),
    ratioMin: where(anyToken, reduceMin(where(valid, ratio, Infinity), { keepdims: false }), 0),
    ratioMax: where(anyToken, reduceMax(where(valid, ratio, -Infinity), { keepdims: false }), 0),
    validTokens,
  };

  const metricOutputs: Record<string, Tensor> = {
    [`${metricOutputPrefix}loss`]: loss,
    [`${metricOutputPrefix}pgLoss`]: pgLoss,
  };
  for (const [name, tensor] of Object.entries(metrics) as [string, Tensor][]) metricOutputs[`${metricOutputPrefix}${name}`] = tensor;
  if (klLoss !== undefined) metricOutputs[`${metricOutputPrefix}klLoss`] = klLoss;
  if (entropyLoss !== undefined) metricOutputs[`${metricOutputPrefix}entropy`] = entropyLoss;

  return {
    loss,
    pgLoss,
    ...(klLoss === undefined ? {} : { klLoss }),
    ...(entropyLoss === undefined ? {} : { entropyLoss }),
    tokenLosses: where(valid, tokenLoss, 0),
    metrics,
    metricOutputs,
    metricOutputPrefix,
    config: resolved,
  };
}

/** Options of {@link readGrpoLossMetrics}. */
export interface ReadGrpoLossMetricsOptions {
  /** The fragment whose `metricOutputs` were added to the graph. */
  fragment: GrpoLossGraph;
  /** The values a session run returned (only the `metricOutputs` names are read). */
  values: Readonly<Record<string, TensorValue>>;
}

/**
 * Turns the values of {@link GrpoLossGraph.metricOutputs} from a session run
 * into the TS form's `ActorMetrics` (same fields, same meaning), so both forms
 * log the same `actor/*` keys through `toVerlMetrics`.
 */
export function readGrpoLossMetrics({ fragment, values }: ReadGrpoLossMetricsOptions): ActorMetrics {
  const read: Record<string, number> = {};
  const prefixLength = fragment.metricOutputPrefix.length;
  for (const name of Object.keys(fragment.metricOutputs)) {
    const value = values[name];
    if (value === undefined || value.data.length !== 1) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `readGrpoLossMetrics: the run returned no scalar '${name}': ` +
          'pass fragment.metricOutputs to grad({ outputs }) (or graph.output) and ask the session for them',
        { details: { field: name, available: Object.keys(values) } },
      );
    }
    read[name.slice(prefixLength)] = Number(value.data[0]);
  }
  const field = (name: string): number => read[name] as number;
  const { config } = fragment;
  return {
    pgClipfrac: field('pgClipfrac'),
    pgClipfracLower: field('pgClipfracLower'),
    pgClipfracRatioHigh: field('pgClipfracRatioHigh'),
    pgClipfracRatioLow: field('pgClipfracRatioLow'),
    ppoKl: field('ppoKl'),
    ratioMean: field('ratioMean'),
    ratioMin: field('ratioMin'),
    ratioMax: field('ratioMax'),
    validTokens: field('validTokens'),
    loss: field('loss'),
    pgLoss: field('pgLoss'),
    ...(fragment.klLoss === undefined ? {} : { klLoss: field('klLoss'), klCoef: config.klLossCoef }),
    ...(fragment.entropyLoss === undefined ? {} : { entropy: field('entropy') }),
  };
}
