/**
 * Concrete tensors exchanged with sessions and stored as initializers: a dtype,
 * integer dims and a typed array in row-major order. No ONNX Runtime types leak
 * through this shape.
 */
import { MasaError } from '@masa-rl/core';
import { toBfloat16Bits, toFloat16Bits } from './half-precision.js';
import { allocateTensorData, dataMatchesDType, isDType, type DType, type TypedArrayOf } from './dtype.js';

/** A concrete tensor. `data` is row-major and has exactly `product(dims)` elements. */
export interface TensorValue<D extends DType = DType> {
  readonly dtype: D;
  readonly dims: readonly number[];
  readonly data: TypedArrayOf[D];
}

/** Number of elements of a concrete shape (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const dim of dims) count *= dim;
  return count;
}

/**
 * Builds a {@link TensorValue}. `data` may be a typed array of the dtype's class
 * (kept, not copied; raw 16-bit words for float16/bfloat16), plain numbers
 * (converted, rounding to nearest even for the 16-bit floats), bigints (int64)
 * or booleans (bool); when left out the tensor is zero-filled.
 */
export function createTensorValue<D extends DType>(
  dtype: D,
  dims: readonly number[],
  data?: TypedArrayOf[D] | readonly number[] | readonly bigint[] | readonly boolean[],
): TensorValue<D> {
  if (!isDType(dtype)) {
    throw new MasaError('ARGUMENT_INVALID', `createTensorValue: unknown dtype ${String(dtype)}`);
  }
  for (const dim of dims) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new MasaError('ARGUMENT_INVALID', `createTensorValue: dims must be non-negative integers, got [${dims.join(', ')}]`);
    }
  }
  const count = elementCount(dims);
  let typed: TypedArrayOf[D];
  if (data === undefined) {
    typed = allocateTensorData(dtype, count);
  } else if (ArrayBuffer.isView(data)) {
    if (!dataMatchesDType(dtype, data)) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `createTensorValue: ${data.constructor.name} cannot hold ${dtype} (use ${allocateTensorData(dtype, 0).constructor.name})`,
      );
    }
    typed = data;
  } else {
    typed = allocateTensorData(dtype, data.length);
    const list = data as readonly (number | bigint | boolean)[];
    for (let i = 0; i < list.length; i++) {
      const item = list[i];
      if (dtype === 'int64') (typed as BigInt64Array)[i] = BigInt(item as number | bigint);
      else if (dtype === 'bool') (typed as Uint8Array)[i] = item ? 1 : 0;
      else if (dtype === 'float16') (typed as Uint16Array)[i] = toFloat16Bits(Number(item));
      else if (dtype === 'bfloat16') (typed as Uint16Array)[i] = toBfloat16Bits(Number(item));
      else (typed as Float64Array)[i] = Number(item);
    }
  }
  if (typed.length !== count) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `createTensorValue: ${typed.length} elements do not fill dims [${dims.join(', ')}] (${count} needed)`,
    );
  }
  return { dtype, dims: [...dims], data: typed };
}
