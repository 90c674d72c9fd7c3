/**
 * `masa train`: resolve the run, check it, train in a child process while
 * rendering progress (and, with `--ui`, serving the dashboard), handle Ctrl-C
 * (first: checkpoint at the next step boundary and stop; second: stop now;
 * third: kill), and end with the summary.
 */
import { MasaError } from '@masa-rl/core';
import { findLatestCheckpoint, RUN_FILES } from '@masa-rl/trainer';
import { join, relative } from 'node:path';
import { startDashboard, type Dashboard } from './dashboard/server.js';
import { createRunLoggers } from './loggers/run-loggers.js';
import { createProgressRenderer, type ProgressMode, type TextOutput } from './progress.js';
import { preflightRun, resolveTrainRun } from './resolve-run.js';
import { formatRunSummary, summarizeRun, type RunSummary } from './summary.js';
import type { BackendKind } from './train-job.js';
import { startTrainingProcess } from './training-process.js';

/** The flags of `masa train`. */
export interface TrainCommandFlags {
  /** YAML config file. @default the embedded tiny-arith run */
  config?: string;
  /** `key=value` overrides. @default [] */
  set?: readonly string[];
  algo?: string;
  /** `true`: continue from the newest complete checkpoint; a path: from that checkpoint. @default false */
  resume?: boolean | string;
  runDir?: string;
  /** @default 'ort' */
  backend?: BackendKind;
  /** NDJSON events on stdout. @default false */
  json?: boolean;
  /** Only warnings, errors and the summary. @default false */
  quiet?: boolean;
  /** Serve the dashboard while training. @default false */
  ui?: boolean;
  /** Dashboard port. @default 8765 */
  port?: number;
  /** TensorBoard event files in `RUN_DIR/tensorboard/` (`--no-tensorboard` turns them off). @default true */
  tensorboard?: boolean;
  /** Log to Weights & Biases (`@wandb/sdk`; needs `wandb login` or `WANDB_API_KEY`). @default `wandb` in `trainer.logger`, else false */
  wandb?: boolean;
  /** W&B project. @default `trainer.project_name` (`masa-rl`) */
  wandbProject?: string;
  /** W&B run name. @default `trainer.experiment_name`, or the run folder's name */
  wandbName?: string;
}

/** A signal source (`process` in the CLI). */
export interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM', handler: () => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM', handler: () => void): unknown;
}

/** Resolves at the next SIGINT or SIGTERM (the dashboard keeps serving until then). */
export function waitForStopSignal(signals: SignalSource): Promise<void> {
  return new Promise<void>((resolveWait) => {
    const done = (): void => {
      signals.off('SIGINT', done);
      signals.off('SIGTERM', done);
      resolveWait();
    };
    signals.on('SIGINT', done);
    signals.on('SIGTERM', done);
  });
}

export interface TrainCommandIo {
  /** @default process.stdout */
  stdout?: TextOutput;
  /** @default process.stderr */
  stderr?: TextOutput;
  /** @default process.cwd() */
  cwd?: string;
  /** Is stdout a terminal (the progress bar)? @default process.stdout.isTTY */
  isTTY?: boolean;
  /** Folder of the bundled datasets (the CLI passes `MASA_DATASETS_DIR`). */
  datasetsDir?: string;
  /** Where Ctrl-C comes from. @default process */
  signals?: SignalSource;
  /** How the user invokes masa, for the hints printed. @default 'pnpm masa' */
  commandName?: string;
  /** Environment for the W&B logger (`WANDB_API_KEY`, `WANDB_MODE`, …). @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Test seams. */
  _internal?: {
    workerPath?: string;
    /** Keep serving the dashboard after training until Ctrl-C. @default the output is a terminal */
    keepDashboard?: boolean;
    onDashboard?: (dashboard: Dashboard) => void;
    onStarted?: (control: { stop(): void; abort(): void; kill(): void; pid: number | undefined }) => void;
    /** Loads `@wandb/sdk` (a fake in tests). */
    importWandbSdk?: () => Promise<unknown>;
    /** Folder holding `.netrc`. @default os.homedir() */
    homeDir?: string;
  };
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The command that continues this run. */
export function resumeCommand(flags: TrainCommandFlags, runDir: string, cwd: string, commandName: string): string {
  const parts = [commandName, 'train', '--resume'];
  const shown = relative(cwd, runDir);
  parts.push('--run-dir', shellQuote(shown === '' || shown.startsWith('..') ? runDir : shown));
  if (flags.config !== undefined) parts.push('--config', shellQuote(flags.config));
  if (flags.algo !== undefined) parts.push('--algo', flags.algo);
  if (flags.backend !== undefined && flags.backend !== 'ort') parts.push('--backend', flags.backend);
  for (const override of flags.set ?? []) parts.push('--set', shellQuote(override));
  if (flags.tensorboard === false) parts.push('--no-tensorboard');
  if (flags.wandb === true) parts.push('--wandb');
  if (flags.wandbProject !== undefined) parts.push('--wandb-project', shellQuote(flags.wandbProject));
  if (flags.wandbName !== undefined) parts.push('--wandb-name', shellQuote(flags.wandbName));
  return parts.join(' ');
}

/**
 * Runs `masa train` and returns the run summary.
 *
 * @throws MasaError — the CLI's top-level handler maps its code to the exit code (`ABORTED` → 130 after Ctrl-C).
 */
export async function runTrainCommand(flags: TrainCommandFlags, io: TrainCommandIo = {}): Promise<RunSummary> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const cwd = io.cwd ?? process.cwd();
  const isTTY = io.isTTY ?? process.stdout.isTTY === true;
  const signals = io.signals ?? process;
  const commandName = io.commandName ?? 'pnpm masa';
  const resume = flags.resume ?? false;

