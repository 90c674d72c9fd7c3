/**
 * Element types the graph builder knows, and how each maps to ONNX and to a
 * JavaScript typed array.
 */

/** Element type of a symbolic or concrete tensor. */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'bool';

/** Every dtype, for validation messages and exhaustive tables. */
export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'bool'];

/** The typed array that holds each dtype's elements (`float16`/`bfloat16` as raw 16-bit words, `bool` as 0/1 bytes). */
export interface TypedArrayOf {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

/** Any typed array the package exchanges with ONNX Runtime. */
export type TensorData = TypedArrayOf[DType];

/** `TensorProto.DataType` codes from onnx.proto. */
export const ONNX_ELEMENT_TYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
};

/** Bytes per element. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  bool: 1,
};

/** True for the floating-point dtypes (the ones that carry gradients). */
export function isFloatDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

/** True for int32/int64. */
export function isIntegerDType(dtype: DType): boolean {
  return dtype === 'int32' || dtype === 'int64';
}

/** True when `value` is one of {@link DTYPES}. */
export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

/** Allocates a zero-filled typed array for `length` elements of `dtype`. */
export function allocateTensorData<D extends DType>(dtype: D, length: number): TypedArrayOf[D] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length) as TypedArrayOf[D];
    case 'float64':
      return new Float64Array(length) as TypedArrayOf[D];
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(length) as TypedArrayOf[D];
    case 'int64':
      return new BigInt64Array(length) as TypedArrayOf[D];
    case 'int32':
      return new Int32Array(length) as TypedArrayOf[D];
    case 'bool':
      return new Uint8Array(length) as TypedArrayOf[D];
    default:
      throw new RangeError(`unknown dtype ${String(dtype)}`);
  }
}

/** Does `data` have the typed-array class that holds `dtype`? */
export function dataMatchesDType(dtype: DType, data: TensorData): boolean {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array;
    case 'float64':
      return data instanceof Float64Array;
    case 'float16':
    case 'bfloat16':
      return data instanceof Uint16Array;
    case 'int64':
      return data instanceof BigInt64Array;
    case 'int32':
      return data instanceof Int32Array;
    case 'bool':
      return data instanceof Uint8Array;
    default:
      return false;
  }
}
