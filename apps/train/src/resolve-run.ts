/**
 * Resolves what `masa train` runs: the config (the embedded tiny run when no
 * `--config`), the run folder, and the resume choice, then checks what a
 * newcomer can get wrong before any process starts (a read-only run folder,
 * a damaged checkpoint, a run folder that already holds a run).
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MasaError } from '@masa-rl/core';
import {
  ALGORITHM_NAMES,
  checkDatasetPaths,
  dumpResolvedConfig,
  findLatestCheckpoint,
  listCheckpoints,
  resolveConfig,
  RUN_FILES,
  verifyCheckpoint,
  type AlgorithmName,
  type TrainerConfig,
} from '@masa-rl/trainer';
import { extractLoggerSetting, type LoggerName } from './loggers/logger-setting.js';
import { isBundledDatasetName } from './train-data.js';

/** The default algorithm of the embedded run. */
export const EMBEDDED_ALGORITHM: AlgorithmName = 'masa-efficient';

/** The model folder of the embedded run (relative to the repository root). */
export const EMBEDDED_MODEL_PATH = 'models/tiny-arith';

/**
 * The embedded run: `masa-efficient` on the synthetic arithmetic task with
 * the tiny default checkpoint, sized for about 10 minutes on one CPU core
 * (16 problems × 8 solutions and 8 meta predictions per step, 30 steps,
 * calibration k = 10 then gating and cutoff; validation on the 200 held-out
 * problems, 8 samples each at T = 1, before and after).
 */
export const EMBEDDED_CONFIG_YAML = `# masa-rl embedded run: MASA on the synthetic arithmetic task (models/tiny-arith)
data:
  train_files: synthetic-arith
  val_files: synthetic-arith-validation
  train_batch_size: 16
  max_prompt_length: 96
  max_response_length: 224
actor_rollout_ref:
  model:
    path: ${EMBEDDED_MODEL_PATH}
  actor:
    optim:
      lr: 1.0e-4
      lr_warmup_steps: 0
      weight_decay: 0.0
    ppo_max_token_len_per_gpu: 8192
  rollout:
    n: 8
    log_prob_max_token_len_per_gpu: 16384
    val_kwargs:
      n: 8
      temperature: 1.0
      top_p: 1.0
      do_sample: true
algorithm:
  name: ${EMBEDDED_ALGORITHM}
trainer:
  total_training_steps: 30
  test_freq: 30
  save_freq: 5
  max_actor_ckpt_to_keep: 3
  samples_per_step: 8
masa:
  meta_n: 8
  calibration_steps: 10
  meta_prompt_template: tiny
`;

export interface ResolveTrainRunOptions {
  /** `--config FILE.yaml`; omit for the embedded run. */
  configPath?: string;
  /** `--set key=value` overrides, in order. @default [] */
  overrides?: readonly string[];
  /** `--algo`. */
  algo?: string;
  /** `--run-dir`. @default `trainer.default_local_dir` (embedded run: `runs/tiny-arith-<algo>`) */
  runDir?: string;
  /** `--resume` (`true`: the newest complete checkpoint of the run folder) or `--resume PATH` (that checkpoint). @default false */
  resume?: boolean | string;
  /** Relative paths are resolved against this folder. */
  cwd: string;
  /** Folder of the bundled datasets. @default found from the datasets package */
  datasetsDir?: string;
}

export interface ResolvedTrainRun {
  config: TrainerConfig;
  /** The resolved config as YAML (what the worker re-reads and `config.resolved.yaml` holds). */
  configText: string;
  /** Absolute run folder. */
  runDir: string;
  /** No `--config`: the embedded run. */
  embedded: boolean;
  /** `trainer.logger` (verl's key), read by the app; `undefined` when not set. */
  loggers?: LoggerName[];
}

const quote = (value: string): string => JSON.stringify(value);

/**
 * Resolves the config and the run folder.
 *
 * @throws MasaError `ARGUMENT_INVALID` (bad `--algo`), `FILE_NOT_FOUND` (config file), `CONFIG_INVALID` (typos, with the key path),
 * `DATASET_NOT_FOUND`
 */
