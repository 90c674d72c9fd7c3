/**
 * The run's metric loggers, fed with the training job's messages in the app
 * process: TensorBoard event files in `RUN_DIR/tensorboard/` (on by default)
 * and, when asked for, a Weights & Biases run. W&B is set up (and its run
 * created) by {@link createRunLoggers}, before training starts, so a missing
 * SDK or login fails early; a logger that fails mid-run is reported once and
 * switched off, and never stops training.
 */
import { basename, join } from 'node:path';
import type { TrainerConfig } from '@masa-rl/trainer';
import type { JobMessage } from '../train-job.js';
import { createMetricRows, type MetricRow } from './metric-rows.js';
import { createTensorBoardWriter, type TensorBoardWriter } from './tensorboard-writer.js';
import { createWandbLogger, resolveWandbMode, type WandbLogger } from './wandb-logger.js';

/** The TensorBoard folder inside a run folder (`tensorboard --logdir RUN_DIR/tensorboard`). */
export const TENSORBOARD_DIR = 'tensorboard';

/** W&B settings of a run. */
export interface WandbRunSettings {
  /** @default `trainer.project_name` (`masa-rl`) */
  project?: string;
  /** @default `trainer.experiment_name` unless it is `default`, else the run folder's name */
  name?: string;
}

export interface CreateRunLoggersOptions {
  /** The run folder (absolute). */
  runDir: string;
  /** The resolved config: W&B's run config, project and run name. */
  config: TrainerConfig;
  /** Write TensorBoard event files to `RUN_DIR/tensorboard/`. @default true */
  tensorboard?: boolean;
  /** Log to Weights & Biases (`true` or its settings). @default false */
  wandb?: boolean | WandbRunSettings;
  /** Notices for the person watching (the W&B run page, a logger that stopped). @default dropped */
  log?: (line: string) => void;
  /** Environment for W&B (`WANDB_API_KEY`, `WANDB_MODE`, …). @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Home folder holding `.netrc`. @default os.homedir() */
  homeDir?: string;
  /** Wall clock in ms since the epoch (event times). @default Date.now */
  now?: () => number;
  /** Test seams. */
  _internal?: { importWandbSdk?: () => Promise<unknown>; hostname?: string; wandbInitTimeoutMs?: number };
}

export interface RunLoggers {
  /** The TensorBoard folder, when TensorBoard is on. */
  readonly tensorboardDir: string | undefined;
  /** The W&B run page, when W&B is on. */
  readonly wandbUrl: string | undefined;
  /** Feeds one job message (only trainer events matter). */
  onMessage(message: JobMessage): void;
  /** Writes what is pending and closes every logger; `exitCode` goes to W&B (0 finished, 130 stopped, 1 failed). */
  close(exitCode: number): Promise<void>;
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Sets up the loggers. W&B's checks run here, before training.
 *
 * @throws MasaError `RUNTIME_UNAVAILABLE` (W&B SDK missing, not logged in, offline mode, server unreachable), `CONFIG_INVALID` (bad `WANDB_MODE`)
 */
export async function createRunLoggers(options: CreateRunLoggersOptions): Promise<RunLoggers> {
  const { runDir, config, tensorboard = true, wandb = false, log = () => undefined, env = process.env, now = Date.now } = options;
  const tensorboardDir = tensorboard ? join(runDir, TENSORBOARD_DIR) : undefined;

  let wandbLogger: WandbLogger | undefined;
  if (wandb !== false) {
    const settings = wandb === true ? {} : wandb;
    if (resolveWandbMode(env) === 'disabled') {
      log('W&B: WANDB_MODE=disabled, so this run is not logged to W&B');
    } else {
      const experiment = config.trainer.experiment_name;
      wandbLogger = await createWandbLogger({
        project: settings.project ?? config.trainer.project_name,
        name: settings.name ?? (experiment !== 'default' ? experiment : basename(runDir)),
        config: config as unknown as Record<string, unknown>,
        env,
        ...(options.homeDir === undefined ? {} : { homeDir: options.homeDir }),
        ...(options._internal?.wandbInitTimeoutMs === undefined ? {} : { initTimeoutMs: options._internal.wandbInitTimeoutMs }),
        ...(options._internal?.importWandbSdk === undefined ? {} : { _internal: { importSdk: options._internal.importWandbSdk } }),
      });
      log(`W&B: logging to ${wandbLogger.url}`);
    }
  }

  const rows = createMetricRows();
  let writer: TensorBoardWriter | undefined;
  let tensorboardOn = tensorboardDir !== undefined;
  let wandbOn = wandbLogger !== undefined;

  const stopTensorBoard = (error: unknown): void => {
    tensorboardOn = false;
    log(`TensorBoard: stopped writing event files (${reasonOf(error)}); training goes on`);
    try {
      writer?.close();
    } catch {
      // Already reported.
    }
  };
  const write = (written: readonly MetricRow[]): void => {
    for (const row of written) {
      if (tensorboardOn && writer !== undefined) {
        try {
          writer.addScalars(row.step, row.metrics);
        } catch (error: unknown) {
          stopTensorBoard(error);
        }
      }
      if (wandbOn && wandbLogger !== undefined) {
        try {
          wandbLogger.log(row.step, row.metrics);
        } catch (error: unknown) {
          wandbOn = false;
          log(`W&B: stopped logging (${reasonOf(error)}); training goes on`);
        }
      }
    }
  };

  return {
    tensorboardDir,
    wandbUrl: wandbLogger?.url,
    onMessage(message) {
      if (message.type !== 'event') return;
      const { event } = message;
      if (event.type === 'run-start' && tensorboardOn && tensorboardDir !== undefined && writer === undefined) {
        try {
          // A resumed run logs from the step after its checkpoint: TensorBoard drops older points from there on.
          const startStep = event.resumedFrom === null ? 0 : event.startStep + 1;
          writer = createTensorBoardWriter({
            dir: tensorboardDir,
            startStep,
            now,
            ...(options._internal?.hostname === undefined ? {} : { hostname: options._internal.hostname }),
          });
        } catch (error: unknown) {
          stopTensorBoard(error);
        }
      }
      write(rows.push(event));
    },
    async close(exitCode) {
      write(rows.flush());
      if (writer !== undefined && tensorboardOn) {
        try {
          writer.close();
        } catch (error: unknown) {
          log(`TensorBoard: could not close ${writer.path} (${reasonOf(error)})`);
        }
      }
      if (wandbLogger !== undefined) {
        const finished = await wandbLogger.finish(exitCode);
        if (!finished) log(`W&B: the run did not finish uploading in time; what was sent is at ${wandbLogger.url}`);
      }
    },
  };
}
