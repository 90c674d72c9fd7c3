/**
 * Hosts any engine in a forked child process, so that a blocking engine
 * (onnxruntime-node's `session.run` holds the event loop for the whole
 * compute) leaves the caller responsive: `masa serve` keeps answering and
 * streaming, the training app keeps rendering progress. Processes, not
 * worker threads: onnxruntime-node is known to crash in `worker_threads`.
 *
 * The child imports `modulePath` and calls its `exportName` export with
 * `options` (structured-cloned: plain data and typed arrays, no functions) to
 * build the engine. Calls, events, token deltas, aborts and errors cross the
 * IPC channel. If the child dies, every pending and later call fails with
 * `ENGINE_FAILED` carrying the exit code/signal and the tail of its stderr;
 * create a new engine to start over.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { MasaError, type GenerateOptions, type RolloutEngine, type RolloutRequest, type RolloutResult } from '@masa-rl/core';
import { deserializeError, type ChildMessage, type ParentMessage } from './child-protocol.js';

export interface ChildProcessEngineOptions {
  /** Module that exports the engine factory: an absolute path (relative paths resolve against the working directory) or a package specifier. */
  modulePath: string;
  /** Name of the factory export, called as `factory(options)` and returning a RolloutEngine (or a promise of one). @default 'createEngine' */
  exportName?: string;
  /** Argument of the factory; must survive structured cloning (plain data, typed arrays). @default {} */
  options?: unknown;
  /** Node flags of the child. @default [] */
  execArgv?: string[];
  /** Environment of the child. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Deadline for the child to build its engine (model loading included). @default 300000 */
  startTimeoutMs?: number;
  /** Deadline for a clean exit on close() before SIGKILL. @default 5000 */
  closeTimeoutMs?: number;
  /** How much of the child's stderr (and stdout) to keep for crash reports. @default 8192 */
  outputTailBytes?: number;
  /** Test seams: the child script. */
  _internal?: { entryPath?: string };
}

