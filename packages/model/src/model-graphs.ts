/**
 * The graphs masa-rl runs for one model: a causal-LM step (prefill or decode with a KV
 * cache), token log-probabilities, and the training step (log-probs → caller's loss →
 * gradients through `grad`). All are built on {@link buildDecoder}.
 */
import { MasaError } from '@masa-rl/core';
import {
  cast,
  createGraph,
  exp,
  gatherElements,
  grad,
  logSoftmax,
  mul,
  neg,
  pad,
  reduceSum,
  slice,
  squeeze,
  unsqueeze,
  withShape,
} from '@masa-rl/onnx';
import type { Graph, Tensor } from '@masa-rl/onnx';
import type { ModelConfig } from './config.js';
import {
  ATTENTION_MASK,
  BATCH_DIM,
  INPUT_IDS,
  PAST_DIM,
  POSITION_IDS,
  SEQUENCE_DIM,
  TOTAL_DIM,
  buildDecoder,
  declareWeights,
  languageModelHead,
  listLoraParameters,
  pastName,
  presentName,
} from './decoder-graph.js';
import type { GraphDtype, LoraConfig, WeightSource } from './decoder-graph.js';
import { listParameters } from './parameters.js';

/** Which positions' logits a causal-LM graph returns. */
export type LogitsPositions = 'last' | 'all';

/** Options of {@link buildCausalLmGraph}. */
export interface CausalLmGraphOptions {
  config: ModelConfig;
  /** @default 'float32' */
  dtype?: GraphDtype;
  /** Base weights: graph inputs (default) or initializers holding these arrays. @default 'inputs' */
  weights?: WeightSource;
  /** LoRA adapters (PEFT names), as inputs or initializers. @default none */
  lora?: { config: LoraConfig; weights: WeightSource };
  /**
   * Take `past_key_values.{i}.key|value` inputs (`[batch, kvHeads, past, headDim]`; past may be 0)
   * and an `attention_mask` over past + new tokens. Without, the graph is a prefill only.
   * @default true
   */
  withPast?: boolean;
  /** `last`: logits `[batch, vocab]` of the last position only (small output); `all`: `[batch, seq, vocab]`. @default 'last' */
  logits?: LogitsPositions;
  /** Also output `logprobs` (log-softmax of the returned logits). @default false */
  logProbs?: boolean;
  /** @default 'causal-lm' */
  name?: string;
}

/** A built graph and the names it expects. */
export interface BuiltGraph {
  graph: Graph;
  /** Weight inputs to feed (empty when every weight is an initializer). */
  weightInputNames: string[];
  /** Non-weight inputs (`input_ids`, …). */
  dataInputNames: string[];
  outputNames: string[];
}

function declareTokenInputs(graph: Graph, withPast: boolean): { inputIds: Tensor; attentionMask: Tensor; positionIds: Tensor } {
  const inputIds = graph.input(INPUT_IDS, 'int64', [BATCH_DIM, SEQUENCE_DIM]);
  const attentionMask = graph.input(ATTENTION_MASK, 'int64', [BATCH_DIM, withPast ? TOTAL_DIM : SEQUENCE_DIM]);
  const positionIds = graph.input(POSITION_IDS, 'int64', [BATCH_DIM, SEQUENCE_DIM]);
  return { inputIds, attentionMask, positionIds };
}

function weightInputs(config: ModelConfig, weights: WeightSource, lora?: { config: LoraConfig; weights: WeightSource }): string[] {
  const names = weights === 'inputs' ? listParameters(config).map((spec) => spec.name) : [];
  if (lora !== undefined && lora.weights === 'inputs') names.push(...listLoraParameters(config, lora.config).map((spec) => spec.name));
  return names;
}

/**
 * One forward step of the causal LM: prefill (past length 0) or decode with a KV cache.
 * Inputs: `input_ids`, `attention_mask` (`[batch, past + seq]` with past), `position_ids`,
 * `past_key_values.{i}.key|value`; outputs: `logits` (and `logprobs`), `present.{i}.key|value`.
 * This is also the transformers.js decoder layout (with `logits: 'all'`).
 */
