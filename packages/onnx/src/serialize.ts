/**
 * Writes a graph as an ONNX `ModelProto` (protobufjs + the schema in
 * `proto/onnx-schema.ts`). Nodes that no output needs are left out, so a
 * graph can carry helpers that a given model does not use.
 */
import { MasaError } from '@masa-rl/core';
import protobuf from 'protobufjs/light.js';
import { ONNX_ELEMENT_TYPE } from './dtype.js';
import {
  graphState,
  MICROSOFT_OPSET,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  valueName,
  type AttributeValue,
  type Graph,
  type GraphState,
  type NodeRecord,
  type ValueRecord,
} from './graph.js';
import { ONNX_SCHEMA } from './proto/onnx-schema.js';
import { isAnonymousDim, type Shape } from './shape.js';
import type { TensorValue } from './tensor-value.js';

let modelType: protobuf.Type | undefined;

function getModelType(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  return modelType;
}

const encoder = new TextEncoder();

/** A tensor with its bytes inline, or (`external`) at an offset of an external data file (ONNX `data_location: EXTERNAL`). */
function tensorProto(name: string | undefined, value: TensorValue, external?: { location: string; offset: number }): Record<string, unknown> {
  const data = value.data;
  return {
    ...(name === undefined ? {} : { name }),
    dims: [...value.dims],
    dataType: ONNX_ELEMENT_TYPE[value.dtype],
    ...(external === undefined
      ? { rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }
      : {
          dataLocation: 1,
          externalData: [
            { key: 'location', value: external.location },
            { key: 'offset', value: String(external.offset) },
            { key: 'length', value: String(data.byteLength) },
          ],
        }),
  };
}

function attributeProto(name: string, attribute: AttributeValue): Record<string, unknown> {
  switch (attribute.type) {
    case 'int':
      return { name, type: 2, i: attribute.value };
    case 'ints':
      return { name, type: 7, ints: [...attribute.value] };
    case 'float':
      return { name, type: 1, f: attribute.value };
    case 'floats':
      return { name, type: 6, floats: [...attribute.value] };
    case 'string':
      return { name, type: 3, s: encoder.encode(attribute.value) };
    case 'strings':
      return { name, type: 8, strings: attribute.value.map((text) => encoder.encode(text)) };
    case 'tensor':
      return { name, type: 4, t: tensorProto(undefined, attribute.value) };
    default:
      throw new MasaError('INTERNAL', `unknown attribute kind for '${name}'`);
  }
}

function valueInfo(name: string, record: ValueRecord): Record<string, unknown> {
  const dims = (record.shape as Shape).map((dim) =>
    typeof dim === 'number' ? { dimValue: dim } : isAnonymousDim(dim) ? {} : { dimParam: dim },
  );
  return { name, type: { tensorType: { elemType: ONNX_ELEMENT_TYPE[record.dtype], shape: { dim: dims } } } };
}

/** Options of {@link serializeGraph}. */
export interface SerializeOptions {
  /**
   * Free text stored in the model's `doc_string`.
   * @default ''
   */
  docString?: string;
  /**
   * Keeps initializers' bytes out of the model, in an external data file (ONNX external data): for models
   * over protobuf's 2 GiB, and for weights that ONNX Runtime should memory-map. See `createExternalDataFile`.
   * @default every initializer inline
   */
  externalData?: ExternalDataPlacement;
}

/** Where {@link serializeGraph} puts initializers' bytes when they go to an external data file. */
export interface ExternalDataPlacement {
  /** The data file as the model names it: a path relative to the model file's folder. */
  location: string;
  /**
   * Byte offset of this initializer's data in the file (the placement writes it there), or `undefined` to keep
   * the initializer inline.
   */
  offsetOf(name: string, value: TensorValue): number | undefined;
}

