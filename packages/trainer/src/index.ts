export { ALGORITHM_NAMES, KL_LOSS_TYPES, LOSS_AGG_MODES, trainerConfigSchema } from './config-schema.js';
export type { AlgorithmName, KlLossType, LossAggMode, TrainerConfig, TrainerConfigShape } from './config-schema.js';
export { configKeyPaths, dumpResolvedConfig, parseOverride, resolveConfig } from './config.js';
export type { ConfigIssue, ConfigOverride, ResolveConfigOptions } from './config.js';
export { checkDatasetPaths, loadConfigFile } from './config-file.js';
export type { CheckDatasetPathsOptions, LoadConfigFileOptions } from './config-file.js';
export { createLrSchedule, createLrScheduleFromConfig } from './lr-schedule.js';
export type { LrSchedule, LrScheduleOptions } from './lr-schedule.js';
export { createDataLoader } from './data-loader.js';
export type { DataBatch, DataLoader, DataLoaderOptions, DataLoaderState } from './data-loader.js';
export {
  CHECKPOINT_MANIFEST,
  findLatestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  pruneCheckpoints,
  saveCheckpoint,
  verifyCheckpoint,
} from './checkpoint.js';
export type {
  CheckpointBlob,
  CheckpointInfo,
  CheckpointManifest,
  CheckpointManifestEntry,
  CheckpointVerification,
  FindLatestCheckpointOptions,
  LatestCheckpoint,
  LoadedCheckpoint,
  PruneCheckpointsOptions,
  SaveCheckpointOptions,
  SavedCheckpoint,
} from './checkpoint.js';
export { createRunFolder, RUN_FILES } from './run-folder.js';
export type { CreateRunFolderOptions, RunFolder, StepRecord } from './run-folder.js';
export { writeFileAtomic } from './atomic-file.js';
export { computeLossWeights, splitIntoChunks, splitMicroBatches } from './batching.js';
export type { LossWeightOptions, MicroBatchOptions } from './batching.js';
export type {
  BackendState,
  CrossEntropyLossSpec,
  ForwardBackwardResult,
  LogprobBatch,
  LossSpec,
  OptimStepOptions,
  OptimStepResult,
  PolicyBackend,
  PolicyLossSpec,
  PolicySequence,
  TrainBatch,
  TrainSequence,
} from '@masa-rl/core';
export { createBoxedMatchReward, createGraderReward, evaluateReward, lastBoxed } from './reward.js';
export type { GraderRewardOptions, RewardFunction, RewardInput, RewardOutput, RewardValue } from './reward.js';
export { defaultPromptBuilder } from './rollouts.js';
export type { GroupRequest, PromptBuilder, PromptInput, RequestDefaults, RolloutGroup, RolloutRecord, SamplingSettings } from './rollouts.js';
export { collectSolutionGroups, createSolutionAlgorithm, miniBatchPrompts, splitByVariance, verlMiniBatchSize } from './algorithm.js';
export type { CollectedStep, StepAlgorithm, StepContext, TrainDataset } from './algorithm.js';
export type { RolloutBranch, StepMetrics, TrainEvent, TrainEventType } from './events.js';
export { createAlgorithm, train, trainIter } from './train.js';
export type { AlgorithmFactory, TrainOptions, TrainResult } from './train.js';
export { createMasaAlgorithm, defaultMetaPromptBuilder, GATING_AUDIT_UID_SUFFIX, isMasaAlgorithm, META_UID_SUFFIX } from './masa.js';
export { computeMasaStepMetrics, hasZeroVariance, SHADOW_CUTOFF_SWEEP } from './masa-metrics.js';
export { computeValidationMetaMetrics, type ValidationMetaOptions, type ValidationMetaQuestion } from './val-meta.js';
export type { ComputeMasaStepMetricsOptions, MetricsGateSettings, MetricsQuestion, MetricsRollout } from './masa-metrics.js';
export type { MasaOptions, MetaPromptBuilder } from './masa.js';
export { createOrtPolicyBackend } from './ort/ort-policy-backend.js';
export type { CreateOrtPolicyBackendOptions, OrtBackendModel, OrtPolicyBackend } from './ort/ort-policy-backend.js';
export {
  CHAR_CHAT_TEMPLATE,
  CHAR_TOKEN_IDS,
  CHAR_VOCAB_SIZE,
  ENDOFTEXT_TOKEN,
  IM_END_TOKEN,
  IM_START_TOKEN,
  createCharTokenizerConfigJson,
  createCharTokenizerJson,
  writeCharTokenizer,
} from './recipes/char-tokenizer.js';
export type { WriteCharTokenizerOptions } from './recipes/char-tokenizer.js';
export {
  TINY_EVALUATION_SET,
  TINY_MODEL_SHAPE,
  TINY_RECIPE_DEFAULTS,
  createTinyInitialWeights,
  createTinyModelConfig,
  evaluateTinyCheckpoint,
  runTinyRecipe,
  tinyGenerationConfig,
  tinyEvaluationProblems,
  tinyLearningRate,
  tinyRecipeIter,
} from './recipes/tiny.js';
export type { EvaluateTinyCheckpointOptions, TinyRecipeEvent, TinyRecipeOptions, TinyRecipeResult, TinyRecipeSettings, TinyTrainingSummary } from './recipes/tiny.js';
export { evaluateTinyModel } from './recipes/tiny-evaluation.js';
export type { EvaluateTinyModelOptions, TinyEvaluation } from './recipes/tiny-evaluation.js';
export { createBucketedBatches, createSftExampleStream, tinyMetaMessages, tinySolutionMessages } from './recipes/tiny-sft-data.js';
export type { BucketedBatchesOptions, SftExample, SftExampleStream, SftExampleStreamOptions } from './recipes/tiny-sft-data.js';
