import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from './checkpoint.js';
import { exportModel } from './export.js';
import { generateGreedy } from './generate-greedy.js';
import { createModelRunner } from './model-runner.js';
import { QWEN3_TOKENIZER_DIR } from './__tests__/fixtures.js';
import { tempDir, tinyModel } from './__tests__/helpers.js';

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  dir = await tempDir('export');
});
afterAll(async () => {
  await dir.cleanup();
});

/** Greedy generation by transformers.js from an exported folder (offline, one thread). */
async function transformersGreedy(modelDir: string, prompt: readonly number[], maxNewTokens: number): Promise<number[]> {
  const { AutoModelForCausalLM, Tensor, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  const model = await AutoModelForCausalLM.from_pretrained(modelDir, {
    dtype: 'fp32',
    local_files_only: true,
    session_options: { intraOpNumThreads: 1 },
  });
  try {
    const inputIds = new Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length]);
    const attentionMask = new Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]);
    const output = (await model.generate({
      input_ids: inputIds,
      attention_mask: attentionMask,
      max_new_tokens: maxNewTokens,
      do_sample: false,
    } as never)) as { data: BigInt64Array };
    return Array.from(output.data, Number).slice(prompt.length);
  } finally {
    await model.dispose();
  }
}

describe('transformers.js export', () => {
  for (const architecture of ['qwen3', 'llama'] as const) {
    it(`${architecture}: @huggingface/transformers loads the folder and its greedy tokens equal masa-rl's`, async () => {
      const source = await tinyModel(
        dir.path,
        `src-${architecture}`,
        // Sharper distributions than the default init so greedy choices are not near-ties.
        { architecture, seed: `tjs-${architecture}`, initStd: 0.5, vocabSize: 96, eosTokenId: 95, ...(architecture === 'qwen3' ? { tokenizerDir: QWEN3_TOKENIZER_DIR } : {}) },
        'float32',
      );
      const outDir = join(dir.path, `tjs-${architecture}`);
      const result = await exportModel({ config: source.config, weights: source.weights, outDir, format: 'transformers.js', copyFilesFrom: source.modelDir });
      const files = await readdir(outDir);
      expect(files).toContain('config.json');
      expect(await readdir(join(outDir, 'onnx'))).toEqual(['model.onnx']);
      expect(result.files).toContain('onnx/model.onnx');
      if (architecture === 'qwen3') expect(files).toEqual(expect.arrayContaining(['tokenizer.json', 'tokenizer_config.json']));
      const config = JSON.parse(await readFile(join(outDir, 'config.json'), 'utf8'));
      expect(config['transformers.js_config']).toEqual({ dtype: 'fp32' });
      expect(config.model_type).toBe(architecture);

      const prompt = [5, 17, 42, 8, 33];
      const maxNewTokens = 12;
      await using runner = createModelRunner({ config: source.config, weights: source.weights });
      const [ours] = await generateGreedy({ runner, prompts: [prompt], maxNewTokens, eosTokenIds: [95] });
      const theirs = await transformersGreedy(outDir, prompt, maxNewTokens);
      expect(ours?.length).toBeGreaterThan(3);
      expect(theirs.slice(0, ours?.length)).toEqual(ours);
    });
  }

  it('with external data (what a model past 2 GiB gets): the weights sit in onnx/model.onnx_data, transformers.js loads them, the same tokens; a later inline export drops the file', async () => {
    const source = await tinyModel(dir.path, 'src-external', { architecture: 'qwen3', seed: 'tjs-external', initStd: 0.5, vocabSize: 96, eosTokenId: 95 }, 'float32');
    const outDir = join(dir.path, 'tjs-external');
    const result = await exportModel({ config: source.config, weights: source.weights, outDir, format: 'transformers.js', externalData: true });
    expect(result.files).toEqual(expect.arrayContaining(['onnx/model.onnx', 'onnx/model.onnx_data']));
    expect((await readdir(join(outDir, 'onnx'))).sort()).toEqual(['model.onnx', 'model.onnx_data']); // no staging folder left
    const config = JSON.parse(await readFile(join(outDir, 'config.json'), 'utf8'));
    expect(config['transformers.js_config']).toEqual({ dtype: 'fp32', use_external_data_format: true });
    const weightBytes = [...source.weights.values()].reduce((sum, array) => sum + 4 * array.length, 0);
    const externalModelBytes = (await stat(join(outDir, 'onnx', 'model.onnx'))).size;
    expect((await stat(join(outDir, 'onnx', 'model.onnx_data'))).size).toBeGreaterThan(weightBytes / 2); // tensors under 1 KiB stay inline

    const prompt = [5, 17, 42, 8, 33];
    await using runner = createModelRunner({ config: source.config, weights: source.weights });
    const [ours] = await generateGreedy({ runner, prompts: [prompt], maxNewTokens: 10, eosTokenIds: [95] });
    const theirs = await transformersGreedy(outDir, prompt, 10);
    expect(ours?.length).toBeGreaterThan(3);
    expect(theirs.slice(0, ours?.length)).toEqual(ours);

    await exportModel({ config: source.config, weights: source.weights, outDir, format: 'transformers.js' });
    expect(await readdir(join(outDir, 'onnx'))).toEqual(['model.onnx']);
    // The big tensors had gone to the data file: the inline model is larger by more than half the weights.
    expect((await stat(join(outDir, 'onnx', 'model.onnx'))).size - externalModelBytes).toBeGreaterThan(weightBytes / 2);
    expect(JSON.parse(await readFile(join(outDir, 'config.json'), 'utf8'))['transformers.js_config']).toEqual({ dtype: 'fp32' });
  });

  it('the exported HF folder reloads with the same weights', async () => {
    const source = await tinyModel(dir.path, 'src-hf', { architecture: 'qwen2', seed: 'hf-export', dtype: 'BF16' }, 'float32');
    const outDir = join(dir.path, 'hf');
    await exportModel({ config: source.config, weights: source.weights, outDir, format: 'hf' });
    const config = JSON.parse(await readFile(join(outDir, 'config.json'), 'utf8'));
    expect(config.torch_dtype).toBe('bfloat16'); // the source's dtype is kept by default
    const original = await readFile(join(source.modelDir, 'model.safetensors'));
    expect((await readFile(join(outDir, 'model.safetensors'))).equals(original)).toBe(true);
    const again = await loadModel({ modelDir: outDir });
    expect(again.config.architecture).toBe('qwen2');
  });
});
