/**
 * Reverse-mode automatic differentiation over the builder's graphs. `grad()`
 * copies the forward graph and appends, in reverse topological order, one
 * vector-Jacobian rule per node that lies on a path from a `wrt` tensor to the
 * loss. Gradients that fan in to one tensor are summed once (one `Sum` node);
 * nodes off those paths get no backward nodes, and `serializeGraph` drops
 * forward nodes that no output needs.
 */
import { MasaError } from '@masa-rl/core';
import { isFloatDType } from './dtype.js';
import { graphState, type Graph, type NodeRecord, type Tensor } from './graph.js';
import { sum } from './ops-elementwise.js';
import { zerosLike } from './ops-shape.js';
import type { GradientContext, GradientRule } from './gradient-rule.js';
import { scatterAddInto, scatterGradientOf } from './gradient-helpers.js';
import { DEFAULT_GRADIENT_RULES } from './gradient-rules.js';
import { dimsEqual, formatShape, isAnonymousDim, type Dim } from './shape.js';
import { createTensorValue } from './tensor-value.js';

/** Options of {@link grad}. */
export interface GradOptions {
  /** The scalar to differentiate (rank 0, or all dims 1). */
  loss: Tensor;
  /** Tensors to differentiate with respect to (usually parameter inputs). */
  wrt: readonly Tensor[];
  /**
   * Forward tensors to expose as extra outputs, by output name.
   * @default {}
   */
  outputs?: Readonly<Record<string, Tensor>>;
  /**
   * Output name of the loss.
   * @default 'loss'
   */
  lossName?: string;
  /**
   * Output names of the gradients, one per `wrt` tensor.
   * @default `grad.${wrt[i].name}`
   */
  gradientNames?: readonly string[];
  /**
   * Extra or replacement rules, keyed by op type (`'MyOp'`) or `'domain::OpType'`.
   * @default {}
   */
  rules?: Readonly<Record<string, GradientRule>>;
}

/** What {@link grad} returns. */
export interface GradResult {
  /** A new graph whose outputs are the loss, the extra outputs and the gradients, in that order. */
  readonly graph: Graph;
  /** The loss in the new graph. */
  readonly loss: Tensor;
  /** One gradient per `wrt` tensor, in the new graph. */
  readonly gradients: readonly Tensor[];
  /** Output names of the gradients. */
  readonly gradientNames: readonly string[];
}

function ruleKey(node: NodeRecord): string {
  return node.domain === '' ? node.opType : `${node.domain}::${node.opType}`;
}

/**
 * Builds the backward graph: returns a copy of the loss's graph that also
 * computes the gradient of `loss` with respect to every `wrt` tensor.
 */