export function buildCausalLmGraph(options: CausalLmGraphOptions): BuiltGraph {
  const { config, dtype = 'float32', weights = 'inputs', lora, withPast = true, logits = 'last', logProbs = false } = options;
  const graph = createGraph({ name: options.name ?? 'causal-lm' });
  const { inputIds, attentionMask, positionIds } = declareTokenInputs(graph, withPast);
  const past = withPast
    ? Array.from({ length: config.numLayers }, (_, layer) => ({
        key: graph.input(pastName(layer, 'key'), dtype, [BATCH_DIM, config.numKvHeads, PAST_DIM, config.headDim]),
        value: graph.input(pastName(layer, 'value'), dtype, [BATCH_DIM, config.numKvHeads, PAST_DIM, config.headDim]),
      }))
    : undefined;
  const tensors = declareWeights(graph, { config, dtype, weights, ...(lora !== undefined ? { lora } : {}) });
  const { hidden, present } = buildDecoder({
    config,
    dtype,
    weights: tensors,
    ...(lora !== undefined ? { lora: lora.config } : {}),
    inputs: { inputIds, attentionMask, positionIds, ...(past !== undefined ? { past } : {}) },
  });
  const selected =
    logits === 'last'
      ? squeeze(slice(hidden, { starts: [-1], ends: [2 ** 31 - 1], axes: [1] }), [1]) // [batch, hidden]
      : hidden; // [batch, seq, hidden]
  const out = languageModelHead(config, tensors, selected);
  graph.output('logits', out);
  const outputNames = ['logits'];
  if (logProbs) {
    graph.output('logprobs', logSoftmax(out, { axis: -1 }));
    outputNames.push('logprobs');
  }
  present.forEach(({ key, value }, layer) => {
    graph.output(presentName(layer, 'key'), key);
    graph.output(presentName(layer, 'value'), value);
    outputNames.push(presentName(layer, 'key'), presentName(layer, 'value'));
  });
  return {
    graph,
    weightInputNames: weightInputs(config, weights, lora),
    dataInputNames: [
      INPUT_IDS,
      ATTENTION_MASK,
      POSITION_IDS,
      ...(withPast ? Array.from({ length: config.numLayers }, (_, layer) => [pastName(layer, 'key'), pastName(layer, 'value')]).flat() : []),
    ],
    outputNames,
  };
}

/**
 * `[batch, seq]` log p(input_ids[t] | input_ids[<t]) from logits `[batch, seq, vocab]`, and
 * optionally the entropy of the same predictive distributions. Entries without a
 * prediction (position 0, padding, the first real token after left padding) hold 0.
 */
export function tokenLogProbsFromLogits(
  logits: Tensor,
  inputIds: Tensor,
  attentionMask: Tensor,
  withEntropy: boolean,
): { logProbs: Tensor; entropy?: Tensor } {
  const batch = inputIds.shape[0] as string | number;
  const seq = inputIds.shape[1] as string | number;
  const end = 2 ** 31 - 1;
  const all = logSoftmax(logits, { axis: -1 }); // [batch, seq, vocab]
  const predicting = slice(all, { starts: [0], ends: [-1], axes: [1] }); // [batch, seq - 1, vocab]
  const next = slice(inputIds, { starts: [1], ends: [end], axes: [1] }); // [batch, seq - 1]
  // A prediction exists where the token and the one before it are both real.
  const valid = cast(
    mul(slice(attentionMask, { starts: [0], ends: [-1], axes: [1] }), slice(attentionMask, { starts: [1], ends: [end], axes: [1] })),
    logits.dtype,
  ); // [batch, seq - 1]
  const picked = mul(squeeze(gatherElements(predicting, unsqueeze(next, [-1]), { axis: -1 }), [-1]), valid); // [batch, seq - 1]
  const logProbs = withShape(pad(picked, { pads: [1, 0], axes: [1] }), [batch, seq]); // [batch, seq]
  if (!withEntropy) return { logProbs };
  const perPosition = mul(neg(reduceSum(mul(exp(predicting), predicting), { axes: [-1], keepdims: false })), valid); // [batch, seq - 1]
  return { logProbs, entropy: withShape(pad(perPosition, { pads: [1, 0], axes: [1] }), [batch, seq]) };
}

/** Options of {@link buildTokenLogProbsGraph}. */
export interface TokenLogProbsGraphOptions {
  config: ModelConfig;
  /** @default 'float32' */
  dtype?: GraphDtype;
  /** @default 'inputs' */
  weights?: WeightSource;
  /** @default none */
  lora?: { config: LoraConfig; weights: WeightSource };
  /** Also output `entropy` `[batch, seq]`. @default false */
  entropy?: boolean;
}

/**
 * Scores given sequences: inputs `input_ids`, `attention_mask`, `position_ids` (`[batch, seq]`);
 * outputs `logprobs` `[batch, seq]` (entry t = log p(token t | tokens before it); 0 where no
 * prediction exists: position 0, padding, a row's first real token)
 * and optionally `entropy`. The training graph computes log-probs with this same code.
 */
export function buildTokenLogProbsGraph(options: TokenLogProbsGraphOptions): BuiltGraph {
  const { config, dtype = 'float32', weights = 'inputs', lora, entropy = false } = options;
  const graph = createGraph({ name: 'token-logprobs' });
  const { inputIds, attentionMask, positionIds } = declareTokenInputs(graph, false);
  const tensors = declareWeights(graph, { config, dtype, weights, ...(lora !== undefined ? { lora } : {}) });
  const { hidden } = buildDecoder({
    config,
    dtype,
    weights: tensors,
    ...(lora !== undefined ? { lora: lora.config } : {}),
    inputs: { inputIds, attentionMask, positionIds },
  });
  const scored = tokenLogProbsFromLogits(languageModelHead(config, tensors, hidden), inputIds, attentionMask, entropy);
  graph.output('logprobs', scored.logProbs);
  const outputNames = ['logprobs'];
  if (scored.entropy !== undefined) {
    graph.output('entropy', scored.entropy);
    outputNames.push('entropy');
  }
  return { graph, weightInputNames: weightInputs(config, weights, lora), dataInputNames: [INPUT_IDS, ATTENTION_MASK, POSITION_IDS], outputNames };
}

