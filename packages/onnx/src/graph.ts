/**
 * The graph builder's core: symbolic tensors, nodes, inputs, initializers,
 * constants and outputs. Ops live in `ops-*.ts` and call {@link addNode}; this
 * file checks that every tensor belongs to the graph it is used in.
 */
import { MasaError } from '@masa-rl/core';
import { isDType, type DType } from './dtype.js';
import { canonicalDim, formatShape, isAnonymousDim, type Dim, type Shape } from './shape.js';
import { createTensorValue, type TensorValue } from './tensor-value.js';

/** The ONNX opset (default domain) every graph targets. Opset 23 brings `RMSNormalization`. */
export const ONNX_OPSET = 23;
/** The `com.microsoft` contrib opset used for optional fused ops. */
export const MICROSOFT_OPSET = 1;
/** ONNX IR version written into every model (IR 11 goes with opset 23). */
export const ONNX_IR_VERSION = 11;

/** A symbolic tensor: a value in a graph under construction. */
export interface Tensor {
  /** The graph this tensor belongs to. */
  readonly graph: Graph;
  /** Stable id inside the graph (also used by clones of the graph). */
  readonly id: number;
  readonly dtype: DType;
  /** Symbolic shape, outermost dim first. */
  readonly shape: Shape;
  readonly rank: number;
  /** The ONNX value name: the given name for inputs, initializers and named outputs, else a generated `_tN`. */
  readonly name: string;
}

/** An attribute of a node. */
export type AttributeValue =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'strings'; readonly value: readonly string[] }
  | { readonly type: 'tensor'; readonly value: TensorValue };

/** Named attributes of a node. */
export type Attributes = Readonly<Record<string, AttributeValue>>;

/** A graph output: the ONNX name and the tensor it shows. */
export interface GraphOutput {
  readonly name: string;
  readonly tensor: Tensor;
}

/** One node as recorded by the builder. */
export interface NodeRecord {
  readonly index: number;
  readonly opType: string;
  readonly domain: string;
  /** Input value ids; `undefined` marks an omitted optional input. */
  readonly inputs: readonly (number | undefined)[];
  readonly outputs: readonly number[];
  readonly attributes: Attributes;
  /** True for `stopGradient` identities: autodiff sends no gradient through. */
  readonly stopGradient: boolean;
}

/** How a value came to exist. */
export type ValueKind = 'input' | 'initializer' | 'constant' | 'node';

/** One value as recorded by the builder. */
export interface ValueRecord {
  readonly id: number;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly kind: ValueKind;
  /** Set for inputs, initializers and named outputs. */
  name: string | undefined;
  /** Producing node index for `kind: 'node'`. */
  readonly producer: number | undefined;
  /** The data of initializers and constants. */
  readonly data: TensorValue | undefined;
}

/** Options of {@link createGraph}. */
export interface GraphOptions {
  /**
   * Name written into the ONNX `GraphProto`.
   * @default 'graph'
   */
  name?: string;
}

/**
 * A graph under construction. Ops are free functions (`matMul(a, b)`) that
 * find the graph through their tensor arguments; this object holds inputs,
 * initializers, constants and outputs.
 */
export interface Graph {
  readonly name: string;
  /** Declares a graph input (fed at run time, zero-copy). Symbolic dims name the axis (`'batch'`). */
  input(name: string, dtype: DType, shape: Shape): Tensor;
  /** Declares a named initializer: a weight stored in the model file. */
  initializer(name: string, value: TensorValue): Tensor;
  /**
   * A constant. Numbers, bigints and booleans make scalars; arrays make 1-D
   * tensors; a {@link TensorValue} keeps its shape.
   */
  constant(value: number | bigint | boolean | readonly number[] | TensorValue, options?: ConstantOptions): Tensor;
  /** Marks `tensor` as a graph output called `name`. */
  output(name: string, tensor: Tensor): void;
  /** Looks up a named tensor (input, initializer or output); throws `GRAPH_INVALID` listing the known names. */
  tensor(name: string): Tensor;
  /** Graph inputs in declaration order. */
  readonly inputs: readonly Tensor[];
  /** Graph outputs in declaration order. */
  readonly outputs: readonly GraphOutput[];
  /** Number of nodes recorded so far (before dead-code elimination). */
  readonly nodeCount: number;
  /** An independent copy; tensors of the copy keep the same ids (`copy.tensorById(t.id)`). */
  clone(): Graph;
  /** The tensor with this id in this graph. */
  tensorById(id: number): Tensor;
}

