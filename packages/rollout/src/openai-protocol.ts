/**
 * The OpenAI wire format as `masa serve` speaks it: request bodies of
 * `/v1/completions` and `/v1/chat/completions` → {@link RolloutRequest}s, and
 * results → response bodies and stream chunks. Field names follow OpenAI plus
 * the vLLM extensions masa-rl's own client uses (`top_k`, `stop_token_ids`,
 * `return_token_ids`, `return_tokens_as_token_ids`) and one masa extension
 * (`return_raw_logprobs` → `raw_logprobs` per choice).
 *
 * Anything the engine cannot honour is refused with a 400 naming the field,
 * rather than silently ignored (penalties, `logit_bias`, `echo`, `best_of`,
 * `suffix`, tools).
 */
import { MasaError, type ChatMessage, type RolloutRequest, type RolloutResult, type RolloutSample } from '@masa-rl/core';

/**
 * A refused request: a `MasaError` (`ARGUMENT_INVALID`) whose details carry the HTTP status and the OpenAI
 * error fields; the server turns it into `{ error: { message, type, param, code } }`.
 */
export function requestError(status: number, message: string, options: { param?: string; code?: string } = {}): MasaError {
  return new MasaError('ARGUMENT_INVALID', message, {
    details: { httpStatus: status, param: options.param ?? null, openaiCode: options.code ?? null },
  });
}

/** The OpenAI error answer for anything thrown while serving a request. */
export function errorAnswer(error: unknown): { status: number; body: { error: { message: string; type: string; param: string | null; code: string | null } } } {
  if (MasaError.isInstance(error)) {
    const details = error.details as { httpStatus?: unknown; param?: unknown; openaiCode?: unknown };
    const status = typeof details.httpStatus === 'number' ? details.httpStatus : error.code === 'ARGUMENT_INVALID' ? 400 : 500;
    return {
      status,
      body: {
        error: {
          message: error.message,
          type: status >= 500 ? 'server_error' : 'invalid_request_error',
          param: typeof details.param === 'string' ? details.param : null,
          code: typeof details.openaiCode === 'string' ? details.openaiCode : error.code,
        },
      },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { error: { message: `internal error: ${message}`, type: 'server_error', param: null, code: 'INTERNAL' } } };
}

/** Text ↔ ids, for string prompts and per-token strings in logprobs. `@masa-rl/model`'s tokenizer fits. */
export interface ServerTokenizer {
  encode(text: string): number[];
  decode(tokenIds: readonly number[]): string;
}

export type Endpoint = 'completions' | 'chat';

/** A parsed request: engine requests plus how to shape the answer. */
export interface ParsedOpenAIRequest {
  endpoint: Endpoint;
  requests: RolloutRequest[];
  n: number;
  stream: boolean;
  includeUsage: boolean;
  /** Completions: number of top logprobs asked for (null: none). Chat: 0 when `logprobs: true`, else null. */
  logprobs: number | null;
  returnTokenIds: boolean;
  tokensAsIds: boolean;
  returnRawLogprobs: boolean;
}

type Body = Record<string, unknown>;

const invalid = (param: string, message: string): MasaError => requestError(400, message, { param, code: 'invalid_value' });

function optionalNumber(body: Body, param: string): number | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(param, `${param} must be a number, got ${JSON.stringify(value)}`);
  return value;
}

function optionalInteger(body: Body, param: string, min: number, max: number): number | undefined {
  const value = optionalNumber(body, param);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) throw invalid(param, `${param} must be an integer in [${min}, ${max}], got ${value}`);
  return value;
}

