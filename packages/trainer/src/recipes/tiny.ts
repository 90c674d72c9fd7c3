/**
 * The `tiny` recipe: masa-rl's embedded default model, trained from random initialisation on
 * the synthetic arithmetic task (TINY-TASK.md) — a 0.57M-parameter Qwen3-shaped character
 * model, SFT with warm-up, a constant phase and an annealed end, then an evaluation on
 * held-out problems, written as a Hugging Face folder with `RECIPE.md` / `recipe.json`.
 *
 * Everything is a function of the seed and the step budget: the same options give a
 * bit-identical `model.safetensors`.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { MasaError, createRng, type Problem, type RolloutEngine } from '@masa-rl/core';
import { generateArithSplits, type ArithMixName } from '@masa-rl/datasets';
import {
  countParameters,
  createModelConfigJson,
  listParameters,
  loadModel,
  loadTokenizer,
  parseModelConfig,
  type FloatArray,
  type ModelConfig,
  type Tokenizer,
} from '@masa-rl/model';
import { createOrtEngine } from '@masa-rl/rollout';
import { writeFileAtomic } from '../atomic-file.js';
import type { TrainSequence } from '@masa-rl/core';
import { createOrtPolicyBackend } from '../ort/ort-policy-backend.js';
import { CHAR_TOKEN_IDS, CHAR_VOCAB_SIZE, writeCharTokenizer } from './char-tokenizer.js';
import { evaluateTinyModel, type TinyEvaluation } from './tiny-evaluation.js';
import { createBucketedBatches, createSftExampleStream } from './tiny-sft-data.js';
import { renderRecipeMarkdown } from './tiny-report.js';

/** The model of the recipe (TINY-TASK §2, the 0.5M row; context 320). */
export const TINY_MODEL_SHAPE = Object.freeze({
  hiddenSize: 128,
  numLayers: 3,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 32,
  intermediateSize: 352,
  contextTokens: 320,
  ropeTheta: 10_000,
  rmsNormEps: 1e-6,
  initStd: 0.02,
});

/** Seed and size of the held-out evaluation set: `datasets/synthetic/validation.jsonl`. */
export const TINY_EVALUATION_SET = Object.freeze({ seed: 'masa-rl synthetic-arith v1', mix: 'rl-hard' as ArithMixName, size: 200 });

/** Default settings of the recipe. */
export const TINY_RECIPE_DEFAULTS = Object.freeze({
  seed: 1,
  steps: 4_500,
  batchSize: 24,
  peakLr: 2e-3,
  finalLr: 1e-4,
  warmupSteps: 100,
  annealFraction: 0.3,
  metaFraction: 0.15,
  poolBatches: 32,
  weightDecay: 0.1,
  betas: [0.9, 0.98] as const,
  eps: 1e-8,
  maxGradNorm: 1,
  mix: 'prototype' as ArithMixName,
  sequenceBucket: 16,
  evalSamples: 8,
  evalTemperature: 1,
  evalSeed: 99,
});

/** Options of {@link tinyRecipeIter}. */
export interface TinyRecipeOptions {
  /** Folder of the finished checkpoint (replaced atomically). @default none: nothing is written */
  outDir?: string;
  /** Seed of the initialisation and of the data stream. @default 1 */
  seed?: number;
  /** Optimiser steps (the budget: steps, not minutes, so the result is reproducible). @default 4500 */
  steps?: number;
  /**
   * A wall-clock budget instead of `steps`: after the warm-up the step count is fixed from the
   * measured speed (reported in the `recipe-budget` event and in `recipe.json`; rerun with that
   * `steps` to reproduce the weights). @default none
   */
  minutes?: number;
  /** Examples per step. @default 24 */
  batchSize?: number;
  /** LR of the constant phase. @default 2e-3 */
  peakLr?: number;
  /** LR at the end of the annealing. @default 1e-4 */
  finalLr?: number;
  /** Linear warm-up steps from 0. @default 100 */
  warmupSteps?: number;
  /** Share of the steps, at the end, over which the LR decays (cosine) from peakLr to finalLr. @default 0.3 */
  annealFraction?: number;
  /** Share of meta examples. @default 0.15 */
  metaFraction?: number;
  /** Problem mix of the SFT data. @default 'prototype' */
  mix?: ArithMixName;
  /**
   * Evaluate at the end: `samples` solutions per held-out problem at `temperature`.
   * `problems` default to the validation split of `datasets/synthetic` (200 problems,
   * regenerated from its seed). `false` skips the evaluation.
   * @default {}
   */
  evaluation?: false | { problems?: readonly Problem[]; samples?: number; temperature?: number; seed?: number };
  /**
   * Builds the engine that samples during the evaluation from the trained weights.
   * @default the ORT engine of `@masa-rl/rollout`
   */
  createEngine?: (input: { config: ModelConfig; weights: ReadonlyMap<string, FloatArray>; tokenizer: Tokenizer }) => Promise<RolloutEngine>;
  /** Emit a `recipe-progress` event every this many steps. @default 50 */
  progressEvery?: number;
  signal?: AbortSignal;
}

