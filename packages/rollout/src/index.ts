export { createSampleRng, createSampler, resolveSamplingParams } from './sampling.js';
export type { CreateSamplerOptions, ResolvedSamplingParams, SampleOptions, SampledToken, Sampler, SamplingParams } from './sampling.js';
export { createSequenceTracker, validateStopConditions } from './sequence-tracker.js';
export type { SequenceStep, SequenceTracker, SequenceTrackerOptions } from './sequence-tracker.js';
export { validateRolloutRequest } from './request-validation.js';
export type { ValidatedRequest } from './request-validation.js';
export { createOpenAIEngine } from './openai-engine.js';
export type { OpenAIEngineOptions } from './openai-engine.js';
export { createServer } from './server.js';
export type { CreateServerOptions, RolloutServer } from './server.js';
export type { ServerTokenizer } from './openai-protocol.js';
export { createChildProcessEngine } from './child-process-engine.js';
export type { ChildProcessEngine, ChildProcessEngineOptions } from './child-process-engine.js';
export { createOrtEngine } from './ort-engine.js';
export type { OrtEngine, OrtEngineOptions, OrtEngineProfile, OrtEngineTokenizer } from './ort-engine.js';
export { createOrtChildEngine, loadOrtEngine } from './load-ort-engine.js';
export type { LoadOrtEngineOptions, OrtChildEngineOptions } from './load-ort-engine.js';
export {
  CACHE_LENGTH,
  CACHE_START,
  DRAW_INVERSE_TEMPERATURE,
  DRAW_ROWS,
  DRAW_UNIFORM,
  TOP_K,
  buildDecodeGraph as experimental_buildDecodeGraph,
  buildPrefillGraph as experimental_buildPrefillGraph,
  newCacheName,
} from './rollout-graph.js';
/** Moved to `@masa-rl/core` (with `GenerateOptions.onDelta`); re-exported here for code written against 0.1. */
export type { SampleDelta } from '@masa-rl/core';
