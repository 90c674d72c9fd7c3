import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { createRandomModel } from '@masa-rl/model';
import { createScriptedEngine } from '@masa-rl/rollout/test';
import { afterAll, describe, expect, it } from 'vitest';
import { createServeCommand, type ServeCommandOptions, type ServeFlags } from './serve.js';
import { expectMasaError } from '../test-support/expect-masa-error.js';

const cwd = mkdtempSync(join(tmpdir(), 'masa-cli-serve-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** Starts `masa serve` with the given flags; resolves with the listening line once it is up. */
async function start(args: string[], extra: Partial<ServeCommandOptions> = {}): Promise<{ info: { url: string; model: string; engine: string }; stop: () => Promise<void>; err: () => string }> {
  const controller = new AbortController();
  let out = '';
  let err = '';
  let announce: (line: string) => void = () => undefined;
  const listening = new Promise<string>((resolve) => (announce = resolve));
  const command = createServeCommand({
    stdout: {
      write: (text: string) => {
        out += text;
        announce(out);
      },
    },
    stderr: { write: (text: string) => (err += text) },
    cwd,
    env: {},
    ...extra,
    _internal: { signal: controller.signal, ...extra._internal },
  });
  command.exitOverride();
  const running = command.parseAsync([...args, '--port', '0', '--json'], { from: 'user' });
  const line = await Promise.race([listening, running.then(() => 'ended')]);
  if (line === 'ended') throw new Error(`masa serve ended before listening: ${err}`);
  return {
    info: JSON.parse(line.trim()) as { url: string; model: string; engine: string },
    stop: async () => {
      controller.abort();
      await running;
    },
    err: () => err,
  };
}

function failure(args: string[]): Promise<MasaError> {
  const command = createServeCommand({ stdout: { write: () => true }, stderr: { write: () => true }, cwd, env: {} });
  command.exitOverride();
  return expectMasaError(command.parseAsync(args, { from: 'user' }));
}

describe('masa serve', () => {
  it('serves a model folder with the ORT engine in a child process, then stops on the signal', async () => {
    await createRandomModel({
      modelDir: join(cwd, 'tiny'),
      architecture: 'qwen3',
      hiddenSize: 16,
      layers: 1,
      heads: 2,
      kvHeads: 1,
      headDim: 8,
      intermediateSize: 24,
      vocabSize: 32,
      seed: 1,
      initStd: 0.3,
    });
    const server = await start(['--model', 'tiny', '--max-batch-size', '4']);
    try {
      expect(server.info).toMatchObject({ model: 'tiny', engine: 'child:ort:qwen3' });
      expect(server.err()).toContain('building the ONNX Runtime sessions'); // warmed up before listening
      const models = (await (await fetch(`${server.info.url}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((model) => model.id)).toEqual(['tiny']);
      const answer = await fetch(`${server.info.url}/v1/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'tiny', prompt: [1, 2, 3], max_tokens: 5, temperature: 0, return_token_ids: true, logprobs: 0 }),
      });
      const body = (await answer.json()) as { choices: { token_ids: number[]; finish_reason: string; logprobs: { token_logprobs: number[] } }[] };
      expect(answer.status).toBe(200);
      const choice = body.choices[0];
      expect(choice?.token_ids.length).toBeGreaterThan(0);
      expect(choice?.logprobs.token_logprobs.every((value) => value === 0)).toBe(true); // greedy: the sampled distribution is a point mass
      expect(server.err()).toContain('loading');
    } finally {
      await server.stop();
    }
    expect(server.err()).toContain('masa serve: stopping');
    await expect(fetch(`${server.info.url}/health`)).rejects.toThrow();
  });

  it('takes the served name, the API key (flag, else MASA_API_KEY) and any engine', async () => {
    const engine = createScriptedEngine({ respond: () => 'hello' });
    const seenFlags: ServeFlags[] = [];
    const server = await start(['--upstream', 'http://127.0.0.1:9/v1', '--served-model-name', 'proxy', '--threads', '2'], {
      env: { MASA_API_KEY: 'secret' },
      _internal: { createEngine: (flags) => (seenFlags.push(flags), engine) },
    });
    expect(seenFlags.map((flags) => flags.threads)).toEqual([2]);
    try {
      const url = `${server.info.url}/v1/chat/completions`;
      const body = JSON.stringify({ model: 'proxy', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 });
      expect((await fetch(url, { method: 'POST', body })).status).toBe(401);
      const answer = await fetch(url, { method: 'POST', body, headers: { authorization: 'Bearer secret' } });
      expect(((await answer.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('hello');
    } finally {
      await server.stop();
    }
    expect(engine.closed).toBe(true);
  });

  it('rejects missing or conflicting sources, a folder without config.json, and bad numbers', async () => {
    expect((await failure([])).message).toBe('masa serve needs exactly one of --model <dir> (a local model) and --upstream <url> (a proxy)');
    expect((await failure(['--model', 'a', '--upstream', 'http://x/v1'])).code).toBe('ARGUMENT_INVALID');
    const missing = await failure(['--model', 'nowhere']);
    expect(missing.code).toBe('FILE_NOT_FOUND');
    expect(missing.message).toContain(`--model nowhere: ${join(cwd, 'nowhere')} has no config.json`);
    expect((await failure(['--model', 'tiny', '--port', '70000'])).message).toBe('--port must be an integer in [0, 65535], got "70000"');
    expect((await failure(['--model', 'tiny', '--threads', '0'])).message).toBe('--threads must be an integer in [1, 1024], got "0"');
    expect((await failure(['--upstream', 'http://127.0.0.1:9/v1'])).message).toContain('pass --served-model-name or --upstream-model');
  });
});
