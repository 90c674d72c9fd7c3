import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { createLoraWeights, createRandomModel, loadModel, mergeLora, saveLoraAdapter } from '@masa-rl/model';
import type { LoraConfig } from '@masa-rl/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExportCommand } from './export.js';
import { expectMasaError } from '../test-support/expect-masa-error.js';

const cwd = mkdtempSync(join(tmpdir(), 'masa-cli-export-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

async function run(args: string[]): Promise<string> {
  let out = '';
  const command = createExportCommand({ stdout: { write: (text: string) => (out += text) }, cwd });
  command.exitOverride();
  await command.parseAsync(args, { from: 'user' });
  return out;
}

function failure(args: string[]): Promise<MasaError> {
  return expectMasaError(run(args));
}

const shape = { hiddenSize: 16, layers: 2, heads: 4, kvHeads: 2, headDim: 8, intermediateSize: 24, vocabSize: 64 } as const;

beforeAll(async () => {
  await createRandomModel({ modelDir: join(cwd, 'src'), architecture: 'qwen2', ...shape, seed: 'cli-export', dtype: 'BF16' });
});

describe('masa export', () => {
  it('--to hf keeps the weights bit-identical in the source dtype, or converts with --dtype', async () => {
    const out = await run(['--model', 'src', '--to', 'hf', '--out', 'hf']);
    expect(out).toContain('exported qwen2 (hf)');
    expect(readFileSync(join(cwd, 'hf', 'model.safetensors')).equals(readFileSync(join(cwd, 'src', 'model.safetensors')))).toBe(true);
    await run(['--model', 'src', '--to', 'hf', '--out', 'hf32', '--dtype', 'f32']);
    expect(JSON.parse(readFileSync(join(cwd, 'hf32', 'config.json'), 'utf8')).torch_dtype).toBe('float32');
    const a = await loadModel({ modelDir: join(cwd, 'src') });
    const b = await loadModel({ modelDir: join(cwd, 'hf32') });
    for (const [name, data] of a.weights) expect(b.weights.get(name), name).toEqual(data);
  });

  it('--to transformers.js writes onnx/model.onnx and a config with transformers.js_config', async () => {
    const out = await run(['--model', 'src', '--to', 'transformers.js', '--out', 'tjs']);
    expect(out).toContain('onnx/model.onnx');
    expect(readdirSync(join(cwd, 'tjs', 'onnx'))).toEqual(['model.onnx']);
    const config = JSON.parse(readFileSync(join(cwd, 'tjs', 'config.json'), 'utf8'));
    expect(config['transformers.js_config']).toEqual({ dtype: 'fp32' });
    expect(config.model_type).toBe('qwen2');
  });

  it('--adapter merges a PEFT LoRA adapter into the exported weights', async () => {
    const model = await loadModel({ modelDir: join(cwd, 'src') });
    const lora: LoraConfig = { rank: 2, alpha: 4, targetModules: ['q_proj', 'up_proj'] };
    const adapters = createLoraWeights({ config: model.config, lora, seed: 'cli-adapter', initB: 'random' });
    await saveLoraAdapter({ adapterDir: join(cwd, 'adapter'), config: model.config, lora, adapters });
    const out = await run(['--model', 'src', '--to', 'hf', '--out', 'merged', '--adapter', 'adapter', '--dtype', 'f32']);
    expect(out).toContain('LoRA merged');
    const merged = await loadModel({ modelDir: join(cwd, 'merged') });
    const expected = mergeLora({ config: model.config, weights: model.weights, lora, adapters });
    const name = 'model.layers.1.self_attn.q_proj.weight';
    expect(merged.weights.get(name)).toEqual(expected.get(name));
    expect(merged.weights.get(name)).not.toEqual(model.weights.get(name));
  });

  it('refuses to overwrite its source and rejects --dtype for transformers.js', async () => {
    expect((await failure(['--model', 'src', '--to', 'hf', '--out', 'src'])).code).toBe('ARGUMENT_INVALID');
    expect((await failure(['--model', 'src', '--to', 'transformers.js', '--out', 'x', '--dtype', 'bf16'])).code).toBe('ARGUMENT_INVALID');
    expect((await failure(['--model', 'nowhere', '--to', 'hf', '--out', 'y'])).code).toBe('MODEL_LOAD_FAILED');
  });
});
