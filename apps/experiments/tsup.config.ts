import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  platform: 'node',
  target: 'node20',
  // Vega is loaded with `await import()` only when figures are drawn.
  external: ['vega', 'vega-lite'],
});
