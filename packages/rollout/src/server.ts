/**
 * `masa serve`: an OpenAI-compatible HTTP server over any {@link RolloutEngine}.
 *
 * Routes: `POST /v1/completions`, `POST /v1/chat/completions` (both with
 * `stream: true` as server-sent events), `GET /v1/models`, `GET /health`.
 * Built on `node:http` alone: four routes, JSON bodies and SSE need no
 * framework, and no dependency means nothing to audit or keep current.
 *
 * Robustness: bodies over `maxBodyBytes` get 413 (checked against
 * Content-Length and while reading); malformed JSON and bad fields get 400 with
 * an OpenAI error body; a client that disconnects (mid-stream or while
 * waiting) aborts its engine call through the AbortSignal. Engines of this
 * package stream tokens through `onDelta`; for any other engine, the stream
 * carries the whole sample once it is done.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MasaError, type RolloutEngine, type RolloutResult } from '@masa-rl/core';
import {
  errorAnswer,
  formatLogprobs,
  formatResponse,
  parseOpenAIRequest,
  requestError,
  wireFinishReason,
  type Endpoint,
  type ParsedOpenAIRequest,
  type ServerTokenizer,
} from './openai-protocol.js';
import type { GenerateOptions, SampleDelta } from '@masa-rl/core';

export interface CreateServerOptions {
  /** The engine that samples; the server does not close it. */
  engine: RolloutEngine;
  /** Model name to serve (what `GET /v1/models` lists and requests may name). */
  model: string;
  /** Interface to listen on; keep the loopback default unless the network is trusted. @default '127.0.0.1' */
  host?: string;
  /** TCP port; 0 picks a free one (`listen()` returns it). @default 8000 */
  port?: number;
  /** Largest request body accepted; larger ones get 413. @default 4194304 (4 MiB) */
  maxBodyBytes?: number;
  /** Tokenizer for string prompts on /v1/completions and for token strings in logprobs. @default none (prompts must be token ids) */
  tokenizer?: ServerTokenizer;
  /** Token budget when a request gives no max_tokens. @default 16 (OpenAI's completions default) */
  defaultMaxTokens?: number;
  /** Largest `n` accepted. @default 128 */
  maxN?: number;
  /** When set, requests to /v1/* need `Authorization: Bearer <apiKey>`. @default none */
  apiKey?: string;
  /** Test seams: ids and the `created` clock (seconds). */
  _internal?: { id?: () => string; nowSeconds?: () => number };
}

/** A server; `listen()` starts it. Disposable: `await using server = createServer(…)`. */
export interface RolloutServer {
  /** Starts listening; resolves with the base URL (`http://127.0.0.1:8000`) and the port. */
  listen(): Promise<{ url: string; port: number }>;
  /** Stops accepting, aborts in-flight generations, closes connections. Does not close the engine. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** The request listener, to mount on a server of your own. */
  readonly handler: (request: IncomingMessage, response: ServerResponse) => void;
}