/** Options of {@link Graph.constant}. */
export interface ConstantOptions {
  /**
   * Element type of a constant built from numbers.
   * @default 'float32' for numbers, 'int64' for bigints, 'bool' for booleans
   */
  dtype?: DType;
}

/** Internal state of a graph; not part of the public API. */
export interface GraphState {
  readonly values: ValueRecord[];
  readonly nodes: NodeRecord[];
  readonly inputIds: number[];
  readonly outputs: { name: string; id: number }[];
  readonly names: Map<string, number>;
  /** Where each named symbol can be read at run time: the first input axis that carries it. */
  readonly symbolSources: Map<string, { id: number; axis: number }>;
  /** Memo of helper values (constants by content, `Shape` of inputs, …). */
  readonly memo: Map<string, number>;
  anonymousCounter: number;
}

const STATES = new WeakMap<Graph, GraphState>();

/** The internal state of a graph built by {@link createGraph}. */
export function graphState(graph: Graph): GraphState {
  const state = STATES.get(graph);
  if (state === undefined) throw new MasaError('GRAPH_INVALID', 'not a graph made by createGraph() of @masa-rl/onnx');
  return state;
}

const RESERVED_NAME = /^_t\d+$/;

function checkShape(where: string, shape: Shape): void {
  if (!Array.isArray(shape)) {
    throw new MasaError('GRAPH_INVALID', `${where}: shape must be an array of numbers and symbol names`);
  }
  for (const dim of shape as readonly unknown[]) {
    const ok =
      (typeof dim === 'number' && Number.isInteger(dim) && dim >= 0) || (typeof dim === 'string' && dim.length > 0);
    if (!ok) {
      throw new MasaError(
        'GRAPH_INVALID',
        `${where}: bad dim ${JSON.stringify(dim)} in ${formatShape(shape)}: use non-negative integers or symbol names`,
      );
    }
  }
}

/** Creates an empty graph. */
export function createGraph(options: GraphOptions = {}): Graph {
  return makeGraph(options.name ?? 'graph', {
    values: [],
    nodes: [],
    inputIds: [],
    outputs: [],
    names: new Map(),
    symbolSources: new Map(),
    memo: new Map(),
    anonymousCounter: 0,
  });
}

