/**
 * A pool of grading worker threads with a deadline on every item. A grade
 * that runs past its deadline is stopped by terminating its worker (which
 * also ends a busy synchronous compute-engine call); the item scores 0 with
 * `status: 'timeout'` and a fresh worker takes the slot. A worker that throws
 * or runs out of memory (each has a V8 heap limit) gives `status: 'error'`.
 * Nothing a single answer does can crash the run.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MasaError, type GradeVerdict } from '@masa-rl/core';
import type { GradeRequest } from './grade.js';
import type { WorkerMessage, WorkerReply } from './worker-protocol.js';

/** Default deadline of one grade, in milliseconds. */
export const DEFAULT_DEADLINE_MS = 2000;

export interface GradePoolOptions {
  /**
   * Number of worker threads.
   * @default min(4, os.availableParallelism())
   */
  size?: number;
  /**
   * Deadline of one grade, from the moment a worker receives it.
   * @default 2000
   */
  deadlineMs?: number;
  /**
   * V8 old-generation heap limit of each worker, in MiB (a grade that needs more ends with `status: 'error'`).
   * @default 512
   */
  memoryMb?: number;
  /** Test seams. */
  _internal?: {
    /** Worker script to run instead of the built `grade-worker.js`. */
    workerUrl?: URL;
    /** Let requests carry `hook` (spin, allocate, throw, exit) to exercise timeouts and crashes. */
    testHooks?: boolean;
  };
}

export interface GradeOptions {
  /** Deadline for this item, overriding the pool's. */
  deadlineMs?: number;
  /** Test seam: a worker hook (needs `_internal.testHooks`). */
  _internal?: { hook?: WorkerMessage['hook'] };
}

/** Counters of a pool's life. */
export interface GradePoolStats {
  graded: number;
  timeouts: number;
  errors: number;
  /** Workers replaced after a timeout or a crash. */
  restarts: number;
}

export interface GradePool extends AsyncDisposable {
  /** Grades one request; never rejects because of the answer (timeouts and crashes come back as verdicts). */
  grade(request: GradeRequest, options?: GradeOptions): Promise<GradeVerdict>;
  /** Grades many requests, in order of the input. */
  gradeAll(requests: readonly GradeRequest[], options?: GradeOptions): Promise<GradeVerdict[]>;
  stats(): GradePoolStats;
  /** Stops every worker; pending grades reject with `ABORTED`. */
  close(): Promise<void>;
}

interface Pending {
  request: GradeRequest;
  deadlineMs: number;
  hook: WorkerMessage['hook'] | undefined;
  resolve: (verdict: GradeVerdict) => void;
  reject: (error: unknown) => void;
}

interface InFlight extends Pending {
  id: number;
  start: number;
  timer: ReturnType<typeof setTimeout>;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  dead: boolean;
  job: InFlight | undefined;
}

/** Finds the built worker script next to this module (dist/), or in ../dist when running from src/. */
function resolveWorkerUrl(): URL {
  const candidates = [new URL('./grade-worker.js', import.meta.url), new URL('../dist/grade-worker.js', import.meta.url)];
  for (const candidate of candidates) if (existsSync(fileURLToPath(candidate))) return candidate;
  throw new MasaError(
    'RUNTIME_UNAVAILABLE',
    'the grading worker script (dist/grade-worker.js) is missing: build the package with `pnpm --filter @masa-rl/scoring build`',
  );
}

/**
 * Starts a pool of grading workers. Dispose it (`await using pool = …` or
 * `await pool.close()`) when done.
 */
