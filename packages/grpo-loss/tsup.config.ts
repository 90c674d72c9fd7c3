import { defineConfig } from 'tsup';

export default defineConfig({
  // `graph` is the `./graph` subpath: the only entry that imports @masa-rl/onnx.
  entry: { index: 'src/index.ts', graph: 'src/graph.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  platform: 'node',
  target: 'node20',
});
