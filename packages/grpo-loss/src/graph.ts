/**
 * `@masa-rl/grpo-loss/graph`: the actor loss as a fragment of an ONNX training
 * graph (built with `@masa-rl/onnx`). A separate entry so that importing the
 * plain TypeScript math from `@masa-rl/grpo-loss` never loads the graph builder
 * or ONNX Runtime.
 */
export { GRPO_LOSS_INPUT_NAMES, buildGrpoLossGraph, declareGrpoLossInputs, readGrpoLossMetrics } from './grpo-loss-graph.js';
export type {
  DeclareGrpoLossInputsOptions,
  GrpoLossGraph,
  GrpoLossGraphMetrics,
  GrpoLossGraphOptions,
  GrpoLossInputs,
  ReadGrpoLossMetricsOptions,
} from './grpo-loss-graph.js';
