export { createSampleRng, createSampler, resolveSamplingParams } from './sampling.js';
export type { CreateSamplerOptions, ResolvedSamplingParams, SampleOptions, SampledToken, Sampler, SamplingParams } from './sampling.js';
export { createSequenceTracker, validateStopConditions } from './sequence-tracker.js';
export type { SequenceStep, SequenceTracker, SequenceTrackerOptions } from './sequence-tracker.js';
export { validateRolloutRequest } from './request-validation.js';
export type { ValidatedRequest } from './request-validation.js';
export { createOpenAIEngine } from './openai-engine.js';
export type { OpenAIEngineOptions } from './openai-engine.js';
