/**
 * The results folder of an evaluation and its crash-safe bookkeeping:
 *
 * - `config.json`: the resolved configuration (written atomically);
 * - `scores.jsonl`: one line per graded sample;
 * - `responses.jsonl`: one line per problem, appended only after all of the problem's scores, so a
 *   problem is complete exactly when its responses line is on disk;
 * - `.lock`: the writing process's pid, so two runs never append to the same folder.
 *
 * Opening a folder again truncates a torn last line, drops scores of problems whose responses line
 * never made it, and refuses a different configuration unless told to adopt it.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MasaError, type ChatMessage, type FinishReason, type SampleScore } from '@masa-rl/core';
import { findConfigDifference, type EvaluationConfig } from './evaluation-config.js';
import { parseJsonlLog, writeFileAtomic } from './jsonl-log.js';

/** File names inside a results folder. */
export const RESULTS_FILES = {
  config: 'config.json',
  responses: 'responses.jsonl',
  scores: 'scores.jsonl',
  summaryMarkdown: 'summary.md',
  summaryJson: 'summary.json',
  lock: '.lock',
} as const;

/** One line of `responses.jsonl`: everything generated for one problem. */
export interface ResponseRecord {
  dataset: string;
  id: string;
  /** The chat messages the prompt was built from. */
  prompt: ChatMessage[];
  /** Prompt length in tokens, when known (the chat-templated prompt tokenised here, or the server's count). */
  promptTokens: number | null;
  /** Sampling seed of this problem. */
  seed: number;
  /** The sample budget actually used (the requested one, capped by the context). */
  maxNewTokens: number;
  responses: string[];
  /** Generated tokens of each sample; null where the server did not say. */
  tokens: Array<number | null>;
  finishReasons: FinishReason[];
}

/** One line of `scores.jsonl`: a graded sample, with its dataset. */
export interface StoredScore extends SampleScore {
  dataset: string;
}

/** A finished problem as stored. */
export interface CompletedProblem {
  record: ResponseRecord;
  /** Scores in sample order. */
  scores: StoredScore[];
}

/** What opening the folder found and repaired. */
export interface StoreRecovery {
  /** Problems complete on disk. */
  completed: number;
  /** Torn last lines removed (0–2: one per log). */
  tornLines: number;
  /** Scores dropped because their problem's responses line was missing (the run stopped between the two writes). */
  orphanScores: number;
  /** Problems whose responses were on disk without all their scores (they are graded again, not generated again). */
  ungraded: number;
  /** The stored configuration differed and was replaced (`forceConfig`). */
  configReplaced: ConfigChange | null;
}

/** A configuration key that changed under `forceConfig`. */
export interface ConfigChange {
  key: string;
  stored: unknown;
  current: unknown;
}

export interface OpenResultsStoreOptions {
  /** The results folder (created when missing). */
  dir: string;
  /** The run's resolved configuration. */
  config: EvaluationConfig;
  /**
   * Adopt `config` even when the folder holds a different one (finished problems keep their results).
   * @default false
   */
  forceConfig?: boolean;
  /** Test seams. */
  _internal?: {
    /** Is this pid a live process? @default process.kill(pid, 0) succeeds */
    isAlive?: (pid: number) => boolean;
  };
}

export interface ResultsStore extends AsyncDisposable {
  readonly dir: string;
  readonly recovery: StoreRecovery;
  /** Is this problem complete on disk? */
  isComplete(dataset: string, id: string): boolean;
  /** The stored responses of a problem that still needs grading (see {@link StoreRecovery.ungraded}). */
  ungradedRecord(dataset: string, id: string): ResponseRecord | undefined;
  /** A finished problem, or undefined. */
  completed(dataset: string, id: string): CompletedProblem | undefined;
  /** Appends a finished problem: its scores first, then its responses line (the commit; skipped for a problem graded again). */
  appendProblem(record: ResponseRecord, scores: readonly StoredScore[]): Promise<void>;
  /** Writes a file of the folder atomically. */
  writeFile(name: string, data: string): Promise<void>;
  /** Releases the lock and closes the logs. */
  close(): Promise<void>;
}

const key = (dataset: string, id: string): string => `${dataset}\u0000${id}`;

function defaultIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquireLock(dir: string, isAlive: (pid: number) => boolean): Promise<string> {
  const path = join(dir, RESULTS_FILES.lock);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return path;
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new MasaError('FILE_WRITE_FAILED', `cannot create ${path} (${String(error)}): check that --out is writable`, { cause: error, details: { path } });
      }
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new MasaError(
        'FILE_WRITE_FAILED',
        `another masa eval (pid ${pid}) is writing to ${dir}: wait for it to finish, stop it, or pass another --out (delete ${path} if that process is not an evaluation)`,
        { details: { path, pid } },
      );
    }
    // A stale lock from a run that was killed: take it over.
    await rm(path, { force: true });
  }
  throw new MasaError('FILE_WRITE_FAILED', `cannot take the lock ${path}: delete it if no evaluation is running there`, { details: { path } });
}

