export { ADVANTAGE_ESTIMATORS, KL_PENALTY_BASES, LOSS_AGG_MODES } from './types.js';
export type {
  AdvantageEstimator,
  ErrorContext,
  KlPenalty,
  KlPenaltyBase,
  LossAggMode,
  NumberArrayLike,
} from './types.js';

export { computeGroupStats } from './group-stats.js';
export type { GroupStat, GroupStatsOptions, GroupStatsResult } from './group-stats.js';

export { computeAdvantages } from './advantages.js';
export type { AdvantageOptions, AdvantageResult } from './advantages.js';

export { broadcastToTokens, gatherRows, responseLengths } from './token-matrix.js';
export type { BroadcastOptions, GatherRowsOptions } from './token-matrix.js';

export {
  SEQ_MEAN_TOKEN_COUNT_EPSILON,
  aggregateLoss,
  checkLossAggMode,
  computeAggregationWeights,
  computeMicroBatchWeights,
} from './aggregation.js';
export type { AggregateLossOptions, AggregationOptions, MicroBatchWeightOptions } from './aggregation.js';

export {
  K3_LOG_RATIO_CLAMP,
  K3_VALUE_CLAMP,
  computeKlPenalty,
  klPenaltyGradient,
  klPenaltyValue,
  parseKlPenalty,
} from './kl-penalty.js';
export type { KlPenaltyOptions, KlPenaltyResult, ParsedKlPenalty } from './kl-penalty.js';

export { LOG_RATIO_CLAMP, computePolicyLoss, createPolicyTokenResult, policyLossToken } from './policy-loss.js';
export type {
  ClipSettings,
  PolicyLossMetrics,
  PolicyLossOptions,
  PolicyLossResult,
  PolicyTokenResult,
} from './policy-loss.js';

export { DEFAULT_POLICY_LOSS_CONFIG, VERL_POLICY_LOSS_KEYS, resolvePolicyLossConfig } from './loss-config.js';
export type { PolicyLossConfig, ResolvedPolicyLossConfig } from './loss-config.js';

export { computeGrpoLoss } from './grpo-loss.js';
export type { ActorMetrics, GrpoLossOptions, GrpoLossResult } from './grpo-loss.js';

export { computeBatchMetrics, toVerlMetrics } from './batch-metrics.js';
export type { BatchMetrics, BatchMetricsOptions } from './batch-metrics.js';
