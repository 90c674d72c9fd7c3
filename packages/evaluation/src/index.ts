// Running an evaluation: datasets → prompts → samples → grades → a resumable results folder.
export { runEvaluation, runEvaluationIter, resolveEvaluationConfig } from './run-evaluation.js';
export type { EvaluationEvent, EvaluationResult, PromptTokenizer, RunEvaluationOptions } from './run-evaluation.js';
export { loadEvaluationDatasets } from './load-evaluation-datasets.js';
export type { EvaluationDataset, LoadedEvaluationDatasets, LoadEvaluationDatasetsOptions } from './load-evaluation-datasets.js';
export { createEvaluationEngine, describeEvaluationModel, EVALUATION_BACKENDS } from './evaluation-engine.js';
export type { CreateEvaluationEngineOptions, EvaluationBackend, EvaluationEngine, EvaluationModelInfo } from './evaluation-engine.js';
export { DOMAIN_DATASETS, EVAL_DOMAINS, MASA_EVAL_SAMPLING, SYNTHETIC_EVAL_SAMPLING, defaultSampling, isSyntheticTemplate } from './domains.js';
export type { SamplingSettings } from './domains.js';

// The results folder.
export { RESULTS_FORMAT_VERSION, findConfigDifference } from './evaluation-config.js';
export type { ConfigDifference, EvaluationConfig, EvaluationDatasetConfig, EvaluationModelConfig } from './evaluation-config.js';
export { checkResultsFolder, openResultsStore, RESULTS_FILES } from './results-store.js';
export type { CheckResultsFolderOptions, CompletedProblem, ConfigChange, OpenResultsStoreOptions, ResponseRecord, ResultsStore, StoredScore, StoreRecovery } from './results-store.js';
export { parseJsonlLog, writeFileAtomic } from './jsonl-log.js';
export type { JsonlLog } from './jsonl-log.js';

// Grading and summaries (shared with `masa eval score`).
export { createSampleGrader, problemTests } from './sample-grader.js';
export type { GradingInfo, SampleGrader, SampleGraderOptions } from './sample-grader.js';
export { renderEvaluationMarkdown, summarizeEvaluation } from './evaluation-summary.js';
export type { DatasetDetails, EvaluationSummary, SummarizeEvaluationOptions } from './evaluation-summary.js';