/** The settings a run used (written to `recipe.json`). */
export interface TinyRecipeSettings {
  seed: number;
  steps: number;
  batchSize: number;
  peakLr: number;
  finalLr: number;
  warmupSteps: number;
  annealSteps: number;
  metaFraction: number;
  mix: ArithMixName;
  poolBatches: number;
  weightDecay: number;
  betas: readonly [number, number];
  eps: number;
  maxGradNorm: number;
  sequenceBucket: number;
}

/** Training statistics of a run. */
export interface TinyTrainingSummary {
  steps: number;
  /** Response (trained) tokens and all tokens including prompts. */
  responseTokens: number;
  tokens: number;
  /** Padded tokens fed to the training graph. */
  paddedTokens: number;
  examples: { solution: number; meta: number };
  /** Exponential moving average (0.98) of the per-token loss at the end. */
  lossEma: number;
  ms: number;
  stepsPerSecond: number;
}

export type TinyRecipeEvent =
  | { type: 'recipe-start'; settings: TinyRecipeSettings; parameters: number; minutes: number | null }
  | { type: 'recipe-budget'; steps: number; stepsPerSecond: number; minutes: number }
  | { type: 'recipe-progress'; step: number; steps: number; lr: number; loss: number; lossEma: number; gradNorm: number; elapsedMs: number }
  | { type: 'evaluation-start'; problems: number; samples: number }
  | { type: 'evaluation-end'; evaluation: TinyEvaluation }
  | { type: 'checkpoint-saved'; dir: string; files: string[]; sha256: string }
  | { type: 'recipe-end'; result: TinyRecipeResult };

/** What a run produced. */
export interface TinyRecipeResult {
  settings: TinyRecipeSettings;
  parameters: number;
  training: TinyTrainingSummary;
  evaluation: TinyEvaluation | null;
  /** sha256 of `model.safetensors` (hex). */
  weightsSha256: string;
  /** The written folder, when `outDir` was given. */
  outDir: string | null;
}

/** The model config of the recipe (`config.json`). */
export function createTinyModelConfig(): ModelConfig {
  const raw = createModelConfigJson({
    architecture: 'qwen3',
    vocabSize: CHAR_VOCAB_SIZE,
    hiddenSize: TINY_MODEL_SHAPE.hiddenSize,
    intermediateSize: TINY_MODEL_SHAPE.intermediateSize,
    numLayers: TINY_MODEL_SHAPE.numLayers,
    numHeads: TINY_MODEL_SHAPE.numHeads,
    numKvHeads: TINY_MODEL_SHAPE.numKvHeads,
    headDim: TINY_MODEL_SHAPE.headDim,
    tieWordEmbeddings: true,
    rmsNormEps: TINY_MODEL_SHAPE.rmsNormEps,
    ropeTheta: TINY_MODEL_SHAPE.ropeTheta,
    maxPositionEmbeddings: TINY_MODEL_SHAPE.contextTokens,
    bosTokenId: null,
    eosTokenId: CHAR_TOKEN_IDS.imEnd,
    padTokenId: CHAR_TOKEN_IDS.endOfText,
  });
  return parseModelConfig(raw, 'tiny recipe config.json');
}

/**
 * Initial weights (TINY-TASK §2): N(0, 0.02²) for embeddings and projections, with the output
 * projections (`o_proj`, `down_proj`) scaled by 1/√(2·layers); RMSNorm weights 1. Each tensor
 * draws from its own stream `createRng(seed).fork(name)`.
 */
