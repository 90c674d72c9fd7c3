/**
 * LoRA adapters in PEFT's format: `adapter_config.json` + `adapter_model.safetensors`
 * with keys `base_model.model.<module>.lora_A.weight` `[r, in]` and `lora_B.weight`
 * `[out, r]`; the layer computes `W x + (alpha / r) · B (A x)`.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MasaError, createRng } from '@masa-rl/core';
import { writeTextFileAtomic } from './atomic-file.js';
import type { ModelConfig } from './config.js';
import { checkLoraConfig, listLoraParameters, loraParameterNames, loraScaling } from './decoder-graph.js';
import type { LoraConfig } from './decoder-graph.js';
import { PROJECTION_MODULES, projectionPrefix, projectionShape } from './parameters.js';
import type { ProjectionModule } from './parameters.js';
import { readSafetensorsHeader, readTensorInto, writeSafetensors } from './safetensors.js';
import type { FloatArray, FloatDtype } from './safetensors.js';

/** File names PEFT uses. */
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/** Options of {@link createLoraWeights}. */
export interface CreateLoraWeightsOptions {
  config: ModelConfig;
  lora: LoraConfig;
  seed: number | string;
  /** @default 'float32' */
  dtype?: 'float32' | 'float64';
  /**
   * `zeros` (PEFT's default: the adapter starts as a no-op) or `random` (N(0, 0.02²), for
   * tests that need a non-trivial adapter).
   * @default 'zeros'
   */
  initB?: 'zeros' | 'random';
}

/**
 * Fresh adapters as PEFT initialises them: A ~ U(-1/√in, 1/√in) (kaiming-uniform with
 * a = √5), B = 0. Each tensor draws from `createRng(seed).fork(name)`.
 */
export function createLoraWeights(options: CreateLoraWeightsOptions): Map<string, FloatArray> {
  const { config, lora, seed, dtype = 'float32', initB = 'zeros' } = options;
  const root = createRng(seed);
  const out = new Map<string, FloatArray>();
  for (const spec of listLoraParameters(config, lora)) {
    const [rows, columns] = spec.shape;
    const data = dtype === 'float64' ? new Float64Array(rows * columns) : new Float32Array(rows * columns);
    const rng = root.fork(spec.name);
    if (spec.name.endsWith('lora_A.weight')) {
      const bound = 1 / Math.sqrt(columns);
      for (let i = 0; i < data.length; i++) data[i] = (2 * rng.next() - 1) * bound;
    } else if (initB === 'random') {
      for (let i = 0; i < data.length; i++) data[i] = 0.02 * rng.normal();
    }
    out.set(spec.name, data);
  }
  return out;
}

/** Options of {@link mergeLora}. */
export interface MergeLoraOptions {
  config: ModelConfig;
  weights: ReadonlyMap<string, FloatArray>;
  lora: LoraConfig;
  adapters: ReadonlyMap<string, FloatArray>;
}

/**
 * `W + (alpha / r) · B A` for every adapted projection (computed in float64, then stored
 * in W's precision). Returns a new map: merged tensors are new arrays, all others are
 * the original arrays (not copied).
 */
export function mergeLora(options: MergeLoraOptions): Map<string, FloatArray> {
  const { config, weights, lora, adapters } = options;
  checkLoraConfig(lora);
  const scaling = loraScaling(lora);
  const merged = new Map(weights);
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const module of lora.targetModules) {
      const [outDim, inDim] = projectionShape(config, module);
      const names = loraParameterNames(layer, module);
      const a = adapters.get(names.a);
      const b = adapters.get(names.b);
      const name = `${projectionPrefix(layer, module)}.weight`;
      const base = weights.get(name);
      if (a === undefined || b === undefined || base === undefined) {
        throw new MasaError('ARGUMENT_INVALID', `mergeLora: missing ${a === undefined ? names.a : b === undefined ? names.b : name}`);
      }
      const out = base instanceof Float64Array ? new Float64Array(base.length) : new Float32Array(base.length);
      const r = lora.rank;
      for (let o = 0; o < outDim; o++) {
        for (let i = 0; i < inDim; i++) {
          let sum = 0;
          for (let k = 0; k < r; k++) sum += (b[o * r + k] as number) * (a[k * inDim + i] as number);
          out[o * inDim + i] = (base[o * inDim + i] as number) + scaling * sum;
        }
      }
      merged.set(name, out);
    }
  }
  return merged;
}

/** Options of {@link saveLoraAdapter}. */
export interface SaveLoraAdapterOptions {
  /** Destination folder (created when missing). */
  adapterDir: string;
  config: ModelConfig;
  lora: LoraConfig;
  adapters: ReadonlyMap<string, FloatArray>;
  /** `base_model_name_or_path` written to adapter_config.json. @default null */
  baseModelNameOrPath?: string | null;
  /** @default 'F32' */
  dtype?: FloatDtype;
}