/** Creates an OpenAI-compatible server over `engine`. */
export function createServer(options: CreateServerOptions): RolloutServer {
  const {
    engine,
    model,
    host = '127.0.0.1',
    port = 8000,
    maxBodyBytes = 4 * 1024 * 1024,
    tokenizer,
    defaultMaxTokens = 16,
    maxN = 128,
    apiKey,
    _internal = {},
  } = options;
  if (typeof model !== 'string' || model.length === 0) throw new MasaError('CONFIG_INVALID', 'createServer: pass model (the name to serve, e.g. --served-model-name)');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MasaError('CONFIG_INVALID', `createServer: port must be an integer in [0, 65535], got ${port} (--port)`);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) throw new MasaError('CONFIG_INVALID', `createServer: maxBodyBytes must be a positive integer, got ${maxBodyBytes}`);
  const newId = _internal.id ?? (() => randomUUID().replace(/-/g, ''));
  const nowSeconds = _internal.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const inFlight = new Set<AbortController>();
  const startedSeconds = nowSeconds();
  let server: Server | undefined;

  const sendJson = (response: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void => {
    if (response.headersSent || response.destroyed) return;
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extraHeaders });
    response.end(text);
  };

  /** Reads the body up to the limit; rejects with a 413 error past it. */
  const readBody = (request: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const tooLarge = (): MasaError =>
        requestError(413, `the request body exceeds ${maxBodyBytes} bytes (maxBodyBytes / --max-body-bytes)`, { code: 'request_too_large' });
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        reject(tooLarge());
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) {
          request.removeAllListeners('data');
          request.pause();
          reject(tooLarge());
          return;
        }
        chunks.push(chunk);
      });
      request.on('end', () => resolve(Buffer.concat(chunks)));
      request.on('error', reject);
    });

  const generate = async (parsed: ParsedOpenAIRequest, response: ServerResponse, onDelta?: (delta: SampleDelta) => void): Promise<RolloutResult[] | null> => {
    const controller = new AbortController();
    inFlight.add(controller);
    // A client that goes away (mid-stream or while waiting) aborts its generation.
    const onClose = (): void => {
      if (!response.writableFinished) controller.abort(new Error('client disconnected'));
    };
    response.on('close', onClose);
    try {
      const generateOptions: GenerateOptions = { signal: controller.signal, ...(onDelta === undefined ? {} : { onDelta }) };
      return await engine.doGenerate(parsed.requests, generateOptions);
    } catch (error: unknown) {
      if (controller.signal.aborted) return null; // the client left or the server closes: nobody to answer
      throw error;
    } finally {
      inFlight.delete(controller);
      response.off('close', onClose);
    }
  };

  const serveCompletion = async (endpoint: Endpoint, request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const raw = await readBody(request);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (error: unknown) {
      throw requestError(400, `the request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, { code: 'invalid_json' });
    }
    const id = `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${newId()}`;
    const parsed = parseOpenAIRequest(endpoint, body, { model, requestId: id, tokenizer, defaultMaxTokens, maxN });
    const meta = { id, created: nowSeconds(), model, tokenizer };
    if (!parsed.stream) {
      const results = await generate(parsed, response);
      if (results !== null) sendJson(response, 200, formatResponse(parsed, results, meta));
      return;
    }
    await streamCompletion(parsed, response, meta);
  };

  const streamCompletion = async (parsed: ParsedOpenAIRequest, response: ServerResponse, meta: { id: string; created: number; model: string }): Promise<void> => {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const object = parsed.endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    const write = (payload: unknown): void => {
      if (!response.destroyed) response.write(`data: ${JSON.stringify(payload)}\n\n`);
    };
    const promptIndexOf = new Map(parsed.requests.map((item, index) => [item.id, index]));
    // Per choice: what was streamed so far, so the end can send the rest (engines that do not stream).
    const streamedText = new Map<number, number>();
    const streamedTokens = new Map<number, number>();
    const finished = new Set<number>();
    const chunk = (choiceIndex: number, text: string, tokenIds: readonly number[], logprobs: readonly number[], finishReason: 'stop' | 'length' | null): void => {
      const choice: Record<string, unknown> = { index: choiceIndex };
      const textOffset = streamedText.get(choiceIndex) ?? 0;
      if (parsed.endpoint === 'chat') {
        choice['delta'] = textOffset === 0 && (streamedTokens.get(choiceIndex) ?? 0) === 0 ? { role: 'assistant', content: text } : { content: text };
      } else {
        choice['text'] = text;
      }
      choice['logprobs'] = formatLogprobs(parsed, tokenIds, logprobs, tokenizer, textOffset);
      choice['finish_reason'] = finishReason;
      if (parsed.returnTokenIds) choice['token_ids'] = tokenIds;
      streamedText.set(choiceIndex, textOffset + text.length);
      streamedTokens.set(choiceIndex, (streamedTokens.get(choiceIndex) ?? 0) + tokenIds.length);
      if (finishReason !== null) finished.add(choiceIndex);
      write({ id: meta.id, object, created: meta.created, model: meta.model, choices: [choice] });
    };
    const onDelta = (delta: SampleDelta): void => {
      const promptIndex = promptIndexOf.get(delta.requestId);
      if (promptIndex === undefined) return;
      const choiceIndex = promptIndex * parsed.n + delta.sampleIndex;
      if (finished.has(choiceIndex)) return;
      if (delta.tokenIds.length === 0 && delta.textDelta === '' && delta.finishReason === null) return;
      chunk(choiceIndex, delta.textDelta, delta.tokenIds, delta.logprobs, wireFinishReason(delta.finishReason));
    };
    let results: RolloutResult[] | null;
    try {
      results = await generate(parsed, response, onDelta);
    } catch (error: unknown) {
      write(errorAnswer(error).body);
      response.end('data: [DONE]\n\n');
      return;
    }
    if (results === null) return; // the client is gone
    let promptTokens = 0;
    let completionTokens = 0;
    results.forEach((result, promptIndex) => {
      promptTokens += result.promptTokenIds.length;
      result.samples.forEach((sample, sampleIndex) => {
        completionTokens += sample.tokenIds.length;
        const choiceIndex = promptIndex * parsed.n + sampleIndex;
        if (finished.has(choiceIndex)) return;
        const tokens = streamedTokens.get(choiceIndex) ?? 0;
        chunk(
          choiceIndex,
          sample.text.slice(streamedText.get(choiceIndex) ?? 0),
          sample.tokenIds.slice(tokens),
          sample.logprobs.slice(tokens),
          wireFinishReason(sample.finishReason),
        );
      });
    });
    if (parsed.includeUsage) {
      write({
        id: meta.id,
        object,
        created: meta.created,
        model: meta.model,
        choices: [],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      });
    }
    response.end('data: [DONE]\n\n');
  };

  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const route = async (): Promise<void> => {
      if (path === '/health') {
        if (request.method !== 'GET' && request.method !== 'HEAD') throw requestError(405, 'use GET /health', { code: 'method_not_allowed' });
        sendJson(response, 200, { status: 'ok', model, engine: engine.name });
        return;
      }
      const endpoint: Endpoint | 'models' | undefined =
        path === '/v1/completions' ? 'completions' : path === '/v1/chat/completions' ? 'chat' : path === '/v1/models' ? 'models' : undefined;
      if (endpoint === undefined) throw requestError(404, `no route ${request.method ?? ''} ${path}; try POST /v1/completions, POST /v1/chat/completions, GET /v1/models, GET /health`, { code: 'not_found' });
      if (apiKey !== undefined && request.headers.authorization !== `Bearer ${apiKey}`) {
        throw requestError(401, 'missing or wrong API key: send Authorization: Bearer <key> (the key masa serve was started with)', { code: 'invalid_api_key' });
      }
      if (endpoint === 'models') {
        if (request.method !== 'GET') throw requestError(405, 'use GET /v1/models', { code: 'method_not_allowed' });
        sendJson(response, 200, { object: 'list', data: [{ id: model, object: 'model', created: startedSeconds, owned_by: 'masa-rl' }] });
        return;
      }
      if (request.method !== 'POST') throw requestError(405, `use POST ${path}`, { code: 'method_not_allowed' });
      await serveCompletion(endpoint, request, response);
    };
    route().catch((error: unknown) => {
      const { status, body } = errorAnswer(error);
      // After a 413 the rest of the body is unread: close the connection rather than drain it.
      sendJson(response, status, body, status === 413 ? { connection: 'close' } : {});
      if (status === 413) response.on('finish', () => request.destroy());
    });
  };

  const close = async (): Promise<void> => {
    for (const controller of inFlight) controller.abort(new Error('server closing'));
    const current = server;
    server = undefined;
    if (current === undefined) return;
    await new Promise<void>((resolve) => {
      current.close(() => resolve());
      current.closeAllConnections();
    });
  };

  return {
    handler,
    async listen() {
      if (server !== undefined) throw new MasaError('INTERNAL', 'createServer: listen() called twice');
      const created = createHttpServer(handler);
      await new Promise<void>((resolve, reject) => {
        created.once('error', (error: NodeJS.ErrnoException) =>
          reject(
            new MasaError('CONFIG_INVALID', `cannot listen on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use; pick another with --port' : error.message}`, {
              cause: error,
            }),
          ),
        );
        created.listen(port, host, () => resolve());
      });
      server = created;
      const address = created.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return { url: `http://${shownHost}:${address.port}`, port: address.port };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
