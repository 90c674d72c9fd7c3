import { MasaError } from '@masa-rl/core';
import { createSession, createTensorValue } from '@masa-rl/onnx';
import type { Device, GraphOptimizationLevel, Session, TensorValue } from '@masa-rl/onnx';
import type { ModelConfig } from './config.js';
import { ATTENTION_MASK, INPUT_IDS, POSITION_IDS, listLoraParameters, pastName, presentName } from './decoder-graph.js';
import type { GraphDtype, LoraConfig } from './decoder-graph.js';
import { buildCausalLmGraph, buildTokenLogProbsGraph } from './model-graphs.js';
import type { BuiltGraph } from './model-graphs.js';
import { listParameters } from './parameters.js';
import type { FloatArray } from './safetensors.js';
import { positionIdsFromMask } from './token-batch.js';
import type { TokenBatch } from './token-batch.js';

/** Keys (after RoPE) and values of every layer, `[batch, kvHeads, length, headDim]` each. */
export interface KvCache {
  batch: number;
  /** Cached positions (past length for the next step). */
  length: number;
  layers: Array<{ key: TensorValue; value: TensorValue }>;
}

/** One forward step. */
export interface StepInput {
  batch: number;
  /** New tokens per row in this step. */
  seq: number;
  /** int64 `[batch, seq]` */
  inputIds: BigInt64Array;
  /** int64 `[batch, cache.length + seq]`: padding mask over cached and new tokens. */
  attentionMask: BigInt64Array;
  /** int64 `[batch, seq]` */
  positionIds: BigInt64Array;
  /** The cache from the previous step. @default empty (a prefill) */
  cache?: KvCache;
}

/** What a step returns. */
export interface StepOutput {
  /** `[batch, vocab]` logits of each row's last position. */
  logits: FloatArray;
  /** The cache including this step's tokens. */
  cache: KvCache;
}

/** Options of {@link createModelRunner}. */
export interface CreateModelRunnerOptions {
  config: ModelConfig;
  /**
   * Weights by Hugging Face name (Float32Array for float32, Float64Array for float64).
   * With `weightMode: 'inputs'` the sessions read these arrays in place: update them
   * (e.g. an optimizer step) and the next run sees the change.
   */
  weights: ReadonlyMap<string, FloatArray>;
  /** @default float64 when the weights are Float64Arrays, else float32 */
  dtype?: GraphDtype;
  /** LoRA adapters (PEFT names), applied on top of the base weights. @default none */
  lora?: { config: LoraConfig; weights: ReadonlyMap<string, FloatArray> };
  /**
   * `inputs`: weights are fed by reference (one copy in memory, updates visible);
   * `initializers`: weights are frozen into the graphs (5–12% faster, but a copy per session).
   * @default 'inputs'
   */
  weightMode?: 'inputs' | 'initializers';
  /** @default 'cpu' */
  device?: Device;
  /** @default 1 */
  intraOpNumThreads?: number;
  /** ONNX Runtime graph rewriting. @default 'all' for float32, 'basic' for float64 (see {@link defaultOptimizationLevel}) */
  graphOptimizationLevel?: GraphOptimizationLevel;
}

/**
 * ORT's extended fusions fold constant scales into FusedMatMul's `alpha`, a float32
 * attribute: harmless in float32, but in float64 it rounds the attention scale and costs
 * ~1e-8 relative accuracy. float64 graphs (exactness tests) therefore stop at 'basic'.
 */
export function defaultOptimizationLevel(dtype: GraphDtype): GraphOptimizationLevel {
  return dtype === 'float64' ? 'basic' : 'all';
}

/** Runs one model's graphs in ONNX Runtime. Release it with `await using` or `release()`. */
export interface ModelRunner extends AsyncDisposable {
  readonly config: ModelConfig;
  readonly dtype: GraphDtype;
  /** A zero-length cache for `batch` rows (what a prefill starts from). */
  emptyCache(batch: number): KvCache;
  /** Prefill (no cache) or decode step (with the previous cache). */
  step(input: StepInput): Promise<StepOutput>;
  /**
   * log p(token t | tokens before it) `[batch, seq]` (entry 0 = 0), optionally with the
   * entropy of each predictive distribution. `positionIds` default to the mask's cumulative count.
   */
  tokenLogProbs(
    input: Omit<TokenBatch, 'positionIds'> & { positionIds?: BigInt64Array; entropy?: boolean },
  ): Promise<{ logProbs: FloatArray; entropy?: FloatArray }>;
  release(): Promise<void>;
}

function inferDtype(weights: ReadonlyMap<string, FloatArray>): GraphDtype {
  const first = weights.values().next().value;
  return first instanceof Float64Array ? 'float64' : 'float32';
}

/**
 * Creates sessions for a model (lazily, one per graph kind) sharing one set of weight
 * arrays. The step graph is the same one the transformers.js export writes, with
 * `logits` of the last position only.
 */
