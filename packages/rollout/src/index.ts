export { createSampleRng, createSampler, resolveSamplingParams } from './sampling.js';
export type { CreateSamplerOptions, ResolvedSamplingParams, SampleOptions, SampledToken, Sampler, SamplingParams } from './sampling.js';
