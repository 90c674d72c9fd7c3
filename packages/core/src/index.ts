export { MasaError, MASA_ERROR_CODES } from './errors.js';
export type { MasaErrorCode, MasaErrorOptions } from './errors.js';
export { createRng, hashString } from './rng.js';
export type { Rng, RngState } from './rng.js';
export type {
  AnswerKind,
  Choice,
  Completion,
  Domain,
  FinishReason,
  GradeVerdict,
  Problem,
  SampleScore,
} from './types.js';
export type {
  ChatMessage,
  GenerateOptions,
  RolloutEngine,
  RolloutEvent,
  RolloutRequest,
  RolloutResult,
  RolloutSample,
  SampleDelta,
} from './rollout.js';
export { KL_LOSS_TYPES } from './policy-backend.js';
export type {
  BackendState,
  CrossEntropyLossSpec,
  ForwardBackwardResult,
  KlLossType,
  LogprobBatch,
  LossSpec,
  OptimStepOptions,
  OptimStepResult,
  PolicyBackend,
  PolicyLossSpec,
  PolicySequence,
  TrainBatch,
  TrainSequence,
} from './policy-backend.js';
