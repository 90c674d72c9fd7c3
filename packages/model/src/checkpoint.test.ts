import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, openCheckpoint, saveModel } from './checkpoint.js';
import { parseModelConfig } from './config.js';
import { listParameters } from './parameters.js';
import { createRandomModel } from './random-model.js';
import { writeSafetensors } from './safetensors.js';

let root: string;
let counter = 0;
const freshDir = async (): Promise<string> => {
  counter += 1;
  const dir = join(root, `m${counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'masa-checkpoint-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const tiny = {
  hiddenSize: 16,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  headDim: 8,
  intermediateSize: 24,
  vocabSize: 50,
} as const;

describe('parameter names', () => {
  it('lists the Hugging Face names and shapes of a one-layer Qwen3', () => {
    const config = parseModelConfig({
      model_type: 'qwen3',
      vocab_size: 50,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 8,
      tie_word_embeddings: false,
    });
    expect(listParameters(config).map((p) => `${p.name} ${p.shape.join('x')}`)).toEqual([
      'model.embed_tokens.weight 50x16',
      'model.layers.0.input_layernorm.weight 16',
      'model.layers.0.self_attn.q_proj.weight 32x16',
      'model.layers.0.self_attn.k_proj.weight 16x16',
      'model.layers.0.self_attn.q_norm.weight 8',
      'model.layers.0.self_attn.k_norm.weight 8',
      'model.layers.0.self_attn.v_proj.weight 16x16',
      'model.layers.0.self_attn.o_proj.weight 16x32',
      'model.layers.0.post_attention_layernorm.weight 16',
      'model.layers.0.mlp.gate_proj.weight 24x16',
      'model.layers.0.mlp.up_proj.weight 24x16',
      'model.layers.0.mlp.down_proj.weight 16x24',
      'model.norm.weight 16',
      'lm_head.weight 50x16',
    ]);
  });

  it('adds Qwen2 q/k/v biases and drops the head when tied', () => {
    const config = parseModelConfig({
      model_type: 'qwen2',
      vocab_size: 50,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      tie_word_embeddings: true,
    });
    const names = listParameters(config).map((p) => p.name);
    expect(names.filter((n) => n.endsWith('.bias'))).toEqual([
      'model.layers.0.self_attn.q_proj.bias',
      'model.layers.0.self_attn.k_proj.bias',
      'model.layers.0.self_attn.v_proj.bias',
    ]);
    expect(names).not.toContain('lm_head.weight');
    expect(names.some((n) => n.includes('q_norm'))).toBe(false);
  });
});

describe('createRandomModel', () => {
  it('is deterministic per seed and initialises N(0, std²) weights and 1 + N(0, std²) norms', async () => {
    const a = await createRandomModel({ modelDir: await freshDir(), architecture: 'llama', ...tiny, vocabSize: 2000, seed: 1, initStd: 0.05 });
    const b = await createRandomModel({ modelDir: await freshDir(), architecture: 'llama', ...tiny, vocabSize: 2000, seed: 1, initStd: 0.05 });
    const c = await createRandomModel({ modelDir: await freshDir(), architecture: 'llama', ...tiny, vocabSize: 2000, seed: 2, initStd: 0.05 });
    const bytes = async (dir: string): Promise<Buffer> => readFile(join(dir, 'model.safetensors'));
    expect((await bytes(a.modelDir)).equals(await bytes(b.modelDir))).toBe(true);
    expect((await bytes(a.modelDir)).equals(await bytes(c.modelDir))).toBe(false);
    const { weights } = await loadModel({ modelDir: a.modelDir, dtype: 'float64' });
    const embedding = weights.get('model.embed_tokens.weight') as Float64Array; // 32,000 draws
    const mean = embedding.reduce((s, x) => s + x, 0) / embedding.length;
    const sd = Math.sqrt(embedding.reduce((s, x) => s + (x - mean) ** 2, 0) / embedding.length);
    expect(Math.abs(mean)).toBeLessThan((5 * 0.05) / Math.sqrt(embedding.length));
    expect(Math.abs(sd - 0.05)).toBeLessThan(0.002);
    const norm = weights.get('model.norm.weight') as Float64Array;
    expect(norm.every((x) => Math.abs(x - 1) < 0.3)).toBe(true);
    expect(norm.some((x) => x !== 1)).toBe(true);
    expect(JSON.parse(await readFile(join(a.modelDir, 'config.json'), 'utf8'))).toMatchObject({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      torch_dtype: 'float32',
      num_key_value_heads: 2,
    });
  });
});

describe('save and load', () => {
  for (const dtype of ['F32', 'BF16', 'F16', 'F64'] as const) {
    it(`writes back bit-identical ${dtype} weights (load → save)`, async () => {
      const source = await createRandomModel({ modelDir: await freshDir(), architecture: 'qwen3', ...tiny, seed: `bits-${dtype}`, dtype });
      for (const inMemory of ['float32', 'float64'] as const) {
        if (dtype === 'F64' && inMemory === 'float32') continue; // float32 cannot hold float64 weights
        const loaded = await loadModel({ modelDir: source.modelDir, dtype: inMemory });
        expect(loaded.warnings).toEqual([]);
        const target = await freshDir();
        await saveModel({ modelDir: target, config: loaded.config, weights: loaded.weights, dtype });
        const original = await readFile(join(source.modelDir, 'model.safetensors'));
        const copy = await readFile(join(target, 'model.safetensors'));
        expect(copy.equals(original), `${dtype} via ${inMemory}`).toBe(true);
      }
    });
  }

  it('shards, loads shards, and removes the stale single file', async () => {
    const single = await createRandomModel({ modelDir: await freshDir(), architecture: 'qwen2', ...tiny, seed: 'shards', tie: true });
    const loaded = await loadModel({ modelDir: single.modelDir });
    const dir = await freshDir();
    await writeFile(join(dir, 'model.safetensors'), 'stale');
    await saveModel({ modelDir: dir, config: loaded.config, weights: loaded.weights, maxShardBytes: 4000 });
    const files = (await readdir(dir)).sort();
    expect(files).not.toContain('model.safetensors');
    const shards = files.filter((f) => f.endsWith('.safetensors'));
    expect(shards.length).toBeGreaterThanOrEqual(3);
    expect(shards[0]).toBe(`model-00001-of-${String(shards.length).padStart(5, '0')}.safetensors`);
    const index = JSON.parse(await readFile(join(dir, 'model.safetensors.index.json'), 'utf8'));
    const totalFloats = listParameters(loaded.config).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(index.metadata.total_size).toBe(totalFloats * 4);
    expect(Object.keys(index.weight_map).sort()).toEqual(listParameters(loaded.config).map((p) => p.name).sort());
    const again = await loadModel({ modelDir: dir });
    for (const [name, data] of loaded.weights) expect(again.weights.get(name), name).toEqual(data);
    // And back to one file: the shards and the index disappear.
    await saveModel({ modelDir: dir, config: loaded.config, weights: loaded.weights });
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors']);
  });

  it('rejects an index that points at the wrong shard', async () => {
    const source = await createRandomModel({ modelDir: await freshDir(), architecture: 'qwen3', ...tiny, seed: 'index', maxShardBytes: 6000 });
    const indexPath = join(source.modelDir, 'model.safetensors.index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8'));
    const shards = (await readdir(source.modelDir)).filter((f) => f.startsWith('model-'));
    index.weight_map['model.norm.weight'] = shards.find((f) => !f.startsWith(`model-${String(shards.length).padStart(5, '0')}`));
    await writeFile(indexPath, JSON.stringify(index));
    await expect(openCheckpoint(source.modelDir)).rejects.toThrow(/puts "model.norm.weight" in/);
  });

  it('names the tensor and file on a missing tensor or a wrong shape, and warns about extra tensors', async () => {
    const source = await createRandomModel({ modelDir: await freshDir(), architecture: 'llama', ...tiny, seed: 'errors' });
    const loaded = await loadModel({ modelDir: source.modelDir });
    const dir = await freshDir();
    await writeFile(join(dir, 'config.json'), await readFile(join(source.modelDir, 'config.json')));
    const tensors = [...loaded.weights].map(([name, data]) => ({
      name,
      shape: listParameters(loaded.config).find((p) => p.name === name)?.shape ?? [],
      data,
    }));
    await writeSafetensors({ file: join(dir, 'model.safetensors'), tensors: tensors.filter((t) => t.name !== 'model.norm.weight') });
    await expect(loadModel({ modelDir: dir })).rejects.toThrow(/"model.norm.weight" \(shape \[16\]\) is missing/);
    await writeSafetensors({
      file: join(dir, 'model.safetensors'),
      tensors: tensors.map((t) => (t.name === 'model.norm.weight' ? { ...t, shape: [4, 4] } : t)),
    });
    await expect(loadModel({ modelDir: dir })).rejects.toThrow(/"model.norm.weight" in .*model.safetensors has shape \[4,4\] but config.json implies \[16\]/);
    await writeSafetensors({
      file: join(dir, 'model.safetensors'),
      tensors: [...tensors, { name: 'model.rotary_emb.inv_freq', shape: [4], data: new Float32Array(4) }],
    });
    const withExtra = await loadModel({ modelDir: dir });
    expect(withExtra.warnings).toHaveLength(1);
    expect(withExtra.warnings[0]).toContain('model.rotary_emb.inv_freq');
    await expect(loadModel({ modelDir: join(root, 'nope') })).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
    const empty = await freshDir();
    await writeFile(join(empty, 'config.json'), await readFile(join(source.modelDir, 'config.json')));
    await expect(loadModel({ modelDir: empty })).rejects.toThrow(/neither model.safetensors nor model.safetensors.index.json/);
  });
});
