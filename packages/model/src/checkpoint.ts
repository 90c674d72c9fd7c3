import { open, readFile, readdir, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { copyFileAtomic, writeTextFileAtomic } from './atomic-file.js';
import { readModelConfig } from './config.js';
import type { ModelConfig } from './config.js';
import { listParameters } from './parameters.js';
import { fileExists, readHeaderFromHandle, readTensorInto, tensorDataBytes, writeSafetensors } from './safetensors.js';
import type { FloatArray, FloatDtype, SafetensorsEntry, TensorToWrite } from './safetensors.js';

/** Hugging Face's file names for single-file and sharded checkpoints. */
export const SAFETENSORS_FILE = 'model.safetensors';
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';

/** An open (single-file or sharded) safetensors checkpoint. Close it with `close()` or `await using`. */
export interface Checkpoint extends AsyncDisposable {
  /** Every tensor, by name. */
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  /** `__metadata__` of the first file. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The `.safetensors` files, in order. */
  readonly files: readonly string[];
  /** Reads one tensor straight into `target` (see {@link readTensorInto}). */
  readInto(name: string, target: FloatArray): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the safetensors weights of a Hugging Face folder: `model.safetensors`, or the
 * shards listed in `model.safetensors.index.json`. Reads headers only.
 *
 * @throws MasaError `MODEL_LOAD_FAILED` naming the missing or malformed file.
 */
export async function openCheckpoint(modelDir: string): Promise<Checkpoint> {
  const indexPath = join(modelDir, SAFETENSORS_INDEX_FILE);
  const singlePath = join(modelDir, SAFETENSORS_FILE);
  let files: string[];
  let weightMap: Record<string, string> | null = null;
  if (await fileExists(singlePath)) files = [singlePath];
  else if (await fileExists(indexPath)) {
    let index: unknown;
    try {
      index = JSON.parse(await readFile(indexPath, 'utf8'));
    } catch (error) {
      throw new MasaError('MODEL_LOAD_FAILED', `${indexPath} is not valid JSON: ${(error as Error).message}`, { cause: error, details: { file: indexPath } });
    }
    const map = (index as { weight_map?: unknown } | null)?.weight_map;
    if (typeof map !== 'object' || map === null || Object.values(map).some((v) => typeof v !== 'string' || v.includes('/') || v.includes('\\'))) {
      throw new MasaError('MODEL_LOAD_FAILED', `${indexPath}: "weight_map" must map tensor names to shard file names in the same folder`, {
        details: { file: indexPath, key: 'weight_map' },
      });
    }
    weightMap = map as Record<string, string>;
    files = [...new Set(Object.values(weightMap))].sort().map((name) => join(modelDir, name));
  } else {
    const present = await readdir(modelDir).catch(() => null);
    throw new MasaError(
      'MODEL_LOAD_FAILED',
      present === null
        ? `model folder ${modelDir} does not exist: pass a Hugging Face model folder`
        : `${modelDir} has neither ${SAFETENSORS_FILE} nor ${SAFETENSORS_INDEX_FILE}: masa-rl loads safetensors weights (convert .bin/.pt checkpoints with transformers' save_pretrained(safe_serialization=True))`,
      { details: { file: singlePath } },
    );
  }
  const handles = new Map<string, FileHandle>();
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  const close = async (): Promise<void> => {
    for (const handle of handles.values()) await handle.close().catch(() => undefined);
    handles.clear();
  };
  try {
    for (const [i, file] of files.entries()) {
      let handle: FileHandle;
      try {
        handle = await open(file, 'r');
      } catch (error) {
        throw new MasaError('MODEL_LOAD_FAILED', `cannot open ${file}${weightMap ? ` (listed in ${indexPath})` : ''}: ${(error as Error).message}`, {
          cause: error,
          details: { file },
        });
      }
      handles.set(file, handle);
      const header = await readHeaderFromHandle(handle, file);
      if (i === 0) metadata = header.metadata;
      for (const entry of header.entries) {
        if (entries.has(entry.name)) {
          throw new MasaError('MODEL_LOAD_FAILED', `tensor "${entry.name}" appears in both ${entries.get(entry.name)?.file} and ${file}`, {
            details: { file, tensor: entry.name },
          });
        }
        entries.set(entry.name, entry);
      }
    }
    if (weightMap !== null) {
      for (const [name, shard] of Object.entries(weightMap)) {
        const entry = entries.get(name);
        if (entry === undefined || entry.file !== join(modelDir, shard)) {
          throw new MasaError('MODEL_LOAD_FAILED', `${indexPath} puts "${name}" in ${shard}, but that shard does not contain it`, {
            details: { file: indexPath, tensor: name },
          });
        }
      }
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    entries,
    metadata,
    files,
    async readInto(name, target) {
      const entry = entries.get(name);
      if (entry === undefined) {
        throw new MasaError('MODEL_LOAD_FAILED', `tensor "${name}" is not in the checkpoint at ${modelDir}`, { details: { tensor: name } });
      }
      const handle = handles.get(entry.file);
      if (handle === undefined) throw new MasaError('INTERNAL', `checkpoint at ${modelDir} is closed`);
      await readTensorInto({ entry, target, handle });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** In-memory model weights by Hugging Face name. */
export type WeightMap = Map<string, FloatArray>;

/** The element type of in-memory weights. */
export type WeightDtype = 'float32' | 'float64';

/** A model read from a folder. */
export interface LoadedModel {
  modelDir: string;
  config: ModelConfig;
  weights: WeightMap;
  dtype: WeightDtype;
  /** Recoverable oddities (ignored extra tensors …). */
  warnings: string[];
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** A Hugging Face model folder (config.json + safetensors). */
  modelDir: string;
  /** In-memory element type. @default 'float32' */
  dtype?: WeightDtype;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Loads config and weights, streaming each tensor from disk into its own typed array
 * (exactly one copy of the weights is ever held).
 *
 * @throws MasaError `MODEL_LOAD_FAILED` naming the file and tensor on a missing tensor or wrong shape.
 */
export async function loadModel(options: LoadModelOptions): Promise<LoadedModel> {
  const { modelDir, dtype = 'float32' } = options;
  const config = await readModelConfig(modelDir);
  const warnings: string[] = [];
  const weights: WeightMap = new Map();
  await using checkpoint = await openCheckpoint(modelDir);
  const specs = listParameters(config);
  const used = new Set<string>();
  for (const spec of specs) {
    let sourceName = spec.name;
    if (!checkpoint.entries.has(sourceName) && spec.name === 'model.embed_tokens.weight' && config.tieWordEmbeddings && checkpoint.entries.has('lm_head.weight')) {
      sourceName = 'lm_head.weight'; // tied checkpoints sometimes keep only the head
    }
    const entry = checkpoint.entries.get(sourceName);
    if (entry === undefined) {
      throw new MasaError(
        'MODEL_LOAD_FAILED',
        `tensor "${spec.name}" (shape ${JSON.stringify(spec.shape)}) is missing from the weights in ${modelDir}; check that config.json matches the checkpoint`,
        { details: { file: checkpoint.files[0], tensor: spec.name } },
      );
    }
    if (!sameShape(entry.shape, spec.shape)) {
      throw new MasaError(
        'MODEL_LOAD_FAILED',
        `tensor "${sourceName}" in ${entry.file} has shape ${JSON.stringify(entry.shape)} but config.json implies ${JSON.stringify(spec.shape)}`,
        { details: { file: entry.file, tensor: sourceName } },
      );
    }
    const numel = spec.shape.reduce((a, b) => a * b, 1);
    const target = dtype === 'float64' ? new Float64Array(numel) : new Float32Array(numel);
    await checkpoint.readInto(sourceName, target);
    weights.set(spec.name, target);
    used.add(sourceName);
  }
  for (const name of checkpoint.entries.keys()) {
    if (used.has(name)) continue;
    if (name === 'lm_head.weight' && config.tieWordEmbeddings) continue; // transformers ties it to the embedding
    warnings.push(`ignored tensor "${name}" in ${checkpoint.entries.get(name)?.file}: not a ${config.architecture} parameter`);
  }
  return { modelDir, config, weights, dtype, warnings };
}

/** Files besides config and weights that belong to a model folder (copied on save when present). */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
  'vocab.json',
  'merges.txt',
  'chat_template.jinja',
] as const;

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** Destination folder (must exist). */
  modelDir: string;
  /** The config to write: its `raw` JSON is written back with `torch_dtype` set to the file dtype. */
  config: ModelConfig;
  weights: ReadonlyMap<string, FloatArray>;
  /** Element type in the files. @default 'F32' */
  dtype?: FloatDtype;
  /** Split into `model-0000i-of-0000n.safetensors` shards of at most this many data bytes. @default no sharding */
  maxShardBytes?: number;
  /** Copy tokenizer / generation files from this folder when they exist there. @default none */
  copyFilesFrom?: string;
}

const TORCH_DTYPE: Readonly<Record<FloatDtype, string>> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' };

/**
 * Writes a Hugging Face model folder: `config.json`, and `model.safetensors` (or shards
 * plus `model.safetensors.index.json`) with Hugging Face parameter names. Every file is
 * written atomically; a stale file of the other layout is removed so loaders cannot pick it.
 *
 * @throws MasaError `ARGUMENT_INVALID` when a parameter is missing from `weights`.
 */
export async function saveModel(options: SaveModelOptions): Promise<void> {
  const { modelDir, config, weights, dtype = 'F32', maxShardBytes, copyFilesFrom } = options;
  const tensors: TensorToWrite[] = listParameters(config).map((spec) => {
    const data = weights.get(spec.name);
    if (data === undefined) {
      throw new MasaError('ARGUMENT_INVALID', `saveModel: weights have no "${spec.name}"`, { details: { tensor: spec.name } });
    }
    return { name: spec.name, shape: spec.shape, data, dtype };
  });
  const shards: TensorToWrite[][] = [];
  if (maxShardBytes === undefined) shards.push(tensors);
  else {
    let current: TensorToWrite[] = [];
    let bytes = 0;
    for (const tensor of tensors) {
      const size = tensorDataBytes([tensor]);
      if (current.length > 0 && bytes + size > maxShardBytes) {
        shards.push(current);
        current = [];
        bytes = 0;
      }
      current.push(tensor);
      bytes += size;
    }
    if (current.length > 0) shards.push(current);
  }
  const json = { ...config.raw, torch_dtype: TORCH_DTYPE[dtype] };
  await writeTextFileAtomic(join(modelDir, 'config.json'), `${JSON.stringify(json, null, 2)}\n`);
  const existing = await readdir(modelDir);
  const shardPattern = /^model-\d{5}-of-\d{5}\.safetensors$/;
  if (shards.length === 1) {
    await writeSafetensors({ file: join(modelDir, SAFETENSORS_FILE), tensors: shards[0] as TensorToWrite[], metadata: { format: 'pt' } });
    for (const name of existing) {
      if (name === SAFETENSORS_INDEX_FILE || shardPattern.test(name)) await unlink(join(modelDir, name));
    }
  } else {
    const total = String(shards.length).padStart(5, '0');
    const weightMap: Record<string, string> = {};
    const written = new Set<string>();
    for (const [i, shard] of shards.entries()) {
      const name = `model-${String(i + 1).padStart(5, '0')}-of-${total}.safetensors`;
      await writeSafetensors({ file: join(modelDir, name), tensors: shard, metadata: { format: 'pt' } });
      for (const tensor of shard) weightMap[tensor.name] = name;
      written.add(name);
    }
    const index = { metadata: { total_size: tensorDataBytes(tensors) }, weight_map: weightMap };
    await writeTextFileAtomic(join(modelDir, SAFETENSORS_INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
    for (const name of existing) {
      if (name === SAFETENSORS_FILE || (shardPattern.test(name) && !written.has(name))) await unlink(join(modelDir, name));
    }
  }
  if (copyFilesFrom !== undefined && copyFilesFrom !== modelDir) {
    for (const name of TOKENIZER_FILES) {
      const source = join(copyFilesFrom, name);
      if (await fileExists(source)) await copyFileAtomic(source, join(modelDir, name));
    }
  }
}
