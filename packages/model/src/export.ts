/**
 * Writes a model out as (a) a Hugging Face folder (safetensors + config.json, loadable by
 * PyTorch transformers) or (b) a transformers.js folder (`onnx/model.onnx` with the
 * decoder-with-past layout, `config.json` with `transformers.js_config`). LoRA adapters
 * are merged first.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { saveModel as saveOnnxModel, serializeGraph } from '@masa-rl/onnx';
import { copyFileAtomic, writeTextFileAtomic } from './atomic-file.js';
import { TOKENIZER_FILES, saveModel } from './checkpoint.js';
import type { ModelConfig } from './config.js';
import type { LoraConfig } from './decoder-graph.js';
import { mergeLora } from './lora.js';
import { buildCausalLmGraph } from './model-graphs.js';
import { listParameters } from './parameters.js';
import { fileExists } from './safetensors.js';
import type { FloatArray, FloatDtype } from './safetensors.js';

/** Export targets. */
export type ExportFormat = 'hf' | 'transformers.js';

/** Options of {@link exportModel}. */
export interface ExportModelOptions {
  config: ModelConfig;
  weights: ReadonlyMap<string, FloatArray>;
  /** Adapters to merge into the base weights before writing. @default none */
  lora?: { config: LoraConfig; adapters: ReadonlyMap<string, FloatArray> };
  /** Destination folder (created when missing). */
  outDir: string;
  format: ExportFormat;
  /**
   * Element type of the safetensors (`hf`). The transformers.js export is always float32.
   * @default the config's torch_dtype (float32/float16/bfloat16), else 'F32'
   */
  dtype?: FloatDtype;
  /** Copy tokenizer and generation files from this folder. @default none */
  copyFilesFrom?: string;
}

/** What {@link exportModel} wrote. */
export interface ExportResult {
  outDir: string;
  /** Files written, relative to `outDir`. */
  files: string[];
}

const FROM_TORCH_DTYPE: Readonly<Record<string, FloatDtype>> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64' };

/** The largest ONNX model protobuf can hold with weights inside (2 GiB, minus headroom). */
const MAX_INLINE_WEIGHT_BYTES = 1.9 * 2 ** 30;

/**
 * Exports a model. `hf` writes config.json + model.safetensors with Hugging Face names;
 * `transformers.js` writes config.json (+ `transformers.js_config: { dtype: 'fp32' }`),
 * generation_config.json and onnx/model.onnx (inputs `input_ids`, `attention_mask`,
 * `position_ids`, `past_key_values.{i}.key|value`; outputs `logits`, `present.{i}.key|value`).
 *
 * @throws MasaError `ARGUMENT_INVALID` for a transformers.js export of a model over ~1.9 GiB
 *   (ONNX external data is not written yet).
 */
export async function exportModel(options: ExportModelOptions): Promise<ExportResult> {
  const { config, outDir, format, copyFilesFrom } = options;
  const weights = options.lora === undefined ? options.weights : mergeLora({ config, weights: options.weights, lora: options.lora.config, adapters: options.lora.adapters });
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  if (format === 'hf') {
    const dtype = options.dtype ?? FROM_TORCH_DTYPE[config.torchDtype ?? 'float32'] ?? 'F32';
    await saveModel({ modelDir: outDir, config, weights, dtype, ...(copyFilesFrom !== undefined ? { copyFilesFrom } : {}) });
    files.push('config.json', 'model.safetensors');
  } else if (format === 'transformers.js') {
    const bytes = listParameters(config).reduce((sum, spec) => sum + 4 * spec.shape.reduce((a, b) => a * b, 1), 0);
    if (bytes > MAX_INLINE_WEIGHT_BYTES) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `the model has ${(bytes / 2 ** 30).toFixed(2)} GiB of float32 weights; a transformers.js export keeps weights inside model.onnx, which protobuf limits to 2 GiB (export --to hf instead)`,
      );
    }
    const float32 = new Map<string, Float32Array>();
    for (const spec of listParameters(config)) {
      const data = weights.get(spec.name);
      if (data === undefined) throw new MasaError('ARGUMENT_INVALID', `export: weights have no "${spec.name}"`);
      float32.set(spec.name, data instanceof Float32Array ? data : Float32Array.from(data));
    }
    const built = buildCausalLmGraph({ config, dtype: 'float32', weights: float32, withPast: true, logits: 'all', name: 'main_graph' });
    await mkdir(join(outDir, 'onnx'), { recursive: true });
    await saveOnnxModel({ model: serializeGraph(built.graph, { docString: `${config.architecture} decoder exported by masa-rl` }), path: join(outDir, 'onnx', 'model.onnx') });
    const json = { ...config.raw, torch_dtype: 'float32', 'transformers.js_config': { dtype: 'fp32' } };
    await writeTextFileAtomic(join(outDir, 'config.json'), `${JSON.stringify(json, null, 2)}\n`);
    files.push('config.json', 'onnx/model.onnx');
    if (copyFilesFrom !== undefined) {
      for (const name of TOKENIZER_FILES) {
        const source = join(copyFilesFrom, name);
        if (await fileExists(source)) {
          await copyFileAtomic(source, join(outDir, name));
          files.push(name);
        }
      }
    }
    if (!files.includes('generation_config.json')) {
      const generation = {
        ...(config.bosTokenId !== null ? { bos_token_id: config.bosTokenId } : {}),
        ...(config.eosTokenIds.length > 0 ? { eos_token_id: config.eosTokenIds.length === 1 ? config.eosTokenIds[0] : config.eosTokenIds } : {}),
        ...(config.padTokenId !== null ? { pad_token_id: config.padTokenId } : {}),
      };
      await writeTextFileAtomic(join(outDir, 'generation_config.json'), `${JSON.stringify(generation, null, 2)}\n`);
      files.push('generation_config.json');
    }
    return { outDir, files };
  } else {
    throw new MasaError('ARGUMENT_INVALID', `unknown export format "${String(format)}": use "hf" or "transformers.js"`);
  }
  if (copyFilesFrom !== undefined) {
    for (const name of TOKENIZER_FILES) if (await fileExists(join(copyFilesFrom, name))) files.push(name);
  }
  return { outDir, files };
}