function makeGraph(name: string, state: GraphState): Graph {
  const handles = new Map<number, Tensor>();

  const handle = (id: number): Tensor => {
    let tensor = handles.get(id);
    if (tensor === undefined) {
      const record = state.values[id];
      if (record === undefined) throw new MasaError('GRAPH_INVALID', `no tensor with id ${id} in graph ${name}`);
      tensor = {
        graph,
        id,
        dtype: record.dtype,
        shape: record.shape,
        rank: record.shape.length,
        get name(): string {
          return valueName(record);
        },
      };
      handles.set(id, tensor);
    }
    return tensor;
  };

  const claimName = (where: string, valueNameText: string, id: number): void => {
    if (typeof valueNameText !== 'string' || valueNameText.length === 0) {
      throw new MasaError('GRAPH_INVALID', `${where}: a name must be a non-empty string`);
    }
    if (RESERVED_NAME.test(valueNameText)) {
      throw new MasaError('GRAPH_INVALID', `${where}: the name '${valueNameText}' is reserved for generated values; pick another`);
    }
    if (state.names.has(valueNameText)) {
      throw new MasaError('GRAPH_INVALID', `${where}: the name '${valueNameText}' is already used in graph ${name}`);
    }
    state.names.set(valueNameText, id);
  };

  const graph: Graph = {
    name,
    input(inputName, dtype, shape) {
      if (!isDType(dtype)) throw new MasaError('GRAPH_INVALID', `input '${inputName}': unknown dtype ${String(dtype)}`);
      checkShape(`input '${inputName}'`, shape);
      const id = state.values.length;
      claimName(`input '${inputName}'`, inputName, id);
      const canonical = shape.map(canonicalDim);
      state.values.push({ id, dtype, shape: canonical, kind: 'input', name: inputName, producer: undefined, data: undefined });
      state.inputIds.push(id);
      canonical.forEach((dim, axis) => {
        if (typeof dim === 'string' && !isAnonymousDim(dim) && !state.symbolSources.has(dim)) {
          state.symbolSources.set(dim, { id, axis });
        }
      });
      return handle(id);
    },
    initializer(initName, value) {
      const checked = createTensorValue(value.dtype, value.dims, value.data);
      const id = state.values.length;
      claimName(`initializer '${initName}'`, initName, id);
      state.values.push({
        id,
        dtype: checked.dtype,
        shape: [...checked.dims],
        kind: 'initializer',
        name: initName,
        producer: undefined,
        data: checked,
      });
      return handle(id);
    },
    constant(value, constantOptions = {}) {
      let tensorValue: TensorValue;
      if (typeof value === 'number') {
        tensorValue = createTensorValue(constantOptions.dtype ?? 'float32', [], [value]);
      } else if (typeof value === 'bigint') {
        tensorValue = createTensorValue(constantOptions.dtype ?? 'int64', [], [value]);
      } else if (typeof value === 'boolean') {
        tensorValue = createTensorValue('bool', [], [value]);
      } else if (Array.isArray(value)) {
        const list = value as readonly number[];
        tensorValue = createTensorValue(constantOptions.dtype ?? 'float32', [list.length], list);
      } else {
        const given = value as TensorValue;
        tensorValue = createTensorValue(given.dtype, given.dims, given.data);
      }
      return handle(addConstant(state, tensorValue));
    },
    output(outputName, tensor) {
      const record = ownValue(state, graph, 'output', tensor);
      if (state.outputs.some((output) => output.name === outputName)) {
        throw new MasaError('GRAPH_INVALID', `output '${outputName}' is declared twice in graph ${name}`);
      }
      if (record.kind === 'node' && record.name === undefined) {
        claimName(`output '${outputName}'`, outputName, record.id);
        record.name = outputName;
        state.outputs.push({ name: outputName, id: record.id });
        return;
      }
      if (record.name === outputName) {
        state.outputs.push({ name: outputName, id: record.id });
        return;
      }
      // Already named (an input, initializer or another output): show it under a second name.
      const [copy] = addNode(graph, {
        opType: 'Identity',
        inputs: [tensor],
        outputs: [{ dtype: record.dtype, shape: record.shape }],
      });
      const copyRecord = state.values[(copy as Tensor).id] as ValueRecord;
      claimName(`output '${outputName}'`, outputName, copyRecord.id);
      copyRecord.name = outputName;
      state.outputs.push({ name: outputName, id: copyRecord.id });
    },
    tensor(lookupName) {
      const id = state.names.get(lookupName);
      if (id === undefined) {
        const known = [...state.names.keys()];
        throw new MasaError(
          'GRAPH_INVALID',
          `unknown tensor '${lookupName}' in graph ${name}; named tensors are: ${known.length ? known.join(', ') : '(none)'}`,
          { details: { name: lookupName, known } },
        );
      }
      return handle(id);
    },
    get inputs() {
      return state.inputIds.map(handle);
    },
    get outputs() {
      return state.outputs.map((output) => ({ name: output.name, tensor: handle(output.id) }));
    },
    get nodeCount() {
      return state.nodes.length;
    },
    clone() {
      return makeGraph(name, {
        values: state.values.map((record) => ({ ...record })),
        nodes: [...state.nodes],
        inputIds: [...state.inputIds],
        outputs: state.outputs.map((output) => ({ ...output })),
        names: new Map(state.names),
        symbolSources: new Map(state.symbolSources),
        memo: new Map(state.memo),
        anonymousCounter: state.anonymousCounter,
      });
    },
    tensorById(id) {
      return handle(id);
    },
  };
  STATES.set(graph, state);
  return graph;
}

/** The ONNX name of a value. */
export function valueName(record: ValueRecord): string {
  return record.name ?? `_t${record.id}`;
}

function constantKey(value: TensorValue): string | undefined {
  if (value.data.length > 16) return undefined;
  return `const:${value.dtype}:${value.dims.join('x')}:${Array.from(value.data as ArrayLike<number | bigint>, String).join(',')}`;
}

