import { createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { grad } from './autodiff.js';
import { serializeGraph } from './serialize.js';
import { createSession } from './session.js';
import { createTensorValue, type TensorValue } from './tensor-value.js';
import { finiteDifferenceCheck } from './testing/gradient-check.js';
import { buildDecoderLoss, initParameters, randomBatch, type TinyDecoderConfig } from './testing/tiny-decoder.js';

const base: TinyDecoderConfig = {
  vocab: 11,
  hidden: 8,
  layers: 2,
  queryHeads: 4,
  kvHeads: 2,
  headDim: 4,
  intermediate: 12,
  tied: false,
  qkNorm: true,
};

describe('2-layer causal transformer (RMSNorm, rotary, GQA with padding mask, SwiGLU)', () => {
  for (const variant of [
    { name: 'untied embeddings, fused RMSNormalization', config: base },
    { name: 'tied embeddings, RMSNorm from primitives, tokenLogProbs', config: { ...base, tied: true, fusedNorm: false, crossEntropyLoss: true } },
  ]) {
    it(`every parameter gradient matches finite differences in float64 (${variant.name})`, async () => {
      const rng = createRng(`decoder-fd-${variant.name}`);
      const { loss, parameters } = buildDecoderLoss(variant.config, 'float64');
      const feeds: Record<string, TensorValue> = {
        ...initParameters(rng, variant.config, 'float64'),
        ...randomBatch(rng, variant.config, 'float64', 2, 5, [0, 2]),
      };
      const report = await finiteDifferenceCheck({ loss, wrt: parameters, feeds, rng, maxElementsPerInput: 6 });
      for (const [name, entry] of Object.entries(report.perInput)) {
        expect(entry.relativeError, name).toBeLessThan(1e-6);
        expect(entry.maxAbsNumeric, `${name} has a non-trivial gradient`).toBeGreaterThan(1e-6);
      }
      expect(Object.keys(report.perInput)).toHaveLength(parameters.length);
    });
  }

  it('the float32 graph matches the float64 graph to 1e-4 relative (loss and every gradient)', async () => {
    const rng = createRng('decoder-f32-vs-f64');
    const results: Record<string, Record<string, TensorValue>> = {};
    const params64 = initParameters(rng, base, 'float64');
    const batch64 = randomBatch(rng, base, 'float64', 2, 6, [0, 3]);
    for (const dtype of ['float64', 'float32'] as const) {
      const { loss, parameters } = buildDecoderLoss(base, dtype);
      const { graph } = grad({ loss, wrt: parameters });
      const convert = (value: TensorValue): TensorValue =>
        dtype === 'float32' && value.dtype === 'float64'
          ? createTensorValue('float32', value.dims, Float32Array.from(value.data as Float64Array))
          : value;
      const feeds: Record<string, TensorValue> = {};
      for (const [name, value] of Object.entries({ ...params64, ...batch64 })) feeds[name] = convert(value);
      await using session = await createSession({ model: serializeGraph(graph) });
      results[dtype] = await session.run(feeds);
    }
    const f64 = results['float64']!;
    const f32 = results['float32']!;
    for (const name of Object.keys(f64)) {
      const reference = Array.from(f64[name]!.data as Float64Array);
      const single = Array.from(f32[name]!.data as Float32Array);
      const scale = Math.max(...reference.map(Math.abs));
      const error = Math.max(...reference.map((v, i) => Math.abs(v - single[i]!)));
      expect(error / scale, name).toBeLessThan(1e-4);
    }
  });

  it('padding is invisible: changing tokens at padded positions changes neither the loss nor the gradients', async () => {
    const rng = createRng('decoder-padding');
    const { loss, parameters } = buildDecoderLoss(base, 'float64');
    const { graph } = grad({ loss, wrt: parameters });
    await using session = await createSession({ model: graph });
    const feeds: Record<string, TensorValue> = { ...initParameters(rng, base, 'float64'), ...randomBatch(rng, base, 'float64', 2, 5, [0, 3]) };
    const first = await session.run(feeds);
    const ids = feeds['input_ids']!.data as BigInt64Array;
    ids[5] = 7n; // row 1, position 0 (padding)
    ids[6] = 9n; // row 1, position 1 (padding)
    const second = await session.run(feeds);
    for (const name of Object.keys(first)) {
      const a = Array.from(first[name]!.data as Float64Array);
      const b = Array.from(second[name]!.data as Float64Array);
      a.forEach((v, i) => expect(Math.abs(v - b[i]!), name).toBeLessThan(1e-12));
    }
    ids[9] = (ids[9]! + 1n) % 11n; // a real token: the loss must change
    const third = await session.run(feeds);
    expect(third['loss']!.data[0]).not.toBe(first['loss']!.data[0]);
  });
});
