import { defineConfig } from 'tsup';

export default defineConfig({
  // `child-entry` is the script `createChildProcessEngine` forks and `ort-child` the factory module
  // `createOrtChildEngine` loads in it; both must sit beside index.js in dist.
  entry: { index: 'src/index.ts', 'test/index': 'src/test/index.ts', 'child-entry': 'src/child-entry.ts', 'ort-child': 'src/ort-child.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  platform: 'node',
  target: 'node20',
});
