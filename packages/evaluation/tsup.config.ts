import { defineConfig } from 'tsup';

export default defineConfig({
  // ort-child-quiet is the module the engine's child process imports (see evaluation-engine.ts).
  entry: ['src/index.ts', 'src/ort-child-quiet.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  platform: 'node',
  target: 'node20',
});