/** Encodes the graph as ONNX model bytes (opset {@link ONNX_OPSET}), keeping only what the outputs need. */
export function serializeGraph(graph: Graph, options: SerializeOptions = {}): Uint8Array {
  const state = graphState(graph);
  if (state.outputs.length === 0) {
    throw new MasaError('GRAPH_INVALID', `graph '${graph.name}' has no outputs: call graph.output(name, tensor) before serialising`);
  }
  const { liveValues, liveNodes } = liveness(state);
  const nameOf = (id: number): string => valueName(state.values[id] as ValueRecord);

  let usesMicrosoft = false;
  const nodes: Record<string, unknown>[] = [];
  for (const node of state.nodes) {
    if (!liveNodes.has(node.index)) continue;
    if (node.domain === 'com.microsoft') usesMicrosoft = true;
    nodes.push({
      name: `${node.opType}_${node.index}`,
      opType: node.opType,
      ...(node.domain === '' ? {} : { domain: node.domain }),
      input: node.inputs.map((input) => (input === undefined ? '' : nameOf(input))),
      output: node.outputs.map(nameOf),
      attribute: Object.entries(node.attributes).map(([name, attribute]) => attributeProto(name, attribute)),
    });
  }
  const initializers: Record<string, unknown>[] = [];
  for (const record of state.values) {
    if ((record.kind === 'initializer' || record.kind === 'constant') && liveValues.has(record.id) && record.data !== undefined) {
      const name = valueName(record);
      const { externalData } = options;
      const offset = record.kind === 'initializer' ? externalData?.offsetOf(name, record.data) : undefined;
      initializers.push(tensorProto(name, record.data, offset === undefined || externalData === undefined ? undefined : { location: externalData.location, offset }));
    }
  }
  const model = {
    irVersion: ONNX_IR_VERSION,
    producerName: '@masa-rl/onnx',
    producerVersion: '0.1.0',
    ...(options.docString ? { docString: options.docString } : {}),
    opsetImport: [
      { domain: '', version: ONNX_OPSET },
      ...(usesMicrosoft ? [{ domain: 'com.microsoft', version: MICROSOFT_OPSET }] : []),
    ],
    graph: {
      name: graph.name,
      node: nodes,
      initializer: initializers,
      input: state.inputIds.map((id) => valueInfo(nameOf(id), state.values[id] as ValueRecord)),
      output: state.outputs.map((output) => valueInfo(output.name, state.values[output.id] as ValueRecord)),
    },
  };
  return getModelType().encode(model).finish();
}

/** Values and nodes that the outputs need, found by walking back from them. */
function liveness(state: GraphState): { liveValues: Set<number>; liveNodes: Set<number> } {
  const liveValues = new Set<number>();
  const liveNodes = new Set<number>();
  const stack = state.outputs.map((output) => output.id);
  while (stack.length > 0) {
    const id = stack.pop() as number;
    if (liveValues.has(id)) continue;
    liveValues.add(id);
    const producer = (state.values[id] as ValueRecord).producer;
    if (producer === undefined || liveNodes.has(producer)) continue;
    liveNodes.add(producer);
    const node = state.nodes[producer] as NodeRecord;
    for (const input of node.inputs) if (input !== undefined) stack.push(input);
    // Every output of a live node is written, so its name must be known.
    for (const output of node.outputs) liveValues.add(output);
  }
  return { liveValues, liveNodes };
}

/** Counts of what {@link serializeGraph} would write (for tests and diagnostics). */
export function graphStats(graph: Graph): { nodes: number; liveNodes: number; opCounts: Record<string, number> } {
  const state = graphState(graph);
  const { liveNodes } = liveness(state);
  const opCounts: Record<string, number> = {};
  for (const index of liveNodes) {
    const opType = (state.nodes[index] as NodeRecord).opType;
    opCounts[opType] = (opCounts[opType] ?? 0) + 1;
  }
  return { nodes: state.nodes.length, liveNodes: liveNodes.size, opCounts };
}
