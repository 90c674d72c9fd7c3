export { createProgram } from './program.js';
export { EXIT_CODES, describeFailure } from './exit-codes.js';
