/**
 * Cross-check against PyTorch Hugging Face transformers itself, in both directions:
 * folders masa-rl writes are run by transformers, and folders transformers writes
 * (`save_pretrained`) are run by masa-rl; logits must agree in float64.
 *
 * Runs only when MASA_HF_PYTHON names a Python with torch + transformers + safetensors
 * (e.g. a venv: `pip install transformers torch safetensors`); skipped otherwise, so the
 * suite never needs Python or the network.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '@masa-rl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from './checkpoint.js';
import { loadTokenizer } from './tokenizer.js';
import { QWEN3_TOKENIZER_DIR } from './__tests__/fixtures.js';
import { createModelRunner } from './model-runner.js';
import { leftPadBatch } from './token-batch.js';
import { relativeError, tempDir, tinyModel } from './__tests__/helpers.js';

const python = process.env['MASA_HF_PYTHON'];
const script = fileURLToPath(new URL('../scripts/hf_reference.py', import.meta.url));

interface RowResult {
  logits: number[][];
  logprobs: number[];
}

function runPython(job: { precision?: 'as-is' | 'float64'; load?: unknown[]; create?: unknown[]; tokenize?: unknown }): {
  load: Array<{ rows: RowResult[] }>;
  create: Array<{ dir: string; rows: RowResult[] }>;
  tokenize: { texts: number[][]; chats: string[] };
  versions: Record<string, string>;
} {
  const child = spawnSync(python as string, [script], {
    input: JSON.stringify(job),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, OMP_NUM_THREADS: '1', HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
  });
  if (child.status !== 0) throw new Error(`hf_reference.py failed:\n${child.stderr}`);
  return JSON.parse(child.stdout);
}

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  dir = await tempDir('hf-crosscheck');
});
afterAll(async () => {
  await dir.cleanup();
});

const rng = createRng('hf-rows');
const rows = [Array.from({ length: 9 }, () => rng.int(0, 63)), Array.from({ length: 4 }, () => rng.int(0, 63))];

describe.skipIf(python === undefined)('PyTorch transformers cross-check (float64)', () => {
  // transformers computes RoPE tables and RMSNorm in float32 even in float64 models: as is,
  // the logits agree to ~1e-6; with those two islands in float64 (same formulas) to 1e-9.
  for (const [precision, tolerance] of [['float64', 1e-9], ['as-is', 2e-6]] as const) {
  it(`transformers runs the folders masa-rl writes to the same logits (${precision}: ≤ ${tolerance})`, async () => {
    const variants = {
      qwen3: { architecture: 'qwen3', seed: 'hf-qwen3' },
      'qwen3-tied': { architecture: 'qwen3', seed: 'hf-qwen3-tied', tie: true },
      qwen2: { architecture: 'qwen2', seed: 'hf-qwen2' },
      'llama-llama3-rope': {
        architecture: 'llama',
        seed: 'hf-llama',
        ropeTheta: 10000,
        ropeScaling: { factor: 4, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8 },
      },
      'llama-biases-mha': { architecture: 'llama', seed: 'hf-llama-bias', kvHeads: 4, attentionBias: true, configOverrides: { mlp_bias: true } },
      'qwen3-bf16': { architecture: 'qwen3', seed: 'hf-bf16', dtype: 'BF16' },
    } as const;
    const models = [];
    for (const [name, options] of Object.entries(variants)) models.push(await tinyModel(dir.path, `${precision}-${name}`, options));
    const result = runPython({ precision, load: models.map((model) => ({ dir: model.modelDir, rows })) });
    for (const [i, model] of models.entries()) {
      await using runner = createModelRunner({ config: model.config, weights: model.weights });
      for (const [r, row] of rows.entries()) {
        const theirs = result.load[i]?.rows[r] as RowResult;
        const ours = await runner.step(leftPadBatch({ sequences: [row] }));
        expect(relativeError(ours.logits, theirs.logits[row.length - 1] as number[]), `${model.modelDir} row ${r}`).toBeLessThan(tolerance);
        const scored = await runner.tokenLogProbs(leftPadBatch({ sequences: [row] }));
        expect(relativeError(Array.from(scored.logProbs).slice(1), theirs.logprobs), `${model.modelDir} logprobs ${r}`).toBeLessThan(tolerance);
      }
    }
  });
  }

  it('masa-rl runs the folders transformers writes (save_pretrained) to the same logits', async () => {
    const base = { vocab_size: 64, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8 };
    const configs = {
      qwen3: { model_type: 'qwen3', ...base, rope_theta: 10000, tie_word_embeddings: false },
      'qwen3-tied': { model_type: 'qwen3', ...base, tie_word_embeddings: true },
      qwen2: { model_type: 'qwen2', ...base, head_dim: undefined, tie_word_embeddings: false },
      llama: {
        model_type: 'llama',
        ...base,
        rope_theta: 10000,
        rope_scaling: { rope_type: 'llama3', factor: 4.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8 },
        max_position_embeddings: 64,
      },
    };
    const entries = Object.entries(configs);
    const result = runPython({
      precision: 'float64',
      create: entries.map(([name, config], seed) => ({
        dir: join(dir.path, `from-hf-${name}`),
        config: Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)),
        seed,
        rows,
      })),
    });
    expect(result.versions['transformers']).toBeDefined();
    for (const [i, [name]] of entries.entries()) {
      const created = result.create[i] as { dir: string; rows: RowResult[] };
      const model = await loadModel({ modelDir: created.dir, dtype: 'float64' });
      expect(model.warnings, name).toEqual([]);
      await using runner = createModelRunner({ config: model.config, weights: model.weights });
      for (const [r, row] of rows.entries()) {
        const ours = await runner.step(leftPadBatch({ sequences: [row] }));
        expect(relativeError(ours.logits, (created.rows[r] as RowResult).logits[row.length - 1] as number[]), `${name} row ${r}`).toBeLessThan(1e-9);
      }
    }
  });

  it('the Qwen3 tokenizer and chat template give what transformers (Python, Jinja) gives', async () => {
    const texts = ['Hello world', 'Unicode: café, 数学题 🙂', 'def f(x):\n    return x ** 2', '  spaces  and\ttabs\n\n'];
    const chats = [
      { messages: [{ role: 'user', content: 'What is 2+2?' }], kwargs: { add_generation_prompt: true, enable_thinking: false } },
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: '<think>\nsay hi\n</think>\n\nHello' },
          { role: 'user', content: 'Sum?' },
        ],
        kwargs: { add_generation_prompt: true },
      },
    ];
    const result = runPython({ tokenize: { dir: QWEN3_TOKENIZER_DIR, texts, chats } });
    const tokenizer = await loadTokenizer({ model: QWEN3_TOKENIZER_DIR });
    texts.forEach((text, i) => expect(tokenizer.encode(text), text).toEqual(result.tokenize.texts[i]));
    expect(tokenizer.applyChatTemplate(chats[0]?.messages as never, { addGenerationPrompt: true, enableThinking: false })).toBe(result.tokenize.chats[0]);
    expect(tokenizer.applyChatTemplate(chats[1]?.messages as never, { addGenerationPrompt: true })).toBe(result.tokenize.chats[1]);
  });
});
