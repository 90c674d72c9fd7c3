import { Command } from 'commander';
import { createDataCommand } from './commands/data.js';
import { createDoctorCommand } from './commands/doctor.js';
import { createEvalCommand } from './commands/eval.js';
import { createExperimentCommand } from './commands/experiment.js';
import { createExportCommand } from './commands/export.js';
import { createGradeCommand } from './commands/grade.js';
import { createScoreCommand } from './commands/score.js';
import { createServeCommand } from './commands/serve.js';
import { createSftCommand } from './commands/sft.js';
import { createTrainCommand } from './commands/train.js';
import { createUiCommand } from './commands/ui.js';

/** Builds the `masa` program with every command registered. */
export function createProgram(): Command {
  const program = new Command('masa')
    .description('Train and evaluate reasoning language models with GRPO and MASA (meta-awareness via self-alignment).')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  // Commands (one file each under ./commands, registered here):
  program.addCommand(createDataCommand());
  program.addCommand(createGradeCommand());
  program.addCommand(createEvalCommand());
  program.addCommand(createScoreCommand());
  program.addCommand(createExportCommand());
  program.addCommand(createTrainCommand());
  program.addCommand(createUiCommand());
  program.addCommand(createSftCommand());
  program.addCommand(createServeCommand());
  program.addCommand(createExperimentCommand());
  program.addCommand(createDoctorCommand());
  return program;
}
