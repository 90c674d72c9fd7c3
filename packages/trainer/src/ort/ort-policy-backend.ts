/**
 * The local ONNX Runtime {@link PolicyBackend}: `@masa-rl/model`'s decoder as a training graph
 * whose weights are graph *inputs* fed from `Float32Array`s that this backend owns. AdamW
 * (`@masa-rl/onnx`) updates those arrays in place, so any session built on the same arrays
 * (the rollout engine's) sees the new weights on its next run without a copy.
 */
import { mkdir } from 'node:fs/promises';
import { MasaError } from '@masa-rl/core';
import { GRPO_LOSS_INPUT_NAMES } from '@masa-rl/grpo-loss/graph';
import {
  ATTENTION_MASK,
  INPUT_IDS,
  POSITION_IDS,
  defaultOptimizationLevel,
  listParameters,
  loadModel,
  openCheckpoint,
  readModelConfig,
  saveModel,
  type FloatArray,
  type GraphDtype,
  type ModelConfig,
} from '@masa-rl/model';
import { createAdamW, createSession, createTensorValue, type AdamW, type Device, type Session, type TensorValue } from '@masa-rl/onnx';
import type {
  BackendState,
  ForwardBackwardResult,
  LogprobBatch,
  LossSpec,
  OptimStepOptions,
  OptimStepResult,
  PolicyBackend,
  PolicyLossSpec,
  TrainBatch,
  TrainSequence,
} from '@masa-rl/core';
import {
  CROSS_ENTROPY_INPUTS,
  TEMPERATURE_INPUT,
  buildCrossEntropyGraph,
  buildPolicyGraph,
  buildScoringGraph,
  type BackendGraph,
  type PolicyGraphSettings,
} from './backend-graphs.js';
import { decodeOptimizerState, encodeOptimizerState, type AdamWHyperparameters } from './optimizer-state.js';
import { packSequences, spreadResponseValues, type PackedBatch } from './pack-batch.js';

/** The model a backend trains: a config and one array per parameter (Hugging Face names). */
export interface OrtBackendModel {
  config: ModelConfig;
  /** Float32Arrays (float64 for gradient checks); the backend updates them in place. */
  weights: Map<string, FloatArray>;
}

/** Options of {@link createOrtPolicyBackend}. */
export interface CreateOrtPolicyBackendOptions {
  /**
   * A Hugging Face model folder (`config.json`, safetensors, tokenizer files) to load.
   * Give this or `model`.
   */
  modelDir?: string;
  /**
   * A model already in memory. Share these arrays with the rollout engine: the backend updates
   * them in place. Give this or `modelDir`.
   */
  model?: OrtBackendModel;
  /**
   * Folder whose tokenizer and generation files (`tokenizer.json`, `tokenizer_config.json`,
   * `generation_config.json` …) `saveWeights` copies next to the weights.
   * @default modelDir
   */
  tokenizerDir?: string;
  /**
   * Element type when loading `modelDir`. `float64` is for gradient checks: such a backend
   * scores and computes gradients but cannot take optimiser steps.
   * @default 'float32'
   */
  dtype?: GraphDtype;
  /**
   * Micro-batches are right-padded to a multiple of this many tokens, so ORT sees few shapes.
   * @default 32
   */
  sequenceBucket?: number;
  /**
   * Keep a copy of the initial weights to score `policy: 'reference'` (a KL loss needs it).
   * Costs one extra copy of the weights.
   * @default true
   */
  keepReference?: boolean;
  /** @default 'cpu' */
  device?: Device;
  /**
   * ORT threads inside one operator. One gives the same numbers on every machine; another count may change float
   * rounding (at the embedded model's shape two threads give the same gradients and log-probs bit for bit; the test
   * asks for float32 rounding). Every count reproduces itself. Pays off on idle cores only (README, "Threads").
   * @default 1
   */
  intraOpNumThreads?: number;
}

/** The ORT backend: a {@link PolicyBackend} plus access to its arrays. */
export interface OrtPolicyBackend extends PolicyBackend, AsyncDisposable {
  readonly config: ModelConfig;
  readonly dtype: GraphDtype;
  /** The live weight arrays (updated in place by `optimStep` and `loadWeights`). */
  readonly weights: ReadonlyMap<string, FloatArray>;
  /** Parameter names in gradient order. */
  readonly parameterNames: readonly string[];
  /** ORT threads inside one operator, as created. */
  readonly intraOpNumThreads: number;
  /**
   * Counts changes of `weights`: each optimiser step that was not skipped, each `loadWeights`. A rollout engine with
   * frozen weights rebuilds its sessions when it moves (`createOrtEngine({ weightsVersion })`).
   */
  readonly weightsVersion: number;
  /** A float64 copy of the accumulated gradient of each parameter. */
  gradients(): Map<string, Float64Array>;
  /** Clears the accumulated gradient without a step. */
  zeroGradients(): void;
  /** Releases every ORT session. */
  release(): Promise<void>;
}

