export { ALGORITHM_NAMES, KL_LOSS_TYPES, LOSS_AGG_MODES, trainerConfigSchema } from './config-schema.js';
export type { AlgorithmName, KlLossType, LossAggMode, TrainerConfig, TrainerConfigShape } from './config-schema.js';
export { configKeyPaths, dumpResolvedConfig, parseOverride, resolveConfig } from './config.js';
export type { ConfigIssue, ConfigOverride, ResolveConfigOptions } from './config.js';
export { checkDatasetPaths, loadConfigFile } from './config-file.js';
export type { CheckDatasetPathsOptions, LoadConfigFileOptions } from './config-file.js';