function optionalBoolean(body: Body, param: string): boolean | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(param, `${param} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function isTokenIds(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => Number.isInteger(item) && (item as number) >= 0);
}

/** Fields with a non-default value that the engine cannot honour. */
const UNSUPPORTED: [param: string, isDefault: (value: unknown) => boolean][] = [
  ['presence_penalty', (value) => value === 0],
  ['frequency_penalty', (value) => value === 0],
  ['repetition_penalty', (value) => value === 1],
  ['min_p', (value) => value === 0],
  ['logit_bias', (value) => typeof value === 'object' && value !== null && Object.keys(value).length === 0],
  ['echo', (value) => value === false],
  ['suffix', (value) => value === ''],
  ['ignore_eos', (value) => value === false],
  ['tools', (value) => Array.isArray(value) && value.length === 0],
  ['response_format', (value) => typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'text'],
];

/**
 * Parses and checks a request body. `requestId` prefixes the engine request ids
 * (`<requestId>-<prompt index>`).
 */
export function parseOpenAIRequest(
  endpoint: Endpoint,
  raw: unknown,
  context: { model: string; requestId: string; tokenizer?: ServerTokenizer | undefined; defaultMaxTokens: number; maxN: number },
): ParsedOpenAIRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw requestError(400, 'the request body must be a JSON object');
  const body = raw as Body;
  const model = body['model'];
  if (model !== undefined && model !== null) {
    if (typeof model !== 'string') throw invalid('model', 'model must be a string');
    if (model !== context.model) {
      throw requestError(404, `The model \`${model}\` does not exist; this server serves \`${context.model}\` (GET /v1/models)`, {
        param: 'model',
        code: 'model_not_found',
      });
    }
  }
  for (const [param, isDefault] of UNSUPPORTED) {
    const value = body[param];
    if (value !== undefined && value !== null && !isDefault(value)) {
      throw requestError(400, `${param} is not supported by masa serve; leave it out`, { param, code: 'unsupported_parameter' });
    }
  }

  const n = optionalInteger(body, 'n', 1, context.maxN) ?? 1;
  const bestOf = optionalInteger(body, 'best_of', 1, context.maxN);
  if (bestOf !== undefined && bestOf !== n) throw requestError(400, 'best_of is not supported by masa serve; leave it out or set it equal to n', { param: 'best_of' });
  const maxTokensParam = endpoint === 'chat' && body['max_completion_tokens'] !== undefined && body['max_completion_tokens'] !== null ? 'max_completion_tokens' : 'max_tokens';
  const maxNewTokens = optionalInteger(body, maxTokensParam, 1, Number.MAX_SAFE_INTEGER) ?? context.defaultMaxTokens;
  const temperature = optionalNumber(body, 'temperature');
  if (temperature !== undefined && temperature < 0) throw invalid('temperature', `temperature must be ≥ 0, got ${temperature}`);
  const topP = optionalNumber(body, 'top_p');
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw invalid('top_p', `top_p must be in (0, 1], got ${topP}`);
  const topKRaw = optionalInteger(body, 'top_k', -1, Number.MAX_SAFE_INTEGER);
  const topK = topKRaw === undefined || topKRaw <= 0 ? 0 : topKRaw; // vLLM: -1 (or 0) disables top-k
  const seed = optionalInteger(body, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);

  const stopValue = body['stop'];
  let stopStrings: string[] = [];
  if (typeof stopValue === 'string') stopStrings = [stopValue];
  else if (Array.isArray(stopValue)) stopStrings = stopValue as string[];
  else if (stopValue !== undefined && stopValue !== null) throw invalid('stop', 'stop must be a string or an array of strings');
  if (stopStrings.some((stop) => typeof stop !== 'string' || stop.length === 0)) throw invalid('stop', 'stop must hold non-empty strings');
  const stopIdsValue = body['stop_token_ids'];
  let stopTokenIds: number[] = [];
  if (Array.isArray(stopIdsValue) && stopIdsValue.every((id) => Number.isInteger(id) && (id as number) >= 0)) stopTokenIds = stopIdsValue as number[];
  else if (stopIdsValue !== undefined && stopIdsValue !== null) throw invalid('stop_token_ids', 'stop_token_ids must be an array of token ids (integers ≥ 0)');

  let logprobs: number | null = null;
  if (endpoint === 'completions') {
    logprobs = optionalInteger(body, 'logprobs', 0, 20) ?? null;
  } else if (optionalBoolean(body, 'logprobs') === true) {
    logprobs = optionalInteger(body, 'top_logprobs', 0, 20) ?? 0;
  }
  const stream = optionalBoolean(body, 'stream') ?? false;
  const streamOptions = body['stream_options'];
  if (streamOptions !== undefined && streamOptions !== null && (typeof streamOptions !== 'object' || Array.isArray(streamOptions))) {
    throw invalid('stream_options', 'stream_options must be an object');
  }
  const includeUsage = stream && optionalBoolean((streamOptions ?? {}) as Body, 'include_usage') === true;

  const common = {
    n,
    maxNewTokens,
    ...(temperature === undefined ? {} : { temperature }),
    ...(topP === undefined ? {} : { topP }),
    ...(topK === 0 ? {} : { topK }),
    ...(seed === undefined ? {} : { seed }),
    ...(stopStrings.length === 0 ? {} : { stopStrings }),
    ...(stopTokenIds.length === 0 ? {} : { stopTokenIds }),
    ...(optionalBoolean(body, 'return_raw_logprobs') === true ? { returnRawLogprobs: true } : {}),
  };

  const requests: RolloutRequest[] = [];
  if (endpoint === 'completions') {
    const prompt = body['prompt'];
    let prompts: (number[] | string)[];
    if (typeof prompt === 'string') prompts = [prompt];
    else if (isTokenIds(prompt)) prompts = [prompt];
    else if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((item) => typeof item === 'string' || isTokenIds(item))) prompts = prompt as (number[] | string)[];
    else throw invalid('prompt', 'prompt must be a string, an array of strings, an array of token ids, or an array of token-id arrays (non-empty)');
    for (const [index, item] of prompts.entries()) {
      let promptTokenIds: number[];
      if (typeof item === 'string') {
        if (context.tokenizer === undefined) {
          throw invalid('prompt', 'this server has no tokenizer; send prompt as token ids (masa serve --model <folder> loads one)');
        }
        promptTokenIds = context.tokenizer.encode(item);
        if (promptTokenIds.length === 0) throw invalid('prompt', `prompt ${index} is empty after tokenization`);
      } else {
        promptTokenIds = item;
      }
      requests.push({ id: `${context.requestId}-${index}`, promptTokenIds, ...common });
    }
  } else {
    const messages = body['messages'];
    if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages', 'messages must be a non-empty array of {role, content}');
    const parsed: ChatMessage[] = messages.map((message: unknown, index) => {
      const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
      if (role !== 'system' && role !== 'user' && role !== 'assistant') {
        throw invalid(`messages[${index}].role`, `messages[${index}].role must be "system", "user" or "assistant", got ${JSON.stringify(role)}`);
      }
      if (typeof content === 'string') return { role, content };
      if (Array.isArray(content) && content.every((part: unknown) => (part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string')) {
        return { role, content: (content as { text: string }[]).map((part) => part.text).join('') };
      }
      throw invalid(`messages[${index}].content`, `messages[${index}].content must be a string or an array of {type: "text", text} parts`);
    });
    requests.push({ id: `${context.requestId}-0`, messages: parsed, ...common });
  }
  return {
    endpoint,
    requests,
    n,
    stream,
    includeUsage,
    logprobs,
    returnTokenIds: optionalBoolean(body, 'return_token_ids') === true,
    tokensAsIds: optionalBoolean(body, 'return_tokens_as_token_ids') === true,
    returnRawLogprobs: common.returnRawLogprobs === true,
  };
}

/** The wire finish reason: MASA's `cutoff` is a budget stop, `length` to OpenAI clients. */
export const wireFinishReason = (reason: RolloutSample['finishReason'] | null): 'stop' | 'length' | null =>
  reason === null ? null : reason === 'stop' ? 'stop' : 'length';

/** Spells one token for logprobs: `token_id:N` when asked for (or without a tokenizer), else its decoded text. */
export function tokenString(tokenId: number, parsed: ParsedOpenAIRequest, tokenizer: ServerTokenizer | undefined): string {
  return parsed.tokensAsIds || tokenizer === undefined ? `token_id:${tokenId}` : tokenizer.decode([tokenId]);
}

/**
 * Logprobs of one piece of a sample in the endpoint's shape. We know only the sampled token's logprob, so
 * `top_logprobs` lists that token alone (when any are asked for).
 */
export function formatLogprobs(
  parsed: ParsedOpenAIRequest,
  tokenIds: readonly number[],
  logprobs: readonly number[],
  tokenizer: ServerTokenizer | undefined,
  textOffset: number,
): unknown {
  if (parsed.logprobs === null) return null;
  const tokens = tokenIds.map((id) => tokenString(id, parsed, tokenizer));
  const values = logprobs.map((value) => (Number.isFinite(value) ? value : -9999));
  if (parsed.endpoint === 'chat') {
    return {
      content: tokens.map((token, index) => ({
        token,
        logprob: values[index],
        bytes: [...Buffer.from(token, 'utf8')],
        top_logprobs: parsed.logprobs === 0 ? [] : [{ token, logprob: values[index], bytes: [...Buffer.from(token, 'utf8')] }],
      })),
    };
  }
  const offsets: number[] = [];
  let offset = textOffset;
  for (const token of tokens) {
    offsets.push(offset);
    offset += token.length;
  }
  return {
    tokens,
    token_logprobs: values,
    top_logprobs: tokens.map((token, index) => (parsed.logprobs === 0 ? null : { [token]: values[index] })),
    text_offset: offsets,
  };
}

/** The non-streaming answer body. */
export function formatResponse(
  parsed: ParsedOpenAIRequest,
  results: readonly RolloutResult[],
  meta: { id: string; created: number; model: string; tokenizer: ServerTokenizer | undefined },
): Record<string, unknown> {
  const choices: Record<string, unknown>[] = [];
  let completionTokens = 0;
  let promptTokens = 0;
  results.forEach((result, promptIndex) => {
    promptTokens += result.promptTokenIds.length;
    result.samples.forEach((sample, sampleIndex) => {
      completionTokens += sample.tokenIds.length;
      const choice: Record<string, unknown> = { index: promptIndex * parsed.n + sampleIndex };
      if (parsed.endpoint === 'chat') choice['message'] = { role: 'assistant', content: sample.text };
      else choice['text'] = sample.text;
      choice['logprobs'] = formatLogprobs(parsed, sample.tokenIds, sample.logprobs, meta.tokenizer, 0);
      choice['finish_reason'] = wireFinishReason(sample.finishReason);
      if (parsed.returnTokenIds) {
        choice['token_ids'] = sample.tokenIds;
        if (parsed.endpoint === 'completions') choice['prompt_token_ids'] = result.promptTokenIds;
      }
      if (parsed.returnRawLogprobs) choice['raw_logprobs'] = sample.rawLogprobs ?? null;
      choices.push(choice);
    });
  });
  const body: Record<string, unknown> = {
    id: meta.id,
    object: parsed.endpoint === 'chat' ? 'chat.completion' : 'text_completion',
    created: meta.created,
    model: meta.model,
    choices,
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
  if (parsed.returnTokenIds && parsed.endpoint === 'chat') body['prompt_token_ids'] = results[0]?.promptTokenIds ?? [];
  return body;
}
