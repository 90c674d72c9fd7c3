import { isAbsolute, relative, resolve } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { runTinyRecipe, type TinyRecipeEvent, type TinyRecipeOptions, type TinyRecipeResult } from '@masa-rl/trainer';
import { Command } from 'commander';

/** Where the command writes and what it reads (test seams). */
export interface SftCommandOptions {
  /**
   * The summary (or NDJSON events with `--json`).
   * @default process.stdout
   */
  stdout?: { write(text: string): unknown };
  /**
   * Progress lines.
   * @default process.stderr
   */
  stderr?: { write(text: string): unknown };
  /**
   * Directory relative paths are resolved against.
   * @default process.cwd()
   */
  cwd?: string;
  /** Test seams. */
  _internal?: { runRecipe?: typeof runTinyRecipe; signal?: AbortSignal };
}

const RECIPES = ['tiny'] as const;

function positive(flag: string, integer: boolean) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!(Number.isFinite(parsed) && parsed > 0) || (integer && !Number.isInteger(parsed))) {
      throw new MasaError('ARGUMENT_INVALID', `${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`, { details: { flag, value } });
    }
    return parsed;
  };
}

function integer(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value)) throw new MasaError('ARGUMENT_INVALID', `${flag} must be an integer, got "${value}"`, { details: { flag, value } });
    return parsed;
  };
}

const pct = (value: number | null): string => (value === null ? 'n/a' : `${(100 * value).toFixed(1)}%`);

function describeEvent(event: TinyRecipeEvent): string | undefined {
  switch (event.type) {
    case 'recipe-start': {
      const s = event.settings;
      const budget = event.minutes === null ? `${s.steps} steps` : `${event.minutes} minutes (steps fixed after the warm-up)`;
      return `sft tiny: ${event.parameters.toLocaleString('en-US')} parameters, ${budget} of ${s.batchSize} examples, seed ${s.seed}`;
    }
    case 'recipe-budget':
      return `sft tiny: ${event.stepsPerSecond.toFixed(2)} steps/s → ${event.steps} steps for ${event.minutes} minutes`;
    case 'recipe-progress': {
      const total = event.steps === Number.MAX_SAFE_INTEGER ? '?' : String(event.steps);
      return `step ${event.step}/${total}  loss ${event.lossEma.toFixed(4)}  lr ${event.lr.toExponential(2)}  grad-norm ${event.gradNorm.toFixed(2)}  ${(event.elapsedMs / 60_000).toFixed(1)} min`;
    }
    case 'evaluation-start':
      return `evaluating on ${event.problems} held-out problems × ${event.samples} samples …`;
    case 'evaluation-end': {
      const e = event.evaluation;
      return (
        `accuracy ${pct(e.accuracy)} (greedy ${pct(e.greedyAccuracy)}), mixed ${pct(e.mixedFraction)}, pass counts ${e.passCountHistogram.join('/')}, ` +
        `meta parse ${pct(e.meta?.parseRate ?? null)}, pass-rate MAE ${e.meta?.passRateMae?.toFixed(2) ?? 'n/a'}, r ${e.meta?.passRateCorrelation?.toFixed(2) ?? 'n/a'}`
      );
    }
    case 'checkpoint-saved':
      return `wrote ${event.dir} (${event.files.join(', ')}); model.safetensors sha256 ${event.sha256}`;
    case 'recipe-end':
      return undefined;
  }
}

function summary(result: TinyRecipeResult, cwd: string): string {
  const t = result.training;
  const lines = [`trained ${t.steps} steps in ${(t.ms / 60_000).toFixed(1)} min (${t.stepsPerSecond.toFixed(2)} steps/s), final loss ${t.lossEma.toFixed(4)}`];
  if (result.evaluation !== null) {
    const e = result.evaluation;
    lines.push(`accuracy ${pct(e.accuracy)} at T=${e.temperature}, ${pct(e.mixedFraction)} mixed, meta parse ${pct(e.meta?.parseRate ?? null)}`);
  }
  if (result.outDir !== null) lines.push(`checkpoint: ${relative(cwd, result.outDir) || '.'} (see RECIPE.md there)`);
  else lines.push(`weights sha256 ${result.weightsSha256} (nothing written)`);
  return `${lines.join('\n')}\n`;
}

/** `masa sft --recipe tiny`: trains the embedded default model from scratch. */
export function createSftCommand(options: SftCommandOptions = {}): Command {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const cwd = options.cwd ?? process.cwd();
  const runRecipe = options._internal?.runRecipe ?? runTinyRecipe;
  return new Command('sft')
    .description('Supervised fine-tuning recipes. `--recipe tiny` trains the embedded default model (models/tiny-arith) from scratch on the synthetic arithmetic task.')
    .requiredOption('--recipe <name>', `recipe to run (${RECIPES.join(', ')})`)
    .option('--out <dir>', 'output folder of the checkpoint (replaced atomically)', 'models/tiny-arith')
    .option('--steps <n>', 'optimiser steps (default 4500; reproducible)', positive('--steps', true))
    .option('--minutes <n>', 'wall-clock budget instead of --steps (the step count is fixed after the warm-up and written to recipe.json)', positive('--minutes', false))
    .option('--seed <n>', 'seed of the initialisation and the data', integer('--seed'))
    .option('--no-eval', 'skip the held-out evaluation')
    .option('--json', 'write every event as one JSON line on stdout')
    .action(async (flags: { recipe: string; out: string; steps?: number; minutes?: number; seed?: number; eval: boolean; json?: boolean }) => {
      if (!(RECIPES as readonly string[]).includes(flags.recipe)) {
        throw new MasaError('ARGUMENT_INVALID', `unknown recipe "${flags.recipe}": use --recipe ${RECIPES.join(' or ')}`, { details: { recipe: flags.recipe } });
      }
      if (flags.steps !== undefined && flags.minutes !== undefined) {
        throw new MasaError('ARGUMENT_INVALID', 'give either --steps or --minutes, not both');
      }
      const outDir = isAbsolute(flags.out) ? flags.out : resolve(cwd, flags.out);
      const controller = new AbortController();
      const signal = options._internal?.signal ?? controller.signal;
      const onSigint = (): void => {
        stderr.write('sft: stopping (nothing is written; run again to restart)\n');
        controller.abort();
      };
      if (options._internal?.signal === undefined) process.once('SIGINT', onSigint);
      const recipeOptions: TinyRecipeOptions = {
        outDir,
        ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
        ...(flags.minutes !== undefined ? { minutes: flags.minutes } : {}),
        ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
        ...(flags.eval ? {} : { evaluation: false as const }),
        signal,
      };
      try {
        const result = await runRecipe({
          ...recipeOptions,
          onEvent: (event) => {
            if (flags.json === true) stdout.write(`${JSON.stringify(event)}\n`);
            else {
              const line = describeEvent(event);
              if (line !== undefined) stderr.write(`${line}\n`);
            }
          },
        });
        if (flags.json !== true) stdout.write(summary(result, cwd));
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}
