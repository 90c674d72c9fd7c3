import { request as httpRequest } from 'node:http';
import type { RolloutEngine, RolloutRequest } from '@masa-rl/core';
import { MasaError } from '@masa-rl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIEngine } from './openai-engine.js';
import { createServer, type CreateServerOptions, type RolloutServer } from './server.js';
import { createScriptedEngine, type ScriptedEngine } from './test/index.js';

const open: RolloutServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

/** Char-code tokenizer (id = UTF-16 code unit), matching the scripted engine's default. */
const charTokenizer = {
  encode: (text: string) => Array.from({ length: text.length }, (_, index) => text.charCodeAt(index)),
  decode: (ids: readonly number[]) => ids.map((id) => String.fromCharCode(id)).join(''),
};

function scripted(extra: Partial<Parameters<typeof createScriptedEngine>[0]> = {}): ScriptedEngine {
  return createScriptedEngine({
    // The continuation names the sample and draws a seeded digit, so seeds and sample indices are visible.
    respond: ({ sampleIndex, rng, promptText }) => `s${sampleIndex}:${rng.int(0, 9)} after ${promptText.length} ### tail`,
    ...extra,
  });
}

async function start(engine: RolloutEngine, extra: Partial<CreateServerOptions> = {}): Promise<string> {
  let counter = 0;
  const server = createServer({ engine, model: 'tiny', port: 0, _internal: { id: () => `id${counter++}`, nowSeconds: () => 1700000000 }, ...extra });
  open.push(server);
  const { url } = await server.listen();
  return url;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Reads an SSE answer into its data payloads (the final `[DONE]` kept as a string). */
async function postStream(url: string, body: unknown): Promise<unknown[]> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((event) => event.length > 0)
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      const data = event.slice('data: '.length);
      return data === '[DONE]' ? data : (JSON.parse(data) as unknown);
    });
}

