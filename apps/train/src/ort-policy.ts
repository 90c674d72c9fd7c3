/**
 * The `ort` backend of the training app: one model folder loaded once, the
 * ONNX Runtime policy backend training it, and the ONNX Runtime rollout
 * engine sampling from the very same weight arrays (the backend updates them
 * in place, so every optimiser step is seen by the next rollout without a
 * copy). Runs inside the worker process only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError, type RolloutEngine } from '@masa-rl/core';
import { loadTokenizer } from '@masa-rl/model';
import { createOrtEngine } from '@masa-rl/rollout';
import { createOrtPolicyBackend, type PolicyBackend, type RequestDefaults, type TrainerConfig } from '@masa-rl/trainer';

/** Options of {@link createOrtPolicy}. */
export interface CreateOrtPolicyOptions {
  /** The resolved config (`actor_rollout_ref.model.path`, `actor_rollout_ref.rollout.*`). */
  config: TrainerConfig;
  /** A relative model path is looked up here first. */
  cwd: string;
  /** Then here. @default the folder holding `pnpm-workspace.yaml` above this file */
  repoRoot?: string;
  /** Most sequences the engine decodes together. @default 256 (a tiny model is overhead-bound: wide batches pay) */
  maxBatchSize?: number;
}

/** What the `ort` backend hands the trainer. */
export interface OrtPolicy {
  engine: RolloutEngine;
  backend: PolicyBackend;
  /** The model's stop tokens, applied to every request. */
  requestDefaults: RequestDefaults;
  /** Absolute model folder that was loaded. */
  modelDir: string;
  /** Releases the engine's and the backend's ORT sessions. */
  close(): Promise<void>;
}

/** The folder holding `pnpm-workspace.yaml` at or above `from`. */
export function findRepoRoot(from: string): string | undefined {
  let current = resolve(from);
  for (;;) {
    if (existsSync(join(current, 'pnpm-workspace.yaml'))) return current;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/**
 * Where `actor_rollout_ref.model.path` points: absolute as is; relative, the
 * first of `cwd` and the repository root that holds a `config.json` there.
 *
 * @throws MasaError `MODEL_LOAD_FAILED` when neither holds the folder
 */
export function resolveModelDir(path: string, cwd: string, repoRoot: string | undefined): string {
  const candidates = isAbsolute(path) ? [path] : [resolve(cwd, path), ...(repoRoot === undefined ? [] : [resolve(repoRoot, path)])];
  const found = candidates.find((candidate) => existsSync(join(candidate, 'config.json')));
  if (found === undefined) {
    throw new MasaError(
      'MODEL_LOAD_FAILED',
      `no model folder (config.json) at ${candidates.join(' or ')}; set actor_rollout_ref.model.path in the config or with --set actor_rollout_ref.model.path=DIR`,
      { details: { key: 'actor_rollout_ref.model.path', path, candidates } },
    );
  }
  return found;
}

/** EOS ids of a model folder: `generation_config.json`'s `eos_token_id` (a number or a list), else `config.json`'s. */
export function readStopTokenIds(modelDir: string): number[] {
  const ids = new Set<number>();
  for (const file of ['generation_config.json', 'config.json']) {
    const path = join(modelDir, file);
    if (!existsSync(path)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error: unknown) {
      throw new MasaError('MODEL_LOAD_FAILED', `${path} is not valid JSON (${(error as Error).message}); fix or remove the file`, { cause: error, details: { path } });
    }
    const value = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['eos_token_id'] : undefined;
    const list = Array.isArray(value) ? (value as unknown[]) : [value];
    for (const id of list) if (typeof id === 'number' && Number.isInteger(id) && id >= 0) ids.add(id);
    if (ids.size > 0) break;
  }
  return [...ids];
}

/**
 * Loads the model folder of the config and builds the ORT backend and the ORT
 * rollout engine on the same weights.
 *
 * @throws MasaError `MODEL_LOAD_FAILED` (no folder, no tokenizer, no EOS id), `RUNTIME_UNAVAILABLE` (ORT missing)
 */
export async function createOrtPolicy(options: CreateOrtPolicyOptions): Promise<OrtPolicy> {
  const { config, cwd, maxBatchSize = 256 } = options;
  const repoRoot = options.repoRoot ?? findRepoRoot(dirname(fileURLToPath(import.meta.url)));
  const modelPath = config.actor_rollout_ref.model.path;
  if (modelPath === null || modelPath.trim() === '') {
    throw new MasaError('CONFIG_INVALID', 'actor_rollout_ref.model.path is not set; point it at a Hugging Face model folder (e.g. --set actor_rollout_ref.model.path=models/tiny-arith)', {
      details: { key: 'actor_rollout_ref.model.path' },
    });
  }
  const modelDir = resolveModelDir(modelPath, cwd, repoRoot);
  const stopTokenIds = readStopTokenIds(modelDir);
  if (stopTokenIds.length === 0) {
    throw new MasaError(
      'MODEL_LOAD_FAILED',
      `${modelDir} names no eos_token_id (generation_config.json or config.json); add one so rollouts can end before data.max_response_length`,
      { details: { modelDir } },
    );
  }
  const tokenizer = await loadTokenizer({ model: modelDir });
  // The reference copy is only needed for a KL loss against the initial policy.
  const keepReference = config.actor_rollout_ref.actor.use_kl_loss;
  const threads = config.trainer.threads;
  const backend = await createOrtPolicyBackend({ modelDir, keepReference, intraOpNumThreads: threads });
  let engine: RolloutEngine;
  try {
    engine = createOrtEngine({
      config: backend.config,
      weights: backend.weights as ReadonlyMap<string, Float32Array>,
      tokenizer,
      eosTokenIds: stopTokenIds,
      maxBatchSize,
      defaultSeed: config.trainer.seed,
      intraOpNumThreads: threads,
      // Frozen weights follow the optimiser through the backend's weight version.
      ...(config.actor_rollout_ref.rollout.freeze_weights ? { weightMode: 'initializers' as const, weightsVersion: () => backend.weightsVersion } : {}),
    });
  } catch (error: unknown) {
    await backend.release();
    throw error;
  }
  return {
    engine,
    backend,
    requestDefaults: { stopTokenIds },
    modelDir,
    async close() {
      try {
        await engine.close?.();
      } finally {
        await backend.release();
      }
    },
  };
}