export function createModelRunner(options: CreateModelRunnerOptions): ModelRunner {
  const { config, weights, lora, weightMode = 'inputs', device = 'cpu', intraOpNumThreads = 1 } = options;
  const dtype = options.dtype ?? inferDtype(weights);
  const expectArray = dtype === 'float64' ? Float64Array : Float32Array;
  const weightFeeds: Record<string, TensorValue> = {};
  const addFeed = (name: string, shape: readonly number[], source: ReadonlyMap<string, FloatArray>): void => {
    const data = source.get(name);
    if (data === undefined) throw new MasaError('ARGUMENT_INVALID', `model runner: weights have no "${name}"`, { details: { tensor: name } });
    if (!(data instanceof expectArray)) {
      throw new MasaError('ARGUMENT_INVALID', `model runner: "${name}" is a ${data.constructor.name}; a ${dtype} runner needs ${expectArray.name}s`, {
        details: { tensor: name },
      });
    }
    weightFeeds[name] = createTensorValue(dtype, shape, data as never);
  };
  if (weightMode === 'inputs') for (const spec of listParameters(config)) addFeed(spec.name, spec.shape, weights);
  if (lora !== undefined) for (const spec of listLoraParameters(config, lora.config)) addFeed(spec.name, spec.shape, lora.weights);
  const source = weightMode === 'inputs' ? ('inputs' as const) : weights;
  const loraOption = lora !== undefined ? { lora: { config: lora.config, weights: 'inputs' as const } } : {};

  let stepSession: Promise<Session> | undefined;
  let scoreSession: Promise<Session> | undefined;
  let scoreWithEntropy = false;
  let released = false;
  const graphOptimizationLevel = options.graphOptimizationLevel ?? defaultOptimizationLevel(dtype);
  const open = async (built: BuiltGraph): Promise<Session> =>
    createSession({ model: built.graph, device, intraOpNumThreads, graphOptimizationLevel });
  const guard = (): void => {
    if (released) throw new MasaError('ARGUMENT_INVALID', 'model runner: used after release()');
  };
  const checkIds = (ids: BigInt64Array): void => {
    for (const id of ids) {
      if (id < 0n || id >= BigInt(config.vocabSize)) {
        throw new MasaError('ARGUMENT_INVALID', `token id ${id} is outside the vocabulary [0, ${config.vocabSize})`, { details: { tokenId: Number(id) } });
      }
    }
  };
  const checkLength = (name: string, array: BigInt64Array, expected: number): void => {
    if (array.length !== expected) {
      throw new MasaError('ARGUMENT_INVALID', `model runner: ${name} has ${array.length} entries, expected ${expected}`);
    }
  };

  const emptyCache = (batch: number): KvCache => ({
    batch,
    length: 0,
    layers: Array.from({ length: config.numLayers }, () => ({
      key: createTensorValue(dtype, [batch, config.numKvHeads, 0, config.headDim]),
      value: createTensorValue(dtype, [batch, config.numKvHeads, 0, config.headDim]),
    })),
  });

  const runner: ModelRunner = {
    config,
    dtype,
    emptyCache,
    async step(input) {
      guard();
      const { batch, seq } = input;
      const cache = input.cache ?? emptyCache(batch);
      if (cache.batch !== batch) throw new MasaError('ARGUMENT_INVALID', `model runner: the cache holds ${cache.batch} rows, the step has ${batch}`);
      checkLength('inputIds', input.inputIds, batch * seq);
      checkLength('positionIds', input.positionIds, batch * seq);
      checkLength('attentionMask', input.attentionMask, batch * (cache.length + seq));
      checkIds(input.inputIds);
      stepSession ??= open(buildCausalLmGraph({ config, dtype, weights: source, ...loraOption, withPast: true, logits: 'last' }));
      const session = await stepSession;
      const feeds: Record<string, TensorValue> = {
        ...weightFeeds,
        [INPUT_IDS]: createTensorValue('int64', [batch, seq], input.inputIds),
        [ATTENTION_MASK]: createTensorValue('int64', [batch, cache.length + seq], input.attentionMask),
        [POSITION_IDS]: createTensorValue('int64', [batch, seq], input.positionIds),
      };
      cache.layers.forEach((layer, i) => {
        feeds[pastName(i, 'key')] = layer.key;
        feeds[pastName(i, 'value')] = layer.value;
      });
      const out = await session.run(feeds);
      const logits = out['logits'];
      if (logits === undefined) throw new MasaError('INTERNAL', 'model runner: the step graph returned no logits');
      return {
        logits: logits.data as FloatArray,
        cache: {
          batch,
          length: cache.length + seq,
          layers: cache.layers.map((_, i) => ({
            key: out[presentName(i, 'key')] as TensorValue,
            value: out[presentName(i, 'value')] as TensorValue,
          })),
        },
      };
    },
    async tokenLogProbs(input) {
      guard();
      const { batch, seq, entropy = false } = input;
      checkLength('inputIds', input.inputIds, batch * seq);
      checkLength('attentionMask', input.attentionMask, batch * seq);
      checkIds(input.inputIds);
      const positionIds = input.positionIds ?? positionIdsFromMask(input.attentionMask, batch, seq);
      checkLength('positionIds', positionIds, batch * seq);
      if (entropy && !scoreWithEntropy && scoreSession !== undefined) {
        const previous = scoreSession;
        scoreSession = undefined;
        await (await previous).release();
      }
      if (scoreSession === undefined) {
        scoreWithEntropy = scoreWithEntropy || entropy;
        scoreSession = open(buildTokenLogProbsGraph({ config, dtype, weights: source, ...loraOption, entropy: scoreWithEntropy }));
      }
      const session = await scoreSession;
      const out = await session.run(
        {
          ...weightFeeds,
          [INPUT_IDS]: createTensorValue('int64', [batch, seq], input.inputIds),
          [ATTENTION_MASK]: createTensorValue('int64', [batch, seq], input.attentionMask),
          [POSITION_IDS]: createTensorValue('int64', [batch, seq], positionIds),
        },
        { outputs: entropy ? ['logprobs', 'entropy'] : ['logprobs'] },
      );
      const logProbs = out['logprobs']?.data as FloatArray;
      return entropy ? { logProbs, entropy: out['entropy']?.data as FloatArray } : { logProbs };
    },
    async release() {
      if (released) return;
      released = true;
      for (const pending of [stepSession, scoreSession]) {
        if (pending === undefined) continue;
        const session = await pending.catch(() => undefined);
        await session?.release();
      }
    },
    [Symbol.asyncDispose]() {
      return runner.release();
    },
  };
  return runner;
}