export function createTinyInitialWeights(config: ModelConfig, seed: number): Map<string, Float32Array> {
  const root = createRng(`tiny-init:${seed}`);
  const weights = new Map<string, Float32Array>();
  const outputScale = 1 / Math.sqrt(2 * config.numLayers);
  for (const spec of listParameters(config)) {
    const numel = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(numel);
    if (spec.kind === 'norm') data.fill(1);
    else {
      const rng = root.fork(spec.name);
      const std = TINY_MODEL_SHAPE.initStd * (/\.(o_proj|down_proj)\.weight$/.test(spec.name) ? outputScale : 1);
      for (let i = 0; i < numel; i++) data[i] = std * rng.normal();
    }
    weights.set(spec.name, data);
  }
  return weights;
}

/** LR at optimiser step `step` (1-based): linear warm-up, constant, cosine decay to `finalLr` over the last `annealSteps`. */
export function tinyLearningRate(step: number, settings: Pick<TinyRecipeSettings, 'steps' | 'peakLr' | 'finalLr' | 'warmupSteps' | 'annealSteps'>): number {
  const { steps, peakLr, finalLr, warmupSteps, annealSteps } = settings;
  if (step <= warmupSteps) return (peakLr * step) / warmupSteps;
  const annealStart = steps - annealSteps;
  if (step <= annealStart) return peakLr;
  const progress = (step - annealStart) / annealSteps; // (0, 1]
  return finalLr + 0.5 * (peakLr - finalLr) * (1 + Math.cos(Math.PI * progress));
}

function resolveSettings(options: TinyRecipeOptions): TinyRecipeSettings {
  const d = TINY_RECIPE_DEFAULTS;
  if (options.minutes !== undefined && options.steps !== undefined) {
    throw new MasaError('CONFIG_INVALID', 'tiny recipe: give either steps (--steps) or minutes (--minutes), not both');
  }
  if (options.minutes !== undefined && !(Number.isFinite(options.minutes) && options.minutes > 0)) {
    throw new MasaError('CONFIG_INVALID', `tiny recipe: minutes must be a positive number, got ${options.minutes} (--minutes)`);
  }
  const steps = options.steps ?? d.steps;
  const warmupSteps = Math.min(options.warmupSteps ?? d.warmupSteps, steps);
  const annealFraction = options.annealFraction ?? d.annealFraction;
  const settings: TinyRecipeSettings = {
    seed: options.seed ?? d.seed,
    steps,
    batchSize: options.batchSize ?? d.batchSize,
    peakLr: options.peakLr ?? d.peakLr,
    finalLr: options.finalLr ?? d.finalLr,
    warmupSteps,
    annealSteps: Math.min(steps - warmupSteps, Math.round(steps * annealFraction)),
    metaFraction: options.metaFraction ?? d.metaFraction,
    mix: options.mix ?? d.mix,
    poolBatches: d.poolBatches,
    weightDecay: d.weightDecay,
    betas: d.betas,
    eps: d.eps,
    maxGradNorm: d.maxGradNorm,
    sequenceBucket: d.sequenceBucket,
  };
  const positiveInteger = (name: string, value: number, flag: string): void => {
    if (!Number.isInteger(value) || value < 1) throw new MasaError('CONFIG_INVALID', `tiny recipe: ${name} must be a positive integer, got ${value} (${flag})`);
  };
  positiveInteger('steps', settings.steps, '--steps');
  positiveInteger('batchSize', settings.batchSize, 'batchSize');
  if (!Number.isInteger(settings.seed)) throw new MasaError('CONFIG_INVALID', `tiny recipe: seed must be an integer, got ${settings.seed} (--seed)`);
  for (const [name, value] of [
    ['peakLr', settings.peakLr],
    ['finalLr', settings.finalLr],
  ] as const) {
    if (!(Number.isFinite(value) && value > 0)) throw new MasaError('CONFIG_INVALID', `tiny recipe: ${name} must be a positive number, got ${value}`);
  }
  if (!(annealFraction >= 0 && annealFraction <= 1)) throw new MasaError('CONFIG_INVALID', `tiny recipe: annealFraction must be in [0, 1], got ${annealFraction}`);
  if (!(settings.metaFraction >= 0 && settings.metaFraction <= 1)) {
    throw new MasaError('CONFIG_INVALID', `tiny recipe: metaFraction must be in [0, 1], got ${settings.metaFraction}`);
  }
  return settings;
}