/** Writes `adapter_config.json` and `adapter_model.safetensors` as PEFT does (atomically). */
export async function saveLoraAdapter(options: SaveLoraAdapterOptions): Promise<void> {
  const { adapterDir, config, lora, adapters, baseModelNameOrPath = null, dtype = 'F32' } = options;
  await mkdir(adapterDir, { recursive: true });
  const tensors = listLoraParameters(config, lora).map((spec) => {
    const data = adapters.get(spec.name);
    if (data === undefined) throw new MasaError('ARGUMENT_INVALID', `saveLoraAdapter: adapters have no "${spec.name}"`);
    return { name: spec.name, shape: spec.shape, data, dtype };
  });
  await writeSafetensors({ file: join(adapterDir, ADAPTER_WEIGHTS_FILE), tensors, metadata: { format: 'pt' } });
  const json = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModelNameOrPath,
    r: lora.rank,
    lora_alpha: lora.alpha,
    target_modules: [...lora.targetModules],
    lora_dropout: 0,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: lora.useRslora === true,
    use_dora: false,
    modules_to_save: null,
    layers_to_transform: null,
    init_lora_weights: true,
    inference_mode: true,
  };
  await writeTextFileAtomic(join(adapterDir, ADAPTER_CONFIG_FILE), `${JSON.stringify(json, null, 2)}\n`);
}

/** Parses PEFT's adapter_config.json into a {@link LoraConfig}, rejecting what masa-rl does not implement. */
export function parseAdapterConfig(json: unknown, file = ADAPTER_CONFIG_FILE): LoraConfig {
  const fail = (key: string, problem: string): never => {
    throw new MasaError('MODEL_LOAD_FAILED', `${file}: ${key} ${problem}`, { details: { file, key } });
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('top level', 'must be a JSON object');
  const record = json as Record<string, unknown>;
  if (record['peft_type'] !== undefined && record['peft_type'] !== 'LORA') fail('"peft_type"', `is ${JSON.stringify(record['peft_type'])}; only "LORA" is supported`);
  const rank = record['r'];
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank <= 0) fail('"r"', `must be a positive integer, got ${JSON.stringify(rank)}`);
  const alpha = record['lora_alpha'] ?? 8;
  if (typeof alpha !== 'number') fail('"lora_alpha"', `must be a number, got ${JSON.stringify(alpha)}`);
  const targets = record['target_modules'];
  if (!Array.isArray(targets) || targets.length === 0) {
    fail('"target_modules"', `must be a non-empty list of module names (${PROJECTION_MODULES.join(', ')}); regular expressions are not supported`);
  }
  for (const target of targets as unknown[]) {
    if (!PROJECTION_MODULES.includes(target as ProjectionModule)) fail('"target_modules"', `lists ${JSON.stringify(target)}, not one of ${PROJECTION_MODULES.join(', ')}`);
  }
  const unsupported: Array<[string, (value: unknown) => boolean]> = [
    ['use_dora', (v) => v === true],
    ['fan_in_fan_out', (v) => v === true],
    ['bias', (v) => v !== undefined && v !== 'none'],
    ['modules_to_save', (v) => Array.isArray(v) && v.length > 0],
    ['layers_to_transform', (v) => v !== undefined && v !== null],
    ['rank_pattern', (v) => typeof v === 'object' && v !== null && Object.keys(v).length > 0],
    ['alpha_pattern', (v) => typeof v === 'object' && v !== null && Object.keys(v).length > 0],
  ];
  for (const [key, bad] of unsupported) if (bad(record[key])) fail(`"${key}"`, `is ${JSON.stringify(record[key])}, which masa-rl does not implement`);
  return { rank: rank as number, alpha: alpha as number, targetModules: targets as ProjectionModule[], useRslora: record['use_rslora'] === true };
}

/** Options of {@link loadLoraAdapter}. */
export interface LoadLoraAdapterOptions {
  adapterDir: string;
  /** The base model's config (shapes come from it). */
  config: ModelConfig;
  /** @default 'float32' */
  dtype?: 'float32' | 'float64';
}

/** Reads a PEFT adapter folder (streamed into fresh arrays). */
export async function loadLoraAdapter(options: LoadLoraAdapterOptions): Promise<{ lora: LoraConfig; adapters: Map<string, FloatArray> }> {
  const { adapterDir, config, dtype = 'float32' } = options;
  const configFile = join(adapterDir, ADAPTER_CONFIG_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(configFile, 'utf8'));
  } catch (error) {
    throw new MasaError('MODEL_LOAD_FAILED', `cannot read ${configFile}: ${(error as Error).message} (pass a PEFT adapter folder)`, { cause: error, details: { file: configFile } });
  }
  const lora = parseAdapterConfig(json, configFile);
  const header = await readSafetensorsHeader(join(adapterDir, ADAPTER_WEIGHTS_FILE));
  const entries = new Map(header.entries.map((entry) => [entry.name.replace('.lora_A.default.weight', '.lora_A.weight').replace('.lora_B.default.weight', '.lora_B.weight'), entry]));
  const adapters = new Map<string, FloatArray>();
  for (const spec of listLoraParameters(config, lora)) {
    const entry = entries.get(spec.name);
    if (entry === undefined) {
      throw new MasaError('MODEL_LOAD_FAILED', `${header.file} has no "${spec.name}" (adapter_config.json targets ${lora.targetModules.join(', ')})`, {
        details: { file: header.file, tensor: spec.name },
      });
    }
    if (entry.shape.length !== 2 || entry.shape[0] !== spec.shape[0] || entry.shape[1] !== spec.shape[1]) {
      throw new MasaError('MODEL_LOAD_FAILED', `${header.file}: "${spec.name}" has shape ${JSON.stringify(entry.shape)}, the base model needs ${JSON.stringify(spec.shape)}`, {
        details: { file: header.file, tensor: spec.name },
      });
    }
    const data = dtype === 'float64' ? new Float64Array(spec.shape[0] * spec.shape[1]) : new Float32Array(spec.shape[0] * spec.shape[1]);
    await readTensorInto({ entry, target: data });
    adapters.set(spec.name, data);
  }
  return { lora, adapters };
}
