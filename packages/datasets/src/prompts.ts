import { MasaError, type Problem } from '@masa-rl/core';
import { withLetterLabels } from './rows-to-problems.js';
import type { ChatMessage, DatasetInfo, MbppShot } from './types.js';

/** The sentence MASA appends to training problems (DeepScaleR `data_preprocess.py`). */
export const BOXED_INSTRUCTION = "Let's think step by step and output the final answer within \\boxed{}.";

/** The instruction line of the reference's multiple-choice science prompts (GPQA, R-Bench, ARC). */
export const CHOICE_INSTRUCTION =
  'Think step-by-step and choose the best answer from the following options. Answer only with the letter of the option inside \\boxed{}.';

/** The opening of the reference's MBPP few-shot prompt (two lines). */
export const MBPP_INSTRUCTION =
  'Please refer the given examples and generate a python function for my problem.\nExamples are listed as follows:';

export interface BuildPromptOptions {
  /**
   * Reproduce the MASA reference's evaluation prompts exactly: math problems bare (no boxed
   * instruction), logic options joined by the two characters `\` `n`, ARC option labels as given.
   * The default is the corrected form (MASA-SPEC §14 #15, #18, #19).
   * @default false
   */
  parity?: boolean;
}

/** The parts of a dataset's info that `buildPrompt` reads. */
export type PromptInfo = Pick<DatasetInfo, 'name' | 'template'> & Partial<Pick<DatasetInfo, 'promptAssets'>>;

function invalid(info: PromptInfo, problem: Problem, what: string): MasaError {
  return new MasaError('DATASET_INVALID', `${info.name} problem "${problem.id}": ${what}`, {
    details: { dataset: info.name, problemId: problem.id },
  });
}

/** Python's `str.replace` for every occurrence, without `$` patterns. */
function replaceAll(text: string, placeholder: string, value: string): string {
  return text.split(placeholder).join(value);
}

function user(content: string): ChatMessage[] {
  return [{ role: 'user', content }];
}

function choicePrompt(problem: Problem, info: PromptInfo, parity: boolean): string {
  const shown = parity ? problem : withLetterLabels(problem);
  const choices = shown.choices;
  if (choices === undefined || choices.length === 0) throw invalid(info, problem, 'has no choices; a multiple-choice prompt needs "choices" [{label, text}]');
  const options = choices.map((choice) => `${choice.label}: ${choice.text}`).join('\n');
  return `${CHOICE_INSTRUCTION}\n${shown.question}\n${options}`;
}

function logicPrompt(problem: Problem, info: PromptInfo, parity: boolean): string {
  const template = info.promptAssets?.iclTemplate;
  if (template === undefined) {
    throw invalid(info, problem, 'the logic template text is not loaded: get the info from loadDataset() (it reads icl_examples/<Dataset>_CoT.txt) or set info.promptAssets.iclTemplate');
  }
  const context = problem.meta?.['context'];
  if (typeof context !== 'string') throw invalid(info, problem, 'needs meta.context (the premises) as a string');
  const rawOptions = problem.meta?.['options'];
  let options: string[];
  if (Array.isArray(rawOptions) && rawOptions.every((option) => typeof option === 'string')) options = rawOptions as string[];
  else if (problem.choices !== undefined && problem.choices.length > 0) options = problem.choices.map((choice) => `${choice.label}) ${choice.text}`);
  else throw invalid(info, problem, 'needs meta.options ("A) …" strings) or choices');
  // The reference joins with '\\n' in Python source: a backslash and an "n", not a newline.
  const separator = parity ? '\\n' : '\n';
  let prompt = replaceAll(template, '[[CONTEXT]]', context.trim());
  prompt = replaceAll(prompt, '[[QUESTION]]', problem.question.trim());
  return replaceAll(prompt, '[[OPTIONS]]', options.map((option) => option.trim()).join(separator));
}

function mbppBlock(text: string, tests: readonly string[], code?: string): string {
  let block = `>>> Problem:\n${text.trim()}\n>>> Test Cases:\n${tests.join('\n')}\n`;
  if (code !== undefined && code !== '') {
    block += `\n>>> Code:\n\`\`\`python\n${code.replace(/\r/g, '').replace(/\t/g, '    ')}\n\`\`\``;
  }
  return block;
}

function mbppPrompt(problem: Problem, info: PromptInfo): string {
  const shots: readonly MbppShot[] | undefined = info.promptAssets?.fewShotExamples;
  if (shots === undefined || shots.length === 0) {
    throw invalid(info, problem, 'the MBPP few-shot examples are not loaded: get the info from loadDataset() (it reads mbpp_3shot_examples.jsonl) or set info.promptAssets.fewShotExamples');
  }
  const tests = problem.meta?.['tests'];
  if (!Array.isArray(tests) || !tests.every((test) => typeof test === 'string')) throw invalid(info, problem, 'needs meta.tests (a list of assert strings)');
  const examples = shots.map((shot, index) => `- Example ${index + 1}:\n${mbppBlock(shot.text, shot.test_list, shot.code)}`);
  return `${MBPP_INSTRUCTION}\n${examples.join('\n\n')}\n\nHere is my problem:\n${mbppBlock(problem.question, tests as string[])}`;
}

function verlPrompt(problem: Problem, info: PromptInfo): ChatMessage[] {
  const messages = problem.meta?.['prompt'];
  const roles = new Set(['system', 'user', 'assistant']);
  if (
    !Array.isArray(messages) ||
    messages.length === 0 ||
    !messages.every((message) => typeof message === 'object' && message !== null && roles.has((message as ChatMessage).role) && typeof (message as ChatMessage).content === 'string')
  ) {
    throw invalid(info, problem, 'needs meta.prompt as verl chat messages [{role, content}]');
  }
  return (messages as ChatMessage[]).map((message) => ({ role: message.role, content: message.content }));
}

/**
 * Builds the chat messages for one problem with its dataset's template
 * (MASA-SPEC §12.3; §3.1 for the training prompt). Pure: template files come
 * from `info.promptAssets`, which `loadDataset` fills in.
 *
 * | template | default | parity |
 * |---|---|---|
 * | math | problem + " " + {@link BOXED_INSTRUCTION} | the bare problem |
 * | science-choice | instruction, question, `X: text` lines; labels 1–4 shown as A–D | labels as given |
 * | scibench | the bare problem | same |
 * | logic | two-shot template, options one per line | options joined by a literal `\n` |
 * | mbpp | three-shot prompt | same |
 * | deepscaler | problem + " " + {@link BOXED_INSTRUCTION} | same |
 * | verl | the row's own `meta.prompt` messages | same |
 * | synthetic-arith | problem + newline | same |
 */
export function buildPrompt(problem: Problem, info: PromptInfo, options: BuildPromptOptions = {}): ChatMessage[] {
  const { parity = false } = options;
  switch (info.template) {
    case 'math':
      return user(parity ? problem.question : `${problem.question} ${BOXED_INSTRUCTION}`);
    case 'deepscaler':
      return user(`${problem.question} ${BOXED_INSTRUCTION}`);
    case 'science-choice':
      return user(choicePrompt(problem, info, parity));
    case 'scibench':
      return user(problem.question);
    case 'logic':
      return user(logicPrompt(problem, info, parity));
    case 'mbpp':
      return user(mbppPrompt(problem, info));
    case 'verl':
      return verlPrompt(problem, info);
    case 'synthetic-arith':
      return user(`${problem.question}\n`);
  }
}