export function createGradePool(options: GradePoolOptions = {}): GradePool {
  const {
    size = Math.min(4, Math.max(1, availableParallelism())),
    deadlineMs = DEFAULT_DEADLINE_MS,
    memoryMb = 512,
    _internal = {},
  } = options;
  if (!Number.isInteger(size) || size < 1) throw new MasaError('ARGUMENT_INVALID', `grade pool size must be a positive integer, got ${size}`);
  if (!(deadlineMs > 0)) throw new MasaError('ARGUMENT_INVALID', `deadlineMs must be positive, got ${deadlineMs}`);
  const workerUrl = _internal.workerUrl ?? resolveWorkerUrl();
  const testHooks = _internal.testHooks === true;
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  const stats: GradePoolStats = { graded: 0, timeouts: 0, errors: 0, restarts: 0 };
  let nextId = 1;
  let closed = false;
  let startFailures = 0;
  let broken: MasaError | undefined;

  const finish = (job: InFlight, verdict: GradeVerdict): void => {
    clearTimeout(job.timer);
    stats.graded++;
    if (verdict.status === 'timeout') stats.timeouts++;
    if (verdict.status === 'error') stats.errors++;
    job.resolve(verdict);
  };

  const refreshRefs = (): void => {
    for (const slot of slots) {
      if (slot.job !== undefined || queue.length > 0) slot.worker.ref();
      else slot.worker.unref();
    }
  };

  const retire = (slot: Slot): void => {
    slot.dead = true;
    const index = slots.indexOf(slot);
    if (index >= 0) slots.splice(index, 1);
  };

  const replace = (): void => {
    if (closed) return;
    stats.restarts++;
    slots.push(spawn());
  };

  const onDeath = (slot: Slot, cause: string): void => {
    if (slot.dead) return;
    retire(slot);
    const job = slot.job;
    slot.job = undefined;
    if (job) finish(job, { equal: false, reason: 'worker-crashed', ms: performance.now() - job.start, status: 'error', error: cause });
    if (!slot.ready) startFailures++;
    if (startFailures >= 3) {
      broken = new MasaError('RUNTIME_UNAVAILABLE', `grading workers fail to start (${cause}); rebuild @masa-rl/scoring`);
      for (const pending of queue.splice(0)) pending.reject(broken);
      return;
    }
    replace();
    pump();
  };

  function spawn(): Slot {
    const worker = new Worker(workerUrl, {
      workerData: { testHooks },
      resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: 32 },
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { worker, ready: false, dead: false, job: undefined };
    worker.on('message', (message: WorkerReply | { ready: true }) => {
      if ('ready' in message) {
        slot.ready = true;
        startFailures = 0;
        pump();
        return;
      }
      const job = slot.job;
      if (!job || job.id !== message.id || slot.dead) return;
      slot.job = undefined;
      finish(job, { ...message.verdict, ms: performance.now() - job.start });
      pump();
    });
    worker.on('error', (error: Error) => onDeath(slot, `${(error as { code?: string }).code ?? 'ERROR'}: ${error.message}`));
    worker.on('exit', (code: number) => onDeath(slot, `worker exited with code ${code}`));
    return slot;
  }

  const onTimeout = (slot: Slot): void => {
    const job = slot.job;
    if (!job || slot.dead) return;
    slot.job = undefined;
    retire(slot);
    void slot.worker.terminate();
    finish(job, { equal: false, reason: 'timeout', ms: performance.now() - job.start, status: 'timeout' });
    replace();
    pump();
  };

  function pump(): void {
    for (const slot of slots) {
      if (queue.length === 0) break;
      if (!slot.ready || slot.dead || slot.job !== undefined) continue;
      const pending = queue.shift() as Pending;
      const id = nextId++;
      const job: InFlight = {
        ...pending,
        id,
        start: performance.now(),
        timer: setTimeout(() => onTimeout(slot), pending.deadlineMs),
      };
      slot.job = job;
      const message: WorkerMessage = { id, request: pending.request };
      if (pending.hook !== undefined) message.hook = pending.hook;
      slot.worker.postMessage(message);
    }
    refreshRefs();
  }

  for (let k = 0; k < size; k++) slots.push(spawn());
  refreshRefs();

  const grade = (request: GradeRequest, gradeOptions: GradeOptions = {}): Promise<GradeVerdict> => {
    if (closed) return Promise.reject(new MasaError('ABORTED', 'the grading pool is closed'));
    if (broken) return Promise.reject(broken);
    return new Promise<GradeVerdict>((resolve, reject) => {
      queue.push({
        request,
        deadlineMs: gradeOptions.deadlineMs ?? deadlineMs,
        hook: gradeOptions._internal?.hook,
        resolve,
        reject,
      });
      pump();
    });
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const error = new MasaError('ABORTED', 'the grading pool was closed before this grade ran');
    for (const pending of queue.splice(0)) pending.reject(error);
    const workers = slots.splice(0);
    for (const slot of workers) {
      slot.dead = true;
      if (slot.job) {
        clearTimeout(slot.job.timer);
        slot.job.reject(error);
      }
    }
    await Promise.all(workers.map((slot) => slot.worker.terminate()));
  };

  return {
    grade,
    gradeAll: (requests, gradeOptions) => Promise.all(requests.map((request) => grade(request, gradeOptions))),
    stats: () => ({ ...stats }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
