/**
 * The graphs of the ORT policy backend, built from `@masa-rl/model`'s decoder blocks: a
 * scoring graph (log-probs of given tokens) and training graphs (log-probs → a loss →
 * gradients of every weight). The logits are divided by a `temperature` input before the
 * softmax, so one graph serves every rollout temperature.
 */
import { MasaError } from '@masa-rl/core';
import { buildGrpoLossGraph, declareGrpoLossInputs, type GrpoLossGraph } from '@masa-rl/grpo-loss/graph';
import {
  ATTENTION_MASK,
  BATCH_DIM,
  INPUT_IDS,
  POSITION_IDS,
  SEQUENCE_DIM,
  buildDecoder,
  declareWeights,
  languageModelHead,
  listParameters,
  tokenLogProbsFromLogits,
  type GraphDtype,
  type ModelConfig,
} from '@masa-rl/model';
import { createGraph, div, grad, mul, neg, reduceSum, stopGradient, where, type Graph, type Tensor } from '@masa-rl/onnx';
import type { KlLossType } from '../config-schema.js';

/** Graph input holding the sampling temperature, shape `[1]`. */
export const TEMPERATURE_INPUT = 'temperature';
/** Graph inputs of the cross-entropy loss. */
export const CROSS_ENTROPY_INPUTS = Object.freeze({ tokenWeights: 'token_weights', responseMask: 'response_mask' });

interface ForwardParts {
  graph: Graph;
  /** `[batch, seq]` log p(token t | tokens before t) at the given temperature; 0 where no prediction exists. */
  logProbs: Tensor;
  /** Builds `[batch, seq]` entropies of the same distributions (on first call). */
  entropy: () => Tensor;
  weights: Map<string, Tensor>;
}

function buildForward(config: ModelConfig, dtype: GraphDtype, name: string): ForwardParts {
  const graph = createGraph({ name });
  const inputIds = graph.input(INPUT_IDS, 'int64', [BATCH_DIM, SEQUENCE_DIM]);
  const attentionMask = graph.input(ATTENTION_MASK, 'int64', [BATCH_DIM, SEQUENCE_DIM]);
  const positionIds = graph.input(POSITION_IDS, 'int64', [BATCH_DIM, SEQUENCE_DIM]);
  const temperature = graph.input(TEMPERATURE_INPUT, dtype, [1]);
  const weights = declareWeights(graph, { config, dtype, weights: 'inputs' });
  const { hidden } = buildDecoder({ config, dtype, weights, inputs: { inputIds, attentionMask, positionIds } });
  const logits = div(languageModelHead(config, weights, hidden), temperature); // [batch, seq, vocab]
  const { logProbs } = tokenLogProbsFromLogits(logits, inputIds, attentionMask, false);
  let entropy: Tensor | undefined;
  return {
    graph,
    logProbs,
    entropy: () => (entropy ??= tokenLogProbsFromLogits(logits, inputIds, attentionMask, true).entropy as Tensor),
    weights,
  };
}

/** A built graph with the names the backend feeds and reads. */
export interface BackendGraph {
  graph: Graph;
  /** Parameter names in graph-input order (also the gradient order of a training graph). */
  parameterNames: string[];
  /** Gradient output names, one per parameter (training graphs only). */
  gradientNames: string[];
  /** Extra scalar outputs (metrics) by output name. */
  metricOutputs: string[];
  /** The GRPO loss fragment (policy graphs only). */
  policy?: GrpoLossGraph;
}

/** The scoring graph: output `logprobs` `[batch, seq]`. */
export function buildScoringGraph(config: ModelConfig, dtype: GraphDtype): BackendGraph {
  const forward = buildForward(config, dtype, 'ort-backend-logprobs');
  forward.graph.output('logprobs', forward.logProbs);
  return { graph: forward.graph, parameterNames: listParameters(config).map((spec) => spec.name), gradientNames: [], metricOutputs: [] };
}

/** Settings of the policy loss that shape the graph (everything else is fed at run time). */
export interface PolicyGraphSettings {
  clipRatioLow: number;
  clipRatioHigh: number;
  clipRatioC: number;
  entropyCoeff: number;
  kl: { coef: number; type: KlLossType } | null;
  /** Old log-probs are the current ones, gradient stopped (no `old_logp` input): see `PolicyLossSpec.onPolicy`. */
  onPolicy: boolean;
}

function differentiate(forward: ForwardParts, config: ModelConfig, loss: Tensor, outputs: Record<string, Tensor>): Omit<BackendGraph, 'policy'> {
  const parameterNames = listParameters(config).map((spec) => spec.name);
  const wrt = parameterNames.map((name) => {
    const tensor = forward.weights.get(name);
    if (tensor === undefined) throw new MasaError('INTERNAL', `ORT backend: weight ${name} was not declared`);
    return tensor;
  });
  const result = grad({ loss, wrt, outputs });
  return { graph: result.graph, parameterNames, gradientNames: [...result.gradientNames], metricOutputs: Object.keys(outputs) };
}

/**
 * Cross-entropy (SFT / behaviour cloning): `loss = −Σ W ⊙ log p` over the response mask, with
 * inputs `token_weights` (float, `[batch, seq]`) and `response_mask` (bool).
 */
export function buildCrossEntropyGraph(config: ModelConfig, dtype: GraphDtype): BackendGraph {
  const forward = buildForward(config, dtype, 'ort-backend-cross-entropy');
  const { graph, logProbs } = forward;
  const weights = graph.input(CROSS_ENTROPY_INPUTS.tokenWeights, dtype, [BATCH_DIM, SEQUENCE_DIM]);
  const mask = graph.input(CROSS_ENTROPY_INPUTS.responseMask, 'bool', [BATCH_DIM, SEQUENCE_DIM]);
  const loss = neg(reduceSum(where(mask, mul(logProbs, weights), 0), { keepdims: false })); // []
  return differentiate(forward, config, loss, {});
}

/**
 * verl's clipped PPO policy loss (`buildGrpoLossGraph` of `@masa-rl/grpo-loss/graph`) on the
 * model's log-probs, with its inputs (`old_logp` unless on-policy, `advantages`, `token_weights`,
 * `response_mask`, `ref_logp` with a KL loss) and its metric outputs.
 */
export function buildPolicyGraph(config: ModelConfig, dtype: GraphDtype, settings: PolicyGraphSettings): BackendGraph {
  const forward = buildForward(config, dtype, 'ort-backend-policy');
  const { graph, logProbs } = forward;
  const inputs = declareGrpoLossInputs(graph, {
    logp: logProbs,
    ...(settings.onPolicy ? { oldLogp: stopGradient(logProbs) } : {}),
    refLogp: settings.kl !== null,
    entropy: settings.entropyCoeff !== 0 ? forward.entropy() : false,
  });
  const policy = buildGrpoLossGraph(graph, {
    ...inputs,
    config: {
      clipRatioLow: settings.clipRatioLow,
      clipRatioHigh: settings.clipRatioHigh,
      clipRatioC: settings.clipRatioC,
      entropyCoeff: settings.entropyCoeff,
      useKlLoss: settings.kl !== null,
      ...(settings.kl !== null ? { klLossCoef: settings.kl.coef, klLossType: settings.kl.type } : {}),
    },
  });
  const outputs: Record<string, Tensor> = {};
  for (const [name, tensor] of Object.entries(policy.metricOutputs)) {
    if (name !== `${policy.metricOutputPrefix}loss`) outputs[name] = tensor;
  }
  return { ...differentiate(forward, config, policy.loss, outputs), policy };
}
