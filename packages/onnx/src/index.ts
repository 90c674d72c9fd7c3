// Graph builder
export { createGraph, ONNX_OPSET, ONNX_IR_VERSION, MICROSOFT_OPSET } from './graph.js';
export type { Attributes, AttributeValue, ConstantOptions, Graph, GraphOptions, GraphOutput, Tensor } from './graph.js';
export { DTYPES, isFloatDType } from './dtype.js';
export type { DType, TensorData, TypedArrayOf } from './dtype.js';
export { formatShape } from './shape.js';
export type { Dim, Shape } from './shape.js';
export { createTensorValue, elementCount } from './tensor-value.js';
export { fromBfloat16Bits, fromFloat16Bits, toBfloat16Bits, toFloat16Bits } from './half-precision.js';
export type { TensorValue } from './tensor-value.js';
export type { Operand } from './operands.js';
export {
  abs,
  add,
  and,
  cast,
  clip,
  cos,
  div,
  equal,
  erf,
  exp,
  floor,
  gelu,
  greater,
  greaterOrEqual,
  identity,
  less,
  lessOrEqual,
  log,
  max,
  min,
  mul,
  neg,
  not,
  or,
  pow,
  reciprocal,
  relu,
  sigmoid,
  sign,
  silu,
  sin,
  softplus,
  sqrt,
  stopGradient,
  sub,
  sum,
  tanh,
  where,
} from './ops-elementwise.js';
export type { ClipOptions, GeluOptions } from './ops-elementwise.js';
export { fusedMatMul, gemm, matMul } from './ops-linalg.js';
export type { FusedMatMulOptions, GemmOptions } from './ops-linalg.js';
export { logSoftmax, reduceMax, reduceMean, reduceMin, reduceSum, softmax } from './ops-reduce.js';
export type { ReduceOptions, SoftmaxOptions } from './ops-reduce.js';
export {
  concat,
  expand,
  full,
  gather,
  gatherElements,
  pad,
  range,
  reshape,
  scatterElements,
  scatterND,
  shape,
  slice,
  split,
  squeeze,
  transpose,
  trilu,
  unsqueeze,
  withShape,
  zerosLike,
} from './ops-shape.js';
export type {
  AxisOptions,
  FullOptions,
  PadOptions,
  ReshapeOptions,
  ScatterElementsOptions,
  ScatterOptions,
  ScatterReduction,
  ShapeOptions,
  SliceOptions,
  SplitOptions,
  TriluOptions,
} from './ops-shape.js';
export { softmaxCrossEntropy, tokenLogProbs } from './ops-loss.js';
export type { SoftmaxCrossEntropyOptions } from './ops-loss.js';
export { rmsNormalization, simplifiedLayerNormalization } from './ops-normalization.js';
export type { RmsNormalizationOptions, SimplifiedLayerNormalizationOptions } from './ops-normalization.js';
export { customOp } from './custom-op.js';
export type { CustomOpOptions } from './custom-op.js';
export { graphStats, serializeGraph } from './serialize.js';
export type { ExternalDataPlacement, SerializeOptions } from './serialize.js';

// Autodiff
export { grad } from './autodiff.js';
export type { GradOptions, GradResult } from './autodiff.js';
export { differentiableOps } from './gradient-rules.js';
export type { GradientContext, GradientRule } from './gradient-rule.js';

// Runtime
export { createSession, DEVICES } from './session.js';
export type { CreateSessionOptions, Device, GraphOptimizationLevel, RunOptions, Session, SessionValueInfo } from './session.js';

// Decoder building blocks (compositions autodiff covers)
export { attention, causalMask } from './attention.js';
export type { AttentionOptions, CausalMaskOptions } from './attention.js';
export { applyRotary, rotaryTables } from './rotary-embedding.js';
export type { RotaryTables, RotaryTablesOptions } from './rotary-embedding.js';
export { rmsNorm } from './rms-norm.js';
export type { RmsNormOptions } from './rms-norm.js';

// Optimizer
export { createAdamW } from './adamw.js';
export type { AdamW, AdamWOptions, AdamWState, AdamWStepOptions, AdamWStepResult } from './adamw.js';
export { MAX_INLINE_MODEL_BYTES, createExternalDataFile, saveModel } from './model-file.js';
export type { ExternalDataFile, ExternalDataFileOptions, SaveModelOptions } from './model-file.js';