/** The `generation_config.json` of the checkpoint: stop at `<|im_end|>` or `<|endoftext|>`, sample at T = 1. */
export function tinyGenerationConfig(): Record<string, unknown> {
  return {
    bos_token_id: null,
    eos_token_id: [CHAR_TOKEN_IDS.imEnd, CHAR_TOKEN_IDS.endOfText],
    pad_token_id: CHAR_TOKEN_IDS.endOfText,
    do_sample: true,
    temperature: 1.0,
    top_k: 0,
    top_p: 1.0,
    max_length: TINY_MODEL_SHAPE.contextTokens,
  };
}

/** Decode batch of the evaluation engine: large batches amortise the per-step overhead of a tiny model. */
const EVALUATION_BATCH = 256;

async function defaultEngine(input: { config: ModelConfig; weights: ReadonlyMap<string, FloatArray>; tokenizer: Tokenizer }): Promise<RolloutEngine> {
  return createOrtEngine({ config: input.config, weights: input.weights, tokenizer: input.tokenizer, maxBatchSize: EVALUATION_BATCH });
}

/** The held-out problems of the recipe's evaluation: the validation split of `datasets/synthetic`, regenerated from its seed. */
export function tinyEvaluationProblems(): Problem[] {
  return generateArithSplits({
    seed: TINY_EVALUATION_SET.seed,
    mix: TINY_EVALUATION_SET.mix,
    sizes: { train: 0, validation: TINY_EVALUATION_SET.size, test: 0 },
  }).validation;
}

/** Options of {@link evaluateTinyCheckpoint}. */
export interface EvaluateTinyCheckpointOptions {
  /** A folder written by the recipe (or any char-level tiny-task model with its tokenizer files). */
  modelDir: string;
  /** @default {@link tinyEvaluationProblems} */
  problems?: readonly Problem[];
  /** @default 8 */
  samples?: number;
  /** @default 1 */
  temperature?: number;
  /** @default 99 */
  seed?: number;
  signal?: AbortSignal;
}

