/**
 * Runs a {@link TrainJob} in a child process (`child_process.fork` of the
 * worker entry) so that the process rendering progress and serving the
 * dashboard stays responsive while ONNX Runtime computes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MASA_ERROR_CODES, MasaError, type MasaErrorCode } from '@masa-rl/core';
import type { JobMessage, TrainJob } from './train-job.js';

/** How the child ended. */
export type TrainingOutcome =
  | { type: 'done'; step: number; reason: 'completed' | 'data-exhausted' }
  | { type: 'stopped'; step: number; checkpoint: string | null }
  | { type: 'failed'; error: MasaError }
  | { type: 'crashed'; exitCode: number | null; signal: NodeJS.Signals | null };

export interface TrainingProcess {
  readonly pid: number | undefined;
  /** Ask for a checkpoint at the next step boundary, then the end. */
  stop(): void;
  /** End now (generation in flight is aborted; progress since the last checkpoint is lost). */
  abort(): void;
  /** SIGKILL the child. */
  kill(): void;
  /** Resolves when the child has exited. */
  readonly outcome: Promise<TrainingOutcome>;
}

export interface StartTrainingProcessOptions {
  job: TrainJob;
  /** Every message of the job, in order. */
  onMessage: (message: JobMessage) => void;
  /** Text the child writes to stdout/stderr (native libraries may). @default process.stderr */
  onOutput?: (text: string) => void;
  /** The worker entry. @default `worker.js` next to the built app */
  workerPath?: string;
}

/** The built worker entry (`dist/worker.js`). */
export function defaultWorkerPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'worker.js'), join(here, '..', 'dist', 'worker.js')];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new MasaError('RUNTIME_UNAVAILABLE', `the training worker is not built (looked for ${candidates.join(', ')}); run pnpm --filter @masa-rl/train-app build`);
  }
  return found;
}

const KNOWN_CODES: ReadonlySet<string> = new Set(MASA_ERROR_CODES);

/** Forks the worker and starts the job. */
export function startTrainingProcess(options: StartTrainingProcessOptions): TrainingProcess {
  const { job, onMessage, onOutput = (text) => process.stderr.write(text) } = options;
  const child: ChildProcess = fork(options.workerPath ?? defaultWorkerPath(), [], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: [],
    serialization: 'json',
  });
  child.stdout?.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
  let final: TrainingOutcome | undefined;
  child.on('message', (raw: unknown) => {
    const message = raw as JobMessage;
    if (message.type === 'done') final = { type: 'done', step: message.step, reason: message.reason };
    else if (message.type === 'stopped') final = { type: 'stopped', step: message.step, checkpoint: message.checkpoint };
    else if (message.type === 'failed') {
      const code = KNOWN_CODES.has(message.error.code) ? message.error.code : 'INTERNAL';
      const text = message.error.stack !== undefined && code === 'INTERNAL' ? `${message.error.message}\n${message.error.stack}` : message.error.message;
      final = { type: 'failed', error: new MasaError(code as MasaErrorCode, text, message.error.details === undefined ? {} : { details: message.error.details }) };
    }
    onMessage(message);
  });
  const send = (message: unknown): void => {
    if (child.connected) child.send(message as never);
  };
  const outcome = new Promise<TrainingOutcome>((resolve) => {
    child.on('exit', (exitCode, signal) => {
      resolve(final ?? { type: 'crashed', exitCode, signal });
    });
    child.on('error', (error) => {
      resolve(final ?? { type: 'failed', error: new MasaError('RUNTIME_UNAVAILABLE', `could not start the training process: ${error.message}`, { cause: error }) });
    });
  });
  send({ type: 'start', job });
  return {
    pid: child.pid,
    stop: () => send({ type: 'stop' }),
    abort: () => send({ type: 'abort' }),
    kill: () => {
      child.kill('SIGKILL');
    },
    outcome,
  };
}
