/**
 * A {@link RolloutEngine} over an OpenAI-compatible HTTP server: vLLM, SGLang
 * or `masa serve`.
 *
 * - Token-id prompts go to `/completions` with `prompt` as a list of ids
 *   (vLLM, SGLang and `masa serve` accept it); chat prompts go to
 *   `/chat/completions` and the server applies its chat template.
 * - Token ids come back through `return_token_ids` (vLLM ≥ 0.10.2,
 *   `masa serve`) or, failing that, `return_tokens_as_token_ids` (tokens
 *   spelled `token_id:123` in the logprobs).
 * - Per-token logprobs come from `logprobs` (completions: `0`, the sampled
 *   token only; chat: `true`). vLLM returns the *raw* model logprobs unless the
 *   server runs with `--logprobs-mode processed_logprobs`; `masa serve`
 *   returns the sampling distribution's, as {@link RolloutSample.logprobs}
 *   promises.
 * - `n` and `seed` go to the server as they are, so `masa serve` draws the
 *   same per-(seed, sample index) streams as the local engine.
 * - 408/429/5xx, network errors and per-attempt timeouts are retried with
 *   exponential backoff and jitter (honouring `Retry-After`); the last failure
 *   becomes `ENGINE_FAILED` naming the URL and status.
 */
import {
  MasaError,
  type FinishReason,
  type GenerateOptions,
  type RolloutEngine,
  type RolloutEvent,
  type RolloutRequest,
  type RolloutResult,
  type RolloutSample,
} from '@masa-rl/core';
import { validateRolloutRequest, type ValidatedRequest } from './request-validation.js';

