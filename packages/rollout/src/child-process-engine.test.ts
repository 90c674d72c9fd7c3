import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MasaError, type RolloutEvent, type RolloutRequest } from '@masa-rl/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChildProcessEngine, type ChildProcessEngine, type ChildProcessEngineOptions } from './child-process-engine.js';
import type { GenerateOptions, SampleDelta } from '@masa-rl/core';
import { createScriptedEngine } from './test/index.js';

// The child runs the *built* package (dist/child-entry.js, and the fixture imports @masa-rl/rollout/test).
const entryPath = fileURLToPath(new URL('../dist/child-entry.js', import.meta.url));
const fixture = fileURLToPath(new URL('./__fixtures__/scripted-factory.mjs', import.meta.url));

beforeAll(() => {
  if (!existsSync(entryPath)) throw new Error(`${entryPath} is missing: run pnpm --filter @masa-rl/rollout build before these tests`);
});

const engines: ChildProcessEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

function child(options: Record<string, unknown> = {}, extra: Partial<ChildProcessEngineOptions> = {}): ChildProcessEngine {
  const engine = createChildProcessEngine({ modulePath: fixture, options, _internal: { entryPath }, ...extra });
  engines.push(engine);
  return engine;
}

async function failure(promise: Promise<unknown>): Promise<MasaError> {
  try {
    await promise;
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

const requests: RolloutRequest[] = [
  { id: 'a', promptTokenIds: [1, 2], n: 2, seed: 3, maxNewTokens: 40, stopStrings: ['###'] },
  { id: 'b', messages: [{ role: 'user', content: 'hi' }], seed: 4, maxNewTokens: 6, budgetIsCutoff: true },
];

describe('createChildProcessEngine', () => {
  it('returns what the same engine returns in-process, forwarding events and token deltas', async () => {
    const engine = child();
    await engine.ready();
    expect(engine.name).toBe('child:scripted-child');
    expect(engine.pid).toBeGreaterThan(0);
    const events: RolloutEvent[] = [];
    const deltas: SampleDelta[] = [];
    const options = { onEvent: (event: RolloutEvent) => events.push(event), onDelta: (delta: SampleDelta) => deltas.push(delta) };
    const results = await engine.doGenerate(requests, options);
    // The same factory's engine, in this process (the fixture's script, written out).
    const local = createScriptedEngine({ respond: ({ sampleIndex, rng }) => `child s${sampleIndex}:${rng.int(0, 999)} ### rest` });
    const localEvents: RolloutEvent[] = [];
    const localDeltas: SampleDelta[] = [];
    const localOptions: GenerateOptions = { onEvent: (event) => localEvents.push(event), onDelta: (delta) => localDeltas.push(delta) };
    const expected = await local.doGenerate(requests, localOptions);
    expect(results).toEqual(expected);
    expect(results[1]?.samples[0]?.finishReason).toBe('cutoff');
    expect(deltas).toEqual(localDeltas);
    expect(events.map((event) => event.type)).toEqual(localEvents.map((event) => event.type));
    expect(events.at(-1)).toMatchObject({ type: 'generation-end', tokens: expected.flatMap((r) => r.samples).reduce((sum, s) => sum + s.tokenIds.length, 0) });
  });

  it('keeps the parent responsive while the child blocks its own event loop (as ORT session.run does)', async () => {
    const measureGap = async (run: () => Promise<unknown>): Promise<number> => {
      let last = performance.now();
      let worst = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last);
        last = now;
      }, 5);
      await run();
      clearInterval(timer);
      return Math.max(worst, performance.now() - last);
    };
    const engine = child({ blockMs: 400 });
    await engine.ready();
    const request: RolloutRequest[] = [{ id: 'x', promptTokenIds: [1], maxNewTokens: 3 }];
    const childGap = await measureGap(() => engine.doGenerate(request));
    const inProcess = createScriptedEngine({ blockMs: 400, respond: () => 'abc' });
    const inProcessGap = await measureGap(() => inProcess.doGenerate(request));
    expect(inProcessGap).toBeGreaterThan(350); // the same engine in-process stalls the loop
    expect(childGap).toBeLessThan(150); // in a child it does not (slack for a loaded one-core machine)
  });

  it('a crash fails pending and later calls with ENGINE_FAILED, the exit code and the stderr tail', async () => {
    const engine = child();
    await engine.ready();
    const error = await failure(engine.doGenerate([{ id: 'crash', promptTokenIds: [1], maxNewTokens: 2 }]));
    expect(error.code).toBe('ENGINE_FAILED');
    expect(error.message).toMatch(/^the engine child process \(pid \d+, .*scripted-factory\.mjs\) exited with code 3; its output ends with:\nfatal: simulated native crash in session\.run$/);
    expect(error.details).toMatchObject({ exitCode: 3, signal: null });
    expect(engine.pid).toBeUndefined();
    expect(await failure(engine.doGenerate(requests))).toBe(error);
  });

  it('passes engine errors through with their code and details; the child keeps serving', async () => {
    const engine = child();
    const error = await failure(engine.doGenerate([{ id: 'throw', promptTokenIds: [1], maxNewTokens: 2 }]));
    expect(error.code).toBe('NUMERIC_INSTABILITY');
    expect(error.message).toBe('logits are NaN at step 3');
    expect(error.details).toEqual({ step: 3 });
    const invalid = await failure(engine.doGenerate([{ id: 'bad', promptTokenIds: [1], maxNewTokens: 0 }]));
    expect(invalid.code).toBe('ARGUMENT_INVALID');
    expect((await engine.doGenerate([{ id: 'ok', promptTokenIds: [1], maxNewTokens: 3 }]))[0]?.samples[0]?.text).toBe('chi');
  });

  it('reports factory failures: the child error (MODEL_LOAD_FAILED), a missing module, a missing export', async () => {
    const failing = child({ failInit: true });
    const error = await failure(failing.ready());
    expect(error.code).toBe('MODEL_LOAD_FAILED');
    expect(error.message).toBe('no model.safetensors in /models/missing; run masa export first');
    expect(await failure(failing.doGenerate(requests))).toBe(error);
    const missing = await failure(child({}, { modulePath: '/nonexistent/engine.mjs' }).ready());
    expect(missing.code).toBe('CONFIG_INVALID');
    expect(missing.message).toMatch(/^cannot import the engine module \/nonexistent\/engine\.mjs \(modulePath\): Cannot find module/);
    const noExport = await failure(child({}, { exportName: 'notAFactory' }).ready());
    expect(noExport.message).toMatch(/has no function export "notAFactory" \(exportName\); it exports: createEngine, notAFactory/);
  });

  it('aborts a call: ABORTED at once, the child stops that generation and takes the next call', async () => {
    const engine = child({ tokenDelayMs: 2 });
    await engine.ready();
    const controller = new AbortController();
    let tokens = 0;
    const pending = engine.doGenerate([{ id: 'long', promptTokenIds: [1], maxNewTokens: 100_000 }], {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'tokens-generated') tokens += event.tokens;
      },
    });
    while (tokens < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect((await failure(pending)).code).toBe('ABORTED');
    const started = performance.now();
    const [next] = await engine.doGenerate([{ id: 'n', promptTokenIds: [1], maxNewTokens: 3 }]);
    expect(next?.samples[0]?.text).toBe('chi');
    // The aborted generation (100k tokens at 2 ms) is not still running ahead of it.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('close() ends the child; later calls fail clearly', async () => {
    const engine = child();
    await engine.ready();
    await engine.close();
    expect(engine.pid).toBeUndefined();
    const error = await failure(engine.doGenerate(requests));
    expect(error.code).toBe('ENGINE_FAILED');
    expect(error.message).toContain('the engine is closed; create a new one');
    await engine.close(); // idempotent
    expect(() => createChildProcessEngine({ modulePath: fixture, _internal: { entryPath: '/nowhere/child-entry.js' } })).toThrow(
      /the child script \/nowhere\/child-entry\.js is missing; build the package/,
    );
  });
});