/** A {@link RolloutEngine} living in a child process. */
export interface ChildProcessEngine extends RolloutEngine {
  /** Resolves once the child has built its engine; rejects with the child's error (e.g. MODEL_LOAD_FAILED). */
  ready(): Promise<void>;
  /** The child's process id (undefined once it is gone). */
  readonly pid: number | undefined;
  /** The last lines the child wrote to stderr/stdout (kept, never printed). */
  outputTail(): string;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface PendingCall {
  resolve: (results: RolloutResult[]) => void;
  reject: (error: unknown) => void;
  options: GenerateOptions;
  cleanup: () => void;
}

/** The built child script beside this module (dist/child-entry.js). */
function defaultEntryPath(): string {
  return fileURLToPath(new URL('./child-entry.js', import.meta.url));
}

/** Forks a child that builds an engine from `modulePath` and serves it. */
export function createChildProcessEngine(config: ChildProcessEngineOptions): ChildProcessEngine {
  const {
    modulePath,
    exportName = 'createEngine',
    options = {},
    execArgv = [],
    env = process.env,
    startTimeoutMs = 300_000,
    closeTimeoutMs = 5000,
    outputTailBytes = 8192,
    _internal = {},
  } = config;
  if (typeof modulePath !== 'string' || modulePath.length === 0) {
    throw new MasaError('CONFIG_INVALID', 'createChildProcessEngine: pass modulePath (the module that exports the engine factory)');
  }
  const entryPath = _internal.entryPath ?? defaultEntryPath();
  if (!existsSync(entryPath)) {
    throw new MasaError('RUNTIME_UNAVAILABLE', `createChildProcessEngine: the child script ${entryPath} is missing; build the package (pnpm --filter @masa-rl/rollout build)`);
  }
  const resolvedModule = modulePath.startsWith('.') || isAbsolute(modulePath) ? resolve(modulePath) : modulePath;

  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-outputTailBytes);
  };
  let child: ChildProcess | undefined = fork(entryPath, [], {
    execArgv,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const pid = child.pid;

  let name = `child:${modulePath}`;
  let dead: MasaError | undefined;
  let closing = false;
  let nextCallId = 1;
  const pending = new Map<number, PendingCall>();

  // Hold the parent's event loop only while calls are pending: a forgotten close() must not keep the process alive.
  const setHeld = (held: boolean): void => {
    const handles = [child, child?.channel, child?.stdout, child?.stderr] as ({ ref?: () => void; unref?: () => void } | null | undefined)[];
    for (const handle of handles) {
      if (held) handle?.ref?.();
      else handle?.unref?.();
    }
  };

  const readiness = createDeferred();
  const readyPromise = readiness.promise;
  const readyResolve = readiness.resolve;
  const readyReject = readiness.reject;
  readyPromise.catch(() => undefined); // observed through ready()/doGenerate
  let isReady = false;
  const startTimer = setTimeout(() => {
    fail(new MasaError('ENGINE_FAILED', `the engine child (pid ${pid}) did not finish loading within ${startTimeoutMs} ms (startTimeoutMs)${tailText()}`));
    child?.kill('SIGKILL');
  }, startTimeoutMs);
  startTimer.unref();

  const tailText = (): string => (tail.trim() === '' ? '' : `; its output ends with:\n${tail.trimEnd()}`);

  /** Marks the engine dead: rejects readiness and every pending call. */
  const fail = (error: MasaError): void => {
    if (dead !== undefined) return;
    dead = error;
    clearTimeout(startTimer);
    readyReject(error);
    for (const call of pending.values()) {
      call.cleanup();
      call.reject(error);
    }
    pending.clear();
  };

  child.on('message', (raw: unknown) => {
    const message = raw as ChildMessage;
    switch (message.type) {
      case 'ready':
        name = `child:${message.name}`;
        isReady = true;
        clearTimeout(startTimer);
        setHeld(pending.size > 0);
        readyResolve();
        return;
      case 'init-error':
        fail(deserializeError(message.error));
        child?.kill('SIGKILL');
        return;
      case 'event':
        pending.get(message.callId)?.options.onEvent?.(message.event);
        return;
      case 'delta':
        pending.get(message.callId)?.options.onDelta?.(message.delta);
        return;
      case 'result':
      case 'error': {
        const call = pending.get(message.callId);
        if (call === undefined) return; // aborted earlier: nobody waits
        pending.delete(message.callId);
        call.cleanup();
        if (pending.size === 0) setHeld(false);
        if (message.type === 'result') call.resolve(message.results);
        else call.reject(deserializeError(message.error));
        return;
      }
    }
  });
  child.on('error', (error: Error) => {
    fail(new MasaError('ENGINE_FAILED', `the engine child (pid ${pid}) failed: ${error.message}${tailText()}`, { cause: error }));
  });
  child.on('exit', (code, signal) => {
    const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
    child = undefined;
    fail(
      closing
        ? new MasaError('ENGINE_FAILED', `${name}: the engine is closed; create a new one`)
        : new MasaError('ENGINE_FAILED', `the engine child process (pid ${pid}, ${modulePath}) ${how}${isReady ? '' : ' before it was ready'}${tailText()}`, {
            details: { pid, exitCode: code, signal, modulePath },
          }),
    );
  });

  const send = (message: ParentMessage): void => {
    if (child?.connected === true) child.send(message);
  };
  send({ type: 'init', modulePath: resolvedModule, exportName, options });

  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    const current = child;
    if (current === undefined) return;
    setHeld(true);
    const exited = new Promise<void>((resolvePromise) => current.once('exit', () => resolvePromise()));
    send({ type: 'close' });
    const timer = setTimeout(() => current.kill('SIGKILL'), closeTimeoutMs);
    await exited;
    clearTimeout(timer);
  };

  return {
    specificationVersion: 'v1',
    get name() {
      return name;
    },
    get pid() {
      return child === undefined ? undefined : pid;
    },
    outputTail: () => tail,
    ready: () => readyPromise,
    async doGenerate(requests: readonly RolloutRequest[], generateOptions: GenerateOptions = {}) {
      const options = generateOptions as GenerateOptions;
      const { signal } = options;
      if (signal?.aborted === true) throw new MasaError('ABORTED', `${name}: generation aborted by the caller before it started`, { cause: signal.reason });
      if (dead !== undefined) throw dead;
      if (closing) throw new MasaError('ENGINE_FAILED', `${name}: the engine is closed; create a new one`);
      setHeld(true);
      await readyPromise;
      if (dead !== undefined) throw dead;
      setHeld(true);
      const callId = nextCallId++;
      return new Promise<RolloutResult[]>((resolvePromise, rejectPromise) => {
        const onAbort = (): void => {
          if (!pending.delete(callId)) return;
          if (pending.size === 0) setHeld(false);
          send({ type: 'abort', callId });
          rejectPromise(new MasaError('ABORTED', `${name}: generation aborted by the caller`, { cause: signal?.reason }));
        };
        const cleanup = (): void => signal?.removeEventListener('abort', onAbort);
        pending.set(callId, { resolve: resolvePromise, reject: rejectPromise, options, cleanup });
        signal?.addEventListener('abort', onAbort, { once: true });
        send({ type: 'generate', callId, requests: [...requests], wantEvents: options.onEvent !== undefined, wantDeltas: options.onDelta !== undefined });
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function createDeferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve: () => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<void>((resolvePromise, rejectPromise) => {
    resolve = resolvePromise;
    reject = rejectPromise;
  });
  return { promise, resolve, reject };
}
