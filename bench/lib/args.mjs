// Command-line flags of `pnpm bench` (bench/run.mjs).
import { parseArgs } from 'node:util';

/** Every benchmark the runner knows, in the order it runs them. */
export const BENCHMARK_NAMES = Object.freeze(['roofline', 'grading', 'train-step', 'model-memory', 'rollout']);

export const USAGE = `usage: pnpm bench [--quick] [--only NAME,…] [--repeat N] [--device cpu|cuda]
                  [--out FILE] [--no-build] [--no-setup]

  --quick         fewer repeats and smaller sizes (under 5 minutes); RESULTS.md says so
  --only          run only these benchmarks: ${BENCHMARK_NAMES.join(', ')}
  --repeat N      runs of each benchmark (default: 5 for grading and roofline, 3 for the
                  others; with --quick: 3 and 2)
  --device        cuda runs the benchmarks that take a device (train-step, rollout) on the
                  CUDA execution provider (see bench/gpu/README.md); default cpu
  --out FILE      where to write the results (default bench/RESULTS.md)
  --no-build      do not build the packages first (use their dist/ as it is)
  --no-setup      do not install missing anchors (PyTorch); report them as skipped
`;

/**
 * @typedef {object} BenchArgs
 * @property {boolean} quick
 * @property {string[]} only benchmark names, in run order
 * @property {number | undefined} repeat
 * @property {'cpu' | 'cuda'} device
 * @property {string | undefined} out
 * @property {boolean} build
 * @property {boolean} setup
 * @property {boolean} help
 */

/** A usage error: the runner prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Parses the runner's flags. Throws {@link UsageError} with a message that
 * names the flag and what it accepts.
 * @param {readonly string[]} argv arguments after the script name
 * @returns {BenchArgs}
 */
export function parseBenchArgs(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        repeat: { type: 'string' },
        device: { type: 'string', default: 'cpu' },
        out: { type: 'string' },
        'no-build': { type: 'boolean', default: false },
        'no-setup': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  let only = [...BENCHMARK_NAMES];
  if (values.only !== undefined) {
    const asked = values.only.split(',').map((name) => name.trim()).filter((name) => name !== '');
    const unknown = asked.filter((name) => !BENCHMARK_NAMES.includes(name));
    if (asked.length === 0 || unknown.length > 0) {
      throw new UsageError(`--only: unknown benchmark ${unknown.length > 0 ? unknown.map((name) => `'${name}'`).join(', ') : '(empty list)'}; choose from ${BENCHMARK_NAMES.join(', ')}`);
    }
    only = BENCHMARK_NAMES.filter((name) => asked.includes(name));
  }
  let repeat;
  if (values.repeat !== undefined) {
    repeat = Number(values.repeat);
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100) {
      throw new UsageError(`--repeat must be a whole number from 1 to 100, got '${values.repeat}'`);
    }
  }
  if (values.device !== 'cpu' && values.device !== 'cuda') {
    throw new UsageError(`--device must be cpu or cuda, got '${values.device}'`);
  }
  return {
    quick: values.quick === true,
    only,
    repeat,
    device: values.device,
    out: values.out,
    build: values['no-build'] !== true,
    setup: values['no-setup'] !== true,
    help: values.help === true,
  };
}
