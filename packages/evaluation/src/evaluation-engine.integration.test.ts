/**
 * The ORT backend end to end: a tiny random Qwen3 with the committed character tokenizer of
 * models/tiny-arith, run in the engine's child process, on three synthetic test problems.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError } from '@masa-rl/core';
import { loadDataset } from '@masa-rl/datasets';
import { createRandomModel } from '@masa-rl/model';
import type { ChildProcessEngine, OrtEngine } from '@masa-rl/rollout';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './__tests__/fixtures.js';
import { createEvaluationEngine, type EvaluationEngine } from './evaluation-engine.js';
import type { ResponseRecord } from './results-store.js';
import { runEvaluation } from './run-evaluation.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CONTEXT = 64;

describe('createEvaluationEngine (ort, child process)', () => {
  let modelDir: string;
  let evaluation: EvaluationEngine;

  beforeAll(async () => {
    modelDir = join(tempDir('ort'), 'tiny-random');
    await createRandomModel({
      modelDir,
      architecture: 'qwen3',
      hiddenSize: 32,
      layers: 1,
      heads: 2,
      kvHeads: 1,
      headDim: 16,
      intermediateSize: 48,
      vocabSize: 99,
      tie: true,
      seed: 'evaluation-ort',
      maxPositionEmbeddings: CONTEXT,
      eosTokenId: 98,
      initStd: 0.5,
      tokenizerDir: join(root, 'models', 'tiny-arith'),
    });
    evaluation = await createEvaluationEngine({ modelPath: modelDir, maxBatchSize: 8 });
  });
  afterAll(async () => {
    await evaluation?.close();
  });

  it('tokenises with the chat template, caps budgets at the context, and ignores SIGINT in the engine process', async () => {
    expect(evaluation.contextTokens).toBe(CONTEXT);
    expect(evaluation.model).toEqual({ path: modelDir, backend: 'ort', baseUrl: null, apiModel: null });
    // Ctrl-C reaches the whole process group: the engine process must survive it.
    const pid = (evaluation.engine as ChildProcessEngine).pid as number;
    process.kill(pid, 'SIGINT');
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));

    const loaded = await loadDataset('synthetic-arith-test', { limit: 3 });
    const outDir = tempDir('ort-run');
    const result = await runEvaluation({
      engine: evaluation.engine,
      tokenizer: evaluation.tokenizer as NonNullable<EvaluationEngine['tokenizer']>,
      contextTokens: CONTEXT,
      datasets: [{ ...loaded, file: null }],
      outDir,
      model: evaluation.model,
      n: 2,
      workers: 1,
    });
    expect(result).toMatchObject({ status: 'complete', completedProblems: 3 });
    const records = readFileSync(join(outDir, 'responses.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ResponseRecord);
    for (const [index, record] of records.entries()) {
      const question = loaded.problems[index]?.question as string;
      // Character tokenizer: 3 special tokens (<|im_start|>, <|im_end|>, <|im_start|>) plus one id per character of
      // "user\n" + question + "\n" (the synthetic prompt) + "\n" + "assistant\n".
      const expectedPrompt = 3 + `user\n${question}\n`.length + 1 + 'assistant\n'.length;
      expect(record.promptTokens).toBe(expectedPrompt);
      expect(record.maxNewTokens).toBe(CONTEXT - expectedPrompt);
      expect(record.responses).toHaveLength(2);
      for (const [sample, tokens] of record.tokens.entries()) {
        expect(tokens).toBeGreaterThan(0);
        expect(tokens).toBeLessThanOrEqual(CONTEXT - expectedPrompt);
        // A sample that used its whole budget ended by length, any other one by a stop token.
        expect(record.finishReasons[sample]).toBe(tokens === CONTEXT - expectedPrompt ? 'length' : 'stop');
      }
    }
    expect(result.summary.details[0]?.completed).toBe(3);
  });

  it('hands its thread count to the ORT engine (one by default)', async () => {
    for (const [threads, expected] of [[undefined, 1], [2, 2]] as const) {
      await using local = await createEvaluationEngine({ modelPath: modelDir, inProcess: true, ...(threads === undefined ? {} : { threads }) });
      expect((local.engine as OrtEngine).intraOpNumThreads).toBe(expected);
    }
  });

  it('names the missing file of a model folder', async () => {
    const error = await createEvaluationEngine({ modelPath: join(modelDir, 'nope') }).catch((caught: unknown) => caught);
    expect(MasaError.hasCode(error, 'MODEL_LOAD_FAILED')).toBe(true);
    expect((error as MasaError).message).toMatch(/has no config\.json: pass a Hugging Face model folder/);
    const openai = await createEvaluationEngine({ backend: 'openai', baseUrl: 'http://127.0.0.1:9/v1' }).catch((caught: unknown) => caught);
    expect(MasaError.hasCode(openai, 'ARGUMENT_INVALID')).toBe(true);
    expect((openai as MasaError).message).toContain('--api-model');
  });
});
