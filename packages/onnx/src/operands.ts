/**
 * Argument checks and coercions shared by the op functions: numbers become
 * scalar constants of the partner tensor's dtype, and every mismatch becomes a
 * `GRAPH_INVALID` error that names the op.
 */
import { MasaError } from '@masa-rl/core';
import { isFloatDType, type DType } from './dtype.js';
import { commonGraph, type Graph, type Tensor } from './graph.js';
import { formatShape } from './shape.js';

/** A tensor, or a plain number that becomes a scalar constant of the partner tensor's dtype. */
export type Operand = Tensor | number;

/** True for symbolic tensors (as opposed to numbers). */
export function isTensor(value: unknown): value is Tensor {
  return typeof value === 'object' && value !== null && 'graph' in value && 'id' in value;
}

/** Finds the graph and dtype of a list of operands, of which at least one must be a tensor. */
export function resolveOperands(opName: string, operands: readonly Operand[]): { graph: Graph; dtype: DType; tensors: Tensor[] } {
  const tensorArgs = operands.filter(isTensor);
  if (tensorArgs.length === 0) {
    throw new MasaError('GRAPH_INVALID', `${opName}: at least one operand must be a tensor (got only numbers)`);
  }
  const graph = commonGraph(opName, tensorArgs);
  const first = tensorArgs[0] as Tensor;
  for (const tensor of tensorArgs) {
    if (tensor.dtype !== first.dtype) {
      throw new MasaError(
        'GRAPH_INVALID',
        `${opName}: dtype mismatch: ${first.dtype} ${formatShape(first.shape)} vs ${tensor.dtype} ${formatShape(tensor.shape)} (insert cast())`,
        { details: { op: opName, dtypes: tensorArgs.map((t) => t.dtype) } },
      );
    }
  }
  const tensors = operands.map((operand) =>
    isTensor(operand) ? operand : graph.constant(operand, { dtype: first.dtype }),
  );
  return { graph, dtype: first.dtype, tensors };
}

/** Throws unless `tensor` has a floating-point dtype. */
export function requireFloat(opName: string, tensor: Tensor, role = 'input'): void {
  if (!isFloatDType(tensor.dtype)) {
    throw new MasaError('GRAPH_INVALID', `${opName}: ${role} must be a float tensor, got ${tensor.dtype} ${formatShape(tensor.shape)}`);
  }
}

/** Throws unless `tensor` has one of `dtypes`. */
export function requireDType(opName: string, tensor: Tensor, dtypes: readonly DType[], role = 'input'): void {
  if (!dtypes.includes(tensor.dtype)) {
    throw new MasaError(
      'GRAPH_INVALID',
      `${opName}: ${role} must be ${dtypes.join(' or ')}, got ${tensor.dtype} ${formatShape(tensor.shape)}`,
    );
  }
}

/** Throws unless `value` is an integer. */
export function requireInteger(opName: string, field: string, value: number): void {
  if (!Number.isInteger(value)) throw new MasaError('GRAPH_INVALID', `${opName}: ${field} must be an integer, got ${value}`);
}
