/**
 * Test helper: checks autodiff gradients against central finite differences,
 * both evaluated by ONNX Runtime. The checked scalar is
 * `loss = Σ_k Σ output_k * weights_k` with random weights, so every output
 * element matters. Not exported from the package.
 */
import { createRng, type Rng } from '@masa-rl/core';
import { grad } from '../autodiff.js';
import { createGraph, type Graph, type Tensor } from '../graph.js';
import { add, mul } from '../ops-elementwise.js';
import { reduceSum } from '../ops-reduce.js';
import { serializeGraph } from '../serialize.js';
import { createSession } from '../session.js';
import { isAnonymousDim, type Dim } from '../shape.js';
import { createTensorValue, elementCount, type TensorValue } from '../tensor-value.js';


export interface GradientCheckOptions {
  /** Concrete input values, by input name. */
  inputs: Record<string, TensorValue>;
  /** Declared (possibly symbolic) shapes, by input name; default: the concrete dims. */
  declaredShapes?: Record<string, readonly Dim[]>;
  /** Inputs to differentiate. */
  wrt: readonly string[];
  /** Builds the output(s) from the input tensors. */
  build: (inputs: Record<string, Tensor>, graph: Graph) => Tensor | readonly Tensor[];
  /** @default 1e-6 for float64, 1e-2 for float32 */
  step?: number;
  /** Check at most this many elements per input (chosen at random). @default all */
  maxElementsPerInput?: number;
  /** @default 1 */
  seed?: number;
}

export interface GradientCheckReport {
  /** max over inputs of ‖analytic − numeric‖∞ / ‖numeric‖∞ (or of the absolute error when the numeric gradient is ~0). */
  maxRelativeError: number;
  perInput: Record<string, { relativeError: number; maxAbsError: number; maxAbsNumeric: number; checked: number }>;
  /** Gradient-graph node count (for size checks). */
  backwardNodes: number;
}

function randomWeights(rng: Rng, dtype: 'float32' | 'float64', dims: readonly number[]): TensorValue {
  const count = elementCount(dims);
  const values = Array.from({ length: count }, () => rng.next() * 2 - 1);
  return createTensorValue(dtype, dims, values);
}

function declareInputs(options: GradientCheckOptions, graph: Graph): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  for (const [name, value] of Object.entries(options.inputs)) {
    tensors[name] = graph.input(name, value.dtype, options.declaredShapes?.[name] ?? value.dims);
  }
  return tensors;
}

function buildOutputs(options: GradientCheckOptions, graph: Graph, tensors: Record<string, Tensor>): readonly Tensor[] {
  const built = options.build(tensors, graph);
  return Array.isArray(built) ? (built as readonly Tensor[]) : [built as Tensor];
}

/** Runs the check and returns the errors; the caller asserts on `maxRelativeError`. */
export async function checkGradients(options: GradientCheckOptions): Promise<GradientCheckReport> {
  const rng = createRng(options.seed ?? 1);
  // 1. Concrete output dims (the graph's may be symbolic), to size the random weights.
  const dimsGraph = createGraph({ name: 'gradient-check-dims' });
  const dimsOutputs = buildOutputs(options, dimsGraph, declareInputs(options, dimsGraph));
  dimsOutputs.forEach((output, k) => dimsGraph.output(`out_${k}`, output));
  const dimsSession = await createSession({ model: serializeGraph(dimsGraph) });
  const forwardValues = await dimsSession.run(options.inputs);
  await dimsSession.release();
  const feeds: Record<string, TensorValue> = { ...options.inputs };
  dimsOutputs.forEach((output, k) => {
    const value = forwardValues[`out_${k}`] as TensorValue;
    feeds[`weights_${k}`] = randomWeights(rng, output.dtype as 'float32' | 'float64', value.dims);
  });

  // 2. loss = Σ_k Σ out_k * weights_k; a loss-only session for finite differences and the gradient graph.
  const graph = createGraph({ name: 'gradient-check' });
  const tensors = declareInputs(options, graph);
  const outputs = buildOutputs(options, graph, tensors);
  let loss: Tensor | undefined;
  outputs.forEach((output, k) => {
    const dims = output.shape.map((dim, axis) => (typeof dim === 'number' || !isAnonymousDim(dim) ? dim : `w${k}_${axis}`));
    const weights = graph.input(`weights_${k}`, output.dtype, dims);
    const term = reduceSum(mul(output, weights), { keepdims: false });
    loss = loss === undefined ? term : add(loss, term);
  });
  return finiteDifferenceCheck({
    loss: loss as Tensor,
    wrt: options.wrt.map((name) => tensors[name] as Tensor),
    feeds,
    rng,
    ...(options.step === undefined ? {} : { step: options.step }),
    ...(options.maxElementsPerInput === undefined ? {} : { maxElementsPerInput: options.maxElementsPerInput }),
  });
}

