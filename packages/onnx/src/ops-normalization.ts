/**
 * Fused normalisation ops. `RMSNormalization` is ONNX opset 23; autodiff has
 * its own rule for it (the op returns no inverse RMS, so the backward pass
 * recomputes it).
 */
import { MasaError } from '@masa-rl/core';
import { ONNX_ELEMENT_TYPE } from './dtype.js';
import { addNode, type Tensor } from './graph.js';
import { requireDType, requireFloat, resolveOperands } from './operands.js';
import { broadcastShapes, formatShape, normalizeAxis } from './shape.js';

/** Options of {@link rmsNormalization}. */
export interface RmsNormalizationOptions {
  /**
   * First normalised axis; all axes from it to the end are normalised together.
   * @default -1
   */
  axis?: number;
  /**
   * Added to the mean square before the square root.
   * @default 1e-5
   */
  epsilon?: number;
}

/** `x / sqrt(mean(x², axes) + epsilon) * scale` (ONNX `RMSNormalization`, computed in x's own precision). */
export function rmsNormalization(x: Tensor, scale: Tensor, options: RmsNormalizationOptions = {}): Tensor {
  const { graph, dtype } = resolveOperands('RMSNormalization', [x, scale]);
  requireFloat('RMSNormalization', x);
  const axis = normalizeAxis('RMSNormalization', options.axis ?? -1, x.rank);
  const normalised = x.shape.slice(axis);
  if (scale.rank > normalised.length) {
    throw new MasaError(
      'GRAPH_INVALID',
      `RMSNormalization: scale ${formatShape(scale.shape)} has more dims than the normalised part ${formatShape(normalised)} of ${formatShape(x.shape)}`,
    );
  }
  broadcastShapes('RMSNormalization', [normalised, scale.shape]);
  return addNode(graph, {
    opType: 'RMSNormalization',
    inputs: [x, scale],
    outputs: [{ dtype, shape: x.shape }],
    attributes: {
      axis: { type: 'int', value: axis },
      epsilon: { type: 'float', value: options.epsilon ?? 1e-5 },
      stash_type: { type: 'int', value: dtype === 'float64' ? ONNX_ELEMENT_TYPE.float64 : ONNX_ELEMENT_TYPE.float32 },
    },
  })[0] as Tensor;
}

/** Options of {@link simplifiedLayerNormalization}. */
export interface SimplifiedLayerNormalizationOptions {
  /** First normalised axis. @default -1 */
  axis?: number;
  /** @default 1e-5 */
  epsilon?: number;
}

/**
 * ONNX Runtime's `SimplifiedLayerNormalization` (RMSNorm registered in the ONNX
 * domain, opset 1): returns the normalised tensor and the inverse RMS
 * (`[..., 1]`, float32), which its gradient rule reuses instead of
 * recomputing. float32/float16 only (ONNX Runtime computes the statistics in
 * float32); use {@link rmsNormalization} for float64.
 */
export function simplifiedLayerNormalization(
  x: Tensor,
  scale: Tensor,
  options: SimplifiedLayerNormalizationOptions = {},
): { output: Tensor; inverseRms: Tensor } {
  const { graph, dtype } = resolveOperands('SimplifiedLayerNormalization', [x, scale]);
  requireDType('SimplifiedLayerNormalization', x, ['float32', 'float16', 'bfloat16']);
  const axis = normalizeAxis('SimplifiedLayerNormalization', options.axis ?? -1, x.rank);
  broadcastShapes('SimplifiedLayerNormalization', [x.shape.slice(axis), scale.shape]);
  const [output, inverseRms] = addNode(graph, {
    opType: 'SimplifiedLayerNormalization',
    inputs: [x, scale],
    outputs: [
      { dtype, shape: x.shape },
      { dtype: 'float32', shape: x.shape.map((dim, i) => (i < axis ? dim : 1)) },
    ],
    attributes: {
      axis: { type: 'int', value: axis },
      epsilon: { type: 'float', value: options.epsilon ?? 1e-5 },
      stash_type: { type: 'int', value: ONNX_ELEMENT_TYPE.float32 },
    },
  }) as [Tensor, Tensor];
  return { output, inverseRms };
}