describe('createServer: routes and the OpenAI answer shapes', () => {
  it('serves /health, /v1/models, and refuses unknown routes and methods with OpenAI error bodies', async () => {
    const url = await start(scripted());
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok', model: 'tiny', engine: 'scripted' });
    expect(await (await fetch(`${url}/v1/models`)).json()).toEqual({ object: 'list', data: [{ id: 'tiny', object: 'model', created: 1700000000, owned_by: 'masa-rl' }] });
    const missing = await fetch(`${url}/v2/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const wrongMethod = await fetch(`${url}/v1/completions`);
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toEqual({ error: { message: 'use POST /v1/completions', type: 'invalid_request_error', param: null, code: 'method_not_allowed' } });
  });

  it('/v1/completions with token-id prompts: n, seed, stop strings, budget, logprobs, token ids, usage', async () => {
    const engine = scripted();
    const url = await start(engine);
    const { status, json } = await post(`${url}/v1/completions`, {
      model: 'tiny',
      prompt: [[72, 105], [79]],
      n: 2,
      seed: 5,
      max_tokens: 40,
      stop: ['###'],
      logprobs: 1,
      return_token_ids: true,
      return_tokens_as_token_ids: true,
    });
    expect(status).toBe(200);
    // What the scripted engine says for these requests, read from it directly.
    const direct = await scripted().doGenerate([
      { id: 'a', promptTokenIds: [72, 105], n: 2, seed: 5, maxNewTokens: 40, stopStrings: ['###'] },
      { id: 'b', promptTokenIds: [79], n: 2, seed: 5, maxNewTokens: 40, stopStrings: ['###'] },
    ]);
    const expectedChoices = direct.flatMap((result, promptIndex) =>
      result.samples.map((sample, sampleIndex) => ({
        index: promptIndex * 2 + sampleIndex,
        text: sample.text,
        logprobs: {
          tokens: sample.tokenIds.map((id) => `token_id:${id}`),
          token_logprobs: sample.logprobs,
          top_logprobs: sample.tokenIds.map((id, index) => ({ [`token_id:${id}`]: sample.logprobs[index] })),
          text_offset: sample.tokenIds.map((_, index) => sample.tokenIds.slice(0, index).reduce((sum, id) => sum + `token_id:${id}`.length, 0)),
        },
        finish_reason: 'stop',
        token_ids: sample.tokenIds,
        prompt_token_ids: result.promptTokenIds,
      })),
    );
    expect(json).toEqual({
      id: 'cmpl-id0',
      object: 'text_completion',
      created: 1700000000,
      model: 'tiny',
      choices: expectedChoices,
      usage: { prompt_tokens: 3, completion_tokens: direct.flatMap((r) => r.samples).reduce((sum, s) => sum + s.tokenIds.length, 0), total_tokens: expect.any(Number) },
    });
    expect((json['choices'] as { text: string }[]).map((choice) => choice.text)).toEqual([
      expect.stringMatching(/^s0:\d after 2 $/),
      expect.stringMatching(/^s1:\d after 2 $/),
      expect.stringMatching(/^s0:\d after 1 $/),
      expect.stringMatching(/^s1:\d after 1 $/),
    ]);
    expect(engine.calls[0]?.map((request) => request.id)).toEqual(['cmpl-id0-0', 'cmpl-id0-1']);
  });

  it('reports a budget stop (MASA cutoff too) as finish_reason "length"; defaults max_tokens to 16', async () => {
    const url = await start(scripted());
    const { json } = await post(`${url}/v1/completions`, { prompt: [65], max_tokens: 3 });
    expect(json['choices']).toEqual([{ index: 0, text: 's0:', logprobs: null, finish_reason: 'length' }]);
    const defaulted = await post(`${url}/v1/completions`, { prompt: [65] });
    expect(((defaulted.json['choices'] as { text: string }[])[0]?.text ?? '').length).toBe(16);
  });

  it('string prompts need a tokenizer; with one they are encoded', async () => {
    const withoutTokenizer = await start(scripted());
    const refused = await post(`${withoutTokenizer}/v1/completions`, { prompt: 'Hi' });
    expect(refused).toEqual({
      status: 400,
      json: { error: { message: 'this server has no tokenizer; send prompt as token ids (masa serve --model <folder> loads one)', type: 'invalid_request_error', param: 'prompt', code: 'invalid_value' } },
    });
    const withTokenizer = await start(scripted(), { tokenizer: charTokenizer });
    const { json } = await post(`${withTokenizer}/v1/completions`, { prompt: 'Hi', max_tokens: 50, stop: '###', logprobs: 0 });
    const choice = (json['choices'] as Record<string, unknown>[])[0] as { text: string; logprobs: { tokens: string[]; top_logprobs: unknown[] } };
    expect(choice.text).toMatch(/^s0:\d after 2 $/);
    expect(choice.logprobs.tokens.join('')).toBe(`${choice.text}###`); // tokens include the one that completed the stop string
    expect(choice.logprobs.top_logprobs.every((entry) => entry === null)).toBe(true);
  });

  it('/v1/chat/completions: messages in, assistant message out, logprobs content, prompt ids on request', async () => {
    const url = await start(scripted());
    const { status, json } = await post(`${url}/v1/chat/completions`, {
      model: 'tiny',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
      ],
      max_completion_tokens: 6,
      logprobs: true,
      return_token_ids: true,
    });
    expect(status).toBe(200);
    const promptText = 'system: Be brief.\nuser: Hello';
    expect(json).toMatchObject({
      id: 'chatcmpl-id0',
      object: 'chat.completion',
      prompt_token_ids: charTokenizer.encode(promptText),
      choices: [{ index: 0, message: { role: 'assistant', content: expect.stringMatching(/^s0:/) }, finish_reason: 'length', token_ids: expect.any(Array) }],
    });
    const choice = (json['choices'] as { message: { content: string }; logprobs: { content: { token: string; logprob: number; top_logprobs: unknown[] }[] } }[])[0];
    expect(choice?.message.content).toHaveLength(6);
    expect(choice?.logprobs.content).toHaveLength(6);
    expect(choice?.logprobs.content[0]).toEqual({ token: 'token_id:115', logprob: -0.5, bytes: [...Buffer.from('token_id:115')], top_logprobs: [] });
  });
});