/** Evaluates a saved tiny-task checkpoint with the ORT engine, as the recipe does at its end. */
export async function evaluateTinyCheckpoint(options: EvaluateTinyCheckpointOptions): Promise<TinyEvaluation> {
  const { modelDir, signal } = options;
  const model = await loadModel({ modelDir });
  const tokenizer = await loadTokenizer({ model: modelDir });
  const engine = await defaultEngine({ config: model.config, weights: model.weights, tokenizer });
  try {
    return await evaluateTinyModel({
      engine,
      tokenizer,
      problems: options.problems ?? tinyEvaluationProblems(),
      samples: options.samples ?? TINY_RECIPE_DEFAULTS.evalSamples,
      temperature: options.temperature ?? TINY_RECIPE_DEFAULTS.evalTemperature,
      seed: options.seed ?? TINY_RECIPE_DEFAULTS.evalSeed,
      contextTokens: Math.min(model.config.maxPositionEmbeddings, TINY_MODEL_SHAPE.contextTokens),
      stopTokenIds: model.config.eosTokenIds.length > 0 ? [...new Set([...model.config.eosTokenIds, CHAR_TOKEN_IDS.endOfText])] : [CHAR_TOKEN_IDS.imEnd, CHAR_TOKEN_IDS.endOfText],
      ...(signal !== undefined ? { signal } : {}),
    });
  } finally {
    await engine.close?.();
  }
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/**
 * Runs the recipe as a stream of events; returns the result. Long work: the ORT session
 * blocks the event loop between events.
 *
 * @throws MasaError `CONFIG_INVALID` for bad options, `ABORTED` when `signal` fires,
 * `FILE_WRITE_FAILED` when the output folder cannot be written.
 */
export async function* tinyRecipeIter(options: TinyRecipeOptions = {}): AsyncGenerator<TinyRecipeEvent, TinyRecipeResult> {
  const settings = resolveSettings(options);
  const { signal, progressEvery = 50 } = options;
  const checkAbort = (): void => {
    if (signal?.aborted === true) throw new MasaError('ABORTED', 'tiny recipe: aborted; nothing was written');
  };
  const outDir = options.outDir === undefined ? undefined : resolve(options.outDir);
  // Everything is written into a staging folder next to the target, then renamed over it.
  const staging = outDir === undefined ? await mkdtemp(join(tmpdir(), 'masa-tiny-')) : await mkdtemp(join(dirname(outDir), `.${basename(outDir)}.tmp-`)).catch((error: unknown) => {
    throw new MasaError('FILE_WRITE_FAILED', `tiny recipe: cannot create a folder next to ${outDir} (${(error as Error).message}); check that its parent exists and is writable`, { cause: error });
  });
  let renamed = false;
  try {
    await writeCharTokenizer({ dir: staging, modelMaxLength: TINY_MODEL_SHAPE.contextTokens });
    const tokenizer = await loadTokenizer({ model: staging });
    const config = createTinyModelConfig();
    const weights = createTinyInitialWeights(config, settings.seed);
    const parameters = countParameters(config);
    // With a time budget the step count is fixed after the warm-up (until then: unbounded).
    if (options.minutes !== undefined) settings.steps = Number.MAX_SAFE_INTEGER;
    yield { type: 'recipe-start', settings: { ...settings }, parameters, minutes: options.minutes ?? null };

    await using backend = await createOrtPolicyBackend({
      model: { config, weights },
      tokenizerDir: staging,
      sequenceBucket: settings.sequenceBucket,
      keepReference: false,
    });
    const dataRng = createRng(`tiny-data:${settings.seed}`);
    const stream = createSftExampleStream({
      rng: dataRng.fork('examples'),
      tokenizer,
      metaFraction: settings.metaFraction,
      mix: settings.mix,
      contextTokens: TINY_MODEL_SHAPE.contextTokens,
    });
    const batches = createBucketedBatches({ next: stream.next, rng: dataRng.fork('batches'), batchSize: settings.batchSize, poolBatches: settings.poolBatches });
    const training: TinyTrainingSummary = {
      steps: 0,
      responseTokens: 0,
      tokens: 0,
      paddedTokens: 0,
      examples: { solution: 0, meta: 0 },
      lossEma: 0,
      ms: 0,
      stepsPerSecond: 0,
    };
    const started = performance.now();
    const annealFraction = options.annealFraction ?? TINY_RECIPE_DEFAULTS.annealFraction;
    let budgetFixed = options.minutes === undefined;
    for (let step = 1; step <= settings.steps; step++) {
      if (!budgetFixed && step > Math.max(settings.warmupSteps, 20)) {
        const stepsPerSecond = (step - 1) / ((performance.now() - started) / 1000);
        settings.steps = Math.max(step, Math.round(stepsPerSecond * (options.minutes as number) * 60));
        settings.annealSteps = Math.min(settings.steps - settings.warmupSteps, Math.round(settings.steps * annealFraction));
        budgetFixed = true;
        yield { type: 'recipe-budget', steps: settings.steps, stepsPerSecond, minutes: options.minutes as number };
      }
      checkAbort();
      const batch = batches.next();
      const responseTokens = batch.reduce((sum, example) => sum + example.responseTokenIds.length, 0);
      const sequences: TrainSequence[] = batch.map((example) => ({
        promptTokenIds: example.promptTokenIds,
        responseTokenIds: example.responseTokenIds,
        lossWeight: 1 / responseTokens,
      }));
      const { loss } = await backend.forwardBackward({ sequences }, { kind: 'cross-entropy' });
      if (!Number.isFinite(loss)) {
        throw new MasaError('NUMERIC_INSTABILITY', `tiny recipe: step ${step} has loss ${loss}; lower peakLr or change the seed`, { details: { step } });
      }
      const lr = tinyLearningRate(step, settings);
      const { gradNorm } = await backend.optimStep({
        lr,
        maxGradNorm: settings.maxGradNorm,
        weightDecay: settings.weightDecay,
        betas: settings.betas,
        eps: settings.eps,
      });
      let longest = 0;
      for (const example of batch) {
        const length = example.promptTokenIds.length + example.responseTokenIds.length;
        longest = Math.max(longest, length);
        training.tokens += length;
        training.examples[example.kind] += 1;
      }
      training.paddedTokens += batch.length * Math.ceil(longest / settings.sequenceBucket) * settings.sequenceBucket;
      training.responseTokens += responseTokens;
      training.lossEma = step === 1 ? loss : 0.98 * training.lossEma + 0.02 * loss;
      training.steps = step;
      if (step % progressEvery === 0 || step === settings.steps) {
        yield { type: 'recipe-progress', step, steps: settings.steps, lr, loss, lossEma: training.lossEma, gradNorm, elapsedMs: performance.now() - started };
      }
    }
    training.ms = performance.now() - started;
    training.stepsPerSecond = training.steps / (training.ms / 1000);

    let evaluation: TinyEvaluation | null = null;
    if (options.evaluation !== false) {
      checkAbort();
      const evalOptions = options.evaluation ?? {};
      const problems = evalOptions.problems ?? tinyEvaluationProblems();
      const samples = evalOptions.samples ?? TINY_RECIPE_DEFAULTS.evalSamples;
      yield { type: 'evaluation-start', problems: problems.length, samples };
      const engine = await (options.createEngine ?? defaultEngine)({ config, weights, tokenizer });
      try {
        evaluation = await evaluateTinyModel({
          engine,
          tokenizer,
          problems,
          samples,
          temperature: evalOptions.temperature ?? TINY_RECIPE_DEFAULTS.evalTemperature,
          seed: evalOptions.seed ?? TINY_RECIPE_DEFAULTS.evalSeed,
          contextTokens: TINY_MODEL_SHAPE.contextTokens,
          stopTokenIds: [CHAR_TOKEN_IDS.imEnd, CHAR_TOKEN_IDS.endOfText],
          ...(signal !== undefined ? { signal } : {}),
        });
      } finally {
        await engine.close?.();
      }
      yield { type: 'evaluation-end', evaluation };
    }

    checkAbort();
    await backend.saveWeights(staging);
    await writeFileAtomic(join(staging, 'generation_config.json'), `${JSON.stringify(tinyGenerationConfig(), null, 2)}\n`);
    const weightsSha256 = await sha256File(join(staging, 'model.safetensors'));
    const result: TinyRecipeResult = { settings, parameters, training, evaluation, weightsSha256, outDir: outDir ?? null };
    if (outDir !== undefined) {
      await writeFileAtomic(join(staging, 'recipe.json'), `${JSON.stringify({ recipe: 'tiny', version: 1, model: { ...TINY_MODEL_SHAPE, vocabSize: CHAR_VOCAB_SIZE, parameters }, ...result, outDir: undefined }, null, 2)}\n`);
      await writeFileAtomic(join(staging, 'RECIPE.md'), renderRecipeMarkdown(result));
      await replaceFolder(staging, outDir);
      renamed = true;
      const files = await listFiles(outDir);
      yield { type: 'checkpoint-saved', dir: outDir, files, sha256: weightsSha256 };
    }
    yield { type: 'recipe-end', result };
    return result;
  } finally {
    if (!renamed) await rm(staging, { recursive: true, force: true });
  }
}

async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** Puts `staging` at `target`: an existing target is moved aside first and removed after the rename. */
async function replaceFolder(staging: string, target: string): Promise<void> {
  const exists = await stat(target).then(
    () => true,
    () => false,
  );
  const aside = `${target}.old-${process.pid}-${Date.now()}`;
  try {
    await chmod(staging, 0o755); // mkdtemp creates 0700
    if (exists) await rename(target, aside);
    await rename(staging, target);
  } catch (error) {
    throw new MasaError('FILE_WRITE_FAILED', `tiny recipe: cannot move the new checkpoint into ${target} (${(error as Error).message})`, { cause: error });
  }
  if (exists) await rm(aside, { recursive: true, force: true });
}

/** Drains {@link tinyRecipeIter}, passing each event to `onEvent`. */
export async function runTinyRecipe(options: TinyRecipeOptions & { onEvent?: (event: TinyRecipeEvent) => void } = {}): Promise<TinyRecipeResult> {
  const { onEvent, ...rest } = options;
  const iterator = tinyRecipeIter(rest);
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return next.value;
    onEvent?.(next.value);
  }
}
