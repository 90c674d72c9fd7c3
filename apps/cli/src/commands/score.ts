import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { createModelRunner, leftPadBatch, loadModel, loadTokenizer } from '@masa-rl/model';
import type { Tokenizer } from '@masa-rl/model';
import { Command, Option } from 'commander';

/** Where the command writes and what it reads from its surroundings (test seams). */
export interface ScoreCommandOptions {
  /**
   * Scores.
   * @default process.stdout
   */
  stdout?: { write(text: string): unknown };
  /**
   * Directory relative paths are resolved against.
   * @default process.cwd()
   */
  cwd?: string;
}

interface ScoreFlags {
  model: string;
  text?: string;
  tokensFile?: string;
  json?: boolean;
  dtype: 'float32' | 'float64';
  batchSize: number;
}

/** One sequence to score, with where it came from. */
interface Sequence {
  tokens: number[];
  /** 1-based line of the tokens file. */
  line?: number;
}

function positiveInteger(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < 1) throw new MasaError('ARGUMENT_INVALID', `${flag} must be a positive integer, got "${value}"`);
    return parsed;
  };
}

/**
 * Reads a JSONL file of token sequences: each line is a JSON array of token ids or
 * `{"tokens": [...]}`. Blank lines are skipped; a bad line is an error naming the file and line.
 */
export function parseTokensFile(text: string, file: string, vocabSize: number): Sequence[] {
  const sequences: Sequence[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new MasaError('ARGUMENT_INVALID', `${file}:${line}: not valid JSON; write one JSON array of token ids (or {"tokens": [...]}) per line`);
    }
    const tokens = Array.isArray(value) ? value : (value as { tokens?: unknown } | null)?.tokens;
    if (!Array.isArray(tokens) || tokens.length === 0) {
      throw new MasaError('ARGUMENT_INVALID', `${file}:${line}: expected a non-empty array of token ids or {"tokens": [...]}`);
    }
    for (const token of tokens) {
      if (typeof token !== 'number' || !Number.isInteger(token) || token < 0 || token >= vocabSize) {
        throw new MasaError('ARGUMENT_INVALID', `${file}:${line}: token ${JSON.stringify(token)} is not an id in [0, ${vocabSize}) of this model`);
      }
    }
    sequences.push({ tokens: tokens as number[], line });
  });
  if (sequences.length === 0) throw new MasaError('ARGUMENT_INVALID', `${file} has no token sequences`);
  return sequences;
}

/** `masa score`: per-token log-probabilities and total NLL of given text or token sequences. */
export function createScoreCommand(options: ScoreCommandOptions = {}): Command {
  const out = (text: string): void => void (options.stdout ?? process.stdout).write(text);
  const cwd = options.cwd ?? process.cwd();
  const absolute = (path: string): string => (isAbsolute(path) ? path : resolve(cwd, path));
  return new Command('score')
    .description('Score text or token sequences with a model: per-token log-probabilities and total NLL (the scoring graph the trainer uses)')
    .requiredOption('--model <dir>', 'a Hugging Face model folder (config.json, *.safetensors; tokenizer files for --text)')
    .option('--text <text>', 'text to score (tokenized with the model folder\'s tokenizer, no special tokens added)')
    .option('--tokens-file <file>', 'a JSONL file: one JSON array of token ids (or {"tokens": [...]}) per line')
    .option('--json', 'one JSON object per sequence: {"tokens", "logprobs", "nll", "scoredTokens", "line"?}')
    .addOption(new Option('--dtype <dtype>', 'compute precision').choices(['float32', 'float64']).default('float32'))
    .option('--batch-size <n>', 'sequences per forward pass', positiveInteger('--batch-size'), 8)
    .action(async (flags: ScoreFlags) => {
      if ((flags.text === undefined) === (flags.tokensFile === undefined)) {
        throw new MasaError('ARGUMENT_INVALID', 'pass exactly one of --text "…" or --tokens-file FILE.jsonl');
      }
      const modelDir = absolute(flags.model);
      const model = await loadModel({ modelDir, dtype: flags.dtype });
      let tokenizer: Tokenizer | undefined;
      let sequences: Sequence[];
      if (flags.text !== undefined) {
        tokenizer = await loadTokenizer({ model: modelDir });
        const tokens = tokenizer.encode(flags.text);
        if (tokens.length === 0) throw new MasaError('ARGUMENT_INVALID', '--text is empty after tokenization');
        sequences = [{ tokens }];
      } else {
        const file = flags.tokensFile as string;
        let text: string;
        try {
          text = await readFile(absolute(file), 'utf8');
        } catch (error: unknown) {
          throw new MasaError('FILE_NOT_FOUND', `cannot read --tokens-file ${file}: check the path`, { cause: error, details: { path: absolute(file) } });
        }
        sequences = parseTokensFile(text, file, model.config.vocabSize);
      }
      await using runner = createModelRunner({ config: model.config, weights: model.weights, dtype: flags.dtype });
      let totalNll = 0;
      let totalScored = 0;
      for (let start = 0; start < sequences.length; start += flags.batchSize) {
        const group = sequences.slice(start, start + flags.batchSize);
        const batch = leftPadBatch({ sequences: group.map((s) => s.tokens) });
        const { logProbs } = await runner.tokenLogProbs(batch);
        for (const [b, sequence] of group.entries()) {
          const offset = batch.seq - sequence.tokens.length;
          // The first token has no prediction; every later one is scored.
          const values = sequence.tokens.map((_, t) => (t === 0 ? null : (logProbs[b * batch.seq + offset + t] as number)));
          const nll = -values.reduce<number>((sum, v) => sum + (v ?? 0), 0);
          const scored = sequence.tokens.length - 1;
          totalNll += nll;
          totalScored += scored;
          if (flags.json === true) {
            out(`${JSON.stringify({ ...(sequence.line !== undefined ? { line: sequence.line } : {}), tokens: sequence.tokens, logprobs: values, nll, scoredTokens: scored })}\n`);
          } else {
            if (sequence.line !== undefined) out(`line ${sequence.line}:\n`);
            for (const [t, token] of sequence.tokens.entries()) {
              const piece = tokenizer === undefined ? '' : `  ${JSON.stringify(tokenizer.decode([token]))}`;
              const value = values[t];
              out(`  ${String(t).padStart(4)}  ${String(token).padStart(7)}  ${value === null || value === undefined ? '        —' : value.toFixed(4).padStart(9)}${piece}\n`);
            }
            const mean = scored > 0 ? nll / scored : Number.NaN;
            out(`  total NLL ${nll.toFixed(4)} over ${scored} tokens (mean ${mean.toFixed(4)}, perplexity ${Math.exp(mean).toFixed(3)})\n`);
          }
        }
      }
      if (flags.json !== true && sequences.length > 1) {
        out(`all: total NLL ${totalNll.toFixed(4)} over ${totalScored} tokens (mean ${(totalNll / Math.max(1, totalScored)).toFixed(4)})\n`);
      }
    });
}
