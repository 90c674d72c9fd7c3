import { MasaError } from '@masa-rl/core';
import { runTrainCommand, type TrainCommandFlags } from '@masa-rl/train-app';
import { Command, Option } from 'commander';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function threads(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < 1) {
    throw new MasaError('ARGUMENT_INVALID', `--threads must be a positive integer, got "${value}"`, { details: { threads: value } });
  }
  return parsed;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 65535) {
    throw new MasaError('ARGUMENT_INVALID', `--port must be a TCP port (1–65535, or 0 for any free one), got "${value}"`, { details: { port: value } });
  }
  return parsed;
}

/** `masa train`: trains (GRPO, DAPO, MASA, MASA-efficient) with progress, Ctrl-C checkpoints and an optional live dashboard. */
export function createTrainCommand(): Command {
  return new Command('train')
    .description(
      'Train a policy. Without --config it runs the embedded example: masa-efficient on the synthetic arithmetic task from models/tiny-arith. ' +
        'Ctrl-C saves a checkpoint at the end of the current step and stops; --resume continues.',
    )
    .option('-c, --config <file>', 'YAML config (verl key names); default: the embedded tiny-arith run')
    .option('-s, --set <key=value>', 'override a config key, e.g. --set data.train_batch_size=32 (repeatable)', collect, [] as string[])
    .addOption(new Option('-a, --algo <name>', 'algorithm').choices(['grpo', 'dapo', 'masa', 'masa-efficient', 'dapo-masa']))
    .option('-r, --resume [checkpoint]', 'continue the run from its newest complete checkpoint (or from the given checkpoints/step-N folder)')
    .option('-o, --run-dir <dir>', 'run folder (config, metrics.jsonl, samples.jsonl, checkpoints/); default: trainer.default_local_dir')
    .addOption(new Option('--backend <kind>', 'policy backend: ort (ONNX Runtime) or fake (a simulated policy, to try the app)').choices(['ort', 'fake']).default('ort'))
    .option('-t, --threads <n>', 'ONNX Runtime threads per operator, rollouts and training steps (= --set trainer.threads=N; more pay off on idle cores only, and change float rounding)', threads)
    .option('--ui', 'serve the live dashboard on 127.0.0.1 while training')
    .option('-p, --port <port>', 'dashboard port (with --ui)', port)
    .option('--json', 'write events as NDJSON on stdout (logs go to stderr)')
    .option('-q, --quiet', 'print only warnings, errors and the summary')
    .option('--no-tensorboard', 'do not write TensorBoard event files to RUN_DIR/tensorboard/')
    .option('--wandb', 'log to Weights & Biases (optional @wandb/sdk; needs `wandb login` or WANDB_API_KEY)')
    .option('--wandb-project <name>', 'W&B project (default: trainer.project_name, masa-rl)')
    .option('--wandb-name <name>', 'W&B run name (default: trainer.experiment_name or the run folder name)')
    .action(async (options: { config?: string; set: string[]; algo?: string; resume?: boolean | string; runDir?: string; backend: 'ort' | 'fake'; threads?: number; ui?: boolean; port?: number; json?: boolean; quiet?: boolean; tensorboard: boolean; wandb?: boolean; wandbProject?: string; wandbName?: string }) => {
      const flags: TrainCommandFlags = {
        set: options.threads === undefined ? options.set : [...options.set, `trainer.threads=${options.threads}`],
        backend: options.backend,
        ...(options.config === undefined ? {} : { config: options.config }),
        ...(options.algo === undefined ? {} : { algo: options.algo }),
        ...(options.resume === undefined ? {} : { resume: options.resume }),
        ...(options.runDir === undefined ? {} : { runDir: options.runDir }),
        ...(options.ui === undefined ? {} : { ui: options.ui }),
        ...(options.port === undefined ? {} : { port: options.port }),
        ...(options.json === undefined ? {} : { json: options.json }),
        ...(options.quiet === undefined ? {} : { quiet: options.quiet }),
        tensorboard: options.tensorboard,
        ...(options.wandb === undefined ? {} : { wandb: options.wandb }),
        ...(options.wandbProject === undefined ? {} : { wandbProject: options.wandbProject }),
        ...(options.wandbName === undefined ? {} : { wandbName: options.wandbName }),
      };
      const datasetsDir = process.env['MASA_DATASETS_DIR'];
      await runTrainCommand(flags, datasetsDir === undefined || datasetsDir === '' ? {} : { datasetsDir });
    });
}
