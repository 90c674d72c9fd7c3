import { CommanderError } from 'commander';
import { describeFailure } from './exit-codes.js';
import { createProgram } from './program.js';

const program = createProgram();
program.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (error: unknown) {
  if (error instanceof CommanderError) {
    // commander already printed its message (help, version, or a usage error).
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    const { line, exitCode } = describeFailure(error);
    process.stderr.write(`${line}\n`);
    process.exitCode = exitCode;
  }
}