export function grad(options: GradOptions): GradResult {
  const { loss, wrt, outputs = {}, lossName = 'loss', rules = {} } = options;
  const forward = loss.graph;
  const forwardState = graphState(forward);
  if (!isFloatDType(loss.dtype)) {
    throw new MasaError('GRAPH_INVALID', `grad: the loss must be a float tensor, got ${loss.dtype}`);
  }
  if (!loss.shape.every((dim) => dim === 1)) {
    throw new MasaError(
      'GRAPH_INVALID',
      `grad: the loss must be a scalar, got shape ${formatShape(loss.shape)} (reduce it first, e.g. reduceSum(x, { keepdims: false }))`,
    );
  }
  if (wrt.length === 0) throw new MasaError('GRAPH_INVALID', 'grad: wrt is empty; pass the tensors to differentiate with respect to');
  const seenWrt = new Set<number>();
  for (const tensor of wrt) {
    if (tensor.graph !== forward) {
      throw new MasaError('GRAPH_INVALID', `grad: wrt tensor '${tensor.name}' belongs to graph '${tensor.graph.name}', not to the loss's graph`);
    }
    if (!isFloatDType(tensor.dtype)) {
      throw new MasaError('GRAPH_INVALID', `grad: wrt tensor '${tensor.name}' is ${tensor.dtype}; only float tensors have gradients`);
    }
    if (seenWrt.has(tensor.id)) throw new MasaError('GRAPH_INVALID', `grad: wrt lists '${tensor.name}' twice`);
    seenWrt.add(tensor.id);
  }
  const gradientNames = options.gradientNames ?? wrt.map((tensor) => `grad.${tensor.name}`);
  if (gradientNames.length !== wrt.length) {
    throw new MasaError('GRAPH_INVALID', `grad: ${gradientNames.length} gradientNames for ${wrt.length} wrt tensors`);
  }
  for (const [name, tensor] of Object.entries(outputs)) {
    if (tensor.graph !== forward) throw new MasaError('GRAPH_INVALID', `grad: output '${name}' belongs to another graph`);
  }

  // Values that reach the loss (ancestors), and float values that depend on a wrt tensor.
  const values = forwardState.values;
  const nodes = forwardState.nodes;
  const reachesLoss = new Set<number>([loss.id]);
  for (let index = nodes.length - 1; index >= 0; index--) {
    const node = nodes[index] as NodeRecord;
    if (!node.outputs.some((id) => reachesLoss.has(id))) continue;
    for (const input of node.inputs) if (input !== undefined) reachesLoss.add(input);
  }
  const dependsOnWrt = new Set<number>(seenWrt);
  for (const node of nodes) {
    if (node.stopGradient) continue;
    if (!node.inputs.some((id) => id !== undefined && dependsOnWrt.has(id))) continue;
    for (const output of node.outputs) if (isFloatDType((values[output] as { dtype: Tensor['dtype'] }).dtype)) dependsOnWrt.add(output);
  }

  const graph = forward.clone();
  const state = graphState(graph);
  state.outputs.length = 0;
  const pending = new Map<number, Tensor[]>();
  const accumulate = (id: number): Tensor | undefined => {
    const parts = pending.get(id);
    if (parts === undefined || parts.length === 0) return undefined;
    if (parts.length === 1) return parts[0];
    // Scatter-adds into zeros (Gather/GatherElements gradients) go into the sum of the dense parts instead.
    const scatters = parts.map((part) => scatterGradientOf(part));
    const dense = parts.filter((_, index) => scatters[index] === undefined);
    let total: Tensor;
    if (dense.length > 0 && dense.length < parts.length) {
      total = sum(dense);
      for (const scatter of scatters) if (scatter !== undefined) total = scatterAddInto(total, scatter);
    } else total = sum(parts);
    pending.set(id, [total]);
    return total;
  };
  const lossTensor = graph.tensorById(loss.id);
  pending.set(loss.id, [
    graph.constant(createTensorValue(loss.dtype, loss.shape as number[], [1])),
  ]);

  for (let index = nodes.length - 1; index >= 0; index--) {
    const node = nodes[index] as NodeRecord;
    if (node.stopGradient) continue;
    if (!node.outputs.some((id) => reachesLoss.has(id) && dependsOnWrt.has(id))) continue;
    const outputGradients = node.outputs.map((id) => accumulate(id));
    if (outputGradients.every((gradient) => gradient === undefined)) continue;
    const needsGradient = node.inputs.map((id) => id !== undefined && dependsOnWrt.has(id));
    if (!needsGradient.some(Boolean)) continue;
    const rule = rules[ruleKey(node)] ?? rules[node.opType] ?? DEFAULT_GRADIENT_RULES[ruleKey(node)];
    if (rule === undefined) {
      throw new MasaError(
        'GRADIENT_UNDEFINED',
        `no gradient rule for op ${ruleKey(node)} (node ${node.opType}_${node.index}); wrap its input in stopGradient() or pass a rule in grad({ rules })`,
        { details: { op: ruleKey(node), node: node.index } },
      );
    }
    const context: GradientContext = {
      graph,
      node,
      inputs: node.inputs.map((id) => (id === undefined ? undefined : graph.tensorById(id))),
      outputs: node.outputs.map((id) => graph.tensorById(id)),
      outputGradients,
      needsGradient,
    };
    const inputGradients = rule(context);
    node.inputs.forEach((id, position) => {
      if (id === undefined || !needsGradient[position]) return;
      const gradient = inputGradients[position];
      if (gradient === undefined) return;
      const input = graph.tensorById(id);
      const shapeOk =
        gradient.rank === input.rank &&
        gradient.shape.every((dim, axis) => {
          const other = input.shape[axis] as Dim;
          return dimsEqual(dim, other) || isAnonymousDim(dim) || isAnonymousDim(other);
        });
      if (gradient.dtype !== input.dtype || !shapeOk) {
        throw new MasaError(
          'INTERNAL',
          `gradient rule for ${ruleKey(node)} (node ${node.index}) returned ${gradient.dtype} ${formatShape(gradient.shape)} for input ${position} of ${input.dtype} ${formatShape(input.shape)}`,
        );
      }
      const list = pending.get(id);
      if (list === undefined) pending.set(id, [gradient]);
      else list.push(gradient);
    });
  }

  graph.output(lossName, lossTensor);
  for (const [name, tensor] of Object.entries(outputs)) graph.output(name, graph.tensorById(tensor.id));
  const gradients = wrt.map((tensor, position) => {
    const inGraph = graph.tensorById(tensor.id);
    const gradient = accumulate(tensor.id) ?? zerosLike(inGraph);
    graph.output(gradientNames[position] as string, gradient);
    return graph.tensor(gradientNames[position] as string);
  });
  return { graph, loss: graph.tensor(lossName), gradients, gradientNames };
}
