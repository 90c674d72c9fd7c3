/**
 * RMSNorm as a layer: the fused opset-23 `RMSNormalization` op (default), or
 * the same formula composed from primitives for runtimes or dtypes that lack
 * the op.
 */
import { add, mul, reciprocal, sqrt } from './ops-elementwise.js';
import type { Tensor } from './graph.js';
import { rmsNormalization, simplifiedLayerNormalization } from './ops-normalization.js';
import { reduceMean } from './ops-reduce.js';

/** Options of {@link rmsNorm}. */
export interface RmsNormOptions {
  /** @default 1e-6 */
  epsilon?: number;
  /**
   * Use one fused op (ONNX Runtime's `SimplifiedLayerNormalization` for float32/float16,
   * `RMSNormalization` from opset 23 for float64) instead of primitives.
   * @default true
   */
  fused?: boolean;
}

/** `x / sqrt(mean(x², -1) + epsilon) * weight` over the last axis. x: `[..., hidden]`, weight: `[hidden]`. */
export function rmsNorm(x: Tensor, weight: Tensor, options: RmsNormOptions = {}): Tensor {
  const epsilon = options.epsilon ?? 1e-6;
  if (options.fused ?? true) {
    // float32/float16: ONNX Runtime's SimplifiedLayerNormalization also returns the inverse RMS, which the
    // backward pass reuses. float64: the opset-23 RMSNormalization, which keeps full precision.
    if (x.dtype === 'float64') return rmsNormalization(x, weight, { axis: -1, epsilon });
    return simplifiedLayerNormalization(x, weight, { axis: -1, epsilon }).output;
  }
  const inverse = reciprocal(sqrt(add(reduceMean(mul(x, x), { axes: [-1], keepdims: true }), epsilon))); // [..., 1]
  return mul(mul(x, inverse), weight);
}
