import { MasaError } from '@masa-rl/core';
import { runUiCommand } from '@masa-rl/train-app';
import { Command } from 'commander';

function port(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 65535) {
    throw new MasaError('ARGUMENT_INVALID', `--port must be a TCP port (1–65535, or 0 for any free one), got "${value}"`, { details: { port: value } });
  }
  return parsed;
}

/** `masa ui RUN_DIR…`: the dashboard of finished or running runs, overlaid on the same axes. */
export function createUiCommand(): Command {
  return new Command('ui')
    .description('Serve the dashboard of one or more run folders (finished or still training) on 127.0.0.1; several runs share the axes.')
    .argument('<run-dirs...>', 'run folders written by masa train')
    .option('-p, --port <port>', 'port (0 picks a free one)', port)
    .action(async (runDirs: string[], options: { port?: number }) => {
      await runUiCommand(runDirs, options.port === undefined ? {} : { port: options.port });
    });
}
