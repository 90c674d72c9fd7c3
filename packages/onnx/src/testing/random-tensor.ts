/** Test helper: seeded random tensors. Not exported from the package. */
import type { Rng } from '@masa-rl/core';
import { createTensorValue, elementCount, type TensorValue } from '../tensor-value.js';

export interface RandomTensorOptions {
  /** @default -1 */
  min?: number;
  /** @default 1 */
  max?: number;
  /** Keep |x| at least this far from zero (keeps Relu/Abs/Div away from kinks and poles). @default 0 */
  awayFromZero?: number;
}

/** Uniform random float tensor. */
export function randomTensor(rng: Rng, dtype: 'float32' | 'float64', dims: readonly number[], options: RandomTensorOptions = {}): TensorValue {
  const { min = -1, max = 1, awayFromZero = 0 } = options;
  const values = Array.from({ length: elementCount(dims) }, () => {
    let x = min + (max - min) * rng.next();
    if (awayFromZero > 0 && Math.abs(x) < awayFromZero) x = x < 0 ? x - awayFromZero : x + awayFromZero;
    return x;
  });
  return createTensorValue(dtype, dims, values);
}

/** int64 tensor from plain numbers. */
export function int64Tensor(dims: readonly number[], values: readonly number[]): TensorValue {
  return createTensorValue('int64', dims, values.map((v) => BigInt(v)));
}
