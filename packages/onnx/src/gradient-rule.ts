/**
 * The contract of a vector-Jacobian rule: given a node and the gradients of
 * the loss with respect to its outputs, emit nodes that compute the gradients
 * with respect to its inputs.
 */
import { MasaError } from '@masa-rl/core';
import type { AttributeValue, Graph, NodeRecord, Tensor } from './graph.js';

/** What a rule sees. */
export interface GradientContext {
  /** The graph being extended (a copy of the forward graph). */
  readonly graph: Graph;
  /** The forward node. */
  readonly node: NodeRecord;
  /** Forward inputs (`undefined` for omitted optional inputs). */
  readonly inputs: readonly (Tensor | undefined)[];
  /** Forward outputs. */
  readonly outputs: readonly Tensor[];
  /** Gradient of the loss for each output; `undefined` where none flows. */
  readonly outputGradients: readonly (Tensor | undefined)[];
  /** Which inputs need a gradient (float inputs that depend on a `wrt` tensor). */
  readonly needsGradient: readonly boolean[];
}

/**
 * A vector-Jacobian product rule: returns one gradient per input (`undefined`
 * for inputs that need none), each with the input's shape and dtype.
 */
export type GradientRule = (context: GradientContext) => readonly (Tensor | undefined)[];

function attribute(node: NodeRecord, name: string): AttributeValue | undefined {
  return node.attributes[name];
}

/** An int attribute of the node, or `fallback`. */
export function intAttribute(node: NodeRecord, name: string, fallback: number): number {
  const value = attribute(node, name);
  if (value === undefined) return fallback;
  if (value.type !== 'int') throw new MasaError('GRAPH_INVALID', `${node.opType} node ${node.index}: attribute ${name} must be an int`);
  return value.value;
}

/** A float attribute of the node, or `fallback`. */
export function floatAttribute(node: NodeRecord, name: string, fallback: number): number {
  const value = attribute(node, name);
  if (value === undefined) return fallback;
  if (value.type !== 'float') throw new MasaError('GRAPH_INVALID', `${node.opType} node ${node.index}: attribute ${name} must be a float`);
  return value.value;
}

/** A string attribute of the node, or `fallback`. */
export function stringAttribute(node: NodeRecord, name: string, fallback: string): string {
  const value = attribute(node, name);
  if (value === undefined) return fallback;
  if (value.type !== 'string') throw new MasaError('GRAPH_INVALID', `${node.opType} node ${node.index}: attribute ${name} must be a string`);
  return value.value;
}

/** An ints attribute of the node, or `fallback`. */
export function intsAttribute(node: NodeRecord, name: string, fallback: readonly number[] | undefined): readonly number[] | undefined {
  const value = attribute(node, name);
  if (value === undefined) return fallback;
  if (value.type !== 'ints') throw new MasaError('GRAPH_INVALID', `${node.opType} node ${node.index}: attribute ${name} must be ints`);
  return value.value;
}
