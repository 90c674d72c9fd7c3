import { MasaError } from '@masa-rl/core';
import type { FieldMapping } from './rows-to-problems.js';

/** Names of the built-in conversion presets. */
export type PresetName = 'deepscaler' | 'rbench';

/** A ready-made conversion for a known Hub dataset. */
export interface DatasetPreset {
  name: PresetName;
  /** The registry entry the prepared file belongs to (template, domain, answer kind). */
  dataset: string;
  /** Hugging Face dataset id. */
  hfDataset: string;
  /** Hub config (subset), when the dataset has several. */
  config?: string;
  split: string;
  mapping: FieldMapping;
  description: string;
}

/** The built-in presets: DeepScaleR (MASA's training set) and R-Bench-T English. */
export const DATASET_PRESETS: Readonly<Record<PresetName, DatasetPreset>> = {
  deepscaler: {
    name: 'deepscaler',
    dataset: 'deepscaler',
    hfDataset: 'agentica-org/DeepScaleR-Preview-Dataset',
    split: 'train',
    mapping: { questionField: 'problem', answerField: 'answer' },
    description: 'DeepScaleR-Preview training set: problem/answer; the training prompt appends the boxed instruction (template deepscaler)',
  },
  rbench: {
    name: 'rbench',
    dataset: 'rbench',
    hfDataset: 'R-Bench/R-Bench',
    config: 'rbench-t_en',
    split: 'test',
    mapping: { questionField: 'question', answerField: 'answer', idField: 'index', choicesField: 'A,B,C,D,E,F' },
    description: 'R-Bench-T English: question, options in columns A..F (empty ones skipped), answer letter',
  },
};

/** Looks a preset up; unknown names throw `ARGUMENT_INVALID` listing the valid ones. */
export function getPreset(name: string): DatasetPreset {
  const preset = (DATASET_PRESETS as Record<string, DatasetPreset | undefined>)[name.toLowerCase()];
  if (preset === undefined) {
    throw new MasaError('ARGUMENT_INVALID', `unknown preset "${name}": use --preset ${Object.keys(DATASET_PRESETS).join(' or ')}`, {
      details: { preset: name },
    });
  }
  return preset;
}
