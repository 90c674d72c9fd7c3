import type { Choice, Problem } from '@masa-rl/core';
import type { TableIssue, TableRow } from './table.js';

/** Which fields of a user's rows hold the parts of a problem. Dotted paths reach into objects/arrays (`reward_model.ground_truth.target`, `final_answer.0`). */
export interface FieldMapping {
  /**
   * Field with the question text.
   * @default 'question'
   */
  questionField?: string;
  /**
   * Field with the gold answer (a string or number; a verl-style `{target}` / `{answer}` object is unwrapped).
   * @default 'answer'
   */
  answerField?: string;
  /**
   * Field with a unique id.
   * @default 'id' when the rows have it, else the 0-based row index (as the MASA reference numbers rows)
   */
  idField?: string;
  /**
   * Field with the options of a multiple-choice problem: an array of strings (`"A) text"` or plain
   * texts, labelled A, B, …), an array of `{label, text}`, an object `{label: [...], text: [...]}`
   * (Hugging Face ARC layout), or a comma-separated list of columns (`A,B,C,D`), each one option.
   * @default 'choices' when the rows have it, else none
   */
  choicesField?: string;
  /**
   * Map numeric option labels `1`…`n` to `A`… (and a numeric gold answer with them), as the corrected
   * evaluation does for ARC items labelled 1–4 (MASA-SPEC §14 #18).
   * @default true
   */
  letterLabels?: boolean;
  /**
   * Accept an empty gold answer. The bundled MATH files carry a few (the reference's target
   * normalisation emptied them), so `loadDataset` keeps them as given; `prepare` rejects them.
   * @default false
   */
  allowEmptyAnswer?: boolean;
}

/** Result of converting rows: the problems that converted and an issue for every row that did not. */
export interface ConvertedRows {
  problems: Problem[];
  issues: TableIssue[];
}

type Lookup = { found: true; value: unknown } | { found: false };

/** Reads `path` from a row: an exact key first, else a dotted path through objects and arrays. */
export function getField(row: Record<string, unknown>, path: string): Lookup {
  if (Object.hasOwn(row, path)) {
    const value = row[path];
    return value === undefined || value === null ? { found: false } : { found: true, value };
  }
  let current: unknown = row;
  for (const part of path.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(part)) current = current[Number(part)];
    else if (typeof current === 'object' && current !== null && Object.hasOwn(current, part)) current = (current as Record<string, unknown>)[part];
    else return { found: false };
  }
  return current === undefined || current === null ? { found: false } : { found: true, value: current };
}

/** Turns an answer value into a string, unwrapping verl's `{target}` / `{answer}` objects. */
function answerText(value: unknown, field: string): { text: string } | { error: string } {
  if (typeof value === 'string') return { text: value };
  if (typeof value === 'number' && Number.isFinite(value)) return { text: String(value) };
  if (typeof value === 'bigint') return { text: value.toString() };
  if (Array.isArray(value)) {
    return { error: `is a list (${value.length} items): choose one element, e.g. --answer-field ${field}.0` };
  }
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    for (const key of ['target', 'answer']) {
      const inner = object[key];
      if (typeof inner === 'string') return { text: inner };
      if (typeof inner === 'number' && Number.isFinite(inner)) return { text: String(inner) };
    }
    return { error: 'is an object without a string "target" or "answer": point --answer-field at the string inside it' };
  }
  return { error: `has type ${typeof value}; expected a string or a number` };
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const OPTION_PREFIX = /^\s*([A-Za-z0-9])\s*[).:]\s*([\s\S]*)$/;