export interface OpenAIEngineOptions {
  /** The server's API root, as OpenAI clients take it: `http://127.0.0.1:8000/v1`. */
  baseURL: string;
  /** Sent as `Authorization: Bearer …`; never logged or put in errors. */
  apiKey?: string;
  /** Model name the server serves (`GET /v1/models` lists them). */
  model: string;
  /** HTTP requests in flight at once. @default 8 */
  concurrency?: number;
  /** Retries after the first attempt on 408/429/5xx, network errors and timeouts. @default 4 */
  maxRetries?: number;
  /** Deadline of one attempt, in milliseconds. @default 600000 */
  timeoutMs?: number;
  /** First backoff delay; doubles each retry (with jitter), capped at 30 s. @default 500 */
  retryBaseDelayMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Require token ids and per-token logprobs in every answer (training needs them); when false, a server that
   * gives only text yields samples with empty `tokenIds`/`logprobs` (enough for evaluation).
   * @default true
   */
  strict?: boolean;
  /** Extra fields merged into every request body (server-specific knobs). @default {} */
  extraBody?: Record<string, unknown>;
  /** Test seams: clock, randomness of the jitter, sleeping. */
  _internal?: {
    now?: () => number;
    random?: () => number;
    sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  };
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const MAX_DELAY_MS = 30_000;

interface OpenAIChoice {
  index?: number;
  text?: string;
  message?: { content?: string | null };
  finish_reason?: string | null;
  token_ids?: number[] | null;
  prompt_token_ids?: number[] | null;
  raw_logprobs?: number[] | null;
  logprobs?: {
    token_logprobs?: (number | null)[];
    tokens?: string[];
    content?: { token?: string; logprob?: number }[] | null;
  } | null;
}

interface OpenAIResponse {
  choices?: OpenAIChoice[];
  prompt_token_ids?: number[] | null;
}

/** Creates an engine that samples through an OpenAI-compatible server. */
export function createOpenAIEngine(options: OpenAIEngineOptions): RolloutEngine {
  const {
    baseURL,
    apiKey,
    model,
    concurrency = 8,
    maxRetries = 4,
    timeoutMs = 600_000,
    retryBaseDelayMs = 500,
    fetch: fetchImpl = globalThis.fetch,
    strict = true,
    extraBody = {},
    _internal = {},
  } = options;
  const now = _internal.now ?? (() => performance.now());
  const random = _internal.random ?? Math.random;
  const sleep = _internal.sleep ?? abortableSleep;
  let root: URL;
  try {
    root = new URL(baseURL.replace(/\/+$/, ''));
  } catch (error: unknown) {
    throw new MasaError('CONFIG_INVALID', `createOpenAIEngine: baseURL ${JSON.stringify(baseURL)} is not a URL; pass the API root, e.g. http://127.0.0.1:8000/v1`, {
      cause: error,
    });
  }
  if (root.protocol !== 'http:' && root.protocol !== 'https:') {
    throw new MasaError('CONFIG_INVALID', `createOpenAIEngine: baseURL must be http(s), got ${root.protocol}`);
  }
  if (typeof model !== 'string' || model.length === 0) throw new MasaError('CONFIG_INVALID', 'createOpenAIEngine: pass model (the name the server serves)');
  for (const [name, value, min] of [
    ['concurrency', concurrency, 1],
    ['maxRetries', maxRetries, 0],
    ['timeoutMs', timeoutMs, 1],
    ['retryBaseDelayMs', retryBaseDelayMs, 0],
  ] as const) {
    if (!Number.isInteger(value) || value < min) throw new MasaError('CONFIG_INVALID', `createOpenAIEngine: ${name} must be an integer ≥ ${min}, got ${value}`);
  }
  const endpoint = (path: string): string => `${root.href.replace(/\/+$/, '')}/${path}`;
  const limiter = createLimiter(concurrency);
  const name = `openai:${root.href.replace(/\/+$/, '')}`;

  async function post(url: string, body: unknown, signal: AbortSignal | undefined): Promise<OpenAIResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (apiKey !== undefined) headers['authorization'] = `Bearer ${apiKey}`;
    const payload = JSON.stringify(body);
    let lastProblem = '';
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted === true) throw aborted(url, signal.reason);
      const attemptSignal = signal === undefined ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
      let retryAfterMs: number | undefined;
      try {
        const response = await fetchImpl(url, { method: 'POST', headers, body: payload, signal: attemptSignal });
        const text = await response.text();
        if (response.ok) {
          try {
            return JSON.parse(text) as OpenAIResponse;
          } catch (error: unknown) {
            throw new MasaError('ENGINE_FAILED', `POST ${url}: the server answered ${response.status} with a body that is not JSON: ${preview(text)}`, {
              cause: error,
              details: { url, status: response.status },
            });
          }
        }
        const message = serverMessage(text);
        lastProblem = `HTTP ${response.status}${message === '' ? '' : `: ${message}`}`;
        if (!RETRYABLE_STATUS.has(response.status)) {
          throw new MasaError('ENGINE_FAILED', `POST ${url} failed with ${lastProblem}${hintFor(response.status)}`, {
            details: { url, status: response.status, attempts: attempt + 1 },
          });
        }
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      } catch (error: unknown) {
        if (MasaError.isInstance(error)) throw error;
        if (isAborted(signal)) throw aborted(url, signal?.reason);
        const timedOut = attemptSignal.aborted;
        lastProblem = timedOut ? `no answer within ${timeoutMs} ms (timeoutMs)` : `network error: ${describeNetworkError(error)}`;
      }
      if (attempt >= maxRetries) {
        throw new MasaError('ENGINE_FAILED', `POST ${url} failed after ${attempt + 1} attempt(s): ${lastProblem}. Check that the server is up and reachable (baseURL), or raise maxRetries/timeoutMs`, {
          details: { url, attempts: attempt + 1, problem: lastProblem },
        });
      }
      const exponential = Math.min(MAX_DELAY_MS, retryBaseDelayMs * 2 ** attempt);
      const jittered = exponential / 2 + random() * (exponential / 2);
      await sleep(Math.min(MAX_DELAY_MS * 2, Math.max(jittered, retryAfterMs ?? 0)), signal).catch((error: unknown) => {
        throw aborted(url, signal?.reason ?? error);
      });
    }
  }

  function buildBody(validated: ValidatedRequest): { url: string; body: Record<string, unknown> } {
    const { request, n, sampling } = validated;
    const body: Record<string, unknown> = {
      model,
      n,
      max_tokens: request.maxNewTokens,
      temperature: sampling.temperature,
      top_p: sampling.topP,
      return_token_ids: true,
      return_tokens_as_token_ids: true,
    };
    if (sampling.topK > 0) body['top_k'] = sampling.topK;
    if (request.seed !== undefined) body['seed'] = request.seed;
    if (request.stopStrings !== undefined && request.stopStrings.length > 0) body['stop'] = [...request.stopStrings];
    if (request.stopTokenIds !== undefined && request.stopTokenIds.length > 0) body['stop_token_ids'] = [...request.stopTokenIds];
    if (request.returnRawLogprobs === true) body['return_raw_logprobs'] = true;
    if (request.promptTokenIds !== undefined) {
      body['prompt'] = [...request.promptTokenIds];
      body['logprobs'] = 0;
      return { url: endpoint('completions'), body: { ...body, ...extraBody } };
    }
    body['messages'] = (request.messages ?? []).map((message) => ({ role: message.role, content: message.content }));
    body['logprobs'] = true;
    body['top_logprobs'] = 0;
    return { url: endpoint('chat/completions'), body: { ...body, ...extraBody } };
  }

  function parseResponse(url: string, validated: ValidatedRequest, response: OpenAIResponse): RolloutResult {
    const { request, n } = validated;
    const fail = (message: string): never => {
      throw new MasaError('ENGINE_FAILED', `POST ${url} (request ${JSON.stringify(request.id)}): ${message}`, { details: { url, requestId: request.id } });
    };
    const choices = Array.isArray(response.choices) ? [...response.choices] : fail('the answer has no choices array');
    if (choices.length !== n) fail(`asked for n=${n} samples, the server returned ${choices.length}`);
    choices.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    let promptTokenIds: number[] = request.promptTokenIds !== undefined ? [...request.promptTokenIds] : [];
    if (request.messages !== undefined) {
      const ids = response.prompt_token_ids ?? choices[0]?.prompt_token_ids;
      if (Array.isArray(ids)) promptTokenIds = ids;
      else if (strict) fail('the server returned no prompt_token_ids; use vLLM ≥ 0.10.2 or masa serve (return_token_ids), or pass strict: false');
    }
    const samples = choices.map((choice, sampleIndex): RolloutSample => {
      const text = (request.messages !== undefined ? choice.message?.content : choice.text) ?? '';
      let logprobs: number[] = [];
      let tokensFromLogprobs: string[] | undefined;
      if (choice.logprobs?.token_logprobs !== undefined) {
        logprobs = choice.logprobs.token_logprobs.map((value) => value ?? Number.NaN);
        tokensFromLogprobs = choice.logprobs.tokens;
      } else if (Array.isArray(choice.logprobs?.content)) {
        logprobs = choice.logprobs.content.map((entry) => entry.logprob ?? Number.NaN);
        tokensFromLogprobs = choice.logprobs.content.map((entry) => entry.token ?? '');
      }
      let tokenIds = Array.isArray(choice.token_ids) ? choice.token_ids : parseTokenIdStrings(tokensFromLogprobs);
      if (tokenIds === undefined) {
        if (strict) fail(`sample ${sampleIndex} has no token ids; use vLLM ≥ 0.10.2 or masa serve (return_token_ids), or pass strict: false`);
        tokenIds = [];
      }
      if (strict && (logprobs.length !== tokenIds.length || logprobs.some((value) => !Number.isFinite(value)))) {
        fail(`sample ${sampleIndex} has ${logprobs.length} finite logprobs for ${tokenIds.length} tokens; the server must return per-token logprobs`);
      }
      const sample: RolloutSample = { tokenIds, text, logprobs, finishReason: mapFinishReason(choice.finish_reason, request) };
      if (request.returnRawLogprobs === true) {
        if (Array.isArray(choice.raw_logprobs)) sample.rawLogprobs = choice.raw_logprobs;
        else if (strict) fail('returnRawLogprobs needs raw_logprobs in the answer (a masa serve extension); other servers cannot give them');
      }
      return sample;
    });
    return { requestId: request.id, promptTokenIds, samples };
  }

  return {
    specificationVersion: 'v1',
    name,
    async doGenerate(requests: readonly RolloutRequest[], generateOptions: GenerateOptions = {}) {
      const { signal, onEvent } = generateOptions;
      if (signal?.aborted === true) throw new MasaError('ABORTED', `${name}: generation aborted by the caller before it started`, { cause: signal.reason });
      const validated = requests.map((request) => validateRolloutRequest(request));
      const start = now();
      const emit = (event: RolloutEvent): void => onEvent?.(event);
      let active = validated.reduce((sum, item) => sum + item.n, 0);
      let totalTokens = 0;
      emit({ type: 'generation-start', requests: validated.length, sequences: active });
      // One failed request stops the others (their HTTP calls are aborted); the caller's signal aborts everything.
      const stopAll = new AbortController();
      const onCallerAbort = (): void => stopAll.abort(signal?.reason);
      signal?.addEventListener('abort', onCallerAbort, { once: true });
      let results: RolloutResult[];
      try {
        results = await Promise.all(
          validated.map(async (item) => {
            const { url, body } = buildBody(item);
            const response = await limiter.run(() => post(url, body, stopAll.signal), stopAll.signal);
            const result = parseResponse(url, item, response);
            const tokens = result.samples.reduce((sum, sample) => sum + sample.tokenIds.length, 0);
            totalTokens += tokens;
            active -= result.samples.length;
            emit({ type: 'tokens-generated', tokens, activeSequences: active });
            result.samples.forEach((sample, sampleIndex) =>
              emit({ type: 'sequence-end', requestId: item.request.id, sampleIndex, tokens: sample.tokenIds.length, finishReason: sample.finishReason }),
            );
            return result;
          }),
        );
      } catch (error: unknown) {
        if (!stopAll.signal.aborted) stopAll.abort(error);
        throw error;
      } finally {
        signal?.removeEventListener('abort', onCallerAbort);
      }
      emit({ type: 'generation-end', tokens: totalTokens, ms: now() - start });
      return results;
    },
  };
}