function addConstant(state: GraphState, value: TensorValue): number {
  const key = constantKey(value);
  if (key !== undefined) {
    const existing = state.memo.get(key);
    if (existing !== undefined) return existing;
  }
  const id = state.values.length;
  state.values.push({
    id,
    dtype: value.dtype,
    shape: [...value.dims],
    kind: 'constant',
    name: undefined,
    producer: undefined,
    data: value,
  });
  if (key !== undefined) state.memo.set(key, id);
  return id;
}

/** The record of `tensor`, which must belong to `graph`; throws naming `where` otherwise. */
export function ownValue(state: GraphState, graph: Graph, where: string, tensor: Tensor): ValueRecord {
  if (tensor === null || typeof tensor !== 'object' || !('graph' in tensor)) {
    throw new MasaError('GRAPH_INVALID', `${where}: expected a tensor, got ${String(tensor)}`);
  }
  if (tensor.graph !== graph) {
    throw new MasaError(
      'GRAPH_INVALID',
      `${where}: tensor '${tensor.name}' belongs to graph '${tensor.graph.name}', not to '${graph.name}' (build each graph from its own inputs, or clone first)`,
    );
  }
  const record = state.values[tensor.id];
  if (record === undefined) throw new MasaError('GRAPH_INVALID', `${where}: unknown tensor id ${tensor.id}`);
  return record;
}

/** A node to add: op type, inputs (undefined = omitted optional input), output types, attributes. */
export interface NodeSpec {
  opType: string;
  /** @default '' (the ONNX domain) */
  domain?: string;
  inputs: readonly (Tensor | undefined)[];
  outputs: readonly { dtype: DType; shape: Shape }[];
  attributes?: Attributes;
  /** @default false */
  stopGradient?: boolean;
}

/** Appends a node and returns its output tensors. Inputs must all belong to `graph`. */
export function addNode(graph: Graph, spec: NodeSpec): Tensor[] {
  const state = graphState(graph);
  const inputIds = spec.inputs.map((input, position) =>
    input === undefined ? undefined : ownValue(state, graph, `${spec.opType} input ${position}`, input).id,
  );
  const index = state.nodes.length;
  const outputIds: number[] = [];
  for (const output of spec.outputs) {
    const id = state.values.length;
    state.values.push({
      id,
      dtype: output.dtype,
      shape: output.shape.map(canonicalDim),
      kind: 'node',
      name: undefined,
      producer: index,
      data: undefined,
    });
    outputIds.push(id);
  }
  state.nodes.push({
    index,
    opType: spec.opType,
    domain: spec.domain ?? '',
    inputs: inputIds,
    outputs: outputIds,
    attributes: spec.attributes ?? {},
    stopGradient: spec.stopGradient ?? false,
  });
  return outputIds.map((id) => graph.tensorById(id));
}

/** The graph shared by `tensors` (ops with several inputs); throws when they come from different graphs. */
export function commonGraph(opName: string, tensors: readonly Tensor[]): Graph {
  const first = tensors[0];
  if (first === undefined) throw new MasaError('GRAPH_INVALID', `${opName}: needs at least one tensor input`);
  for (const tensor of tensors) {
    if (tensor === null || typeof tensor !== 'object' || !('graph' in tensor)) {
      throw new MasaError('GRAPH_INVALID', `${opName}: expected tensors, got ${String(tensor)}`);
    }
    if (tensor.graph !== first.graph) {
      throw new MasaError(
        'GRAPH_INVALID',
        `${opName}: inputs come from different graphs ('${first.graph.name}' and '${tensor.graph.name}')`,
      );
    }
  }
  return first.graph;
}

/** A fresh anonymous dim (`?N`) for a size shape inference cannot name. */
export function anonymousDim(graph: Graph): Dim {
  const state = graphState(graph);
  state.anonymousCounter += 1;
  return `?${state.anonymousCounter}`;
}

/** The constant data behind a tensor, if it is an initializer or constant. */
export function constantValueOf(tensor: Tensor): TensorValue | undefined {
  const state = graphState(tensor.graph);
  return state.values[tensor.id]?.data;
}