/** Parses a choices value (see {@link FieldMapping.choicesField}) into options. */
function parseChoices(row: Record<string, unknown>, field: string): { choices: Choice[] } | { error: string } {
  if (field.includes(',')) {
    const columns = field.split(',').map((name) => name.trim()).filter((name) => name !== '');
    const singleLetters = columns.every((name) => /^[A-Za-z]$/.test(name));
    const choices: Choice[] = [];
    columns.forEach((column, position) => {
      const lookup = getField(row, column);
      if (!lookup.found) return;
      const text = typeof lookup.value === 'string' ? lookup.value : String(lookup.value);
      if (text.trim() === '') return;
      choices.push({ label: singleLetters ? column.toUpperCase() : (LETTERS[position] as string), text });
    });
    if (choices.length === 0) return { error: `none of the columns ${columns.join(', ')} has a value` };
    return { choices };
  }
  const lookup = getField(row, field);
  if (!lookup.found) return { error: 'is missing' };
  const value = lookup.value;
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item === 'string')) {
      const strings = value as string[];
      const prefixed = strings.map((item) => OPTION_PREFIX.exec(item));
      if (strings.length > 0 && prefixed.every((match) => match !== null)) {
        return { choices: prefixed.map((match) => ({ label: (match as RegExpExecArray)[1] as string, text: ((match as RegExpExecArray)[2] as string).trim() })) };
      }
      if (strings.length > LETTERS.length) return { error: `has ${strings.length} options; at most ${LETTERS.length} are supported` };
      return { choices: strings.map((text, index) => ({ label: LETTERS[index] as string, text })) };
    }
    const choices: Choice[] = [];
    for (const item of value) {
      if (typeof item !== 'object' || item === null) return { error: 'mixes options of different shapes; expected strings or {label, text} objects' };
      const { label, text } = item as Record<string, unknown>;
      if ((typeof label !== 'string' && typeof label !== 'number') || typeof text !== 'string') {
        return { error: 'has an option without a string "label" and "text"' };
      }
      choices.push({ label: String(label), text });
    }
    return { choices };
  }
  if (typeof value === 'object' && value !== null) {
    const { label, text } = value as Record<string, unknown>;
    if (Array.isArray(label) && Array.isArray(text) && label.length === text.length) {
      return { choices: label.map((item, index) => ({ label: String(item), text: String(text[index]) })) };
    }
  }
  return { error: 'has an unsupported shape; expected a list of strings, a list of {label, text}, {label: [...], text: [...]} or a comma-separated list of columns' };
}

/**
 * Maps numeric labels `1`…`n` to `A`…, and a gold answer equal to one of them
 * with it. Problems with letter labels come back unchanged.
 */
export function withLetterLabels(problem: Problem): Problem {
  const choices = problem.choices;
  if (choices === undefined || choices.length === 0 || !choices.every((choice) => /^\d+$/.test(choice.label))) return problem;
  const mapped = new Map(choices.map((choice, index) => [choice.label, LETTERS[index] as string]));
  return {
    ...problem,
    answer: mapped.get(problem.answer.trim()) ?? problem.answer,
    choices: choices.map((choice) => ({ label: mapped.get(choice.label) as string, text: choice.text })),
  };
}

/** True for a verl-format row: `prompt` is a list of chat messages and `reward_model` an object. */
export function isVerlRow(row: Record<string, unknown>): boolean {
  const prompt = row['prompt'];
  const reward = row['reward_model'];
  return (
    Array.isArray(prompt) &&
    prompt.length > 0 &&
    prompt.every((message) => typeof message === 'object' && message !== null && typeof (message as Record<string, unknown>)['content'] === 'string') &&
    typeof reward === 'object' &&
    reward !== null
  );
}

/**
 * Converts verl-format rows (as written by verl's data preprocessing: `prompt` = chat messages,
 * `reward_model.ground_truth` = a string or `{target | answer, …}`, `data_source`, `extra_info`)
 * into problems. The question is the last user message; the messages themselves are kept in
 * `meta.prompt` so the `verl` template can replay them unchanged.
 */
export function verlRowsToProblems(rows: readonly TableRow[]): ConvertedRows {
  const problems: Problem[] = [];
  const issues: TableIssue[] = [];
  const seen = new Map<string, number>();
  rows.forEach(({ line, value: row }, index) => {
    if (!isVerlRow(row)) {
      issues.push({ line, field: 'prompt', message: 'not a verl row: expected "prompt" (list of {role, content}) and "reward_model" (object)' });
      return;
    }
    const messages = (row['prompt'] as Record<string, unknown>[]).map((message) => ({
      role: String(message['role'] ?? 'user'),
      content: message['content'] as string,
    }));
    const user = [...messages].reverse().find((message) => message.role === 'user') ?? messages[messages.length - 1];
    const reward = row['reward_model'] as Record<string, unknown>;
    const truth = reward['ground_truth'];
    if (truth === undefined || truth === null) {
      issues.push({ line, field: 'reward_model.ground_truth', message: 'is missing' });
      return;
    }
    const answer = answerText(truth, 'reward_model.ground_truth');
    if ('error' in answer) {
      issues.push({ line, field: 'reward_model.ground_truth', message: answer.error });
      return;
    }
    const extra = row['extra_info'];
    const extraIndex = typeof extra === 'object' && extra !== null ? (extra as Record<string, unknown>)['index'] : undefined;
    const id = typeof extraIndex === 'string' || typeof extraIndex === 'number' ? String(extraIndex) : String(index);
    const previous = seen.get(id);
    if (previous !== undefined) {
      issues.push({ line, field: 'extra_info.index', message: `id "${id}" repeats the one at ${previous}` });
      return;
    }
    seen.set(id, line);
    const meta: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(row)) {
      if (key === 'reward_model') continue;
      meta[key] = key === 'prompt' ? messages : item;
    }
    if (typeof truth === 'object') meta['ground_truth'] = truth;
    problems.push({ id, question: (user as { content: string }).content, answer: answer.text, meta });
  });
  return { problems, issues };
}