function mapFinishReason(reason: string | null | undefined, request: RolloutRequest): FinishReason {
  if (reason === 'length') return request.budgetIsCutoff === true ? 'cutoff' : 'length';
  return 'stop';
}

/** `token_id:123` spellings (vLLM's return_tokens_as_token_ids) → ids; undefined when any token is spelled otherwise. */
function parseTokenIdStrings(tokens: readonly string[] | undefined): number[] | undefined {
  if (tokens === undefined) return undefined;
  const ids: number[] = [];
  for (const token of tokens) {
    const match = /^token_id:(\d+)$/.exec(token);
    if (match === null) return undefined;
    ids.push(Number(match[1]));
  }
  return ids;
}

function serverMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
    if (typeof parsed.message === 'string') return parsed.message;
    if (parsed.detail !== undefined) return preview(JSON.stringify(parsed.detail));
  } catch {
    // not JSON: fall through to the raw text
  }
  return preview(text);
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

function hintFor(status: number): string {
  if (status === 401 || status === 403) return ' (pass apiKey / --api-key with a key the server accepts)';
  if (status === 404) return ' (check that baseURL ends with the API root, e.g. /v1, and that the model name is one GET /v1/models lists)';
  return '';
}

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeNetworkError(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const base = error instanceof Error ? error.message : String(error);
  return cause === undefined ? base : `${base} (${typeof code === 'string' ? `${code}: ` : ''}${cause.message})`;
}

/** Read through a call so that TypeScript does not keep an earlier narrowing of `signal.aborted`. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function aborted(url: string, reason: unknown): MasaError {
  return new MasaError('ABORTED', `POST ${url}: generation aborted by the caller`, { cause: reason });
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** At most `limit` tasks at once; waiting tasks leave the queue when their signal aborts. A finished task hands its slot straight to the next waiter. */
function createLimiter(limit: number): { run<T>(task: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> } {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next !== undefined) next();
    else running--;
  };
  return {
    async run(task, signal) {
      if (running < limit) {
        running++;
      } else {
        await new Promise<void>((resolve, reject) => {
          const start = (): void => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = (): void => {
            const at = waiting.indexOf(start);
            if (at >= 0) waiting.splice(at, 1);
            reject(new MasaError('ABORTED', 'generation aborted by the caller while waiting for a free connection', { cause: signal?.reason }));
          };
          waiting.push(start);
          signal?.addEventListener('abort', onAbort, { once: true });
        });
      }
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
