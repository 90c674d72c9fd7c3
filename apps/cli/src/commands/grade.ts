import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { MasaError, type GradeVerdict } from '@masa-rl/core';
import { createGradePool, gradeCode, GRADING_MODES, type GradePool, type GradingMode } from '@masa-rl/scoring';
import { Command, Option } from 'commander';

/** Where the command writes and what it reads from its surroundings (test seams). */
export interface GradeCommandOptions {
  /**
   * Verdicts.
   * @default process.stdout
   */
  stdout?: { write(text: string): unknown };
  /**
   * Summaries.
   * @default process.stderr
   */
  stderr?: { write(text: string): unknown };
  /**
   * Directory relative paths are resolved against.
   * @default process.cwd()
   */
  cwd?: string;
}

type Kind = 'math' | 'choice' | 'code';
const KINDS: readonly Kind[] = ['math', 'choice', 'code'];

interface Pair {
  gold: string;
  pred: string;
  kind: Kind;
  mode: GradingMode;
  /** 1-based line of the pairs file, when read from one. */
  line?: number;
}

interface GradeFlags {
  gold?: string;
  pred?: string;
  pairs?: string;
  kind: Kind;
  mode: GradingMode;
  json?: boolean;
  deadlineMs: number;
  workers?: number;
}

/** What each rule name means, for the human-readable output. */
const RULES: ReadonlyArray<[RegExp, string]> = [
  [/^exact-string/, 'the two strings are identical'],
  [/^normalized-string/, 'identical after normalisation (spacing, delimiters, \\left/\\right, units, degrees)'],
  [/number-exact/, 'the same exact number'],
  [/number-6dp/, 'the same to 6 decimal places (or relative 1e-6) with a decimal literal involved'],
  [/number-1e-9/, 'the same value to relative 1e-9'],
  [/number-mismatch/, 'different numbers'],
  [/^structural|-structural/, 'the same expression tree'],
  [/sampled-mismatch/, 'different values at a sample point'],
  [/sampled/, 'equal at 6 independent random points'],
  [/different-variables/, 'different free variables'],
  [/^percent-fraction/, 'the gold percentage as a decimal fraction'],
  [/^percent/, 'percent sign treated as formatting'],
  [/^list-multiset/, 'lists compared as unordered multisets'],
  [/^tuple|interval/, 'ordered tuples / intervals compared position by position with their brackets'],
  [/^inequality/, 'an inequality gold against the equivalent interval'],
  [/interval-gold-rejects-inequality/, 'an interval gold rejects an inequality prediction'],
  [/^assignment/, 'an assignment (x = …) compared by its right-hand side'],
  [/^same-lhs/, 'two assignments to the same name compared by their right-hand sides'],
  [/^equation-proportional/, 'equations whose lhs − rhs are proportional'],
  [/^equation-not-proportional/, 'equations whose lhs − rhs are not proportional'],
  [/^base-digits/, 'based numbers compared digit by digit (never by decimal value)'],
  [/^choice/, 'choice labels'],
  [/^word/, 'words compared case-insensitively'],
  [/^matrix|vector/, 'matrices compared entry by entry'],
  [/^undecided/, 'undecided, which counts as not equal'],
  [/^parity-1/, 'reference step 1: identical strings'],
  [/^parity-2/, 'reference step 2: numbers within rel 1e-4 of ref, ref/100 or ref×100'],
  [/^parity-5/, 'reference step 5: equal with all brackets removed'],
  [/^parity-6/, 'reference step 6: bracketed parts equal one by one'],
  [/^parity-7/, 'reference step 7: matrices cell by cell'],
  [/^parity-8/, 'reference step 8: equations / assignments'],
  [/^parity-9/, 'reference step 9: symbolic check'],
  [/^parity-choice/, 'reference get_choice letters'],
  [/^tests-passed/, 'the program with the asserts ran cleanly'],
  [/^tests-failed|^program-/, 'the program with the asserts failed'],
  [/^timeout/, 'the grade ran past its deadline and scores 0'],
  [/^error|worker-crashed|sandbox-failed/, 'the grader failed and the item scores 0'],
];

function explain(reason: string): string {
  const base = reason.includes(':') && !reason.startsWith('tests-failed') ? reason.slice(reason.indexOf(':') + 1) : reason;
  for (const [pattern, text] of RULES) if (pattern.test(reason) || pattern.test(base)) return text;
  return '';
}

function parseKind(value: string): Kind {
  if (!(KINDS as readonly string[]).includes(value)) {
    throw new MasaError('ARGUMENT_INVALID', `--kind must be one of ${KINDS.join(', ')}, got "${value}"`);
  }
  return value as Kind;
}

function parseMode(value: string): GradingMode {
  if (!(GRADING_MODES as readonly string[]).includes(value)) {
    throw new MasaError('ARGUMENT_INVALID', `--mode must be one of ${GRADING_MODES.join(', ')}, got "${value}"`);
  }
  return value as GradingMode;
}

function positiveInteger(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < 1) throw new MasaError('ARGUMENT_INVALID', `${flag} must be a positive integer, got "${value}"`);
    return parsed;
  };
}

