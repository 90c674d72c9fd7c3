export { ARCHITECTURE_CLASS, computeInverseFrequencies, createModelConfigJson, parseModelConfig, readModelConfig } from './config.js';
export type { Architecture, BiasConfig, ModelConfig, ModelConfigJsonOptions, RopeConfig } from './config.js';
export {
  bf16BitsToF32Bits,
  bf16BitsToNumber,
  f16BitsToF32Bits,
  f16BitsToNumber,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
  f64ToBf16Bits,
  f64ToF16Bits,
} from './half-precision.js';
export { dtypeBytes, readSafetensorsHeader, readTensorInto, writeSafetensors } from './safetensors.js';
export type {
  FloatArray,
  FloatDtype,
  ReadTensorOptions,
  SafetensorsDtype,
  SafetensorsEntry,
  SafetensorsHeader,
  TensorToWrite,
  WriteSafetensorsOptions,
} from './safetensors.js';
export {
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
  TOKENIZER_FILES,
  loadModel,
  openCheckpoint,
  saveModel,
} from './checkpoint.js';
export type { Checkpoint, LoadModelOptions, LoadedModel, SaveModelOptions, WeightDtype, WeightMap } from './checkpoint.js';
export {
  PROJECTION_MODULES,
  countParameters,
  listParameters,
  projectionHasBias,
  projectionPrefix,
  projectionShape,
} from './parameters.js';
export type { ParameterKind, ParameterSpec, ProjectionModule } from './parameters.js';
export { createRandomModel } from './random-model.js';
export type { RandomModel, RandomModelOptions } from './random-model.js';
export { loadTokenizer } from './tokenizer.js';
export type { ChatMessage, ChatTemplateOptions, LoadTokenizerOptions, Tokenizer } from './tokenizer.js';
export {
  ATTENTION_MASK,
  BATCH_DIM,
  INPUT_IDS,
  PAST_DIM,
  POSITION_IDS,
  SEQUENCE_DIM,
  TOTAL_DIM,
  buildDecoder,
  checkLoraConfig,
  declareWeights,
  languageModelHead,
  listLoraParameters,
  loraParameterNames,
  loraScaling,
  pastName,
  presentName,
} from './decoder-graph.js';
export type {
  BuildDecoderOptions,
  DecoderInputs,
  DecoderOutputs,
  GraphDtype,
  LoraConfig,
  WeightSource,
} from './decoder-graph.js';
export { buildCausalLmGraph, buildTokenLogProbsGraph, buildTrainingGraph, tokenLogProbsFromLogits } from './model-graphs.js';
export type {
  BuiltGraph,
  BuiltTrainingGraph,
  CausalLmGraphOptions,
  LogitsPositions,
  TokenLogProbsGraphOptions,
  TrainingGraphOptions,
  TrainingLoss,
  TrainingLossContext,
} from './model-graphs.js';
export { createModelRunner, defaultOptimizationLevel } from './model-runner.js';
export type { CreateModelRunnerOptions, KvCache, ModelRunner, StepInput, StepOutput } from './model-runner.js';
export { leftPadBatch, positionIdsFromMask } from './token-batch.js';
export type { LeftPadOptions, TokenBatch } from './token-batch.js';
export { generateGreedy } from './generate-greedy.js';
export type { GenerateGreedyOptions } from './generate-greedy.js';
export { createTrainingStep } from './training-step.js';
export type { CreateTrainingStepOptions, TrainingStep, TrainingStepResult } from './training-step.js';
export {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  createLoraWeights,
  loadLoraAdapter,
  mergeLora,
  parseAdapterConfig,
  saveLoraAdapter,
} from './lora.js';
export type {
  CreateLoraWeightsOptions,
  LoadLoraAdapterOptions,
  MergeLoraOptions,
  SaveLoraAdapterOptions,
} from './lora.js';
export { exportModel } from './export.js';
export type { ExportFormat, ExportModelOptions, ExportResult } from './export.js';
