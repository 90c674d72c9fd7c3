import { defineConfig } from 'tsup';

export default defineConfig({
  // The worker is its own entry: the app forks it (`child_process.fork`) so
  // that ONNX Runtime computes outside the process that renders and serves.
  entry: { index: 'src/index.ts', worker: 'src/worker.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  platform: 'node',
  target: 'node20',
  // cli-progress is loaded with `await import()` only on a TTY; @wandb/sdk (optional) only with --wandb.
  external: ['cli-progress', 'playwright-core', '@wandb/sdk'],
});