/** Reads `{"gold", "pred", "kind"?, "mode"?}` lines; a bad line is an error naming the file and line. */
export function parsePairs(text: string, file: string, defaults: { kind: Kind; mode: GradingMode }): Pair[] {
  const pairs: Pair[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim().length === 0) return;
    const where = `${file}:${line}`;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error: unknown) {
      throw new MasaError('ARGUMENT_INVALID', `${where}: not valid JSON (${(error as Error).message}); each line must be {"gold": "...", "pred": "..."}`, {
        cause: error,
        details: { file, line },
      });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new MasaError('ARGUMENT_INVALID', `${where}: expected an object like {"gold": "...", "pred": "..."}`, { details: { file, line } });
    }
    const record = value as Record<string, unknown>;
    const { gold, pred, kind, mode } = record;
    if (typeof gold !== 'string' || typeof pred !== 'string') {
      throw new MasaError('ARGUMENT_INVALID', `${where}: "gold" and "pred" must both be strings`, { details: { file, line } });
    }
    const pair: Pair = {
      gold,
      pred,
      kind: kind === undefined ? defaults.kind : parseKind(String(kind)),
      mode: mode === undefined ? defaults.mode : parseMode(String(mode)),
      line,
    };
    pairs.push(pair);
  });
  return pairs;
}

async function gradePair(pool: GradePool, pair: Pair, deadlineMs: number): Promise<GradeVerdict> {
  if (pair.kind === 'code') {
    // For code, the gold holds the asserts (one per line) and the prediction is the response.
    const tests = pair.gold.split('\n').filter((line) => line.trim().length > 0);
    return gradeCode({ response: pair.pred, tests, mode: pair.mode });
  }
  return pool.grade({ kind: pair.kind, gold: pair.gold, pred: pair.pred, mode: pair.mode }, { deadlineMs });
}

/**
 * `masa grade`: compares gold answers with predictions and says which rule
 * decided. One pair from flags, or many from a JSONL file.
 */
export function createGradeCommand(options: GradeCommandOptions = {}): Command {
  const out = (text: string): void => void (options.stdout ?? process.stdout).write(text);
  const err = (text: string): void => void (options.stderr ?? process.stderr).write(text);
  const cwd = options.cwd ?? process.cwd();
  return new Command('grade')
    .description('Grade predicted answers against gold answers and show which rule decided')
    .option('--gold <answer>', 'the gold answer (for --kind code: the asserts, one per line)')
    .option('--pred <answer>', 'the predicted answer (for --kind code: the response or code)')
    .option('--pairs <file>', 'a JSONL file of {"gold", "pred", "kind"?, "mode"?} lines')
    .addOption(new Option('--kind <kind>', 'answer kind').choices([...KINDS]).default('math'))
    .addOption(new Option('--mode <mode>', 'correct (our policy) or masa-parity (the reference grader, bugs included)').choices([...GRADING_MODES]).default('correct'))
    .option('--json', 'one JSON object per line: {"equal", "reason", "ms", "status"}')
    .option('--deadline-ms <ms>', 'deadline of one grade', positiveInteger('--deadline-ms'), 2000)
    .option('--workers <n>', 'grading worker threads (default: min(4, cores))', positiveInteger('--workers'))
    .action(async (flags: GradeFlags) => {
      let pairs: Pair[];
      if (flags.pairs !== undefined) {
        if (flags.gold !== undefined || flags.pred !== undefined) {
          throw new MasaError('ARGUMENT_INVALID', 'give either --pairs FILE or --gold and --pred, not both');
        }
        const path = isAbsolute(flags.pairs) ? flags.pairs : resolve(cwd, flags.pairs);
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch (error: unknown) {
          throw new MasaError('FILE_NOT_FOUND', `cannot read --pairs ${flags.pairs}: check the path`, { cause: error, details: { path } });
        }
        pairs = parsePairs(text, flags.pairs, { kind: flags.kind, mode: flags.mode });
      } else {
        if (flags.gold === undefined || flags.pred === undefined) {
          throw new MasaError('ARGUMENT_INVALID', 'pass --gold and --pred (or --pairs FILE.jsonl)');
        }
        pairs = [{ gold: flags.gold, pred: flags.pred, kind: flags.kind, mode: flags.mode }];
      }
      const needsPool = pairs.some((pair) => pair.kind !== 'code');
      const pool = needsPool ? createGradePool(flags.workers === undefined ? { deadlineMs: flags.deadlineMs } : { deadlineMs: flags.deadlineMs, size: flags.workers }) : undefined;
      const counts = { equal: 0, notEqual: 0, timeout: 0, error: 0 };
      try {
        const verdicts = pairs.map((pair) => gradePair(pool as GradePool, pair, flags.deadlineMs));
        for (const [index, pair] of pairs.entries()) {
          const verdict = await (verdicts[index] as Promise<GradeVerdict>);
          if (verdict.equal) counts.equal++;
          else counts.notEqual++;
          if (verdict.status === 'timeout') counts.timeout++;
          if (verdict.status === 'error') counts.error++;
          if (flags.json === true) {
            const line: Record<string, unknown> = { equal: verdict.equal, reason: verdict.reason, ms: Math.round(verdict.ms * 1000) / 1000, status: verdict.status };
            if (pair.line !== undefined) line['line'] = pair.line;
            if (verdict.error !== undefined) line['error'] = verdict.error;
            out(`${JSON.stringify(line)}\n`);
          } else {
            const where = pair.line === undefined ? '' : `line ${pair.line}: `;
            const why = explain(verdict.reason);
            out(`${where}${verdict.equal ? 'equal' : 'not equal'} — rule ${verdict.reason}${why ? ` (${why})` : ''} [${pair.kind}, ${pair.mode}, ${verdict.ms.toFixed(2)} ms]\n`);
            if (pairs.length > 1) out(`    gold: ${pair.gold.slice(0, 200)}\n    pred: ${pair.pred.slice(0, 200)}\n`);
            if (verdict.error !== undefined) out(`    error: ${verdict.error}\n`);
          }
        }
      } finally {
        await pool?.close();
      }
      if (pairs.length > 1 || counts.timeout > 0 || counts.error > 0) {
        err(`${pairs.length} pair(s): ${counts.equal} equal, ${counts.notEqual} not equal (${counts.timeout} timeouts, ${counts.error} errors)\n`);
      }
    });
}
