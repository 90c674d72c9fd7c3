// The fp32 GEMM probe behind the compute ceilings: ONNX Runtime's MatMul of two n×n matrices on one thread.
import { join } from 'node:path';

/**
 * GFLOP/s of each of `reps` timed n×n×n products (after one untimed run), in this process.
 * @param {string} root the repository root (the probe uses packages/onnx/dist)
 */
export async function gemmSamples(root, n, reps) {
  const onnx = await import(join(root, 'packages', 'onnx', 'dist', 'index.js'));
  const graph = onnx.createGraph();
  graph.output('c', onnx.matMul(graph.input('a', 'float32', [n, n]), graph.input('b', 'float32', [n, n])));
  const session = await onnx.createSession({ model: graph, intraOpNumThreads: 1 });
  const a = new Float32Array(n * n).map((_, i) => ((i % 13) - 6) / 7);
  const b = new Float32Array(n * n).map((_, i) => ((i % 11) - 5) / 9);
  const feeds = { a: onnx.createTensorValue('float32', [n, n], a), b: onnx.createTensorValue('float32', [n, n], b) };
  await session.run(feeds);
  const samples = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    await session.run(feeds);
    samples.push((2 * n ** 3) / ((performance.now() - start) / 1000) / 1e9);
  }
  await session.release();
  return samples;
}