function describeValue(value: unknown): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkResponseRecord(value: unknown, where: string, fix: string): ResponseRecord {
  const record = isRecord(value) ? value : undefined;
  const responses = record?.['responses'];
  if (
    record === undefined ||
    typeof record['dataset'] !== 'string' ||
    typeof record['id'] !== 'string' ||
    !Array.isArray(responses) ||
    !responses.every((item) => typeof item === 'string') ||
    !Array.isArray(record['finishReasons']) ||
    !Array.isArray(record['tokens'])
  ) {
    throw new MasaError('CHECKPOINT_INVALID', `${where}: not a responses record {dataset, id, prompt, responses, tokens, finishReasons}; ${fix}`, { details: { where } });
  }
  return value as unknown as ResponseRecord;
}

function checkScore(value: unknown, where: string, fix: string): StoredScore {
  const record = isRecord(value) ? value : undefined;
  if (
    record === undefined ||
    typeof record['dataset'] !== 'string' ||
    typeof record['problemId'] !== 'string' ||
    !Number.isInteger(record['sampleIndex']) ||
    typeof record['score'] !== 'number' ||
    !isRecord(record['verdict'])
  ) {
    throw new MasaError('CHECKPOINT_INVALID', `${where}: not a score record {dataset, problemId, sampleIndex, score, verdict}; ${fix}`, { details: { where } });
  }
  return value as unknown as StoredScore;
}

/** Options of {@link checkResultsFolder}. */
export interface CheckResultsFolderOptions {
  /** The results folder (it may not exist yet). */
  dir: string;
  config: EvaluationConfig;
  /** Return the difference instead of throwing. @default false */
  forceConfig?: boolean;
}

/**
 * Checks, without writing anything, whether `config` may resume the results folder `dir`: the folder
 * is new or empty, or its config.json equals `config` up to run settings. Lets a caller refuse a
 * mismatch before it spends minutes loading a model.
 *
 * @returns undefined when the run may resume; the difference when it may not but `forceConfig` is set.
 * @throws MasaError `CONFIG_INVALID` naming the differing key and the two fixes (`--force-config`, `--out`).
 * @throws MasaError `CHECKPOINT_INVALID` when config.json is not valid JSON.
 */
export async function checkResultsFolder(options: CheckResultsFolderOptions): Promise<ConfigChange | undefined> {
  const { config, forceConfig = false } = options;
  const dir = resolve(options.dir);
  const configPath = join(dir, RESULTS_FILES.config);
  let stored: unknown;
  if (existsSync(configPath)) {
    try {
      stored = JSON.parse(await readFile(configPath, 'utf8')) as unknown;
    } catch (error: unknown) {
      throw new MasaError('CHECKPOINT_INVALID', `${configPath} is not valid JSON: restore it, delete the folder, or pass another --out`, { cause: error, details: { file: configPath } });
    }
  } else if (existsSync(join(dir, RESULTS_FILES.responses)) || existsSync(join(dir, RESULTS_FILES.scores))) {
    if (forceConfig) return { key: 'config.json', stored: undefined, current: config };
    throw new MasaError(
      'CONFIG_INVALID',
      `${dir} holds responses or scores but no config.json, so nothing says which settings made them: pass --force-config to adopt the current settings, or --out NEW_DIR for a fresh run`,
      { details: { dir, key: 'config.json' } },
    );
  } else {
    return undefined;
  }
  const difference = findConfigDifference(stored, config);
  if (difference === undefined || forceConfig) return difference;
  throw new MasaError(
    'CONFIG_INVALID',
    `${dir} holds results of a different configuration: "${difference.key}" was ${describeValue(difference.stored)}, now ${describeValue(difference.current)}. ` +
      'Pass --force-config to continue in this folder with the new settings (finished problems keep their results), or --out NEW_DIR for a fresh run',
    { details: { dir, key: difference.key, stored: difference.stored, current: difference.current } },
  );
}

/**
 * Opens (or creates) a results folder for `config`.
 *
 * @throws MasaError `CONFIG_INVALID` when the folder's config.json differs from `config` (naming the key), unless `forceConfig`.
 * @throws MasaError `CHECKPOINT_INVALID` when a log is corrupt before its last line.
 * @throws MasaError `FILE_WRITE_FAILED` when another live process holds the folder.
 */
