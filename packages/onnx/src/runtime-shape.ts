/**
 * Shapes as int64 tensors at run time. A symbolic dim is read from the first
 * graph input that declares it (`Shape(input, start=axis, end=axis+1)`), so the
 * backward graph never keeps an activation alive just to ask for its shape.
 * Products and sums of symbols become `Mul`/`Add` of those reads. Everything is
 * memoised per graph.
 */
import { addNode, graphState, type Graph, type Tensor } from './graph.js';
import { isStaticShape, type Dim } from './shape.js';
import { createTensorValue } from './tensor-value.js';

function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function memoised(graph: Graph, key: string, build: () => Tensor | undefined): Tensor | undefined {
  const state = graphState(graph);
  const cached = state.memo.get(key);
  if (cached !== undefined) return graph.tensorById(cached);
  const tensor = build();
  if (tensor !== undefined) state.memo.set(key, tensor.id);
  return tensor;
}

function int64Vector(graph: Graph, values: readonly number[]): Tensor {
  return graph.constant(createTensorValue('int64', [values.length], values));
}

function binaryInt(graph: Graph, opType: 'Mul' | 'Add', a: Tensor, b: Tensor): Tensor {
  return addNode(graph, { opType, inputs: [a, b], outputs: [{ dtype: 'int64', shape: [1] }] })[0] as Tensor;
}

/**
 * A `[1]` int64 tensor holding `dim` at run time, or undefined when `dim`
 * mentions a symbol that no graph input declares (an anonymous `?N` dim).
 */
export function dimTensor(graph: Graph, dim: Dim): Tensor | undefined {
  if (typeof dim === 'number') return int64Vector(graph, [dim]);
  return memoised(graph, `dim:${dim}`, () => {
    const factors = splitTopLevel(dim, '*');
    if (factors.length > 1) {
      let product: Tensor | undefined;
      for (const factor of factors) {
        const part = /^\d+$/.test(factor) ? int64Vector(graph, [Number(factor)]) : dimTensor(graph, factor);
        if (part === undefined) return undefined;
        product = product === undefined ? part : binaryInt(graph, 'Mul', product, part);
      }
      return product;
    }
    if (dim.startsWith('(') && dim.endsWith(')')) {
      const terms = splitTopLevel(dim.slice(1, -1), '+');
      if (terms.length > 1) {
        let total: Tensor | undefined;
        for (const term of terms) {
          const part = /^\d+$/.test(term) ? int64Vector(graph, [Number(term)]) : dimTensor(graph, term);
          if (part === undefined) return undefined;
          total = total === undefined ? part : binaryInt(graph, 'Add', total, part);
        }
        return total;
      }
      return dimTensor(graph, dim.slice(1, -1));
    }
    const source = graphState(graph).symbolSources.get(dim);
    if (source === undefined) return undefined;
    const input = graph.tensorById(source.id);
    return addNode(graph, {
      opType: 'Shape',
      inputs: [input],
      outputs: [{ dtype: 'int64', shape: [1] }],
      attributes: { start: { type: 'int', value: source.axis }, end: { type: 'int', value: source.axis + 1 } },
    })[0] as Tensor;
  });
}

/**
 * An int64 `[dims.length]` tensor with `dims` at run time, or undefined when a
 * dim cannot be resolved from the graph inputs.
 */
export function shapeTensorFromDims(graph: Graph, dims: readonly Dim[]): Tensor | undefined {
  if (isStaticShape(dims)) return int64Vector(graph, dims);
  const parts: Tensor[] = [];
  let pending: number[] = [];
  for (const dim of dims) {
    if (typeof dim === 'number') {
      pending.push(dim);
      continue;
    }
    const part = dimTensor(graph, dim);
    if (part === undefined) return undefined;
    if (pending.length > 0) {
      parts.push(int64Vector(graph, pending));
      pending = [];
    }
    parts.push(part);
  }
  if (pending.length > 0) parts.push(int64Vector(graph, pending));
  if (parts.length === 1) return parts[0] as Tensor;
  return addNode(graph, {
    opType: 'Concat',
    inputs: parts,
    outputs: [{ dtype: 'int64', shape: [dims.length] }],
    attributes: { axis: { type: 'int', value: 0 } },
  })[0] as Tensor;
}

/** The shape of `tensor` as an int64 tensor: a constant, symbol reads, or `Shape(tensor)` as a last resort. */
export function shapeOf(tensor: Tensor): Tensor {
  const graph = tensor.graph;
  const fromDims = shapeTensorFromDims(graph, tensor.shape);
  if (fromDims !== undefined) return fromDims;
  return memoised(graph, `shape:${tensor.id}`, () =>
    addNode(graph, { opType: 'Shape', inputs: [tensor], outputs: [{ dtype: 'int64', shape: [tensor.rank] }] })[0],
  ) as Tensor;
}
