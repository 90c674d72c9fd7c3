import { MasaError } from '@masa-rl/core';
import { createSession, createTensorValue } from '@masa-rl/onnx';
import type { Device, GraphOptimizationLevel, Session, TensorValue } from '@masa-rl/onnx';
import type { ModelConfig } from './config.js';
import { ATTENTION_MASK, INPUT_IDS, POSITION_IDS, listLoraParameters } from './decoder-graph.js';
import type { GraphDtype, LoraConfig } from './decoder-graph.js';
import { buildTrainingGraph } from './model-graphs.js';
import type { TrainingLoss } from './model-graphs.js';
import { defaultOptimizationLevel } from './model-runner.js';
import { listParameters } from './parameters.js';
import type { FloatArray } from './safetensors.js';
import type { TokenBatch } from './token-batch.js';

/** Options of {@link createTrainingStep}. */
export interface CreateTrainingStepOptions {
  config: ModelConfig;
  /** Base weights by Hugging Face name, read in place at every run (update them between runs). */
  weights: ReadonlyMap<string, FloatArray>;
  /** The loss, built once into the graph (see {@link TrainingLoss}). */
  loss: TrainingLoss;
  /** Train these LoRA adapters instead of the base weights (which stay untouched). @default none */
  lora?: { config: LoraConfig; weights: ReadonlyMap<string, FloatArray> };
  /**
   * With LoRA: feed the frozen base weights as inputs (one copy, default) or bake them into
   * the graph as initializers (faster, but a copy; only for models well under 2 GB).
   * @default 'inputs'
   */
  frozenWeights?: 'inputs' | 'initializers';
  /** @default float64 when the weights are Float64Arrays, else float32 */
  dtype?: GraphDtype;
  /** @default 'cpu' */
  device?: Device;
  /** @default 1 */
  intraOpNumThreads?: number;
  /** @default 'all' (float32) / 'basic' (float64) */
  graphOptimizationLevel?: GraphOptimizationLevel;
}

/** What one training step returns. */
export interface TrainingStepResult {
  loss: number;
  /** One gradient per trainable parameter, in `trainableNames` order (fresh arrays). */
  gradients: FloatArray[];
  /** The loss's extra outputs, by name. */
  outputs: Record<string, TensorValue>;
}

/** A compiled training step: forward, the caller's loss, and every gradient in one `session.run`. */
export interface TrainingStep extends AsyncDisposable {
  readonly trainableNames: readonly string[];
  /** The trainable arrays themselves, in `trainableNames` order: hand them to AdamW to update in place. */
  readonly parameters: readonly FloatArray[];
  /** Extra inputs the loss declared; pass them to `run` by name. */
  readonly lossInputNames: readonly string[];
  run(batch: TokenBatch, lossInputs?: Readonly<Record<string, TensorValue>>): Promise<TrainingStepResult>;
  release(): Promise<void>;
}

/**
 * Builds the training graph (`buildTrainingGraph`) and opens a session for it. Weights are
 * fed by reference, so an optimizer that updates `parameters` in place is seen by the next
 * run, and by every other session built on the same arrays (rollouts, scoring).
 */
export async function createTrainingStep(options: CreateTrainingStepOptions): Promise<TrainingStep> {
  const { config, weights, loss, lora, frozenWeights = 'inputs', device = 'cpu', intraOpNumThreads = 1 } = options;
  const first = weights.values().next().value;
  const dtype = options.dtype ?? (first instanceof Float64Array ? 'float64' : 'float32');
  const built = buildTrainingGraph({
    config,
    dtype,
    loss,
    ...(lora !== undefined ? { lora: lora.config, frozenWeights: frozenWeights === 'inputs' ? ('inputs' as const) : weights } : {}),
  });
  const feeds: Record<string, TensorValue> = {};
  const shapes = new Map<string, readonly number[]>(listParameters(config).map((spec) => [spec.name, spec.shape]));
  if (lora !== undefined) for (const spec of listLoraParameters(config, lora.config)) shapes.set(spec.name, spec.shape);
  const arrayFor = (name: string): FloatArray => {
    const data = (lora?.weights.get(name) ?? weights.get(name)) as FloatArray | undefined;
    if (data === undefined) throw new MasaError('ARGUMENT_INVALID', `training step: no weights for "${name}"`, { details: { tensor: name } });
    const expected = dtype === 'float64' ? Float64Array : Float32Array;
    if (!(data instanceof expected)) {
      throw new MasaError('ARGUMENT_INVALID', `training step: "${name}" is a ${data.constructor.name}; a ${dtype} step needs ${expected.name}s`);
    }
    return data;
  };
  for (const name of built.weightInputNames) feeds[name] = createTensorValue(dtype, shapes.get(name) as number[], arrayFor(name) as never);
  const parameters = built.trainableNames.map(arrayFor);
  const session: Session = await createSession({
    model: built.graph,
    device,
    intraOpNumThreads,
    graphOptimizationLevel: options.graphOptimizationLevel ?? defaultOptimizationLevel(dtype),
  });
  const extraOutputs = built.outputNames.filter((name) => name !== 'loss' && !built.gradientNames.includes(name));
  const step: TrainingStep = {
    trainableNames: built.trainableNames,
    parameters,
    lossInputNames: built.lossInputNames,
    async run(batch, lossInputs = {}) {
      const { batch: rows, seq } = batch;
      for (const name of built.lossInputNames) {
        if (lossInputs[name] === undefined) {
          throw new MasaError('ARGUMENT_INVALID', `training step: the loss needs input "${name}"; pass it in lossInputs`, { details: { input: name } });
        }
      }
      const out = await session.run({
        ...feeds,
        ...lossInputs,
        [INPUT_IDS]: createTensorValue('int64', [rows, seq], batch.inputIds),
        [ATTENTION_MASK]: createTensorValue('int64', [rows, seq], batch.attentionMask),
        [POSITION_IDS]: createTensorValue('int64', [rows, seq], batch.positionIds),
      });
      const lossValue = out['loss']?.data[0];
      if (typeof lossValue !== 'number') throw new MasaError('INTERNAL', 'training step: the graph returned no loss');
      return {
        loss: lossValue,
        gradients: built.gradientNames.map((name) => out[name]?.data as FloatArray),
        outputs: Object.fromEntries(extraOutputs.map((name) => [name, out[name] as TensorValue])),
      };
    },
    release: () => session.release(),
    [Symbol.asyncDispose]: () => session.release(),
  };
  return step;
}
