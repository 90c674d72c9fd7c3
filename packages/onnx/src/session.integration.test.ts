import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraph, type Graph } from './graph.js';
import { createExternalDataFile, saveModel } from './model-file.js';
import { fusedMatMul } from './ops-linalg.js';
import { add, mul } from './ops-elementwise.js';
import { reduceSum } from './ops-reduce.js';
import { serializeGraph } from './serialize.js';
import { createSession, type CreateSessionOptions } from './session.js';
import { createTensorValue } from './tensor-value.js';

function smallGraph(): Graph {
  const g = createGraph({ name: 'small' });
  const x = g.input('x', 'float32', ['batch', 3]);
  const y = g.input('y', 'float32', ['batch', 3]);
  g.output('sum', add(x, y));
  g.output('total', reduceSum(mul(x, y), { keepdims: false }));
  return g;
}

async function errorOf(promise: Promise<unknown>): Promise<MasaError> {
  try {
    await promise;
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

let folder = '';
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'masa-onnx-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('createSession: devices', () => {
  it('asking for CUDA without the provider library fails with RUNTIME_UNAVAILABLE and says how to install it', async () => {
    const error = await errorOf(createSession({ model: smallGraph(), device: 'cuda' }));
    expect(error.code).toBe('RUNTIME_UNAVAILABLE');
    expect(error.message).toContain("device 'cuda' requested");
    expect(error.message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    expect(error.message).toContain('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/');
    expect(error.message).toContain('allowCpuFallback');
  });

  it('with allowCpuFallback it returns a working CPU session and a warning (returned, not printed)', async () => {
    const seen: string[] = [];
    await using session = await createSession({ model: smallGraph(), device: 'cuda', allowCpuFallback: true, onWarning: (w) => seen.push(w) });
    expect(session.device).toBe('cpu');
    expect(session.warnings).toHaveLength(1);
    expect(seen).toEqual(session.warnings);
    expect(session.warnings[0]).toMatch(/running on the CPU instead/);
    const out = await session.run({
      x: createTensorValue('float32', [1, 3], [1, 2, 3]),
      y: createTensorValue('float32', [1, 3], [4, 5, 6]),
    });
    expect(Array.from(out['sum']!.data as Float32Array)).toEqual([5, 7, 9]);
  });

  it('a CUDA provider that is present but fails to start is reported with the runtime message', async () => {
    const realRuntime = (await import('onnxruntime-node')) as unknown as { default?: unknown };
    const ort = (realRuntime.default ?? realRuntime) as typeof import('onnxruntime-node');
    const fake = {
      ...ort,
      InferenceSession: {
        create: async (model: Uint8Array, options: { executionProviders?: unknown[] }) => {
          if (JSON.stringify(options.executionProviders).includes('cuda')) throw new Error('libcudart.so.12: cannot open shared object file');
          return ort.InferenceSession.create(model, options as never);
        },
      },
    } as unknown as typeof ort;
    const internal: NonNullable<CreateSessionOptions['_internal']> = { loadRuntime: async () => fake, cudaProviderPresent: () => true };
    const error = await errorOf(createSession({ model: smallGraph(), device: 'cuda', _internal: internal }));
    expect(error.code).toBe('RUNTIME_UNAVAILABLE');
    expect(error.message).toContain('failed to start (libcudart.so.12');
    await using fallback = await createSession({ model: smallGraph(), device: 'cuda', allowCpuFallback: true, _internal: internal });
    expect(fallback.device).toBe('cpu');
  });

  it('rejects unknown devices listing the valid ones', async () => {
    const error = await errorOf(createSession({ model: smallGraph(), device: 'tpu' as never }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe("unknown device 'tpu'; valid devices: cpu, cuda");
  });
});

describe('createSession: models and feeds', () => {
  it('loads from bytes, a graph, or a file written atomically by saveModel', async () => {
    const path = join(folder, 'nested', 'small.onnx');
    const written = await saveModel({ model: smallGraph(), path });
    expect(written).toBe(serializeGraph(smallGraph()).length);
    // A doc string goes into the model as serializeGraph writes it; serialised bytes cannot take one.
    const documented = join(folder, 'nested', 'documented.onnx');
    await saveModel({ model: smallGraph(), path: documented, docString: 'made by a test' });
    expect(new Uint8Array(await readFile(documented))).toEqual(new Uint8Array(serializeGraph(smallGraph(), { docString: 'made by a test' })));
    await expect(saveModel({ model: serializeGraph(smallGraph()), path: documented, docString: 'x' })).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
    for (const model of [serializeGraph(smallGraph()), smallGraph(), path]) {
      await using session = await createSession({ model });
      expect(session.inputNames).toEqual(['x', 'y']);
      expect(session.outputNames).toEqual(['sum', 'total']);
      expect(session.inputs[0]).toEqual({ name: 'x', dtype: 'float32', shape: ['batch', 3] });
    }
  });

  it('external data: two models share one data file, each weight written once, page-aligned; results equal the inline model', async () => {
    const k = 64;
    const n = 48;
    const w = Float32Array.from({ length: n * k }, (_, i) => Math.sin(i) / 8);
    const bias = Float32Array.from({ length: 4 }, (_, i) => i); // 16 bytes: stays inline
    const build = (name: string, transposed: boolean): Graph => {
      const g = createGraph({ name });
      const x = g.input('x', 'float32', ['batch', k]);
      const weight = g.initializer('w', createTensorValue('float32', [n, k], w));
      const y = fusedMatMul(x, weight, { transB: true, alpha: transposed ? 2 : 1 });
      g.output('y', y);
      g.output('b', add(g.initializer('bias', createTensorValue('float32', [4], bias)), g.constant(createTensorValue('float32', [4], [1, 1, 1, 1]))));
      return g;
    };
    const dir = join(folder, 'external');
    await mkdir(dir, { recursive: true });
    const file = createExternalDataFile({ path: join(dir, 'weights.bin'), minBytes: 64, alignment: 4096 });
    const inlineBytes = await saveModel({ model: build('a', false), path: join(dir, 'a.onnx'), externalData: file });
    await saveModel({ model: build('b', true), path: join(dir, 'b.onnx'), externalData: file });
    file.close();
    expect(file.tensorCount).toBe(1); // w, once for both models; bias stays inline
    expect(file.byteLength).toBe(n * k * 4);
    expect(inlineBytes).toBeLessThan(n * k * 4); // the weight is not inside the model
    const written = new Float32Array((await readFile(join(dir, 'weights.bin'))).buffer.slice(0, n * k * 4));
    expect(written).toEqual(w);
    const x = createTensorValue('float32', [2, k], Float32Array.from({ length: 2 * k }, (_, i) => Math.cos(i)));
    await using inline = await createSession({ model: build('a', false) });
    const expected = (await inline.run({ x }))['y']!.data as Float32Array;
    await using a = await createSession({ model: join(dir, 'a.onnx') });
    await using b = await createSession({ model: join(dir, 'b.onnx') });
    // The sessions keep working after the files are gone (ONNX Runtime has loaded or mapped them).
    await rm(dir, { recursive: true });
    const fromA = (await a.run({ x }))['y']!.data as Float32Array;
    const fromB = (await b.run({ x }))['y']!.data as Float32Array;
    expect(Array.from(fromA)).toEqual(Array.from(expected));
    expect(Array.from(fromB)).toEqual(Array.from(expected, (v) => 2 * v));
    expect(Array.from((await a.run({ x }))['b']!.data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it('external data: the second tensor starts at the next alignment boundary; misuse gets clear errors', async () => {
    const dir = join(folder, 'external-align');
    await mkdir(join(dir, 'sub'), { recursive: true });
    const g = createGraph({ name: 'two' });
    const x = g.input('x', 'float32', [3]);
    g.output('y', add(add(x, g.initializer('p', createTensorValue('float32', [3], [1, 2, 3]))), g.initializer('q', createTensorValue('float32', [3], [10, 20, 30]))));
    const file = createExternalDataFile({ path: join(dir, 'sub', 'data.bin'), minBytes: 0, alignment: 64 });
    await saveModel({ model: g, path: join(dir, 'two.onnx'), externalData: file });
    file.close();
    expect(file.byteLength).toBe(64 + 12);
    expect((await stat(join(dir, 'sub', 'data.bin'))).size).toBe(64 + 12);
    await using session = await createSession({ model: join(dir, 'two.onnx') });
    expect(Array.from((await session.run({ x: createTensorValue('float32', [3], [0, 0, 1]) }))['y']!.data as Float32Array)).toEqual([11, 22, 34]);
    // A model below the data file's folder would need '..' in its location, which ONNX Runtime refuses.
    const below = createExternalDataFile({ path: join(dir, 'data2.bin'), minBytes: 0 });
    await expect(saveModel({ model: g, path: join(dir, 'sub', 'm.onnx'), externalData: below })).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
    below.close();
    await expect(saveModel({ model: g, path: join(dir, 'm.onnx'), externalData: below })).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
    await expect(saveModel({ model: serializeGraph(g), path: join(dir, 'm.onnx'), externalData: below })).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
    expect(() => createExternalDataFile({ path: join(dir, 'missing-folder', 'x.bin') })).toThrow(expect.objectContaining({ code: 'FILE_WRITE_FAILED' }));
  });

  it('missing files and corrupt models get FILE_NOT_FOUND and MODEL_LOAD_FAILED', async () => {
    expect((await errorOf(createSession({ model: join(folder, 'absent.onnx') }))).code).toBe('FILE_NOT_FOUND');
    const corrupt = join(folder, 'corrupt.onnx');
    await writeFile(corrupt, Uint8Array.from([1, 2, 3, 4]));
    expect((await errorOf(createSession({ model: corrupt }))).code).toBe('MODEL_LOAD_FAILED');
    expect((await errorOf(createSession({ model: Uint8Array.from([8, 1, 2]) }))).code).toBe('MODEL_LOAD_FAILED');
  });

  it('reads inputs in place: changing the array is seen by the next run', async () => {
    await using session = await createSession({ model: smallGraph() });
    const x = createTensorValue('float32', [2, 3], [1, 1, 1, 1, 1, 1]);
    const y = createTensorValue('float32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expect((await session.run({ x, y }))['total']!.data[0]).toBe(21);
    (x.data as Float32Array).fill(2);
    expect((await session.run({ x, y }))['total']!.data[0]).toBe(42);
    const only = await session.run({ x, y }, { outputs: ['total'] });
    expect(Object.keys(only)).toEqual(['total']);
  });

  it('checks feeds before running: names, dtypes, ranks, static dims, symbol agreement, lengths', async () => {
    await using session = await createSession({ model: smallGraph() });
    const x = createTensorValue('float32', [2, 3]);
    const y = createTensorValue('float32', [2, 3]);
    const cases: [Record<string, ReturnType<typeof createTensorValue>>, RegExp][] = [
      [{ x, y, z: x }, /^unknown input 'z'; the model's inputs are: x, y/],
      [{ x }, /^missing input\(s\) y/],
      [{ x, y: createTensorValue('float64', [2, 3]) }, /^input 'y' must be float32, got float64/],
      [{ x, y: createTensorValue('float32', [6]) }, /^input 'y' must have rank 2/],
      [{ x, y: createTensorValue('float32', [2, 4]) }, /axis 1 must be 3/],
      [{ x, y: createTensorValue('float32', [3, 3]) }, /^dim 'batch' is 2 in input 'x' but 3 in input 'y'/],
      [{ x, y: { dtype: 'float32', dims: [2, 3], data: new Float32Array(5) } }, /5 elements do not fill dims \[2, 3\]/],
    ];
    for (const [feeds, message] of cases) {
      const error = await errorOf(session.run(feeds));
      expect(error.code).toBe('ARGUMENT_INVALID');
      expect(error.message).toMatch(message);
    }
    expect((await errorOf(session.run({ x, y }, { outputs: ['nope'] }))).message).toMatch(/^unknown output 'nope'/);
  });

  it('is disposable: release() frees it and later runs fail clearly', async () => {
    const session = await createSession({ model: smallGraph() });
    await session.release();
    await session.release();
    const error = await errorOf(session.run({}));
    expect(error.message).toMatch(/released/);
  });
});
