// Grading: one call, synchronously, or many through a worker pool with deadlines.
export { gradeSync } from './grade.js';
export type { GradeRequest, SyncAnswerKind } from './grade.js';
export { createGradePool, DEFAULT_DEADLINE_MS } from './worker-pool.js';
export type { GradeOptions, GradePool, GradePoolOptions, GradePoolStats } from './worker-pool.js';
export { gradeCode, buildCodeProgram, MBPP_TIMEOUT_MS } from './code-grade.js';
export type { GradeCodeOptions } from './code-grade.js';

// Math equivalence (both modes) and its layers.
export { mathEqual, GRADING_MODES } from './math-equal.js';
export type { GradingMode, MathEqualOptions } from './math-equal.js';
export { normalizeAnswerText } from './normalize.js';
export { parseAnswer, parseStructure } from './structure.js';
export type { Answer, Bound } from './structure.js';
export { compareAnswers, EXACT_RELATIVE_TOLERANCE, FLOAT_ABSOLUTE_TOLERANCE, FLOAT_RELATIVE_TOLERANCE } from './compare.js';
export type { Decision } from './compare.js';

// Extraction (correct mode).
export { extractBoxed, extractChoice, extractCode, extractLogicChoice, extractMathAnswer, LOGIC_LABEL_PHRASE } from './extract.js';
export type { ChoiceRule, ExtractChoiceOptions, ExtractedAnswer, ExtractedChoice, ExtractedCode, ExtractionRule } from './extract.js';

// MASA parity: the reference's extractors, normaliser and math_equal, bugs included.
export { masaStripString } from './parity/masa-normalize.js';
export {
  masaBuildProgram,
  masaChoiceOf,
  masaExtractAnswer,
  masaExtractCode,
  masaResponseChoice,
  MASA_LABEL_PHRASE,
} from './parity/masa-extract.js';
export { masaMathEqual, masaParseDigits, masaSymbolicEqual } from './parity/masa-math-equal.js';
export type { ParityDecision } from './parity/masa-math-equal.js';

// pass@k and reports.
export { passAtK, passAtKStat } from './pass-at-k.js';
export type { PassAtKStat } from './pass-at-k.js';
export { renderSummaryMarkdown, summarizeDataset, summarizeScores } from './summary.js';
export type { DatasetSummary, DomainSummary, ScoredProblem, ScoreSummary, SummarizeDatasetOptions } from './summary.js';
