/**
 * The script {@link createChildProcessEngine} forks. It imports the engine
 * factory named in the `init` message, builds the engine, and serves
 * `generate` / `abort` / `close` messages until its parent leaves.
 *
 * Not part of the public API; it is built to `dist/child-entry.js`.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MasaError, type RolloutEngine } from '@masa-rl/core';
import { serializeError, type ChildMessage, type ParentMessage } from './child-protocol.js';
import type { GenerateOptions } from '@masa-rl/core';

const send = (message: ChildMessage): void => {
  if (process.connected) process.send?.(message);
};

let engine: RolloutEngine | undefined;
const controllers = new Map<number, AbortController>();

async function init(message: Extract<ParentMessage, { type: 'init' }>): Promise<void> {
  let module: Record<string, unknown>;
  const specifier = isAbsolute(message.modulePath) ? pathToFileURL(message.modulePath).href : message.modulePath;
  try {
    module = (await import(specifier)) as Record<string, unknown>;
  } catch (error: unknown) {
    throw new MasaError('CONFIG_INVALID', `cannot import the engine module ${message.modulePath} (modulePath): ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const factory = module[message.exportName];
  if (typeof factory !== 'function') {
    throw new MasaError('CONFIG_INVALID', `${message.modulePath} has no function export "${message.exportName}" (exportName); it exports: ${Object.keys(module).join(', ') || 'nothing'}`);
  }
  const created = (await (factory as (options: unknown) => unknown)(message.options)) as RolloutEngine | undefined;
  if (typeof created?.doGenerate !== 'function') {
    throw new MasaError('CONFIG_INVALID', `${message.modulePath}: ${message.exportName}() did not return a RolloutEngine (an object with doGenerate)`);
  }
  engine = created;
  send({ type: 'ready', name: created.name });
}

async function generate(message: Extract<ParentMessage, { type: 'generate' }>): Promise<void> {
  const controller = new AbortController();
  controllers.set(message.callId, controller);
  try {
    if (engine === undefined) throw new MasaError('INTERNAL', 'engine child: generate before init');
    const options: GenerateOptions = { signal: controller.signal };
    if (message.wantEvents) options.onEvent = (event) => send({ type: 'event', callId: message.callId, event });
    if (message.wantDeltas) options.onDelta = (delta) => send({ type: 'delta', callId: message.callId, delta });
    const results = await engine.doGenerate(message.requests, options);
    send({ type: 'result', callId: message.callId, results });
  } catch (error: unknown) {
    send({ type: 'error', callId: message.callId, error: serializeError(error, 'ENGINE_FAILED') });
  } finally {
    controllers.delete(message.callId);
  }
}

let closing: Promise<void> | undefined;
/** Aborts running calls and closes the engine once, however many times it is asked. */
function closeEngine(reason: string): Promise<void> {
  closing ??= (async () => {
    for (const controller of controllers.values()) controller.abort(new Error(reason));
    await engine?.close?.();
  })();
  return closing;
}

process.on('message', (raw: unknown) => {
  const message = raw as ParentMessage;
  switch (message.type) {
    case 'init':
      init(message).catch((error: unknown) => send({ type: 'init-error', error: serializeError(error, 'MODEL_LOAD_FAILED') }));
      break;
    case 'generate':
      void generate(message);
      break;
    case 'abort':
      controllers.get(message.callId)?.abort(new Error('aborted by the parent'));
      break;
    case 'close':
      // Closing the channel tells the parent we are done; the process then exits.
      void closeEngine('engine closing').finally(() => process.disconnect?.());
      break;
  }
});

// The parent went away (crashed, or closed us): nothing left to serve.
process.on('disconnect', () => {
  void closeEngine('parent disconnected').finally(() => process.exit(0));
});
