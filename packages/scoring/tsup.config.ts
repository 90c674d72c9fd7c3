import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'grade-worker': 'src/grade-worker.ts', test: 'src/test/index.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts', test: 'src/test/index.ts' } },
  sourcemap: true,
  clean: true,
  platform: 'node',
  target: 'node20',
});