export async function openResultsStore(options: OpenResultsStoreOptions): Promise<ResultsStore> {
  const { config, forceConfig = false, _internal = {} } = options;
  const dir = resolve(options.dir);
  const fix = `delete that line (or the whole folder ${dir}) or pass another --out`;
  try {
    await mkdir(dir, { recursive: true });
  } catch (error: unknown) {
    throw new MasaError('FILE_WRITE_FAILED', `cannot create the results folder ${dir} (${String(error)}): pass a writable --out`, { cause: error, details: { dir } });
  }
  const lockPath = await acquireLock(dir, _internal.isAlive ?? defaultIsAlive);
  const handles: FileHandle[] = [];
  try {
    const configPath = join(dir, RESULTS_FILES.config);
    const responsesPath = join(dir, RESULTS_FILES.responses);
    const scoresPath = join(dir, RESULTS_FILES.scores);
    const configReplaced: ConfigChange | null = (await checkResultsFolder({ dir, config, forceConfig })) ?? null;
    await writeFileAtomic(configPath, `${JSON.stringify(config, null, 2)}\n`);

    let tornLines = 0;
    const readLog = async (path: string): Promise<Array<{ line: number; value: unknown }>> => {
      if (!existsSync(path)) return [];
      const log = parseJsonlLog(await readFile(path), path, fix);
      if (log.torn) {
        tornLines += 1;
        await truncate(path, log.validBytes);
      }
      return log.records;
    };

    const records = new Map<string, ResponseRecord>();
    for (const { line, value } of await readLog(responsesPath)) {
      const record = checkResponseRecord(value, `${responsesPath}:${line}`, fix);
      if (!records.has(key(record.dataset, record.id))) records.set(key(record.dataset, record.id), record);
    }
    const scoreLines = await readLog(scoresPath);
    const scoresByKey = new Map<string, Map<number, StoredScore>>();
    let orphanScores = 0;
    const keptScores: StoredScore[] = [];
    for (const { line, value } of scoreLines) {
      const score = checkScore(value, `${scoresPath}:${line}`, fix);
      const problemKey = key(score.dataset, score.problemId);
      if (!records.has(problemKey)) {
        orphanScores += 1;
        continue;
      }
      const byIndex = scoresByKey.get(problemKey) ?? new Map<number, StoredScore>();
      if (!byIndex.has(score.sampleIndex)) {
        byIndex.set(score.sampleIndex, score);
        keptScores.push(score);
      }
      scoresByKey.set(problemKey, byIndex);
    }
    if (orphanScores > 0) {
      await writeFileAtomic(scoresPath, keptScores.map((score) => `${JSON.stringify(score)}\n`).join(''));
    }

    const completed = new Map<string, CompletedProblem>();
    const ungraded = new Map<string, ResponseRecord>();
    for (const [problemKey, record] of records) {
      const byIndex = scoresByKey.get(problemKey);
      const scores = record.responses.map((_, index) => byIndex?.get(index));
      if (scores.every((score): score is StoredScore => score !== undefined)) completed.set(problemKey, { record, scores });
      else ungraded.set(problemKey, record);
    }
    if (ungraded.size > 0) {
      // Scores of partly graded problems are dropped: they are graded again as a whole.
      const partial = new Set(ungraded.keys());
      const remaining = keptScores.filter((score) => !partial.has(key(score.dataset, score.problemId)));
      if (remaining.length !== keptScores.length) await writeFileAtomic(scoresPath, remaining.map((score) => `${JSON.stringify(score)}\n`).join(''));
    }

    const scoresHandle = await open(scoresPath, 'a');
    handles.push(scoresHandle);
    const responsesHandle = await open(responsesPath, 'a');
    handles.push(responsesHandle);
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      for (const handle of handles) await handle.close().catch(() => undefined);
      await rm(lockPath, { force: true });
    };

    return {
      dir,
      recovery: { completed: completed.size, tornLines, orphanScores, ungraded: ungraded.size, configReplaced },
      isComplete: (dataset, id) => completed.has(key(dataset, id)),
      ungradedRecord: (dataset, id) => ungraded.get(key(dataset, id)),
      completed: (dataset, id) => completed.get(key(dataset, id)),
      async appendProblem(record, scores) {
        if (closed) throw new MasaError('INTERNAL', `results store ${dir} is closed`);
        const problemKey = key(record.dataset, record.id);
        if (completed.has(problemKey)) throw new MasaError('INTERNAL', `problem ${record.dataset}/${record.id} is already complete in ${dir}`);
        const ordered = [...scores].sort((a, b) => a.sampleIndex - b.sampleIndex);
        try {
          // One write per log: the scores, then the line that marks the problem complete.
          await scoresHandle.appendFile(ordered.map((score) => `${JSON.stringify(score)}\n`).join(''));
          // A problem graded again already has its responses line.
          if (!ungraded.has(problemKey)) await responsesHandle.appendFile(`${JSON.stringify(record)}\n`);
        } catch (error: unknown) {
          throw new MasaError('FILE_WRITE_FAILED', `cannot append to ${dir} (${String(error)}): check the disk has space; rerun the same command to resume`, {
            cause: error,
            details: { dir },
          });
        }
        ungraded.delete(problemKey);
        completed.set(problemKey, { record, scores: ordered });
      },
      writeFile: (name, data) => writeFileAtomic(join(dir, name), data),
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error: unknown) {
    for (const handle of handles) await handle.close().catch(() => undefined);
    await rm(lockPath, { force: true });
    throw error;
  }
}
