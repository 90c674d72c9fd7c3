import type { AnswerKind, Domain, Problem } from '@masa-rl/core';

/**
 * The prompt template a dataset uses (see `buildPrompt`):
 * - `math`: the bare problem (parity) or problem + the training boxed instruction (default);
 * - `science-choice`: instruction, question, one `X: text` option per line (GPQA, R-Bench, ARC);
 * - `scibench`: the bare problem text;
 * - `logic`: the dataset's two-shot chain-of-thought template (`[[CONTEXT]]`, `[[QUESTION]]`, `[[OPTIONS]]`);
 * - `mbpp`: the three-shot MBPP coding prompt;
 * - `deepscaler`: the MASA training prompt (problem + boxed instruction);
 * - `verl`: the chat messages stored in the row (`meta.prompt`), unchanged;
 * - `synthetic-arith`: the synthetic arithmetic task's solution prompt (problem + newline).
 */
export type PromptTemplateName =
  | 'math'
  | 'science-choice'
  | 'scibench'
  | 'logic'
  | 'mbpp'
  | 'deepscaler'
  | 'verl'
  | 'synthetic-arith';

/** One chat message of a prompt. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One worked example of the MBPP few-shot prompt (the raw MBPP keys). */
export interface MbppShot {
  text: string;
  code: string;
  test_list: string[];
  task_id?: number;
}

/** Files a template needs, loaded by `loadDataset` so that `buildPrompt` stays pure. */
export interface PromptAssets {
  /** Text of the two-shot logic template (`icl_examples/<Dataset>_CoT.txt`). */
  iclTemplate?: string;
  /** The MBPP few-shot examples, in order. */
  fewShotExamples?: MbppShot[];
}

/** Which split of its source a dataset is. */
export type DatasetSplit = 'train' | 'validation' | 'test';

/** What the registry knows about one dataset (from `datasets/manifest.json`). */
export interface DatasetInfo {
  /** Canonical name, e.g. `math500`. */
  name: string;
  /** Human-readable title, e.g. `MATH-500`. */
  title: string;
  /** Other accepted names (matching ignores case, `-` and `_`). */
  aliases: string[];
  domain: Domain;
  answerKind: AnswerKind;
  template: PromptTemplateName;
  split: DatasetSplit;
  /** Path of the problems file relative to the datasets folder; `null` when not bundled. */
  file: string | null;
  /** Number of problems in the bundled file; `null` when not bundled. */
  rows: number | null;
  /** sha256 of the bundled file (hex); `null` when not bundled. */
  sha256: string | null;
  license: string;
  /** Where the data came from (repository @ commit : path, or a Hub id). */
  source: string;
  /** Caveats that matter to users. */
  notes: string;
  /** The dataset's name in the MASA reference's `eval.sh`, when it has one. */
  referenceName?: string;
  /** For datasets that are not bundled: how to get and prepare them. */
  obtain?: string;
  /** Asset files the prompt template reads (paths relative to the datasets folder). */
  promptAssetFiles?: { iclTemplate?: string; fewShotExamples?: string };
  /** Loaded asset contents; present on the `info` returned by `loadDataset`. */
  promptAssets?: PromptAssets;
}

/** What `loadDataset` returns. */
export interface LoadedDataset {
  info: DatasetInfo;
  problems: Problem[];
}