export interface FiniteDifferenceOptions {
  /** Scalar loss in a builder graph. */
  loss: Tensor;
  /** Graph inputs to check (float64 or float32). */
  wrt: readonly Tensor[];
  /** Values for every graph input; the wrt entries are perturbed in place and restored. */
  feeds: Record<string, TensorValue>;
  rng: Rng;
  step?: number;
  maxElementsPerInput?: number;
}

/** Compares `grad()` of `loss` with central differences of the loss, both run in ONNX Runtime. */
export async function finiteDifferenceCheck(options: FiniteDifferenceOptions): Promise<GradientCheckReport> {
  const { loss, wrt, feeds, rng } = options;
  const lossGraph = loss.graph.clone();
  lossGraph.output('loss', lossGraph.tensorById(loss.id));
  const gradResult = grad({ loss, wrt, lossName: 'loss_value' });
  const forwardSession = await createSession({ model: serializeGraph(lossGraph) });
  const backwardSession = await createSession({ model: serializeGraph(gradResult.graph) });
  const report: GradientCheckReport = { maxRelativeError: 0, perInput: {}, backwardNodes: gradResult.graph.nodeCount };
  try {
    const analytic = await backwardSession.run(feeds);
    for (const [position, tensor] of wrt.entries()) {
      const name = tensor.name;
      const value = feeds[name] as TensorValue;
      const data = value.data as Float64Array | Float32Array;
      const step = options.step ?? (value.dtype === 'float64' ? 1e-6 : 1e-2);
      const gradient = analytic[gradResult.gradientNames[position] as string] as TensorValue;
      const gradientData = gradient.data as Float64Array | Float32Array;
      let indices = Array.from({ length: data.length }, (_, i) => i);
      if (options.maxElementsPerInput !== undefined && indices.length > options.maxElementsPerInput) {
        rng.shuffle(indices);
        indices = indices.slice(0, options.maxElementsPerInput);
      }
      let maxAbsError = 0;
      let maxAbsNumeric = 0;
      for (const index of indices) {
        const original = data[index] as number;
        // Read the perturbed values back: in float32 the stored step differs from `step`.
        data[index] = original + step;
        const up = data[index] as number;
        const plus = Number((await forwardSession.run(feeds))['loss']!.data[0]);
        data[index] = original - step;
        const down = data[index] as number;
        const minus = Number((await forwardSession.run(feeds))['loss']!.data[0]);
        data[index] = original;
        const numeric = (plus - minus) / (up - down);
        maxAbsNumeric = Math.max(maxAbsNumeric, Math.abs(numeric));
        maxAbsError = Math.max(maxAbsError, Math.abs(numeric - (gradientData[index] as number)));
      }
      const relativeError = maxAbsNumeric > 1e-8 ? maxAbsError / maxAbsNumeric : maxAbsError;
      report.perInput[name] = { relativeError, maxAbsError, maxAbsNumeric, checked: indices.length };
      report.maxRelativeError = Math.max(report.maxRelativeError, relativeError);
    }
  } finally {
    await forwardSession.release();
    await backwardSession.release();
  }
  return report;
}