interface OpenGraph {
  built: BackendGraph;
  session: Session;
}

function copyArray(array: FloatArray): FloatArray {
  return array instanceof Float64Array ? Float64Array.from(array) : Float32Array.from(array);
}

function checkFinite(where: string, what: string, value: number, details: Record<string, unknown>): void {
  if (!Number.isFinite(value)) {
    throw new MasaError('ARGUMENT_INVALID', `${where}: ${what} is ${value}; it must be a finite number`, { details });
  }
}

/**
 * Creates the ORT backend from a model folder or from arrays already in memory.
 *
 * @throws MasaError `MODEL_LOAD_FAILED` for an unreadable folder, `ARGUMENT_INVALID` for
 * missing or mistyped weights.
 */
export async function createOrtPolicyBackend(options: CreateOrtPolicyBackendOptions): Promise<OrtPolicyBackend> {
  const { sequenceBucket = 32, keepReference = true, device = 'cpu', intraOpNumThreads = 1 } = options;
  if ((options.modelDir === undefined) === (options.model === undefined)) {
    throw new MasaError('ARGUMENT_INVALID', 'createOrtPolicyBackend: pass exactly one of modelDir (a Hugging Face folder) and model ({ config, weights })');
  }
  if (!Number.isInteger(sequenceBucket) || sequenceBucket < 1) {
    throw new MasaError('CONFIG_INVALID', `createOrtPolicyBackend: sequenceBucket must be a positive integer, got ${sequenceBucket}`);
  }
  const model: OrtBackendModel =
    options.model ?? (await loadModel({ modelDir: options.modelDir as string, dtype: options.dtype ?? 'float32' }));
  const { config, weights } = model;
  const tokenizerDir = options.tokenizerDir ?? options.modelDir;
  const specs = listParameters(config);
  const parameterNames = specs.map((spec) => spec.name);
  const first = weights.get(parameterNames[0] as string);
  const dtype: GraphDtype = first instanceof Float64Array ? 'float64' : 'float32';
  const ArrayType = dtype === 'float64' ? Float64Array : Float32Array;
  const parameters: FloatArray[] = specs.map((spec) => {
    const array = weights.get(spec.name);
    const numel = spec.shape.reduce((a, b) => a * b, 1);
    if (array === undefined || !(array instanceof ArrayType) || array.length !== numel) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `createOrtPolicyBackend: weight "${spec.name}" must be a ${ArrayType.name} of ${numel} elements (shape ${JSON.stringify(spec.shape)})${array === undefined ? ', but it is missing' : ''}`,
        { details: { tensor: spec.name } },
      );
    }
    return array;
  });
  const reference = keepReference ? parameters.map(copyArray) : undefined;
  const gradients: FloatArray[] = parameters.map((array) => new ArrayType(array.length));
  const decayMask = specs.map((spec) => spec.kind === 'linear' || spec.kind === 'embedding');
  const padTokenId = config.padTokenId !== null && config.padTokenId < config.vocabSize ? config.padTokenId : 0;

  const weightFeeds = (arrays: readonly FloatArray[]): Record<string, TensorValue> => {
    const feeds: Record<string, TensorValue> = {};
    specs.forEach((spec, i) => {
      feeds[spec.name] = createTensorValue(dtype, spec.shape, arrays[i] as never);
    });
    return feeds;
  };
  const liveFeeds = weightFeeds(parameters);
  const referenceFeeds = reference === undefined ? undefined : weightFeeds(reference);

  const graphs = new Map<string, Promise<OpenGraph>>();
  let released = false;
  let weightsVersion = 0;
  const openGraph = (key: string, build: () => BackendGraph): Promise<OpenGraph> => {
    if (released) throw new MasaError('ARGUMENT_INVALID', 'ORT policy backend: used after release()');
    let pending = graphs.get(key);
    if (pending === undefined) {
      pending = (async () => {
        const built = build();
        const session = await createSession({
          model: built.graph,
          device,
          intraOpNumThreads,
          graphOptimizationLevel: defaultOptimizationLevel(dtype),
        });
        return { built, session };
      })();
      pending.catch(() => graphs.delete(key));
      graphs.set(key, pending);
    }
    return pending;
  };

  const pack = (sequences: TrainBatch['sequences'] | LogprobBatch['sequences'], where: string): PackedBatch =>
    packSequences(sequences, { bucket: sequenceBucket, vocabSize: config.vocabSize, maxLength: config.maxPositionEmbeddings, padTokenId, where });

  const tokenFeeds = (packed: PackedBatch, temperature: number): Record<string, TensorValue> => ({
    [INPUT_IDS]: createTensorValue('int64', [packed.rows, packed.seq], packed.inputIds),
    [ATTENTION_MASK]: createTensorValue('int64', [packed.rows, packed.seq], packed.attentionMask),
    [POSITION_IDS]: createTensorValue('int64', [packed.rows, packed.seq], packed.positionIds),
    [TEMPERATURE_INPUT]: createTensorValue(dtype, [1], new ArrayType([temperature]) as never),
  });

  const checkTemperature = (where: string, temperature: number): void => {
    if (!(Number.isFinite(temperature) && temperature > 0)) {
      throw new MasaError('ARGUMENT_INVALID', `${where}: temperature must be a positive number, got ${temperature} (actor_rollout_ref.rollout.temperature)`);
    }
  };

  let optimizer: { adamw: AdamW; hyper: AdamWHyperparameters; key: string } | undefined;
  const hyperKey = (hyper: AdamWHyperparameters): string => JSON.stringify([hyper.beta1, hyper.beta2, hyper.epsilon, hyper.weightDecay]);
  const ensureOptimizer = (hyper: AdamWHyperparameters): AdamW => {
    const key = hyperKey(hyper);
    if (optimizer !== undefined && optimizer.key === key) return optimizer.adamw;
    const adamw = createAdamW({
      parameters: parameters as Float32Array[],
      beta1: hyper.beta1,
      beta2: hyper.beta2,
      epsilon: hyper.epsilon,
      weightDecay: hyper.weightDecay,
      weightDecayMask: decayMask,
    });
    // Betas, epsilon or decay changed: carry the moments and the step count over.
    if (optimizer !== undefined) adamw.loadState(optimizer.adamw.getState());
    optimizer = { adamw, hyper, key };
    return adamw;
  };

  const clearGradients = (): void => {
    for (const gradient of gradients) gradient.fill(0);
  };
  const norm = (): number => {
    let sum = 0;
    for (const gradient of gradients) {
      // Hot loop over one gradient array.
      for (let i = 0; i < gradient.length; i++) {
        const g = gradient[i]!;
        sum += g * g;
      }
    }
    return Math.sqrt(sum);
  };

  const policySettings = (loss: PolicyLossSpec): PolicyGraphSettings => ({
    clipRatioLow: loss.clipRatioLow,
    clipRatioHigh: loss.clipRatioHigh,
    clipRatioC: loss.clipRatioC,
    entropyCoeff: loss.entropyCoeff,
    kl: loss.kl === null ? null : { coef: loss.kl.coef, type: loss.kl.type },
    onPolicy: loss.onPolicy === true,
  });

  const lossFeeds = (packed: PackedBatch, sequences: readonly TrainSequence[], loss: LossSpec, where: string): Record<string, TensorValue> => {
    const size = packed.rows * packed.seq;
    const dims = [packed.rows, packed.seq];
    sequences.forEach((sequence, row) => checkFinite(where, `lossWeight of sequence ${row}`, sequence.lossWeight, { sequence: row }));
    const tokenWeights = new ArrayType(size);
    spreadResponseValues(packed, tokenWeights, (row) => (sequences[row] as TrainSequence).lossWeight);
    const responseMask = createTensorValue('bool', dims, packed.responseMask);
    if (loss.kind === 'cross-entropy') {
      return {
        [CROSS_ENTROPY_INPUTS.tokenWeights]: createTensorValue(dtype, dims, tokenWeights as never),
        [CROSS_ENTROPY_INPUTS.responseMask]: responseMask,
      };
    }
    const perToken = (field: 'oldLogprobs' | 'refLogprobs'): Float32Array | Float64Array => {
      const out = new ArrayType(size);
      sequences.forEach((sequence, row) => {
        const values = sequence[field];
        if (values === undefined || values.length !== sequence.responseTokenIds.length) {
          throw new MasaError(
            'ARGUMENT_INVALID',
            `${where}: sequence ${row} needs ${field} with one value per response token (${sequence.responseTokenIds.length}), got ${values === undefined ? 'none' : values.length}`,
            { details: { sequence: row, field } },
          );
        }
      });
      spreadResponseValues(packed, out, (row, j) => (sequences[row] as TrainSequence)[field]?.[j] as number);
      return out;
    };
    const advantages = new ArrayType(size);
    sequences.forEach((sequence, row) => {
      if (sequence.advantage === undefined) {
        throw new MasaError('ARGUMENT_INVALID', `${where}: sequence ${row} has no advantage; the policy loss needs one per sequence`, {
          details: { sequence: row },
        });
      }
      checkFinite(where, `the advantage of sequence ${row}`, sequence.advantage, { sequence: row });
    });
    spreadResponseValues(packed, advantages, (row) => (sequences[row] as TrainSequence).advantage as number);
    const names = GRPO_LOSS_INPUT_NAMES;
    return {
      ...(loss.onPolicy === true ? {} : { [names.oldLogp]: createTensorValue(dtype, dims, perToken('oldLogprobs') as never) }),
      [names.advantages]: createTensorValue(dtype, dims, advantages as never),
      [names.tokenWeights]: createTensorValue(dtype, dims, tokenWeights as never),
      [names.responseMask]: responseMask,
      ...(loss.kl !== null ? { [names.refLogp]: createTensorValue(dtype, dims, perToken('refLogprobs') as never) } : {}),
    };
  };

  const backend: OrtPolicyBackend = {
    specificationVersion: 'v1',
    name: `ort-${device}`,
    config,
    dtype,
    weights,
    parameterNames,
    intraOpNumThreads,
    get weightsVersion() {
      return weightsVersion;
    },

    async logprobs(batch, logprobOptions = {}) {
      const where = 'ORT backend logprobs';
      checkTemperature(where, batch.temperature);
      const policy = logprobOptions.policy ?? 'current';
      let feeds = liveFeeds;
      if (policy === 'reference') {
        if (referenceFeeds === undefined) {
          throw new MasaError('CONFIG_INVALID', `${where}: reference log-probs need the initial weights; create the backend with keepReference: true`);
        }
        feeds = referenceFeeds;
      }
      if (batch.sequences.length === 0) return [];
      const packed = pack(batch.sequences, where);
      const { session } = await openGraph('logprobs', () => buildScoringGraph(config, dtype));
      const out = await session.run({ ...feeds, ...tokenFeeds(packed, batch.temperature) }, { outputs: ['logprobs'] });
      const values = out['logprobs']?.data as FloatArray;
      return packed.responseStarts.map((start, row) => {
        const offset = row * packed.seq + start;
        return Array.from(values.subarray(offset, offset + (packed.responseLengths[row] as number)));
      });
    },

    async forwardBackward(batch: TrainBatch, loss: LossSpec): Promise<ForwardBackwardResult> {
      const where = `ORT backend forwardBackward (${loss.kind})`;
      const temperature = loss.temperature ?? 1;
      checkTemperature(where, temperature);
      if (batch.sequences.length === 0) return { loss: 0, tokens: 0, metrics: {} };
      const packed = pack(batch.sequences, where);
      const open =
        loss.kind === 'cross-entropy'
          ? await openGraph('cross-entropy', () => buildCrossEntropyGraph(config, dtype))
          : await (() => {
              const settings = policySettings(loss);
              return openGraph(`policy:${JSON.stringify(settings)}`, () => buildPolicyGraph(config, dtype, settings));
            })();
      const { built, session } = open;
      const out = await session.run({ ...liveFeeds, ...tokenFeeds(packed, temperature), ...lossFeeds(packed, batch.sequences, loss, where) });
      const lossValue = Number(out['loss']?.data[0]);
      built.gradientNames.forEach((name, i) => {
        const source = out[name]?.data as FloatArray | undefined;
        const target = gradients[i] as FloatArray;
        if (source === undefined || source.length !== target.length) throw new MasaError('INTERNAL', `ORT backend: the graph returned no gradient ${name}`);
        // Hot loop: both arrays have target.length elements.
        for (let j = 0; j < target.length; j++) target[j] = target[j]! + source[j]!;
      });
      const tokens = packed.responseLengths.reduce((a, b) => a + b, 0);
      const metrics: Record<string, number> = {};
      if (built.policy !== undefined && tokens > 0) {
        const read = (field: string): number => Number(out[`${built.policy?.metricOutputPrefix}${field}`]?.data[0]);
        metrics['pg_clipfrac'] = read('pgClipfrac');
        metrics['pg_clipfrac_lower'] = read('pgClipfracLower');
        metrics['ppo_kl'] = read('ppoKl');
        metrics['ratio_mean'] = read('ratioMean');
      }
      return { loss: lossValue, tokens, metrics };
    },

    async gradNorm() {
      return norm();
    },

    async optimStep(step: OptimStepOptions): Promise<OptimStepResult> {
      if (dtype !== 'float32') {
        throw new MasaError('CONFIG_INVALID', 'ORT backend optimStep: this backend holds float64 weights (for gradient checks); create it with dtype float32 to train');
      }
      const gradNorm = norm();
      if (!Number.isFinite(gradNorm)) {
        clearGradients();
        return { gradNorm, skipped: true };
      }
      // torch.nn.utils.clip_grad_norm_: multiply by min(1, max_norm / (norm + 1e-6)).
      const scale = Math.min(1, step.maxGradNorm / (gradNorm + 1e-6));
      if (scale < 1) {
        for (const gradient of gradients) {
          for (let i = 0; i < gradient.length; i++) gradient[i] = gradient[i]! * scale;
        }
      }
      const adamw = ensureOptimizer({ beta1: step.betas[0], beta2: step.betas[1], epsilon: step.eps, weightDecay: step.weightDecay });
      adamw.step(gradients as Float32Array[], { learningRate: step.lr });
      weightsVersion += 1;
      clearGradients();
      return { gradNorm, skipped: false };
    },

    async getState(): Promise<BackendState> {
      return encodeOptimizerState({
        parameterNames,
        parameterSizes: parameters.map((array) => array.length),
        ...(optimizer !== undefined ? { hyper: optimizer.hyper, state: optimizer.adamw.getState() } : {}),
      });
    },

    async loadState(state: BackendState) {
      const decoded = decodeOptimizerState(state, { parameterNames, parameterSizes: parameters.map((array) => array.length) });
      clearGradients();
      if (decoded === undefined) {
        optimizer = undefined;
        return;
      }
      optimizer = undefined;
      const adamw = ensureOptimizer(decoded.hyper);
      adamw.loadState(decoded.state);
    },

    async saveWeights(dir: string) {
      await mkdir(dir, { recursive: true });
      await saveModel({
        modelDir: dir,
        config,
        weights,
        dtype: dtype === 'float64' ? 'F64' : 'F32',
        ...(tokenizerDir !== undefined ? { copyFilesFrom: tokenizerDir } : {}),
      });
    },

    async loadWeights(dir: string) {
      const saved = await readModelConfig(dir);
      for (const key of ['vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'tieWordEmbeddings'] as const) {
        if (saved[key] !== config[key]) {
          throw new MasaError(
            'CHECKPOINT_INVALID',
            `${dir}/config.json has ${key} = ${String(saved[key])} but the model being trained has ${String(config[key])}: load a checkpoint of this model`,
            { details: { file: `${dir}/config.json`, key } },
          );
        }
      }
      await using checkpoint = await openCheckpoint(dir);
      for (const [i, spec] of specs.entries()) {
        let name = spec.name;
        if (!checkpoint.entries.has(name) && name === 'model.embed_tokens.weight' && config.tieWordEmbeddings && checkpoint.entries.has('lm_head.weight')) {
          name = 'lm_head.weight';
        }
        const entry = checkpoint.entries.get(name);
        if (entry === undefined || entry.shape.length !== spec.shape.length || entry.shape.some((d, k) => d !== spec.shape[k])) {
          throw new MasaError(
            'CHECKPOINT_INVALID',
            `${dir}: tensor "${spec.name}" is ${entry === undefined ? 'missing' : `of shape ${JSON.stringify(entry.shape)}`}, expected shape ${JSON.stringify(spec.shape)}`,
            { details: { file: dir, tensor: spec.name } },
          );
        }
        // Read straight into the live array: the rollout engine sees the loaded weights.
        await checkpoint.readInto(name, parameters[i] as FloatArray);
      }
      weightsVersion += 1;
      clearGradients();
    },

    gradients() {
      return new Map(parameterNames.map((name, i) => [name, Float64Array.from(gradients[i] as FloatArray)]));
    },

    zeroGradients: clearGradients,

    async release() {
      if (released) return;
      released = true;
      for (const pending of graphs.values()) {
        const open = await pending.catch(() => undefined);
        await open?.session.release();
      }
      graphs.clear();
    },

    [Symbol.asyncDispose]() {
      return backend.release();
    },
  };
  return backend;
}
