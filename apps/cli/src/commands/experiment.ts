import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError } from '@masa-rl/core';
import { PAPER_CLAIMS_BUDGETS, runPaperClaims, type RunPaperClaimsOptions } from '@masa-rl/experiments';
import { findRepoRoot } from '@masa-rl/train-app';
import { Command } from 'commander';

const EXPERIMENTS = ['paper-claims'] as const;

export interface ExperimentCommandOptions {
  /** The verdicts and the report's path. @default process.stdout */
  stdout?: { write(text: string): unknown };
  /** Progress lines. @default process.stderr */
  stderr?: { write(text: string): unknown };
  cwd?: string;
  /** Test seams. */
  _internal?: { signal?: AbortSignal; repoRoot?: string; run?: typeof runPaperClaims };
}

/** `masa experiment paper-claims`: checks the MASA paper's claims on the embedded task and writes a report with figures. */
export function createExperimentCommand(options: ExperimentCommandOptions = {}): Command {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const cwd = options.cwd ?? process.cwd();
  return new Command('experiment')
    .description(
      "Run an experiment and write its report. `paper-claims`: GRPO, DAPO, MASA, MASA-efficient and a continue-SFT control from models/tiny-arith, 3 seeds each, plus ablations of M, σ_PG and l_LC " +
        '(about 75 minutes on one core; --quick: a few minutes) → docs/experiments/paper-claims.md with SVG figures. Finished runs are kept in the log: run it again to resume.',
    )
    .argument('<name>', `experiment (${EXPERIMENTS.join(', ')})`)
    .option('--quick', 'the smoke-test budget (1 seed, 2 steps, 12 problems): minutes, not an hour; writes under runs/experiments/ by default')
    .option('--out <dir>', 'folder of the figures and of log/ (default: docs/experiments/paper-claims, or runs/experiments/paper-claims-quick with --quick)')
    .option('--report <file>', 'the report (default: the --out folder with .md)')
    .option('--fresh', 'discard the log in --out and start over (default: resume it)')
    .option('--report-only', 'do not train: analyse the log and redraw the figures and the report')
    .action(async (name: string, flags: { quick?: boolean; out?: string; report?: string; fresh?: boolean; reportOnly?: boolean }) => {
      if (!(EXPERIMENTS as readonly string[]).includes(name)) {
        throw new MasaError('ARGUMENT_INVALID', `unknown experiment "${name}": use masa experiment ${EXPERIMENTS.join(' or ')}`, { details: { experiment: name } });
      }
      const repoRoot = options._internal?.repoRoot ?? findRepoRoot(fileURLToPath(new URL('.', import.meta.url)));
      if (repoRoot === undefined) {
        throw new MasaError('FILE_NOT_FOUND', 'masa experiment needs the masa-rl repository (models/tiny-arith, datasets/): run it from a clone');
      }
      const quick = flags.quick === true;
      const at = (path: string): string => (isAbsolute(path) ? path : resolve(cwd, path));
      const out = flags.out !== undefined ? at(flags.out) : resolve(repoRoot, quick ? 'runs/experiments/paper-claims-quick' : 'docs/experiments/paper-claims');
      const reportPath = flags.report !== undefined ? at(flags.report) : `${out}.md`;
      const controller = new AbortController();
      const signal = options._internal?.signal ?? controller.signal;
      const onSigint = (): void => {
        stderr.write('experiment: stopping; finished runs are in the log, run the same command again to resume\n');
        controller.abort();
      };
      if (options._internal?.signal === undefined) process.once('SIGINT', onSigint);
      const started = Date.now();
      const runOptions: RunPaperClaimsOptions = {
        budget: PAPER_CLAIMS_BUDGETS[quick ? 'quick' : 'full'],
        repoRoot,
        logDir: resolve(out, 'log'),
        figuresDir: out,
        reportPath,
        fresh: flags.fresh === true,
        reportOnly: flags.reportOnly === true,
        command: `pnpm masa experiment paper-claims${quick ? ' --quick' : ''}`,
        log: (line) => stderr.write(`[${((Date.now() - started) / 60_000).toFixed(1)} min] ${line}\n`),
        signal,
      };
      try {
        const outcome = await (options._internal?.run ?? runPaperClaims)(runOptions);
        const shown = (path: string): string => relative(cwd, path) || '.';
        stdout.write(`${outcome.ran.length} run(s) done now, ${outcome.reused.length} from the log\n`);
        for (const claim of outcome.analysis.claims) stdout.write(`${claim.verdict.padEnd(14)} ${claim.claim}\n`);
        stdout.write(`report: ${shown(reportPath)}\n`);
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}
