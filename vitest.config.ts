import { defineConfig } from 'vitest/config';

// One test command for the whole repo (`pnpm test`). Every test runs in a
// forked process: onnxruntime-node is unsafe in worker threads, and a crashing
// native addon must not take the runner down with it. `.ci/run` sets
// MASA_TEST_JSON to also get a machine-readable report.
const jsonReport = process.env['MASA_TEST_JSON'];

export default defineConfig({
  test: {
    pool: 'forks',
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tooling/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: jsonReport ? ['default', 'json'] : ['default'],
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
  },
});
