/**
 * An escape hatch for ops the builder does not wrap: the caller states the
 * output types. No shape checks, and autodiff has no rule for them unless one
 * is registered.
 */
import { MasaError } from '@masa-rl/core';
import { isDType, type DType } from './dtype.js';
import { addNode, commonGraph, type Attributes, type Tensor } from './graph.js';
import type { Shape } from './shape.js';

/** Options of {@link customOp}. */
export interface CustomOpOptions {
  /** ONNX op type, e.g. `'TopK'`. */
  opType: string;
  /** @default '' (the ONNX domain); `'com.microsoft'` for contrib ops */
  domain?: string;
  /** Inputs in order; `undefined` omits an optional input. */
  inputs: readonly (Tensor | undefined)[];
  /** Dtype and shape of each output. */
  outputs: readonly { dtype: DType; shape: Shape }[];
  /** @default {} */
  attributes?: Attributes;
}

/** Adds any node; returns its outputs. */
export function customOp(options: CustomOpOptions): Tensor[] {
  const present = options.inputs.filter((input): input is Tensor => input !== undefined);
  const graph = commonGraph(options.opType, present);
  for (const output of options.outputs) {
    if (!isDType(output.dtype)) throw new MasaError('GRAPH_INVALID', `${options.opType}: unknown output dtype ${String(output.dtype)}`);
  }
  return addNode(graph, {
    opType: options.opType,
    domain: options.domain ?? '',
    inputs: options.inputs,
    outputs: options.outputs,
    ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
  });
}