describe('createServer: streaming (server-sent events)', () => {
  it('streams completions token by token; the chunks concatenate to the non-streamed answer', async () => {
    const url = await start(scripted());
    const request = { prompt: [1, 2], n: 2, seed: 9, max_tokens: 60, stop: ['###'], stream: true, stream_options: { include_usage: true }, return_token_ids: true };
    const events = await postStream(`${url}/v1/completions`, request);
    expect(events.at(-1)).toBe('[DONE]');
    const usage = events.at(-2) as { choices: unknown[]; usage: { completion_tokens: number } };
    expect(usage.choices).toEqual([]);
    const chunks = events.slice(0, -2) as { object: string; choices: { index: number; text: string; token_ids: number[]; finish_reason: string | null }[] }[];
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.every((chunk) => chunk.object === 'text_completion' && chunk.choices.length === 1)).toBe(true);
    const { json } = await post(`${url}/v1/completions`, { ...request, stream: false });
    for (const choice of json['choices'] as { index: number; text: string; token_ids: number[]; finish_reason: string }[]) {
      const mine = chunks.map((chunk) => chunk.choices[0]).filter((item) => item?.index === choice.index);
      expect(mine.map((item) => item?.text).join('')).toBe(choice.text);
      expect(mine.flatMap((item) => item?.token_ids ?? [])).toEqual(choice.token_ids);
      expect(mine.filter((item) => item?.finish_reason !== null).map((item) => item?.finish_reason)).toEqual([choice.finish_reason]);
      expect(mine.at(-1)?.finish_reason).toBe('stop');
    }
    expect(usage.usage.completion_tokens).toBe((json['usage'] as { completion_tokens: number }).completion_tokens);
  });

  it('streams chat chunks with the role first', async () => {
    const url = await start(scripted());
    const events = await postStream(`${url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'x' }], max_tokens: 4, stream: true });
    const chunks = events.slice(0, -1) as { object: string; choices: { delta: { role?: string; content: string }; finish_reason: string | null }[] }[];
    expect(chunks.map((chunk) => chunk.choices[0]?.delta)).toEqual([{ role: 'assistant', content: 's' }, { content: '0' }, { content: ':' }, { content: expect.any(String) }]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
  });

  it('an engine that does not stream still answers a streaming request (one chunk per choice)', async () => {
    const inner = scripted();
    const plain: RolloutEngine = { specificationVersion: 'v1', name: 'plain', doGenerate: (requests, options) => inner.doGenerate(requests, { ...(options?.signal === undefined ? {} : { signal: options.signal }) }) };
    const url = await start(plain);
    const events = await postStream(`${url}/v1/completions`, { prompt: [1], n: 2, max_tokens: 5, stream: true });
    expect(events).toEqual([
      expect.objectContaining({ choices: [{ index: 0, text: expect.stringMatching(/^s0:\d $/), logprobs: null, finish_reason: 'length' }] }),
      expect.objectContaining({ choices: [{ index: 1, text: expect.stringMatching(/^s1:\d $/), logprobs: null, finish_reason: 'length' }] }),
      '[DONE]',
    ]);
  });

  it('an engine failure mid-stream ends the stream with an error event and [DONE]', async () => {
    const url = await start(
      createScriptedEngine({
        respond: () => {
          throw new MasaError('ENGINE_FAILED', 'the model process crashed');
        },
      }),
    );
    const events = await postStream(`${url}/v1/completions`, { prompt: [1], stream: true });
    expect(events).toEqual([{ error: { message: 'the model process crashed', type: 'server_error', param: null, code: 'ENGINE_FAILED' } }, '[DONE]']);
  });
});

describe('createServer: bad input and disconnects', () => {
  it('answers malformed JSON with 400 and keeps serving', async () => {
    const url = await start(scripted());
    const broken = await post(`${url}/v1/completions`, '{"prompt": [1, 2');
    expect(broken.status).toBe(400);
    expect((broken.json['error'] as { code: string; message: string }).code).toBe('invalid_json');
    expect((broken.json['error'] as { message: string }).message).toMatch(/^the request body is not valid JSON: /);
    expect((await post(`${url}/v1/completions`, '[1, 2]')).json).toEqual({
      error: { message: 'the request body must be a JSON object', type: 'invalid_request_error', param: null, code: 'ARGUMENT_INVALID' },
    });
    expect((await post(`${url}/v1/completions`, { prompt: [1], max_tokens: 2 })).status).toBe(200);
  });

  it('rejects bad fields with 400 naming the param; an unknown model with 404; unsupported knobs explicitly', async () => {
    const url = await start(scripted());
    const cases: [Record<string, unknown>, number, string | null, RegExp][] = [
      [{ prompt: [1], temperature: -1 }, 400, 'temperature', /temperature must be ≥ 0/],
      [{ prompt: [1], top_p: 0 }, 400, 'top_p', /top_p must be in \(0, 1\]/],
      [{ prompt: [1], n: 0 }, 400, 'n', /n must be an integer in \[1, 128\]/],
      [{ prompt: [1], max_tokens: 'many' }, 400, 'max_tokens', /max_tokens must be a number/],
      [{ prompt: [1], stop: [''] }, 400, 'stop', /stop must hold non-empty strings/],
      [{ prompt: [1], stop_token_ids: [-3] }, 400, 'stop_token_ids', /integers ≥ 0/],
      [{ prompt: [] }, 400, 'prompt', /prompt must be/],
      [{ prompt: [1.5] }, 400, 'prompt', /prompt must be/],
      [{ prompt: [1], presence_penalty: 0.5 }, 400, 'presence_penalty', /presence_penalty is not supported by masa serve/],
      [{ prompt: [1], echo: true }, 400, 'echo', /echo is not supported/],
      [{ prompt: [1], logprobs: 21 }, 400, 'logprobs', /logprobs must be an integer in \[0, 20\]/],
      [{ prompt: [1], stream: 'yes' }, 400, 'stream', /stream must be true or false/],
      [{ prompt: [1], model: 'gpt-4' }, 404, 'model', /The model `gpt-4` does not exist; this server serves `tiny`/],
    ];
    for (const [body, status, param, message] of cases) {
      const answer = await post(`${url}/v1/completions`, body);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      const error = answer.json['error'] as { param: string | null; message: string; type: string };
      expect(error.param).toBe(param);
      expect(error.message).toMatch(message);
      expect(error.type).toBe('invalid_request_error');
    }
    const chat = await post(`${url}/v1/chat/completions`, { messages: [{ role: 'robot', content: 'x' }] });
    expect(chat.json['error']).toMatchObject({ param: 'messages[0].role' });
  });

  it('refuses oversize bodies with 413, by Content-Length and while reading a chunked body', async () => {
    const url = await start(scripted(), { maxBodyBytes: 1000 });
    const big = await post(`${url}/v1/completions`, { prompt: Array.from({ length: 600 }, () => 1) });
    expect(big.status).toBe(413);
    expect(big.json['error']).toMatchObject({ code: 'request_too_large', message: 'the request body exceeds 1000 bytes (maxBodyBytes / --max-body-bytes)' });
    // Chunked: no Content-Length, the limit trips while reading.
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      for (let i = 0; i < 30; i++) request.write('[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]');
      request.end();
    });
    expect(status).toBe(413);
    expect((await post(`${url}/v1/completions`, { prompt: [1], max_tokens: 1 })).status).toBe(200);
  });

  it('a client that disconnects mid-stream aborts its generation; the server keeps serving', async () => {
    const engine = scripted({ tokenDelayMs: 5, respond: () => 'x'.repeat(10_000) });
    const url = await start(engine);
    await new Promise<void>((resolve, reject) => {
      const request = httpRequest(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (response) => {
        response.once('data', () => {
          request.destroy(); // hang up after the first chunk
          resolve();
        });
      });
      request.on('error', () => undefined);
      request.end(JSON.stringify({ prompt: [1], max_tokens: 10_000, stream: true }));
      setTimeout(() => reject(new Error('no first chunk')), 5000);
    });
    const signal = engine.signals[0];
    for (let i = 0; i < 200 && signal?.aborted !== true; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(signal?.aborted).toBe(true);
    expect((await post(`${url}/v1/completions`, { prompt: [1], max_tokens: 3 })).status).toBe(200);
  });

  it('a client that disconnects while waiting for a non-streamed answer aborts its generation', async () => {
    const engine = scripted({ tokenDelayMs: 5, respond: () => 'y'.repeat(10_000) });
    const url = await start(engine);
    const controller = new AbortController();
    const pending = fetch(`${url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: [1], max_tokens: 10_000 }), signal: controller.signal }).catch(() => 'aborted');
    while (engine.signals.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect(await pending).toBe('aborted');
    for (let i = 0; i < 200 && engine.signals[0]?.aborted !== true; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(engine.signals[0]?.aborted).toBe(true);
  });

  it('maps engine errors: ARGUMENT_INVALID → 400, others → 500; checks the API key when set', async () => {
    const url = await start(
      createScriptedEngine({
        respond: ({ request }) => {
          throw request.seed === 1 ? new MasaError('ARGUMENT_INVALID', 'prompt longer than the context (2048)') : new Error('boom');
        },
      }),
      { apiKey: 'k' },
    );
    expect((await post(`${url}/v1/completions`, { prompt: [1] })).status).toBe(401);
    const auth = { authorization: 'Bearer k' };
    expect(await post(`${url}/v1/completions`, { prompt: [1], seed: 1 }, auth)).toEqual({
      status: 400,
      json: { error: { message: 'prompt longer than the context (2048)', type: 'invalid_request_error', param: null, code: 'ARGUMENT_INVALID' } },
    });
    expect(await post(`${url}/v1/completions`, { prompt: [1], seed: 2 }, auth)).toEqual({
      status: 500,
      json: { error: { message: 'internal error: boom', type: 'server_error', param: null, code: 'INTERNAL' } },
    });
    expect((await fetch(`${url}/health`)).status).toBe(200); // health needs no key
  });

  it('refuses bad options and a port in use', async () => {
    expect(() => createServer({ engine: scripted(), model: '' })).toThrow(/pass model/);
    expect(() => createServer({ engine: scripted(), model: 'm', port: 70000 })).toThrow(/port must be an integer in \[0, 65535\]/);
    const first = createServer({ engine: scripted(), model: 'm', port: 0 });
    open.push(first);
    const { port } = await first.listen();
    const second = createServer({ engine: scripted(), model: 'm', port });
    await expect(second.listen()).rejects.toThrow(/the port is in use; pick another with --port/);
  });
});

describe('masa-rl client ↔ masa serve', () => {
  it("the OpenAI engine pointed at masa serve returns exactly what the served engine returns (tokens, text, logprobs, raw logprobs, reasons)", async () => {
    const url = await start(scripted());
    const client = createOpenAIEngine({ baseURL: `${url}/v1`, model: 'tiny' });
    const requests: RolloutRequest[] = [
      { id: 'a', promptTokenIds: [10, 11, 12], n: 3, seed: 4, maxNewTokens: 30, stopStrings: ['###'], returnRawLogprobs: true },
      { id: 'b', promptTokenIds: [7], n: 1, seed: 8, maxNewTokens: 5, budgetIsCutoff: true },
      { id: 'c', messages: [{ role: 'user', content: 'Q?' }], n: 2, seed: 1, maxNewTokens: 20, stopTokenIds: [35] },
    ];
    const viaServer = await client.doGenerate(requests);
    const direct = await scripted().doGenerate(requests);
    expect(viaServer).toEqual(direct);
    expect(viaServer[1]?.samples[0]?.finishReason).toBe('cutoff');
    expect(viaServer[2]?.samples[0]?.tokenIds.at(-1)).toBe(35); // '#' as a stop token id
  });
});