  const run = resolveTrainRun({
    ...(flags.config === undefined ? {} : { configPath: flags.config }),
    overrides: flags.set ?? [],
    ...(flags.algo === undefined ? {} : { algo: flags.algo }),
    ...(flags.runDir === undefined ? {} : { runDir: flags.runDir }),
    resume,
    cwd,
    ...(io.datasetsDir === undefined ? {} : { datasetsDir: io.datasetsDir }),
  });
  await preflightRun(run, resume);

  const mode: ProgressMode = flags.json === true ? 'json' : flags.quiet === true ? 'quiet' : isTTY ? 'tty' : 'plain';
  const renderer = await createProgressRenderer({ mode, stdout, stderr });
  // Metric loggers (TensorBoard, W&B): set up before training, so a missing W&B login fails here.
  let loggers;
  try {
    const wandb = flags.wandb ?? run.loggers?.includes('wandb') ?? false;
    loggers = await createRunLoggers({
      runDir: run.runDir,
      config: run.config,
      tensorboard: flags.tensorboard ?? true,
      wandb: wandb ? { ...(flags.wandbProject === undefined ? {} : { project: flags.wandbProject }), ...(flags.wandbName === undefined ? {} : { name: flags.wandbName }) } : false,
      log: (line) => renderer.log(line),
      ...(io.env === undefined ? {} : { env: io.env }),
      ...(io._internal?.homeDir === undefined ? {} : { homeDir: io._internal.homeDir }),
      ...(io._internal?.importWandbSdk === undefined ? {} : { _internal: { importWandbSdk: io._internal.importWandbSdk } }),
    });
  } catch (error: unknown) {
    renderer.close();
    throw error;
  }
  let dashboard: Dashboard | undefined;
  if (flags.ui === true) {
    try {
      dashboard = await startDashboard({ runDirs: [run.runDir], ...(flags.port === undefined ? {} : { port: flags.port }) });
    } catch (error: unknown) {
      await loggers.close(1);
      renderer.close();
      throw error;
    }
    io._internal?.onDashboard?.(dashboard);
    renderer.log(`dashboard: ${dashboard.url} (serving ${run.runDir})`);
  }

  const proc = startTrainingProcess({
    job: {
      configText: run.configText,
      runDir: run.runDir,
      backend: flags.backend ?? 'ort',
      cwd,
      ...(io.datasetsDir === undefined ? {} : { datasetsDir: io.datasetsDir }),
    },
    onMessage: (message) => {
      renderer.onMessage(message);
      loggers.onMessage(message);
    },
    onOutput: (text) => stderr.write(text),
    ...(io._internal?.workerPath === undefined ? {} : { workerPath: io._internal.workerPath }),
  });
  io._internal?.onStarted?.({ stop: proc.stop, abort: proc.abort, kill: proc.kill, pid: proc.pid });

  let interrupts = 0;
  const onInterrupt = (): void => {
    interrupts += 1;
    if (interrupts === 1) {
      renderer.log('stopping at the end of this step and saving a checkpoint (Ctrl-C again to stop now and lose this step)…');
      proc.stop();
    } else if (interrupts === 2) {
      renderer.log('stopping now; the run resumes from its last complete checkpoint (Ctrl-C again to kill)…');
      proc.abort();
    } else {
      proc.kill();
    }
  };
  signals.on('SIGINT', onInterrupt);
  signals.on('SIGTERM', onInterrupt);
  let outcome;
  try {
    outcome = await proc.outcome;
  } finally {
    signals.off('SIGINT', onInterrupt);
    signals.off('SIGTERM', onInterrupt);
    const exitCode = outcome?.type === 'done' ? 0 : outcome?.type === 'stopped' || interrupts > 0 ? 130 : 1;
    await loggers.close(exitCode);
    renderer.close();
  }

  const closeDashboard = async (): Promise<void> => {
    await dashboard?.close();
  };
  const again = resumeCommand(flags, run.runDir, cwd, commandName);
  if (outcome.type === 'failed') {
    await closeDashboard();
    throw outcome.error;
  }
  if (outcome.type === 'stopped' || outcome.type === 'crashed') {
    await closeDashboard();
    const latest = await findLatestCheckpoint(join(run.runDir, RUN_FILES.checkpoints));
    const from = latest === undefined ? 'from the start (no checkpoint was complete)' : `from ${latest.path}`;
    if (outcome.type === 'stopped' || interrupts > 0) {
      throw new MasaError('ABORTED', `training stopped after step ${latest?.step ?? 0}; resume ${from} with: ${again}`, {
        details: { runDir: run.runDir, checkpoint: latest?.path ?? null },
      });
    }
    const how = outcome.signal === null ? `exit code ${String(outcome.exitCode)}` : `signal ${outcome.signal}`;
    throw new MasaError('INTERNAL', `the training process ended unexpectedly (${how}); resume ${from} with: ${again}`, {
      details: { runDir: run.runDir, exitCode: outcome.exitCode, signal: outcome.signal },
    });
  }

  const summary = summarizeRun(run.runDir);
  const uiCommand = `${commandName} ui ${shellQuote(relative(cwd, run.runDir) || run.runDir)}`;
  if (flags.json === true) stdout.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
  for (const line of formatRunSummary(summary, { uiCommand })) stderr.write(`${line}\n`);

  if (dashboard !== undefined) {
    const keep = io._internal?.keepDashboard ?? isTTY;
    if (keep) {
      stderr.write(`dashboard still serving at ${dashboard.url}; press Ctrl-C to exit\n`);
      await waitForStopSignal(signals);
    }
    await closeDashboard();
  }
  return summary;
}