/** What a training loss receives. */
export interface TrainingLossContext {
  /** The graph under construction: declare extra inputs (advantages, masks …) with `graph.input(name, dtype, ['batch_size', 'sequence_length'])`. */
  graph: Graph;
  dtype: GraphDtype;
  /** `[batch, seq]`: log p(token t | tokens before it); entry 0 is 0. */
  logProbs: Tensor;
  /** `[batch, seq]` entropy of the same distributions (built on first call). */
  entropy(): Tensor;
  /** int64 `[batch, seq]` */
  inputIds: Tensor;
  /** int64 `[batch, seq]` */
  attentionMask: Tensor;
}

/** A loss: a scalar, or a scalar plus extra outputs (metrics) by name. */
export type TrainingLoss = (context: TrainingLossContext) => Tensor | { loss: Tensor; outputs?: Record<string, Tensor> };

/** Options of {@link buildTrainingGraph}. */
export interface TrainingGraphOptions {
  config: ModelConfig;
  /** @default 'float32' */
  dtype?: GraphDtype;
  /** Builds the scalar loss from the log-probs (e.g. masked cross-entropy for SFT, the GRPO loss). */
  loss: TrainingLoss;
  /** Train LoRA adapters only (fed as inputs); the base weights are then frozen. @default none: train every weight */
  lora?: LoraConfig;
  /** With LoRA: base weights as inputs (no copy, default) or initializers holding these arrays. @default 'inputs' */
  frozenWeights?: WeightSource;
}

/** A training graph and the names of its parameters and gradients. */
export interface BuiltTrainingGraph extends BuiltGraph {
  /** Parameters that receive gradients, in order. */
  trainableNames: string[];
  /** Output name of each trainable parameter's gradient (`grad.<name>`), same order. */
  gradientNames: string[];
  /** Inputs the loss declared (besides the token inputs and weights). */
  lossInputNames: string[];
}

/**
 * The training step: forward → log-probs → `loss` → gradients of every trainable
 * parameter (reverse-mode `grad` of @masa-rl/onnx), in one graph. Outputs `loss`, the
 * loss's extra outputs, then `grad.<parameter>` for each trainable parameter.
 */
export function buildTrainingGraph(options: TrainingGraphOptions): BuiltTrainingGraph {
  const { config, dtype = 'float32', lora, frozenWeights = 'inputs' } = options;
  const forward = createGraph({ name: 'training-step' });
  const { inputIds, attentionMask, positionIds } = declareTokenInputs(forward, false);
  const before = new Set(forward.inputs.map((tensor) => tensor.name));
  const baseSource: WeightSource = lora === undefined ? 'inputs' : frozenWeights;
  const tensors = declareWeights(forward, {
    config,
    dtype,
    weights: baseSource,
    ...(lora !== undefined ? { lora: { config: lora, weights: 'inputs' as const } } : {}),
  });
  const { hidden } = buildDecoder({
    config,
    dtype,
    weights: tensors,
    ...(lora !== undefined ? { lora } : {}),
    inputs: { inputIds, attentionMask, positionIds },
  });
  const logits = languageModelHead(config, tensors, hidden);
  const scored = tokenLogProbsFromLogits(logits, inputIds, attentionMask, false);
  let entropy: Tensor | undefined;
  const weightNames = new Set(weightInputs(config, baseSource, lora !== undefined ? { config: lora, weights: 'inputs' } : undefined));
  const result = options.loss({
    graph: forward,
    dtype,
    logProbs: scored.logProbs,
    entropy: () => (entropy ??= tokenLogProbsFromLogits(logits, inputIds, attentionMask, true).entropy as Tensor),
    inputIds,
    attentionMask,
  });
  const { loss, outputs = {} } = 'graph' in result ? { loss: result, outputs: {} } : result;
  if (loss.graph !== forward) throw new MasaError('GRAPH_INVALID', 'training loss: return a tensor built in the graph passed to the loss');
  const trainableNames =
    lora === undefined ? listParameters(config).map((spec) => spec.name) : listLoraParameters(config, lora).map((spec) => spec.name);
  const wrt = trainableNames.map((name) => tensors.get(name) as Tensor);
  const { graph, gradientNames } = grad({ loss, wrt, outputs });
  const lossInputNames = forward.inputs.map((tensor) => tensor.name).filter((name) => !before.has(name) && !weightNames.has(name));
  return {
    graph,
    weightInputNames: [...weightNames],
    dataInputNames: [INPUT_IDS, ATTENTION_MASK, POSITION_IDS, ...lossInputNames],
    outputNames: ['loss', ...Object.keys(outputs), ...gradientNames],
    trainableNames,
    gradientNames: [...gradientNames],
    lossInputNames,
  };
}
