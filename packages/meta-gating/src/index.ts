export { buildMetaPrompt, META_INSTRUCTIONS, META_SYSTEM_PROMPT, tinyTaskMetaTemplate } from './meta-prompt.js';
export type { BuildMetaPromptOptions, MetaPromptTemplate, MetaPromptTemplateInput } from './meta-prompt.js';

export { extractMetaReasoning, META_KEYS, parseMetaPrediction } from './meta-prediction.js';
export type { MetaKey, MetaParseMode, MetaParseResult, MetaPrediction, ParseMetaPredictionOptions } from './meta-prediction.js';

export { findLastJsonObject, MAX_JSON_DEPTH, parseJsonText, PYTHON_INT_MAX_DIGITS } from './json-literal-parser.js';
export type { JsonDialect, JsonObject, JsonTextParse, JsonValue, LastObjectSearch, ParsedJsonObject } from './json-literal-parser.js';

export { computeSolutionStats } from './solution-stats.js';
export type { ComputeSolutionStatsOptions, SolutionRollout, SolutionStats } from './solution-stats.js';

export { normalizeNotions, singularize } from './notions.js';
export type { NotionList } from './notions.js';

export { computeMetaReward } from './meta-reward.js';
export type { ComputeMetaRewardOptions, MetaRewardMode, MetaRewardResult, NotionCount, ParsedMetaPrediction } from './meta-reward.js';

export { computeCutoffBudget, decidePredictiveGate, validPassCount, validSolutionLength } from './predictive-gate.js';
export type { ComputeCutoffBudgetOptions, CutoffBudget, DecidePredictiveGateOptions, GateDecision, GateReason } from './predictive-gate.js';

export { createExpertBuffer, roundHalfEven, selectExpertMetaTrajectory, truePassCount } from './expert-selection.js';
export type {
  CreateExpertBufferOptions,
  ExpertBuffer,
  ExpertCandidate,
  ExpertSelection,
  ExpertSelectionResult,
  SelectExpertMetaTrajectoryOptions,
} from './expert-selection.js';

export { appendNotionHint, notionHintText, pickNotionHint } from './notion-hint.js';
export type { AppendNotionHintOptions, NotionHint, PickNotionHintOptions } from './notion-hint.js';

export { pythonFloatRepr, pythonRepr, pythonStringRepr } from './python-repr.js';

export { passRateCalibration, pearsonCorrelation, standardizedLengthError, summarizeMetaRewards } from './calibration.js';
export type {
  LengthErrorQuestion,
  LengthErrorSummary,
  MetaRewardRecord,
  MetaRewardSummary,
  PassRateCalibration,
  PassRateCalibrationOptions,
  PassRatePair,
  ReliabilityBin,
  StandardizedLengthErrorOptions,
  SummarizeMetaRewardsOptions,
} from './calibration.js';

export { gatingQuality, tokenSavings } from './gating-quality.js';
export type { CutoffRollout, GatingOutcome, GatingQuality, GatingQualityOptions, TokenSavings, TokenSavingsOptions } from './gating-quality.js';
