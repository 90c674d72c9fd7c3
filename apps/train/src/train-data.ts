/**
 * Loads `data.train_files` / `data.val_files`: each entry is a bundled dataset
 * name (`synthetic-arith`, `math500` …) or a path to a JSONL / JSON / CSV /
 * parquet file (verl parquet included). Picks the reward per dataset.
 */
import { basename, extname, resolve } from 'node:path';
import { MasaError, type Problem } from '@masa-rl/core';
import { arithSolutionPrompt, assertNoIssues, convertTable, gradeArithResponse, listDatasets, loadDataset, readTable } from '@masa-rl/datasets';
import { createBoxedMatchReward, defaultPromptBuilder, type PromptBuilder, type RewardFunction, type TrainDataset } from '@masa-rl/trainer';

export interface LoadTrainDataOptions {
  /** `data.train_files`. */
  train: string | readonly string[];
  /** `data.val_files` (`null`: no validation). */
  validation: string | readonly string[] | null;
  /** Relative paths are resolved against this folder. */
  cwd: string;
  /** Folder of the bundled datasets. @default found from the datasets package */
  datasetsDir?: string;
}

export interface TrainData {
  train: TrainDataset;
  validation: TrainDataset[];
  /** Dataset name → its prompt template (`synthetic-arith`, `math`, …; `file` for user files). */
  templates: ReadonlyMap<string, string>;
}

const asList = (value: string | readonly string[] | null): readonly string[] => (value === null ? [] : typeof value === 'string' ? [value] : value);

/** Is this entry a bundled dataset name (or alias) rather than a path? */
export function isBundledDatasetName(entry: string, datasetsDir?: string): boolean {
  try {
    const infos = listDatasets(datasetsDir === undefined ? {} : { datasetsDir });
    return infos.some((info) => info.name === entry || info.aliases.includes(entry));
  } catch {
    return false;
  }
}

async function loadEntry(entry: string, options: LoadTrainDataOptions): Promise<{ name: string; template: string; problems: Problem[] }> {
  const dirOption = options.datasetsDir === undefined ? {} : { datasetsDir: options.datasetsDir };
  if (isBundledDatasetName(entry, options.datasetsDir)) {
    const loaded = await loadDataset(entry, dirOption);
    return { name: loaded.info.name, template: loaded.info.template, problems: loaded.problems };
  }
  const path = resolve(options.cwd, entry);
  const table = await readTable(path);
  const result = convertTable(table);
  assertNoIssues(path, result);
  return { name: basename(path, extname(path)), template: result.layout === 'verl' ? 'verl' : 'file', problems: result.problems };
}

/** Loads the training and validation data of a config. */
export async function loadTrainData(options: LoadTrainDataOptions): Promise<TrainData> {
  const templates = new Map<string, string>();
  const trainEntries = asList(options.train);
  if (trainEntries.length === 0) {
    throw new MasaError('CONFIG_INVALID', 'data.train_files is empty; set it to a dataset name (e.g. synthetic-arith) or a file with --set data.train_files=PATH');
  }
  const parts = [];
  for (const entry of trainEntries) parts.push(await loadEntry(entry, options));
  for (const part of parts) templates.set(part.name, part.template);
  const train: TrainDataset = {
    name: parts.map((part) => part.name).join('+'),
    problems: parts.flatMap((part) => part.problems),
  };
  if (parts.length > 1) templates.set(train.name, parts[0]?.template ?? 'file');
  const validation: TrainDataset[] = [];
  for (const entry of asList(options.validation)) {
    const part = await loadEntry(entry, options);
    templates.set(part.name, part.template);
    validation.push({ name: part.name, problems: part.problems });
  }
  return { train, validation, templates };
}

/**
 * The reward: the synthetic task's integer grader for `synthetic-arith`
 * datasets, an exact match of the last `\boxed{}` otherwise.
 */
export function createTrainReward(templates: ReadonlyMap<string, string>): RewardFunction {
  const boxed = createBoxedMatchReward();
  return (input) => {
    if (templates.get(input.dataset) === 'synthetic-arith') {
      const score = gradeArithResponse(input.completion.text, input.problem.answer) ? 1 : 0;
      return { score, acc: score };
    }
    return boxed(input);
  };
}

/**
 * The solution prompt: the synthetic task's own (`problem + "\n"`, what the
 * tiny model was trained on) for `synthetic-arith` datasets, the question as
 * one user message otherwise.
 */
export function createTrainPromptBuilder(templates: ReadonlyMap<string, string>): PromptBuilder {
  return (input) =>
    templates.get(input.dataset) === 'synthetic-arith'
      ? { messages: [{ role: 'user', content: arithSolutionPrompt({ text: input.problem.question }) }] }
      : defaultPromptBuilder(input);
}
