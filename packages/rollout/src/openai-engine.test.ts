import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MasaError, type RolloutEvent, type RolloutRequest } from '@masa-rl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIEngine, type OpenAIEngineOptions } from './openai-engine.js';

type Reply = { status?: number; headers?: Record<string, string>; json?: unknown; raw?: string } | 'destroy' | 'hang';

interface Recorded {
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

interface FakeServer {
  url: string;
  requests: Recorded[];
  maxInFlight: number;
  closedEarly: number;
  close(): Promise<void>;
}

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A scripted OpenAI-compatible server on 127.0.0.1; `reply` decides each answer (bounded: tests send a handful of requests). */
async function startFake(reply: (recorded: Recorded, index: number) => Reply | Promise<Reply>): Promise<FakeServer> {
  const fake: FakeServer = { url: '', requests: [], maxInFlight: 0, closedEarly: 0, close: async () => undefined };
  let inFlight = 0;
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded: Recorded = { url: request.url ?? '', headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> };
      const index = fake.requests.push(recorded) - 1;
      inFlight++;
      fake.maxInFlight = Math.max(fake.maxInFlight, inFlight);
      response.on('close', () => {
        inFlight--;
        if (!response.writableFinished) fake.closedEarly++;
      });
      void Promise.resolve(reply(recorded, index)).then((answer) => {
        if (answer === 'hang') return;
        if (answer === 'destroy') {
          request.socket.destroy();
          return;
        }
        response.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
        response.end(answer.raw ?? JSON.stringify(answer.json ?? {}));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  servers.push(fake);
  return fake;
}

/** A vLLM-shaped completions answer: choices with token_ids and logprobs. */
function completionAnswer(samples: { tokens: number[]; text: string; finish?: string; index?: number }[]): Reply {
  return {
    json: {
      id: 'cmpl-1',
      object: 'text_completion',
      choices: samples.map((sample, index) => ({
        index: sample.index ?? index,
        text: sample.text,
        finish_reason: sample.finish ?? 'stop',
        token_ids: sample.tokens,
        logprobs: { tokens: sample.tokens.map((id) => `token_id:${id}`), token_logprobs: sample.tokens.map((id) => -id / 10), top_logprobs: [], text_offset: [] },
      })),
    },
  };
}

const delays: number[] = [];
function engineFor(fake: FakeServer, extra: Partial<OpenAIEngineOptions> = {}) {
  delays.length = 0;
  return createOpenAIEngine({
    baseURL: fake.url,
    model: 'tiny',
    apiKey: 'sk-secret',
    maxRetries: 2,
    _internal: {
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
      },
    },
    ...extra,
  });
}

const tokenRequest: RolloutRequest = {
  id: 'q1',
  promptTokenIds: [5, 6, 7],
  n: 2,
  maxNewTokens: 8,
  budgetIsCutoff: true,
  temperature: 0.7,
  topP: 0.9,
  topK: 20,
  seed: 42,
  stopStrings: ['###'],
  stopTokenIds: [2],
};

async function failure(promise: Promise<unknown>): Promise<MasaError> {
  try {
    await promise;
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

describe('createOpenAIEngine', () => {
  it('sends token-id prompts to /completions with vLLM field names and maps the answer (order, cutoff, logprobs)', async () => {
    const fake = await startFake(() =>
      completionAnswer([
        { index: 1, tokens: [3, 4], text: 'cd', finish: 'stop' },
        { index: 0, tokens: [9, 8, 7, 6, 5, 4, 3, 2], text: 'long', finish: 'length' },
      ]),
    );
    const events: RolloutEvent[] = [];
    const engine = engineFor(fake, { _internal: { now: () => 0 } });
    const [result] = await engine.doGenerate([tokenRequest], { onEvent: (event) => events.push(event) });
    expect(fake.requests).toHaveLength(1);
    const sent = fake.requests[0] as Recorded;
    expect(sent.url).toBe('/v1/completions');
    expect(sent.headers['authorization']).toBe('Bearer sk-secret');
    expect(sent.body).toEqual({
      model: 'tiny',
      prompt: [5, 6, 7],
      n: 2,
      max_tokens: 8,
      temperature: 0.7,
      top_p: 0.9,
      top_k: 20,
      seed: 42,
      stop: ['###'],
      stop_token_ids: [2],
      logprobs: 0,
      return_token_ids: true,
      return_tokens_as_token_ids: true,
    });
    expect(result).toEqual({
      requestId: 'q1',
      promptTokenIds: [5, 6, 7],
      samples: [
        { tokenIds: [9, 8, 7, 6, 5, 4, 3, 2], text: 'long', logprobs: [-0.9, -0.8, -0.7, -0.6, -0.5, -0.4, -0.3, -0.2], finishReason: 'cutoff' },
        { tokenIds: [3, 4], text: 'cd', logprobs: [-0.3, -0.4], finishReason: 'stop' },
      ],
    });
    expect(events).toEqual([
      { type: 'generation-start', requests: 1, sequences: 2 },
      { type: 'tokens-generated', tokens: 10, activeSequences: 0 },
      { type: 'sequence-end', requestId: 'q1', sampleIndex: 0, tokens: 8, finishReason: 'cutoff' },
      { type: 'sequence-end', requestId: 'q1', sampleIndex: 1, tokens: 2, finishReason: 'stop' },
      { type: 'generation-end', tokens: 10, ms: 0 },
    ]);
  });

  it('sends chat prompts to /chat/completions and reads prompt_token_ids and token_id:N spellings', async () => {
    const fake = await startFake(() => ({
      json: {
        prompt_token_ids: [1, 2, 3, 4],
        choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'length', logprobs: { content: [{ token: 'token_id:11', logprob: -0.25 }, { token: 'token_id:12', logprob: -1.5 }] } }],
      },
    }));
    const [result] = await engineFor(fake).doGenerate([{ id: 'c', messages: [{ role: 'user', content: 'Hello' }], maxNewTokens: 2 }]);
    const sent = fake.requests[0] as Recorded;
    expect(sent.url).toBe('/v1/chat/completions');
    expect(sent.body).toMatchObject({ messages: [{ role: 'user', content: 'Hello' }], logprobs: true, top_logprobs: 0, max_tokens: 2, n: 1, temperature: 1, top_p: 1 });
    expect(sent.body).not.toHaveProperty('top_k');
    expect(sent.body).not.toHaveProperty('seed');
    expect(result).toEqual({ requestId: 'c', promptTokenIds: [1, 2, 3, 4], samples: [{ tokenIds: [11, 12], text: 'hi', logprobs: [-0.25, -1.5], finishReason: 'length' }] });
  });

  it('retries 503 and 429 with exponential backoff, jitter and Retry-After, then succeeds', async () => {
    const fake = await startFake((_, index) =>
      index === 0 ? { status: 503, json: { error: { message: 'loading' } } } : index === 1 ? { status: 429, headers: { 'retry-after': '2' } } : completionAnswer([{ tokens: [1], text: 'a' }]),
    );
    const [result] = await engineFor(fake, { retryBaseDelayMs: 400 }).doGenerate([{ id: 'r', promptTokenIds: [1], maxNewTokens: 1 }]);
    expect(result?.samples[0]?.tokenIds).toEqual([1]);
    // attempt 0: 400/2 + 0.5·200 = 300 ms; attempt 1: max(800/2 + 0.5·400, Retry-After 2 s) = 2000 ms.
    expect(delays).toEqual([300, 2000]);
    expect(fake.requests).toHaveLength(3);
  });

  it('gives up after maxRetries with ENGINE_FAILED naming the URL and the last status', async () => {
    const fake = await startFake(() => ({ status: 502, json: { error: { message: 'bad gateway' } } }));
    const error = await failure(engineFor(fake).doGenerate([{ id: 'x', promptTokenIds: [1], maxNewTokens: 1 }]));
    expect(error.code).toBe('ENGINE_FAILED');
    expect(error.message).toBe(
      `POST ${fake.url}/completions failed after 3 attempt(s): HTTP 502: bad gateway. Check that the server is up and reachable (baseURL), or raise maxRetries/timeoutMs`,
    );
    expect(error.message).not.toContain('sk-secret');
    expect(fake.requests).toHaveLength(3);
  });

  it('does not retry a 400 and reports the server message; 404 and 401 get a hint', async () => {
    const fake = await startFake((recorded) =>
      recorded.body['model'] === 'nope'
        ? { status: 404, json: { error: { message: 'The model `nope` does not exist.' } } }
        : { status: 400, json: { object: 'error', message: 'top_k must be -1 or at least 1' } },
    );
    const bad = await failure(engineFor(fake).doGenerate([{ id: 'x', promptTokenIds: [1], maxNewTokens: 1 }]));
    expect(bad.message).toBe(`POST ${fake.url}/completions failed with HTTP 400: top_k must be -1 or at least 1`);
    expect(fake.requests).toHaveLength(1);
    const missing = await failure(engineFor(fake, { model: 'nope' }).doGenerate([{ id: 'x', promptTokenIds: [1], maxNewTokens: 1 }]));
    expect(missing.message).toContain('HTTP 404: The model `nope` does not exist. (check that baseURL ends with the API root');
  });

  it('retries dropped connections; a refused connection ends as ENGINE_FAILED with the network cause', async () => {
    const fake = await startFake((_, index) => (index === 0 ? 'destroy' : completionAnswer([{ tokens: [4], text: 'd' }])));
    const [result] = await engineFor(fake).doGenerate([{ id: 'n', promptTokenIds: [1], maxNewTokens: 1 }]);
    expect(result?.samples[0]?.text).toBe('d');
    expect(delays).toHaveLength(1);
    const closed = await startFake(() => completionAnswer([]));
    const url = closed.url;
    await closed.close();
    servers.splice(servers.indexOf(closed), 1);
    const error = await failure(engineFor({ ...closed, url }).doGenerate([{ id: 'n', promptTokenIds: [1], maxNewTokens: 1 }]));
    expect(error.code).toBe('ENGINE_FAILED');
    expect(error.message).toMatch(/failed after 3 attempt\(s\): network error: fetch failed \(ECONNREFUSED/);
  });

  it('times out a hanging attempt (timeoutMs), retries, and reports the timeout', async () => {
    const fake = await startFake(() => 'hang');
    const error = await failure(engineFor(fake, { timeoutMs: 50, maxRetries: 1 }).doGenerate([{ id: 't', promptTokenIds: [1], maxNewTokens: 1 }]));
    expect(error.message).toContain('failed after 2 attempt(s): no answer within 50 ms (timeoutMs)');
    expect(fake.requests).toHaveLength(2);
  });

  it('aborts in-flight requests through the AbortSignal (ABORTED, the server sees the connection close)', async () => {
    const fake = await startFake(() => 'hang');
    const controller = new AbortController();
    const pending = engineFor(fake).doGenerate(
      [
        { id: 'a', promptTokenIds: [1], maxNewTokens: 1 },
        { id: 'b', promptTokenIds: [1], maxNewTokens: 1 },
      ],
      { signal: controller.signal },
    );
    while (fake.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const error = await failure(pending);
    expect(error.code).toBe('ABORTED');
    while (fake.closedEarly < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(fake.closedEarly).toBe(2);
    expect(await failure(engineFor(fake).doGenerate([{ id: 'a', promptTokenIds: [1], maxNewTokens: 1 }], { signal: AbortSignal.abort() }))).toBeDefined();
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const fake = await startFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return completionAnswer([{ tokens: [1], text: 'a' }]);
    });
    const requests = Array.from({ length: 6 }, (_, index) => ({ id: `q${index}`, promptTokenIds: [1], maxNewTokens: 1 }));
    const results = await engineFor(fake, { concurrency: 2 }).doGenerate(requests);
    expect(results.map((result) => result.requestId)).toEqual(requests.map((request) => request.id));
    expect(fake.requests).toHaveLength(6);
    expect(fake.maxInFlight).toBe(2);
  });

  it('strict mode rejects answers without token ids or logprobs; strict: false accepts text only', async () => {
    const fake = await startFake(() => ({ json: { choices: [{ index: 0, text: 'plain', finish_reason: 'stop' }] } }));
    const request = { id: 's', promptTokenIds: [1], maxNewTokens: 4 };
    const error = await failure(engineFor(fake).doGenerate([request]));
    expect(error.message).toContain('sample 0 has no token ids; use vLLM ≥ 0.10.2 or masa serve (return_token_ids), or pass strict: false');
    const [result] = await engineFor(fake, { strict: false }).doGenerate([request]);
    expect(result?.samples).toEqual([{ tokenIds: [], text: 'plain', logprobs: [], finishReason: 'stop' }]);
    const wrongCount = await startFake(() => completionAnswer([{ tokens: [1], text: 'a' }]));
    expect((await failure(engineFor(wrongCount).doGenerate([{ ...request, n: 2 }]))).message).toContain('asked for n=2 samples, the server returned 1');
    const notJson = await startFake(() => ({ raw: '<html>oops</html>' }));
    expect((await failure(engineFor(notJson).doGenerate([request]))).message).toContain('a body that is not JSON: <html>oops</html>');
  });

  it('rejects bad requests and options before sending anything', async () => {
    const fake = await startFake(() => completionAnswer([]));
    const engine = engineFor(fake);
    expect((await failure(engine.doGenerate([{ id: 'b', promptTokenIds: [1], maxNewTokens: 0 }]))).message).toBe(
      'request "b": maxNewTokens must be an integer ≥ 1, got 0',
    );
    expect((await failure(engine.doGenerate([{ id: 'b', promptTokenIds: [1], messages: [], maxNewTokens: 1 }]))).message).toContain(
      'set exactly one of promptTokenIds and messages',
    );
    expect((await failure(engine.doGenerate([{ id: 'b', promptTokenIds: [1], maxNewTokens: 1, topP: 2 }]))).message).toContain('topP must be in (0, 1]');
    expect(fake.requests).toHaveLength(0);
    expect(() => createOpenAIEngine({ baseURL: 'not a url', model: 'm' })).toThrow(/baseURL "not a url" is not a URL/);
    expect(() => createOpenAIEngine({ baseURL: 'http://127.0.0.1:1/v1', model: 'm', concurrency: 0 })).toThrow(/concurrency must be an integer ≥ 1/);
  });
});