/**
 * Converts rows to problems with a field mapping; every row that cannot be converted yields an
 * issue naming its line and the field. Fields not used by the mapping go to `meta` (a row's own
 * `meta` object is merged in), so the uniform JSONL format round-trips unchanged.
 */
export function rowsToProblems(rows: readonly TableRow[], mapping: FieldMapping = {}): ConvertedRows {
  const questionField = mapping.questionField ?? 'question';
  const answerField = mapping.answerField ?? 'answer';
  const letterLabels = mapping.letterLabels ?? true;
  const problems: Problem[] = [];
  const issues: TableIssue[] = [];
  const seen = new Map<string, number>();
  const hasDefaultId = mapping.idField === undefined && rows.some((row) => Object.hasOwn(row.value, 'id'));
  const idField = mapping.idField ?? (hasDefaultId ? 'id' : undefined);
  const choicesField = mapping.choicesField ?? (rows.some((row) => Object.hasOwn(row.value, 'choices')) ? 'choices' : undefined);
  const used = new Set([questionField, answerField, idField, 'meta', ...(choicesField?.split(',').map((name) => name.trim()) ?? [])]);

  rows.forEach(({ line, value: row }, index) => {
    const rowIssues: TableIssue[] = [];
    const question = getField(row, questionField);
    if (!question.found) rowIssues.push({ line, field: questionField, message: 'is missing (set --question-field to the column that holds the question)' });
    else if (typeof question.value !== 'string') rowIssues.push({ line, field: questionField, message: `has type ${typeof question.value}; expected a string` });
    else if (question.value.trim() === '') rowIssues.push({ line, field: questionField, message: 'is empty' });

    const answerLookup = getField(row, answerField);
    let answer: string | undefined;
    if (!answerLookup.found) rowIssues.push({ line, field: answerField, message: 'is missing (set --answer-field to the column that holds the gold answer)' });
    else {
      const converted = answerText(answerLookup.value, answerField);
      if ('error' in converted) rowIssues.push({ line, field: answerField, message: converted.error });
      else if (converted.text.trim() === '' && mapping.allowEmptyAnswer !== true) rowIssues.push({ line, field: answerField, message: 'is empty' });
      else answer = converted.text;
    }

    let id = String(index);
    if (idField !== undefined) {
      const lookup = getField(row, idField);
      if (!lookup.found) rowIssues.push({ line, field: idField, message: 'is missing (every row needs an id; omit --id-field to number rows instead)' });
      else if (typeof lookup.value !== 'string' && typeof lookup.value !== 'number') rowIssues.push({ line, field: idField, message: `has type ${typeof lookup.value}; expected a string or number` });
      else id = String(lookup.value);
    }

    let choices: Choice[] | undefined;
    if (choicesField !== undefined) {
      const parsed = parseChoices(row, choicesField);
      if ('error' in parsed) {
        if (mapping.choicesField !== undefined || getField(row, choicesField).found) rowIssues.push({ line, field: choicesField, message: parsed.error });
      } else choices = parsed.choices;
    }

    if (rowIssues.length === 0) {
      const previous = seen.get(id);
      if (previous !== undefined) {
        rowIssues.push({ line, field: idField ?? 'id', message: `id "${id}" repeats the one at line/row ${previous} (ids must be unique)` });
      }
    }
    if (rowIssues.length > 0) {
      issues.push(...rowIssues);
      return;
    }
    seen.set(id, line);

    const ownMeta = row['meta'];
    const meta: Record<string, unknown> = typeof ownMeta === 'object' && ownMeta !== null && !Array.isArray(ownMeta) ? { ...(ownMeta as Record<string, unknown>) } : {};
    for (const [key, item] of Object.entries(row)) if (!used.has(key)) meta[key] = item;

    let problem: Problem = { id, question: question.found ? (question.value as string) : '', answer: answer as string };
    if (choices !== undefined) problem.choices = choices;
    if (Object.keys(meta).length > 0) problem.meta = meta;
    if (letterLabels) problem = withLetterLabels(problem);
    problems.push(problem);
  });
  return { problems, issues };
}
