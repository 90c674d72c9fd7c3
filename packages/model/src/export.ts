/**
 * Writes a model out as (a) a Hugging Face folder (safetensors + config.json, loadable by
 * PyTorch transformers) or (b) a transformers.js folder (`onnx/model.onnx` with the
 * decoder-with-past layout, its weights in `onnx/model.onnx_data` past 2 GiB, `config.json`
 * with `transformers.js_config`). LoRA adapters
 * are merged first.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { MAX_INLINE_MODEL_BYTES, createExternalDataFile, saveModel as saveOnnxModel, type Graph } from '@masa-rl/onnx';
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
  /**
   * transformers.js: keep the weights in `onnx/model.onnx_data` (ONNX external data; `config.json` then sets
   * `transformers.js_config.use_external_data_format`, so transformers.js loads it). Needed past protobuf's 2 GiB.
   * @default true when the float32 weights exceed 1.9 GiB, else false
   */
  externalData?: boolean;
}

/** What {@link exportModel} wrote. */
export interface ExportResult {
  outDir: string;
  /** Files written, relative to `outDir`. */
  files: string[];
}

const FROM_TORCH_DTYPE: Readonly<Record<string, FloatDtype>> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64' };

/** transformers.js' name for the external data of `model.onnx` (`<model file>_data`). */
const EXTERNAL_DATA_FILE = 'model.onnx_data';

/**
 * Writes `model.onnx` and its external data into a staging folder next to them, then moves each into place (data
 * first), so an interrupted export never leaves a half-written file under the final names.
 */
async function writeExternalDataModel(graph: Graph, onnxDir: string, docString: string): Promise<void> {
  const staging = join(onnxDir, `.export-${process.pid}-${Date.now()}`);
  await mkdir(staging, { recursive: true });
  try {
    const data = createExternalDataFile({ path: join(staging, EXTERNAL_DATA_FILE) });
    try {
      await saveOnnxModel({ model: graph, path: join(staging, 'model.onnx'), externalData: data, docString });
    } finally {
      data.close();
    }
    await rename(join(staging, EXTERNAL_DATA_FILE), join(onnxDir, EXTERNAL_DATA_FILE));
    await rename(join(staging, 'model.onnx'), join(onnxDir, 'model.onnx'));
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) throw error;
    throw new MasaError('FILE_WRITE_FAILED', `could not write the transformers.js export into ${onnxDir}: check that the folder is writable and has room for the weights`, {
      cause: error,
      details: { path: onnxDir },
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Exports a model. `hf` writes config.json + model.safetensors with Hugging Face names;
 * `transformers.js` writes config.json (+ `transformers.js_config: { dtype: 'fp32' }`),
 * generation_config.json and onnx/model.onnx (inputs `input_ids`, `attention_mask`,
 * `position_ids`, `past_key_values.{i}.key|value`; outputs `logits`, `present.{i}.key|value`).
 *
 * Past 1.9 GiB of float32 weights (or with `externalData: true`) the weights go to `onnx/model.onnx_data`.
 *
 * @throws MasaError `ARGUMENT_INVALID` for `externalData: false` on a model over ~1.9 GiB; `FILE_WRITE_FAILED`.
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
    const external = options.externalData ?? bytes > MAX_INLINE_MODEL_BYTES;
    if (!external && bytes > MAX_INLINE_MODEL_BYTES) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `the model has ${(bytes / 2 ** 30).toFixed(2)} GiB of float32 weights; protobuf limits a model with weights inside to 2 GiB: leave externalData unset (or true) to write onnx/model.onnx_data`,
      );
    }
    const float32 = new Map<string, Float32Array>();
    for (const spec of listParameters(config)) {
      const data = weights.get(spec.name);
      if (data === undefined) throw new MasaError('ARGUMENT_INVALID', `export: weights have no "${spec.name}"`);
      float32.set(spec.name, data instanceof Float32Array ? data : Float32Array.from(data));
    }
    const built = buildCausalLmGraph({ config, dtype: 'float32', weights: float32, withPast: true, logits: 'all', name: 'main_graph' });
    const onnxDir = join(outDir, 'onnx');
    await mkdir(onnxDir, { recursive: true });
    const docString = `${config.architecture} decoder exported by masa-rl`;
    if (external) await writeExternalDataModel(built.graph, onnxDir, docString);
    else {
      await saveOnnxModel({ model: built.graph, path: join(onnxDir, 'model.onnx'), docString });
      await rm(join(onnxDir, EXTERNAL_DATA_FILE), { force: true }); // an earlier export's, no longer referenced
    }
    const json = { ...config.raw, torch_dtype: 'float32', 'transformers.js_config': { dtype: 'fp32', ...(external ? { use_external_data_format: true } : {}) } };
    await writeTextFileAtomic(join(outDir, 'config.json'), `${JSON.stringify(json, null, 2)}\n`);
    files.push('config.json', 'onnx/model.onnx', ...(external ? [`onnx/${EXTERNAL_DATA_FILE}`] : []));
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
