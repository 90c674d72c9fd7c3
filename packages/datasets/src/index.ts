export type {
  ChatMessage,
  DatasetInfo,
  DatasetSplit,
  LoadedDataset,
  MbppShot,
  PromptAssets,
  PromptTemplateName,
} from './types.js';
export { parseManifest, normalizeDatasetName } from './manifest.js';
export type { DatasetsManifest, ManifestFile } from './manifest.js';
export { findDatasetsDir, MANIFEST_FILE } from './datasets-dir.js';
export type { FindDatasetsDirOptions } from './datasets-dir.js';
export { listDatasets, getDatasetInfo, findDataset, readManifest, suggestDatasetName, editDistance } from './registry.js';
export type { RegistryOptions } from './registry.js';
export { loadDataset, loadPromptAssets } from './load-dataset.js';
export type { LoadDatasetOptions } from './load-dataset.js';
export { parseJsonl, parseJsonDocument } from './jsonl.js';
export { parseCsv } from './csv.js';
export { parseParquet, toJsonValue } from './parquet.js';
export { readTable, parseTable, formatFromPath, TABLE_FORMATS } from './read-table.js';
export type { ReadTableOptions } from './read-table.js';
export { describeLocation, formatIssues } from './table.js';
export type { ParsedTable, TableFormat, TableIssue, TableRow } from './table.js';
export { rowsToProblems, verlRowsToProblems, isVerlRow, getField, withLetterLabels } from './rows-to-problems.js';
export type { ConvertedRows, FieldMapping } from './rows-to-problems.js';
export { prepareDataset, convertTable, assertNoIssues } from './prepare.js';
export type { ConversionResult, PrepareDatasetOptions, PreparedDataset, SourceLayout } from './prepare.js';
export { syncDirectory, writeFileAtomic, writeFileSynced, writeProblemsJsonl, problemsToJsonl } from './atomic-write.js';
export type { WriteFileAtomicOptions } from './atomic-write.js';
export { DATASET_PRESETS, getPreset } from './presets.js';
export type { DatasetPreset, PresetName } from './presets.js';
export { loadGpqaCsv, gpqaOptionOrder, GPQA_COLUMNS, GPQA_PARITY_ORDER } from './gpqa.js';
export type { LoadGpqaOptions } from './gpqa.js';
export { downloadHubDataset, prepareHubDataset, selectHubDataFiles } from './hub.js';
export type { HubDataFile, HubDatasetOptions } from './hub.js';
export { buildPrompt, BOXED_INSTRUCTION, CHOICE_INSTRUCTION, MBPP_INSTRUCTION } from './prompts.js';
export type { BuildPromptOptions, PromptInfo } from './prompts.js';
export { verifyDatasets, countJsonlRows } from './verify.js';
export type { FileCheck } from './verify.js';
export {
  ARITH_MIXES,
  ARITH_MAX_VALUE,
  applyArithOp,
  formatArithExpression,
  generateArithProblem,
  isAllowedArithStep,
  parseArithProblem,
} from './synthetic/arith-problem.js';
export type { ArithMix, ArithMixName, ArithOp, ArithProblem, ArithStep, GenerateArithOptions } from './synthetic/arith-problem.js';
export {
  ARITH_STYLE_WEIGHTS,
  arithAnswerSentence,
  columnWork,
  gradeArithResponse,
  renderArithSolution,
  renderArithStep,
  sampleArithSolution,
} from './synthetic/arith-solution.js';
export type { ArithSolution, ArithStyle, ColumnWork, SampleArithSolutionOptions } from './synthetic/arith-solution.js';
export { ARITH_NOTIONS, arithMetaPrompt, arithMetaTarget, arithSolutionPrompt, roundHalfEven } from './synthetic/arith-meta.js';
export type { ArithMetaTarget } from './synthetic/arith-meta.js';
export { arithSplitOf, generateArithSplits } from './synthetic/arith-split.js';
export type { ArithSplit, GenerateArithSplitsOptions } from './synthetic/arith-split.js';
