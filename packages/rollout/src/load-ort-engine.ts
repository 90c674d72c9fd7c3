/**
 * An ORT engine from a Hugging Face model folder (config.json, safetensors,
 * optional tokenizer files and generation_config.json), in this process or in
 * a child process (what `masa serve --model` runs, so the server stays
 * responsive while ORT computes).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError } from '@masa-rl/core';
import { loadModel, loadTokenizer } from '@masa-rl/model';
import { MAX_INLINE_MODEL_BYTES } from '@masa-rl/onnx';
import { createChildProcessEngine, type ChildProcessEngine, type ChildProcessEngineOptions } from './child-process-engine.js';
import { createOrtEngine, type OrtEngine, type OrtEngineOptions } from './ort-engine.js';

/** Options of {@link loadOrtEngine}: a folder plus the engine's own options (plain data, so they cross to a child). */
export interface LoadOrtEngineOptions extends Omit<OrtEngineOptions, 'config' | 'weights' | 'tokenizer' | 'eosTokenIds' | 'weightMode' | 'weightsVersion'> {
  /**
   * As {@link OrtEngineOptions.weightMode}, plus `auto`: frozen initializers (faster per step: ORT pre-packs them)
   * when the float32 weights fit ONNX's 2 GiB limit or the machine has memory for a second copy (2.5 × the weights
   * within 60% of RAM), else inputs. Nothing outside the engine sees these weights, so freezing is safe.
   * @default 'auto'
   */
  weightMode?: 'inputs' | 'initializers' | 'auto';
  /** The model folder (relative paths resolve against the working directory). */
  modelPath: string;
  /** Load tokenizer.json / tokenizer_config.json from the folder when they are there. @default true */
  loadTokenizer?: boolean;
  /** Ids that end every sample. @default config.json eos_token_id plus generation_config.json eos_token_id */
  eosTokenIds?: number[];
}

/** EOS ids from generation_config.json (instruct models list their end-of-turn token there). */
async function generationEosIds(folder: string): Promise<number[]> {
  const file = join(folder, 'generation_config.json');
  if (!existsSync(file)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error: unknown) {
    throw new MasaError('MODEL_LOAD_FAILED', `${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const eos = (parsed as { eos_token_id?: unknown }).eos_token_id;
  const ids = Array.isArray(eos) ? eos : eos === undefined || eos === null ? [] : [eos];
  if (!ids.every((id) => Number.isInteger(id) && (id as number) >= 0)) {
    throw new MasaError('MODEL_LOAD_FAILED', `${file}: eos_token_id must be a token id or a list of them, got ${JSON.stringify(eos)}`);
  }
  return ids as number[];
}

/** `auto`'s choice: freeze the weights when they fit inline or a second copy fits comfortably in memory. */
export function autoWeightMode(weightBytes: number, memoryBytes: number): 'inputs' | 'initializers' {
  return weightBytes <= MAX_INLINE_MODEL_BYTES || 2.5 * weightBytes <= 0.6 * memoryBytes ? 'initializers' : 'inputs';
}

/** Loads a model folder (float32) and creates an {@link OrtEngine} over it, in this process. */
export async function loadOrtEngine(options: LoadOrtEngineOptions): Promise<OrtEngine> {
  const { modelPath, loadTokenizer: withTokenizer = true, eosTokenIds, weightMode = 'auto', ...engineOptions } = options;
  const folder = resolve(modelPath);
  if (!existsSync(join(folder, 'config.json'))) {
    throw new MasaError('MODEL_LOAD_FAILED', `${folder} has no config.json; pass a Hugging Face model folder (--model)`, { details: { file: folder } });
  }
  const { config, weights } = await loadModel({ modelDir: folder, dtype: 'float32' });
  const tokenizer = withTokenizer && existsSync(join(folder, 'tokenizer.json')) ? await loadTokenizer({ model: folder }) : undefined;
  const eos = eosTokenIds ?? [...new Set([...config.eosTokenIds, ...(await generationEosIds(folder))])];
  let weightBytes = 0;
  for (const data of weights.values()) weightBytes += data.byteLength;
  return createOrtEngine({
    ...engineOptions,
    weightMode: weightMode === 'auto' ? autoWeightMode(weightBytes, totalmem()) : weightMode,
    config,
    weights: weights as ReadonlyMap<string, Float32Array>,
    eosTokenIds: eos,
    ...(tokenizer === undefined ? {} : { tokenizer }),
  });
}

/** Options of {@link createOrtChildEngine}. */
export interface OrtChildEngineOptions extends LoadOrtEngineOptions {
  /** Child-process settings (Node flags, environment, deadlines). @default {} */
  process?: Omit<ChildProcessEngineOptions, 'modulePath' | 'exportName' | 'options'>;
  /** Test seams: the factory module (tests running from source point at the built one). */
  _internal?: { modulePath?: string };
}

/** {@link loadOrtEngine} in a child process: ORT's blocking runs leave this process's event loop free. */
export function createOrtChildEngine(options: OrtChildEngineOptions): ChildProcessEngine {
  const { process: processOptions = {}, _internal = {}, ...engineOptions } = options;
  return createChildProcessEngine({
    ...processOptions,
    modulePath: _internal.modulePath ?? fileURLToPath(new URL('./ort-child.js', import.meta.url)),
    exportName: 'createEngine',
    options: { ...engineOptions, modelPath: resolve(engineOptions.modelPath) },
  });
}
