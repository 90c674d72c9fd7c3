/**
 * The ONNX Runtime rollout engine: batched prefill, KV-cache decode and
 * seeded sampling, with continuous batching.
 *
 * - **Prefill** runs the waiting prompts (left-padded together, each distinct
 *   prompt once even when `n > 1`), samples each sequence's first token from
 *   the prompt's logits, and merges the keys/values into the running batch.
 * - **Decode** runs all active rows one token at a time. The KV cache lives in
 *   engine-owned buffers `[rows, kvHeads, capacity, headDim]` that are fed
 *   in place; the graph returns only the step's new keys/values (see
 *   `rollout-graph.ts`), so no step copies the whole cache out of ORT.
 * - A row that finishes leaves at once (the last row moves into its slot), and
 *   waiting sequences — of this call or of concurrent `doGenerate` calls —
 *   are prefilled into free rows between decode steps.
 * - Each row's valid cache is one contiguous slot range `[start, length)`;
 *   leading slots that no row uses any more are dropped (shifted out) so
 *   attention does not keep paying for them.
 *
 * Sampling follows `sampling.ts` on float32 logits in float64, one random
 * stream per (request seed, sample index): a sample does not depend on what
 * else shares its batch. `session.run` blocks the event loop while it
 * computes; host the engine with `createChildProcessEngine` where the caller
 * must stay responsive.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MasaError,
  hashString,
  type ChatMessage,
  type FinishReason,
  type GenerateOptions,
  type RolloutEngine,
  type RolloutEvent,
  type RolloutRequest,
  type RolloutResult,
  type RolloutSample,
  type Rng,
  type RngState,
} from '@masa-rl/core';
import { ATTENTION_MASK, INPUT_IDS, POSITION_IDS, leftPadBatch, listParameters, pastName, presentName, type ModelConfig } from '@masa-rl/model';
import { MAX_INLINE_MODEL_BYTES, createExternalDataFile, createSession, createTensorValue, saveModel, type Device, type Graph, type Session, type TensorValue } from '@masa-rl/onnx';
import { validateRolloutRequest } from './request-validation.js';
import {
  CACHE_LENGTH,
  CACHE_START,
  DRAWN_IDS,
  DRAWN_LOGPROBS,
  DRAW_INVERSE_TEMPERATURE,
  DRAW_ROWS,
  DRAW_UNIFORM,
  LOGIT_SUMS,
  TOP_IDS,
  TOP_K,
  TOP_VALUES,
  buildDecodeGraph,
  buildPrefillGraph,
  newCacheName,
} from './rollout-graph.js';
import { createSampleRng, createSampler, type ResolvedSamplingParams, type SampledToken } from './sampling.js';
import { createSequenceTracker, type SequenceTracker } from './sequence-tracker.js';

/** What the engine needs from a tokenizer (`@masa-rl/model`'s `Tokenizer` fits). */
export interface OrtEngineTokenizer {
  decode(tokenIds: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** Chat template with the generation prompt, then encode (for `messages` requests). */
  encodeChat?(messages: readonly ChatMessage[], options?: { addGenerationPrompt?: boolean; enableThinking?: boolean }): number[];
}

export interface OrtEngineOptions {
  config: ModelConfig;
  /** float32 weights by Hugging Face name. With `weightMode: 'inputs'` they are fed by reference: in-place updates (an optimizer step) are seen by the next step. */
  weights: ReadonlyMap<string, Float32Array | Float64Array>;
  /**
   * `inputs`: weights are fed at every run (zero-copy; updates visible: what training needs).
   * `initializers`: weights are frozen into the session when it is built (ORT pre-packs them for its matrix kernels:
   * faster per step, a second copy of the weights inside ORT; later changes to the arrays are not seen). For serving
   * and evaluation. Past `inlineWeightLimitBytes` they reach ORT through a temporary external data file in `tempDir`.
   * @default 'inputs'
   */
  weightMode?: 'inputs' | 'initializers';
  /**
   * Frozen weights up to this size go inside the ONNX model; larger ones through a temporary external data file
   * (removed once ORT has loaded it), and then only the decode graph freezes them (prefill, many tokens per weight,
   * keeps reading them as inputs rather than holding a second pre-packed copy).
   * @default 1.9 GiB (protobuf caps a model at 2 GiB)
   */
  inlineWeightLimitBytes?: number;
  /** Folder for that temporary file (it needs the weights' size free for a moment). @default os.tmpdir() */
  tempDir?: string;
  /**
   * With `weightMode: 'initializers'`: a version of the weight arrays. When it differs from the version the
   * sessions were built at, they are rebuilt from the arrays as they are then, before the next sequence enters an
   * empty batch. A trainer that updates the arrays in place between generations (and bumps the version) gets frozen
   * speed with current weights; sequences already decoding finish on the weights they started with.
   * @default none: the weights are frozen once
   */
  weightsVersion?: () => number;
  /**
   * Sample in the decode graph where a row's parameters allow it, so that a few numbers per row leave ORT instead of
   * the whole row of logits: a top-k row (k ≤ 1,024) or a greedy one gets its ranked top-k (ORT's TopK) and draws
   * from them in JS — the same token and logprob as from the logits, bit for bit; a row sampling from the whole
   * distribution (no top-k, no top-p) is drawn in the graph by inverse CDF in float64 with its own uniform number —
   * the JS sampler's arithmetic, equal to it up to the last bit of `exp` (tokens the same; logprobs within 1e-12).
   * Rows asking for raw logprobs or top-p without top-k use the logits. Off: every row uses the logits.
   * @default true
   */
  sampleInGraph?: boolean;
  /** For sample text, stop strings and chat prompts. Without one, samples carry token ids with empty text. @default none */
  tokenizer?: OrtEngineTokenizer;
  /** Ids that end every sample (on top of each request's stopTokenIds). @default config.eosTokenIds */
  eosTokenIds?: readonly number[];
  /** Most sequences decoded together. @default 32 */
  maxBatchSize?: number;
  /** Largest prefill (distinct prompts × padded prompt length) run at once; one prompt always fits. @default 8192 */
  maxPrefillTokens?: number;
  /** Seed of requests that give none (mixed with the request id). @default 0 */
  defaultSeed?: number;
  /** Decode text without special tokens, as vLLM does by default. @default true */
  skipSpecialTokens?: boolean;
  /** Qwen3's `enable_thinking` for chat prompts; unset leaves the template's default. @default unset */
  enableThinking?: boolean;
  /** @default 'cpu' */
  device?: Device;
  /**
   * ORT threads inside one operator. One gives the same numbers everywhere; more change float rounding in the
   * weights-as-inputs graphs (frozen weights gave identical samples at 1 and 2 threads on the shapes measured).
   * Worth it on idle cores only: on this project's 2-vCPU machines two threads decoded 1.0–1.6× faster when the
   * second core was idle, and spinning threads lose when a neighbour keeps it busy (bench/rollout/README.md).
   * @default 1
   */
  intraOpNumThreads?: number;
}

/** Where the engine's time went (milliseconds and counts since creation or the last reset). */
export interface OrtEngineProfile {
  prefillRuns: number;
  prefillTokens: number;
  prefillRunMs: number;
  decodeSteps: number;
  decodeRowSteps: number;
  decodeRunMs: number;
  /** Decode steps whose rows all sampled in the graph (ranked top-k or whole-distribution draws): no logits copied out of ORT. */
  rankedSteps: number;
  /** Sampling, stop checks and detokenisation in JS. */
  samplingMs: number;
  /** Writing new keys/values into the cache buffers, moving and shifting rows. */
  cacheMs: number;
  /** Building the attention mask, ids and positions of each step. */
  feedMs: number;
  generatedTokens: number;
  /** Times the ORT sessions were built (the first use, and each rebuild for a new `weightsVersion`). */
  sessionBuilds: number;
}

export interface OrtEngine extends RolloutEngine {
  /** ORT threads inside one operator, as created. */
  readonly intraOpNumThreads: number;
  /** Time spent so far, by phase. */
  profile(): OrtEngineProfile;
  resetProfile(): void;
  /** Releases the ORT session; pending calls fail. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Call {
  options: GenerateOptions;
  results: RolloutResult[];
  remaining: number;
  totalTokens: number;
  started: number;
  done: boolean;
  resolve: (results: RolloutResult[]) => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
}

interface Sequence {
  call: Call;
  request: RolloutRequest;
  requestIndex: number;
  sampleIndex: number;
  promptIds: number[];
  sampling: ResolvedSamplingParams;
  rng: Rng;
  tracker: SequenceTracker;
  logprobs: number[];
  rawLogprobs: number[] | null;
  /** Next position id (real tokens so far). */
  position: number;
  /** Sampled, not yet fed to the model. */
  pendingToken: number;
  /** First valid cache slot of its row. */
  start: number;
}

/** Temporary folders of frozen weights: `masa-rl-ort-<pid>-<random>`. */
const TEMP_PREFIX = 'masa-rl-ort-';
const TEMP_FOLDER = new RegExp(`^${TEMP_PREFIX}(\\d+)-`);

/**
 * Removes weight folders that a process which no longer runs left behind (killed while writing gigabytes of
 * weights, say). Folders of live processes, and anything else in the folder, are left alone.
 */
async function removeStaleFolders(folder: string): Promise<void> {
  const entries = await readdir(folder).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = TEMP_FOLDER.exec(entry)?.[1];
    if (pid === undefined || processIsAlive(Number(pid))) continue;
    await rm(join(folder, entry), { recursive: true, force: true }).catch(() => undefined);
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** Largest top-k served from the decode graph's ranked candidates (ORT's TopK keeps a heap of k per row). */
const MAX_RANKED_CANDIDATES = 1024;

const emptyProfile = (): OrtEngineProfile => ({
  prefillRuns: 0,
  prefillTokens: 0,
  prefillRunMs: 0,
  decodeSteps: 0,
  decodeRowSteps: 0,
  decodeRunMs: 0,
  rankedSteps: 0,
  samplingMs: 0,
  cacheMs: 0,
  feedMs: 0,
  generatedTokens: 0,
  sessionBuilds: 0,
});

/** Creates the engine. The ORT session is built on the first call. */
export function createOrtEngine(options: OrtEngineOptions): OrtEngine {
  const {
    config,
    weights,
    tokenizer,
    maxBatchSize = 32,
    maxPrefillTokens = 8192,
    defaultSeed = 0,
    skipSpecialTokens = true,
    device = 'cpu',
    intraOpNumThreads = 1,
    weightMode = 'inputs',
    inlineWeightLimitBytes = MAX_INLINE_MODEL_BYTES,
    tempDir = tmpdir(),
    sampleInGraph = true,
    weightsVersion,
  } = options;
  if (weightsVersion !== undefined && weightMode !== 'initializers') {
    throw new MasaError('CONFIG_INVALID', "createOrtEngine: weightsVersion goes with weightMode 'initializers' (fed weights are read at every run and need no version)");
  }
  const eosTokenIds = [...(options.eosTokenIds ?? config.eosTokenIds)];
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new MasaError('CONFIG_INVALID', `createOrtEngine: maxBatchSize must be an integer ≥ 1, got ${maxBatchSize}`);
  if (!Number.isInteger(maxPrefillTokens) || maxPrefillTokens < 1) {
    throw new MasaError('CONFIG_INVALID', `createOrtEngine: maxPrefillTokens must be an integer ≥ 1, got ${maxPrefillTokens}`);
  }
  if (!(inlineWeightLimitBytes >= 0)) throw new MasaError('CONFIG_INVALID', `createOrtEngine: inlineWeightLimitBytes must be ≥ 0, got ${inlineWeightLimitBytes}`);
  const { numLayers, numKvHeads: kvHeads, headDim, vocabSize } = config;

  // Weights that a session does not hold are fed by reference, every run.
  const weightFeeds: Record<string, TensorValue> = {};
  let weightBytes = 0;
  for (const spec of listParameters(config)) {
    const data = weights.get(spec.name);
    if (data === undefined) throw new MasaError('MODEL_LOAD_FAILED', `createOrtEngine: the weights have no "${spec.name}" (shape ${JSON.stringify(spec.shape)})`);
    if (!(data instanceof Float32Array)) {
      throw new MasaError('MODEL_LOAD_FAILED', `createOrtEngine: "${spec.name}" is a ${data.constructor.name}; the engine runs float32 (load the model with dtype 'float32')`);
    }
    weightFeeds[spec.name] = createTensorValue('float32', spec.shape, data);
    weightBytes += data.byteLength;
  }

  let sessionsPromise: Promise<{ prefill: Session; decode: Session }> | undefined;
  /** The `weightsVersion` the sessions were built at. */
  let builtVersion: number | undefined;
  /** Both sessions, built on first use. */
  const sessions = (): Promise<{ prefill: Session; decode: Session }> => {
    if (sessionsPromise === undefined) {
      builtVersion = weightsVersion?.();
      profile.sessionBuilds += 1;
      sessionsPromise = openSessions();
    }
    return sessionsPromise;
  };
  /** Releases the sessions (they are rebuilt on next use). */
  const releaseSessions = async (): Promise<void> => {
    const opened = await sessionsPromise?.catch(() => undefined);
    sessionsPromise = undefined;
    await opened?.prefill.release();
    await opened?.decode.release();
  };
  const openSessions = async (): Promise<{ prefill: Session; decode: Session }> => {
    const open = (model: Graph | string): Promise<Session> => createSession({ model, device, intraOpNumThreads });
    if (weightMode === 'inputs') return { prefill: await open(buildPrefillGraph(config, 'inputs')), decode: await open(buildDecodeGraph(config, 'inputs')) };
    const frozen = weights as ReadonlyMap<string, Float32Array>;
    if (weightBytes <= inlineWeightLimitBytes) return { prefill: await open(buildPrefillGraph(config, frozen)), decode: await open(buildDecodeGraph(config, frozen)) };
    // Past protobuf's 2 GiB the frozen weights go to an external data file, which ORT maps when it loads the model
    // by path; the folder is removed once the session holds them. Prefill keeps the weights as inputs: it runs many
    // tokens per weight (packing them per run costs little) and a second pre-packed copy would double the memory.
    await removeStaleFolders(tempDir);
    const folder = await mkdtemp(join(tempDir, `${TEMP_PREFIX}${process.pid}-`)).catch((error: unknown) => {
      throw new MasaError('FILE_WRITE_FAILED', `createOrtEngine: could not create a temporary folder in ${tempDir} for the frozen weights: set tempDir to a writable folder, or use weightMode 'inputs'`, {
        cause: error,
      });
    });
    try {
      const data = createExternalDataFile({ path: join(folder, 'weights.bin') });
      try {
        await saveModel({ model: buildDecodeGraph(config, frozen), path: join(folder, 'decode.onnx'), externalData: data });
      } finally {
        data.close();
      }
      return { prefill: await open(buildPrefillGraph(config, 'inputs')), decode: await open(join(folder, 'decode.onnx')) };
    } catch (error: unknown) {
      if (MasaError.isInstance(error) && error.code === 'FILE_WRITE_FAILED') {
        throw new MasaError(
          'FILE_WRITE_FAILED',
          `createOrtEngine: freezing ${(weightBytes / 2 ** 30).toFixed(2)} GiB of weights needs that much free space in ${tempDir} for a moment (set tempDir, or use weightMode 'inputs'): ${error.message}`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  };
  const decodeWeightFeeds = weightMode === 'inputs' ? weightFeeds : {};
  const prefillWeightFeeds = weightMode === 'inputs' || weightBytes > inlineWeightLimitBytes ? weightFeeds : {};
  const sampler = createSampler({ vocabSize });
  const newCacheOutputs = Array.from({ length: numLayers }, (_, layer) => [newCacheName(layer, 'key'), newCacheName(layer, 'value')]).flat();
  const inGraphOutputs = [TOP_VALUES, TOP_IDS, DRAWN_IDS, DRAWN_LOGPROBS, LOGIT_SUMS, ...newCacheOutputs];
  const allOutputs = [...inGraphOutputs, 'logits'];
  const logitOutputs = ['logits', ...newCacheOutputs];
  /**
   * How a row's next token is drawn in a decode step — by its own parameters only, so that a sample never depends
   * on what shares its batch: from the graph's ranked top-k (`ranked`, with how many it needs; 1 when greedy), by
   * the graph's whole-distribution draw (`drawn`), or from the logits in JS (`logits`: raw logprobs, top-p without
   * top-k, a top-k past the limit, or sampling in the graph turned off).
   */
  const methodOf = (row: Sequence): { kind: 'ranked'; candidates: number } | { kind: 'drawn' | 'logits' } => {
    const { temperature, topK, topP } = row.sampling;
    if (!sampleInGraph || row.rawLogprobs !== null) return { kind: 'logits' };
    if (temperature === 0) return { kind: 'ranked', candidates: 1 };
    if (topK > 0 && topK < vocabSize) return topK <= MAX_RANKED_CANDIDATES ? { kind: 'ranked', candidates: topK } : { kind: 'logits' };
    return topP === 1 ? { kind: 'drawn' } : { kind: 'logits' };
  };
  let profile = emptyProfile();
  let closed = false;

  // The running batch.
  let rows: Sequence[] = [];
  let length = 0; // cache slots in use (the common past length)
  let rowCapacity = 0;
  let slotCapacity = 0;
  let cache: { key: Float32Array; value: Float32Array }[] = [];
  const waiting: Sequence[] = [];
  const activeCalls = new Set<Call>();
  let loop: Promise<void> | undefined;

  const headStride = (): number => slotCapacity * headDim;
  const rowStride = (): number => kvHeads * slotCapacity * headDim;

  /**
   * Sizes the cache buffers for `rowsNeeded` rows of `slotsNeeded` slots, keeping active rows. Decode attends over the
   * whole slot capacity (unused slots masked), so capacity tracks the length closely: it grows by a quarter, in steps
   * of 16 slots (each growth moves the cache once, a few steps' worth of attention reads), and shrinks back when it
   * is over twice what the length needs (after long sequences leave the batch).
   */
  const ensureCapacity = (rowsNeeded: number, slotsNeeded: number): void => {
    const fitted = Math.ceil((slotsNeeded * 1.25) / 16) * 16;
    const tooLarge = slotCapacity > 2 * fitted;
    if (rowsNeeded <= rowCapacity && slotsNeeded <= slotCapacity && !tooLarge) return;
    const newRows = Math.max(rowCapacity, Math.min(maxBatchSize, Math.max(rowsNeeded, 2 * rowCapacity)));
    const newSlots = tooLarge ? fitted : slotsNeeded <= slotCapacity ? slotCapacity : Math.ceil(Math.max(slotsNeeded, slotCapacity * 1.25) / 16) * 16;
    const newHeadStride = newSlots * headDim;
    const newRowStride = kvHeads * newHeadStride;
    const needed = newRows * newRowStride;
    const oldRowStride = rowStride();
    const oldHeadStride = headStride();
    // Each (row, head) block keeps its slots [start, length) and moves to its new offset. Within one buffer, blocks
    // move up when the strides grow (so go from the last block down) and down when they shrink (first block up), so
    // no block is overwritten before it has moved. A new buffer (with room for a few more growths) only when the
    // old one is too small: no allocation or page faults on most resizes.
    const relayout = (data: Float32Array): Float32Array => {
      const target = data.length >= needed ? data : new Float32Array(Math.ceil(needed * 1.5));
      const blocks = rows.length * kvHeads;
      const descending = target === data && newRowStride > oldRowStride;
      for (let i = 0; i < blocks; i++) {
        const block = descending ? blocks - 1 - i : i;
        const r = Math.floor(block / kvHeads);
        const h = block % kvHeads;
        const { start } = rows[r] as Sequence;
        const from = r * oldRowStride + h * oldHeadStride;
        const to = r * newRowStride + h * newHeadStride;
        if (target !== data) target.set(data.subarray(from + start * headDim, from + length * headDim), to + start * headDim);
        else if (to !== from) target.copyWithin(to + start * headDim, from + start * headDim, from + length * headDim);
      }
      return target;
    };
    if (cache.length === 0) cache = Array.from({ length: numLayers }, () => ({ key: new Float32Array(0), value: new Float32Array(0) }));
    cache = cache.map((layer) => ({ key: relayout(layer.key), value: relayout(layer.value) }));
    rowCapacity = newRows;
    slotCapacity = newSlots;
  };

  /** Moves cache slots `[from, to)` of row `r` by `shift` slots (either way). */
  const shiftRow = (r: number, from: number, to: number, shift: number): void => {
    for (const layer of cache) {
      for (let h = 0; h < kvHeads; h++) {
        const base = r * rowStride() + h * headStride();
        layer.key.copyWithin(base + (from + shift) * headDim, base + from * headDim, base + to * headDim);
        layer.value.copyWithin(base + (from + shift) * headDim, base + from * headDim, base + to * headDim);
      }
    }
  };

  /** Copies row `source`'s valid slots into row `target`. */
  const moveRow = (source: number, target: number, start: number): void => {
    for (const layer of cache) {
      for (let h = 0; h < kvHeads; h++) {
        const from = source * rowStride() + h * headStride();
        const to = target * rowStride() + h * headStride();
        layer.key.copyWithin(to + start * headDim, from + start * headDim, from + length * headDim);
        layer.value.copyWithin(to + start * headDim, from + start * headDim, from + length * headDim);
      }
    }
  };

  const emit = (call: Call, event: RolloutEvent): void => call.options.onEvent?.(event);

  const finishCall = (call: Call, error?: unknown): void => {
    if (call.done) return;
    call.done = true;
    activeCalls.delete(call);
    call.cleanup();
    if (error !== undefined) {
      call.reject(error);
      return;
    }
    emit(call, { type: 'generation-end', tokens: call.totalTokens, ms: performance.now() - call.started });
    call.resolve(call.results);
  };

  /** A sequence's next token drawn in JS from a row of logits. */
  const sampleLogits = (sequence: Sequence, row: Float32Array): SampledToken =>
    sampler.sample(row, sequence.sampling, sequence.rng, { returnRawLogprob: sequence.rawLogprobs !== null });

  /** Feeds one sampled token to a sequence's tracker; returns true when the sequence is finished. */
  const accept = (sequence: Sequence, drawn: SampledToken): boolean => {
    sequence.logprobs.push(drawn.logprob);
    sequence.rawLogprobs?.push(drawn.rawLogprob as number);
    const step = sequence.tracker.push(drawn.tokenId);
    sequence.pendingToken = drawn.tokenId;
    const { call } = sequence;
    call.totalTokens += 1;
    profile.generatedTokens += 1;
    call.options.onDelta?.({
      requestId: sequence.request.id,
      sampleIndex: sequence.sampleIndex,
      tokenIds: [drawn.tokenId],
      logprobs: [drawn.logprob],
      textDelta: step.textDelta,
      finishReason: step.finishReason,
    });
    if (step.finishReason === null) return false;
    complete(sequence, step.finishReason);
    return true;
  };

  const complete = (sequence: Sequence, finishReason: FinishReason): void => {
    const { call } = sequence;
    if (call.done) return;
    const sample: RolloutSample = { tokenIds: [...sequence.tracker.tokenIds], text: sequence.tracker.text, logprobs: sequence.logprobs, finishReason };
    if (sequence.rawLogprobs !== null) sample.rawLogprobs = sequence.rawLogprobs;
    (call.results[sequence.requestIndex] as RolloutResult).samples[sequence.sampleIndex] = sample;
    emit(call, { type: 'sequence-end', requestId: sequence.request.id, sampleIndex: sequence.sampleIndex, tokens: sample.tokenIds.length, finishReason });
    call.remaining -= 1;
    if (call.remaining === 0) finishCall(call);
  };

  const tokensEvent = (perCall: Map<Call, number>): void => {
    for (const [call, tokens] of perCall) {
      if (!call.done) emit(call, { type: 'tokens-generated', tokens, activeSequences: call.remaining });
    }
  };

  /** Drops sequences of finished (aborted, failed) calls from the queue and the batch. */
  const dropFinishedCalls = (): void => {
    for (let i = waiting.length - 1; i >= 0; i--) if ((waiting[i] as Sequence).call.done) waiting.splice(i, 1);
    removeRows((row) => row.call.done);
  };

  /** Removes rows matching `predicate`, moving the last rows into the gaps. */
  const removeRows = (predicate: (row: Sequence) => boolean): void => {
    const started = performance.now();
    for (let r = rows.length - 1; r >= 0; r--) {
      if (!predicate(rows[r] as Sequence)) continue;
      const last = rows.length - 1;
      if (r !== last) {
        const moved = rows[last] as Sequence;
        moveRow(last, r, moved.start);
        rows[r] = moved;
      }
      rows.pop();
    }
    if (rows.length === 0) length = 0;
    // Slots before every row's start are dead weight in attention: shift them out once they are a quarter of the cache.
    const deadSlots = rows.length === 0 ? 0 : Math.min(...rows.map((row) => row.start));
    if (deadSlots > 0 && deadSlots * 4 >= length) {
      rows.forEach((row, r) => {
        shiftRow(r, row.start, length, -deadSlots);
        row.start -= deadSlots;
      });
      length -= deadSlots;
    }
    profile.cacheMs += performance.now() - started;
  };

  /** The cache buffers of the first `batch` rows, fed in place: `[batch, kvHeads, capacity, headDim]`. */
  const pastFeeds = (batch: number): Record<string, TensorValue> => {
    const feeds: Record<string, TensorValue> = {};
    cache.forEach((layer, i) => {
      const dims = [batch, kvHeads, slotCapacity, headDim];
      feeds[pastName(i, 'key')] = createTensorValue('float32', dims, layer.key.subarray(0, batch * rowStride()));
      feeds[pastName(i, 'value')] = createTensorValue('float32', dims, layer.value.subarray(0, batch * rowStride()));
    });
    return feeds;
  };

  /** Prefills waiting sequences into free rows. */
  const admit = async (): Promise<void> => {
    const free = maxBatchSize - rows.length;
    if (free <= 0 || waiting.length === 0) return;
    // Take sequences in order; distinct prompts (by request) are prefilled once.
    const taken: Sequence[] = [];
    const prompts: Sequence[] = [];
    let longest = 0;
    while (taken.length < free && waiting.length > 0) {
      const next = waiting[0] as Sequence;
      const isNewPrompt = !prompts.some((prompt) => prompt.request === next.request && prompt.call === next.call);
      if (isNewPrompt) {
        const padded = Math.max(longest, next.promptIds.length);
        if (prompts.length > 0 && (prompts.length + 1) * padded > maxPrefillTokens) break;
        prompts.push(next);
        longest = padded;
      }
      taken.push(waiting.shift() as Sequence);
    }
    const batch = prompts.length;
    const feedStarted = performance.now();
    const padded = leftPadBatch({ sequences: prompts.map((prompt) => prompt.promptIds) });
    const feeds: Record<string, TensorValue> = {
      ...prefillWeightFeeds,
      [INPUT_IDS]: createTensorValue('int64', [batch, padded.seq], padded.inputIds),
      [ATTENTION_MASK]: createTensorValue('int64', [batch, padded.seq], padded.attentionMask),
      [POSITION_IDS]: createTensorValue('int64', [batch, padded.seq], padded.positionIds),
    };
    profile.feedMs += performance.now() - feedStarted;
    const runStarted = performance.now();
    const out = await (await sessions()).prefill.run(feeds);
    profile.prefillRunMs += performance.now() - runStarted;
    profile.prefillRuns += 1;
    profile.prefillTokens += batch * padded.seq;
    const logits = out['logits']?.data as Float32Array; // [batch, vocab]

    // First tokens; sequences that finish at once never take a row.
    const samplingStarted = performance.now();
    const perCall = new Map<Call, number>();
    const joining: { sequence: Sequence; promptRow: number }[] = [];
    for (const sequence of taken) {
      if (sequence.call.done) continue;
      const promptRow = prompts.findIndex((prompt) => prompt.request === sequence.request && prompt.call === sequence.call);
      perCall.set(sequence.call, (perCall.get(sequence.call) ?? 0) + 1);
      const row = logits.subarray(promptRow * vocabSize, (promptRow + 1) * vocabSize);
      if (!accept(sequence, sampleLogits(sequence, row))) joining.push({ sequence, promptRow });
    }
    profile.samplingMs += performance.now() - samplingStarted;
    tokensEvent(perCall);

    // Merge the joining rows' keys/values, right-aligned at the common length.
    const cacheStarted = performance.now();
    const seq = padded.seq;
    const newLength = rows.length === 0 ? seq : Math.max(length, seq);
    ensureCapacity(rows.length + joining.length, newLength + 1);
    if (rows.length > 0 && newLength > length) {
      const shift = newLength - length;
      rows.forEach((row, r) => {
        shiftRow(r, row.start, length, shift);
        row.start += shift;
      });
    }
    length = newLength;
    for (const { sequence, promptRow } of joining) {
      const r = rows.length;
      const promptLength = sequence.promptIds.length;
      sequence.start = length - promptLength;
      sequence.position = promptLength;
      cache.forEach((layer, i) => {
        const newKeys = out[presentName(i, 'key')]?.data as Float32Array; // [batch, kvHeads, seq, headDim]
        const newValues = out[presentName(i, 'value')]?.data as Float32Array;
        for (let h = 0; h < kvHeads; h++) {
          const from = ((promptRow * kvHeads + h) * seq + (seq - promptLength)) * headDim;
          const to = r * rowStride() + h * headStride() + sequence.start * headDim;
          layer.key.set(newKeys.subarray(from, from + promptLength * headDim), to);
          layer.value.set(newValues.subarray(from, from + promptLength * headDim), to);
        }
      });
      rows.push(sequence);
    }
    profile.cacheMs += performance.now() - cacheStarted;
  };

  /** One decode step over every active row. */
  const decode = async (): Promise<void> => {
    const batch = rows.length;
    const cacheStarted = performance.now();
    ensureCapacity(batch, length + 1);
    profile.cacheMs += performance.now() - cacheStarted;
    const feedStarted = performance.now();
    const inputIds = new BigInt64Array(batch); // [batch, 1]
    const positionIds = new BigInt64Array(batch); // [batch, 1]
    const starts = new BigInt64Array(batch); // [batch]
    rows.forEach((row, r) => {
      inputIds[r] = BigInt(row.pendingToken);
      positionIds[r] = BigInt(row.position);
      starts[r] = BigInt(row.start);
    });
    const feeds: Record<string, TensorValue> = {
      ...decodeWeightFeeds,
      [INPUT_IDS]: createTensorValue('int64', [batch, 1], inputIds),
      [POSITION_IDS]: createTensorValue('int64', [batch, 1], positionIds),
      [CACHE_START]: createTensorValue('int64', [batch], starts),
      [CACHE_LENGTH]: createTensorValue('int64', [1], BigInt64Array.of(BigInt(length))),
      ...pastFeeds(batch),
    };
    // How each row draws (see methodOf); the graph's outputs that those need.
    const methods = rows.map((row) => (row.call.done ? ({ kind: 'ranked', candidates: 1 } as const) : methodOf(row)));
    let candidates = 1;
    const drawRows: number[] = [];
    for (const [r, method] of methods.entries()) {
      if (method.kind === 'ranked') candidates = Math.max(candidates, method.candidates);
      else if (method.kind === 'drawn') drawRows.push(r);
    }
    const needLogits = methods.some((method) => method.kind === 'logits');
    // Uniform numbers of the drawn rows, from their own streams (one per draw, as the JS sampler takes); the states
    // before them, so that a step falling back to the logits lets the sampler draw the same numbers.
    const drawStates = drawRows.map((r) => (rows[r] as Sequence).rng.getState());
    const uniforms = Float64Array.from(drawRows, (r) => (rows[r] as Sequence).rng.next());
    profile.feedMs += performance.now() - feedStarted;
    const runStarted = performance.now();
    const session = (await sessions()).decode;
    const runDecode = (logitsOnly: boolean): Promise<Record<string, TensorValue>> => {
      const draws = logitsOnly ? [] : drawRows;
      return session.run(
        {
          ...feeds,
          [TOP_K]: createTensorValue('int64', [1], BigInt64Array.of(BigInt(logitsOnly ? 1 : candidates))),
          [DRAW_ROWS]: createTensorValue('int64', [draws.length], BigInt64Array.from(draws, BigInt)),
          [DRAW_UNIFORM]: createTensorValue('float64', [draws.length], logitsOnly ? new Float64Array(0) : uniforms),
          [DRAW_INVERSE_TEMPERATURE]: createTensorValue('float64', [draws.length], Float64Array.from(draws, (r) => 1 / (rows[r] as Sequence).sampling.temperature)),
        },
        { outputs: logitsOnly ? logitOutputs : needLogits ? allOutputs : inGraphOutputs },
      );
    };
    let inGraph = methods.some((method) => method.kind !== 'logits');
    let out = await runDecode(!inGraph);
    if (inGraph && !(out[LOGIT_SUMS]?.data as Float32Array).every(Number.isFinite)) {
      // A non-finite logit somewhere: run the (pure) step again for the logits, so the sampler names it (the drawn
      // rows' streams go back to where they were, so they draw the same numbers).
      inGraph = false;
      drawRows.forEach((r, i) => (rows[r] as Sequence).rng.setState(drawStates[i] as RngState));
      out = await runDecode(true);
    }
    profile.decodeRunMs += performance.now() - runStarted;
    if (inGraph && !needLogits) profile.rankedSteps += 1;
    profile.decodeSteps += 1;
    profile.decodeRowSteps += batch;

    const writeStarted = performance.now();
    const slotOffset = length * headDim;
    const rowStep = rowStride();
    const headStep = headStride();
    cache.forEach((layer, i) => {
      const newKeys = out[newCacheName(i, 'key')]?.data as Float32Array; // [batch, kvHeads, 1, headDim]
      const newValues = out[newCacheName(i, 'value')]?.data as Float32Array;
      const { key, value } = layer;
      // Plain loops: headDim floats per (row, head), no view objects per copy.
      for (let r = 0; r < batch; r++) {
        for (let h = 0; h < kvHeads; h++) {
          const from = (r * kvHeads + h) * headDim;
          const to = r * rowStep + h * headStep + slotOffset;
          for (let d = 0; d < headDim; d++) {
            key[to + d] = newKeys[from + d] as number;
            value[to + d] = newValues[from + d] as number;
          }
        }
      }
    });
    length += 1;
    profile.cacheMs += performance.now() - writeStarted;

    const samplingStarted = performance.now();
    const perCall = new Map<Call, number>();
    const finished = new Set<Sequence>();
    const logits = out['logits']?.data as Float32Array | undefined; // [batch, vocab]
    const topValues = out[TOP_VALUES]?.data as Float32Array | undefined; // [batch, candidates]
    const topIds = out[TOP_IDS]?.data as Int32Array | undefined;
    const drawnIds = out[DRAWN_IDS]?.data as Int32Array | undefined; // [draws]
    const drawnLogprobs = out[DRAWN_LOGPROBS]?.data as Float64Array | undefined;
    let nextDraw = 0;
    rows.forEach((row, r) => {
      row.position += 1;
      const method = methods[r] as ReturnType<typeof methodOf>;
      const draw = method.kind === 'drawn' ? nextDraw++ : -1;
      if (row.call.done) return;
      perCall.set(row.call, (perCall.get(row.call) ?? 0) + 1);
      let drawn: SampledToken;
      if (inGraph && method.kind === 'ranked') {
        const slice = [r * candidates, (r + 1) * candidates] as const;
        drawn = sampler.sampleRanked((topValues as Float32Array).subarray(...slice), (topIds as Int32Array).subarray(...slice), row.sampling, row.rng);
      } else if (inGraph && method.kind === 'drawn') {
        drawn = { tokenId: (drawnIds as Int32Array)[draw] as number, logprob: (drawnLogprobs as Float64Array)[draw] as number };
      } else {
        drawn = sampleLogits(row, (logits as Float32Array).subarray(r * vocabSize, (r + 1) * vocabSize));
      }
      if (accept(row, drawn)) finished.add(row);
    });
    profile.samplingMs += performance.now() - samplingStarted;
    tokensEvent(perCall);
    removeRows((row) => finished.has(row) || row.call.done);
  };

  const run = async (): Promise<void> => {
    try {
      for (;;) {
        dropFinishedCalls();
        if (waiting.length === 0 && rows.length === 0) return;
        if (closed) throw new MasaError('ENGINE_FAILED', 'ort engine: closed while generating');
        // New weights (frozen mode): rebuild the sessions once no row is decoding on the old ones.
        if (rows.length === 0 && sessionsPromise !== undefined && weightsVersion !== undefined && weightsVersion() !== builtVersion) await releaseSessions();
        await admit();
        dropFinishedCalls();
        if (rows.length > 0) await decode();
      }
    } catch (error: unknown) {
      const failure = MasaError.isInstance(error) ? error : new MasaError('ENGINE_FAILED', `ort engine: a step failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      waiting.length = 0;
      rows = [];
      length = 0;
      for (const call of [...activeCalls]) finishCall(call, failure);
    }
  };
  /** Starts the scheduling loop unless it runs; restarts it if work arrived while it was winding down. */
  const kick = (): void => {
    if (loop !== undefined) return;
    loop = run().finally(() => {
      loop = undefined;
      if (!closed && waiting.length > 0) kick();
    });
  };

  const prepare = (request: RolloutRequest, requestIndex: number, n: number, sampling: ResolvedSamplingParams, call: Call): Sequence[] => {
    let promptIds: number[];
    if (request.promptTokenIds !== undefined) {
      promptIds = [...request.promptTokenIds];
    } else {
      if (tokenizer?.encodeChat === undefined) {
        throw new MasaError('ARGUMENT_INVALID', `request ${JSON.stringify(request.id)}: messages need a tokenizer with a chat template; create the engine with one, or send promptTokenIds`);
      }
      promptIds = tokenizer.encodeChat(request.messages ?? [], { addGenerationPrompt: true, ...(options.enableThinking === undefined ? {} : { enableThinking: options.enableThinking }) });
    }
    if ((request.stopStrings?.length ?? 0) > 0 && tokenizer === undefined) {
      throw new MasaError('ARGUMENT_INVALID', `request ${JSON.stringify(request.id)}: stopStrings need a tokenizer to see text; create the engine with one`);
    }
    if (promptIds.length + request.maxNewTokens > config.maxPositionEmbeddings) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `request ${JSON.stringify(request.id)}: prompt (${promptIds.length} tokens) + maxNewTokens (${request.maxNewTokens}) exceeds the model's context of ${config.maxPositionEmbeddings} (max_position_embeddings in config.json)`,
        { details: { requestId: request.id, field: 'maxNewTokens' } },
      );
    }
    const seed = request.seed ?? hashString(`${defaultSeed}:${request.id}`);
    const stopTokenIds = [...new Set([...eosTokenIds, ...(request.stopTokenIds ?? [])])];
    const decode = tokenizer === undefined ? () => '' : (ids: readonly number[]) => tokenizer.decode(ids, { skipSpecialTokens });
    return Array.from({ length: n }, (_, sampleIndex) => ({
      call,
      request,
      requestIndex,
      sampleIndex,
      promptIds,
      sampling,
      rng: createSampleRng(seed, sampleIndex),
      tracker: createSequenceTracker({
        decode,
        maxNewTokens: request.maxNewTokens,
        budgetIsCutoff: request.budgetIsCutoff ?? false,
        stopTokenIds,
        stopStrings: request.stopStrings ?? [],
      }),
      logprobs: [],
      rawLogprobs: request.returnRawLogprobs === true ? [] : null,
      position: 0,
      pendingToken: -1,
      start: 0,
    }));
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const failure = new MasaError('ENGINE_FAILED', 'ort engine: closed; create a new engine');
    for (const call of [...activeCalls]) finishCall(call, failure);
    await loop?.catch(() => undefined);
    await releaseSessions();
    cache = [];
  };

  return {
    specificationVersion: 'v1',
    name: `ort:${config.architecture}`,
    intraOpNumThreads,
    profile: () => ({ ...profile }),
    resetProfile: () => {
      profile = emptyProfile();
    },
    async doGenerate(requests: readonly RolloutRequest[], generateOptions: GenerateOptions = {}) {
      const callOptions = generateOptions as GenerateOptions;
      const { signal } = callOptions;
      if (closed) throw new MasaError('ENGINE_FAILED', 'ort engine: closed; create a new engine');
      if (signal?.aborted === true) throw new MasaError('ABORTED', 'ort engine: generation aborted by the caller before it started', { cause: signal.reason });
      const validated = requests.map((request) => validateRolloutRequest(request, { vocabSize }));
      return new Promise<RolloutResult[]>((resolve, reject) => {
        const onAbort = (): void => finishCall(call, new MasaError('ABORTED', 'ort engine: generation aborted by the caller', { cause: signal?.reason }));
        const call: Call = {
          options: callOptions,
          results: [],
          remaining: 0,
          totalTokens: 0,
          started: performance.now(),
          done: false,
          resolve,
          reject,
          cleanup: () => signal?.removeEventListener('abort', onAbort),
        };
        let sequences: Sequence[];
        try {
          sequences = validated.flatMap(({ request, n, sampling }, requestIndex) => {
            const prepared = prepare(request, requestIndex, n, sampling, call);
            call.results.push({ requestId: request.id, promptTokenIds: [...(prepared[0] as Sequence).promptIds], samples: [] });
            return prepared;
          });
        } catch (error: unknown) {
          reject(error);
          return;
        }
        call.remaining = sequences.length;
        activeCalls.add(call);
        signal?.addEventListener('abort', onAbort, { once: true });
        emit(call, { type: 'generation-start', requests: validated.length, sequences: sequences.length });
        if (sequences.length === 0) {
          finishCall(call);
          return;
        }
        waiting.push(...sequences);
        kick();
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