export function resolveTrainRun(options: ResolveTrainRunOptions): ResolvedTrainRun {
  const { configPath, overrides = [], algo, runDir, resume = false, cwd, datasetsDir } = options;
  if (algo !== undefined && !(ALGORITHM_NAMES as readonly string[]).includes(algo)) {
    throw new MasaError('ARGUMENT_INVALID', `--algo ${algo} is not an algorithm; use one of ${ALGORITHM_NAMES.join(', ')}`, { details: { algo } });
  }
  let file: { text: string; path: string };
  if (configPath === undefined) {
    file = { text: EMBEDDED_CONFIG_YAML, path: '(embedded tiny-arith run)' };
  } else {
    const path = resolve(cwd, configPath);
    try {
      file = { text: readFileSync(path, 'utf8'), path: configPath };
    } catch (error: unknown) {
      throw new MasaError('FILE_NOT_FOUND', `config file ${configPath} cannot be read (${(error as Error).message}); check the --config path`, {
        cause: error,
        details: { path },
      });
    }
  }
  // `trainer.logger` is the app's (the trainer's schema does not know it): take it out before the trainer resolves.
  const loggerSetting = extractLoggerSetting({ file, overrides });
  file = loggerSetting.file ?? file;
  const trainerOverrides = loggerSetting.overrides;
  const extra: string[] = [];
  if (runDir !== undefined) extra.push(`trainer.default_local_dir=${quote(runDir)}`);
  if (resume === true) extra.push('trainer.resume_mode=auto');
  else if (typeof resume === 'string') extra.push('trainer.resume_mode=resume_path', `trainer.resume_from_path=${quote(resolve(cwd, resume))}`);
  const resolveWith = (more: readonly string[]): TrainerConfig =>
    resolveConfig({ file, overrides: [...trainerOverrides, ...more], ...(algo === undefined ? {} : { algo: algo as AlgorithmName }) });
  let config = resolveWith(extra);
  const embedded = configPath === undefined;
  const userSetRunDir = runDir !== undefined || overrides.some((override) => override.trim().startsWith('trainer.default_local_dir='));
  if (embedded && !userSetRunDir) {
    config = resolveWith([...extra, `trainer.default_local_dir=${quote(`runs/tiny-arith-${config.algorithm.name}`)}`]);
  }
  checkDatasetPaths({
    config,
    baseDir: cwd,
    isDatasetName: (name) => isBundledDatasetName(name, datasetsDir),
  });
  return {
    config,
    configText: dumpResolvedConfig(config),
    runDir: resolve(cwd, config.trainer.default_local_dir),
    embedded,
    ...(loggerSetting.loggers === undefined ? {} : { loggers: loggerSetting.loggers }),
  };
}

/** `mkdir -p`, one level at a time (Node's recursive mkdir can spin on ENOENT under special filesystems such as /proc). */
function makeDirectories(dir: string): void {
  const missing: string[] = [];
  let current = resolve(dir);
  while (!existsSync(current)) {
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const path of missing) mkdirSync(path);
}

/**
 * Checks the run folder before training: it must be writable, a `--resume`
 * must find a complete checkpoint, and a run folder that already holds
 * checkpoints is continued only with `--resume`.
 *
 * @throws MasaError `FILE_WRITE_FAILED`, `CHECKPOINT_INVALID`, `FILE_NOT_FOUND`, `ARGUMENT_INVALID`
 */
export async function preflightRun(run: ResolvedTrainRun, resume: boolean | string = false): Promise<void> {
  const { runDir, config } = run;
  const probe = join(runDir, `.masa-write-test-${process.pid}`);
  try {
    makeDirectories(runDir);
    accessSync(runDir, constants.W_OK);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new MasaError('FILE_WRITE_FAILED', `cannot write to the run folder ${runDir} (${code}); choose a writable folder with --run-dir DIR`, {
      cause: error,
      details: { path: runDir },
    });
  }
  const checkpointsDir = join(runDir, RUN_FILES.checkpoints);
  if (typeof resume === 'string') {
    const path = config.trainer.resume_from_path ?? resolve(resume);
    if (!existsSync(path)) {
      const latest = await findLatestCheckpoint(checkpointsDir);
      throw new MasaError(
        'FILE_NOT_FOUND',
        `checkpoint ${path} does not exist; \`--resume\` without a path picks the latest complete one${latest === undefined ? ' (there is none yet)' : ` (${latest.path})`}`,
        { details: { path } },
      );
    }
    const verification = await verifyCheckpoint(path);
    if (!verification.ok) {
      const latest = await findLatestCheckpoint(checkpointsDir);
      throw new MasaError(
        'CHECKPOINT_INVALID',
        `checkpoint ${path} is damaged or incomplete (${verification.reason}); \`--resume\` without a path picks the latest complete one${latest === undefined ? '' : ` (${latest.path})`}`,
        { details: { path, reason: verification.reason } },
      );
    }
    return;
  }
  const existing = await listCheckpoints(checkpointsDir);
  if (resume === true) {
    const latest = await findLatestCheckpoint(checkpointsDir);
    if (latest === undefined) {
      const damaged = existing.length === 0 ? '' : ` (${existing.length} damaged or incomplete checkpoint folder(s) were skipped)`;
      throw new MasaError('FILE_NOT_FOUND', `nothing to resume: ${checkpointsDir} has no complete checkpoint${damaged}; run without --resume to start fresh`, {
        details: { path: checkpointsDir },
      });
    }
    return;
  }
  if (existing.length > 0 && config.trainer.resume_mode === 'auto') {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `the run folder ${runDir} already holds a run (checkpoints up to step-${existing[0]?.step}); pass --resume to continue it, or --run-dir DIR for a new run`,
      { details: { path: runDir } },
    );
  }
}
